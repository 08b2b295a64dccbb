"""A second run of the same sandbox deployment: heat_sandbox against openstack.cloud.stack, on one stack.

Run: make collection && .venv/bin/python bench/bench_sandbox_noop.py [--rounds N]

It starts its own simulator (in memory), deploys playbooks/files/small-sandbox.yaml
once with opensandbox.cloud.heat_sandbox, then, in one ansible-playbook run, deploys
the same stack again and again, alternating (ABBA) between:

- opensandbox.cloud.heat_sandbox with the same topology (compares the rendered
  template with the stack's own, and changes nothing);
- openstack.cloud.stack with the same rendered template on the same stack (it always
  sends an update and waits for it, polling Heat's events).

Each deployment is timed inside the playbook, from the start of the task to the
start of the next one (Ansible's per-task overhead is in both). It prints a JSON
record to add to bench/results/sandbox_noop.json, and stops by itself.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from stacksim.testing import Simulator

REPO = Path(__file__).resolve().parents[1]
DEPENDENCIES = REPO / "build" / "collections"
TOPOLOGY = REPO / "playbooks" / "files" / "small-sandbox.yaml"
STACK = "bench-sandbox"
TOOLS = ("heat_sandbox", "stack")  # opensandbox.cloud.heat_sandbox, openstack.cloud.stack

ONE_RUN = """
- name: Start the clock
  ansible.builtin.set_fact:
    bench_start: "{{ now().timestamp() }}"
- name: Deploy again
  %(task)s
  register: bench_result
- name: Record the time
  ansible.builtin.set_fact:
    bench_times: >-
      {{ bench_times + [{'tool': '%(tool)s', 'seconds': now().timestamp() - (bench_start | float),
         'changed': bench_result is changed}] }}
"""
HEAT_SANDBOX = """opensandbox.cloud.heat_sandbox:
    cloud: stacksim
    name: %(stack)s
    topology_file: %(topology)s"""
OPENSTACK_STACK = """openstack.cloud.stack:
    cloud: stacksim
    name: %(stack)s
    template: %(template)s
    timeout: 300"""
PLAYBOOK = """
- name: Deploy the same sandbox again and again
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    bench_times: []
  tasks:
    - name: First deploy
      opensandbox.cloud.heat_sandbox:
        cloud: stacksim
        name: %(stack)s
        topology_file: %(topology)s
        render_only: %(render_only)s
      register: bench_first
    - name: Write the rendered template
      ansible.builtin.copy:
        content: "{{ bench_first.template | to_json }}"
        dest: %(template)s
        mode: "0600"
      when: bench_first.template is defined
    - name: Run each deployment once per entry
      ansible.builtin.include_tasks: "%(workdir)s/{{ item }}.yml"
      loop: %(order)s
    - name: Save the times
      ansible.builtin.copy:
        content: "{{ bench_times | to_json }}"
        dest: %(results)s
        mode: "0600"
"""


def _collection_tree(dest: Path) -> Path:
    sys.path.insert(0, str(REPO / "tests" / "utils"))
    import build_collection_tree  # a script of tests/utils, not a package

    return build_collection_tree.build(dest, REPO).parents[2]


def _order(rounds: int) -> list[str]:
    """ABBA: each tool goes first as often as the other."""
    order: list[str] = []
    for index in range(rounds):
        pair = ["heat_sandbox", "stack"] if index % 2 == 0 else ["stack", "heat_sandbox"]
        order += pair
    return order


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_s": round(statistics.median(ordered), 3),
        "min_s": round(ordered[0], 3),
        "max_s": round(ordered[-1], 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="deployments per tool (default 10)")
    args = parser.parse_args()
    if not (DEPENDENCIES / "ansible_collections" / "openstack" / "cloud").is_dir():
        print("openstack.cloud is not installed under build/collections: run `make collection` first")
        return 1
    ansible_playbook = Path(sys.executable).parent / "ansible-playbook"
    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as tmp, Simulator() as sim:
        workdir = Path(tmp)
        tree = _collection_tree(workdir / "tree")
        template = workdir / "template.json"
        results = workdir / "times.json"
        for tool, task_text in zip(TOOLS, (HEAT_SANDBOX, OPENSTACK_STACK), strict=True):
            task = task_text % {
                "stack": STACK,
                "topology": TOPOLOGY,
                "template": template,
            }
            (workdir / f"{tool}.yml").write_text(ONE_RUN % {"task": task, "tool": tool})
        env = dict(sim.env)
        env.update(
            ANSIBLE_COLLECTIONS_PATH=f"{tree}:{DEPENDENCIES}",
            ANSIBLE_LOCALHOST_WARNING="false",
            ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
            ANSIBLE_PYTHON_INTERPRETER=sys.executable,
            ANSIBLE_NOCOLOR="1",
        )
        for render_only, order in (("true", []), ("false", _order(args.rounds))):
            playbook = workdir / "bench.yml"
            playbook.write_text(
                PLAYBOOK
                % {
                    "stack": STACK,
                    "topology": TOPOLOGY,
                    "template": template,
                    "workdir": workdir,
                    "order": json.dumps(order),
                    "results": results,
                    "render_only": render_only,
                }
            )
            proc = subprocess.run(
                [str(ansible_playbook), str(playbook)], env=env, cwd=workdir, capture_output=True, text=True
            )
            if proc.returncode != 0:
                print(proc.stdout, proc.stderr)
                return 1
        times = json.loads(results.read_text())
    by_tool = {tool: [t["seconds"] for t in times if t["tool"] == tool] for tool in TOOLS}
    changed = {tool: sum(1 for t in times if t["tool"] == tool and t["changed"]) for tool in TOOLS}
    heat, stack = _summary(by_tool["heat_sandbox"]), _summary(by_tool["stack"])
    record = {
        "bench": "sandbox_noop",
        "machine": f"{platform.machine()} {platform.python_version()}",
        "rounds": args.rounds,
        "topology": "playbooks/files/small-sandbox.yaml (4 servers, 27 resources)",
        "heat_sandbox": {**heat, "changed_runs": changed["heat_sandbox"]},
        "openstack_cloud_stack": {**stack, "changed_runs": changed["stack"]},
        "median_ratio": round(stack["median_s"] / heat["median_s"], 1),
        "date": datetime.date.today().isoformat(),
        "note": "one ansible-playbook run, ABBA order, the first deploy not counted; "
        f"stacksim in memory with its default --delay, {os.cpu_count()} CPUs",
    }
    print(json.dumps(record, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
