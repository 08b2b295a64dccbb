# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A sandbox's picture (see ``_diagram``): from its topology, or from the stack Heat made (private to the collection).

From the topology (``topology_diagram``), before anything exists: the WAN with the
management node and the router hosts on it, the topology's networks, the user access
node when there is one, the hosts, hidden marks and groups. Every address is one the
deployment will use: the topology's own, and those ``_topology_hot`` gives the
management node, the router hosts on the WAN and the user access node.

From a deployed stack (``deployed_diagram``): every node with the addresses its ports
really have (the stack's ``nodes`` output, which Heat resolves from the ports, or the
servers' addresses for a raw template), and each network's CIDR as Neutron has it.
Hidden marks and groups are the topology's alone (the cloud does not keep them), so they
are not in this picture.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ansible_collections.opensandbox.cloud.plugins.module_utils._diagram import (
    ROLES,
    Diagram,
    DiagramGroup,
    DiagramNetwork,
    DiagramNode,
    Link,
)
from ansible_collections.opensandbox.cloud.plugins.module_utils._topology import Topology
from ansible_collections.opensandbox.cloud.plugins.module_utils._topology_hot import (
    MANAGEMENT_NETWORK,
    MANAGEMENT_NODE,
    NODE_ROLES,
    UPLINK_NETWORK,
    USER_ACCESS_NODE,
    SandboxOptions,
    has_user_access,
    router_wan_addresses,
    user_access_address,
    wan_address,
)


def _management_notes(options: SandboxOptions) -> tuple[str, ...]:
    if options.floating_ip:
        return (f"floating IP on {options.external_network}",)
    return (f"reached on {options.uplink_network or UPLINK_NETWORK}",)


def topology_diagram(topology: Topology, options: SandboxOptions) -> Diagram:
    """The picture of the sandbox a checked topology deploys to, with the given options."""
    wan = topology.wan
    networks = [DiagramNetwork(wan.name, wan.cidr)]
    networks += [DiagramNetwork(n.name, n.cidr, n.hidden) for n in topology.networks]
    nodes = [
        DiagramNode(
            MANAGEMENT_NODE,
            NODE_ROLES[MANAGEMENT_NODE],
            (Link(wan.name, wan_address(topology)),),
            notes=_management_notes(options),
        )
    ]
    if has_user_access(topology, options):
        links = tuple(
            Link(n.name, user_access_address(topology, n) or "") for n in topology.networks if n.accessible_by_user
        )
        nodes.append(DiagramNode(USER_ACCESS_NODE, NODE_ROLES[USER_ACCESS_NODE], links))
    on_wan = router_wan_addresses(topology)
    for node in topology.nodes:
        links = tuple(Link(a.network, a.ip) for a in topology.attachments_of(node.name))
        if node.kind == "router":
            links = (Link(wan.name, on_wan[node.name]), *links)
        nodes.append(DiagramNode(node.name, NODE_ROLES[node.kind], links, hidden=node.hidden))
    return Diagram(
        title=topology.name,
        networks=tuple(networks),
        nodes=tuple(nodes),
        groups=tuple(DiagramGroup(g.name, g.nodes) for g in topology.groups),
        notes=(f"Every node also joins the management network {MANAGEMENT_NETWORK} ({options.management_cidr}).",),
    )


def deployed_diagram(
    title: str, hosts: Sequence[Mapping[str, Any]], cidrs: Mapping[str, str], *, sandbox: bool
) -> Diagram:
    """The picture of a deployed stack from its hosts (``sandbox_hosts`` or ``server_hosts``).

    ``cidrs`` maps the networks' names (as the hosts' addresses name them) to their CIDRs.
    For a ``sandbox`` made from a topology, each node's addresses on the management network
    and the uplink are written in its box, not drawn: every node joins the first.
    """
    nodes = []
    for host in hosts:
        role = host.get("role") if sandbox and host.get("role") in ROLES else "host"
        links = []
        notes = []
        for network, address in sorted((host.get("addresses") or {}).items()):
            if sandbox and network in (MANAGEMENT_NETWORK, UPLINK_NETWORK):
                notes.append(f"{network} {address}")
            else:
                links.append(Link(network, address or ""))
        if host.get("floating_ip"):
            notes.append(f"floating IP {host['floating_ip']}")
        server = host.get("server_name") or ""
        nodes.append(
            DiagramNode(
                str(host.get("name") or server),
                role,
                tuple(links),
                notes=tuple(notes),
                title=f"server {server}" if server else "",
            )
        )
    named = sorted({link.network for node in nodes for link in node.links})
    notes = ()
    if sandbox:
        notes = ("Drawn from the deployed stack; hidden marks and groups are in the topology's picture.",)
    return Diagram(
        title=title,
        networks=tuple(DiagramNetwork(name, cidrs.get(name, "")) for name in named),
        nodes=tuple(nodes),
        notes=notes,
    )
