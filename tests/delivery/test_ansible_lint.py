# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``ansible-lint`` with the production profile passes on the roles, playbooks and Molecule scenarios.

.ansible-lint at the repository root sets the profile and keeps the simulator's sources
and build output out of the run. tests/utils/ansible_lint_batched.py runs ansible-lint with
its per-playbook syntax checks batched into one ``ansible-playbook`` run (each file is
checked alone only when the batch fails, to name the culprit).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import REPO, clean_env, run, tool

pytestmark = pytest.mark.delivery


def test_ansible_lint_production_profile(collections_path: Path, tmp_path: Path) -> None:
    # The collection under test, then what playbooks/demo.yml also uses (openstack.cloud,
    # which `make collection` installs into build/collections).
    paths = f"{collections_path}:{REPO / 'build' / 'collections'}"
    env = clean_env(tmp_path / "home", ANSIBLE_COLLECTIONS_PATH=paths)
    lint = REPO / "tests" / "utils" / "ansible_lint_batched.py"
    proc = run([tool("python"), str(lint), "--nocolor", "--profile", "production"], env, REPO)
    assert "Profile 'production' was required, and it passed" in proc.stdout
    assert "playbooks and roles in one run: exit 0" in proc.stdout, "the batched syntax check did not run"
