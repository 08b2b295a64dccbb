"""The HTTP layer shared by every service: routes, bodies, replies, errors."""

from __future__ import annotations

import asyncio
import collections
import contextvars
import functools
import logging
import queue
import threading
import types
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import TYPE_CHECKING, Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from starlette.datastructures import URL
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from stacksim import faults, limits, policy, routing
from stacksim.connections import SCOPE_HEAD_HOLD
from stacksim.lifecycle import inline_jobs
from stacksim.microversion import Microversions, Version
from stacksim.toolkit import REQUEST_ID, new_request_id

if TYPE_CHECKING:
    from stacksim.auth import Context
    from stacksim.cloud import Cloud
    from stacksim.services.registry import Service

log = logging.getLogger("stacksim")

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
Handler = Callable[["Call"], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]
#: where :class:`RequestId` keeps the request's id in the ASGI scope
#: the scope key that holds the request id (the contextvar toolkit.REQUEST_ID holds it too)
SCOPE_REQUEST_ID = "stacksim.request_id"
#: the key of an async callable awaited once the answer is ready, just before it starts (see :class:`RequestId`)
SCOPE_BEFORE_ANSWER = "stacksim.before_answer"
_NO_BODY = object()
#: how a plain (not streamed, not a file) response answers: two messages, as ``Api._serve`` sends them itself
_PLAIN_CALL = Response.__call__

#: Threads that run the handlers' work (store reads and writes, JSON, views), so a
#: slow request never stalls the event loop and the others behind it.
WORKERS = 8
#: How long a call may wait behind the one the running thread is on before another takes over.
STALL = 0.01
_calls: queue.SimpleQueue[tuple[_Inbox, asyncio.Future, contextvars.Context, Coroutine]] = queue.SimpleQueue()
_threads: list[threading.Thread] = []
_threads_lock = threading.Lock()
_local = threading.local()


class _Relay:
    """Which request thread runs the calls: one at a time, the others standing by.

    A handler's work is Python and store statements, which the GIL and the store's lock run one
    at a time anyway; eight threads contending for both only add hand-offs and wake-ups (a
    server create made 23 context switches with eight threads taking calls, 6 with one). So one
    thread, the runner, takes the calls in order.

    None may hold the others up, though: a handler that suspends (it awaits a future) hands the
    running on at once, and if the runner is still on one call :data:`STALL` seconds after
    another came in behind it (it waits on a driver or a peer, or works long), a thread standing
    by takes over and the old runner finishes its call on its own.
    """

    def __init__(self) -> None:
        self.role = threading.Lock()  # held by the runner: a thread standing by waits for it
        self._guard = threading.Lock()  # one hand-over per term, whoever asks for it
        self.term = 0  # moves on at each hand-over: a thread runs calls while its term lasts
        self.begun = 0  # calls the runners began: the watch tells a call stuck from a next one by it
        self.busy = False  # the runner is in a call (not waiting for one)
        self.handovers = 0  # because the runner was stuck (for tests and profiles)
        self._watch_loop: asyncio.AbstractEventLoop | None = None  # where the watch is armed, if it is

    def serve(self) -> None:
        """A request thread's life: stand by, then run calls until the term ends."""
        while True:
            self.role.acquire()
            term = _local.term = self.term
            while True:
                inbox, future, ctx, coro = _calls.get()  # the runner waits for calls holding the role
                self.begun += 1
                self.busy = True
                try:
                    outcome, failed = ctx.run(_complete, coro), False
                except BaseException as exc:
                    outcome, failed = exc, True
                inbox.put(future, outcome, failed)
                del inbox, future, ctx, coro, outcome  # no reference kept while the thread waits
                with self._guard:
                    if self.term != term:
                        break  # handed over meanwhile: stand by again
                    self.busy = False

    def step_down(self, term: int, stuck_on: int | None = None) -> None:
        """End ``term`` if it is still the current one (and, given ``stuck_on``, its runner is
        still on that call): a thread standing by becomes the runner."""
        with self._guard:
            if self.term != term or (stuck_on is not None and not (self.busy and self.begun == stuck_on)):
                return
            self.term += 1
            self.busy = False
            self.role.release()
            if stuck_on is not None:
                self.handovers += 1

    def queued(self, loop: asyncio.AbstractEventLoop) -> None:
        """A call was queued (on ``loop``): watch that the runner gets to it (one watch at a time)."""
        if self._watch_loop is None or not self._watch_loop.is_running():  # (a stopped loop fires nothing)
            self._watch_loop = loop
            loop.call_later(STALL, self._watch, loop, self.term, self.begun)

    def _watch(self, loop: asyncio.AbstractEventLoop, term: int, begun: int) -> None:
        self._watch_loop = None
        if _calls.empty():
            return
        self.step_down(term, stuck_on=begun)
        self.queued(loop)  # calls still wait: watch the call the runner is on now


