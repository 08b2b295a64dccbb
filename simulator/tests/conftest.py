"""Fixtures: a live simulator, openstacksdk connections and the ``openstack`` CLI against it.

Isolation: one simulator per session (per pytest-xdist worker), brought back to
its bootstrap state (``POST /_stacksim/reset``, a few tens of milliseconds)
before every test that uses it. So every test starts from the same cloud, runs
alone or in any order (``--random-order``, ``--reverse``), and fixtures that
make things in the cloud are function-scoped. A reset keeps the bootstrap
users' tokens and every bootstrap id, so the session's connections stay good.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from stacksim.testing import Simulator


@pytest.fixture(scope="session")
def sim() -> Iterator[Simulator]:
    with Simulator() as running:
        # openstacksdk reads this when a connection's config is loaded.
        old = os.environ.get("OS_CLIENT_CONFIG_FILE")
        os.environ["OS_CLIENT_CONFIG_FILE"] = str(running.clouds_yaml)
        yield running
        if old is None:
            os.environ.pop("OS_CLIENT_CONFIG_FILE", None)
        else:
            os.environ["OS_CLIENT_CONFIG_FILE"] = old


@pytest.fixture(autouse=True)
def _bootstrap_state(request: pytest.FixtureRequest) -> None:
    """Every test that uses the session's simulator starts from its bootstrap state."""
    if "sim" in request.fixturenames:
        request.getfixturevalue("sim").reset()


@pytest.fixture(scope="session")
def connect(sim: Simulator):
    import openstack

    def make(cloud: str = "stacksim", **overrides):
        return openstack.connect(cloud=cloud, **overrides)

    return make


@pytest.fixture(scope="session")
def admin(connect):
    return connect("stacksim-admin")


@pytest.fixture(scope="session")
def demo(connect):
    return connect("stacksim")


@pytest.fixture(scope="session")
def alt(connect):
    return connect("stacksim-alt")


def _openstack_cli() -> str:
    here = Path(sys.executable).parent / "openstack"
    return str(here) if here.exists() else (shutil.which("openstack") or "openstack")


class Cli:
    """Runs the ``openstack`` command as shipped, against a simulator (for the CLI's own behaviour:
    one smoke test per service; everything else goes through the SDK or HTTP, which are faster)."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.exe = _openstack_cli()

    def run(self, *args: str, cloud: str | None = "stacksim", check: bool = True) -> subprocess.CompletedProcess:
        cmd = [self.exe, *(("--os-cloud", cloud) if cloud else ()), *args]
        proc = subprocess.run(cmd, env=self.sim.env, capture_output=True, text=True, timeout=120)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc

    def json(self, *args: str, cloud: str = "stacksim"):
        return json.loads(self.run(*args, "-f", "json", cloud=cloud).stdout or "null")


@pytest.fixture(scope="session")
def cli(sim: Simulator) -> Cli:
    return Cli(sim)


@pytest.fixture
def roomy_demo_quota(admin, demo):
    """Room for several stacks of servers in the demo project."""
    admin.set_compute_quotas(demo.current_project_id, instances=60, cores=120, ram=512000)


@pytest.fixture
def key_name(demo):
    """A fresh key pair of the demo user."""
    name = f"k{uuid.uuid4().hex[:6]}"
    demo.compute.create_keypair(name=name)
    return name
