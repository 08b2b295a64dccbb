"""Server CPU per GET request, the event loop's share apart (issue 13: the loop's cost per request).

Run: .venv/bin/python bench/profile_loop.py [--what flavor|detail|detail100] [--requests 4000] [--threads 4]

Starts ``stacksim serve --delay 0`` (in memory) on a free port, makes the bench project, then
GETs one path on keep-alive connections from several threads and prints req/s and the server's
CPU ms per request from ``/proc/<pid>/task/*/stat``: all threads, the event loop thread
(``MainThread``) and the rest (the request threads that run the handlers). ``flavor`` is one
flavor (a cheap authenticated GET), ``detail`` the servers of an empty project, ``detail100``
with 100 servers. CPU ticks are 10 ms: a few thousand requests make the figure steady.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time

from benchlib import COMPUTE, Client, compute_project, create_servers, token

from stacksim.testing import free_port


def thread_ticks(pid: int) -> dict[str, int]:
    """CPU ticks (user + system) of each thread of ``pid``."""
    ticks = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            fields = open(f"/proc/{pid}/task/{tid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115
        except OSError:
            continue
        ticks[tid] = int(fields[11]) + int(fields[12])
    return ticks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--what", default="flavor", choices=("flavor", "detail", "detail100"))
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    port = free_port()
    command = [sys.executable, "-m", "stacksim", "serve", "--port", str(port), "--delay", "0"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                token(port, "demo", "demo")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        tok, client, body = compute_project(port)
        path = f"{COMPUTE}/servers/detail"
        if args.what == "flavor":
            _, flavors, _ = client.call("GET", f"{COMPUTE}/flavors")
            path = f"{COMPUTE}/flavors/{flavors['flavors'][0]['id']}"
        elif args.what == "detail100":
            create_servers(port, tok, body, 100)
        for _ in range(50):  # warm up
            client.raw_get(path)
        each = args.requests // args.threads

        def work() -> None:
            own = Client(port, tok)
            for _ in range(each):
                own.raw_get(path)

        before, started = thread_ticks(proc.pid), time.monotonic()
        threads = [threading.Thread(target=work) for _ in range(args.threads)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall, after = time.monotonic() - started, thread_ticks(proc.pid)
        n = each * args.threads
        ms = 1000 / os.sysconf("SC_CLK_TCK") / n
        spent = {tid: ticks - before.get(tid, 0) for tid, ticks in after.items()}
        total, loop = sum(spent.values()), spent.get(str(proc.pid), 0)
        print(
            f"{args.what}: {n / wall:.0f} req/s; server CPU {total * ms:.3f} ms/request: "
            f"event loop {loop * ms:.3f}, other threads {(total - loop) * ms:.3f}"
        )
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
