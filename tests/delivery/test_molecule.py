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

The role scenarios (sandbox, appliances, runners: their create step deploys stacksim with the
simulator role) get a copy of one virtualenv made per test run with what the role installs, so
that the role finds its install in place, as on a redeployment; the simulator scenario tests the
role's install from nothing. Molecule run by hand installs from nothing in every scenario.

The ``openstack`` scenario runs Molecule's own OpenStack driver against a stacksim with the
docker compute driver that the test starts (under the host's docker-test lock: one
docker-driven stacksim at a time), and checks afterwards that the cloud holds nothing the
scenario made. Without a Docker engine it is skipped, saying why.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from .conftest import REPO, TIMEOUT, WHEELHOUSE, clean_env, run, tool

EXTENSIONS = REPO / "extensions"
SCENARIOS_DIR = EXTENSIONS / "molecule"
SCENARIO_TIMEOUT = 900
#: Scenarios with a test of their own below.
DOCKER_SCENARIOS = {"openstack"}
#: Only one docker-driven stacksim at a time on a host (its `public` bridge takes 172.24.4.0/24).
DOCKER_LOCK = Path(tempfile.gettempdir()) / "stacksim-docker-tests.lock"
#: openstack.cloud, which Molecule's OpenStack driver uses (`make collection` installs it).
DEPENDENCIES = REPO / "build" / "collections"
#: The create step of the scenarios that deploy stacksim with the simulator role.
ROLE_CREATE = "../utils/playbooks/simulator_role_start.yml"
#: The interpreter those scenarios make stacksim's virtualenv with (simulator_role_start.yml).
SYSTEM_PYTHON = "/usr/bin/python3"

pytestmark = pytest.mark.molecule


def _scenarios() -> list[str]:
    return sorted(p.parent.name for p in SCENARIOS_DIR.glob("*/molecule.yml") if p.parent.name not in DOCKER_SCENARIOS)


def _deploys_simulator_role(scenario: str) -> bool:
    config = yaml.safe_load((SCENARIOS_DIR / scenario / "molecule.yml").read_text())
    return config["provisioner"].get("playbooks", {}).get("create") == ROLE_CREATE


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


