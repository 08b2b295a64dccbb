"""The engine in-process: a stack action stops at its time-out, its resources marked as Heat marks them."""

from __future__ import annotations

import asyncio

import pytest
from heat_helpers import wait_condition

from stacksim.cloud import Cloud
from stacksim.config import Settings
from stacksim.heat.engine import JOB
from stacksim.heat.run import ctx_load
from stacksim.services.orchestration.schemas import stack_create

WAITING = wait_condition(timeout=600)


@pytest.fixture
def cloud():
    made = Cloud(Settings())
    made.start()
    yield made
    made.close()


def test_the_stack_timeout_is_honoured(cloud):
    engine = cloud.orchestration
    ctx = ctx_load({"user_id": "u1", "user_name": "u1", "project_id": "p1", "roles": ["member"]})
    record = engine.create(ctx, stack_create({"stack_name": "slow", "template": WAITING, "timeout_mins": 1}))
    # A minute is too long for a test: shorten the stored time-out, then run the job as the lifecycle would.
    record["timeout_mins"] = 0.01
    cloud.store.put("heat_stack", record)
    (job,) = [j for j in cloud.lifecycle.pending(record["id"]) if j["action"] == JOB]
    asyncio.run(engine.engine.run_job(job))
    stack = engine.get(ctx, record["id"])
    assert (stack["action"], stack["status"], stack["status_reason"]) == ("CREATE", "FAILED", "Timed out")
    resources = {r["name"]: r for r in engine.engine.resource_records(record["id"])}
    assert resources["handle"]["status"] == "COMPLETE"
    assert (resources["wait"]["status"], resources["wait"]["status_reason"]) == ("FAILED", "CREATE aborted")
    reasons = [e["resource_status_reason"] for e in engine.events(record["id"])]
    assert reasons[0] == "Stack CREATE started" and reasons[-1] == "Timed out"
