"""The docker driver's networking as data (no engine needed): firewall rules, routes, the host's address."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from stacksim.drivers.base import Instance
from stacksim.drivers.docker.configdrive import network_data
from stacksim.drivers.docker.firewall import PortFilter, instance_rules
from stacksim.drivers.docker.networks import host_side
from stacksim.drivers.docker.routes import Route, plan


def test_firewall_rules_follow_the_groups_and_drop_the_rest():
    rules = instance_rules(
        [
            PortFilter(
                "eth0",
                ["10.0.0.5"],
                rules=[
                    {"direction": "ingress", "ethertype": "IPv4", "protocol": "tcp", "port_range_min": 22,
                     "port_range_max": 22, "prefixes": None},
                    {"direction": "ingress", "ethertype": "IPv4", "protocol": None, "prefixes": ["10.0.0.6"]},
                    {"direction": "ingress", "ethertype": "IPv4", "protocol": "icmp", "port_range_min": 8,
                     "port_range_max": None, "prefixes": None},
                    {"direction": "ingress", "ethertype": "IPv6", "protocol": None, "prefixes": None},
                    {"direction": "egress", "ethertype": "IPv4", "protocol": None, "prefixes": None},
                    {"direction": "ingress", "ethertype": "IPv4", "protocol": None, "prefixes": []},
                ],
            ),
            PortFilter("eth1", ["10.1.0.5"], enabled=False),
        ]
    )  # fmt: skip
    lines = rules.splitlines()
    # Each port by its interface: what comes in meets its ingress rules, whatever the destination.
    assert "-A ingress -i eth0 -g in-eth0" in lines
    assert "-A in-eth0 -p tcp -m tcp --dport 22:22 -j RETURN" in lines
    assert "-A in-eth0 -s 10.0.0.6 -j RETURN" in lines  # a remote group's member
    assert "-A in-eth0 -p icmp --icmp-type 8 -j RETURN" in lines
    assert sum(1 for line in lines if line.startswith("-A in-eth0")) == 4  # three rules, then the drop
    assert lines.index("-A in-eth0 -j DROP") > lines.index("-A in-eth0 -s 10.0.0.6 -j RETURN")
    # What goes out must come from the port's own address (anti-spoofing), then meet its egress rules.
    assert "-A egress -o eth0 -g spoof-eth0" in lines
    assert "-A spoof-eth0 -s 10.0.0.5/32 -g out-eth0" in lines
    assert "-A spoof-eth0 -j DROP" in lines
    assert "-A out-eth0 -j RETURN" in lines
    assert "-A in-eth1 -j RETURN" in lines and "-A spoof-eth1 -j RETURN" in lines  # port security off
    assert lines[-3:] == ["-A ingress -j DROP", "-A egress -j DROP", "COMMIT"]  # an interface of no port
    # Only replies to the instance's own connections pass on state: an open session needs its rule.
    assert "-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED --ctdir REPLY -j ACCEPT" in lines
    # Forwarded traffic meets the rules of the port it came in by and of the port it leaves by.
    forward = [line for line in lines if line.startswith("-A FORWARD")]
    assert forward[1:] == ["-A FORWARD -j ingress", "-A FORWARD -j egress", "-A FORWARD -j ACCEPT"]


def test_allowed_address_pairs_let_a_port_send_for_others():
    lines = instance_rules(
        [
            PortFilter("eth0", ["10.0.0.1"], pairs=["10.9.0.0/16"]),
            PortFilter("eth1", ["10.2.0.1"], pairs=["0.0.0.0/0"]),
        ]
    ).splitlines()
    assert "-A spoof-eth0 -s 10.0.0.1/32 -g out-eth0" in lines
    assert "-A spoof-eth0 -s 10.9.0.0/16 -g out-eth0" in lines
    assert "-A spoof-eth1 -g out-eth1" in lines  # any source: a router host's port
    assert not any(line.startswith("-A spoof-eth1 -s") for line in lines)


def test_the_rules_load_into_iptables_restore_test_mode():
    """What the driver loads is valid iptables-restore input (checked, not applied, where iptables is)."""
    # Outside root there is no iptables to check with; CI runs as root, where `make docker-engine`
    # installs iptables, so there it always runs.
    if shutil.which("iptables-restore") is None or os.geteuid() != 0:
        pytest.skip("iptables-restore (as root) is not available here")
    rules = instance_rules([PortFilter("eth0", ["10.0.0.5"], pairs=["10.9.0.0/16"]), PortFilter("eth1", ["10.2.0.1"])])
    proc = subprocess.run(["iptables-restore", "--test"], input=rules, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


SUBNETS = {
    "wan": {
        "cidr": "100.100.100.0/24",
        "gateway_ip": "100.100.100.1",
        "host_routes": [
            {"destination": "10.10.10.0/24", "nexthop": "100.100.100.2"},
            {"destination": "10.10.30.0/24", "nexthop": "100.100.100.3"},
        ],
    },
    "attackers": {"cidr": "10.10.10.0/24", "gateway_ip": "10.10.10.1", "host_routes": []},
    "management": {"cidr": "192.168.128.0/17", "gateway_ip": None, "host_routes": []},
}


def _port(id: str, subnet: str, ip: str, owner: str = "compute:nova") -> dict:
    return {
        "id": id,
        "network_id": f"net-{subnet}",
        "mac_address": "fa:16:3e:00:00:01",
        "device_owner": owner,
        "fixed_ips": [{"subnet_id": subnet, "ip_address": ip}],
    }


def _routes_of(*ports: dict) -> tuple[list[Route], list[str]]:
    instance = Instance(id="i", name="n", hostname="n", flavor={}, ports=list(ports))
    return plan(network_data(instance, SUBNETS.get))


def test_network_data_carries_the_gateway_and_the_host_routes():
    data = network_data(
        Instance(id="i", name="n", hostname="n", flavor={}, ports=[_port("p", "wan", "100.100.100.7")]), SUBNETS.get
    )
    assert data["networks"][0]["routes"] == [
        {"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "100.100.100.1"},
        {"network": "10.10.10.0", "netmask": "255.255.255.0", "gateway": "100.100.100.2"},
        {"network": "10.10.30.0", "netmask": "255.255.255.0", "gateway": "100.100.100.3"},
    ]


def test_a_router_host_routes_by_its_subnets_but_never_through_itself():
    # The edge router: on the management network (no gateway), the WAN (man is the gateway)
    # and the attackers' network, whose gateway it is itself.
    routes, notes = _routes_of(
        _port("m", "management", "192.168.128.9"),
        _port("w", "wan", "100.100.100.2"),
        _port("a", "attackers", "10.10.10.1"),
    )
    assert [str(r) for r in routes] == ["default via 100.100.100.1", "10.10.30.0/24 via 100.100.100.3"]
    assert notes == [
        "route 10.10.10.0/24 via 100.100.100.2 left out: the gateway is this instance's own address",
        "route 0.0.0.0/0 via 10.10.10.1 left out: the gateway is this instance's own address",
    ]


def test_a_host_behind_a_router_host_has_its_default_route_there_and_several_gateways_get_metrics():
    routes, notes = _routes_of(_port("m", "management", "192.168.128.5"), _port("a", "attackers", "10.10.10.10"))
    assert routes == [Route("0.0.0.0/0", "10.10.10.1", 0)] and notes == []
    routes, _ = _routes_of(_port("a", "attackers", "10.10.10.10"), _port("w", "wan", "100.100.100.9"))
    assert [str(r) for r in routes] == [
        "default via 10.10.10.1",
        "default via 100.100.100.1 metric 1",
        "10.10.30.0/24 via 100.100.100.3",
    ]  # the WAN's route to 10.10.10.0/24 is left out: the instance is on that network


def test_a_route_whose_gateway_is_on_no_network_of_the_instance_is_left_out():
    routes, notes = plan(
        {
            "networks": [
                {
                    "type": "ipv4",
                    "ip_address": "10.0.0.5",
                    "netmask": "255.255.255.0",
                    "routes": [{"network": "10.9.0.0", "netmask": "255.255.0.0", "gateway": "10.1.0.1"}],
                }
            ]
        }
    )
    assert routes == [] and notes == [
        "route 10.9.0.0/16 via 10.1.0.1 left out: the gateway is on none of the instance's networks"
    ]


def test_the_host_takes_the_gateway_unless_an_instance_holds_it():
    subnet = {"id": "s", "cidr": "10.10.20.0/24", "gateway_ip": "10.10.20.1"}
    router_interface = _port("r", "s", "10.10.20.1", owner="network:router_interface")
    assert host_side(subnet, [router_interface]) == "10.10.20.1"  # a Neutron router's: the host plays it
    assert host_side(subnet, []) == "10.10.20.1"
    router_host = _port("h", "s", "10.10.20.1", owner="")  # a router host's port, before its server binds it
    user_access = _port("u", "s", "10.10.20.254")
    assert host_side(subnet, [router_host, user_access]) == "10.10.20.253"  # the highest address no port holds
    assert host_side({"id": "m", "cidr": "192.168.128.0/17", "gateway_ip": None}, []) == "192.168.255.254"
