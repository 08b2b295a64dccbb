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
from stacksim.testing_fork import ForkServer, LineChild


@pytest.fixture(scope="session", autouse=True)
def _simulator_forkserver() -> Iterator[None]:
    """Every simulator the tests start is a fork of one process that imported stacksim once."""
    Simulator.forkserver = ForkServer()
    yield
    Simulator.forkserver.close()
    Simulator.forkserver = None


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


#: seconds one ``openstack`` command may take
CLI_TIMEOUT = 120


class _CliForks:
    """``openstack_forkserver.py``: each command a fork of one process that imported the CLI."""

    def __init__(self, workdir: Path) -> None:
        script = Path(__file__).with_name("openstack_forkserver.py")
        self.server = LineChild([sys.executable, str(script)], "openstack", timeout=CLI_TIMEOUT)
        self.workdir = workdir
        self.count = 0

    def run(self, argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
        self.count += 1
        out, err = self.workdir / f"{self.count}.out", self.workdir / f"{self.count}.err"
        answer = self.server.ask({"argv": argv, "env": env, "stdout": str(out), "stderr": str(err)})
        result = answer["returncode"], out.read_text(), err.read_text()
        out.unlink()
        err.unlink()
        return result


class Cli:
    """The ``openstack`` command as shipped, against a simulator (for the CLI's own behaviour: one smoke
    test per service; everything else goes through the SDK or HTTP, which are faster).

    :meth:`run` runs the CLI's entry point in a process of its own forked from one that imported
    the CLI once (``openstack_forkserver.py``: a command costs a tenth of a whole ``openstack``
    process); :meth:`exec` runs the ``openstack`` executable itself, once in each smoke test.
    """

    def __init__(self, sim: Simulator, forkserver: _CliForks) -> None:
        self.sim = sim
        self.exe = _openstack_cli()
        self._forkserver = forkserver

    def _argv(self, args: tuple[str, ...], cloud: str | None) -> list[str]:
        return [*(("--os-cloud", cloud) if cloud else ()), *args]

    @staticmethod
    def _checked(cmd: list[str], proc: subprocess.CompletedProcess, check: bool) -> subprocess.CompletedProcess:
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc

    def run(self, *args: str, cloud: str | None = "stacksim", check: bool = True) -> subprocess.CompletedProcess:
        argv = self._argv(args, cloud)
        returncode, out, err = self._forkserver.run(argv, self.sim.env)
        cmd = ["openstack", *argv]
        return self._checked(cmd, subprocess.CompletedProcess(cmd, returncode, out, err), check)

    def exec(self, *args: str, cloud: str | None = "stacksim", check: bool = True) -> subprocess.CompletedProcess:
        cmd = [self.exe, *self._argv(args, cloud)]
        proc = subprocess.run(cmd, env=self.sim.env, capture_output=True, text=True, timeout=CLI_TIMEOUT)
        return self._checked(cmd, proc, check)

    def json(self, *args: str, cloud: str = "stacksim", exec: bool = False):
        runner = self.exec if exec else self.run
        return json.loads(runner(*args, "-f", "json", cloud=cloud).stdout or "null")


@pytest.fixture(scope="session")
def _openstack_forkserver(tmp_path_factory) -> Iterator[_CliForks]:
    forks = _CliForks(tmp_path_factory.mktemp("openstack-cli"))
    yield forks
    forks.server.close()


@pytest.fixture(scope="session")
def cli(sim: Simulator, _openstack_forkserver: _CliForks) -> Cli:
    return Cli(sim, _openstack_forkserver)


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
