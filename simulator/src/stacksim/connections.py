"""Client connections: how many may be open, and how long they may idle or dawdle.

uvicorn closes a keep-alive connection that idles after a response, but not one
that never sends a request, nor one that sends half of one; and its
``limit_concurrency`` answers 503 yet keeps every socket open. So a few
thousand silent sockets could use up the open-file limit. :class:`Guard` puts
three limits on every connection, as Apache's defaults (``mod_reqtimeout``,
which fronts the real services) do:

- **idle** (``--idle-timeout``): a connection with no request under way is
  closed after that many seconds without a byte (the first request included);
- **request** (``--request-timeout``): a request's head and body must arrive
  within that many seconds, plus one more per :data:`MIN_RATE` bytes received
  (so any upload faster than that may take as long as it needs), or the
  connection is closed; a request the server is working on is never cut;
- **count** (``--max-connections``): a new connection over the cap closes the
  connection idle the longest; if every one is busy, the new one is refused.

Closings are counted and logged at most once per :data:`REPORT_EVERY` seconds.
A request head over :data:`MAX_HEAD` is answered 400 and the connection closed.

uvicorn's httptools protocol (the llhttp parser, in C) serves when httptools is installed:
it costs the event loop about half the CPU per request of the h11 one (pure Python), which
serves otherwise. :class:`Guarded` holds the limits for both.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from collections import OrderedDict
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools is not installed: uvicorn's h11 protocol serves
    HAS_HTTPTOOLS = False
else:
    HAS_HTTPTOOLS = True

log = logging.getLogger("stacksim")

#: bytes per second a request must at least arrive at (Apache's ``MinRate``)
MIN_RATE = 500
#: seconds between two log lines about closed connections
REPORT_EVERY = 10.0
#: the largest request head (request line and headers), as oslo.service's ``max_header_line``
MAX_HEAD = 16384
#: open files kept for the rest of the process (database, image files, containers' pipes)
FILE_RESERVE = 256
#: connections a sweep closes in one go: a crowd that times out together is closed over several
#: turns of the loop, so the requests in between are answered (closing 500 at once took ~50 ms)
DROP_BATCH = 50
#: the scope key of the connection's :class:`HeadHold` (httptools protocol only)
SCOPE_HEAD_HOLD = "stacksim.head_hold"
#: a body up to this size goes out in one write with its head; a larger one is not copied for it
JOIN_LIMIT = 65536
#: connections the kernel queues for us, and the most the loop takes on in one go: small, so
#: that a flood of connections waits in the kernel and the loop keeps answering in between
BACKLOG = 128


class Guard:
    """The connections of one server, and the limits on them."""

    def __init__(self, idle_timeout: float, request_timeout: float, max_connections: int) -> None:
        self.idle_timeout = idle_timeout
        self.request_timeout = request_timeout
        self.max_connections = max_connections
        #: open connections, the one active longest ago first
        self.open: OrderedDict[Guarded, None] = OrderedDict()
        self.closed = {"idle": 0, "slow": 0, "evicted": 0, "refused": 0}
        self._reported = {name: 0 for name in self.closed}
        self._last_report = 0.0
        self._sweeping = False

    def protocol(self, base: type[Guarded] | None = None) -> type[Guarded]:
        """The uvicorn HTTP protocol class (``http=``) that keeps to these limits, on
        ``base`` (default :data:`DEFAULT_PROTOCOL`)."""
        base = base or DEFAULT_PROTOCOL
        return type(base.__name__, (base,), {"guard": self})

    def admit(self, conn: Guarded) -> bool:
        """Make room for a new connection; False if there is none (every connection is busy)."""
        if not self._sweeping:
            self._sweeping = True
            self._schedule(conn.loop)
        if len(self.open) >= self.max_connections:
            victim = next((c for c in self.open if not c.busy), None)
            if victim is None:
                self._count("refused")
                return False
            self._count("evicted")
            victim.drop()
        self.open[conn] = None
        return True

    def touch(self, conn: Guarded) -> None:
        if conn in self.open:
            self.open.move_to_end(conn)

    def forget(self, conn: Guarded) -> None:
        self.open.pop(conn, None)

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        every = max(0.05, min(1.0, self.idle_timeout / 4, self.request_timeout / 4))
        loop.call_later(every, self._sweep, loop)

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        now = time.monotonic()
        self._drop_overdue(loop, [conn for conn in self.open if conn.overdue(now)])
        self._report(now)
        if not loop.is_closed():
            self._schedule(loop)

    def _drop_overdue(self, loop: asyncio.AbstractEventLoop, candidates: list[Guarded]) -> None:
        """Close the first :data:`DROP_BATCH` of ``candidates`` still overdue; the rest on the loop's next turn."""
        now = time.monotonic()
        for conn in candidates[:DROP_BATCH]:
            why = conn.overdue(now)  # it may have sent something, or gone, since
            if why:
                self._count(why)
                conn.drop()
        if len(candidates) > DROP_BATCH and not loop.is_closed():
            loop.call_soon(self._drop_overdue, loop, candidates[DROP_BATCH:])

    def _count(self, why: str) -> None:
        self.closed[why] += 1
        self._report(time.monotonic())

    def _report(self, now: float) -> None:
        if now - self._last_report < REPORT_EVERY:
            return
        news = {k: v - self._reported[k] for k, v in self.closed.items() if v != self._reported[k]}
        if news:
            self._last_report = now
            self._reported = dict(self.closed)
            parts = ", ".join(f"{n} {why}" for why, n in news.items())
            log.warning(
                "closed client connections (%d open, at most %d): %s", len(self.open), self.max_connections, parts
            )


