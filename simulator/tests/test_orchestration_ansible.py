"""The ``openstack.cloud.stack`` Ansible module against the simulator.

openstack.cloud is installed into build/collections by ``make collection`` or, if
it is not there, by this test (tools/fetch_openstack_cloud.py, from PyPI); the
module runs through ``ansible-playbook``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from heat_helpers import MULTI_TIER

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / "build" / "collections"

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Key pair for the stack
      openstack.cloud.keypair:
        cloud: stacksim
        name: "{{ stack }}-key"
      when: wanted == "present"
    - name: The stack
      openstack.cloud.stack:
        cloud: stacksim
        name: "{{ stack }}"
        template: "{{ template }}"
        parameters:
          key_name: "{{ stack }}-key"
          worker_count: 1
        state: "{{ wanted }}"
        wait: true
        timeout: 120
"""


@pytest.fixture(scope="module")
def openstack_cloud() -> Path:
    """openstack.cloud in build/collections, installed now if `make collection` has not (it takes it from PyPI)."""
    fetch = REPO / "tools" / "fetch_openstack_cloud.py"
    proc = subprocess.run(
        [sys.executable, str(fetch), str(COLLECTIONS)], capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode == 0, f"could not install openstack.cloud:\n{proc.stdout}{proc.stderr}"
    return COLLECTIONS


def _play(sim, tmp_path: Path, stack: str, wanted: str) -> dict:
    """The stack task's result (what ``register`` would hold), which the ``tree`` callback writes
    to a file named after the host: the play's last task result (not a task of its own, which
    would cost a module run)."""
    book, tree = tmp_path / "stack.yml", tmp_path / wanted
    book.write_text(PLAYBOOK)
    env = dict(
        sim.env,
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
        ANSIBLE_LOCALHOST_WARNING="False",
        ANSIBLE_CALLBACKS_ENABLED="ansible.builtin.tree",
        ANSIBLE_CALLBACK_TREE_DIR=str(tree),
    )
    cmd = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        str(book),
        "-e",
        f"stack={stack}",
        "-e",
        f"template={MULTI_TIER}",
        "-e",
        f"wanted={wanted}",
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads((tree / "localhost").read_text())


@pytest.mark.usefixtures("roomy_demo_quota", "openstack_cloud")
def test_openstack_cloud_stack_module(sim, demo, tmp_path):
    name = f"ans{uuid.uuid4().hex[:6]}"
    created = _play(sim, tmp_path, name, "present")
    assert created["changed"] is True
    stack = created["stack"]
    assert stack["status"] == "CREATE_COMPLETE" or stack.get("stack_status") == "CREATE_COMPLETE"
    outputs = {o["output_key"]: o["output_value"] for o in stack["outputs"]}
    assert outputs["web_private_ip"] == "10.10.1.10" and outputs["worker_names"] == [f"{name}-worker-0"]
    assert demo.compute.find_server(f"{name}-db") is not None
    _play(sim, tmp_path, name, "absent")
    assert demo.orchestration.find_stack(name) is None
    assert demo.compute.find_server(f"{name}-db") is None
