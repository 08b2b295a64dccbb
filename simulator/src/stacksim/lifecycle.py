"""Asynchronous status transitions (server BUILD -> ACTIVE, volume creating -> available ...).

A service *schedules* a job: an action name, the id of the thing it acts on,
a delay and a few arguments. The job is written to the store first, so a job
that was pending when the process died is run when the next one starts: a
build finishes or fails, it is never left stuck. Handlers are registered by
the services under the action's name; a handler must be idempotent, because
a crash between its work and the job's removal runs it again.

Timers are ``loop.call_later`` on the server's event loop (no polling).
Blocking handlers (a Docker call, a file copy) and any other blocking work a
job does (Heat's steps) run in the lifecycle's one executor of
:data:`WORKERS` threads (:meth:`Lifecycle.call`).

Quick jobs run inline
---------------------
A job due at once whose action was registered ``inline`` (a blocking handler
that takes no time worth a thread of its own: a fake server's build) and that
a call schedules in its request thread (:func:`inline_jobs`, which
``web.off_loop`` opens around every handler) is run in that thread as soon
as the handler returns, with the jobs it schedules in turn: no timer, no
hop through the loop and the executor, and the call's answer, which waits
for it anyway, goes out as soon as it is done. It is still written to the
store first, claimed like any other (a held job stays in the store, an
interrupted lifecycle runs nothing) and counted for its call. One that must
wait for something (:meth:`Lifecycle.wait_until` would park) gives its
thread back: it stops, stays in the store and is run again on the usual
path (handlers are idempotent), so a call never answers late because of it.

One the call schedules inside a store transaction (a server create's build)
runs in that transaction, just before it commits (``Store.before_commit``):
the call's work and the job's commit together, once. There it neither waits
nor runs other jobs (it goes back to the executor, armed once the transaction
has committed), and if it raises, the whole transaction rolls back with it.
Its record is written only if it does not end there (held, deferred, past the
settle limit, interrupted): a job that ends before the commit never was.

When a state becomes visible
----------------------------
A job is due ``delay`` seconds after it is scheduled: ``--delay`` (0 by
default) unless its service asks for a hold (a flavor's
``stacksim:boot_delay``, a volume type's ``stacksim:create_delay``). The
HTTP call that scheduled jobs due at once does not answer until they, and
the jobs they schedule in turn (due at once too), have finished or are
waiting for something only time or another call brings (a held job, a
signal, a time-out); see :meth:`Lifecycle.settle`. So a client's first read
after a call sees the final state of the work that call set going, however
soon it polls, and nothing else changes: the work still passes through its
transitional states (a server is written as ``BUILD`` and its console shows
the boot; a stack's events show each ``IN_PROGRESS``). With ``--delay`` or a
hold, jobs are not due at once, the call answers at once and clients see the
states move in real time, as before.

Why the answer waits rather than the next read: a read would have to know
which pending jobs make what it reads stale (a list covers many things, a
server's addresses depend on Neutron's jobs too), and would stall on a stack
waiting for a signal. The call that started the work knows exactly which jobs
are its own, and nothing else waits. The wait is bounded by
:data:`SETTLE_LIMIT`: slower work shows its transitional state and clients
poll for it, as they would on a real cloud.

Waiting for a state
-------------------
Work that needs another job's result (Heat waiting for a server, a server
build for its boot volume) never sleeps in a loop: it waits with
:meth:`Lifecycle.wait_until` (blocking, in a worker thread) or
:meth:`Lifecycle.wait_change` (on the loop), and is woken by
:meth:`Lifecycle.changed`, which runs whenever a job finishes and after every
HTTP call that may have changed state. A waiting job does not count as busy
for :meth:`Lifecycle.settle`; woken by a call, it counts for that call. A
thread waiting for a job of its targets runs that job itself once it is due,
so a full executor cannot deadlock on its own waiters.

:meth:`Lifecycle.interrupt` (before a reset or at shutdown) wakes every
waiter with :class:`Interrupted` and starts no new job; an interrupted job
stays in the store, so a restart runs it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from stacksim import clock
from stacksim.store import Store
from stacksim.toolkit import new_hex_id

log = logging.getLogger("stacksim.lifecycle")

Handler = Callable[[dict[str, Any]], Awaitable[None] | None]
T = TypeVar("T")
KIND = "job"
#: threads for blocking job work (drivers, file copies, Heat's steps)
WORKERS = 16
#: the longest an HTTP call waits for the jobs it started before it answers
SETTLE_LIMIT = 10.0


class Interrupted(BaseException):
    """The lifecycle is stopping (a reset or shutdown): leave the job as it is.

    A BaseException so that handlers' ``except Exception`` does not take it
    for a failure of the work and record an error state.
    """


class _Deferred(BaseException):
    """A job run inline must wait: stop it, and let the executor run it again (see :func:`inline_jobs`)."""


class Settle:
    """The jobs one HTTP call set going: how many are still busy (not done, not waiting)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.busy = 0
        self.quiet = asyncio.Event()
        #: :meth:`Lifecycle.settle` waits for ``quiet`` (set under the lock): until then nobody
        #: needs waking, and the jobs a call ran inline finish without a wake-up of the loop
        self.waiting = False
        #: seconds of the call's :data:`SETTLE_LIMIT` its request thread spent on jobs run inline
        self.spent = 0.0

    def _add(self, delta: int) -> None:
        """Change the count (under the lifecycle's lock); wake :meth:`Lifecycle.settle` when it reaches 0."""
        self.busy += delta
        if self.busy <= 0 and self.waiting:
            if _on_loop(self.loop):
                self.quiet.set()
            else:
                self.loop.call_soon_threadsafe(self.quiet.set)


