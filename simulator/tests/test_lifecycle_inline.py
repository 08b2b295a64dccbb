"""Quick jobs a call schedules due at once (a fake server's build) run in the call's request thread
right after its handler, keeping what the usual path guarantees: the job is in the store first (one
run just before its transaction commits is written there unless it ends), claims are exclusive,
holds and interrupts keep it, the call's settling counts it, and a job that has to wait goes back
to the executor instead of holding the call."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from openstack.exceptions import HttpException

from stacksim import lifecycle, web
from stacksim.config import Settings
from stacksim.lifecycle import Lifecycle
from stacksim.store import Store
from stacksim.testing import Simulator, free_port, wait_until

REQUEST = "stacksim-request"
JOB = "stacksim-job"


def _thread() -> str:
    return threading.current_thread().name


async def _call(life: Lifecycle, work: Callable[[], Any]) -> Any:
    """``work`` run as an HTTP call's handler runs (in a request thread, via ``web.off_loop``); once
    that returns, the call's jobs must be settled: nothing of it may still be busy."""

    async def handler() -> Any:
        return work()

    with life.settling() as settle:
        try:
            return await web.off_loop(handler())
        finally:
            assert settle is not None and await life.settle(settle, limit=10)


def _lifecycle(store: Store | None = None) -> tuple[Lifecycle, list[tuple[str, str]]]:
    life = Lifecycle(store or Store())
    ran: list[tuple[str, str]] = []
    life.start(asyncio.get_running_loop())
    return life, ran


def test_a_quick_job_and_the_ones_it_schedules_run_in_the_calls_thread_before_it_answers():
    async def scenario() -> None:
        life, ran = _lifecycle()
        seen: list[int] = []

        def build(job: dict) -> None:
            seen.append(len(life.pending(job["target"])))  # its record is in the store while it runs
            ran.append(("build", _thread()))
            life.schedule("boot", job["target"])

        life.register("build", build, inline=True)
        life.register("boot", lambda job: ran.append(("boot", _thread())), inline=True)

        def handler() -> str:
            life.schedule("build", "s1")
            assert ran == []  # after the handler, not in the middle of it
            return _thread()

        thread = await _call(life, handler)
        assert thread.startswith(REQUEST)
        assert ran == [("build", thread), ("boot", thread)]
        assert seen == [1]
        assert life.pending() == []

    asyncio.run(scenario())


def test_a_job_scheduled_by_a_handler_that_then_fails_still_runs():
    async def scenario() -> None:
        life, ran = _lifecycle()
        life.register("build", lambda job: ran.append(("build", _thread())), inline=True)

        def handler() -> None:
            life.schedule("build", "s1")
            raise ValueError("refused after scheduling")

        with pytest.raises(ValueError, match="refused after scheduling"):
            await _call(life, handler)
        assert [what for what, _ in ran] == ["build"] and ran[0][1].startswith(REQUEST)
        assert life.pending() == []

    asyncio.run(scenario())


def test_a_job_cancelled_before_the_handler_returns_does_not_run():
    async def scenario() -> None:
        life, ran = _lifecycle()
        life.register("build", lambda job: ran.append(("build", job["target"])), inline=True)

        def handler() -> None:
            life.schedule("build", "gone")
            life.cancel("gone")
            life.schedule("build", "kept")

        await _call(life, handler)
        assert ran == [("build", "kept")]

    asyncio.run(scenario())


def test_a_held_job_is_not_run_inline_and_runs_after_release():
    async def scenario() -> None:
        life, ran = _lifecycle()
        life.register("build", lambda job: ran.append(("build", _thread())), inline=True)
        life.hold = lambda job: job["target"] == "s1"

        await _call(life, lambda: life.schedule("build", "s1"))  # answers: a held job is nobody's wait
        assert ran == []
        assert [job["target"] for job in life.pending()] == ["s1"]

        life.hold = None
        life.release()
        assert await asyncio.to_thread(life.wait_idle, 10)
        assert [what for what, _ in ran] == ["build"] and ran[0][1].startswith(JOB)

    asyncio.run(scenario())


@pytest.mark.parametrize("in_transaction", [False, True])
def test_an_interrupted_lifecycle_runs_nothing_inline_and_keeps_the_job(tmp_path, in_transaction):
    db = str(tmp_path / "s.db")

    async def scenario() -> None:
        life, ran = _lifecycle(Store(db))
        life.register("build", lambda job: ran.append(("build", _thread())), inline=True)
        assert await life.interrupt(timeout=10)

        async def handler() -> None:
            with life.store.transaction() if in_transaction else contextlib.nullcontext():
                life.schedule("build", "s1")

        await web.off_loop(handler())  # no settling here: a reset holds calls off meanwhile
        assert ran == []
        assert [job["target"] for job in Store(db).find("job")] == ["s1"]  # the next start runs it

        life.resume()
        assert await asyncio.to_thread(life.wait_idle, 10)
        assert [what for what, _ in ran] == ["build"]

    asyncio.run(scenario())


