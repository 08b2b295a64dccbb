"""Server CPU per GET request, the event loop's share apart (issue 13: the loop's cost per request).

Run: .venv/bin/python bench/profile_loop.py [--what flavor|detail|detail100] [--requests 4000] [--threads 4] [--asgi]

Starts ``stacksim serve --delay 0`` (in memory) on a free port, makes the bench project, then
GETs one path on keep-alive connections from several threads and prints req/s and the server's
CPU ms per request from ``/proc/<pid>/task/*/stat``: all threads, the event loop thread
(``MainThread``) and the rest (the request threads that run the handlers). ``flavor`` is one
flavor (a cheap authenticated GET), ``detail`` the servers of an empty project, ``detail100``
with 100 servers. CPU ticks are 10 ms: a few thousand requests make the figure steady.

``--asgi``: the ASGI app alone, called in this process one request after another (no socket,
no h11, no uvicorn): the loop thread's CPU per request (``time.thread_time``) for a flavor,
``servers/detail`` of an empty project and a 404, i.e. what stacksim's own layers cost the loop.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import threading
import time

from benchlib import COMPUTE, Client, compute_project, create_servers

from stacksim.app import http_scope, running
from stacksim.config import Settings
from stacksim.control import wait_healthy
from stacksim.testing import DEFAULT_PASSWORD, free_port


def thread_ticks(pid: int) -> dict[str, int]:
    """CPU ticks (user + system) of each thread of ``pid``."""
    ticks = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks[tid] = int(fields[11]) + int(fields[12])
    return ticks


async def _asgi_call(app, method: str, path: str, body: object = None, token: str = "") -> tuple[int, dict, bytes]:
    raw = json.dumps(body).encode() if body is not None else b""
    scope = http_scope(method, path, [(b"content-type", b"application/json"), (b"x-auth-token", token.encode())])
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": raw, "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], dict(sent[0]["headers"]), b"".join(m.get("body", b"") for m in sent[1:])


async def admin_token(app) -> tuple[str, dict]:
    """A token for the admin's project, from the ASGI app, and the token's body."""
    user = {"name": "admin", "domain": {"id": "default"}, "password": DEFAULT_PASSWORD}
    scope = {"project": {"name": "admin", "domain": {"id": "default"}}}
    auth = {"auth": {"identity": {"methods": ["password"], "password": {"user": user}}, "scope": scope}}
    _, headers, issued = await _asgi_call(app, "POST", "/identity/v3/auth/tokens", auth)
    return headers[b"x-subject-token"].decode(), json.loads(issued)["token"]


async def asgi_alone(requests: int) -> None:
    """The loop thread's CPU per request of the ASGI app alone (see ``--asgi``)."""
    async with running(Settings(delay=0)) as app:
        tok, _ = await admin_token(app)
        _, _, flavors = await _asgi_call(app, "GET", f"{COMPUTE}/flavors", token=tok)
        cases = {
            "flavor": f"{COMPUTE}/flavors/{json.loads(flavors)['flavors'][0]['id']}",
            "detail": f"{COMPUTE}/servers/detail",
            "404": f"{COMPUTE}/nothing-here",
        }
        for what, path in cases.items():
            for _ in range(200):  # warm up
                await _asgi_call(app, "GET", path, token=tok)
            started_cpu = time.thread_time()
            for _ in range(requests):
                status, _, _ = await _asgi_call(app, "GET", path, token=tok)
            spent = (time.thread_time() - started_cpu) / requests * 1000
            print(f"{what} (ASGI app alone, {status}): loop thread {spent:.3f} ms/request")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--what", default="flavor", choices=("flavor", "detail", "detail100"))
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--asgi", action="store_true", help="the ASGI app alone, in this process")
    args = parser.parse_args()
    if args.asgi:
        asyncio.run(asgi_alone(args.requests))
        return
    port = free_port()
    command = [sys.executable, "-m", "stacksim", "serve", "--port", str(port), "--delay", "0"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc, timeout=60)
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
