# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A job run the way AWX runs one: ansible-runner in a private data dir.

AWX lays out a private data dir (project/, inventory/, env/), injects the credentials, and
hands it to ansible-runner. AWX's OpenStack credential type writes a clouds.yaml with one
cloud named ``devstack`` (auth_url, username, password, project_name, and the domain as
``domain_name`` and ``project_domain_name``, plus ``verify``) into env/ with mode 0660 and
sets ``OS_CLIENT_CONFIG_FILE`` to it (awx/main/models/credential/injectors.py). Survey
answers arrive as extra vars beside AWX's own ``awx_*`` and ``tower_*`` variables. The test
checks the job's events (as AWX stores them) and its artifacts (set_stats data).

The second job is the collection's own ``deploy_sandbox.yml``, imported by a project playbook
from the installed collection as an AWX project uses it; its artifacts (the sandbox's name,
stack and hosts) feed the next job, ``destroy_sandbox.yml``, as a workflow would hand them on.
"""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import clean_env, tool

pytestmark = pytest.mark.delivery
PLAYBOOK = Path(__file__).resolve().parent / "awx" / "cloud_report.yml"
#: What AWX adds to every job's extra vars (the survey's answers go beside them).
AWX_VARS = {
    "awx_job_launch_type": "manual",
    "awx_project_revision": "",
    "awx_user_name": "admin",
}


def _awx_openstack_credential(env_dir: Path, auth_url: str, password: str) -> Path:
    """The clouds.yaml AWX's openstack injector writes for a credential with these inputs."""
    data = {
        "clouds": {
            "devstack": {
                "auth": {
                    "auth_url": auth_url,
                    "username": "admin",
                    "password": password,
                    "project_name": "admin",
                    "project_domain_name": "Default",
                    "domain_name": "Default",
                },
                "verify": True,
                "region_name": "RegionOne",
            }
        }
    }
    path = env_dir / "tmpawxcred"
    path.write_text(yaml.safe_dump(data, default_flow_style=False, allow_unicode=True))
    path.chmod(stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP | stat.S_IWGRP)
    return path


