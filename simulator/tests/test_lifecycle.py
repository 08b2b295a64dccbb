"""The lifecycle runs scheduled jobs on the loop, resumes persisted ones after a restart, lets a call
settle the jobs it set going, and wakes waiting work on changes instead of polling."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from stacksim.lifecycle import Interrupted, Lifecycle
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
        await asyncio.to_thread(life.wait_idle, 5)

    asyncio.run(scenario())
    assert seen == [("t1", {"size": 3})]
    assert store.find("job") == []


def test_pending_jobs_survive_a_restart_and_blocking_handlers_run_in_a_thread(tmp_path):
    db = str(tmp_path / "s.db")
    first = Lifecycle(Store(db))
    first.register("thing.build", lambda job: None)
    first.schedule("thing.build", "t2", delay=0.0)  # never armed: no loop yet, as if the process died
    assert len(Store(db).find("job")) == 1

    ran: list[tuple[str, bool]] = []

    async def scenario() -> None:
        life = Lifecycle(Store(db))
        life.register("thing.build", lambda job: ran.append((job["target"], threading.current_thread().name)))
        assert life.start(asyncio.get_running_loop()) == 1
        assert await asyncio.to_thread(life.wait_idle, 5)

    asyncio.run(scenario())
    assert [target for target, _ in ran] == ["t2"]
    assert ran[0][1].startswith("stacksim-job")


def test_wait_idle_does_not_deadlock_with_a_transaction_that_schedules():
    # A call's transaction holds the store's lock and takes the lifecycle's (to schedule a job):
    # wait_idle, meanwhile, must not hold the lifecycle's lock while it waits for the store.
    store = Store()
    life = Lifecycle(store)
    life.register("thing.build", lambda job: None)
    in_transaction = threading.Event()

    def call() -> None:
        with store.transaction():
            in_transaction.set()
            deadline = time.monotonic() + 0.3
            while not life._lock.locked() and time.monotonic() < deadline:  # let wait_idle take it, if it would
                time.sleep(0.005)
            life.schedule("thing.build", "t3", delay=0.0)

    caller = threading.Thread(target=call, daemon=True)
    caller.start()
    assert in_transaction.wait(5)
    waiter = threading.Thread(target=life.wait_idle, args=(1,), daemon=True)
    waiter.start()
    caller.join(5)
    assert not caller.is_alive(), "the transaction and wait_idle deadlocked"
    waiter.join(5)
    assert not waiter.is_alive()
    assert [job["target"] for job in store.find("job")] == ["t3"]


def test_cancelled_jobs_do_not_run():
    store = Store()
    ran: list[str] = []

    async def scenario() -> None:
        life = Lifecycle(store, default_delay=0.02)
        life.register("thing.build", lambda job: ran.append(job["target"]))
        life.start(asyncio.get_running_loop())
        life.schedule("thing.build", "t3")
        life.cancel("t3")
        life.schedule("thing.build", "t4")  # armed with the same delay, after it
        assert await asyncio.to_thread(life.wait_idle, 5)

    asyncio.run(scenario())
    assert ran == ["t4"]


def test_a_call_settles_the_jobs_it_set_going_and_theirs():
    ran: list[str] = []

    async def scenario() -> None:
        life = Lifecycle(Store())
        life.register("second", lambda job: ran.append("second"))

        def first(job: dict) -> None:
            ran.append("first")
            life.schedule("second", "t")

        life.register("first", first)
        life.start(asyncio.get_running_loop())
        with life.settling() as settle:
            life.schedule("first", "t")
        assert await life.settle(settle, limit=10)
        assert ran == ["first", "second"]  # both done before the call would answer

    asyncio.run(scenario())


def test_a_call_does_not_wait_for_held_work():
    ran: list[str] = []

    async def scenario() -> None:
        life = Lifecycle(Store())
        life.register("held", lambda job: ran.append("held"))

        def waiter(job: dict) -> None:
            life.schedule("held", "h", delay=60)  # a hold: not due at once
            life.wait_until(lambda: "held" in ran, 120, targets=("h",))
            ran.append("waiter")

        life.register("waiter", waiter)
        life.start(asyncio.get_running_loop())
        with life.settling() as settle:
            life.schedule("waiter", "w")
        assert await life.settle(settle, limit=30)  # answered while the waiter waits for the held job
        assert ran == []
        assert await life.interrupt(timeout=10)
        assert sorted(j["target"] for j in life.pending()) == ["h", "w"]

    asyncio.run(scenario())


def test_a_waiting_thread_runs_the_job_it_waits_for_when_no_worker_is_free():
    ran: list[str] = []

    async def scenario() -> None:
        life = Lifecycle(Store())
        life.executor = ThreadPoolExecutor(max_workers=1)  # the waiter holds the only worker
        made = threading.Event()
        life.register("volume", lambda job: (ran.append(threading.current_thread().name), made.set()))

        def build(job: dict) -> None:
            life.schedule("volume", "v1")
            life.wait_until(made.is_set, 10, targets=("v1",))
            ran.append("built")

        life.register("build", build)
        life.start(asyncio.get_running_loop())
        with life.settling() as settle:
            life.schedule("build", "s1")
        assert await life.settle(settle, limit=10)

    asyncio.run(scenario())
    assert len(ran) == 2 and ran[1] == "built"


def test_interrupt_stops_waiting_work_and_keeps_its_job(tmp_path):
    db = str(tmp_path / "s.db")
    outcome: list[str] = []

    async def scenario() -> None:
        life = Lifecycle(Store(db))
        started = threading.Event()

        def forever(job: dict) -> None:
            started.set()
            try:
                life.wait_until(lambda: False, 60)
            except Interrupted:
                outcome.append("interrupted")
                raise

        life.register("forever", forever)
        life.start(asyncio.get_running_loop())
        life.schedule("forever", "f")
        assert await asyncio.to_thread(started.wait, 10)
        assert await life.interrupt(timeout=10)

    asyncio.run(scenario())
    assert outcome == ["interrupted"]
    assert [j["target"] for j in Store(db).find("job")] == ["f"]  # a restart runs it again


def test_a_job_finished_with_in_its_handlers_transaction_ends_with_it():
    store = Store()
    statements: list[str] = []

    async def scenario() -> None:
        life = Lifecycle(store)

        def handler(job: dict) -> None:
            with store.transaction():
                store.put("thing", {"id": job["target"], "built": True})
                life.finished_with(job)
                if job["target"] == "undone":
                    raise RuntimeError("the work rolls back, and the job's removal with it")

        life.register("thing.build", handler)
        life.start(asyncio.get_running_loop())
        store._db.set_trace_callback(statements.append)
        life.schedule("thing.build", "done")
        assert await asyncio.to_thread(life.wait_idle, 5)
        store._db.set_trace_callback(None)
        life.schedule("thing.build", "undone")
        assert await asyncio.to_thread(life.wait_idle, 5)

    asyncio.run(scenario())
    assert store.find("job") == []  # both ended: one with its work, one as a failed job does
    assert store.get("thing", "done") == {"id": "done", "built": True}
    assert store.get("thing", "undone") is None
    deletes = [i for i, s in enumerate(statements) if s.startswith("DELETE")]
    assert len(deletes) == 1  # the job's record was removed once, before its transaction's COMMIT
    assert statements[deletes[0] + 1 :].count("COMMIT") == 1
