# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Everything that must hold before a sandbox is deployed, private to the collection.

Two steps, each listing every problem it finds, each naming the element it is about:

- ``topology_problems``: the topology on its own (names, CIDRs, addresses, references,
  groups), with no cloud at all;
- ``cloud_problems``: what the cloud must have (images, flavors, the key pair, the
  networks the sandbox joins) and whether the project's quota, less what it already
  uses, leaves room for the sandbox. The module fetches the facts (``CloudFacts``);
  this code only compares.

``template_demand`` counts what a HOT template asks of the quota; on an update, the
quota check uses the new template's demand less the running stack's.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ansible_collections.opensandbox.cloud.plugins.module_utils._topology import Problem, Topology
from ansible_collections.opensandbox.cloud.plugins.module_utils._topology_hot import (
    MANAGEMENT_NETWORK,
    MANAGEMENT_NODE,
    UPLINK_NETWORK,
    USER_ACCESS_NODE,
    SandboxOptions,
    has_user_access,
    management_box,
    user_access_address,
    wan_address,
)

NAME_PATTERN = r"^[a-z][a-zA-Z0-9-]*$"
_NAME = re.compile(NAME_PATTERN)
# Inventory groups every sandbox has; a topology may not define its own of these names.
DEFAULT_GROUPS = (
    "hosts",
    "routers",
    "management",
    "ssh_nodes",
    "winrm_nodes",
    "user_accessible_nodes",
    "hidden_hosts",
)
# Quota kinds, in the order problems are reported, with the unit they are counted in.
QUOTA_KINDS = {
    "instances": "instances",
    "cores": "vCPUs",
    "ram": "MiB of RAM",
    "networks": "networks",
    "subnets": "subnets",
    "ports": "ports",
    "routers": "routers",
    "floating_ips": "floating IPs",
    "security_groups": "security groups",
    "volumes": "volumes",
    "gigabytes": "GiB of volume storage",
}


