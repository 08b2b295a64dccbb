"""Orchestration's smoke test with the ``openstack`` CLI as shipped: ``stack create --wait`` (heatclient's
event polling) and its outputs, resources, events, errors and ``stack delete --wait``. The orchestration
issue's full check is in test_orchestration_workflows.py, through the SDK and Heat's API."""

from __future__ import annotations

import json
import uuid

import pytest
from heat_helpers import MULTI_TIER

pytestmark = pytest.mark.usefixtures("roomy_demo_quota")


def waited(run, *args: str) -> dict:
    """Run a ``--wait`` command with ``-f json`` (``run``: ``cli.run`` or ``cli.exec``): the events it
    prints come before the JSON."""
    out = run(*args, "-f", "json").stdout
    start = 0 if out.startswith("{") else out.rindex("\n{") + 1
    return json.loads(out[start:])


def test_cli_stack_smoke(cli, key_name):
    name = f"sb{uuid.uuid4().hex[:6]}"
    created = waited(
        cli.exec, "stack", "create", "-t", MULTI_TIER, "--parameter", f"key_name={key_name}", "--wait", name
    )
    assert created["stack_status"] == "CREATE_COMPLETE"
    outputs = {o["output_key"]: o["output_value"] for o in cli.json("stack", "output", "show", name, "--all").values()}
    assert outputs["web_private_ip"] == "10.10.1.10" and outputs["worker_names"] == [
        f"{name}-worker-0",
        f"{name}-worker-1",
    ]
    bad = cli.run("stack", "create", "-t", MULTI_TIER, f"x{name}", check=False)
    assert bad.returncode != 0 and bad.stderr.strip() == "ERROR: The Parameter (key_name) was not provided."
    cli.run("stack", "delete", "--yes", "--wait", name)
    gone = cli.run("stack", "show", name, check=False)
    assert gone.returncode != 0 and f"Stack not found: {name}" in gone.stderr
