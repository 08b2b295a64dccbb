# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The inventory and host list of a deployed sandbox, from its topology and its stack's outputs."""

from __future__ import annotations

import yaml

from ansible_collections.opensandbox.cloud.plugins.module_utils._topology import load_topology
from ansible_collections.opensandbox.cloud.plugins.module_utils._topology_hot import SandboxOptions
from ansible_collections.opensandbox.cloud.plugins.module_utils._topology_inventory import (
    build_inventory,
    dump_inventory,
    nodes_output,
    plain_inventory,
    sandbox_hosts,
)
from ansible_collections.opensandbox.cloud.tests.unit.plugins.module_utils.topology_samples import (
    LEGACY,
    example,
    parsed,
)

# What the stack of playbooks/files/sandbox.yaml reports in its nodes output.
NODES = {
    "man": {
        "role": "management",
        "server_id": "s-man",
        "addresses": {"man-network": "192.168.128.1", "internet": "100.100.100.1", "uplink": "192.168.127.2"},
        "floating_ip": "172.24.4.3",
    },
    "uan": {
        "role": "user-access",
        "server_id": "s-uan",
        "addresses": {"man-network": "192.168.128.2", "attacker-switch": "10.10.10.254"},
    },
    "attacker": {
        "role": "host",
        "server_id": "s-a",
        "addresses": {"man-network": "192.168.128.3", "attacker-switch": "10.10.10.10"},
    },
    "server": {
        "role": "host",
        "server_id": "s-s",
        "addresses": {"man-network": "192.168.128.4", "server-switch": "10.10.20.10"},
    },
    "web": {
        "role": "host",
        "server_id": "s-w",
        "addresses": {"man-network": "192.168.128.5", "server-switch": "10.10.20.11"},
    },
    "client": {
        "role": "host",
        "server_id": "s-c",
        "addresses": {"man-network": "192.168.128.6", "client-switch": "10.10.30.10"},
    },
    "edge-router": {
        "role": "router",
        "server_id": "s-e",
        "addresses": {"man-network": "192.168.128.7", "internet": "100.100.100.2", "attacker-switch": "10.10.10.1"},
    },
    "core-router": {
        "role": "router",
        "server_id": "s-r",
        "addresses": {
            "man-network": "192.168.128.8",
            "internet": "100.100.100.3",
            "server-switch": "10.10.20.1",
            "client-switch": "10.10.30.1",
        },
    },
}


def sandbox():
    return load_topology(example("sandbox.yaml"))[0]


def test_nodes_output_is_read_from_the_stack_outputs():
    outputs = [{"output_key": "other", "output_value": 1}, {"output_key": "nodes", "output_value": NODES}]
    assert nodes_output(outputs) == NODES
    assert nodes_output([]) == {}


def test_every_host_has_ansible_host_user_and_a_jump_through_man():
    hosts = build_inventory(sandbox(), SandboxOptions(), NODES)["all"]["hosts"]
    assert list(hosts) == list(NODES)
    assert hosts["man"]["ansible_host"] == "172.24.4.3"
    assert "ansible_ssh_common_args" not in hosts["man"]
    assert hosts["web"]["ansible_host"] == "192.168.128.5"
    assert hosts["web"]["ansible_user"] == "cirros"
    assert hosts["web"]["ansible_ssh_common_args"] == "-o ProxyJump=cirros@172.24.4.3"
    assert hosts["web"]["sandbox_addresses"] == NODES["web"]["addresses"]
    assert hosts["uan"]["sandbox_role"] == "user-access"
    assert hosts["core-router"]["sandbox_default_gateway"] == "100.100.100.1"
    assert hosts["man"]["sandbox_routes"] == [
        {"network": "10.10.10.0/24", "via": "100.100.100.2"},
        {"network": "10.10.20.0/24", "via": "100.100.100.3"},
        {"network": "10.10.30.0/24", "via": "100.100.100.3"},
    ]


def test_groups_come_from_the_topology_and_the_sandbox():
    children = build_inventory(sandbox(), SandboxOptions(), NODES)["all"]["children"]

    def names(group):
        return list(children[group].get("hosts", {}))

    assert names("attackers") == ["attacker"]
    assert names("targets") == ["server", "web", "client"]
    assert names("hosts") == ["attacker", "server", "web", "client"]
    assert names("routers") == ["edge-router", "core-router"]
    assert names("management") == ["man", "uan"]
    assert names("hidden_hosts") == ["server"]
    assert names("user_accessible_nodes") == ["attacker", "client", "edge-router", "core-router"]
    assert names("ssh_nodes") == ["attacker", "server", "web", "client", "edge-router", "core-router"]
    assert children["winrm_nodes"] == {}


def test_winrm_nodes_get_no_ssh_jump():
    topology = load_topology(parsed(LEGACY))[0]
    nodes = {
        "man": {"addresses": {"uplink": "192.168.127.2"}},
        "home": {"addresses": {"man-network": "192.168.128.9"}},
        "server": {"addresses": {"man-network": "192.168.128.8"}},
    }
    inventory = build_inventory(topology, SandboxOptions(external_network=None), nodes)["all"]
    assert inventory["hosts"]["man"]["ansible_host"] == "192.168.127.2"  # no floating IP: the uplink address
    assert "ansible_ssh_common_args" not in inventory["hosts"]["home"]
    assert inventory["hosts"]["server"]["ansible_ssh_common_args"] == "-o ProxyJump=debian@192.168.127.2"
    assert inventory["children"]["winrm_nodes"] == {"hosts": {"home": {}}, "vars": {"ansible_connection": "winrm"}}


def test_the_inventory_file_is_valid_yaml_in_a_fixed_order():
    text = dump_inventory(build_inventory(sandbox(), SandboxOptions(), NODES))
    assert text == dump_inventory(build_inventory(sandbox(), SandboxOptions(), NODES))
    assert yaml.safe_load(text)["all"]["vars"] == {"sandbox_name": "sandbox"}


def test_the_host_list_names_roles_and_addresses():
    hosts = sandbox_hosts(NODES)
    assert [(h["name"], h["role"]) for h in hosts][:3] == [
        ("man", "management"),
        ("uan", "user-access"),
        ("attacker", "host"),
    ]
    assert hosts[0]["floating_ip"] == "172.24.4.3"
    assert hosts[-1] == {
        "name": "core-router",
        "role": "router",
        "server_name": None,
        "server_id": "s-r",
        "addresses": NODES["core-router"]["addresses"],
        "floating_ip": None,
    }


def test_a_raw_template_inventory_lists_its_servers():
    servers = [
        {"name": "web", "addresses": {"private": "10.0.0.5"}, "floating_ip": "172.24.4.9"},
        {"name": "db", "addresses": {"private": "10.0.0.6"}, "floating_ip": None},
        {"name": "lonely", "addresses": {}, "floating_ip": None},
    ]
    assert plain_inventory(servers) == {
        "all": {"hosts": {"web": {"ansible_host": "172.24.4.9"}, "db": {"ansible_host": "10.0.0.6"}, "lonely": {}}}
    }
