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
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.sanity
SANITY_TIMEOUT = 3600


def test_ansible_test_sanity_passes(collection_root: Path, tests_util: Callable) -> None:
    beside = Path(sys.executable).parent / "ansible-test"
    ansible_test = str(beside) if beside.exists() else shutil.which("ansible-test")
    assert ansible_test, "ansible-test (from ansible-core) must be installed: run the tests from the project venv"
    tests_util("ansible_test_pip_bootstrap").install()
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
