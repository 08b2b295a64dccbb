# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Serve a directory on a free loopback port for the glance_appliance target; stops by itself.

    python serve.py DIR PORT_FILE SECONDS USER PASSWORD

Writes the port to PORT_FILE once it listens. Files under ``/private/`` need HTTP
basic auth with USER and PASSWORD; ``GET /stop`` stops the server; so does the end
of SECONDS, whatever happens to the play that started it.
"""

from __future__ import annotations

import base64
import http.server
import os
import sys
import threading
from functools import partial


class Handler(http.server.SimpleHTTPRequestHandler):
    credentials = ""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/stop":
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            threading.Thread(target=self.server.shutdown, daemon=True).start()
            return
        if self.path.startswith("/private/"):
            if self.headers.get("Authorization") != "Basic " + self.credentials:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="appliances"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.path = self.path[len("/private") :]
        super().do_GET()


def main() -> None:
    directory, port_file, seconds, user, password = sys.argv[1:6]
    Handler.credentials = base64.b64encode(f"{user}:{password}".encode()).decode()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=directory))
    deadline = threading.Timer(float(seconds), server.shutdown)
    deadline.daemon = True
    deadline.start()
    tmp = f"{port_file}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(str(server.server_address[1]))
    os.replace(tmp, port_file)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        deadline.cancel()
        server.server_close()


if __name__ == "__main__":
    main()
