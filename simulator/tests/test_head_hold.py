"""An answer's head goes out with its body in one write (``connections.HeadHold``, issue 13).

The wire answers stay what they were: whole, in order, on a kept-alive connection and on one
that closes, for GET and HEAD, small bodies and large; the hold itself is checked against a
recording transport for the cases a live server rarely hits (nothing after the head, a close
while a head is held, a body too large to join).
"""

from __future__ import annotations

import asyncio
import socket

from stacksim.connections import JOIN_LIMIT, HeadHold
from stacksim.testing import Simulator


class Recorder(asyncio.Transport):
    """A transport that keeps what is written to it."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        assert not self.closed, "written after close"
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: object = None) -> object:
        return f"info {name}"


def test_head_and_body_in_one_write() -> None:
    rec = Recorder()
    hold = HeadHold(rec)
    hold.pair()
    hold.write(b"HEAD\r\n\r\n")
    assert rec.writes == []
    hold.write(b"body")
    hold.release()
    assert rec.writes == [b"HEAD\r\n\r\nbody"]
    hold.write(b"later")  # no pair: written at once
    assert rec.writes == [b"HEAD\r\n\r\nbody", b"later"]


def test_head_alone_goes_out_on_release_or_close() -> None:
    rec = Recorder()
    hold = HeadHold(rec)
    hold.pair()
    hold.write(b"head")
    hold.release()  # no body write came (HEAD, or the app stopped)
    assert rec.writes == [b"head"]
    hold.pair()
    hold.write(b"head2")
    hold.close()
    assert rec.writes == [b"head", b"head2"]
    assert rec.closed
    assert hold.is_closing()
    assert hold.get_extra_info("peername") == "info peername"


def test_pair_without_writes_holds_nothing() -> None:
    rec = Recorder()
    hold = HeadHold(rec)
    hold.pair()
    hold.release()
    hold.write(b"x")
    assert rec.writes == [b"x"]


def test_large_body_is_not_joined() -> None:
    rec = Recorder()
    hold = HeadHold(rec)
    body = b"b" * (JOIN_LIMIT + 1)
    hold.pair()
    hold.write(b"head")
    hold.write(body)
    hold.release()
    assert rec.writes == [b"head", body]


def _read_answer(sock: socket.socket, buf: bytes, method: str) -> tuple[bytes, bytes, bytes]:
    """One answer (head, body) from ``sock``, and the bytes after it."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        assert chunk, f"closed before the head ended: {buf!r}"
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
    )
    if method == "HEAD":
        length = 0
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk, "closed before the body ended"
        rest += chunk
    return head, rest[:length], rest[length:]


def _request(sim: Simulator, method: str, path: str, extra: str = "") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{sim.port}\r\n{extra}\r\n".encode()


def test_answers_on_a_kept_alive_connection(sim: Simulator) -> None:
    """GET, HEAD, GET and a 404 in a row on one connection, then two pipelined: each answer whole."""
    with socket.create_connection(("127.0.0.1", sim.port), timeout=10) as sock:
        buf = b""
        seen = {}
        for method, path in [
            ("GET", "/identity/v3"),
            ("HEAD", "/identity/v3"),
            ("GET", "/compute/v2.1/"),
            ("GET", "/nothing"),
        ]:
            sock.sendall(_request(sim, method, path))
            head, body, buf = _read_answer(sock, buf, method)
            assert head.startswith(b"HTTP/1.1 "), head
            assert b"x-openstack-request-id" in head.lower()
            seen[(method, path)] = (head.split(b"\r\n")[0], body)
        assert seen[("GET", "/identity/v3")][0] == b"HTTP/1.1 200 OK"
        assert b'"version"' in seen[("GET", "/identity/v3")][1]
        assert seen[("HEAD", "/identity/v3")] == (b"HTTP/1.1 200 OK", b"")
        assert seen[("GET", "/nothing")][0] == b"HTTP/1.1 404 Not Found"
        assert buf == b""
        sock.sendall(_request(sim, "HEAD", "/identity/v3") + _request(sim, "GET", "/identity/v3"))
        head1, body1, buf = _read_answer(sock, buf, "HEAD")
        head2, body2, buf = _read_answer(sock, buf, "GET")
        assert (head1.split(b"\r\n")[0], body1) == (b"HTTP/1.1 200 OK", b"")
        assert (head2.split(b"\r\n")[0], body2) == (b"HTTP/1.1 200 OK", seen[("GET", "/identity/v3")][1])
        assert buf == b""


def test_answers_before_a_close(sim: Simulator) -> None:
    """``Connection: close``: the whole answer (for HEAD, the head alone) comes, then the close."""
    for method in ("GET", "HEAD"):
        with socket.create_connection(("127.0.0.1", sim.port), timeout=10) as sock:
            sock.sendall(_request(sim, method, "/identity/v3", "Connection: close\r\n"))
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 OK\r\n")
            assert b"connection: close" in head.lower()
            assert (body == b"") if method == "HEAD" else (b'"version"' in body)
