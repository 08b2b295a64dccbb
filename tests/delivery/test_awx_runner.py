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
"""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from .conftest import clean_env, tool

pytestmark = pytest.mark.delivery
PLAYBOOK = Path(__file__).resolve().parent / "awx" / "cloud_report.yml"


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


def test_job_runs_as_awx_runs_it(installed_collections: Path, galaxy_home: Path, tmp_path: Path) -> None:
    from stacksim import testing

    pdd = tmp_path / "job"
    for sub in ("project", "inventory", "env"):
        (pdd / sub).mkdir(parents=True)
    shutil.copy(PLAYBOOK, pdd / "project" / PLAYBOOK.name)
    (pdd / "inventory" / "hosts").write_text("localhost ansible_connection=local\n")
    with testing.Simulator() as sim:
        clouds = _awx_openstack_credential(pdd / "env", f"{sim.url}/identity", "stacksim")
        envvars = {
            "OS_CLIENT_CONFIG_FILE": str(clouds),
            "ANSIBLE_COLLECTIONS_PATH": str(installed_collections),
            "ANSIBLE_HOST_KEY_CHECKING": "False",
            "ANSIBLE_RETRY_FILES_ENABLED": "False",
            "ANSIBLE_PYTHON_INTERPRETER": str(Path(tool("python"))),
            "JOB_ID": "42",
            "AWX_HOST": "https://awx.invalid",
        }
        (pdd / "env" / "envvars").write_text(yaml.safe_dump(envvars))
        survey = {"report_title": "Nightly check", "expected_projects": ["admin", "demo"]}
        awx_vars = {
            "awx_job_id": 42,
            "awx_job_launch_type": "manual",
            "awx_job_template_id": 7,
            "awx_job_template_name": "Cloud report",
            "awx_project_revision": "",
            "awx_user_name": "admin",
            "tower_job_id": 42,
            "tower_job_template_name": "Cloud report",
        }
        (pdd / "env" / "extravars").write_text(yaml.safe_dump({**awx_vars, **survey}))
        (pdd / "env" / "settings").write_text(yaml.safe_dump({"job_timeout": 600, "suppress_ansible_output": True}))
        env = clean_env(galaxy_home)
        for name in list(env):
            if name.startswith("OS_"):
                del env[name]
        proc = subprocess.run(
            [tool("ansible-runner"), "run", str(pdd), "-p", PLAYBOOK.name, "--ident", "42"],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    artifacts = pdd / "artifacts" / "42"
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
    ok = {e["event_data"]["task"]: e["event_data"] for e in events if e["event"] == "runner_on_ok"}
    cloud = ok["Read the cloud"]["res"]
    assert cloud["connection"]["cloud"] == "devstack"
    assert cloud["token"]["user"]["name"] == "admin"
    assert not [e for e in events if e["event"] in ("runner_on_failed", "runner_on_unreachable")]
    stats = events[-1]["event_data"]
    assert stats["ok"] == {"localhost": 3} and not stats["failures"]
    assert stats["artifact_data"] == {
        "report_title": "Nightly check",
        "report_user": "admin",
        "report_projects": ["admin", "alt_demo", "demo"],
    }
    assert "ok=3" in (artifacts / "stdout").read_text()