class _Settling:
    """What :meth:`Lifecycle.settling` returns: a class, not a generator, as the loop enters one
    per HTTP call (a generator-based context manager costs it several calls more)."""

    __slots__ = ("settle", "token")

    def __init__(self, settle: Settle | None) -> None:
        self.settle = settle

    def __enter__(self) -> Settle | None:
        self.token = _SETTLE.set(self.settle)
        return self.settle

    def __exit__(self, *exc: object) -> None:
        _SETTLE.reset(self.token)


@dataclass(eq=False)
class _Waiter:
    job: str | None
    wake: Callable[[], None]
    woken: bool = field(default=False)


#: the call (or job) new jobs due at once count for
_SETTLE: contextvars.ContextVar[Settle | None] = contextvars.ContextVar("stacksim_settle", default=None)
#: the job the running code works for
_JOB: contextvars.ContextVar[str | None] = contextvars.ContextVar("stacksim_job", default=None)


class _InlineState(threading.local):
    #: the jobs to run in this thread once the call's handler returns (see :func:`inline_jobs`)
    queue: deque[tuple[Lifecycle, dict[str, Any]]] | None = None
    #: the job this thread runs from ``queue`` (those it schedules join the queue)
    running: str | None = None
    #: when the call's time for running jobs inline (:data:`SETTLE_LIMIT`) is up (0: not started)
    deadline: float = 0.0


_INLINE = _InlineState()


@contextlib.contextmanager
def inline_jobs() -> Iterator[None]:
    """Around a call's handler in a request thread: run the quick jobs due at once that it schedules
    here, in order, once it returns (or raises), and those they schedule in turn. Those it schedules
    in a store transaction run just before that commits (see :func:`_run_queued`)."""
    if _INLINE.queue is not None:  # nested: the outer one runs them
        yield
        return
    queue = _INLINE.queue = deque()
    _INLINE.deadline = 0.0
    try:
        yield
    finally:
        try:
            _run_queued()
        finally:
            _INLINE.queue = None
            for life, job in queue:
                life._arm(job)


