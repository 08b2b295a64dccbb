"""Asynchronous status transitions (server BUILD -> ACTIVE, volume creating -> available ...).

A service *schedules* a job: an action name, the id of the thing it acts on,
a delay and a few arguments. The job is written to the store first, so a job
that was pending when the process died is run when the next one starts: a
build finishes or fails, it is never left stuck. Handlers are registered by
the services under the action's name; a handler must be idempotent, because
a crash between its work and the job's removal runs it again.

Timers are ``loop.call_later`` on the server's event loop (no polling).
Blocking handlers (a Docker call, a file copy) run in a worker thread.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from stacksim import clock
from stacksim.store import Store

log = logging.getLogger("stacksim.lifecycle")

Handler = Callable[[dict[str, Any]], Awaitable[None] | None]
KIND = "job"


class Lifecycle:
    def __init__(self, store: Store, default_delay: float = 0.2) -> None:
        self.store = store
        self.default_delay = default_delay
        self._handlers: dict[str, Handler] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running: set[str] = set()
        self._tasks: set[asyncio.Task] = set()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)

    def register(self, action: str, handler: Handler) -> None:
        self._handlers[action] = handler

    def schedule(self, action: str, target: str, delay: float | None = None, **args: Any) -> str:
        """Persist a job and arm its timer (once the loop runs); returns the job id."""
        if action not in self._handlers:
            raise KeyError(f"no handler registered for {action!r}")
        wait = self.default_delay if delay is None else delay
        job = {
            "id": uuid.uuid4().hex,
            "action": action,
            "target": target,
            "due": clock.iso(clock.now() + timedelta(seconds=wait)),
            "args": args,
        }
        self.store.put(KIND, job)
        self._arm(job)
        return job["id"]

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
        jobs = self.store.find(KIND)
        for job in jobs:
            self._arm(job)
        if jobs:
            log.info("resuming %d pending job(s)", len(jobs))
        return len(jobs)

    def stop(self) -> None:
        self._loop = None  # pending jobs stay in the store for the next start

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block (from another thread) until no job is pending or running."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._running and not self.store.count(KIND), timeout)

    # -- internals -------------------------------------------------------------

    def _arm(self, job: dict[str, Any]) -> None:
        loop = self._loop
        if loop is None:
            return  # armed by start()
        delay = max(0.0, (clock.parse(job["due"]) - clock.now()).total_seconds())

        def fire() -> None:
            task = loop.create_task(self._run(job["id"]))
            self._tasks.add(task)  # keep a reference until it is done
            task.add_done_callback(self._tasks.discard)

        if _on_loop(loop):
            loop.call_later(delay, fire)
        else:
            loop.call_soon_threadsafe(loop.call_later, delay, fire)

    async def _run(self, job_id: str) -> None:
        job = self.store.get(KIND, job_id)
        if job is None:
            return  # cancelled
        handler = self._handlers.get(job["action"])
        with self._lock:
            self._running.add(job_id)
        try:
            if handler is None:
                log.error("no handler for job %s (%s); dropping it", job_id, job["action"])
            elif inspect.iscoroutinefunction(handler):
                await handler(job)
            else:
                await asyncio.to_thread(handler, job)
        except Exception:
            # The handler owns the resource's error state; a job that keeps
            # failing must not be retried forever.
            log.exception("job %s (%s on %s) failed", job_id, job["action"], job["target"])
        finally:
            self.store.delete(KIND, job_id)
            with self._idle:
                self._running.discard(job_id)
                self._idle.notify_all()


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
