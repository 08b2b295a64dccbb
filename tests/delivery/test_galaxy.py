# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection from its tarball: what it holds, and every module and role run from an install.

The playbook is generated from what the installed collection lists (``ansible-doc``), so
a new module or role is covered without editing this test. The simulator role deploys the
stacksim the other modules and roles use, then removes it (purging its state). A module
with required options is called without them and must fail on those options alone (it
loaded, with its module_utils, from the install); the others run for real in check mode
(or, when their options must come in combinations, fail with their own message, not a
crash or an import error).
Each role other than the simulator needs tests/delivery/role_vars/<role>.yml.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tarfile
import tempfile
from pathlib import Path

import pytest
import yaml

from .conftest import WHEELHOUSE, clean_env, run, tool

pytestmark = pytest.mark.delivery
ROLE_VARS = Path(__file__).resolve().parent / "role_vars"


def test_tarball_holds_the_collection_and_no_development_files(collection_tarball: Path) -> None:
    with tarfile.open(collection_tarball) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("MANIFEST.json"))
    info = manifest["collection_info"]
    for key in ("repository", "documentation", "homepage", "issues"):
        assert info[key].startswith("https://"), f"galaxy.yml has no {key}"
    for expected in (
        "meta/runtime.yml",
        "meta/execution-environment.yml",
        "requirements.txt",
        "bindep.txt",
        "plugins/modules/cloud_info.py",
        "roles/simulator/meta/argument_specs.yml",
        "extensions/molecule/utils/vars/vars.yml",
    ):
        assert expected in names, f"{expected} is missing from the tarball"
    assert [n for n in names if n.startswith("roles/simulator/files/stacksim-") and n.endswith(".whl")], (
        "the tarball ships no stacksim wheel"
    )
    unwanted = ("simulator/", "bench/", "build/", "tools/", ".venv/", "tests/output/", ".ci/")
    assert not [n for n in names if n.startswith(unwanted) or "__pycache__" in n or n.endswith(".pyc")]
    size = collection_tarball.stat().st_size
    print(f"\n[galaxy] {collection_tarball.name}: {size / 1024:.0f} KiB, {len(names)} entries")


def _plugins(env: dict[str, str], cwd: Path) -> tuple[dict, dict]:
    """The installed collection's modules (with their docs) and roles, from one ansible-doc run."""
    proc = run([tool("ansible-doc"), "--metadata-dump", "opensandbox.cloud"], env, cwd)
    everything = json.loads(proc.stdout)["all"]
    return everything["module"], everything["role"]


def _module_tasks(module: str, doc: dict) -> list[dict]:
    options = doc["doc"].get("options", {})
    required = sorted(name for name, spec in options.items() if spec.get("required"))
    fqcn = f"opensandbox.cloud.{module}"
    if required:
        return [
            {
                "name": f"Call {module} without its required options",
                fqcn: {},
                "register": "result",
                "ignore_errors": True,
            },
            {
                "name": f"Check that {module} loaded and asked for {', '.join(required)}",
                "ansible.builtin.assert": {
                    "that": ["result is failed", "'missing required arguments' in result.msg"]
                    + [f"'{name}' in result.msg" for name in required]
                },
            },
        ]
    # No required option documented: it runs, or (when its options must come in combinations
    # or depend on each other) fails with its own message, not a crash or an import error.
    return [
        {
            "name": f"Run {module} in check mode",
            fqcn: {},
            "check_mode": True,
            "register": "result",
            "ignore_errors": True,
        },
        {
            "name": f"Check that {module} ran or asked for its options",
            "ansible.builtin.assert": {
                "that": [
                    "result is not failed or (result.module_stderr is not defined and result.msg is not search(crash))"
                ],
                "fail_msg": "{{ result.msg | default(result) | string }}",
            },
            "vars": {"crash": "MODULE FAILURE|No module named|Traceback|ImportError"},
        },
    ]


def test_every_module_and_role_runs_from_the_installed_collection(
    installed_collections: Path, galaxy_home: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    assert (WHEELHOUSE / ".complete").is_file(), "build/wheelhouse is missing: run `make wheelhouse` first"
    env = clean_env(galaxy_home, ANSIBLE_COLLECTIONS_PATH=str(installed_collections), ANSIBLE_PIPELINING="true")
    docs, roles = _plugins(env, tmp_path)
    modules = sorted(docs)
    assert "opensandbox.cloud.cloud_info" in modules and "opensandbox.cloud.simulator" in roles, (modules, roles)
    other_roles = sorted(name.split(".")[-1] for name in roles if name != "opensandbox.cloud.simulator")
    missing = [r for r in other_roles if not (ROLE_VARS / f"{r}.yml").is_file()]
    assert not missing, f"give each role its test variables in tests/delivery/role_vars/<role>.yml: {missing}"

    # Outside pytest's private tmp tree: the simulator's service user must traverse it.
    run_dir = Path(tempfile.mkdtemp(prefix="galaxy-simulator-"))
    request.addfinalizer(lambda: shutil.rmtree(run_dir, ignore_errors=True))
    run_dir.chmod(0o755)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    simulator_vars = {"vars_files": [str(ROLE_VARS / "simulator.yml")]}
    module_tasks = [task for name in modules for task in _module_tasks(name.split(".")[-1], docs[name])]
    playbook = [
        {
            "name": "Deploy stacksim with the installed simulator role",
            "hosts": "localhost",
            "gather_facts": False,
            **simulator_vars,
            "roles": [{"role": "opensandbox.cloud.simulator"}],
        },
        {
            "name": "Run every module of the installed collection",
            "hosts": "localhost",
            "gather_facts": False,
            "module_defaults": {"group/opensandbox.cloud.opensandbox": {"cloud": "stacksim-admin"}},
            "environment": {"OS_CLIENT_CONFIG_FILE": str(run_dir / "clouds.yaml")},
            "tasks": module_tasks,
        },
        *[
            {
                "name": f"Apply the installed role {role}",
                "hosts": "localhost",
                "gather_facts": False,
                "vars_files": [str(ROLE_VARS / f"{role}.yml")],
                "environment": {"OS_CLIENT_CONFIG_FILE": str(run_dir / "clouds.yaml")},
                "roles": [{"role": f"opensandbox.cloud.{role}"}],
            }
            for role in other_roles
        ],
        {
            "name": "Remove stacksim with the installed simulator role",
            "hosts": "localhost",
            "gather_facts": False,
            **simulator_vars,
            "roles": [
                {"role": "opensandbox.cloud.simulator", "vars": {"simulator_state": "absent", "simulator_purge": True}}
            ],
        },
    ]
    path = tmp_path / "every_module_and_role.yml"
    path.write_text(yaml.safe_dump(playbook, sort_keys=False))
    extra_vars = [
        *("-e", f"run_dir={run_dir}"),
        *("-e", f"simulator_test_port={port}"),
        *("-e", f"wheelhouse={WHEELHOUSE}"),
        *("-e", f"ansible_python_interpreter={tool('python')}"),
    ]
    try:
        proc = run([tool("ansible-playbook"), str(path), *extra_vars], env, tmp_path)
    except AssertionError:
        # Leave no stacksim, service user or files behind a failed run: the last play alone.
        cleanup = tmp_path / "cleanup.yml"
        cleanup.write_text(yaml.safe_dump(playbook[-1:], sort_keys=False))
        subprocess.run(
            [tool("ansible-playbook"), str(cleanup), *extra_vars],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            timeout=300,
            check=False,
        )
        raise
    assert "failed=0" in proc.stdout
    assert not (run_dir / "venv").exists() and not (run_dir / "state").exists()
