"""The docker driver end to end: servers are containers reached over SSH, with real volumes and rules.

One simulator for the module; the servers the tests share are booted at once
in the fixture (a boot takes about two seconds, so they are not booted one by one).
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from docker_helpers import (
    SSH_OPTIONS,
    connect,
    containers_of,
    docker_cloud,
    inspect,
    networks_of,
    private_key,
    ssh,
    unique,
    wait_ssh,
    wait_status,
    wait_until,
)

pytestmark = pytest.mark.requires_docker

IMAGE = "cirros-0.6.2-x86_64-disk"
CIDR = "10.201.0.0/24"
USER_DATA = """#cloud-config
users:
  - default
  - name: deployer
    sudo: ALL=(ALL) NOPASSWD:ALL
    shell: /bin/bash
write_files:
  - path: /etc/stacksim-test/hello.txt
    content: written by write_files
    permissions: '0640'
bootcmd:
  - echo bootcmd ran >> /var/tmp/bootcmd.log
runcmd:
  - echo "runcmd ran as $(id -un)" > /tmp/runcmd.txt
  - [sh, -c, "echo list form >> /tmp/runcmd.txt"]
"""
POWEROFF = """#cloud-config
runcmd:
  - echo about to power off
power_state:
  mode: poweroff
"""


class Env:
    """What the module's tests share: a cloud, a key, a routed network with SSH allowed, and servers."""

    def __init__(self, sim: Any, tmp: Path) -> None:
        self.sim = sim
        self.conn = connect(sim)
        self.key_name = unique("key")
        self.key = private_key(self.conn, tmp, self.key_name)
        net = self.conn.network
        self.network = net.create_network(name=unique("net"))
        self.subnet = net.create_subnet(network_id=self.network.id, cidr=CIDR, ip_version=4, name=unique("sub"))
        self.public = net.find_network("public")
        self.router = net.create_router(name=unique("router"), external_gateway_info={"network_id": self.public.id})
        net.add_interface_to_router(self.router, subnet=self.subnet.id)
        self.group = net.create_security_group(name=unique("ssh"))
        self.ssh_rule = self.allow_ssh()
        self.image = self.conn.image.find_image(IMAGE)
        self.flavor = self.conn.compute.find_flavor("m1.tiny")
        self.servers: dict[str, Any] = {}

    def allow_ssh(self) -> Any:
        return self.conn.network.create_security_group_rule(
            security_group_id=self.group.id,
            direction="ingress",
            protocol="tcp",
            port_range_min=22,
            port_range_max=22,
            remote_ip_prefix="0.0.0.0/0",
        )

    def boot(self, name: str, **extra: Any) -> Any:
        attrs = {
            "name": name,
            "image_id": self.image.id,
            "flavor_id": self.flavor.id,
            "networks": [{"uuid": self.network.id}],
            "key_name": self.key_name,
            "security_groups": [{"name": self.group.name}],
            **extra,
        }
        return self.conn.compute.create_server(**attrs)

    def fixed_ip(self, server: Any) -> str:
        server = self.conn.compute.get_server(server.id)
        return next(iter(server.addresses.values()))[0]["addr"]

    def floating_ip(self, server: Any) -> str:
        port = next(iter(self.conn.network.ports(device_id=server.id)))
        fip = self.conn.network.create_ip(floating_network_id=self.public.id, port_id=port.id)
        return fip.floating_ip_address


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("docker")
    with docker_cloud(tmp) as sim:
        env = Env(sim, tmp)
        import base64

        booting = {
            "main": env.boot(unique("main")),
            "scripted": env.boot(unique("scripted"), user_data=base64.b64encode(USER_DATA.encode()).decode()),
            "poweroff": env.boot(unique("poweroff"), user_data=base64.b64encode(POWEROFF.encode()).decode()),
            "spare": env.boot(unique("spare")),
        }
        for role, server in booting.items():
            if role != "poweroff":
                env.servers[role] = wait_status(env.conn, server.id, "ACTIVE")
        env.servers["poweroff"] = booting["poweroff"]
        yield env


