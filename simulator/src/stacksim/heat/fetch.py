"""``template_url``: fetching a template as Heat's API does, bounded in time and size.

Heat fetches ``http``/``https`` URLs (redirects followed) and refuses one
whose body passes ``max_template_size``. Here the whole fetch also has a
deadline, ``template_fetch_timeout`` (a server that trickles a byte at a
time would otherwise hold the request for ever): when it passes, the
connection is shut down under the read, whatever stage the fetch is at.
The fetch runs in the request's worker thread, never on the event loop.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
import urllib.parse

from stacksim.heat import errors
from stacksim.heat.limits import Limits

SCHEMES = ("http", "https")
MAX_REDIRECTS = 5
CHUNK = 65536


class FetchError(Exception):
    pass


def template(url: str, limits: Limits) -> str:
    """The text at ``url``; Heat's 400 (``Could not retrieve template: ...``) if it cannot be had in time."""
    deadline = time.monotonic() + limits.template_fetch_timeout
    try:
        for _ in range(MAX_REDIRECTS + 1):
            scheme = urllib.parse.urlsplit(url).scheme
            if scheme not in SCHEMES:
                raise FetchError(f"Invalid URL scheme {scheme}")
            status, location, body = _get(url, limits, deadline)
            if status in (301, 302, 303, 307, 308) and location:
                url = urllib.parse.urljoin(url, location)
                continue
            if status >= 400:
                raise FetchError(f"Failed to retrieve template: {status} {http.client.responses.get(status, '')}")
            try:
                return body.decode()
            except UnicodeDecodeError as exc:
                raise FetchError(f"Failed to retrieve template: {exc}") from None
        raise FetchError("Failed to retrieve template: too many redirects")
    except FetchError as exc:
        raise errors.HeatError(f"Could not retrieve template: {exc}") from None


def _get(url: str, limits: Limits, deadline: float) -> tuple[int, str | None, bytes]:
    parts = urllib.parse.urlsplit(url)
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchError(_timed_out(limits))
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(
            parts.hostname or "", parts.port, timeout=left, context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=left)
    expired = threading.Event()
    held: list[socket.socket] = []  # the connection drops its socket once a response is read to the end

    def cut() -> None:
        expired.set()
        for sock in held:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    watchdog = threading.Timer(left, cut)
    watchdog.daemon = True
    watchdog.start()
    try:
        path = parts.path or "/"
        if parts.query:
            path += f"?{parts.query}"
        conn.connect()
        held.append(conn.sock)
        if expired.is_set():
            raise FetchError(_timed_out(limits))
        conn.request("GET", path, headers={"Accept": "application/json, application/yaml, text/plain, */*"})
        resp = conn.getresponse()
        body = bytearray()
        while chunk := resp.read1(CHUNK):
            body += chunk
            if len(body) > limits.max_template_size:
                raise FetchError(f"Template exceeds maximum allowed size ({limits.max_template_size} bytes)")
        if expired.is_set():  # the cut connection reads as its end
            raise FetchError(_timed_out(limits))
        return resp.status, resp.getheader("Location"), bytes(body)
    except FetchError:
        raise
    except (OSError, http.client.HTTPException) as exc:
        if expired.is_set():
            raise FetchError(_timed_out(limits)) from None
        raise FetchError(f"Failed to retrieve template: {exc}") from None
    finally:
        watchdog.cancel()
        conn.close()


def _timed_out(limits: Limits) -> str:
    return (
        f"Failed to retrieve template: no complete answer within {limits.template_fetch_timeout:g} s "
        "(template_fetch_timeout)"
    )
