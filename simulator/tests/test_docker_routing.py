"""An instance that routes between its own ports, as a sandbox's router host does.

Two networks whose gateway is an instance (the router), not a Neutron router:
the host's side of each bridge takes another address, the router forwards, the
hosts route through it by their subnets' gateways, and allowed address pairs
decide what the router may send on, as Neutron's anti-spoofing rules do.
"""

from __future__ import annotations

import subprocess

import pytest
from docker_helpers import SSH_OPTIONS, connect, docker_cloud, inspect, private_key, ssh, unique, wait_ssh, wait_until

pytestmark = pytest.mark.requires_docker

IMAGE = "cirros-0.6.2-x86_64-disk"
ANY = [{"ip_address": "0.0.0.0/0"}]
#: Does a TCP connection to the other host's sshd open (bash's /dev/tcp, 2 s at most)?
REACH_B = "timeout 2 bash -c 'echo > /dev/tcp/10.203.2.10/22' && echo open"


@pytest.fixture(scope="module")
def routed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("docker-routing")
    with docker_cloud(tmp) as sim:
        conn = connect(sim)
        net = conn.network
        key_name = unique("key")
        key = private_key(conn, tmp, key_name)
        group = net.create_security_group(name=unique("open"))
        net.create_security_group_rule(security_group_id=group.id, direction="ingress", ethertype="IPv4")
        ports = {}
        for side, third in (("a", 1), ("b", 2)):
            network = net.create_network(name=unique(f"net-{side}"))
            subnet = net.create_subnet(
                network_id=network.id, cidr=f"10.203.{third}.0/24", ip_version=4, gateway_ip=f"10.203.{third}.1"
            )

            def port(name: str, ip: str, pairs=None, network=network, subnet=subnet):
                return net.create_port(
                    network_id=network.id,
                    name=unique(name),
                    fixed_ips=[{"subnet_id": subnet.id, "ip_address": ip}],
                    security_group_ids=[group.id],
                    allowed_address_pairs=pairs or [],
                )

            ports[f"router-{side}"] = port(f"router-{side}", f"10.203.{third}.1", ANY)
            ports[f"host-{side}"] = port(f"host-{side}", f"10.203.{third}.10")
        image = conn.image.find_image(IMAGE)
        flavor = conn.compute.find_flavor("m1.tiny")

        def boot(name, *port_names):
            return conn.compute.create_server(
                name=unique(name),
                image_id=image.id,
                flavor_id=flavor.id,
                key_name=key_name,
                networks=[{"port": ports[p].id} for p in port_names],
            )

        servers = {
            "router": boot("router", "router-a", "router-b"),
            "host-a": boot("host-a", "host-a"),
            "host-b": boot("host-b", "host-b"),
        }
        for name, server in servers.items():
            servers[name] = conn.compute.wait_for_server(server, interval=0.2, wait=120)
        yield {"sim": sim, "conn": conn, "key": key, "ports": ports, "servers": servers}


def test_the_instance_keeps_its_gateway_address_and_the_host_takes_another(routed):
    router = inspect(routed["servers"]["router"].id, routed["sim"])
    addresses = sorted(e["IPAddress"] for e in router["NetworkSettings"]["Networks"].values())
    assert addresses == ["10.203.1.1", "10.203.2.1"]
    gateways = sorted(e["Gateway"] for e in router["NetworkSettings"]["Networks"].values())
    assert gateways == ["10.203.1.254", "10.203.2.254"]  # the host's side: the highest free address
    assert router["HostConfig"]["Sysctls"] == {"net.ipv4.ip_forward": "1"}  # its ports have address pairs
    host = inspect(routed["servers"]["host-a"].id, routed["sim"])
    assert host["HostConfig"]["Sysctls"] == {"net.ipv4.ip_forward": "0"}


def test_hosts_route_through_the_router_by_their_subnets_gateway(routed):
    key = routed["key"]
    assert wait_ssh(key, "10.203.1.10", "ip route show default").split()[:5] == [
        "default",
        "via",
        "10.203.1.1",
        "dev",
        "eth0",
    ]
    assert ssh(key, "10.203.1.10", "cat /proc/sys/net/ipv4/ip_forward").stdout == "0\n"
    assert wait_ssh(key, "10.203.1.1", "cat /proc/sys/net/ipv4/ip_forward") == "1\n"
    assert wait_ssh(key, "10.203.1.10", REACH_B) == "open\n"
    # host-b sees host-a's own address: the router forwards, it does not masquerade.
    jump = " ".join(["ssh", "-i", str(key), *SSH_OPTIONS, "-W", "%h:%p", "cirros@10.203.1.10"])
    via_a = ssh(key, "10.203.2.10", "echo $SSH_CLIENT", options=["-o", f"ProxyCommand={jump}"])
    assert via_a.stdout.split()[:1] == ["10.203.1.10"], via_a.stderr
    console = routed["conn"].compute.get_server_console_output(routed["servers"]["router"].id)["output"]
    assert "IP forwarding is on" in console
    assert "route 0.0.0.0/0 via 10.203.1.1 left out: the gateway is this instance's own address" in console


def test_allowed_address_pairs_decide_what_the_router_forwards(routed):
    conn, key, port = routed["conn"], routed["key"], routed["ports"]["router-b"]
    conn.network.update_port(port, allowed_address_pairs=[])
    try:
        # host-a's packets may no longer leave the router's port on b: their source is not the port's.
        wait_until(lambda: ssh(key, "10.203.1.10", REACH_B).stdout == "", 30, "the router to stop forwarding")
    finally:
        conn.network.update_port(port, allowed_address_pairs=ANY)
    wait_until(lambda: ssh(key, "10.203.1.10", REACH_B).stdout == "open\n", 30, "the router to forward again")


def test_the_host_reaches_every_fixed_ip_at_its_own_address_on_the_bridge(routed):
    bridges = subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True).stdout
    assert "10.203.1.254/24" in bridges and "10.203.2.254/24" in bridges
    assert wait_ssh(routed["key"], "10.203.2.10", "echo $SSH_CLIENT").split()[0] == "10.203.2.254"
