# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``ansible-test sanity`` on the built collection tree must pass.

ansible-test only runs inside ``ansible_collections/<namespace>/<name>``; tests/conftest.py
lays the tree out under build/. ``--venv`` makes ansible-test install each test's own
requirements (pylint, yamllint, voluptuous, antsibull-changelog ...) from PyPI into
cached virtual environments (~/.ansible/test/venv), so the first run takes minutes and
the next ones seconds. Its pip bootstrap comes from a host this workplace does not
reach; tests/utils/ansible_test_pip_bootstrap.py stands in for it.

``--venv`` also runs ansible-test itself from a virtual environment it makes under the tree's
tests/output/.tmp/delegation (a venv with only pip, bootstrapped: 5-6 s of CPU and over ten of
wall time on the 2-core machine). tests/conftest.py lays the tree out afresh every session, so
that directory is a link to one kept under build/, per interpreter, which ansible-test reuses
as it reuses its own (it rebuilds one without its marker file).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.sanity
SANITY_TIMEOUT = 3600
REPO = Path(__file__).resolve().parents[2]
#: Where ansible-test's own --venv environments are kept between sessions.
DELEGATION_CACHE = REPO / "build" / "ansible-test-delegation"


def _keep_delegation_venv(collection_root: Path) -> None:
    """Point the tree's tests/output/.tmp/delegation at a directory kept across sessions.

    Keyed by this interpreter and its version: a venv links to the Python that made it. Not
    when the tests run from inside a collection tree of their own (nothing lays it out anew).
    """
    if collection_root.resolve() == REPO:
        return
    key = hashlib.sha256(f"{Path(sys.executable).resolve()} {sys.version}".encode()).hexdigest()[:12]
    kept = DELEGATION_CACHE / key
    kept.mkdir(parents=True, exist_ok=True)
    link = collection_root / "tests" / "output" / ".tmp" / "delegation"
    if link.is_symlink() and link.resolve() == kept.resolve():
        return
    if link.is_symlink() or link.is_file():
        link.unlink()
    elif link.exists():
        shutil.rmtree(link)
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(kept, target_is_directory=True)


def test_ansible_test_sanity_passes(collection_root: Path, tests_util: Callable) -> None:
    beside = Path(sys.executable).parent / "ansible-test"
    ansible_test = str(beside) if beside.exists() else shutil.which("ansible-test")
    assert ansible_test, "ansible-test (from ansible-core) must be installed: run the tests from the project venv"
    tests_util("ansible_test_pip_bootstrap").install()
    _keep_delegation_venv(collection_root)
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    cmd = [ansible_test, "sanity", "--venv", "--python", python, "--color", "no"]
    proc = subprocess.run(
        cmd,
        cwd=collection_root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=SANITY_TIMEOUT,
        check=False,
    )
    assert proc.returncode == 0, f"{' '.join(cmd)} (in {collection_root}) exited {proc.returncode}:\n{proc.stdout}"
