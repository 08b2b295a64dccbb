# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Topology validation: each rule, every problem in one run, and the cloud-fed checks."""

from __future__ import annotations

from typing import Any

import pytest

from ansible_collections.opensandbox.cloud.plugins.module_utils._topology import load_topology
from ansible_collections.opensandbox.cloud.plugins.module_utils._topology_checks import (
    CloudFacts,
    FlavorSize,
    QuotaUse,
    cloud_problems,
    demand_delta,
    format_problems,
    required_names,
    template_demand,
    topology_problems,
)
from ansible_collections.opensandbox.cloud.plugins.module_utils._topology_hot import (
    ManagementBox,
    SandboxOptions,
    render_template,
)
from ansible_collections.opensandbox.cloud.tests.unit.plugins.module_utils.topology_samples import (
    CURRENT,
    LEGACY,
    example,
    parsed,
)

OPTIONS = SandboxOptions(resource_prefix="t-")


def problems_of(data: dict[str, Any], options: SandboxOptions = OPTIONS) -> list[str]:
    topology, structural, _warnings = load_topology(data)
    return [str(p) for p in structural + topology_problems(topology, options)]


@pytest.mark.parametrize("name", ["small-sandbox.yaml", "sandbox.yaml"])
def test_the_examples_are_valid(name):
    assert problems_of(example(name)) == []


@pytest.mark.parametrize("text", [LEGACY, CURRENT])
def test_real_topology_files_are_valid(text):
    assert problems_of(parsed(text)) == []


def test_names_must_start_lowercase_and_hold_letters_digits_dashes():
    data = parsed(CURRENT)
    data["name"] = "Junior"
    data["hosts"][0]["name"] = "9lives"
    data["networks"][1]["name"] = "attacker_switch"
    data["groups"] = [{"name": "Red-team", "nodes": []}]
    assert problems_of(data) == [
        "topology: name 'Junior' must start with a lowercase letter, then letters, digits or dashes",
        "host '9lives': name '9lives' must start with a lowercase letter, then letters, digits or dashes",
        "network 'attacker_switch': name 'attacker_switch' must start with a lowercase letter, "
        "then letters, digits or dashes",
        "group 'Red-team': name 'Red-team' must start with a lowercase letter, then letters, digits or dashes",
        "net_mappings[0] (host 'attacker' on network 'attacker-switch'): no host named 'attacker' is defined",
        "net_mappings[0] (host 'attacker' on network 'attacker-switch'): no network named 'attacker-switch' is defined",
        "router_mappings[1] (router 'router' on network 'attacker-switch'): "
        "no network named 'attacker-switch' is defined",
    ]


def test_names_are_unique_and_the_sandbox_own_ones_are_reserved():
    data = parsed(CURRENT)
    data["routers"][0]["name"] = "server"
    data["hosts"][0]["name"] = "man"
    data["networks"][0]["name"] = "uplink"
    for mapping in data["router_mappings"]:
        mapping["router"] = "server"
    shown = problems_of(data)
    assert "host 'server': name 'server' is used more than once: host 'server', router 'server'" in shown
    assert "host 'man': name 'man' is the sandbox's management node" in shown
    assert "network 'uplink': name 'uplink' is a network the sandbox makes itself" in shown


def test_overlapping_cidrs_are_each_named():
    data = parsed(CURRENT)
    data["networks"][1]["cidr"] = "10.1.0.0/16"
    data["wan"]["cidr"] = "192.168.130.0/24"
    assert problems_of(data) == [
        "network 'target-switch': cidr 10.1.26.0/24 overlaps 10.1.0.0/16 of network 'attacker-switch'",
        "wan 'internet-connection': cidr 192.168.130.0/24 overlaps 192.168.128.0/17 of the sandbox's "
        "management network (man-network)",
    ]


def test_the_uplink_cidr_counts_only_when_the_sandbox_makes_its_uplink():
    data = parsed(CURRENT)
    data["networks"][0]["cidr"] = "192.168.127.0/24"
    data["net_mappings"][1]["ip"] = "192.168.127.9"
    data["router_mappings"][0]["ip"] = "192.168.127.1"
    assert problems_of(data) == [
        "network 'target-switch': cidr 192.168.127.0/24 overlaps 192.168.127.0/24 of the sandbox's uplink "
        "network (uplink)"
    ]
    assert problems_of(data, SandboxOptions(uplink_network="base-net")) == []


def test_cidrs_must_be_network_addresses():
    data = parsed(CURRENT)
    data["networks"][0]["cidr"] = "10.1.26.1/24"
    data["networks"][1]["cidr"] = "ten-one"
    shown = problems_of(data)
    assert shown[:2] == [
        "network 'target-switch': cidr '10.1.26.1/24' is not a network address (did you mean 10.1.26.0/24?)",
        "network 'attacker-switch': cidr 'ten-one' is not a network address",
    ]