def test_a_job_not_registered_inline_goes_through_the_executor():
    async def scenario() -> None:
        life, ran = _lifecycle()
        life.register("docker.build", lambda job: ran.append(("docker.build", _thread())))  # slow: not inline

        await _call(life, lambda: life.schedule("docker.build", "s1"))
        assert [what for what, _ in ran] == ["docker.build"] and ran[0][1].startswith(JOB)

    asyncio.run(scenario())


def test_jobs_left_when_the_settle_limit_is_spent_go_through_the_executor(monkeypatch):
    monkeypatch.setattr(lifecycle, "SETTLE_LIMIT", 0.0)  # spent before the first job

    async def scenario() -> None:
        life, ran = _lifecycle()
        life.register("build", lambda job: ran.append(("build", _thread())), inline=True)

        await _call(life, lambda: life.schedule("build", "s1"))  # still settled: the executor ran it
        assert [what for what, _ in ran] == ["build"] and ran[0][1].startswith(JOB)

    asyncio.run(scenario())


def test_the_time_inline_jobs_took_counts_against_the_calls_settle_wait():
    """A call waits for its jobs SETTLE_LIMIT in all, not that long inline and that long again."""

    async def scenario() -> None:
        life, ran = _lifecycle()

        def build(job: dict) -> None:
            time.sleep(0.3)  # the call's whole allowance (0.3 s below) goes on this inline run
            life.schedule("boot", job["target"])

        life.register("build", build, inline=True)
        life.register("boot", lambda job: (time.sleep(0.1), ran.append(("boot", _thread()))))  # executor

        async def handler() -> None:
            life.schedule("build", "s1")

        with life.settling() as settle:
            await web.off_loop(handler())
            assert settle is not None and settle.spent >= 0.3
            # Nothing is left of the allowance: the answer does not wait for the boot.
            assert await life.settle(settle, limit=0.3) is False
        assert await asyncio.to_thread(life.wait_idle, 10)
        assert [what for what, _ in ran] == ["boot"]

    asyncio.run(scenario())


def test_a_quick_job_scheduled_in_a_transaction_runs_just_before_it_commits_and_commits_with_it():
    """A fake server's create and its build: one commit, and the job, ended before it, never written."""

    async def scenario() -> None:
        life, ran = _lifecycle()
        store = life.store

        def build(job: dict) -> None:
            assert store.in_transaction() and store.get("server", job["target"])["status"] == "BUILD"
            ran.append(("build", _thread()))
            with store.transaction():
                store.put("server", {"id": job["target"], "status": "ACTIVE"})
                life.finished_with(job)

        life.register("build", build, inline=True)
        statements: list[str] = []

        def handler() -> None:
            store._db.set_trace_callback(statements.append)
            with store.transaction():
                store.put("server", {"id": "s1", "status": "BUILD"})
                life.schedule("build", "s1")
                assert ran == []  # not in the middle of the transaction: at its end
            ran.append(("committed", _thread()))
            store._db.set_trace_callback(None)

        written = store.writes(["job"])
        await _call(life, handler)
        assert store.writes(["job"]) == written  # no record of it came and went
        assert [what for what, _ in ran] == ["build", "committed"] and ran[0][1].startswith(REQUEST)
        assert statements.count("COMMIT") == 1 and statements.count("BEGIN IMMEDIATE") == 1
        assert store.get("server", "s1")["status"] == "ACTIVE" and life.pending() == []
        assert not life._removed  # nothing kept of the job once it ended

    asyncio.run(scenario())


def test_a_quick_job_that_fails_inside_the_calls_transaction_takes_the_whole_transaction_back():
    """What it half wrote cannot be undone alone: the call fails and leaves nothing (no job either)."""

    async def scenario() -> None:
        life, _ = _lifecycle()
        store = life.store

        def build(job: dict) -> None:
            store.put("server", {"id": job["target"], "status": "half built"})
            raise RuntimeError("a bug in the build")

        life.register("build", build, inline=True)

        def handler() -> None:
            with store.transaction():
                store.put("server", {"id": "s1", "status": "BUILD"})
                life.schedule("build", "s1")

        with pytest.raises(RuntimeError, match="a bug in the build"):
            await _call(life, handler)
        assert store.get("server", "s1") is None and life.pending() == []
        assert await asyncio.to_thread(life.wait_idle, 10)

    asyncio.run(scenario())


