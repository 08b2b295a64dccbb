"""A restart reconciles servers with containers; stop leaves them, a purge removes this state dir's only."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from docker_helpers import (
    STACKSIM,
    connect,
    containers_of,
    engine_problem,
    networks_of,
    unique,
    wait_status,
)

from stacksim.drivers.docker import baseimage
from stacksim.testing import Simulator, docker_turn

pytestmark = pytest.mark.requires_docker


def _run(*args: str) -> str:
    return subprocess.run(list(args), capture_output=True, text=True, check=True).stdout.strip()


def test_restart_reconciles_and_touches_no_other_state_dir(tmp_path):
    problem = engine_problem()
    if problem:
        pytest.skip(f"no Docker engine: {problem}")
    subprocess.run([STACKSIM, "images", "build"], check=True, capture_output=True, timeout=900)
    state = tmp_path / "state"
    args = ["--compute-driver", "docker", "--delay", "0"]
    label = f"stacksim.state={(state / 'data').resolve()}"
    with docker_turn():  # only one docker-driven simulator at a time on a host
        _restart(state, args, label)


def _restart(state: Path, args: list[str], label: str) -> None:
    other = None
    try:
        with Simulator(state_dir=state, extra_args=args) as first:
            conn = connect(first)
            net = conn.network.create_network(name=unique("net"))
            conn.network.create_subnet(network_id=net.id, cidr="10.202.0.0/24", ip_version=4)
            image = conn.image.find_image("cirros-0.6.2-x86_64-disk")
            flavor = conn.compute.find_flavor("m1.nano")
            made = [
                conn.compute.create_server(
                    name=unique(role), image_id=image.id, flavor_id=flavor.id, networks=[{"uuid": net.id}]
                )
                for role in ("gone", "stopped", "kept")
            ]
            gone, stopped, kept = (wait_status(conn, s.id, "ACTIVE") for s in made)
        # stacksim stopped: its containers are left as they were.
        assert len(containers_of(first)) == 3
        _run("docker", "rm", "-f", _container(label, gone.id))
        _run("docker", "stop", "-t", "1", _container(label, stopped.id))
        base = baseimage.reference()
        stray = _run(
            "docker", "run", "-d", "--label", label, "--label", "stacksim.server=no-such-server", base, "sleep", "600"
        )
        other = _run(
            "docker",
            "run",
            "-d",
            "--label",
            "stacksim.state=/another/state/dir",
            "--label",
            f"stacksim.server={kept.id}",
            base,
            "sleep",
            "600",
        )
        with Simulator(state_dir=state, extra_args=args) as second:
            conn = connect(second)
            failed = wait_status(conn, gone.id, "ERROR")
            assert "container is gone" in failed.fault["message"]
            wait_status(conn, stopped.id, "SHUTOFF")
            assert wait_status(conn, kept.id, "ACTIVE")
            assert stray not in " ".join(_run("docker", "ps", "-a", "-q", "--no-trunc").split())
            assert _run("docker", "inspect", "-f", "{{.State.Running}}", other) == "true"
            conn.compute.start_server(stopped)
            wait_status(conn, stopped.id, "ACTIVE")
        subprocess.run([STACKSIM, "stop", "--state-dir", str(state), "--purge"], check=True, capture_output=True)
        assert not containers_of(second) and not networks_of(second)
        assert _run("docker", "inspect", "-f", "{{.State.Running}}", other) == "true"
    finally:
        subprocess.run([STACKSIM, "stop", "--state-dir", str(state), "--purge"], capture_output=True)
        if other:
            subprocess.run(["docker", "rm", "-f", other], capture_output=True)


def _container(label: str, server_id: str) -> str:
    return _run(
        "docker", "ps", "-a", "-q", "--filter", f"label={label}", "--filter", f"label=stacksim.server={server_id}"
    )
