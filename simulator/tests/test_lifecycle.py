"""The lifecycle runs scheduled jobs on the loop, and resumes persisted ones after a restart."""

from __future__ import annotations

import asyncio

from stacksim.lifecycle import Lifecycle
from stacksim.store import Store


def test_jobs_run_after_their_delay_and_are_removed():
    store = Store()
    seen: list[tuple[str, dict]] = []

    async def scenario() -> None:
        life = Lifecycle(store, default_delay=0.01)
        done = asyncio.Event()

        async def handler(job: dict) -> None:
            seen.append((job["target"], job["args"]))
            done.set()

        life.register("thing.build", handler)
        life.start(asyncio.get_running_loop())
        life.schedule("thing.build", "t1", size=3)
        await asyncio.wait_for(done.wait(), 5)
        await asyncio.sleep(0)  # let the job's clean-up finish

    asyncio.run(scenario())
    assert seen == [("t1", {"size": 3})]
    assert store.find("job") == []


def test_pending_jobs_survive_a_restart_and_blocking_handlers_run_in_a_thread(tmp_path):
    db = str(tmp_path / "s.db")
    first = Lifecycle(Store(db))
    first.register("thing.build", lambda job: None)
    first.schedule("thing.build", "t2", delay=0.0)  # never armed: no loop yet, as if the process died
    assert len(Store(db).find("job")) == 1

    ran: list[str] = []

    async def scenario() -> None:
        life = Lifecycle(Store(db))
        life.register("thing.build", lambda job: ran.append(job["target"]))
        assert life.start(asyncio.get_running_loop()) == 1
        for _ in range(200):
            if not life.pending():
                break
            await asyncio.sleep(0.01)

    asyncio.run(scenario())
    assert ran == ["t2"]


def test_cancelled_jobs_do_not_run():
    store = Store()
    ran: list[str] = []

    async def scenario() -> None:
        life = Lifecycle(store, default_delay=0.02)
        life.register("thing.build", lambda job: ran.append(job["target"]))
        life.start(asyncio.get_running_loop())
        life.schedule("thing.build", "t3")
        life.cancel("t3")
        await asyncio.sleep(0.1)

    asyncio.run(scenario())
    assert ran == []
