"""The HTTP layer shared by every service: routes, bodies, replies, errors."""

from __future__ import annotations

import asyncio
import contextvars
import json
import threading
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from stacksim import faults
from stacksim.microversion import Microversions, Version

if TYPE_CHECKING:
    from stacksim.auth import Context
    from stacksim.cloud import Cloud

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
Handler = Callable[["Call"], Awaitable[Response]]

#: Threads that run the handlers' work (store reads and writes, JSON, views), so a
#: slow request never stalls the event loop and the others behind it.
WORKERS = 8
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_local = threading.local()


def _workers() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="stacksim-request")
        return _pool


def _complete(coro: Coroutine[Any, Any, T]) -> T:
    """Run a handler's coroutine to its end in this worker thread, on the thread's own loop.

    The body was read on the server's loop before, so awaiting it here does not
    wait; a handler that awaits real work (``asyncio.to_thread``) gets a loop.
    """
    loop = getattr(_local, "loop", None)
    if loop is None:
        loop = _local.loop = asyncio.new_event_loop()
    return loop.run_until_complete(coro)


async def off_loop(coro: Coroutine[Any, Any, T]) -> T:
    """Await ``coro`` run to completion in the request workers.

    The caller's context goes along, so context variables (the lifecycle's record of
    the jobs a call starts) are seen by the handler as if it ran on the loop.
    """
    ctx = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(_workers(), ctx.run, _complete, coro)


class Call:
    """One API call: the request, the cloud it is for and who makes it."""

    def __init__(self, request: Request, cloud: Cloud, ctx: Context | None, version: Version | None = None) -> None:
        self.request = request
        self.cloud = cloud
        self._ctx = ctx
        #: the negotiated microversion, for services that have them
        self.version = version

    @property
    def ctx(self) -> Context:
        if self._ctx is None:  # only public routes get here without one
            raise faults.Unauthorized("The request you have made requires authentication.")
        return self._ctx

    @property
    def params(self) -> dict[str, str]:
        return self.request.path_params

    @property
    def query(self) -> Any:
        return self.request.query_params

    def header(self, name: str) -> str | None:
        return self.request.headers.get(name)

    async def json(self) -> Any:
        raw = await self.request.body()
        if not raw:
            raise faults.BadRequest("The request body is empty; a JSON object was expected.")
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise faults.BadRequest(f"Malformed request body: {exc}") from None

    async def body(self, model: type[M], root: str | None = None) -> M:
        """The JSON body (or its ``root`` member) validated by ``model``."""
        data = await self.json()
        if root is not None:
            if not isinstance(data, dict) or root not in data:
                raise faults.BadRequest(f"Invalid input: the request body must hold a '{root}' object.")
            data = data[root]
        return parse(model, data, root)


def parse(model: type[M], data: Any, root: str | None = None) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise faults.BadRequest(describe(exc, root)) from None


def describe(exc: ValidationError, root: str | None = None) -> str:
    """A message that names each bad field and what is wrong with it."""
    parts = []
    for err in exc.errors()[:5]:
        where = "/".join(str(p) for p in ((root,) if root else ()) + tuple(err["loc"]))
        parts.append(f"Invalid input for field '{where}': {err['msg']}")
    return "; ".join(parts) or "Invalid input."


def reply(body: Any = None, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    if body is None:
        return Response(status_code=status, headers=headers)
    return JSONResponse(body, status_code=status, headers=headers)


class Api:
    """The routes of one service, with its error format and its auth rule."""

    def __init__(self, fault_format: str, microversions: Microversions | None = None) -> None:
        self.format = faults.FORMATS[fault_format]
        self.microversions = microversions
        self._routes: list[tuple[str, list[str], Handler, bool, bool]] = []

    def route(self, path: str, methods: tuple[str, ...] = ("GET",), public: bool = False, stream: bool = False):
        """Register a handler. ``stream``: it reads the request body itself, as it
        arrives, so it runs on the event loop (its blocking work must go to a thread);
        every other handler runs in a request worker thread, its body read first."""

        def register(handler: Handler) -> Handler:
            self._routes.append((path, list(methods), handler, public, stream))
            return handler

        return register

    def app(self, cloud: Cloud) -> Starlette:
        routes = [
            Route(path, self._endpoint(cloud, h, public, stream), methods=m)
            for path, m, h, public, stream in self._routes
        ]
        return Starlette(
            routes=routes,
            exception_handlers={faults.ApiError: self._fault, HTTPException: self._http_fault},
        )

    def _endpoint(self, cloud: Cloud, handler: Handler, public: bool, stream: bool):
        async def endpoint(request: Request) -> Response:
            if stream:
                return await handle(request)
            await request.body()  # read on the loop; the handler then finds it cached
            return await off_loop(handle(request))

        async def handle(request: Request) -> Response:
            token = request.headers.get("x-auth-token")
            # On public routes a stale token must not break discovery or authentication.
            ctx = cloud.auth.optional_context(token) if public else cloud.auth.context(token)
            mv = self.microversions
            if mv is None or public:  # version discovery answers whatever is asked
                return await handler(Call(request, cloud, ctx))
            version = mv.negotiate(request.headers)
            response = await handler(Call(request, cloud, ctx, version))
            response.headers.update(mv.headers(version))
            return response

        return endpoint

    def error_response(self, err: faults.ApiError) -> Response:
        return JSONResponse(self.format(err), status_code=err.status, headers=err.headers)

    async def _fault(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, faults.ApiError)
        return self.error_response(exc)

    async def _http_fault(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 405:
            err: faults.ApiError = faults.MethodNotAllowed(
                f"The method {request.method} is not allowed for {request.url.path}."
            )
        elif exc.status_code == 404:
            err = faults.NotFound(f"The resource could not be found: {request.url.path}")
        else:
            err = faults.ApiError(str(exc.detail), status=exc.status_code)
        return self.error_response(err)


class RequestId:
    """ASGI middleware: every response carries an ``x-openstack-request-id``."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = f"req-{uuid.uuid4()}".encode()

        async def tagged(message: dict) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*list(message["headers"]), (b"x-openstack-request-id", rid)]
            await send(message)

        await self.app(scope, receive, tagged)
