# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reading topology definitions: real files as written, and every structural problem at once."""

from __future__ import annotations

from ansible_collections.opensandbox.cloud.plugins.module_utils._topology import (
    DEFAULT_WAN_CIDR,
    BaseBox,
    Volume,
    load_topology,
)
from ansible_collections.opensandbox.cloud.tests.unit.plugins.module_utils.topology_samples import (
    CURRENT,
    LEGACY,
    example,
    parsed,
)


def test_the_shipped_examples_load_cleanly():
    small, problems, warnings = load_topology(example("small-sandbox.yaml"))
    assert (problems, warnings) == ([], [])
    assert [n.name for n in small.hosts] == ["server"]
    assert [n.name for n in small.routers] == ["router"]
    assert [n.name for n in small.networks] == ["server-switch"]
    big, problems, warnings = load_topology(example("sandbox.yaml"))
    assert (problems, warnings) == ([], [])
    assert (len(big.hosts), len(big.routers), len(big.networks), len(big.groups)) == (4, 2, 3, 2)
    assert big.wan.name == "internet"


def test_legacy_key_names_and_fields_are_read():
    topology, problems, warnings = load_topology(parsed(LEGACY))
    assert problems == []
    assert warnings == []
    server, home = topology.hosts
    assert server.base_box == BaseBox("debian-9-x86_64", "debian", "ssh")
    assert server.hidden and server.block_internet
    assert home.base_box.mgmt_protocol == "winrm"
    assert home.base_box.mgmt_user == "debian"  # the documented default
    assert topology.wan.cidr == DEFAULT_WAN_CIDR
    assert topology.network("home-switch").accessible_by_user is False
    assert topology.groups[0].nodes == ("server", "home", "home-router")


def test_current_format_with_volumes_and_named_wan():
    topology, problems, _warnings = load_topology(parsed(CURRENT))
    assert problems == []
    server = topology.node("server")
    assert server.volumes == (Volume(20), Volume(30, "data-disk"))
    assert server.base_box.mgmt_protocol == "ssh"
    assert topology.wan.name == "internet-connection"
    assert [a.label for a in topology.attachments_of("router")] == [
        "router_mappings[0] (router 'router' on network 'target-switch')",
        "router_mappings[1] (router 'router' on network 'attacker-switch')",
    ]


def test_every_structural_problem_is_reported_in_one_run():
    data = {
        "hosts": [
            {"name": "a", "flavor": "f"},
            {"name": "b", "base_box": {"image": "i", "mgmt_protocol": "rdp"}, "flavor": ["x"], "volumes": []},
            "not-a-mapping",
        ],
        "routers": {"name": "r"},
        "networks": [{"name": "n", "accessible_by_user": "sometimes"}],
        "net_mappings": [{"host": "a", "ip": "10.0.0.1"}],
        "groups": [{"name": "g", "nodes": ["a", 7]}],
        "provider": "Vagrant",
    }
    _topology, problems, _warnings = load_topology(data)
    shown = [str(p) for p in problems]
    assert shown == [
        "topology: provider must be OpenStack, not 'Vagrant'",
        "network 'n': cidr is missing",
        "network 'n': accessible_by_user must be true or false, not 'sometimes'",
        "topology: name is missing",
        "host 'a': base_box is missing",
        "host 'b' base_box: mgmt_protocol must be ssh or winrm, not 'rdp'",
        "host 'b': flavor must be a string, not a list",
        "host 'b': volumes must list at least the system disk",
        "hosts[2]: must be a mapping, not a string",
        "hosts[2]: name is missing",
        "hosts[2]: base_box is missing",
        "hosts[2]: flavor is missing",
        "topology: routers must be a list, not a mapping",
        "net_mappings[0]: network is missing",
        "group 'g': nodes[1] must be a node name, not 7",
    ]


def test_unknown_keys_warn_and_undeployed_features_say_so():
    data = parsed(CURRENT)
    data["monitoring_targets"] = {"icmp": []}
    data["hosts"][0]["colour"] = "red"
    _topology, problems, warnings = load_topology(data)
    assert problems == []
    assert warnings == [
        "topology: monitoring_targets is accepted but not deployed by heat_sandbox",
        "host 'attacker': ignored unknown key(s) colour",
    ]


def test_old_and_new_key_names_together_are_a_problem():
    data = parsed(CURRENT)
    data["hosts"][0]["base_box"]["man_user"] = "kali"
    _topology, problems, _warnings = load_topology(data)
    assert [str(p) for p in problems] == ["host 'attacker' base_box: give mgmt_user or its old name man_user, not both"]


def test_volume_sizes_must_be_whole_gibibytes():
    data = parsed(CURRENT)
    data["hosts"][1]["volumes"] = [{"size": 0}, {"size": "big"}, {}]
    _topology, problems, _warnings = load_topology(data)
    assert [str(p) for p in problems] == [
        "host 'server' volumes[0]: size must be a whole number of GiB, 1 or more, not 0",
        "host 'server' volumes[1]: size must be a whole number of GiB, 1 or more, not 'big'",
        "host 'server' volumes[2]: size must be a whole number of GiB, 1 or more, not None",
    ]
