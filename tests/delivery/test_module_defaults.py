# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``module_defaults`` with ``group/opensandbox.cloud.opensandbox`` reaches every module of the group.

The names come from meta/runtime.yml's action group, so a new module is covered once it is
listed there; a listed name with no module file yet is skipped, saying so. One playbook
calls each module with the arguments of its first example (without ``cloud`` or ``auth``)
under a group default naming a cloud that exists nowhere: the module must fail naming that
cloud, which it can only have got from the group default.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from .conftest import REPO, clean_env, run, tool

pytestmark = pytest.mark.delivery
GROUP = "opensandbox"
PROBE_CLOUD = "cloud-from-module-defaults"


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


def _example_args(module: str, examples: str) -> dict:
    """The arguments of the module's first example task, without the connection options."""
    for task in yaml.safe_load(examples) or []:
        for key in (f"opensandbox.cloud.{module}", module):
            if key in task:
                args = dict(task[key] or {})
                args.pop("cloud", None)
                args.pop("auth", None)
                return args
    raise AssertionError(f"{module}'s EXAMPLES has no task calling it")


@pytest.fixture(scope="module")
def group_results(collections_path: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Each present module's result under the group's module_defaults, from one playbook."""
    home = tmp_path_factory.mktemp("module-defaults")
    env = clean_env(home, ANSIBLE_COLLECTIONS_PATH=str(collections_path))
    present = [n for n in _group_members() if (REPO / "plugins" / "modules" / f"{n}.py").is_file()]
    docs = json.loads(run([tool("ansible-doc"), "-j", *(f"opensandbox.cloud.{n}" for n in present)], env, home).stdout)
    tasks = [
        {
            "name": name,
            f"opensandbox.cloud.{name}": _example_args(name, docs[f"opensandbox.cloud.{name}"]["examples"]),
            "register": f"result_{name}",
            "ignore_errors": True,
        }
        for name in present
    ]
    results = home / "results.json"
    everything = "{{ {" + ", ".join(f"'{n}': result_{n}" for n in present) + "} | to_json }}"
    tasks.append({"name": "Keep the results", "ansible.builtin.copy": {"content": everything, "dest": str(results)}})
    playbook = home / "module_defaults.yml"
    playbook.write_text(
        yaml.safe_dump(
            [
                {
                    "name": "Every module of the action group under module_defaults",
                    "hosts": "localhost",
                    "connection": "local",
                    "gather_facts": False,
                    "module_defaults": {f"group/opensandbox.cloud.{GROUP}": {"cloud": PROBE_CLOUD}},
                    "tasks": tasks,
                }
            ],
            sort_keys=False,
        )
    )
    run([tool("ansible-playbook"), str(playbook), "-e", f"ansible_python_interpreter={tool('python')}"], env, home)
    return json.loads(results.read_text())


@pytest.mark.parametrize("module", _params())
def test_group_default_reaches_module(module: str, group_results: dict[str, dict]) -> None:
    result = group_results[module]
    assert result.get("failed"), f"{module} did not fail on a cloud that exists nowhere: {result}"
    assert PROBE_CLOUD in result.get("msg", ""), f"{module} did not use the group's cloud: {result.get('msg')}"