def _net(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(cidr)
    except ValueError:
        return None


# -- the topology alone --------------------------------------------------------------------


def _check_names(topology: Topology, problems: list[Problem]) -> None:
    named: list[tuple[str, str]] = [("topology", topology.name)]
    named += [(f"host {n.name!r}", n.name) for n in topology.hosts]
    named += [(f"router {n.name!r}", n.name) for n in topology.routers]
    named += [(f"network {n.name!r}", n.name) for n in topology.networks]
    named += [(f"wan {topology.wan.name!r}", topology.wan.name)]
    named += [(f"group {g.name!r}", g.name) for g in topology.groups]
    for element, name in named:
        if name and not _NAME.match(name):
            problems.append(
                Problem(element, f"name {name!r} must start with a lowercase letter, then letters, digits or dashes")
            )
    # Node and network names identify the sandbox's servers and networks: one name, one element.
    owners: dict[str, list[str]] = {}
    for element, name in named[: len(named) - len(topology.groups)]:
        if name:
            owners.setdefault(name, []).append(element)
    for name, elements in owners.items():
        if len(elements) > 1:
            problems.append(Problem(elements[0], f"name {name!r} is used more than once: {', '.join(elements)}"))
    for node in topology.nodes:
        if node.name in (MANAGEMENT_NODE, USER_ACCESS_NODE):
            role = "management node" if node.name == MANAGEMENT_NODE else "user access node"
            problems.append(Problem(f"{node.kind} {node.name!r}", f"name {node.name!r} is the sandbox's {role}"))
    for network in (*topology.networks, topology.wan):
        if network.name in (MANAGEMENT_NETWORK, UPLINK_NETWORK):
            problems.append(
                Problem(f"network {network.name!r}", f"name {network.name!r} is a network the sandbox makes itself")
            )


def _check_cidrs(topology: Topology, options: SandboxOptions, problems: list[Problem]) -> None:
    spans: list[tuple[str, Any]] = []
    for element, cidr in [(f"network {n.name!r}", n.cidr) for n in topology.networks] + [
        (f"wan {topology.wan.name!r}", topology.wan.cidr)
    ]:
        if not cidr:
            continue
        net = _net(cidr)
        if net is None:
            try:
                hint = f" (did you mean {ipaddress.ip_network(cidr, strict=False)}?)"
            except ValueError:
                hint = ""
            problems.append(Problem(element, f"cidr {cidr!r} is not a network address{hint}"))
            continue
        if net.num_addresses < 4:
            problems.append(Problem(element, f"cidr {cidr} is too small for a network"))
        spans.append((element, net))
    wan = _net(topology.wan.cidr)
    if wan is not None and wan.num_addresses - 2 < len(topology.routers) + 1:
        problems.append(
            Problem(
                f"wan {topology.wan.name!r}",
                f"cidr {topology.wan.cidr} has no room for the management node and {len(topology.routers)} router(s)",
            )
        )
    own = [(f"the sandbox's management network ({MANAGEMENT_NETWORK})", options.management_cidr)]
    if options.own_uplink:
        own.append((f"the sandbox's uplink network ({UPLINK_NETWORK})", options.uplink_cidr))
    for element, cidr in own:
        net = _net(cidr)
        if net is None:
            problems.append(Problem(element, f"cidr {cidr!r} is not a network address"))
        else:
            spans.append((element, net))
    for i, (first, a) in enumerate(spans):
        for second, b in spans[i + 1 :]:
            if a.version == b.version and a.overlaps(b):
                problems.append(Problem(first, f"cidr {a} overlaps {b} of {second}"))


def _check_attachments(topology: Topology, problems: list[Problem]) -> None:
    used: dict[tuple[str, str], str] = {}
    wired: set[tuple[str, str, str]] = set()
    for att in topology.attachments:
        element = att.label
        node = topology.node(att.node) if att.node else None
        if att.node and node is None:
            problems.append(Problem(element, f"no {att.kind} named {att.node!r} is defined"))
        elif node is not None and node.kind != att.kind:
            other = "net_mappings" if node.kind == "host" else "router_mappings"
            problems.append(Problem(element, f"{att.node!r} is a {node.kind}; list it in {other}"))
        network = topology.network(att.network) if att.network else None
        if att.network and network is None:
            hint = " (the WAN is wired by the sandbox itself)" if att.network == topology.wan.name else ""
            problems.append(Problem(element, f"no network named {att.network!r} is defined{hint}"))
        if (att.kind, att.node, att.network) in wired and att.node and att.network:
            problems.append(Problem(element, f"{att.node!r} is attached to {att.network!r} more than once"))
        wired.add((att.kind, att.node, att.network))
        if not att.ip:
            continue
        try:
            address = ipaddress.ip_address(att.ip)
        except ValueError:
            problems.append(Problem(element, f"ip {att.ip!r} is not an IP address"))
            continue
        net = _net(network.cidr) if network is not None else None
        if net is not None:
            if address not in net:
                problems.append(Problem(element, f"ip {att.ip} is outside network {att.network!r} ({net})"))
            elif address == net.network_address or (net.version == 4 and address == net.broadcast_address):
                problems.append(Problem(element, f"ip {att.ip} is not a host address of {net}"))
        key = (att.network, str(address))
        if key in used:
            problems.append(Problem(element, f"ip {att.ip} is already used by {used[key]}"))
        else:
            used[key] = element


def _check_groups(topology: Topology, problems: list[Problem]) -> None:
    seen: set[str] = set()
    for group in topology.groups:
        element = f"group {group.name!r}"
        if group.name in seen:
            problems.append(Problem(element, "is defined more than once"))
        seen.add(group.name)
        if group.name in DEFAULT_GROUPS:
            problems.append(Problem(element, f"{group.name!r} is one of the inventory groups every sandbox has"))
        members: set[str] = set()
        for node in group.nodes:
            if node in members:
                problems.append(Problem(element, f"lists {node!r} more than once"))
            members.add(node)
            if topology.node(node) is None:
                problems.append(Problem(element, f"no host or router named {node!r} is defined"))


def _check_user_access(topology: Topology, options: SandboxOptions, problems: list[Problem]) -> None:
    if not has_user_access(topology, options):
        return
    for network in topology.networks:
        usable = network.accessible_by_user and _net(network.cidr) is not None
        if usable and user_access_address(topology, network) is None:
            problems.append(Problem(f"network {network.name!r}", "has no address left for the user access node"))


def _check_wan_address(topology: Topology, problems: list[Problem]) -> None:
    if _net(topology.wan.cidr) is None:
        return
    taken = [a for a in topology.attachments if a.ip == wan_address(topology)]
    for att in taken:
        problems.append(Problem(att.label, f"ip {att.ip} is the management node's address on the WAN"))


def topology_problems(topology: Topology, options: SandboxOptions) -> list[Problem]:
    """Every problem of the topology itself, checked without a cloud."""
    problems: list[Problem] = []
    if not topology.hosts and not topology.routers:
        problems.append(Problem("topology", "defines no hosts and no routers"))
    _check_names(topology, problems)
    _check_cidrs(topology, options, problems)
    _check_attachments(topology, problems)
    _check_wan_address(topology, problems)
    _check_groups(topology, problems)
    _check_user_access(topology, options, problems)
    return problems


# -- the cloud ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FlavorSize:
    vcpus: int
    ram: int  # MiB


@dataclasses.dataclass(frozen=True)
class QuotaUse:
    limit: int  # -1: unlimited
    used: int

    @property
    def left(self) -> int | None:
        return None if self.limit < 0 else max(self.limit - self.used, 0)


@dataclasses.dataclass
class CloudFacts:
    """What the module read from the cloud; names and IDs both index each set."""

    images: set[str]
    flavors: dict[str, FlavorSize]
    keypairs: set[str]
    networks: set[str]
    quota: dict[str, QuotaUse]


def required_names(topology: Topology, options: SandboxOptions) -> dict[str, dict[str, list[str]]]:
    """The images, flavors, key pairs and networks the sandbox needs, each with who needs it."""
    needs: dict[str, dict[str, list[str]]] = {"image": {}, "flavor": {}, "key pair": {}, "network": {}}

    def need(kind: str, name: str | None, who: str) -> None:
        if name:
            needs[kind].setdefault(name, []).append(who)

    box = management_box(topology, options)
    need("image", box.image, "the management node")
    need("flavor", box.flavor, "the management node")
    for node in topology.nodes:
        who = f"{node.kind} {node.name!r}"
        need("image", node.base_box.image, who)
        need("flavor", node.flavor, who)
        for index, volume in enumerate(node.volumes[1:], start=1):
            need("image", volume.image, f"{who} volumes[{index}]")
    need("key pair", options.key_name, "every node")
    need("network", options.uplink_network, "the management node's uplink (uplink_network)")
    need("network", options.external_network, "the floating IP and uplink router (external_network)")
    return needs


def cloud_problems(
    needs: Mapping[str, Mapping[str, list[str]]],
    facts: CloudFacts,
    demand: Mapping[str, int],
) -> list[Problem]:
    """Every missing image, flavor, key pair or network, and every quota the sandbox would exceed.

    ``demand`` is what the deployment adds to the project (see ``template_demand``).
    """
    problems: list[Problem] = []
    present = {
        "image": facts.images,
        "flavor": set(facts.flavors),
        "key pair": facts.keypairs,
        "network": facts.networks,
    }
    for kind, names in needs.items():
        for name, users in names.items():
            if name not in present[kind]:
                problems.append(
                    Problem(f"{kind} {name!r}", f"not found in the cloud (needed by {', '.join(sorted(set(users)))})")
                )
    for kind, unit in QUOTA_KINDS.items():
        wanted = demand.get(kind, 0)
        use = facts.quota.get(kind)
        if wanted <= 0 or use is None or use.left is None or wanted <= use.left:
            continue
        problems.append(
            Problem(
                f"quota {kind!r}",
                f"the sandbox needs {wanted} more {unit}; the project uses {use.used} of {use.limit}, "
                f"so {use.left} are left",
            )
        )
    return problems


def _flavor_size(flavors: Mapping[str, FlavorSize], name: Any) -> FlavorSize:
    return flavors.get(name, FlavorSize(0, 0)) if isinstance(name, str) else FlavorSize(0, 0)


def template_demand(template: Mapping[str, Any] | None, flavors: Mapping[str, FlavorSize]) -> dict[str, int]:
    """What a HOT template's resources take from the project's quota.

    Counts the resource types a sandbox uses; a Nova-made port per ``networks`` entry
    without a ``port``, a router interface's port, and a Nova-made volume per
    ``block_device_mapping_v2`` entry with an image and a size. Resources inside
    nested stacks or groups are not counted.
    """
    demand = dict.fromkeys(QUOTA_KINDS, 0)
    resources = (template or {}).get("resources") or {}
    for spec in resources.values():
        if not isinstance(spec, Mapping):
            continue
        kind = spec.get("type")
        props = spec.get("properties") if isinstance(spec.get("properties"), Mapping) else {}
        if kind == "OS::Nova::Server":
            size = _flavor_size(flavors, props.get("flavor"))
            demand["instances"] += 1
            demand["cores"] += size.vcpus
            demand["ram"] += size.ram
            demand["ports"] += sum(
                1 for n in props.get("networks") or [] if isinstance(n, Mapping) and not n.get("port")
            )
            for bdm in props.get("block_device_mapping_v2") or []:
                if isinstance(bdm, Mapping) and bdm.get("image") and isinstance(bdm.get("volume_size"), int):
                    demand["volumes"] += 1
                    demand["gigabytes"] += bdm["volume_size"]
        elif kind == "OS::Cinder::Volume":
            demand["volumes"] += 1
            demand["gigabytes"] += props.get("size") if isinstance(props.get("size"), int) else 0
        else:
            counted = {
                "OS::Neutron::Net": "networks",
                "OS::Neutron::Subnet": "subnets",
                "OS::Neutron::Port": "ports",
                "OS::Neutron::RouterInterface": "ports",
                "OS::Neutron::Router": "routers",
                "OS::Neutron::FloatingIP": "floating_ips",
                "OS::Neutron::SecurityGroup": "security_groups",
            }.get(kind)
            if counted:
                demand[counted] += 1
    return demand


def demand_delta(new: Mapping[str, int], old: Mapping[str, int] | None) -> dict[str, int]:
    """What an update adds: the new demand less what the running stack already holds."""
    return {kind: new.get(kind, 0) - (old or {}).get(kind, 0) for kind in QUOTA_KINDS}


def format_problems(problems: Iterable[Problem]) -> str:
    """One line per problem, numbered, for a failure message."""
    return "\n".join(f"{i}. {p}" for i, p in enumerate(problems, start=1))