def test_a_quick_job_that_must_wait_inside_the_calls_transaction_goes_to_the_executor_after_the_commit():
    """It neither waits nor runs another job while the transaction holds the store."""

    async def scenario() -> None:
        life, ran = _lifecycle()
        store = life.store
        ready = threading.Event()

        def volume(job: dict) -> None:
            ran.append(("volume", _thread()))
            ready.set()
            life.changed()

        def build(job: dict) -> None:
            ran.append(("attempt", _thread()))
            life.wait_until(ready.is_set, 30, targets=["v1"], what="the volume")
            ran.append(("built", _thread()))

        life.register("build", build, inline=True)
        life.register("volume", volume)  # blocking, not inline: a waiter may run it itself

        def handler() -> None:
            with store.transaction():
                life.schedule("volume", "v1")
                life.schedule("build", "s1")

        await _call(life, handler)  # settled: both ran in job threads, after the commit
        assert ran[0] == ("attempt", ran[0][1]) and ran[0][1].startswith(REQUEST)
        assert all(thread.startswith(JOB) for _, thread in ran[1:])
        assert {what for what, _ in ran[1:]} >= {"volume", "built"} and ran[-1][0] == "built"
        assert life.pending() == []

    asyncio.run(scenario())


def test_jobs_scheduled_in_a_transaction_past_the_settle_limit_go_through_the_executor(monkeypatch):
    monkeypatch.setattr(lifecycle, "SETTLE_LIMIT", 0.0)  # spent before the first job

    async def scenario() -> None:
        life, ran = _lifecycle()
        life.register("build", lambda job: ran.append(("build", _thread())), inline=True)

        def handler() -> None:
            with life.store.transaction():
                life.schedule("build", "s1")

        await _call(life, handler)  # still settled: the executor ran it
        assert [what for what, _ in ran] == ["build"] and ran[0][1].startswith(JOB)

    asyncio.run(scenario())


def test_a_held_job_scheduled_in_a_transaction_commits_with_it_and_waits_for_release():
    async def scenario() -> None:
        life, ran = _lifecycle()
        life.register("build", lambda job: ran.append(("build", _thread())), inline=True)
        life.hold = lambda job: True

        def handler() -> None:
            with life.store.transaction():
                life.schedule("build", "s1")

        await _call(life, handler)
        assert ran == [] and [job["target"] for job in life.pending()] == ["s1"]
        life.hold = None
        life.release()
        assert await asyncio.to_thread(life.wait_idle, 10)
        assert [what for what, _ in ran] == ["build"] and ran[0][1].startswith(JOB)

    asyncio.run(scenario())


def test_only_blocking_handlers_can_run_inline():
    life = Lifecycle(Store())

    async def build(job: dict) -> None:
        pass

    with pytest.raises(ValueError, match="only a blocking handler"):
        life.register("build", build, inline=True)


def test_a_job_due_later_is_not_run_inline():
    async def scenario() -> None:
        life, ran = _lifecycle()
        life.default_delay = 0.05  # --delay
        life.register("build", lambda job: ran.append(("build", _thread())), inline=True)

        await _call(life, lambda: life.schedule("build", "s1"))  # answers at once: states move in real time
        assert await asyncio.to_thread(life.wait_idle, 10)
        assert [what for what, _ in ran] == ["build"] and ran[0][1].startswith(JOB)

    asyncio.run(scenario())


def test_an_inline_job_that_must_wait_goes_back_to_the_executor_and_the_call_answers():
    async def scenario() -> None:
        life, ran = _lifecycle()
        ready = threading.Event()

        def build(job: dict) -> None:
            ran.append(("attempt", _thread()))
            life.wait_until(ready.is_set, 30, what="the volume")
            ran.append(("built", _thread()))

        life.register("build", build, inline=True)

        await _call(life, lambda: life.schedule("build", "s1"))  # settled: the build waits, in the executor
        attempts = [thread for what, thread in ran if what == "attempt"]
        assert attempts[0].startswith(REQUEST) and all(t.startswith(JOB) for t in attempts[1:])
        assert "built" not in {what for what, _ in ran}
        assert [job["target"] for job in life.pending()] == ["s1"]

        ready.set()
        life.changed()
        assert await asyncio.to_thread(life.wait_idle, 10)
        assert ran[-1][0] == "built" and ran[-1][1].startswith(JOB)

    asyncio.run(scenario())


def test_a_job_another_waiter_runs_in_a_request_thread_schedules_the_usual_way():
    """A handler waiting for a job runs it itself; what that job schedules must not wait for the
    handler's own thread (it goes to the executor, as it would have from a job thread)."""

    async def scenario() -> None:
        life, ran = _lifecycle()
        done = threading.Event()
        life.executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix=JOB)
        life.register("boot", lambda job: (ran.append(("boot", _thread())), done.set()), inline=True)
        life.register("volume", lambda job: life.schedule("boot", "b1"))

        def handler() -> None:
            life.schedule("volume", "v1", delay=0.01)
            life.wait_until(done.is_set, 30, targets=("v1",), what="the boot")

        await _call(life, handler)
        assert [what for what, _ in ran] == ["boot"] and ran[0][1].startswith(JOB)

    asyncio.run(scenario())