class Guarded:
    """A connection watched by a :class:`Guard`: the limits, whichever parser uvicorn runs under them.

    Mixed in before uvicorn's protocol class; the subclasses below say, in their parser's
    terms, when a request is arriving (:meth:`_receiving`) and when it is all in (:meth:`_request_in`).
    Its ``super()`` calls reach that protocol class, which a type checker cannot see from the
    mixin alone (its base is ``object``): they carry ``type: ignore[misc]`` for that reason only.
    """

    guard: Guard
    # uvicorn's protocol sets these
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport | None
    cycle: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.admitted = False
        self.last = time.monotonic()
        #: when the request being received began to arrive, and its bytes so far
        self.receiving_since: float | None = None
        self.received = 0

    # uvicorn's protocol types the transport as asyncio.Transport, the base class as BaseTransport;
    # the loop hands a Transport either way, so both ignores are about annotations only.
    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # type: ignore[override]
        self.admitted = self.guard.admit(self)
        if not self.admitted:
            transport.abort()
            return
        super().connection_made(transport)  # type: ignore[misc]  # uvicorn's protocol, next in the MRO

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.admitted:
            return
        self.guard.forget(self)
        super().connection_lost(exc)  # type: ignore[misc]  # uvicorn's protocol, next in the MRO

    def data_received(self, data: bytes) -> None:
        now = self.last = time.monotonic()
        self.guard.touch(self)
        if self.receiving_since is None:
            self.receiving_since, self.received = now, 0
        self.received += len(data)
        super().data_received(data)  # type: ignore[misc]  # uvicorn's protocol, next in the MRO
        if self._request_in():
            self.receiving_since = None  # all in: the request is ours to answer now

    def on_response_complete(self) -> None:
        self.last = time.monotonic()
        self.guard.touch(self)
        super().on_response_complete()  # type: ignore[misc]  # uvicorn's protocol, next in the MRO

    @property
    def busy(self) -> bool:
        """The server is working on a request of this connection (its body may still be arriving)."""
        return self.cycle is not None and not self.cycle.response_complete

    def _receiving(self) -> bool:
        """A request (head or body) is arriving, and the request deadline applies."""
        raise NotImplementedError

    def _request_in(self) -> bool:
        """No request is part-way in: the last one has fully arrived (or none began)."""
        raise NotImplementedError

    def overdue(self, now: float) -> str | None:
        """Why this connection must close now (``idle``, ``slow``), or None."""
        if self.transport is None or self.transport.is_closing():
            return None
        if self._receiving() and self.receiving_since is not None:
            allowed = self.guard.request_timeout + self.received / MIN_RATE
            return "slow" if now - self.receiving_since > allowed else None
        if self.busy:
            return None
        return "idle" if now - self.last > self.guard.idle_timeout else None

    def drop(self) -> None:
        """Close the connection now (it no longer counts as open)."""
        self.guard.forget(self)
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()


class GuardedH11Protocol(Guarded, H11Protocol):
    """uvicorn's pure-Python h11 protocol, guarded (the fallback when httptools is not installed).

    h11 itself refuses a head over :data:`MAX_HEAD` (``h11_max_incomplete_event_size``, set in
    ``cli.py``) once that much of it is buffered and incomplete.
    """

    def _receiving(self) -> bool:
        state = self.conn.their_state
        return state is h11.SEND_BODY or (state is h11.IDLE and bool(self.conn.trailing_data[0]))

    def _request_in(self) -> bool:
        return self.conn.their_state in (h11.DONE, h11.MUST_CLOSE)


