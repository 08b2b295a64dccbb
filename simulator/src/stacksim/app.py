"""The ASGI application: ``/health``, the admin extras under ``/_stacksim/``, each service under its
prefix and the dashboard at ``/dashboard``.

Every API call goes through :class:`Gate` (so a reset happens between calls,
never during one) and answers only once the jobs it set going have settled
(see :meth:`Lifecycle.settle`: the first read after a call sees its work
done, unless that work takes time on purpose).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import JSONResponse

from stacksim import __version__, faults
from stacksim.cloud import Cloud
from stacksim.config import Settings
from stacksim.dashboard import PREFIX as DASHBOARD
from stacksim.dashboard import Dashboard
from stacksim.fault_injection import PATH as FAULTS_PATH
from stacksim.fault_injection import Faults, FaultsEndpoint, inject
from stacksim.reset import NoSnapshot
from stacksim.web import SCOPE_BEFORE_ANSWER, RequestId

log = logging.getLogger("stacksim")

RESET_PATH = "/_stacksim/reset"
#: methods that change nothing: the lifecycle need not look again after them
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: the longest a reset waits for the calls under way to finish
RESET_WAIT = 30.0


class Gate:
    """API calls pass side by side; a reset waits until none is under way and holds new ones back."""

    def __init__(self) -> None:
        self._calls = 0
        self._closed = False
        self._changed = asyncio.Condition()

    @contextlib.asynccontextmanager
    async def call(self) -> AsyncIterator[None]:
        await self.enter()
        try:
            yield
        finally:
            await self.leave()

    async def enter(self) -> None:
        """A call begins (once no reset is under way). :meth:`call` in two halves, for the hot path."""
        if self._closed:
            async with self._changed:
                await self._changed.wait_for(lambda: not self._closed)
        self._calls += 1

    async def leave(self) -> None:
        self._calls -= 1
        if self._closed and not self._calls:
            async with self._changed:
                self._changed.notify_all()

    @contextlib.asynccontextmanager
    async def exclusive(self, timeout: float = RESET_WAIT) -> AsyncIterator[None]:
        async with self._changed:
            await self._changed.wait_for(lambda: not self._closed)
            self._closed = True
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: not self._calls), timeout)
            except TimeoutError:
                log.warning("%d API call(s) still under way after %.0fs; resetting anyway", self._calls, timeout)
        try:
            yield
        finally:
            async with self._changed:
                self._closed = False
                self._changed.notify_all()


class _Dispatcher:
    """Routes by path prefix; ``/identity`` and ``/identity/`` reach the same root."""

    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud
        self.mounts = [(s.prefix, s, s.api.app(cloud, s)) for s in cloud.services]
        for prefix, _, _ in self.mounts:
            if not prefix.startswith("/") or "/" in prefix[1:]:
                raise ValueError(f"{prefix}: a service's prefix must be one path segment")
        #: the mounts by prefix (one segment, ``/compute``): a path's first segment finds its mount
        self._by_prefix = {mount[0]: mount for mount in self.mounts}
        self.gate = Gate()
        names = {name: s.type for s in cloud.services for name in (s.prefix.strip("/"), *[e.type for e in s.catalog()])}
        self.faults = Faults(names, cloud.lifecycle)
        self._faults_endpoint = FaultsEndpoint(self.faults, cloud.auth)
        self.dashboard = Dashboard(cloud) if cloud.settings.dashboard else None

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        path = scope["path"]
        end = path.find("/", 1)
        mount = self._by_prefix.get(path if end < 0 else path[:end])
        if mount is not None:  # an API call: the usual case first
            await self._service(mount, scope, receive, send)
            return
        if path == "/health":
            await self._health(scope, receive, send)
            return
        if path == RESET_PATH:
            await self._reset(scope, receive, send)
            return
        if path == FAULTS_PATH or path.startswith(FAULTS_PATH + "/"):
            await self._faults_endpoint(scope, receive, send)
            return
        if self.dashboard is not None and (path == DASHBOARD or path.startswith(DASHBOARD + "/")):
            sub = dict(scope, root_path=scope.get("root_path", "") + DASHBOARD)
            if path == DASHBOARD:
                sub["path"] = DASHBOARD + "/"
            async with self.gate.call():  # a reset waits for the page, and the page for a reset
                await self.dashboard(sub, receive, send)
            return
        await self._error(faults.NotFound(f"No service is mounted at {path}."), scope, receive, send)

    async def _service(self, mount: tuple[str, Any, Any], scope: dict, receive: Any, send: Any) -> None:
        """An API call to the service mounted at ``mount``'s prefix (``path`` is that or below it).

        It runs through the gate, and before its answer goes out, what it set going settles. The
        wait is done by :class:`RequestId`'s ``send`` wrapper (it sees ``scope``), not by one more
        wrapper here: each costs the event loop a coroutine per message.
        """
        prefix, service, app = mount
        path = scope["path"]
        sub = dict(scope, root_path=scope.get("root_path", "") + prefix)
        if path == prefix:
            sub["path"] = prefix + "/"
        fault = self.faults.take(service.type, scope["method"], sub["path"][len(prefix) :])
        if fault is not None:
            response = await inject(fault, service.api, sub)
            if response is not None:
                await response(sub, receive, send)
                return
        life = self.cloud.lifecycle
        changes = scope["method"] not in SAFE_METHODS
        await self.gate.enter()  # not ``async with gate.call()``: a generator per request costs
        try:
            with life.settling() as settle:

                async def before_answer() -> None:
                    if changes:
                        life.changed()  # wake work waiting for what this call may have changed
                    await life.settle(settle)

                scope[SCOPE_BEFORE_ANSWER] = before_answer
                try:
                    await app(sub, receive, send)
                finally:
                    del scope[SCOPE_BEFORE_ANSWER]
        finally:
            await self.gate.leave()

    async def _health(self, scope: dict, receive: Any, send: Any) -> None:
        body = {
            "status": "ok",
            "version": __version__,
            "services": {s.type: "running" for s in self.cloud.services},
            "compute_driver": self.cloud.settings.compute_driver,  # what an instance is: `stacksim start` says
            # Who answers: a starter checks it is its own process, not another that holds the port.
            "pid": os.getpid(),
        }
        await JSONResponse(body)(scope, receive, send)

    async def _reset(self, scope: dict, receive: Any, send: Any) -> None:
        """``POST /_stacksim/reset`` (admins only): the cloud back to its bootstrap state."""
        try:
            if scope.get("method") != "POST":
                raise faults.MethodNotAllowed("Use POST to reset the cloud.", headers={"Allow": "POST"})
            headers = dict(scope.get("headers") or [])
            token = headers.get(b"x-auth-token", b"").decode("latin-1") or None
            self.cloud.auth.context(token).require_admin("reset the cloud")
            async with self.gate.exclusive():
                self.faults.clear()
                removed = await self.cloud.reset()
        except faults.ApiError as err:
            await self._error(err, scope, receive, send)
            return
        except NoSnapshot as exc:
            await self._error(faults.Conflict(str(exc)), scope, receive, send)
            return
        log.info("reset to the bootstrap state: %s", removed)
        await JSONResponse({"reset": removed})(scope, receive, send)

    async def _error(self, err: faults.ApiError, scope: dict, receive: Any, send: Any) -> None:
        await JSONResponse(faults.keystone(err), err.status, headers=err.headers)(scope, receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.cloud.lifecycle.start(asyncio.get_running_loop())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.cloud.lifecycle.interrupt()  # running work stops where it is; its jobs stay
                self.cloud.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def create_app(settings: Settings, cloud: Cloud | None = None) -> Any:
    cloud = cloud or Cloud(settings)
    cloud.start()
    return RequestId(_Dispatcher(cloud))


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Any]:
    """The ASGI app, started and at the end stopped through its lifespan as uvicorn would, for
    callers that drive it in their own loop (benchmarks of the loop's path, tests)."""
    app = create_app(settings)
    lifespan: asyncio.Queue[dict] = asyncio.Queue()
    started = asyncio.Event()

    async def lifespan_send(message: dict) -> None:
        started.set()

    await lifespan.put({"type": "lifespan.startup"})
    life = asyncio.create_task(app({"type": "lifespan"}, lifespan.get, lifespan_send))
    await started.wait()
    try:
        yield app
    finally:
        await lifespan.put({"type": "lifespan.shutdown"})
        await life


def http_scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    """The scope uvicorn would give a request from a loopback client (a ``Host`` header first),
    for callers that drive the app in their own loop."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:5000"), *headers],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 5000),
    }