def test_an_instance_is_a_container_with_the_servers_name_limits_address_and_mac(env):
    server = env.servers["main"]
    info = inspect(server.id, env.sim)
    assert info["Config"]["Hostname"] == server.name
    labels = info["Config"]["Labels"]
    assert labels["stacksim.server"] == server.id
    assert labels["stacksim.state"] == str((env.sim.state_dir / "data").resolve())
    assert info["HostConfig"]["Memory"] == env.flavor.ram * 2**20
    assert info["HostConfig"]["CpuQuota"] == 100000 * env.flavor.vcpus
    port = next(iter(env.conn.network.ports(device_id=server.id)))
    (endpoint,) = info["NetworkSettings"]["Networks"].values()
    assert endpoint["IPAddress"] == port.fixed_ips[0]["ip_address"]
    assert endpoint["MacAddress"] == port.mac_address
    bridge = subprocess.run(
        ["docker", "network", "inspect", "-f", "{{(index .IPAM.Config 0).Subnet}}", endpoint["NetworkID"]],
        capture_output=True,
        text=True,
    )
    assert bridge.stdout.strip() == CIDR


def test_ssh_to_the_floating_ip_runs_python_and_sudo(env):
    address = env.floating_ip(env.servers["main"])
    assert wait_ssh(env.key, address, "python3 -c 'print(1)' && sudo true && hostname") == (
        f"1\n{env.servers['main'].name}\n"
    )
    root = ssh(env.key, address, "id -un", user="root")
    assert root.stdout == "root\n", root.stderr
    meta = ssh(env.key, address, "cat /mnt/config/openstack/latest/meta_data.json")
    assert env.servers["main"].id in meta.stdout
    network = ssh(env.key, address, "cat /var/lib/cloud/seed/config_drive/openstack/latest/network_data.json")
    assert env.fixed_ip(env.servers["main"]) in network.stdout


def test_user_data_runs_users_files_bootcmd_and_runcmd(env):
    address = env.fixed_ip(env.servers["scripted"])
    assert wait_ssh(env.key, address, "cat /tmp/runcmd.txt") == "runcmd ran as root\nlist form\n"
    assert ssh(env.key, address, "sudo cat /etc/stacksim-test/hello.txt").stdout == "written by write_files"
    assert ssh(env.key, address, "stat -c %a /etc/stacksim-test/hello.txt").stdout == "640\n"
    assert ssh(env.key, address, "cat /var/tmp/bootcmd.log").stdout == "bootcmd ran\n"
    assert ssh(env.key, address, "id -un && sudo -u deployer sudo -n true && echo ok").stdout == "cirros\nok\n"
    console = env.conn.compute.get_server_console_output(env.servers["scripted"].id)["output"]
    assert "running runcmd" in console
    assert "boot finished" in console


def test_power_state_poweroff_turns_the_server_shutoff(env):
    server = wait_status(env.conn, env.servers["poweroff"].id, "SHUTOFF")
    console = env.conn.compute.get_server_console_output(server.id)["output"]
    assert "about to power off" in console
    assert inspect(server.id, env.sim)["State"]["Running"] is False
    env.conn.compute.start_server(server)
    wait_status(env.conn, server.id, "ACTIVE")
    assert inspect(server.id, env.sim)["State"]["Running"] is True
    wait_ssh(env.key, env.fixed_ip(server))  # it stays up: power_state is a first-boot thing


