"""A restart in the middle of a stack action: the stack is not left IN_PROGRESS, and can be deleted."""

from __future__ import annotations

from stacksim.testing import Simulator, wait_until

WAITING = """
heat_template_version: 2016-10-14
resources:
  before:
    type: OS::Heat::Value
    properties: {value: 1}
  handle:
    type: OS::Heat::WaitConditionHandle
  wait:
    type: OS::Heat::WaitCondition
    depends_on: before
    properties: {handle: {get_resource: handle}, timeout: 600}
"""


def _resources(conn, name: str, stack_id: str) -> dict[str, dict]:
    body = conn.orchestration.get(f"/stacks/{name}/{stack_id}/resources").json()["resources"]
    return {r["resource_name"]: r for r in body}


def _until(check, timeout: float = 30):
    return wait_until(check, timeout)


def test_a_restart_fails_the_running_create(tmp_path):
    state = tmp_path / "state"
    first = Simulator(state_dir=state).start()
    try:
        conn = first.connect()
        stack_id = conn.orchestration.post("/stacks", json={"stack_name": "waiting", "template": WAITING}).json()[
            "stack"
        ]["id"]
        _until(lambda: _resources(conn, "waiting", stack_id)["wait"]["resource_status"] == "CREATE_IN_PROGRESS")
    finally:
        first.stop(kill=True)

    with Simulator(state_dir=state, port=first.port) as second:
        conn = second.connect()

        def failed():
            stack = conn.orchestration.get(f"/stacks/waiting/{stack_id}").json()["stack"]
            return stack if stack["stack_status"] != "CREATE_IN_PROGRESS" else None

        stack = _until(failed)
        assert stack["stack_status"] == "CREATE_FAILED"
        assert stack["stack_status_reason"] == "Engine went down during stack CREATE"
        resources = _resources(conn, "waiting", stack_id)
        assert resources["before"]["resource_status"] == "CREATE_COMPLETE"
        assert resources["wait"]["resource_status"] == "CREATE_FAILED"
        assert resources["wait"]["resource_status_reason"] == "Engine went down during resource CREATE"

        conn.orchestration.delete(f"/stacks/waiting/{stack_id}")
        _until(
            lambda: (
                conn.orchestration.get(f"/stacks/waiting/{stack_id}").json()["stack"]["stack_status"]
                == "DELETE_COMPLETE"
            )
        )
        assert conn.orchestration.get("/stacks").json()["stacks"] == []