def test_fixed_ips_must_be_host_addresses_inside_their_network_and_used_once():
    data = parsed(CURRENT)
    data["net_mappings"][0]["ip"] = "10.1.26.23"  # outside attacker-switch
    data["net_mappings"][1]["ip"] = "10.1.26.1"  # the router's
    data["router_mappings"][1]["ip"] = "10.1.27.255"  # broadcast
    data["net_mappings"].append({"host": "attacker", "network": "target-switch", "ip": "not-an-ip"})
    assert problems_of(data) == [
        "net_mappings[0] (host 'attacker' on network 'attacker-switch'): "
        "ip 10.1.26.23 is outside network 'attacker-switch' (10.1.27.0/24)",
        "net_mappings[2] (host 'attacker' on network 'target-switch'): ip 'not-an-ip' is not an IP address",
        "router_mappings[0] (router 'router' on network 'target-switch'): "
        "ip 10.1.26.1 is already used by net_mappings[1] (host 'server' on network 'target-switch')",
        "router_mappings[1] (router 'router' on network 'attacker-switch'): "
        "ip 10.1.27.255 is not a host address of 10.1.27.0/24",
    ]


def test_references_must_be_defined_and_of_the_right_kind():
    data = parsed(CURRENT)
    data["net_mappings"].append({"host": "ghost", "network": "attacker-switch", "ip": "10.1.27.50"})
    data["net_mappings"].append({"host": "router", "network": "attacker-switch", "ip": "10.1.27.51"})
    data["router_mappings"].append({"router": "router", "network": "internet-connection", "ip": "100.100.100.9"})
    data["router_mappings"].append({"router": "router", "network": "attacker-switch", "ip": "10.1.27.52"})
    data["groups"] = [{"name": "team", "nodes": ["attacker", "nobody", "attacker"]}]
    assert problems_of(data) == [
        "net_mappings[2] (host 'ghost' on network 'attacker-switch'): no host named 'ghost' is defined",
        "net_mappings[3] (host 'router' on network 'attacker-switch'): 'router' is a router; list it in "
        "router_mappings",
        "router_mappings[2] (router 'router' on network 'internet-connection'): no network named "
        "'internet-connection' is defined (the WAN is wired by the sandbox itself)",
        "router_mappings[3] (router 'router' on network 'attacker-switch'): 'router' is attached to "
        "'attacker-switch' more than once",
        "group 'team': no host or router named 'nobody' is defined",
        "group 'team': lists 'attacker' more than once",
    ]


def test_groups_are_unique_and_may_not_redefine_the_sandbox_groups():
    data = parsed(CURRENT)
    data["groups"] = [{"name": "routers", "nodes": ["router"]}, {"name": "a", "nodes": []}, {"name": "a", "nodes": []}]
    assert problems_of(data) == [
        "group 'routers': 'routers' is one of the inventory groups every sandbox has",
        "group 'a': is defined more than once",
    ]


def test_the_wan_must_hold_man_and_every_router_and_keep_man_address():
    data = parsed(CURRENT)
    data["wan"]["cidr"] = "100.100.100.0/30"
    data["routers"].append({"name": "second", "base_box": {"image": "debian-12"}, "flavor": "standard.small"})
    assert problems_of(data) == [
        "wan 'internet-connection': cidr 100.100.100.0/30 has no room for the management node and 2 router(s)"
    ]


def test_a_full_network_leaves_no_address_for_user_access():
    data = parsed(CURRENT)
    data["networks"][1]["cidr"] = "10.1.27.0/30"
    data["net_mappings"][0]["ip"] = "10.1.27.2"
    data["router_mappings"][1]["ip"] = "10.1.27.1"
    assert problems_of(data) == ["network 'attacker-switch': has no address left for the user access node"]
    assert problems_of(data, SandboxOptions(user_access=False)) == []


def test_every_problem_is_reported_in_one_run():
    data = parsed(CURRENT)
    data["networks"][1]["cidr"] = "10.1.26.128/25"  # overlaps target-switch
    data["hosts"][0]["base_box"]["image"] = "no-such-image"
    data["groups"] = [{"name": "hosts", "nodes": ["ghost"]}]
    data["net_mappings"][0]["ip"] = "10.1.27.23"
    text = format_problems(load_topology(data)[1] + topology_problems(load_topology(data)[0], OPTIONS))
    assert text.splitlines() == [
        "1. network 'target-switch': cidr 10.1.26.0/24 overlaps 10.1.26.128/25 of network 'attacker-switch'",
        "2. net_mappings[0] (host 'attacker' on network 'attacker-switch'): "
        "ip 10.1.27.23 is outside network 'attacker-switch' (10.1.26.128/25)",
        "3. router_mappings[1] (router 'router' on network 'attacker-switch'): "
        "ip 10.1.27.1 is outside network 'attacker-switch' (10.1.26.128/25)",
        "4. group 'hosts': 'hosts' is one of the inventory groups every sandbox has",
        "5. group 'hosts': no host or router named 'ghost' is defined",
    ]