_relay = _Relay()


class _Inbox:
    """The outcomes of the calls one loop handed to the request threads, on their way back.

    One wake-up of the loop (``call_soon_threadsafe``: a write to its self-pipe, and the read)
    brings back every outcome that came in before the loop got to it, not one wake-up each.
    """

    __slots__ = ("armed", "loop", "outcomes")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.outcomes: collections.deque[tuple[asyncio.Future, Any, bool]] = collections.deque()
        self.armed = False  # a wake-up is on its way: the loop will take what is put before it runs

    def put(self, future: asyncio.Future, outcome: Any, failed: bool) -> None:
        """Hand ``outcome`` back (from a request thread)."""
        self.outcomes.append((future, outcome, failed))
        if not self.armed:
            self.armed = True
            try:
                self.loop.call_soon_threadsafe(self._deliver)
            except RuntimeError:  # the caller's loop is closed: nobody waits
                self.outcomes.clear()

    def _deliver(self) -> None:
        self.armed = False  # first: an outcome put from now on brings a wake-up of its own
        outcomes = self.outcomes
        while outcomes:
            _settle(*outcomes.popleft())


def _start_workers() -> None:
    """Start the request threads the first time a call needs one (daemons: a call still running
    when the process ends is lost with it, as one on a stopped server's loop would be)."""
    with _threads_lock:
        while len(_threads) < WORKERS:
            thread = threading.Thread(target=_relay.serve, name=f"stacksim-request_{len(_threads)}", daemon=True)
            thread.start()
            _threads.append(thread)


def _settle(future: asyncio.Future, outcome: Any, failed: bool) -> None:
    if future.cancelled():  # the caller went away meanwhile
        return
    if failed:
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


def _complete(coro: Coroutine[Any, Any, T]) -> T:
    """Run a handler's coroutine to its end in this worker thread, then the quick jobs due
    at once it scheduled (a fake server's build: see :func:`lifecycle.inline_jobs`), which
    the call's answer waits for anyway.

    The body was read on the server's loop before, so most handlers never suspend: the
    coroutine is driven by hand, with the thread's own loop set as the running one, and a
    Task and its loop turns are needed only if it does suspend (``asyncio.to_thread``).
    """
    loop = getattr(_local, "loop", None)
    if loop is None:
        loop = _local.loop = asyncio.new_event_loop()
    with inline_jobs():
        asyncio._set_running_loop(loop)
        try:
            yielded = coro.send(None)
        except StopIteration as done:
            return done.value
        finally:
            asyncio._set_running_loop(None)
        _relay.step_down(_local.term)  # it waits on something: the calls behind it go on meanwhile
        return loop.run_until_complete(_rest(coro, yielded))


@types.coroutine
def _rest(coro: Coroutine[Any, Any, T], yielded: Any) -> Generator[Any, Any, T]:
    """The rest of a coroutine that yielded ``yielded`` (a future it waits on, or None for a
    bare turn), as the Task that now drives it should see it: what the coroutine yielded is
    passed up as if the Task had driven it from the start, and what the Task sends or throws
    (a cancellation) goes down."""
    try:
        yield yielded
    except BaseException as exc:
        try:
            yielded = coro.throw(exc)
        except StopIteration as done:
            return done.value
        return (yield from _rest(coro, yielded))
    return (yield from coro)


