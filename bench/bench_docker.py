"""The docker compute driver beside the fake one: boot to ACTIVE and SSH answering, 20 at once, the base image.

Run (as root, with a Docker engine: ``make docker-engine``):
    .venv/bin/python bench/bench_docker.py [--boots N] [--parallel N] [--cold]

For each driver it starts its own simulator (state in a temporary dir, on
loopback), boots ``--boots`` servers one after another and then ``--parallel``
at once, and measures, per server, the time from the create request to
``ACTIVE`` and (docker) to its SSH port answering with a banner on the
fixed IP. ``--cold`` also rebuilds the base image from scratch (minutes).
It removes everything it made and prints a JSON record to add to
bench/results/docker.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from stacksim.testing import Simulator, docker_turn

STACKSIM = str(Path(sys.executable).parent / "stacksim")
IMAGE = "cirros-0.6.2-x86_64-disk"


def _connect(sim: Simulator, cloud: str = "stacksim"):
    import openstack.config

    config = openstack.config.OpenStackConfig(config_files=[str(sim.clouds_yaml)])
    return openstack.connection.Connection(config=config.get_one(cloud))


def _ssh_banner(address: str) -> bool:
    try:
        with socket.create_connection((address, 22), timeout=0.5) as sock:
            sock.settimeout(1.0)
            return sock.recv(8).startswith(b"SSH-")
    except OSError:
        return False


def _until(check, timeout: float = 180.0, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError("timed out")


class Cloud:
    def __init__(self, sim: Simulator, cidr: str) -> None:
        self.conn = _connect(sim)
        admin = _connect(sim, "stacksim-admin")
        project = admin.identity.find_project("demo")
        admin.set_compute_quotas(project.id, instances=100, cores=200, ram=512000)
        net = self.conn.network
        self.network = net.create_network(name="bench")
        net.create_subnet(network_id=self.network.id, cidr=cidr, ip_version=4)
        group = net.create_security_group(name="bench-ssh")
        net.create_security_group_rule(
            security_group_id=group.id, direction="ingress", protocol="tcp", port_range_min=22, port_range_max=22
        )
        self.group = group.name
        self.image = self.conn.image.find_image(IMAGE).id
        self.flavor = self.conn.compute.find_flavor("m1.nano").id

    def boot(self, name: str, ssh: bool) -> dict[str, float]:
        """Seconds from the create request to ACTIVE, and to SSH answering."""
        started = time.monotonic()
        server = self.conn.compute.create_server(
            name=name,
            image_id=self.image,
            flavor_id=self.flavor,
            networks=[{"uuid": self.network.id}],
            security_groups=[{"name": self.group}],
        )

        def active():
            found = self.conn.compute.get_server(server.id)
            if found.status == "ERROR":
                raise RuntimeError(f"{name} failed: {found.fault}")
            return found if found.status == "ACTIVE" else None

        found = _until(active, interval=0.05)
        result = {"active_s": time.monotonic() - started}
        if ssh:
            address = next(iter(found.addresses.values()))[0]["addr"]
            _until(lambda: _ssh_banner(address))
            result["ssh_s"] = time.monotonic() - started
        return result

    def clean(self) -> None:
        for server in list(self.conn.compute.servers()):
            self.conn.compute.delete_server(server)
        for server in list(self.conn.compute.servers()):
            self.conn.compute.wait_for_delete(server, interval=0.2, wait=120)


def _summary(samples: list[float]) -> dict[str, float]:
    samples = sorted(samples)
    return {
        "median_s": round(statistics.median(samples), 2),
        "max_s": round(samples[-1], 2),
    }


def run_driver(driver: str, boots: int, parallel: int) -> dict:
    ssh = driver == "docker"
    with tempfile.TemporaryDirectory(prefix="stacksim-bench-") as tmp:
        state = Path(tmp) / "state"
        sim = Simulator(state_dir=state, extra_args=["--compute-driver", driver, "--delay", "0"])
        try:
            with sim:
                cloud = Cloud(sim, "10.250.0.0/22")
                cloud.boot("warm-up", ssh)  # the network's bridge is made on the first boot
                one = [cloud.boot(f"one-{i}", ssh) for i in range(boots)]
                cloud.clean()
                started = time.monotonic()
                with ThreadPoolExecutor(max_workers=parallel) as pool:
                    many = list(pool.map(lambda i: cloud.boot(f"many-{i}", ssh), range(parallel)))
                all_up = time.monotonic() - started
                cloud.clean()
        finally:
            if driver == "docker":
                subprocess.run([STACKSIM, "stop", "--state-dir", str(state), "--purge"], capture_output=True)
    record = {
        "one_at_a_time": {
            "boots": boots,
            "active": _summary([r["active_s"] for r in one]),
        },
        "at_once": {
            "servers": parallel,
            "all_reachable_s": round(all_up, 2),
            "active": _summary([r["active_s"] for r in many]),
        },
    }
    if ssh:
        record["one_at_a_time"]["ssh_answering"] = _summary([r["ssh_s"] for r in one])
        record["at_once"]["ssh_answering"] = _summary([r["ssh_s"] for r in many])
    return record


def base_image(cold: bool) -> dict:
    def build(*extra: str) -> float:
        started = time.monotonic()
        subprocess.run([STACKSIM, "images", "build", *extra], check=True, capture_output=True)
        return round(time.monotonic() - started, 1)

    record = {}
    if cold:
        record["cold_s"] = build("--force")
    record["cached_s"] = build()
    listing = subprocess.run([STACKSIM, "images", "list"], capture_output=True, text=True).stdout
    record["size"] = next((line.split("  ")[2] for line in listing.splitlines() if "current" in line), "?")
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--boots", type=int, default=10)
    parser.add_argument("--parallel", type=int, default=20)
    parser.add_argument("--cold", action="store_true", help="also rebuild the base image from scratch")
    args = parser.parse_args()
    base = base_image(args.cold)  # first: the docker runs boot it
    fake = run_driver("fake", args.boots, args.parallel)
    with docker_turn():  # one docker-driven simulator at a time on a host
        docker = run_driver("docker", args.boots, args.parallel)
    record = {
        "bench": "docker",
        "machine": f"{platform.machine()} {platform.python_version()} {subprocess.getoutput('nproc')} cores",
        "base_image": base,
        "fake": fake,
        "docker": docker,
        "date": time.strftime("%Y-%m-%d"),
    }
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
