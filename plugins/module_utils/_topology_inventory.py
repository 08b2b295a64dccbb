# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A deployed sandbox as data: its hosts and an Ansible inventory, private to the collection.

The stack's ``nodes`` output (see ``_topology_hot``) gives each node's server ID and
its address on every network; the topology gives roles, users and groups. Every
node's ``ansible_host`` is its address on the management network and SSH reaches it
through the management node (``ProxyJump``), whose own ``ansible_host`` is its
floating IP, or its uplink address when it has none.

Groups: the topology's own, plus those every sandbox has (as CyberRangeCZ's
inventories do): ``hosts``, ``routers``, ``management`` (``man`` and ``uan``),
``ssh_nodes``, ``winrm_nodes``, ``user_accessible_nodes`` and ``hidden_hosts``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ansible.module_utils.common.yaml import yaml_dump

from ansible_collections.opensandbox.cloud.plugins.module_utils._topology import Topology
from ansible_collections.opensandbox.cloud.plugins.module_utils._topology_hot import (
    MANAGEMENT_NETWORK,
    MANAGEMENT_NODE,
    NODE_ROLES,
    UPLINK_NETWORK,
    USER_ACCESS_NODE,
    SandboxOptions,
    gateway_of,
    management_box,
    wan_address,
)


def nodes_output(outputs: Sequence[Mapping[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """The ``nodes`` output of a sandbox stack (``{}`` when the stack has none)."""
    for output in outputs or []:
        if output.get("output_key") == "nodes" and isinstance(output.get("output_value"), Mapping):
            return {str(k): dict(v) for k, v in output["output_value"].items() if isinstance(v, Mapping)}
    return {}


def _role(topology: Topology, node: str) -> str:
    found = topology.node(node)
    return NODE_ROLES[found.kind if found is not None else node]


def sandbox_hosts(nodes: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every node of a sandbox stack's ``nodes`` output: role, server ID, addresses, floating IP."""
    hosts = []
    for name, node in nodes.items():
        hosts.append(
            {
                "name": name,
                "role": node.get("role"),
                "server_name": node.get("server_name"),
                "server_id": node.get("server_id"),
                "addresses": dict(node.get("addresses") or {}),
                "floating_ip": node.get("floating_ip"),
            }
        )
    return hosts


def management_address(nodes: Mapping[str, Mapping[str, Any]]) -> str | None:
    """How the management node is reached from outside: its floating IP, else its uplink address."""
    man = nodes.get(MANAGEMENT_NODE) or {}
    return man.get("floating_ip") or (man.get("addresses") or {}).get(UPLINK_NETWORK)


def build_inventory(
    topology: Topology, options: SandboxOptions, nodes: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """The sandbox as an Ansible YAML inventory, in data form."""
    box = management_box(topology, options)
    man_host = management_address(nodes)
    jump = f"-o ProxyJump={box.user}@{man_host}" if man_host else None
    hosts: dict[str, dict[str, Any]] = {}
    for name, node in nodes.items():
        addresses = dict(node.get("addresses") or {})
        defined = topology.node(name)
        entry: dict[str, Any] = {
            "ansible_host": man_host if name == MANAGEMENT_NODE else addresses.get(MANAGEMENT_NETWORK),
            "ansible_user": defined.base_box.mgmt_user if defined is not None else box.user,
        }
        if name != MANAGEMENT_NODE and jump and (defined is None or defined.base_box.mgmt_protocol == "ssh"):
            entry["ansible_ssh_common_args"] = jump
        entry["sandbox_role"] = _role(topology, name)
        entry["sandbox_addresses"] = addresses
        if defined is not None and defined.kind == "router":
            entry["sandbox_default_gateway"] = wan_address(topology)
        hosts[name] = entry
    if MANAGEMENT_NODE in hosts:
        hosts[MANAGEMENT_NODE]["sandbox_routes"] = _management_routes(topology, nodes)

    def members(names: Sequence[str]) -> dict[str, Any]:
        return {"hosts": {n: {} for n in names if n in hosts}} if any(n in hosts for n in names) else {}

    accessible = {n.name for n in topology.networks if n.accessible_by_user}
    on_user_networks = [
        n.name for n in topology.nodes if any(a.network in accessible for a in topology.attachments_of(n.name))
    ]
    children: dict[str, Any] = {
        "hosts": members([n.name for n in topology.hosts]),
        "routers": members([n.name for n in topology.routers]),
        "management": members([MANAGEMENT_NODE, USER_ACCESS_NODE]),
        "ssh_nodes": members([n.name for n in topology.nodes if n.base_box.mgmt_protocol == "ssh"]),
        "winrm_nodes": members([n.name for n in topology.nodes if n.base_box.mgmt_protocol == "winrm"]),
        "user_accessible_nodes": members(on_user_networks),
        "hidden_hosts": members([n.name for n in topology.hosts if n.hidden]),
    }
    if children["winrm_nodes"]:
        # WinRM does not travel over an SSH jump: reach these through a tunnel via the management node.
        children["winrm_nodes"]["vars"] = {"ansible_connection": "winrm"}
    for group in topology.groups:
        children[group.name] = members(list(group.nodes))
    return {"all": {"hosts": hosts, "children": children, "vars": {"sandbox_name": topology.name}}}


def _management_routes(topology: Topology, nodes: Mapping[str, Mapping[str, Any]]) -> list[dict[str, str]]:
    """Where the management node sends each routed topology network: the router host's WAN address."""
    routes = []
    for network in topology.networks:
        gateway = gateway_of(topology, network.name)
        router = next((a.node for a in topology.router_mappings if a.network == network.name and a.ip == gateway), None)
        via = ((nodes.get(router) or {}).get("addresses") or {}).get(topology.wan.name) if router else None
        if via:
            routes.append({"network": network.cidr, "via": via})
    return routes


def plain_inventory(servers: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """An inventory for a raw template's servers: each reached at its floating IP or first fixed IP."""
    hosts = {}
    for server in servers:
        address = server.get("floating_ip") or next(iter((server.get("addresses") or {}).values()), None)
        hosts[server["name"]] = {"ansible_host": address} if address else {}
    return {"all": {"hosts": hosts}}


def dump_inventory(inventory: Mapping[str, Any]) -> str:
    """The inventory as a YAML file's text."""
    return "---\n" + yaml_dump(dict(inventory), default_flow_style=False, sort_keys=False, width=120)