async def off_loop(coro: Coroutine[Any, Any, T]) -> T:
    """Await ``coro`` run to completion in the request workers.

    The caller's context goes along, so context variables (the lifecycle's record of
    the jobs a call starts) are seen by the handler as if it ran on the loop.
    """
    if len(_threads) < WORKERS:
        _start_workers()
    loop = asyncio.get_running_loop()
    future = loop.create_future()
    inbox = getattr(_local, "inbox", None)  # this thread's loop's (one loop runs at a time in a thread)
    if inbox is None or inbox.loop is not loop:
        inbox = _local.inbox = _Inbox(loop)
    _calls.put((inbox, future, contextvars.copy_context(), coro))
    _relay.queued(loop)
    return await future


class Call:
    """One API call: the request, the cloud it is for and who makes it."""

    def __init__(
        self,
        request: Request,
        cloud: Cloud,
        ctx: Context | None,
        version: Version | None = None,
        body: Any = _NO_BODY,
    ) -> None:
        self.request = request
        self.cloud = cloud
        self._ctx = ctx
        #: the negotiated microversion, for services that have them
        self.version = version
        #: the body, decoded and checked before the handler ran (or the reason it is no JSON)
        self._body = body

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
        body = self._body
        if body is _NO_BODY:
            body = self._body = _decoded(await self.request.body())
        if body is None:
            raise faults.BadRequest("The request body is empty; a JSON object was expected.")
        if isinstance(body, limits.NotJson):
            raise faults.BadRequest(f"Malformed request body: {body}")
        return body

    async def body(self, model: type[M], root: str | None = None) -> M:
        """The JSON body (or its ``root`` member) validated by ``model``."""
        data = await self.json()
        if root is not None:
            if not isinstance(data, dict) or root not in data:
                raise faults.BadRequest(f"Invalid input: the request body must hold a '{root}' object.")
            data = data[root]
        return parse(model, data, root)


def _decoded(raw: bytes) -> Any:
    """The decoded body: None if empty, :class:`limits.NotJson` if no JSON (BadRequest if refused)."""
    if not raw:
        return None
    try:
        return limits.decode(raw)
    except limits.NotJson as exc:
        return exc


#: more validation errors than this are described from a sample of the input (listing them
#: all would take pydantic longer than any client should make the server work)
MANY_ERRORS = 50


def parse(model: type[M], data: Any, root: str | None = None) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        if exc.error_count() <= MANY_ERRORS:
            raise faults.BadRequest(describe(exc, root)) from None
        count = exc.error_count()
    try:
        model.model_validate(_sample(data))
    except ValidationError as exc:
        if exc.error_count() <= MANY_ERRORS:
            raise faults.BadRequest(f"{describe(exc, root)} ({count} problems in all)") from None
    raise faults.BadRequest(f"Invalid input: {count} problems in the request body.")


def _sample(data: Any) -> Any:
    """``data`` with every list cut to its first 5 items and every object to its first 50 members."""
    if isinstance(data, list):
        return [_sample(item) for item in data[:5]]
    if isinstance(data, dict):
        return {key: _sample(data[key]) for key in list(data)[:50]}
    return data


def describe(exc: ValidationError, root: str | None = None) -> str:
    """A message that names each bad field and what is wrong with it."""
    parts = []
    for err in exc.errors()[:5]:
        where = "/".join(str(p) for p in ((root,) if root else ()) + tuple(err["loc"]))
        parts.append(f"Invalid input for field '{where}': {err['msg']}")
    return "; ".join(parts) or "Invalid input."