# -- the cloud ------------------------------------------------------------------------------

FLAVORS = {"standard.small": FlavorSize(vcpus=1, ram=2048), "m1.tiny": FlavorSize(vcpus=1, ram=512)}


def facts(**quota: QuotaUse) -> CloudFacts:
    return CloudFacts(
        images={"kali", "debian-12", "data-disk"},
        flavors=dict(FLAVORS),
        keypairs={"me"},
        networks={"public"},
        quota=quota,
    )


def test_required_names_say_who_needs_each():
    topology = load_topology(parsed(CURRENT))[0]
    needs = required_names(topology, SandboxOptions(key_name="me"))
    assert needs["image"] == {
        "debian-12": ["the management node", "host 'server'", "router 'router'"],
        "kali": ["host 'attacker'"],
        "data-disk": ["host 'server' volumes[1]"],
    }
    assert needs["flavor"] == {
        "standard.small": ["the management node", "host 'attacker'", "host 'server'", "router 'router'"]
    }
    assert needs["key pair"] == {"me": ["every node"]}
    assert needs["network"] == {"public": ["the floating IP and uplink router (external_network)"]}


def test_missing_images_flavors_keys_and_networks_are_each_reported():
    topology = load_topology(parsed(CURRENT))[0]
    options = SandboxOptions(
        key_name="lost", external_network="outside", management=ManagementBox("mgmt-img", "m1.huge", "debian")
    )
    shown = [str(p) for p in cloud_problems(required_names(topology, options), facts(), {})]
    assert shown == [
        "image 'mgmt-img': not found in the cloud (needed by the management node)",
        "flavor 'm1.huge': not found in the cloud (needed by the management node)",
        "key pair 'lost': not found in the cloud (needed by every node)",
        "network 'outside': not found in the cloud (needed by the floating IP and uplink router (external_network))",
    ]


def test_demand_of_a_rendered_sandbox():
    topology = load_topology(parsed(CURRENT))[0]
    demand = template_demand(render_template(topology, OPTIONS), FLAVORS)
    assert demand == {
        "instances": 5,  # man, uan, two hosts, one router host
        "cores": 5,
        "ram": 10240,
        "networks": 5,  # two user networks, the WAN, man-network, uplink
        "subnets": 5,
        "ports": 14,  # man 3, uan 2, attacker 2, server 2, router 4, and the uplink router's interface
        "routers": 1,
        "floating_ips": 1,
        "security_groups": 2,
        "volumes": 2,
        "gigabytes": 50,
    }


def test_demand_counts_nova_made_ports_and_volumes():
    template = {
        "resources": {
            "vm": {
                "type": "OS::Nova::Server",
                "properties": {
                    "flavor": "m1.tiny",
                    "networks": [{"network": "private"}, {"port": {"get_resource": "p"}}],
                    "block_device_mapping_v2": [{"image": "cirros", "volume_size": 3, "boot_index": 0}],
                },
            },
            "p": {"type": "OS::Neutron::Port", "properties": {"network": "private"}},
            "other": {"type": "OS::Heat::RandomString"},
        }
    }
    demand = template_demand(template, FLAVORS)
    assert (demand["instances"], demand["ram"], demand["ports"], demand["volumes"], demand["gigabytes"]) == (
        1,
        512,
        2,
        1,
        3,
    )


def test_quota_less_usage_must_leave_room():
    demand = {"instances": 4, "cores": 4, "ram": 8192, "ports": 13, "volumes": 2, "gigabytes": 50}
    quota = {
        "instances": QuotaUse(limit=10, used=8),
        "cores": QuotaUse(limit=-1, used=100),
        "ram": QuotaUse(limit=51200, used=0),
        "ports": QuotaUse(limit=50, used=45),
        "volumes": QuotaUse(limit=10, used=10),
        "gigabytes": QuotaUse(limit=1000, used=0),
    }
    shown = [str(p) for p in cloud_problems({}, facts(**quota), demand)]
    assert shown == [
        "quota 'instances': the sandbox needs 4 more instances; the project uses 8 of 10, so 2 are left",
        "quota 'ports': the sandbox needs 13 more ports; the project uses 45 of 50, so 5 are left",
        "quota 'volumes': the sandbox needs 2 more volumes; the project uses 10 of 10, so 0 are left",
    ]


def test_an_update_needs_only_what_it_adds():
    old = {"instances": 4, "ports": 10}
    new = {"instances": 5, "ports": 9}
    delta = demand_delta(new, old)
    assert (delta["instances"], delta["ports"], delta["volumes"]) == (1, -1, 0)
    quota = {"instances": QuotaUse(limit=5, used=4), "ports": QuotaUse(limit=10, used=10)}
    assert cloud_problems({}, facts(**quota), delta) == []
