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

The role scenarios (sandbox, appliances, runners) and the integration_<target> ones start their
stacksim with ``stacksim start``; the simulator scenario is the one that deploys it with the
simulator role (install from nothing, idempotent re-run, supervision, removal).

The ``openstack`` scenario runs Molecule's own OpenStack driver against a stacksim with the
docker compute driver that the test starts (under the host's docker-test lock: one
docker-driven stacksim at a time), and checks afterwards that the cloud holds nothing the
scenario made. Without a Docker engine it is skipped, saying why.
"""

from __future__ import annotations

import fcntl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from .conftest import REPO, WHEELHOUSE, clean_env, run, tool

EXTENSIONS = REPO / "extensions"
SCENARIOS_DIR = EXTENSIONS / "molecule"
SCENARIO_TIMEOUT = 900
#: Scenarios with a test of their own below.
DOCKER_SCENARIOS = {"openstack"}
#: Only one docker-driven stacksim at a time on a host (its `public` bridge takes 172.24.4.0/24).
DOCKER_LOCK = Path(tempfile.gettempdir()) / "stacksim-docker-tests.lock"
#: openstack.cloud, which Molecule's OpenStack driver uses (`make collection` installs it).
DEPENDENCIES = REPO / "build" / "collections"

pytestmark = pytest.mark.molecule


def _scenarios() -> list[str]:
    return sorted(p.parent.name for p in SCENARIOS_DIR.glob("*/molecule.yml") if p.parent.name not in DOCKER_SCENARIOS)


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


@contextmanager
def _timed(scenario: str, capsys: pytest.CaptureFixture[str]) -> Iterator[None]:
    started = time.monotonic()
    try:
        yield
    finally:
        with capsys.disabled():
            print(f"\n[molecule] scenario {scenario}: {time.monotonic() - started:.1f} s")


@pytest.mark.parametrize("scenario", _scenarios())
def test_scenario(scenario: str, molecule_env: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # These scenarios run modules on this host (a local connection): their temporary files go
    # to a directory of this test's own, not ~/.ansible/tmp, which every Ansible run on the host
    # shares (a cleanup elsewhere once pulled a module's file from under a run).
    env = dict(molecule_env, ANSIBLE_REMOTE_TMP=str(tmp_path / "ansible-remote-tmp"))
    with _timed(scenario, capsys):
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