class HeadHold:
    """A connection's transport as its requests' answers see it: on request (:meth:`pair`), the
    next write (an answer's head) is held and goes out with the write after it (the body), in one
    ``send`` instead of two.

    Whoever calls :meth:`pair` sends the two messages at once, with nothing between them that
    could wait, and calls :meth:`release` after them whatever happened: a head whose body wrote
    nothing (HEAD, or the body message never came) goes out then, and a close sends it first.
    """

    __slots__ = ("held", "holding", "transport")

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.holding = False
        self.held: bytes | None = None

    def pair(self) -> None:
        """Hold the next write until the one after it (or :meth:`release`)."""
        self.holding = True

    def release(self) -> None:
        """Stop holding, and write what is held."""
        self.holding = False
        held = self.held
        if held is not None:
            self.held = None
            self.transport.write(held)

    def write(self, data: bytes) -> None:
        held = self.held
        if held is not None:
            self.held = None
            if len(data) <= JOIN_LIMIT:
                self.transport.write(held + data)
                return
            self.transport.write(held)
        elif self.holding:
            self.holding = False
            self.held = data
            return
        self.transport.write(data)

    def close(self) -> None:
        self.release()
        self.transport.close()

    def is_closing(self) -> bool:
        return self.transport.is_closing()

    def __getattr__(self, name: str) -> Any:  # what else uvicorn might ask a transport
        return getattr(self.transport, name)


class BadHead(Exception):
    """A request head the guard refuses: raised in a parser callback, it stops the parser."""


if HAS_HTTPTOOLS:

    class GuardedHttpToolsProtocol(Guarded, HttpToolsProtocol):
        """uvicorn's httptools protocol (llhttp, in C), guarded; it adds two refusals h11 has.

        A head still incomplete after more than :data:`MAX_HEAD` bytes, one that completes larger
        than that, and an HTTP/1.1 request without ``Host`` are answered as uvicorn answers any
        request it cannot parse (400, and the connection closes), as the h11 protocol answers them.
        """

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            #: between on_message_begin and on_message_complete; the head is in (on_headers_complete)
            self.in_message = False
            self.head_done = False
            #: bytes of the chunks that arrived while a head was incomplete (an incomplete head's size,
            #: give or take the first chunk's bytes of the request before)
            self.head_received = 0
            #: what this connection's answers write through (see :class:`HeadHold`)
            self.hold: HeadHold | None = None

        def data_received(self, data: bytes) -> None:
            if not self.head_done:
                self.head_received += len(data)
            super().data_received(data)
            if not self.head_done and self.head_received > MAX_HEAD and not self.transport.is_closing():
                self.logger.warning("Invalid HTTP request received: the request head is over %d bytes.", MAX_HEAD)
                self.send_400_response("Invalid HTTP request received.")

        def on_message_begin(self) -> None:
            self.in_message = True
            super().on_message_begin()

        def on_headers_complete(self) -> None:
            # the chunks' count may hold body bytes, or miss a pipelined head's first bytes: measure the head
            size, host = _head_size(self.parser.get_method(), self.url, self.headers)
            if size > MAX_HEAD:
                raise BadHead("over MAX_HEAD")  # uvicorn answers the parser's error with a 400
            # HTTP/1.1 requires Host (RFC 9112 3.2); h11 and Apache refuse a request without one, llhttp does not
            if not host and self.parser.get_http_version() == "1.1":
                raise BadHead("no Host header")
            self.head_done = True
            super().on_headers_complete()
            cycle = self.cycle
            if cycle is not None and cycle.scope is self.scope:  # a request cycle began (not an upgrade)
                hold = self.hold
                if hold is None or hold.transport is not self.transport:
                    hold = self.hold = HeadHold(self.transport)
                cycle.transport = hold
                self.scope[SCOPE_HEAD_HOLD] = hold

        def on_message_complete(self) -> None:
            self.in_message = self.head_done = False
            self.head_received = 0
            super().on_message_complete()

        def _receiving(self) -> bool:
            # a pipelined request's head arriving while the one before is answered is not yet
            # under the deadline (as with h11, which reads it only once the answer is sent)
            return self.in_message and (self.head_done or not self.busy)

        def _request_in(self) -> bool:
            return not self.in_message


def _head_size(method: bytes, url: bytes, headers: list[tuple[bytes, bytes]]) -> tuple[int, bool]:
    """The bytes of a request head with this method, target and headers, written the shortest way,
    and whether it has a ``Host`` header (one pass over the headers: the loop runs this per request)."""
    # method + " " + target + " HTTP/1.1\r\n", each "name: value\r\n", the blank line
    size = len(method) + len(url) + 14
    host = False
    for name, value in headers:
        size += len(name) + len(value) + 4
        if name == b"host":
            host = True
    return size, host


#: uvicorn's HTTP protocol the guard watches: httptools (C) if installed, else h11
DEFAULT_PROTOCOL: type[Guarded] = GuardedHttpToolsProtocol if HAS_HTTPTOOLS else GuardedH11Protocol


def raise_file_limit() -> int:
    """Raise this process's open-file limit to its hard limit; the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


def connection_cap(wanted: int) -> int:
    """``wanted``, or less if the open-file limit would not leave room for the rest of the process."""
    soft = raise_file_limit()
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, soft - FILE_RESERVE))
