# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``module_defaults`` with ``group/opensandbox.cloud.opensandbox`` reaches every module of the group.

The names come from meta/runtime.yml's action group, so a new module is covered once it is
listed there; a listed name with no module file yet is skipped, saying so. One playbook
calls each module without arguments under group defaults that include an option no module
has: each module must refuse that option by name, which it can only have got from the
group's defaults (argument validation reports unknown options before anything else, so this
holds whatever options a module requires).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from .conftest import REPO, clean_env, run, tool

pytestmark = pytest.mark.delivery
GROUP = "opensandbox"
PROBE_OPTION = "option_from_module_defaults"


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
def group_results(collections_path: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Each present module's result under the group's module_defaults, from one playbook."""
    home = tmp_path_factory.mktemp("module-defaults")
    env = clean_env(home, ANSIBLE_COLLECTIONS_PATH=str(collections_path))
    present = [n for n in _group_members() if (REPO / "plugins" / "modules" / f"{n}.py").is_file()]
    tasks = [
        {
            "name": name,
            f"opensandbox.cloud.{name}": {},
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
                    "module_defaults": {f"group/opensandbox.cloud.{GROUP}": {"cloud": "stacksim", PROBE_OPTION: "x"}},
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
    assert result.get("failed"), f"{module} accepted an option no module has: {result}"
    message = result.get("msg", "")
    assert "Unsupported parameters" in message and PROBE_OPTION in message, (
        f"{module} did not get the group's defaults: {message}"
    )
