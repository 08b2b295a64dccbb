"""What the orchestration tests share besides fixtures."""

from __future__ import annotations

from pathlib import Path

#: The demo's example stack (``make demo`` creates it), which the orchestration tests deploy.
MULTI_TIER = str(Path(__file__).resolve().parents[2] / "playbooks" / "templates" / "multi_tier.yaml")


def wait_condition(timeout: int) -> str:
    """A template whose stack waits for one signal to its handle, ``timeout`` seconds at most."""
    return (
        "heat_template_version: 2016-10-14\n"
        "resources:\n"
        "  handle: {type: OS::Heat::WaitConditionHandle}\n"
        "  wait:\n"
        "    type: OS::Heat::WaitCondition\n"
        f"    properties: {{handle: {{get_resource: handle}}, timeout: {timeout}}}\n"
    )
