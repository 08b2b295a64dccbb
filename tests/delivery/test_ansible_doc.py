# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``ansible-doc`` renders every module and role of the collection without a warning.

The lists come from ``ansible-doc -l``, so new modules and roles are covered; each is
rendered as text the way a user reads it, and a warning (a broken doc fragment, an option
documented twice, a bad argument_specs.yml) fails the test.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .conftest import clean_env, run, tool

pytestmark = pytest.mark.delivery


@pytest.mark.parametrize("kind", ["module", "role"])
def test_ansible_doc_renders_everything_without_warnings(kind: str, collections_path: Path, tmp_path: Path) -> None:
    env = clean_env(tmp_path / "home", ANSIBLE_COLLECTIONS_PATH=str(collections_path))
    names = sorted(
        json.loads(run([tool("ansible-doc"), "-t", kind, "-l", "-j", "opensandbox.cloud"], env, tmp_path).stdout)
    )
    assert names, f"ansible-doc lists no {kind} of opensandbox.cloud"
    for name in names:
        proc = subprocess.run(
            [tool("ansible-doc"), "-t", kind, name],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert proc.returncode == 0, f"ansible-doc -t {kind} {name} exited {proc.returncode}:\n{proc.stderr}"
        assert "[WARNING]" not in proc.stderr and "[DEPRECATION" not in proc.stderr, f"{name}:\n{proc.stderr}"
        assert name.split(".")[-1] in proc.stdout and "OPTIONS" in proc.stdout.upper(), proc.stdout[:2000]
