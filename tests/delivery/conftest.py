# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection as its users get it: one tarball per session, installed into a clean path.

``ansible-galaxy collection build`` runs once on the repository (galaxy.yml's build_ignore
applies, as for a release) and ``ansible-galaxy collection install`` puts the tarball into
an empty collections path; the Galaxy, AWX and lint tests share both.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
#: stacksim's dependencies as wheels (`make wheelhouse`): the simulator role installs from here.
WHEELHOUSE = REPO / "build" / "wheelhouse"
TIMEOUT = 900


def tool(name: str) -> str:
    """A command of the project venv (where the tests run), else from PATH; fail loudly without it."""
    beside = BIN / name
    found = str(beside) if beside.exists() else shutil.which(name)
    assert found, f"{name} must be installed: run the tests from the project venv (make .venv/bin/.installed)"
    return found


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment without the user's Ansible or OpenStack settings, with an empty ansible.cfg."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "OS_", "MOLECULE_"))}
    home.mkdir(parents=True, exist_ok=True)
    (home / "ansible.cfg").write_text("[defaults]\n")
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        ANSIBLE_CONFIG=str(home / "ansible.cfg"),
        ANSIBLE_HOME=str(home),
        ANSIBLE_LOCAL_TEMP=str(home / "tmp"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
        NO_COLOR="1",
    )
    env.update(extra)
    return env


def run(cmd: Sequence[str], env: dict[str, str], cwd: Path, timeout: int = TIMEOUT) -> subprocess.CompletedProcess:
    """Run a command; fail with its output if it fails."""
    proc = subprocess.run(
        list(cmd),
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == 0, f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout[-20000:]}"
    return proc


@pytest.fixture(scope="session")
def galaxy_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("galaxy-home")


@pytest.fixture(scope="session")
def collection_tarball(tmp_path_factory: pytest.TempPathFactory, galaxy_home: Path) -> Path:
    """``ansible-galaxy collection build`` of the repository, once per session."""
    assert list((REPO / "roles" / "simulator" / "files").glob("stacksim-*.whl")), (
        "the simulator role's stacksim wheel is missing: run `make collection` first"
    )
    out = tmp_path_factory.mktemp("dist")
    run(
        [tool("ansible-galaxy"), "collection", "build", "--output-path", str(out), str(REPO)],
        clean_env(galaxy_home),
        REPO,
    )
    (tarball,) = out.glob("opensandbox-cloud-*.tar.gz")
    return tarball


@pytest.fixture(scope="session")
def installed_collections(
    tmp_path_factory: pytest.TempPathFactory, collection_tarball: Path, galaxy_home: Path
) -> Path:
    """A clean collections path holding only opensandbox.cloud, installed from the tarball."""
    dest = tmp_path_factory.mktemp("installed")
    run(
        [tool("ansible-galaxy"), "collection", "install", "--offline", "-p", str(dest), str(collection_tarball)],
        clean_env(galaxy_home),
        dest,
    )
    assert (dest / "ansible_collections" / "opensandbox" / "cloud" / "MANIFEST.json").is_file()
    return dest