def _run_job(
    pdd: Path, sim: Any, galaxy_home: Path, collections: Path, playbook: str, job_id: int, extra_vars: dict[str, Any]
) -> tuple[Path, list[dict]]:
    """Lay out the rest of AWX's private data dir (env/ with the credential, extra vars and
    settings; inventory/) for job ``job_id``, run ``playbook`` of project/ with ansible-runner,
    check that it succeeded, and return its artifacts dir and its events in order."""
    for sub in ("project", "inventory", "env"):
        (pdd / sub).mkdir(parents=True, exist_ok=True)
    (pdd / "inventory" / "hosts").write_text("localhost ansible_connection=local\n")
    clouds = _awx_openstack_credential(pdd / "env", f"{sim.url}/identity", "stacksim")
    envvars = {
        "OS_CLIENT_CONFIG_FILE": str(clouds),
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_PYTHON_INTERPRETER": str(Path(tool("python"))),
        "JOB_ID": str(job_id),
        "AWX_HOST": "https://awx.invalid",
    }
    (pdd / "env" / "envvars").write_text(yaml.safe_dump(envvars))
    job_vars = {"awx_job_id": job_id, "tower_job_id": job_id, **AWX_VARS}
    (pdd / "env" / "extravars").write_text(yaml.safe_dump({**job_vars, **extra_vars}))
    (pdd / "env" / "settings").write_text(yaml.safe_dump({"job_timeout": 600, "suppress_ansible_output": True}))
    env = clean_env(galaxy_home)
    for name in list(env):
        if name.startswith("OS_"):
            del env[name]
    proc = subprocess.run(
        [tool("ansible-runner"), "run", str(pdd), "-p", playbook, "--ident", str(job_id)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    artifacts = pdd / "artifacts" / str(job_id)
    stdout = (artifacts / "stdout").read_text() if (artifacts / "stdout").exists() else proc.stdout
    assert proc.returncode == 0, f"ansible-runner exited {proc.returncode}:\n{stdout}\n{proc.stderr}"
    assert (artifacts / "rc").read_text().strip() == "0"
    assert (artifacts / "status").read_text().strip() == "successful"
    events = sorted(
        (json.loads(p.read_text()) for p in (artifacts / "job_events").glob("*.json")), key=lambda e: e["counter"]
    )
    kinds = [e["event"] for e in events]
    assert kinds[0] == "playbook_on_start" and kinds[-1] == "playbook_on_stats", kinds
    assert [e["counter"] for e in events] == list(range(1, len(events) + 1))
    assert not [e for e in events if e["event"] in ("runner_on_failed", "runner_on_unreachable")]
    assert not events[-1]["event_data"]["failures"]
    return artifacts, events


@pytest.fixture(scope="module")
def _simulator() -> Iterator[Any]:
    """One stacksim for this file's jobs (a start costs seconds of CPU)."""
    from stacksim import testing

    with testing.Simulator() as sim:
        yield sim


@pytest.fixture
def sim(_simulator: Any) -> Any:
    """The file's stacksim, back at its bootstrap state: each test starts clean, in any order."""
    _simulator.reset()
    return _simulator


def test_job_runs_as_awx_runs_it(installed_collections: Path, galaxy_home: Path, tmp_path: Path, sim: Any) -> None:
    pdd = tmp_path / "job"
    (pdd / "project").mkdir(parents=True)
    shutil.copy(PLAYBOOK, pdd / "project" / PLAYBOOK.name)
    survey = {"report_title": "Nightly check", "expected_projects": ["admin", "demo"]}
    template = {
        "awx_job_template_id": 7,
        "awx_job_template_name": "Cloud report",
        "tower_job_template_name": "Cloud report",
    }
    artifacts, events = _run_job(
        pdd, sim, galaxy_home, installed_collections, PLAYBOOK.name, 42, {**template, **survey}
    )
    ok = {e["event_data"]["task"]: e["event_data"] for e in events if e["event"] == "runner_on_ok"}
    cloud = ok["Read the cloud"]["res"]
    assert cloud["connection"]["cloud"] == "devstack"
    assert cloud["token"]["user"]["name"] == "admin"
    stats = events[-1]["event_data"]
    assert stats["ok"] == {"localhost": 3}
    assert stats["artifact_data"] == {
        "report_title": "Nightly check",
        "report_user": "admin",
        "report_projects": ["admin", "alt_demo", "demo"],
    }
    assert "ok=3" in (artifacts / "stdout").read_text()


def test_sandbox_job_shows_its_hosts(installed_collections: Path, galaxy_home: Path, tmp_path: Path, sim: Any) -> None:
    """deploy_sandbox.yml as an AWX job: its artifacts name the sandbox and its hosts; the next
    job of the workflow (destroy_sandbox.yml, given those artifacts) leaves nothing behind."""
    collection = installed_collections / "ansible_collections" / "opensandbox" / "cloud"
    topology_file = collection / "playbooks" / "files" / "small-sandbox.yaml"
    topology = yaml.safe_load(topology_file.read_text())
    pdd = tmp_path / "job"
    (pdd / "project").mkdir(parents=True)
    # An AWX project's playbooks run the collection's (installed from its requirements.yml).
    for name in ("deploy_sandbox", "destroy_sandbox"):
        (pdd / "project" / f"{name}.yml").write_text(
            f"---\n- name: {name} of the collection\n  ansible.builtin.import_playbook: opensandbox.cloud.{name}\n"
        )
    # AWX runs a job in the project dir, but the inventory file the playbooks default to is
    # placed by PWD, which ansible-runner leaves as the caller's: name it in the private data dir.
    inventory_file = pdd / "sandbox.inventory.yml"
    survey = {"topology": str(topology_file), "stacksim_cloud": "devstack", "sandbox_inventory": str(inventory_file)}
    stats: dict[str, Any] = {}
    try:
        _artifacts, events = _run_job(pdd, sim, galaxy_home, installed_collections, "deploy_sandbox.yml", 43, survey)
        stats = events[-1]["event_data"]["artifact_data"]
        (deployed,) = (
            e["event_data"]["res"] for e in events if e["event"] == "runner_on_ok" and "stack" in e["event_data"]["res"]
        )
        inventory = yaml.safe_load(inventory_file.read_text())
    finally:
        # The workflow's next job: the artifacts arrive as its extra vars (sandbox_name).
        given = stats or {"sandbox_name": topology["name"]}
        _artifacts, destroyed = _run_job(
            pdd,
            sim,
            galaxy_home,
            installed_collections,
            "destroy_sandbox.yml",
            44,
            {**given, "stacksim_cloud": "devstack", "sandbox_inventory": str(inventory_file)},
        )
    admin = sim.connect("admin")
    left = (
        [s.name for s in admin.orchestration.stacks()],
        [s.name for s in admin.compute.servers(all_projects=True)],
    )
    nodes = {n["name"] for n in topology["hosts"] + topology["routers"]}
    # The topology's hosts and router hosts, with the management and user-access nodes.
    assert set(stats["sandbox_hosts"]) == nodes | {"man", "uan"} == {"server", "router", "man", "uan"}
    assert stats["sandbox_name"] == topology["name"]
    assert stats["sandbox_stack_id"] == deployed["stack"]["id"]
    assert stats["sandbox_hosts"] == inventory["all"]["hosts"]
    assert stats["sandbox_groups"]["hosts"] == ["server"]
    assert stats["sandbox_groups"]["routers"] == ["router"]
    assert stats["sandbox_groups"]["management"] == ["man", "uan"]
    assert stats["sandbox_groups"]["winrm_nodes"] == []
    assert stats["sandbox_hosts"]["server"]["ansible_user"] == "cirros"
    assert not inventory_file.exists()
    ok = [e["event_data"] for e in destroyed if e["event"] == "runner_on_ok"]
    assert any(d["task"] == "Delete the sandbox and wait until it is gone" and d["res"]["changed"] for d in ok)
    assert left == ([], [])
