"""Connections that idle, dawdle or crowd (issue 14): closed in time, capped, and the server answers."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Iterator

import pytest
import requests
from edge_helpers import JSON, read_response, service_error, status_of
from edge_helpers import token as password_token

from stacksim.connections import DROP_BATCH, MAX_HEAD, Guard
from stacksim.testing import Simulator, wait_until

CAP = 40
LIMITS = ["--idle-timeout", "1", "--request-timeout", "2", "--max-connections", str(CAP), "--max-body-size", "4096"]


@pytest.fixture(scope="module")
def tight() -> Iterator[Simulator]:
    """A simulator with short timeouts, a small connection cap and a small body limit."""
    with Simulator(extra_args=LIMITS) as running:
        yield running


def _address(sim: Simulator) -> tuple[str, int]:
    return "127.0.0.1", sim.port


def _open_files(sim: Simulator) -> int:
    return len(os.listdir(f"/proc/{sim.proc.pid}/fd"))


def _closed_by_server(sock: socket.socket) -> bool:
    """True once the server has closed ``sock`` (what it sent before, if anything, is read)."""
    sock.settimeout(0.05)
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return True
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def test_a_connection_that_never_sends_is_closed(tight):
    with socket.create_connection(_address(tight)) as sock:
        wait_until(lambda: _closed_by_server(sock), timeout=15, what="the server to close an idle connection")


def test_a_half_sent_request_is_closed(tight):
    with socket.create_connection(_address(tight)) as sock:
        sock.sendall(b"POST /identity/v3/auth/tokens HTTP/1.1\r\nHost: x\r\nContent-Len")
        wait_until(lambda: _closed_by_server(sock), timeout=15, what="the server to close a half-sent request")
    with socket.create_connection(_address(tight)) as sock:
        sock.sendall(b"POST /identity/v3/auth/tokens HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        wait_until(lambda: _closed_by_server(sock), timeout=15, what="the server to close a half-sent body")


def test_a_trickling_request_is_closed(tight):
    """One byte at a time keeps an idle timer from ever firing; the request deadline does not move."""
    with socket.create_connection(_address(tight)) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\n")
        closed = False
        for _ in range(200):  # 200 bytes of headers, 0.1 s apart: 20 s if the server waited
            try:
                sock.sendall(b"X")
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            if _closed_by_server(sock):
                closed = True
                break
        assert closed


def test_idle_and_half_sent_crowds_cannot_use_up_the_open_files(tight):
    before = _open_files(tight)
    crowd = []
    try:
        for i in range(5 * CAP):
            sock = socket.create_connection(_address(tight))
            if i % 2:
                sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
            crowd.append(sock)
        assert requests.get(f"{tight.url}/health", timeout=10).json()["status"] == "ok"
        assert _open_files(tight) <= before + CAP + 10
    finally:
        for sock in crowd:
            sock.close()
    assert requests.get(f"{tight.url}/health", timeout=10).json()["status"] == "ok"


def test_a_busy_keep_alive_connection_is_not_cut(tight):
    with socket.create_connection(_address(tight), timeout=10) as sock:
        for _ in range(5):
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert status_of(read_response(sock)) == 200


def test_a_request_head_over_the_limit_is_a_400_and_the_server_answers_on(tight):
    with socket.create_connection(_address(tight), timeout=10) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"p" * MAX_HEAD)  # incomplete, past the limit
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400 ") and answer.endswith(b"Invalid HTTP request received.")
    assert requests.get(f"{tight.url}/health", timeout=10).json()["status"] == "ok"


def test_the_body_limit_can_be_set(tight):
    token = password_token(tight.url, "demo")
    headers = {**JSON, "X-Auth-Token": token}
    padded = '{"network": {"name": "n", "description": "%s"}}'
    big = requests.post(f"{tight.url}/network/v2.0/networks", data=padded % ("x" * 5000), headers=headers, timeout=10)
    assert "max_request_body_size (4096)" in service_error("network", big, 413)
    small = requests.post(f"{tight.url}/network/v2.0/networks", data=padded % ("x" * 200), headers=headers, timeout=10)
    assert small.status_code == 201, small.text


class _Idle:
    """A connection the guard finds overdue until it is dropped."""

    def __init__(self, guard: Guard) -> None:
        self.guard, self.dropped = guard, False
        guard.open[self] = None

    def overdue(self, now: float) -> str | None:
        return None if self.dropped else "idle"

    def drop(self) -> None:
        self.dropped = True
        self.guard.forget(self)


def test_a_crowd_timing_out_together_is_closed_a_batch_per_turn_of_the_loop():
    """Closing 500 connections in one callback held /health up for ~50 ms: the loop answers between batches."""

    async def sweep() -> list[int]:
        guard = Guard(idle_timeout=65, request_timeout=20, max_connections=1000)
        crowd = [_Idle(guard) for _ in range(3 * DROP_BATCH + 1)]
        guard._sweep(asyncio.get_running_loop())
        closed = [sum(c.dropped for c in crowd)]
        for _ in range(4):
            await asyncio.sleep(0)  # one turn of the loop: I/O and other callbacks run in between
            closed.append(sum(c.dropped for c in crowd))
        assert guard.closed["idle"] == len(crowd) and not guard.open
        return closed

    assert asyncio.run(sweep()) == [DROP_BATCH, 2 * DROP_BATCH, 3 * DROP_BATCH, 3 * DROP_BATCH + 1, 3 * DROP_BATCH + 1]
