"""Heat's multi-tier stack: created and deleted through openstacksdk with ``wait=True``, and by the CLI.

Run: .venv/bin/python bench/bench_heat_multitier.py [--rounds N] [--cli N]

It starts its own simulator (in memory, the default ``--delay 0``), then, round
after round, creates playbooks/templates/multi_tier.yaml (two networks, a
router with its gateway, ports, three servers and a worker group, a floating
IP, a volume ...) with ``create_stack(wait=True)`` and deletes it with
``delete_stack(wait=True)``: what a user waits, the SDK's polling included.
Then the simulator's own share: the create (and delete) API call alone, which
answers once the work it started is done, each followed by a read that must
show the final state. ``--cli N`` times ``openstack stack create --wait`` and
``stack delete --wait -y``, and ``stack list`` beside them for the CLI's own
start-up. Issue 13's goal: CREATE_COMPLETE through the
SDK in at most 1 s. It prints a JSON record to add to
bench/results/heat_multitier.json, and stops by itself.

mimic has no Orchestration API, so there is no ratio to it here.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

from benchlib import summary

from stacksim.testing import Simulator

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "playbooks" / "templates" / "multi_tier.yaml"


def sdk_rounds(conn, key: str, rounds: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"create_wait": [], "delete_wait": [], "create_call": [], "delete_call": []}
    template = TEMPLATE.read_text()
    for _ in range(rounds):
        name = f"bench-{uuid.uuid4().hex[:6]}"
        start = time.perf_counter()
        stack = conn.create_stack(name, template_file=str(TEMPLATE), wait=True, key_name=key)
        out["create_wait"].append(time.perf_counter() - start)
        assert stack.status == "CREATE_COMPLETE", stack.status_reason
        start = time.perf_counter()
        conn.delete_stack(stack.id, wait=True)
        out["delete_wait"].append(time.perf_counter() - start)
        # The simulator's own share: the API call alone (it answers once the work it started is done),
        # and the first read after it must show the final state.
        body = {"stack_name": name + "-raw", "template": template, "parameters": {"key_name": key}}
        start = time.perf_counter()
        made = conn.orchestration.post("/stacks", json=body).json()["stack"]
        out["create_call"].append(time.perf_counter() - start)
        path = f"/stacks/{name}-raw/{made['id']}"
        assert conn.orchestration.get(path).json()["stack"]["stack_status"] == "CREATE_COMPLETE"
        start = time.perf_counter()
        conn.orchestration.delete(path)
        out["delete_call"].append(time.perf_counter() - start)
        assert conn.orchestration.get(path).json()["stack"]["stack_status"] == "DELETE_COMPLETE"
    return out


def cli_rounds(sim: Simulator, key: str, rounds: int) -> dict[str, list[float]]:
    cli = shutil.which("openstack", path=str(Path(sys.executable).parent)) or "openstack"
    env = dict(sim.env, OS_CLOUD="stacksim")
    out: dict[str, list[float]] = {"cli_stack_list": [], "cli_create_wait": [], "cli_delete_wait": []}
    for _ in range(rounds):
        name = f"cli-{uuid.uuid4().hex[:6]}"
        for key_name, args in (
            ("cli_stack_list", ["stack", "list"]),  # the CLI's start-up and one call, for comparison
            ("cli_create_wait", ["stack", "create", "--wait", "-t", str(TEMPLATE), "--parameter", f"key_name={key}"]),
            ("cli_delete_wait", ["stack", "delete", "--wait", "-y"]),
        ):
            start = time.perf_counter()
            named = [name] if key_name != "cli_stack_list" else []
            subprocess.run([cli, *args, *named], env=env, check=True, capture_output=True)
            out[key_name].append(time.perf_counter() - start)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--cli", type=int, default=3, help="rounds through the openstack CLI (0: none)")
    args = parser.parse_args()
    with Simulator() as sim:
        os.environ["OS_CLIENT_CONFIG_FILE"] = str(sim.clouds_yaml)
        import openstack

        conn = openstack.connect(cloud="stacksim")
        key = "bench-key"
        conn.compute.create_keypair(name=key)
        sdk_rounds(conn, key, 1)  # warm-up: imports, first-use caches
        results = sdk_rounds(conn, key, args.rounds)
        if args.cli:
            results.update(cli_rounds(sim, key, args.cli))
    record = {
        "bench": "heat_multitier",
        "machine": f"{platform.machine()} {platform.python_version()}, {os.cpu_count()} cores",
        "date": datetime.date.today().isoformat(),
        "rounds": args.rounds,
        "cli_rounds": args.cli,
        **{name: summary(values) for name, values in results.items()},
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "note": "in-memory state, fake compute driver, --delay 0; *_wait: the client's wait=True / --wait, "
        "*_call: the API call alone",
    }
    print(json.dumps(record, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