class FastJSON(JSONResponse):
    """Starlette's JSON response encoded by orjson: the same JSON (compact, UTF-8, keys in their
    order; a float may be spelled ``1.5e-7`` for ``1.5e-07``) several times faster, which a list
    of a hundred servers' views feels. What orjson refuses (integers past 64 bits, keys that are
    not strings, lone surrogates) goes the standard way, and fails or succeeds as before."""

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content)
        except TypeError:  # orjson.JSONEncodeError is a TypeError
            return super().render(content)


def reply(body: Any = None, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    if body is None:
        return Response(status_code=status, headers=headers)
    return FastJSON(body, status_code=status, headers=headers)


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

    def routes(self) -> list[tuple[str, tuple[str, ...], bool, bool]]:
        """Every route: its path template, methods, whether it is public and whether it streams."""
        return [(path, tuple(methods), public, stream) for path, methods, _, public, stream in self._routes]

    def app(self, cloud: Cloud, service: Service | None = None) -> Any:
        """The ASGI app of these routes for ``cloud``, mounted as ``service``.

        Every error it answers, expected or not, is in the service's format, and
        no exception escapes it (so the connection stays usable).
        """
        types = {service.type, *(e.type for e in service.also)} if service else set()
        kind = service.type if service else ""
        table = routing.Table(
            [
                (path, frozenset(m), self._endpoint(cloud, h, public, stream, path, kind, types))
                for path, m, h, public, stream in self._routes
            ]
        )
        return functools.partial(self._serve, table)

    async def _serve(self, table: routing.Table[Endpoint], scope: dict, receive: Any, send: Any) -> None:
        """Answer one request: what Starlette's app, router and exception middlewares did, in one layer.

        An :class:`~faults.ApiError` or an ``HTTPException`` is answered in the service's format;
        anything else is logged and answered as a 500 (if the answer has not begun).
        """
        started = False

        async def watched(message: dict) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            request = Request(scope, receive, send)
            try:
                path = routing.route_path(scope)
                endpoint, params, found = table.find(path, scope["method"])
                if endpoint is None:
                    if not found and await self._redirected(table, path, scope, receive, watched):
                        return
                    raise HTTPException(status_code=405 if found else 404)
                scope["path_params"] = {**scope.get("path_params", {}), **params}
                response = await endpoint(request)
                if type(response).__call__ is _PLAIN_CALL and scope["type"] == "http":
                    # What ``Response.__call__`` sends, without a ``send`` wrapper per message; the
                    # connection writes the head with the body, in one ``send`` (see HeadHold).
                    started = True
                    hold = scope.get(SCOPE_HEAD_HOLD)
                    if hold is not None:
                        hold.pair()
                    try:
                        await send(
                            {
                                "type": "http.response.start",
                                "status": response.status_code,
                                "headers": response.raw_headers,
                            }
                        )
                        await send({"type": "http.response.body", "body": response.body})
                    finally:
                        if hold is not None:
                            hold.release()
                    if response.background is not None:
                        await response.background()
                else:
                    await response(scope, receive, watched)
            except (faults.ApiError, HTTPException) as exc:
                if started:
                    raise RuntimeError("Caught handled exception, but response already started.") from exc
                handler = self._fault if isinstance(exc, faults.ApiError) else self._http_fault
                response = await handler(request, exc)
                await response(scope, receive, watched)
                exc.__traceback__ = None  # a fault kept for reuse must not pile up tracebacks
        except Exception as exc:
            try:
                response = await self._crash(Request(scope), exc)  # logged there, even if too late to answer
                if not started:
                    await response(scope, receive, watched)
            except Exception as failed:
                if not started:  # only if answering failed too
                    response = await self._fault(Request(scope), unexpected(scope, failed))
                    await response(scope, receive, send)

    @staticmethod
    async def _redirected(table: routing.Table[Endpoint], path: str, scope: dict, receive: Any, send: Any) -> bool:
        """Redirect (307) to the path without its trailing slashes, or with one, if a route has that."""
        if path == "/":
            return False
        other = dict(scope, path=scope["path"].rstrip("/") if path.endswith("/") else scope["path"] + "/")
        if not table.matches(routing.route_path(other)):
            return False
        await RedirectResponse(url=str(URL(scope=other)))(scope, receive, send)
        return True

    def _endpoint(
        self, cloud: Cloud, handler: Handler, public: bool, stream: bool, route: str, kind: str, types: set[str]
    ):
        limit = cloud.settings.body_limit(kind)
        challenge = cloud.auth.challenge

        async def endpoint(request: Request) -> Response:
            if stream:
                return await handle(request, _NO_BODY)
            try:
                raw = await limits.read_body(request, limit)  # on the loop; the handler finds it cached
            except limits.BodyTooLarge as exc:
                raise limits.too_large(exc, kind) from None
            except ClientDisconnect:
                return Response(status_code=400)  # nobody is left to read it
            return await off_loop(handle(request, raw))

        async def handle(request: Request, raw: Any) -> Response:
            body = _NO_BODY if raw is _NO_BODY else _decoded(raw)
            token = request.headers.get("x-auth-token")
            # On public routes a stale token must not break discovery or authentication.
            ctx = cloud.auth.optional_context(token) if public else cloud.auth.context(token)
            if not public:
                path = request.url.path[len(request.scope.get("root_path", "")) :]
                policy.check_access_rules(ctx, types, request.method, path, challenge)
                policy.check_write(ctx, kind, request.method, route, body)
            mv = self.microversions
            if mv is None or public:  # version discovery answers whatever is asked
                return await handler(Call(request, cloud, ctx, body=body))
            version = mv.negotiate(request.headers)
            response = await handler(Call(request, cloud, ctx, version, body=body))
            response.headers.update(mv.headers(version))
            return response

        return endpoint

    async def respond(self, scope: dict, err: faults.ApiError) -> Response:
        """The response that answers ``err`` to the request of ``scope``, in the service's format."""
        return await self._fault(Request(scope), err)

    def error_response(self, err: faults.ApiError) -> Response:
        return JSONResponse(self.format(err), status_code=err.status, headers=err.headers)

    async def _fault(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, faults.ApiError)
        return self.error_response(exc)

    async def _crash(self, request: Request, exc: Exception) -> Response:
        """An exception no handler expected: logged with its request id, answered as a 500."""
        return await self._fault(request, unexpected(request.scope, exc))

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


def unexpected(scope: dict, exc: BaseException) -> faults.ApiError:
    """The 500 an unexpected exception answers (it is logged here, with the request id)."""
    rid = scope.get(SCOPE_REQUEST_ID, "?")
    log.error("%s %s (%s) failed", scope.get("method"), scope.get("path"), rid, exc_info=exc)
    return faults.ApiError(
        f"Unexpected API Error ({rid}): {type(exc).__name__}. The stacksim log has the details.",
        status=500,
    )


class RequestId:
    """ASGI middleware: every response carries an ``x-openstack-request-id`` (kept in the scope
    as :data:`SCOPE_REQUEST_ID`), and nothing raised below it breaks the connection.

    An app below may put an async callable in the scope as :data:`SCOPE_BEFORE_ANSWER`: it is
    awaited before the answer starts (the dispatcher's settle wait), in this one ``send`` wrapper
    rather than in one more of its own.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = new_request_id()
        scope[SCOPE_REQUEST_ID] = rid
        tag = (b"x-openstack-request-id", rid.encode())
        started = False

        async def tagged(message: dict) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                before = scope.get(SCOPE_BEFORE_ANSWER)
                if before is not None:
                    await before()
                started = True
                message["headers"] = [*list(message.get("headers") or []), tag]
            await send(message)

        token = REQUEST_ID.set(rid)  # the handlers see it (records that name their request)
        try:
            await self.app(scope, receive, tagged)
        except Exception as exc:
            err = unexpected(scope, exc)
            if not started:
                await JSONResponse(faults.keystone(err), err.status)(scope, receive, tagged)
        finally:
            REQUEST_ID.reset(token)