def test_volume_bytes_are_cinders_file_through_detach_snapshot_and_clone(env):
    conn, main, spare = env.conn, env.servers["main"], env.servers["spare"]
    volume = conn.block_storage.create_volume(size=1, name=unique("vol"))
    conn.block_storage.wait_for_status(volume, "available", interval=0.2, wait=60)
    conn.compute.create_volume_attachment(main, volume_id=volume.id, device="/dev/vdb")
    conn.block_storage.wait_for_status(volume, "in-use", interval=0.2, wait=60)
    address = env.fixed_ip(main)
    wrote = ssh(env.key, address, "printf stacksim-bytes | sudo dd of=/dev/vdb bs=512 seek=8 conv=fsync status=none")
    assert wrote.returncode == 0, wrote.stderr
    conn.compute.delete_volume_attachment(main, volume.id)
    conn.block_storage.wait_for_status(volume, "available", interval=0.2, wait=60)
    assert ssh(env.key, address, "test -e /dev/vdb || echo gone").stdout == "gone\n"

    snapshot = conn.block_storage.create_snapshot(volume_id=volume.id, name=unique("snap"))
    conn.block_storage.wait_for_status(snapshot, "available", interval=0.2, wait=60)
    clone = conn.block_storage.create_volume(size=1, snapshot_id=snapshot.id, name=unique("clone"))
    conn.block_storage.wait_for_status(clone, "available", interval=0.2, wait=60)
    backup = conn.block_storage.create_backup(volume_id=volume.id, name=unique("backup"))
    conn.block_storage.wait_for_status(backup, "available", interval=0.2, wait=60)
    restored_name = unique("restored")
    conn.block_storage.restore_backup(backup, name=restored_name)
    restored = wait_until(lambda: conn.block_storage.find_volume(restored_name), 60, "the restored volume")
    conn.block_storage.wait_for_status(restored, "available", interval=0.2, wait=60)
    read = "sudo dd if={} bs=512 skip=8 count=1 status=none | head -c 14"
    # The clone and the backup's restore here, the original itself on another server.
    for vol, server in ((clone, main), (restored, main), (volume, spare)):
        conn.compute.create_volume_attachment(server, volume_id=vol.id, device="/dev/vdc")
        conn.block_storage.wait_for_status(vol, "in-use", interval=0.2, wait=60)
        assert ssh(env.key, env.fixed_ip(server), read.format("/dev/vdc")).stdout == "stacksim-bytes"
        conn.compute.delete_volume_attachment(server, vol.id)
        conn.block_storage.wait_for_status(vol, "available", interval=0.2, wait=60)


