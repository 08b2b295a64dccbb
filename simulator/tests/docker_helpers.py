"""What the docker driver's tests share: a simulator with real containers, SSH, polling.

Only one docker-driven simulator can run on a host at a time (the ``public``
network's bridge takes 172.24.4.0/24), so each test module starts its own
with a module-scoped fixture and stops and purges it before the next one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from stacksim.testing import Simulator, docker_turn

STACKSIM = str(Path(sys.executable).parent / "stacksim")
SSH_OPTIONS = [
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "BatchMode=yes",
    "-o",
    "LogLevel=ERROR",
    "-o",
    "ConnectTimeout=3",
]


def engine_problem() -> str | None:
    """Why no Docker engine can be had here (None: the docker tests run)."""
    from stacksim.drivers.docker import check

    return check()


@contextmanager
def docker_cloud(tmp: Path) -> Iterator[Simulator]:
    """A docker-driven simulator with its state in ``tmp``, purged from the engine afterwards."""
    problem = engine_problem()
    if problem:
        pytest.skip(f"no Docker engine: {problem}")
    built = subprocess.run([STACKSIM, "images", "build"], capture_output=True, text=True, timeout=900)
    assert built.returncode == 0, f"the base image could not be built:\n{built.stdout}\n{built.stderr}"
    state = tmp / "state"
    sim = Simulator(state_dir=state, extra_args=["--compute-driver", "docker", "--delay", "0"])
    with docker_turn():
        try:
            with sim:
                yield sim
        finally:
            subprocess.run([STACKSIM, "stop", "--state-dir", str(state), "--purge"], capture_output=True, timeout=120)


def connect(sim: Simulator, cloud: str = "stacksim") -> Any:
    import openstack
    import openstack.config

    config = openstack.config.OpenStackConfig(config_files=[str(sim.clouds_yaml)])
    return openstack.connection.Connection(config=config.get_one(cloud))


def docker_json(*args: str) -> Any:
    out = subprocess.run(["docker", *args], capture_output=True, text=True, check=True).stdout
    return json.loads(out) if out.strip().startswith(("[", "{")) else out


def state_label(sim: Simulator) -> str:
    return f"stacksim.state={(sim.state_dir / 'data').resolve()}"


def containers_of(sim: Simulator) -> list[str]:
    out = subprocess.run(
        ["docker", "ps", "-a", "-q", "--filter", f"label={state_label(sim)}"], capture_output=True, text=True
    )
    return out.stdout.split()


def networks_of(sim: Simulator) -> list[str]:
    out = subprocess.run(
        ["docker", "network", "ls", "-q", "--filter", f"label={state_label(sim)}"], capture_output=True, text=True
    )
    return out.stdout.split()


def inspect(server_id: str, sim: Simulator) -> dict[str, Any]:
    found = subprocess.run(
        [
            "docker",
            "ps",
            "-a",
            "-q",
            "--filter",
            f"label=stacksim.server={server_id}",
            "--filter",
            f"label={state_label(sim)}",
        ],
        capture_output=True,
        text=True,
    ).stdout.split()
    assert found, f"no container for server {server_id}"
    return docker_json("inspect", found[0])[0]


def wait_until(check: Callable[[], Any], timeout: float = 60.0, what: str = "the condition") -> Any:
    """Poll ``check`` until it returns something true; its value."""
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)


def wait_status(conn: Any, server_id: str, status: str, timeout: float = 90.0) -> Any:
    def check() -> Any:
        server = conn.compute.get_server(server_id)
        if server.status == "ERROR" and status != "ERROR":
            raise AssertionError(f"server {server_id} went to ERROR: {server.fault}")
        return server if server.status == status else None

    return wait_until(check, timeout, f"server {server_id} to be {status}")


def ssh(
    key: Path, host: str, command: str, user: str = "cirros", timeout: float = 30, options: list[str] | None = None
) -> subprocess.CompletedProcess:
    """Run ``command`` over SSH; a session that hangs (its packets dropped) counts as failed (255)."""
    cmd = ["ssh", "-i", str(key), *SSH_OPTIONS, *(options or []), f"{user}@{host}", command]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(cmd, 255, "", f"timed out after {timeout}s")


def wait_ssh(key: Path, host: str, command: str = "true", user: str = "cirros", timeout: float = 60) -> str:
    """Run ``command`` over SSH once the host answers; its output."""
    last: list[subprocess.CompletedProcess] = []

    def attempt() -> bool:
        proc = ssh(key, host, command, user)
        last[:] = [proc]
        return proc.returncode == 0

    try:
        wait_until(attempt, timeout, f"ssh {user}@{host} {command!r}")
    except AssertionError:
        proc = last[0] if last else None
        raise AssertionError(f"ssh {user}@{host} {command!r} never worked: {proc and proc.stderr}") from None
    return last[0].stdout


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def private_key(conn: Any, folder: Path, name: str) -> Path:
    """A new key pair of the connection's user; the private key written to ``folder``."""
    keypair = conn.compute.create_keypair(name=name)
    path = folder / name
    path.write_text(keypair.private_key)
    os.chmod(path, 0o600)
    return path
