# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``module_defaults`` with ``group/opensandbox.cloud.opensandbox`` reaches every module of the group.

The names come from meta/runtime.yml's action group, so a new module is covered once it is
listed there; a listed name with no module file yet is skipped, saying so. One playbook
calls each module without arguments under a group default naming a cloud that exists
nowhere, keeping the payloads Ansible sends (ANSIBLE_KEEP_REMOTE_FILES): each module's
payload must carry that cloud among its arguments, which only the group default gives.
The payload is all this test reads, so ``/bin/true`` stands in for the managed node's
Python: Ansible builds and sends each module's payload as always, and nothing imports the
module (seconds of openstacksdk each; test_galaxy.py runs every module for real). Each
call then fails (the module printed no result), as it should.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from .conftest import REPO, clean_env, run, tool

pytestmark = pytest.mark.delivery
GROUP = "opensandbox"
PROBE_CLOUD = "cloud-from-the-group-default"


def _group_members() -> list[str]:
    runtime = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())
    return list(runtime["action_groups"][GROUP])


def _params() -> list:
    params = []
    for name in _group_members():
        present = (REPO / "plugins" / "modules" / f"{name}.py").is_file()
        marks = (
            [] if present else [pytest.mark.skip(reason=f"{name} is in the action group but has no module file yet")]
        )
        params.append(pytest.param(name, id=name, marks=marks))
    return params


@pytest.fixture(scope="module")
def payloads(collections_path: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The payload Ansible sent each present module of the group, from one playbook."""
    home = tmp_path_factory.mktemp("module-defaults")
    remote_tmp = home / "remote-tmp"
    env = clean_env(
        home,
        ANSIBLE_COLLECTIONS_PATH=str(collections_path),
        ANSIBLE_KEEP_REMOTE_FILES="true",
        ANSIBLE_REMOTE_TMP=str(remote_tmp),
        ANSIBLE_PIPELINING="false",
    )
    present = [n for n in _group_members() if (REPO / "plugins" / "modules" / f"{n}.py").is_file()]
    tasks = [{"name": name, f"opensandbox.cloud.{name}": {}, "ignore_errors": True} for name in present]
    playbook = home / "module_defaults.yml"
    play = {
        "name": "Every module of the action group under module_defaults",
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        "module_defaults": {f"group/opensandbox.cloud.{GROUP}": {"cloud": PROBE_CLOUD}},
        "tasks": tasks,
    }
    playbook.write_text(yaml.safe_dump([play], sort_keys=False))
    run([tool("ansible-playbook"), str(playbook), "-e", "ansible_python_interpreter=/bin/true"], env, home)
    return {
        path.name.removeprefix("AnsiballZ_").removesuffix(".py"): path.read_text()
        for path in remote_tmp.rglob("AnsiballZ_*.py")
    }


@pytest.mark.parametrize("module", _params())
def test_group_default_reaches_module(module: str, payloads: dict[str, str]) -> None:
    assert module in payloads, f"no payload was sent to {module}: {sorted(payloads)}"
    assert json.dumps({"cloud": PROBE_CLOUD})[1:-1] in payloads[module], (
        f"{module} was not sent the group's default cloud"
    )