def test_removing_the_ssh_rule_closes_the_port_and_the_open_session(env):
    address = env.fixed_ip(env.servers["main"])
    wait_ssh(env.key, address)
    session = subprocess.Popen(
        ["ssh", "-i", str(env.key), *SSH_OPTIONS, f"cirros@{address}", "while sleep 0.1; do echo tick; done"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert session.stdout.readline() == "tick\n"
        env.conn.network.delete_security_group_rule(env.ssh_rule)
        refused = wait_until(lambda: ssh(env.key, address, "true", timeout=10).returncode != 0, 30, "ssh to be refused")
        assert refused
        # The open session gets nothing more once the drop is in place.
        import selectors

        selector = selectors.DefaultSelector()
        selector.register(session.stdout, selectors.EVENT_READ)
        for _ in range(30):  # drain what was in flight
            if not selector.select(timeout=1.0):
                break
            session.stdout.readline()
        assert not selector.select(timeout=1.5), "the established session still gets data"
    finally:
        session.kill()
        session.wait()
        env.ssh_rule = env.allow_ssh()
    wait_ssh(env.key, address)


def test_actions_stop_start_reboot_pause_suspend_resize_and_rebuild(env):
    conn, server = env.conn, env.servers["spare"]
    address = env.fixed_ip(server)
    compute = conn.compute
    steps = [
        (compute.stop_server, "SHUTOFF", "Running", False),
        (compute.start_server, "ACTIVE", "Running", True),
        (compute.pause_server, "PAUSED", "Paused", True),
        (compute.unpause_server, "ACTIVE", "Paused", False),
        (compute.suspend_server, "SUSPENDED", "Paused", True),  # a pause: Docker cannot save memory
        (compute.resume_server, "ACTIVE", "Paused", False),
    ]
    for action, status, field, value in steps:
        action(server)
        wait_status(conn, server.id, status)
        assert inspect(server.id, env.sim)["State"][field] is value, action.__name__
    # A guest's link in its run folder must not make the host touch a host file.
    bait = Path(f"/tmp/stacksim-bait-{server.id}")
    linked = ssh(
        env.key, address, f"sudo ln -sf {bait} /.stacksim/run/firewall && sudo ln -s /etc /.stacksim/run/power"
    )
    assert linked.returncode == 0, linked.stderr
    for kind in ("SOFT", "HARD"):
        before = inspect(server.id, env.sim)["State"]["StartedAt"]
        compute.reboot_server(server, kind)
        wait_status(conn, server.id, "ACTIVE")
        assert inspect(server.id, env.sim)["State"]["StartedAt"] != before
        wait_ssh(env.key, address)
    assert not bait.exists()

    bigger = compute.find_flavor("m1.small")
    compute.resize_server(server, bigger.id)
    wait_status(conn, server.id, "VERIFY_RESIZE")
    assert inspect(server.id, env.sim)["HostConfig"]["Memory"] == bigger.ram * 2**20
    compute.revert_server_resize(server)
    wait_status(conn, server.id, "ACTIVE")
    assert inspect(server.id, env.sim)["HostConfig"]["Memory"] == env.flavor.ram * 2**20

    console = compute.get_server_console_output(server.id, length=200)["output"]
    assert "hard reboot" in console
    ssh(env.key, address, "touch /tmp/before-rebuild")
    compute.rebuild_server(server, image=env.image.id)
    wait_status(conn, server.id, "ACTIVE")
    assert env.fixed_ip(server) == address  # the same port
    assert wait_ssh(env.key, address, "test -e /tmp/before-rebuild || echo fresh") == "fresh\n"


def test_create_image_commits_the_container_and_the_image_boots_again(env):
    conn, main = env.conn, env.servers["main"]
    wait_ssh(env.key, env.fixed_ip(main), "echo built-in-builder | sudo tee /opt/marker")
    image_id = conn.compute.create_server_image(main, name=unique("snapshot"), wait=False).id
    image = wait_until(
        lambda: (img := conn.image.get_image(image_id)).status == "active" and img, 120, "the snapshot image"
    )
    assert image.container_format == "docker"
    booted = wait_status(conn, env.boot(unique("from-snapshot"), image_id=image.id).id, "ACTIVE")
    assert wait_ssh(env.key, env.fixed_ip(booted), "cat /opt/marker && hostname") == (
        f"built-in-builder\n{booted.name}\n"
    )
    conn.compute.delete_server(booted)


def _boot_named_image(env: Env, docker_image: str, status: str, **properties: str) -> Any:
    """A server from a Glance image whose ``docker_image`` property names a local Docker image."""
    image = env.conn.image.create_image(
        name=unique("named"), disk_format="raw", container_format="bare", data=b"x",
        docker_image=docker_image, **properties,
    )  # fmt: skip
    return wait_status(env.conn, env.boot(unique("named"), image_id=image.id).id, status)


def test_an_image_property_names_a_local_docker_image(env):
    server = _boot_named_image(env, "stacksim/base:latest", "ACTIVE", os_default_user="debian")
    assert wait_ssh(env.key, env.fixed_ip(server), "id -un", user="debian") == "debian\n"
    env.conn.compute.delete_server(server)


def test_a_failed_boot_is_error_with_the_engines_message_and_leaves_no_container(env):
    server = _boot_named_image(env, "stacksim/no-such-image:1", "ERROR")
    assert "stacksim/no-such-image:1" in server.fault["message"]
    found = subprocess.run(
        ["docker", "ps", "-a", "-q", "--filter", f"label=stacksim.server={server.id}"], capture_output=True, text=True
    )
    assert found.stdout == ""


def test_deleting_everything_leaves_no_container_or_network(env):
    conn = env.conn
    for server in list(conn.compute.servers()):
        conn.compute.delete_server(server)
    for server in list(conn.compute.servers()):
        conn.compute.wait_for_delete(server, interval=0.2, wait=60)
    for fip in conn.network.ips():
        conn.network.delete_ip(fip)
    for backup in conn.block_storage.backups():
        conn.block_storage.delete_backup(backup)
        conn.block_storage.wait_for_delete(backup, interval=0.2, wait=60)
    for volume in conn.block_storage.volumes():
        for snap in conn.block_storage.snapshots(volume_id=volume.id):
            conn.block_storage.delete_snapshot(snap)
            conn.block_storage.wait_for_delete(snap, interval=0.2, wait=60)
    for volume in conn.block_storage.volumes():
        conn.block_storage.delete_volume(volume)
    conn.network.remove_interface_from_router(env.router, subnet=env.subnet.id)
    conn.network.delete_router(env.router)
    conn.network.delete_network(env.network)
    assert wait_until(lambda: not containers_of(env.sim), 30, "no container of this state dir")
    # Only the external network's bridge is left: it carries the floating IPs and the instances' API address.
    left = wait_until(lambda: len(networks_of(env.sim)) == 1 and networks_of(env.sim), 30, "one network left")
    public = subprocess.run(
        ["docker", "network", "inspect", "-f", '{{index .Labels "stacksim.network"}}', left[0]],
        capture_output=True,
        text=True,
    )
    assert public.stdout.strip() == env.public.id
