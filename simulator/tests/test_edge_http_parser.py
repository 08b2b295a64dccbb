"""The connection guard on each of uvicorn's HTTP protocols (issue 13: httptools, with h11 the fallback).

A real asyncio server in a thread runs the guarded protocol over a small ASGI app, so each limit
is checked on both parsers with short timeouts; test_edge_connections.py checks the simulator.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from edge_helpers import read_response, status_of
from uvicorn.server import ServerState

from stacksim.connections import MAX_HEAD, Guard, GuardedH11Protocol, GuardedHttpToolsProtocol
from stacksim.testing import wait_until

PROTOCOLS = {"httptools": GuardedHttpToolsProtocol, "h11": GuardedH11Protocol}
IDLE, REQUEST = 0.4, 0.6
BUSY_FOR = 2.0  # seconds /busy works: longer than both timeouts


async def app(scope: dict, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    if scope["path"] == "/busy":
        await asyncio.sleep(BUSY_FOR)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


class Served:
    """A guarded protocol serving :func:`app` on a loopback port, its loop in a thread."""

    def __init__(self, base: type, max_connections: int = 10) -> None:
        self.guard = Guard(IDLE, REQUEST, max_connections)
        protocol = self.guard.protocol(base)
        config = uvicorn.Config(app, h11_max_incomplete_event_size=MAX_HEAD, timeout_keep_alive=60, lifespan="off")
        config.load()
        state = ServerState()
        self.loop = asyncio.new_event_loop()

        def make() -> asyncio.Protocol:
            return protocol(config=config, server_state=state, app_state={}, _loop=self.loop)

        self.server = self.loop.run_until_complete(self.loop.create_server(make, "127.0.0.1", 0))
        self.port = self.server.sockets[0].getsockname()[1]
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=10)

    def close(self) -> None:
        async def stop() -> None:
            self.server.close()
            for task in asyncio.all_tasks() - {asyncio.current_task()}:
                task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture(params=sorted(PROTOCOLS))
def served(request: pytest.FixtureRequest) -> Iterator[Served]:
    running = Served(PROTOCOLS[request.param])
    yield running
    running.close()


def _until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes ``sock``."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def _closed(sock: socket.socket) -> bool:
    sock.settimeout(0.05)
    try:
        return sock.recv(65536) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def _head(size: int) -> bytes:
    """A GET request whose head is ``size`` bytes."""
    start = b"GET / HTTP/1.1\r\nHost: x\r\nX-Pad: "
    return start + b"p" * (size - len(start) - 4) + b"\r\n\r\n"


def test_a_head_at_the_limit_is_served(served):
    with served.connect() as sock:
        sock.sendall(_head(MAX_HEAD))
        assert status_of(read_response(sock)) == 200


def test_a_head_still_incomplete_past_the_limit_is_a_400_and_the_connection_closes(served):
    # one byte past the limit and no more: bytes the server never reads would turn its close into a reset
    head = _head(MAX_HEAD + 5)[:-3]
    assert len(head) == MAX_HEAD + 2
    with served.connect() as sock:
        for at in range(0, len(head), 4096):
            sock.sendall(head[at : at + 4096])
        answer = _until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 400 ") and answer.endswith(b"Invalid HTTP request received.")


def test_an_oversized_head_sent_at_once_is_a_400_under_httptools():
    """h11 refuses only a head still incomplete past the limit; the httptools guard measures every head."""
    served = Served(GuardedHttpToolsProtocol)
    try:
        with served.connect() as sock:
            sock.sendall(_head(MAX_HEAD + 1))
            answer = _until_closed(sock)
        assert answer.startswith(b"HTTP/1.1 400 ") and answer.endswith(b"Invalid HTTP request received.")
    finally:
        served.close()


def test_an_http_1_1_request_without_host_is_a_400_and_http_1_0_needs_none(served):
    with served.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nX: y\r\n\r\n")
        answer = _until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 400 ") and answer.endswith(b"Invalid HTTP request received.")
    with served.connect() as sock:
        sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
        assert status_of(read_response(sock)) == 200


def test_a_silent_connection_is_closed_as_idle(served):
    with served.connect() as sock:
        wait_until(lambda: _closed(sock), timeout=10, what="the idle connection to close")
    assert served.guard.closed["idle"] == 1


@pytest.mark.parametrize(
    "part", [b"GET / HTTP/1.1\r\nHost: x\r\nX-", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{"]
)
def test_a_half_sent_head_or_body_is_closed_as_slow(served, part):
    with served.connect() as sock:
        sock.sendall(part)
        wait_until(lambda: _closed(sock), timeout=10, what="the half-sent request's connection to close")
    assert served.guard.closed["slow"] == 1


def test_a_request_being_answered_is_not_cut_and_the_connection_is_reused(served):
    with served.connect() as sock:
        for path in ("/busy", "/"):
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            assert status_of(read_response(sock)) == 200
    assert served.guard.closed == {"idle": 0, "slow": 0, "evicted": 0, "refused": 0}


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
def test_over_the_cap_the_idlest_goes_and_when_all_are_busy_the_newcomer_is_refused(name):
    served = Served(PROTOCOLS[name], max_connections=2)
    try:
        idle = served.connect()
        busy = served.connect()
        busy.sendall(b"GET /busy HTTP/1.1\r\nHost: x\r\n\r\n")
        wait_until(lambda: sum(c.busy for c in served.guard.open) == 1, timeout=10, what="the busy request")
        newcomer = served.connect()
        wait_until(lambda: _closed(idle), timeout=10, what="the idle connection to be evicted")
        newcomer.sendall(b"GET /busy HTTP/1.1\r\nHost: x\r\n\r\n")
        wait_until(lambda: sum(c.busy for c in served.guard.open) == 2, timeout=10, what="both busy")
        refused = served.connect()
        wait_until(lambda: _closed(refused), timeout=10, what="the connection over the cap to be refused")
        assert status_of(read_response(busy)) == 200
        assert served.guard.closed["evicted"] == 1 and served.guard.closed["refused"] == 1
        for sock in (idle, busy, newcomer, refused):
            sock.close()
    finally:
        served.close()