def _run_queued() -> None:
    """Run the call's queued jobs in order (with those they queue), in this thread.

    A call waits for its jobs at most SETTLE_LIMIT (a bulk create's thousand builds): past
    that, the rest stay queued and :func:`inline_jobs` sends them the usual way, and the call
    answers as it would have. What the inline runs took counts against the call's settle wait
    (Lifecycle.settle)."""
    queue = _INLINE.queue
    if not queue:
        return
    start = time.monotonic()
    if not _INLINE.deadline:
        _INLINE.deadline = start + SETTLE_LIMIT
    try:
        while queue and time.monotonic() < _INLINE.deadline:
            life, job = queue.popleft()
            life._run_inline(job)
        for life, job in queue:  # past the limit: those left go the usual way, so they need their record
            life._write(job["id"])
    finally:
        settle = _SETTLE.get()
        if settle is not None:  # read by settle() only after this thread hands the call back
            settle.spent += time.monotonic() - start


def hold(specs: dict[str, Any] | None, key: str) -> float | None:
    """The hold a resource's extra spec ``key`` asks for (seconds), or None; ValueError if it is no number."""
    value = (specs or {}).get(key)
    if value is None:
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"The extra spec {key} must be a number of seconds (0 or more), not {value!r}.")
    return seconds


class Lifecycle:
    def __init__(self, store: Store, default_delay: float = 0.0) -> None:
        self.store = store
        self.default_delay = default_delay
        self.executor = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="stacksim-job")
        self._handlers: dict[str, Handler] = {}
        self._inline: set[str] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._running: set[str] = set()
        self._claimed: set[str] = set()
        self._removed: set[str] = set()  # jobs whose handler removed their record (finished_with)
        #: jobs to run in the open transaction before it commits, not written (see schedule)
        self._unwritten: dict[str, dict[str, Any]] = {}
        store.on_rollback(self._unwritten.clear)
        self._tasks: set[asyncio.Task] = set()
        self._owner: dict[str, Settle] = {}  # job -> the call it counts for, while not done
        self._waiters: list[_Waiter] = []
        self._busy_calls = 0  # blocking calls under way in the executor
        self._interrupted = False
        self._idle_event: asyncio.Event | None = None  # set when the last running job ends (interrupt)
        self.generation = 0
        #: a veto on running a job now (fault injection's holds): a job it answers True for
        #: stays in the store, its resource in its transitional state, until :meth:`release`
        self.hold: Callable[[dict[str, Any]], bool] | None = None

    def register(self, action: str, handler: Handler, inline: bool = False) -> None:
        """Run ``handler`` for the jobs of ``action``. ``inline``: it is blocking and quick (it never
        holds a thread for long), so a call's request thread may run it (see :func:`inline_jobs`)."""
        if inline and inspect.iscoroutinefunction(handler):
            raise ValueError(f"{action}: only a blocking handler can run inline")
        self._handlers[action] = handler
        if inline:
            self._inline.add(action)
        else:
            self._inline.discard(action)

    def actions(self) -> list[str]:
        """The names of the jobs the services run (``server.build`` ...), sorted."""
        return sorted(self._handlers)

    def schedule(self, action: str, target: str, delay: float | None = None, **args: Any) -> str:
        """Persist a job and arm its timer (once the loop runs); returns the job id."""
        if action not in self._handlers:
            raise KeyError(f"no handler registered for {action!r}")
        wait = self.default_delay if delay is None else delay
        job = {
            "id": new_hex_id(),  # uuid4().hex without building a UUID
            "action": action,
            "target": target,
            "due": clock.iso(clock.now() + timedelta(seconds=wait)),
            "args": args,
        }
        if wait <= 0:
            with self._lock:
                owner = self._current_owner()
                if owner is not None:
                    self._owner[job["id"]] = owner
                    owner._add(1)
            queue = _INLINE.queue
            # Run inline only what this thread's call (or an inline job of it) schedules: a job
            # another waiter runs here goes the usual way, so nothing waits on this thread.
            if queue is not None and action in self._inline and _JOB.get() == _INLINE.running:
                if self._loop is not None and self.store.in_transaction():
                    # Run it in the transaction that scheduled it, just before that commits: the
                    # call's work and the job's land in one commit, or neither does. Written only
                    # if it does not end there (_write): most never need their record.
                    self._unwritten[job["id"]] = job
                    queue.append((self, job))
                    self.store.before_commit(_run_queued)
                    return job["id"]
                self.store.put(KIND, job)
                if self._loop is not None:  # else start() arms it
                    queue.append((self, job))
                return job["id"]
        self.store.put(KIND, job)
        self._arm(job)
        return job["id"]

    def _write(self, job_id: str) -> None:
        """Write the record of a job scheduled to run before its transaction commits that does not
        end there (so a restart or the executor finds it); nothing if it is written already."""
        job = self._unwritten.pop(job_id, None)
        if job is not None:
            self.store.put(KIND, job)

    def cancel(self, target: str, action: str | None = None) -> None:
        """Forget pending jobs for ``target`` (its timers find no job and do nothing)."""
        for job in self.store.find(KIND, target=target):
            if action is None or job["action"] == action:
                self.store.delete(KIND, job["id"])

    def pending(self, target: str | None = None) -> list[dict[str, Any]]:
        return self.store.find(KIND, target=target) if target else self.store.find(KIND)

    def start(self, loop: asyncio.AbstractEventLoop) -> int:
        """Run on the server's loop from now on; re-arm jobs left by an earlier process."""
        self._loop = loop
        self._interrupted = False
        jobs = self.store.find(KIND)
        for job in jobs:
            self._arm(job)
        if jobs:
            log.info("resuming %d pending job(s)", len(jobs))
        return len(jobs)

    def stop(self) -> None:
        """Arm no more timers; pending jobs stay in the store for the next start."""
        self._loop = None
        self.executor.shutdown(wait=False, cancel_futures=True)

    async def interrupt(self, timeout: float = 10.0) -> bool:
        """Start no new job, wake every waiter with :class:`Interrupted`, and wait until no job runs.

        True if every job stopped in time. Jobs that did not run stay in the
        store (a reset wipes them; a restart runs them).
        """
        loop = asyncio.get_running_loop()
        idle = self._idle_event = asyncio.Event()
        with self._lock:
            self._interrupted = True
            self._wake_locked(None)
        deadline = loop.time() + timeout
        try:
            while True:
                idle.clear()
                with self._lock:
                    if not self._running and not self._busy_calls:
                        return True
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(idle.wait(), remaining)
        finally:
            self._idle_event = None
        log.warning("jobs still running after %.0fs: %s", timeout, sorted(self._running))
        return False

    def resume(self) -> None:
        """After :meth:`interrupt` (a reset): forget what was in flight and run the store's jobs."""
        with self._lock:
            self._interrupted = False
            self._owner.clear()  # the calls they counted for have all been answered (see app.Gate)
            self._claimed.clear()
        for job in self.store.find(KIND):
            self._arm(job)

    def release(self) -> None:
        """Look again at the store's jobs (after a hold ends): those due run now, the others on time."""
        for job in self.store.find(KIND):
            self._arm(job)
        self.changed()

    @property
    def interrupted(self) -> bool:
        return self._interrupted

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block (from another thread) until no job is pending or running."""
        deadline = time.monotonic() + timeout
        while True:
            # The store is read outside this lock: a call's transaction holds the store's lock and
            # takes this one (to schedule, to finish an inline job), so the other order deadlocks.
            pending = self.store.count(KIND)
            with self._idle:
                if not pending and not self._running:
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                # A job's end notifies; one that ended before this wait began is seen on the next look.
                self._idle.wait(min(remaining, 0.05))

    # -- blocking work -----------------------------------------------------------------------

    def call(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Run ``fn(*args)`` in the executor, in the caller's context (so jobs it schedules count right)."""
        loop = asyncio.get_running_loop()
        ctx = contextvars.copy_context()

        def run() -> T:
            with self._lock:
                self._busy_calls += 1
            try:
                return ctx.run(fn, *args)
            finally:
                with self._lock:
                    self._busy_calls -= 1
                    self._poke_idle_locked()

        return loop.run_in_executor(self.executor, run)

    # -- settling HTTP calls -----------------------------------------------------------------

    def settling(self) -> _Settling:
        """Count the jobs due at once that the code inside (an HTTP call) schedules (a context
        manager whose ``as`` target is the :class:`Settle`, or None off the lifecycle's loop)."""
        loop = self._loop
        return _Settling(Settle(loop) if loop is not None and _on_loop(loop) else None)

    async def settle(self, settle: Settle | None, limit: float = SETTLE_LIMIT) -> bool:
        """Wait until the call's jobs are done or waiting (at most ``limit`` s, less what its request
        thread spent running them inline); False if they are not."""
        if settle is None:
            return True
        deadline = settle.loop.time() + max(0.0, limit - settle.spent)
        while True:
            settle.quiet.clear()
            with self._lock:
                if settle.busy <= 0:
                    return True
                settle.waiting = True
            remaining = deadline - settle.loop.time()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(settle.quiet.wait(), remaining)
            except TimeoutError:
                return False

    # -- waiting for states ------------------------------------------------------------------

    def changed(self) -> None:
        """Something may have changed: wake every waiter so it looks again."""
        with self._lock:
            self._wake_locked(self._current_owner())

    def wait_until(
        self, check: Callable[[], T], timeout: float, targets: Iterable[str] = (), what: str = "a state"
    ) -> T:
        """Block (in a worker thread) until ``check()`` gives a true value, and return it.

        Woken by :meth:`changed`, never by polling. A job of ``targets`` that
        is due and not yet started is run here, in this thread. Raises
        TimeoutError after ``timeout`` seconds and :class:`Interrupted` if the
        lifecycle stops. A job run inline in a call's thread does not wait
        there: it goes back to the executor (see :func:`inline_jobs`).
        """
        targets = tuple(targets)
        deadline = time.monotonic() + timeout
        while True:
            if self._interrupted:
                raise Interrupted
            seen = self.generation
            value = check()
            if value:
                return value
            if _INLINE.running is not None and self.store.in_transaction():
                # Run inside its caller's transaction, which holds the store: run no other job
                # there (it would commit with the call) and wait for none; the executor runs it.
                raise _Deferred
            next_due = self._run_due(targets)
            if next_due is None:
                continue  # ran one: look again
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
            if _INLINE.running is not None:
                raise _Deferred  # not in a call's thread: the job goes back to the executor
            event = threading.Event()
            self._park(seen, event.set, min(remaining, next_due), event.wait)

    async def wait_change(self, seen: int, timeout: float | None = None) -> None:
        """On the loop: return once :meth:`changed` ran after generation ``seen``, or after ``timeout``."""
        if self._interrupted:
            raise Interrupted
        loop = asyncio.get_running_loop()
        woken = loop.create_future()

        def wake() -> None:
            loop.call_soon_threadsafe(lambda: woken.done() or woken.set_result(None))

        waiter = self._enter(seen, wake)
        if waiter is None:
            return
        try:
            await asyncio.wait_for(woken, timeout)
        except TimeoutError:
            pass
        finally:
            self._leave(waiter)
        if self._interrupted:
            raise Interrupted

    # -- internals -------------------------------------------------------------------------------

    def _current_owner(self) -> Settle | None:
        """The call new work counts for: the running job's (it may have been woken by another call)."""
        job = _JOB.get()
        return self._owner.get(job) if job is not None else _SETTLE.get()

    def _wake_locked(self, waker: Settle | None) -> None:
        """Wake every waiter; those of jobs count as busy again, for ``waker`` (the call or job
        that made the change) if there is one."""
        self.generation += 1
        for waiter in self._waiters:
            waiter.woken = True
            if waiter.job is not None:
                # The woken job is busy again, on behalf of the call that woke it, if any.
                owner = waker or self._owner.get(waiter.job)
                if owner is not None:
                    self._owner[waiter.job] = owner
                    owner._add(1)
            waiter.wake()
        self._waiters.clear()

    def _enter(self, seen: int, wake: Callable[[], None]) -> _Waiter | None:
        """Register a waiter unless something changed since ``seen``; its job stops counting as busy."""
        waiter = _Waiter(_JOB.get(), wake)
        with self._lock:
            if self.generation != seen or self._interrupted:
                return None
            self._waiters.append(waiter)
            owner = self._owner.get(waiter.job) if waiter.job else None
            if owner is not None:
                owner._add(-1)
        return waiter

    def _leave(self, waiter: _Waiter) -> None:
        with self._lock:
            if waiter.woken:
                return  # _wake_locked counted it busy again
            self._waiters.remove(waiter)
            owner = self._owner.get(waiter.job) if waiter.job else None
            if owner is not None:
                owner._add(1)

    def _park(self, seen: int, wake: Callable[[], None], timeout: float, block: Callable[[float], Any]) -> None:
        waiter = self._enter(seen, wake)
        if waiter is None:
            return
        try:
            block(timeout)
        finally:
            self._leave(waiter)

    def _run_due(self, targets: tuple[str, ...]) -> float | None:
        """Run one due, unstarted, blocking job of ``targets`` here: None if one ran, else the seconds
        until the next of them is due (``inf`` if none is pending)."""
        soonest = math.inf
        for target in targets:
            for job in self.store.find(KIND, target=target):
                wait = (clock.parse(job["due"]) - clock.now()).total_seconds()
                if wait > 0:
                    soonest = min(soonest, wait)
                    continue
                handler = self._handlers.get(job["action"])
                if handler is not None and not inspect.iscoroutinefunction(handler) and self._execute(job["id"]):
                    return None
        return soonest

    def _arm(self, job: dict[str, Any]) -> None:
        loop = self._loop
        if loop is None:
            return  # armed by start()
        delay = max(0.0, (clock.parse(job["due"]) - clock.now()).total_seconds())

        def fire() -> None:
            if self._interrupted or loop.is_closed():
                return  # the job stays in the store
            task = loop.create_task(self._run(job["id"]))
            self._tasks.add(task)  # keep a reference until it is done
            task.add_done_callback(self._tasks.discard)

        if _on_loop(loop):
            loop.call_later(delay, fire)
        else:
            loop.call_soon_threadsafe(loop.call_later, delay, fire)

    def _claim(self, job_id: str) -> dict[str, Any] | None:
        """Take the job to run it (once, whoever asks first); None if it is taken, gone or must wait."""
        with self._lock:
            if self._interrupted or job_id in self._claimed:
                return None
            self._claimed.add(job_id)
        job = self._unwritten.get(job_id) or self.store.get(KIND, job_id)
        if job is None:
            self._finish(job_id)  # cancelled
            return None
        hold = self.hold
        with self._lock:
            if hold is not None and hold(job):
                # Held: it waits in the store for release(); no call waits for it meanwhile.
                self._claimed.discard(job_id)
                owner = self._owner.pop(job_id, None)
                if owner is not None:
                    owner._add(-1)
                return None
            self._running.add(job_id)
        return job

    def finished_with(self, job: dict[str, Any]) -> None:
        """For a handler, in the store transaction that completes its work: remove the job's record
        in that transaction, so the work and the job's end commit together (one commit fewer, and
        a ``kill -9`` cannot leave the work done with its job still pending). If the handler
        raises (its transaction rolls back), the job ends as it would have (its record removed
        once the handler returns: see :meth:`_execute`). Marked at once, not after the commit: a
        job run inside its caller's transaction (:func:`inline_jobs`) ends before that commits."""
        if self._unwritten.pop(job["id"], None) is None:
            self.store.delete(KIND, job["id"])
        self._removed.add(job["id"])

    def _finish(self, job_id: str, remove: bool = True) -> None:
        if remove and job_id not in self._removed and self._unwritten.pop(job_id, None) is None:
            self.store.delete(KIND, job_id)
        self._removed.discard(job_id)
        with self._idle:
            self._running.discard(job_id)
            self._claimed.discard(job_id)
            # A job's end is a change: those it wakes count as busy before it stops counting.
            owner = self._owner.pop(job_id, None)
            self._wake_locked(owner)
            if owner is not None:
                owner._add(-1)
            self._idle.notify_all()
            self._poke_idle_locked()

    def _poke_idle_locked(self) -> None:
        event, loop = self._idle_event, self._loop
        if event is not None and loop is not None and not self._running and not self._busy_calls:
            loop.call_soon_threadsafe(event.set)

    def _execute(self, job_id: str) -> bool:
        """Claim and run a blocking job in this thread; False if someone else has it."""
        job = self._claim(job_id)
        if job is None:
            return False
        token = _JOB.set(job_id)
        remove, deferred = True, False
        try:
            self._handlers[job["action"]](job)
        except _Deferred:
            deferred = True
        except Interrupted:
            remove = False
        except Exception:
            self._removed.discard(job_id)  # a finished_with of it rolled back: remove the record
            if self.store.in_transaction():
                # Run inside its caller's transaction (inline_jobs): what it half wrote cannot be
                # undone alone, so the caller's whole transaction rolls back with it.
                raise
            # The handler owns the resource's error state; a job that keeps
            # failing must not be retried forever.
            log.exception("job %s (%s on %s) failed", job_id, job["action"], job["target"])
        finally:
            _JOB.reset(token)
            if deferred:
                self._defer(job)
            else:
                self._finish(job_id, remove)
        return True

    def _run_inline(self, job: dict[str, Any]) -> None:
        """Run a job :func:`inline_jobs` queued, in this (a call's) thread."""
        _INLINE.running = job["id"]
        try:
            self._execute(job["id"])
        finally:
            _INLINE.running = None
            # Not ended (held, deferred, interrupted, not run): it stays, so it needs its record.
            self._write(job["id"])

    def _defer(self, job: dict[str, Any]) -> None:
        """A job run inline had to wait: unclaim it, and arm it as any other. It still counts for its
        call (the executor's run stops counting when it waits), and stays in the store."""
        with self._idle:
            self._running.discard(job["id"])
            self._claimed.discard(job["id"])
            self._idle.notify_all()
            self._poke_idle_locked()
        if self.store.in_transaction():  # run inside its caller's: armed once that has committed
            self.store.after_commit(lambda: self._arm(job))
        else:
            self._arm(job)

    async def _run(self, job_id: str) -> None:
        if self._interrupted:
            return  # stopping: the job stays in the store
        job = self.store.get(KIND, job_id)
        if job is None:
            self._finish(job_id, remove=False)  # cancelled
            return
        handler = self._handlers.get(job["action"])
        if handler is None:
            log.error("no handler for job %s (%s); dropping it", job_id, job["action"])
            self._finish(job_id)
        elif inspect.iscoroutinefunction(handler):
            await self._run_async(job_id, handler)
        else:
            await self.call(self._execute, job_id)

    async def _run_async(self, job_id: str, handler: Handler) -> None:
        job = self._claim(job_id)
        if job is None:
            return
        _JOB.set(job_id)  # this task's own context
        remove = True
        try:
            await handler(job)  # type: ignore[misc]
        except Interrupted:
            remove = False
        except Exception:
            log.exception("job %s (%s on %s) failed", job_id, job["action"], job["target"])
        finally:
            self._finish(job_id, remove)


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