# -- a real create, over HTTP, in a simulator of this process ---------------------------------------------


@pytest.fixture(scope="module")
def local() -> Iterator[tuple[Any, Simulator]]:
    """A simulator in this process (its job executor's threads are visible here); yields its cloud
    and a :class:`Simulator` handle on it (for its URL and connections)."""
    import uvicorn

    from stacksim.app import create_app
    from stacksim.cloud import Cloud
    from stacksim.control import healthy

    settings = Settings(port=free_port())
    cloud = Cloud(settings)
    cloud.lifecycle.executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="inline-test-job")
    server = uvicorn.Server(uvicorn.Config(create_app(settings, cloud), port=settings.port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: _answers(healthy, settings.base_url), 30, "the local simulator")
    yield cloud, Simulator(port=settings.port)
    server.should_exit = True
    thread.join(30)


def _answers(healthy: Callable[[str], bool], url: str) -> bool:
    try:
        return healthy(url)
    except OSError:
        return False


def _server_on_a_new_network(handle: Simulator, name: str, cidr: str) -> tuple[Any, Any, dict[str, Any]]:
    """A connection, a new network (with a subnet of ``cidr``) and a server ``name``'s create arguments on it."""
    conn = handle.connect(password=Settings().bootstrap_password)
    net = conn.network.create_network(name=f"{name}-net")
    conn.network.create_subnet(network_id=net.id, cidr=cidr, ip_version=4)
    image = next(conn.image.images())
    flavor = conn.compute.find_flavor("m1.tiny")
    return conn, net, {"name": name, "image_id": image.id, "flavor_id": flavor.id, "networks": [{"uuid": net.id}]}


def test_a_fake_servers_build_runs_in_the_create_call_and_the_first_read_sees_it_active(local):
    cloud, handle = local
    conn, _, create = _server_on_a_new_network(handle, "inline", "10.31.0.0/24")
    server = conn.compute.create_server(**create)
    shown = conn.compute.get_server(server.id)
    assert shown.status == "ACTIVE" and shown.addresses  # on the first read
    assert "booting" in conn.compute.get_server_console_output(server.id)["output"]  # it went through BUILD
    # No job thread built it (the executor starts its threads on first use).
    assert not any(t.name.startswith("inline-test-job") for t in threading.enumerate())
    assert cloud.lifecycle.pending() == []
    conn.compute.delete_server(server.id)
    conn.compute.wait_for_delete(shown, wait=30)


def test_a_fake_servers_create_and_its_build_commit_once(local):
    cloud, handle = local
    conn, _, create = _server_on_a_new_network(handle, "inline-once", "10.33.0.0/24")
    statements: list[str] = []
    cloud.store._db.set_trace_callback(statements.append)
    try:
        server = conn.compute.create_server(**create)
    finally:
        cloud.store._db.set_trace_callback(None)
    assert statements.count("BEGIN IMMEDIATE") == 1 and statements.count("COMMIT") == 1
    shown = conn.compute.get_server(server.id)
    assert shown.status == "ACTIVE" and shown.addresses
    conn.compute.delete_server(server.id)
    conn.compute.wait_for_delete(shown, wait=30)


def test_a_servers_build_job_is_written_in_the_creates_transaction(local, monkeypatch):
    """Server, port, quota use and build job commit together: a create whose job cannot be written
    leaves nothing (so a kill -9 can never leave a server in BUILD with no job to resume it)."""
    cloud, handle = local
    conn, net, create = _server_on_a_new_network(handle, "inline-atomic", "10.32.0.0/24")
    used = conn.compute.get_limits().absolute.instances_used
    schedule = cloud.lifecycle.schedule
    depths: list[int] = []

    def failing(action: str, target: str, delay: float | None = None, **args: Any) -> str:
        if action == "server.build":
            depths.append(cloud.store._depth)
            raise RuntimeError("the job could not be written")
        return schedule(action, target, delay, **args)

    monkeypatch.setattr(cloud.lifecycle, "schedule", failing)
    with pytest.raises(HttpException) as failed:
        conn.compute.create_server(**create)
    assert failed.value.status_code == 500  # what fails is the simulator's own write
    monkeypatch.undo()
    assert depths == [1]  # inside the create's one transaction
    assert not list(conn.compute.servers(name="inline-atomic"))
    assert not list(conn.network.ports(network_id=net.id, device_owner="compute:nova"))
    assert conn.compute.get_limits().absolute.instances_used == used
    assert cloud.lifecycle.pending() == []
    conn.network.delete_network(net)
