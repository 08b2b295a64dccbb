"""One request thread runs the calls at a time (``web._Relay``), and none holds the others up: a
handler that suspends hands the running on, and one that blocks its thread is left to finish on
its own once a call has waited ``web.STALL`` behind it."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from stacksim import web


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_calls_run_one_at_a_time_in_the_order_they_came() -> None:
    running, most, order = 0, 0, []
    guard = threading.Lock()

    async def handler(n: int) -> int:
        nonlocal running, most
        with guard:
            running += 1
            most = max(most, running)
            order.append(n)
        sum(range(2000))  # some work: tens of microseconds
        with guard:
            running -= 1
        return n

    async def scenario() -> list[int]:
        return await asyncio.gather(*(web.off_loop(handler(n)) for n in range(200)))

    handovers = web._relay.handovers
    assert _run(scenario()) == list(range(200))
    if web._relay.handovers == handovers:  # (a runner descheduled for STALL on a loaded machine hands over)
        assert most == 1 and order == list(range(200))
    else:
        assert most <= 1 + web._relay.handovers - handovers


def test_a_handler_that_blocks_its_thread_does_not_hold_up_the_calls_behind_it() -> None:
    release, entered = threading.Event(), threading.Event()

    async def blocking() -> str:
        entered.set()
        release.wait(10)  # blocks the thread without suspending
        return "blocked"

    async def quick(n: int) -> int:
        return n

    async def scenario() -> tuple[list[int], bool, str]:
        first = asyncio.ensure_future(web.off_loop(blocking()))
        assert await asyncio.to_thread(entered.wait, 10)
        behind = await asyncio.gather(*(web.off_loop(quick(n)) for n in range(5)))
        still_blocked = not first.done()
        release.set()
        return behind, still_blocked, await first

    handovers = web._relay.handovers
    assert _run(scenario()) == ([0, 1, 2, 3, 4], True, "blocked")
    # Another thread took over (more than once only if a new runner is descheduled for STALL
    # with calls behind it, as a loaded machine may do).
    assert web._relay.handovers >= handovers + 1


def test_two_blocked_handlers_in_a_row_each_get_left_behind() -> None:
    release = threading.Event()
    entered = [threading.Event(), threading.Event()]

    async def blocking(n: int) -> str:
        entered[n].set()
        release.wait(10)
        return f"blocked {n}"

    async def quick() -> str:
        return "quick"

    async def scenario() -> list[str]:
        calls = [asyncio.ensure_future(web.off_loop(blocking(n))) for n in (0, 1)]
        last = asyncio.ensure_future(web.off_loop(quick()))
        answer = await last  # behind two stuck calls, queued before either stuck
        assert entered[0].is_set() and entered[1].is_set() and not any(c.done() for c in calls)
        release.set()
        return [answer, *(await asyncio.gather(*calls))]

    assert _run(scenario()) == ["quick", "blocked 0", "blocked 1"]


def test_a_handler_that_suspends_hands_the_running_on_at_once() -> None:
    release, suspended = threading.Event(), threading.Event()

    def wait_elsewhere() -> str:
        suspended.set()  # runs once the handler has suspended (and handed the running on)
        release.wait(10)
        return "waited"

    async def waiting() -> str:
        return await asyncio.to_thread(wait_elsewhere)

    async def quick() -> str:
        return "quick"

    async def scenario() -> tuple[str, str]:
        first = asyncio.ensure_future(web.off_loop(waiting()))
        assert await asyncio.to_thread(suspended.wait, 10)
        second = await web.off_loop(quick())
        release.set()
        return second, await first

    handovers = web._relay.handovers
    assert _run(scenario()) == ("quick", "waited")
    assert web._relay.handovers == handovers  # no watch had to step in (no call ever waited behind another)


def test_a_watch_left_on_a_stopped_loop_does_not_keep_the_next_loops_calls_unwatched() -> None:
    async def quick() -> str:
        return "quick"

    stopped = asyncio.new_event_loop()
    try:
        # A call arms the watch on this loop, which then stops (not closed) before it fires.
        assert stopped.run_until_complete(web.off_loop(quick())) == "quick"
        release, entered = threading.Event(), threading.Event()

        async def blocking() -> str:
            entered.set()
            release.wait(10)
            return "blocked"

        async def scenario() -> tuple[str, bool, str]:
            first = asyncio.ensure_future(web.off_loop(blocking()))
            assert await asyncio.to_thread(entered.wait, 10)
            second = await web.off_loop(quick())  # a watch on this loop hands the running on
            still_blocked = not first.done()
            release.set()
            return second, still_blocked, await first

        assert _run(scenario()) == ("quick", True, "blocked")
    finally:
        stopped.close()
