# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run every Molecule scenario under extensions/molecule/ with ``molecule test -s <name>``.

Molecule runs from extensions/ (ansible-creator's layout: the shared playbooks in
extensions/molecule/utils/ find the collection at ``$MOLECULE_PROJECT_DIRECTORY/..``)
against the collection tree tests/conftest.py lays out, which holds the stacksim wheel the
simulator role ships (``make collection`` builds it). The role installs stacksim's
dependencies from build/wheelhouse (``make wheelhouse``), not from the package index.
Each scenario prints how long it took.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXTENSIONS = REPO / "extensions"
SCENARIOS_DIR = EXTENSIONS / "molecule"
WHEELHOUSE = REPO / "build" / "wheelhouse"
SCENARIO_TIMEOUT = 900

pytestmark = pytest.mark.molecule


def _scenarios() -> list[str]:
    return sorted(p.parent.name for p in SCENARIOS_DIR.glob("*/molecule.yml"))


@pytest.fixture(scope="module")
def molecule_env(collections_path: Path, collection_root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    wheels = list((collection_root / "roles" / "simulator" / "files").glob("stacksim-*.whl"))
    assert wheels, "the simulator role's stacksim wheel is missing: run `make collection` first"
    assert (WHEELHOUSE / ".complete").is_file(), "build/wheelhouse is missing: run `make wheelhouse` first"
    bin_dir = Path(sys.executable).parent
    assert (bin_dir / "molecule").exists(), "molecule must be installed: run the tests from the project venv"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "MOLECULE_", "OS_"))}
    home = tmp_path_factory.mktemp("molecule-home")
    (home / "ansible.cfg").write_text("[defaults]\n")
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        ANSIBLE_COLLECTIONS_PATH=str(collections_path),
        ANSIBLE_CONFIG=str(home / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
        ANSIBLE_PIPELINING="true",
        NO_COLOR="1",
        OPENSANDBOX_WHEELHOUSE=str(WHEELHOUSE),
    )
    return env


@pytest.mark.parametrize("scenario", _scenarios())
def test_scenario(scenario: str, molecule_env: dict, capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "molecule"), "test", "-s", scenario],
        cwd=EXTENSIONS,
        env=molecule_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=SCENARIO_TIMEOUT,
        check=False,
    )
    took = time.monotonic() - started
    with capsys.disabled():
        print(f"\n[molecule] scenario {scenario}: {took:.1f} s ({'passed' if proc.returncode == 0 else 'failed'})")
    assert proc.returncode == 0, f"molecule test -s {scenario} exited {proc.returncode}:\n{proc.stdout[-20000:]}"
