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

import time
from pathlib import Path

import pytest

from .conftest import REPO, WHEELHOUSE, clean_env, run, tool

EXTENSIONS = REPO / "extensions"
SCENARIOS_DIR = EXTENSIONS / "molecule"
SCENARIO_TIMEOUT = 900

pytestmark = pytest.mark.molecule


def _scenarios() -> list[str]:
    return sorted(p.parent.name for p in SCENARIOS_DIR.glob("*/molecule.yml"))


@pytest.fixture(scope="module")
def molecule_env(collections_path: Path, collection_root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    wheels = list((collection_root / "roles" / "simulator" / "files").glob("stacksim-*.whl"))
    assert wheels, "the simulator role's stacksim wheel is missing: run `make collection` first"
    assert (WHEELHOUSE / ".complete").is_file(), "build/wheelhouse is missing: run `make wheelhouse` first"
    return clean_env(
        tmp_path_factory.mktemp("molecule-home"),
        ANSIBLE_COLLECTIONS_PATH=str(collections_path),
        ANSIBLE_PIPELINING="true",
        OPENSANDBOX_WHEELHOUSE=str(WHEELHOUSE),
    )


@pytest.mark.parametrize("scenario", _scenarios())
def test_scenario(scenario: str, molecule_env: dict, capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    try:
        run([tool("molecule"), "test", "-s", scenario], molecule_env, EXTENSIONS, timeout=SCENARIO_TIMEOUT)
    finally:
        with capsys.disabled():
            print(f"\n[molecule] scenario {scenario}: {time.monotonic() - started:.1f} s")