@pytest.fixture(scope="session")
def simulator_venv_template(collection_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv as the simulator role leaves it in simulator_role_start.yml's deployment: the
    collection's stacksim wheel in ``dist/``, installed with its dependencies from build/wheelhouse.

    Made once per test run (xdist workers share it, under a lock) instead of once per role
    scenario: making a virtualenv and installing twenty packages is most of what a deployment costs.
    """
    (wheel,) = (collection_root / "roles" / "simulator" / "files").glob("stacksim-*.whl")
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    venv = root / f"simulator-venv-{hashlib.sha256(wheel.read_bytes()).hexdigest()[:16]}"
    with open(f"{venv}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (venv / ".complete").is_file():
            shutil.rmtree(venv, ignore_errors=True)
            subprocess.run([SYSTEM_PYTHON, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=TIMEOUT)
            dist = venv / "dist" / wheel.name
            dist.parent.mkdir()
            shutil.copy2(wheel, dist)
            pip = [str(venv / "bin" / "pip"), "install", "--no-index", "--find-links", str(WHEELHOUSE), str(dist)]
            subprocess.run(pip, check=True, capture_output=True, timeout=TIMEOUT)
            (venv / ".complete").touch()
    return venv


def _clone_venv(template: Path, dest: Path) -> None:
    """Copy a virtualenv; the paths it records of itself (its scripts' interpreter lines,
    pyvenv.cfg, an installed wheel's direct_url.json) are changed to ``dest``."""
    shutil.copytree(template, dest, symlinks=True, ignore=shutil.ignore_patterns(".complete"))
    old, new = str(template).encode(), str(dest).encode()
    recorded = [*(dest / "bin").iterdir(), dest / "pyvenv.cfg"]
    recorded += dest.glob("lib/python*/site-packages/*.dist-info/direct_url.json")
    for path in recorded:
        if path.is_file() and not path.is_symlink() and old in (data := path.read_bytes()):
            path.write_bytes(data.replace(old, new))


@contextmanager
def _simulator_venv(template: Path) -> Iterator[Path]:
    """A copy of the template for one deployment, where the role's service user can reach it
    (pytest's temporary directories are private); the role's destroy step removes it."""
    outer = Path(tempfile.mkdtemp(prefix="molecule-venv-"))
    try:
        outer.chmod(0o755)
        _clone_venv(template, outer / "venv")
        yield outer / "venv"
    finally:
        shutil.rmtree(outer, ignore_errors=True)


@contextmanager
def _timed(scenario: str, capsys: pytest.CaptureFixture[str]) -> Iterator[None]:
    started = time.monotonic()
    try:
        yield
    finally:
        with capsys.disabled():
            print(f"\n[molecule] scenario {scenario}: {time.monotonic() - started:.1f} s")


@pytest.mark.parametrize("scenario", _scenarios())
def test_scenario(
    scenario: str,
    molecule_env: dict,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with _timed(scenario, capsys), contextlib.ExitStack() as stack:
        # These scenarios run modules on this host (a local connection): their temporary files
        # go to a directory of this test's own, not ~/.ansible/tmp, which every Ansible run on
        # the host shares (a cleanup elsewhere once pulled a module's file from under a run).
        env = dict(molecule_env, ANSIBLE_REMOTE_TMP=str(tmp_path / "ansible-remote-tmp"))
        if _deploys_simulator_role(scenario):
            template = request.getfixturevalue("simulator_venv_template")
            env["OPENSANDBOX_SIMULATOR_VENV"] = str(stack.enter_context(_simulator_venv(template)))
        run([tool("molecule"), "test", "-s", scenario], env, EXTENSIONS, timeout=SCENARIO_TIMEOUT)


@contextmanager
def _docker_stacksim(tmp: Path) -> Iterator[Path]:
    """A docker-driven stacksim holding the host's docker-test lock; yields its clouds.yaml."""
    from stacksim.drivers.docker import check
    from stacksim.testing import free_port

    problem = check()
    if problem:
        pytest.skip(f"no Docker engine: {problem}")
    stacksim = tool("stacksim")
    # The driver's base image (built once, cached by the engine after).
    subprocess.run([stacksim, "images", "build"], check=True, capture_output=True, timeout=SCENARIO_TIMEOUT)
    state, clouds = tmp / "state", tmp / "clouds.yaml"
    with open(DOCKER_LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            start = [stacksim, "start", "--port", str(free_port()), "--state-dir", str(state)]
            start += ["--compute-driver", "docker", "--delay", "0", "--clouds-yaml", str(clouds)]
            subprocess.run(start, check=True, capture_output=True, timeout=120)
            yield clouds
        finally:
            stop = [stacksim, "stop", "--purge", "--state-dir", str(state)]
            subprocess.run(stop, capture_output=True, timeout=300, check=False)
            fcntl.flock(lock, fcntl.LOCK_UN)


def _leftovers(clouds: Path) -> dict[str, list[str]]:
    """What the demo project holds beyond stacksim's bootstrap (its `default` security group)."""
    import openstack
    from openstack.config import OpenStackConfig

    conn = openstack.connection.Connection(
        config=OpenStackConfig(config_files=[str(clouds)], load_envvars=False).get_one("stacksim")
    )
    try:
        project = conn.current_project_id
        return {
            "servers": [s.name for s in conn.compute.servers()],
            "keypairs": [k.name for k in conn.compute.keypairs()],
            "networks": [n.name for n in conn.network.networks(project_id=project)],
            "routers": [r.name for r in conn.network.routers(project_id=project)],
            "ports": [p.id for p in conn.network.ports(project_id=project)],
            "floating_ips": [f.floating_ip_address for f in conn.network.ips(project_id=project)],
            "security_groups": [
                g.name for g in conn.network.security_groups(project_id=project) if g.name != "default"
            ],
        }
    finally:
        conn.close()


@pytest.mark.requires_docker
def test_openstack_scenario(molecule_env: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (DEPENDENCIES / "ansible_collections" / "openstack" / "cloud").is_dir(), (
        "openstack.cloud is missing from build/collections: run `make collection` first"
    )
    with _docker_stacksim(tmp_path) as clouds, _timed("openstack", capsys):
        env = dict(
            molecule_env,
            ANSIBLE_COLLECTIONS_PATH=f"{molecule_env['ANSIBLE_COLLECTIONS_PATH']}:{DEPENDENCIES}",
            OS_CLIENT_CONFIG_FILE=str(clouds),
            OS_CLOUD="stacksim",
        )
        run([tool("molecule"), "test", "-s", "openstack"], env, EXTENSIONS, timeout=SCENARIO_TIMEOUT)
        left = {kind: names for kind, names in _leftovers(clouds).items() if names}
        assert not left, f"the openstack scenario left behind: {left}"
