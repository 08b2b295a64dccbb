"""How a handler is handed to a request thread (``web.off_loop``): never on the server's loop,
with the caller's context variables, inside ``lifecycle.inline_jobs``; a handler that suspends on
real work still finishes, and its answer, exception or the caller's cancellation go where they
should."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from typing import Any

import pytest

from stacksim import lifecycle, web

WHO = contextvars.ContextVar[str]("WHO", default="nobody")


def _where() -> dict[str, Any]:
    return {
        "thread": threading.current_thread().name,
        "who": WHO.get(),
        "inline": lifecycle._INLINE.queue is not None,
    }


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_a_handler_that_never_suspends_runs_in_a_request_thread_with_the_callers_context() -> None:
    async def handler() -> dict[str, Any]:
        return _where()

    async def scenario() -> dict[str, Any]:
        WHO.set("caller")
        return await web.off_loop(handler())

    seen = _run(scenario())
    assert seen == {"thread": seen["thread"], "who": "caller", "inline": True}
    assert seen["thread"].startswith("stacksim-request")


def test_a_handler_that_suspends_on_real_work_finishes_on_a_task_of_its_threads_loop() -> None:
    callers: list[asyncio.AbstractEventLoop] = []

    async def handler() -> list[Any]:
        loop = asyncio.get_running_loop()
        steps: list[Any] = [_where()]
        await asyncio.sleep(0)  # a bare turn
        steps.append(await asyncio.to_thread(lambda: threading.current_thread().name))
        waited = loop.create_future()
        loop.call_later(0.01, waited.set_result, "timer")
        steps.append(await waited)  # a future of the thread's own loop, done by its timer
        steps.append(_where())
        steps.append(asyncio.current_task() is not None)
        steps.append(loop is not callers[0])
        return steps

    async def scenario() -> list[Any]:
        callers.append(asyncio.get_running_loop())
        WHO.set("caller")
        return await web.off_loop(handler())

    first, helper, timer, after, in_task, own_loop = _run(scenario())
    assert first["thread"].startswith("stacksim-request") and first["who"] == "caller" and first["inline"]
    assert not helper.startswith("stacksim-request")  # to_thread ran elsewhere while the handler waited
    assert timer == "timer"
    assert after == first  # same thread, context and inline_jobs after it resumed
    assert in_task and own_loop


@pytest.mark.parametrize("suspends", [False, True], ids=["at-once", "after-suspending"])
def test_a_handlers_exception_reaches_the_caller(suspends: bool) -> None:
    class Broken(Exception):
        pass

    async def handler() -> None:
        if suspends:
            await asyncio.to_thread(lambda: None)
        raise Broken("the handler failed")

    async def scenario() -> None:
        await web.off_loop(handler())

    with pytest.raises(Broken, match="the handler failed"):
        _run(scenario())


def test_what_a_handler_sets_in_its_context_stays_out_of_the_callers() -> None:
    async def handler() -> str:
        WHO.set("handler")
        await asyncio.sleep(0)
        return WHO.get()

    async def scenario() -> tuple[str, str]:
        WHO.set("caller")
        inside = await web.off_loop(handler())
        return inside, WHO.get()

    assert _run(scenario()) == ("handler", "caller")


def test_a_cancelled_caller_gets_its_cancellation_and_the_thread_serves_the_next_call() -> None:
    """A client that goes away cancels the await on the loop; the handler, already running in its
    thread, finishes there and its answer is dropped, and the threads keep serving."""
    entered, release, finished = threading.Event(), threading.Event(), threading.Event()

    async def stuck() -> str:
        entered.set()
        await asyncio.to_thread(release.wait, 10)
        finished.set()
        return "late"

    async def quick() -> str:
        return "next"

    async def scenario() -> str:
        call = asyncio.ensure_future(web.off_loop(stuck()))
        assert await asyncio.to_thread(entered.wait, 10)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        release.set()
        assert await asyncio.to_thread(finished.wait, 10)
        return await web.off_loop(quick())

    assert _run(scenario()) == "next"


def test_many_concurrent_calls_each_get_their_own_answer() -> None:
    async def handler(n: int) -> tuple[int, str]:
        if n % 3 == 0:
            await asyncio.sleep(0)
        return n, WHO.get()

    async def one(n: int) -> tuple[int, str]:
        WHO.set(f"caller {n}")
        return await web.off_loop(handler(n))

    async def scenario() -> list[tuple[int, str]]:
        return await asyncio.gather(*(one(n) for n in range(200)))

    assert _run(scenario()) == [(n, f"caller {n}") for n in range(200)]
