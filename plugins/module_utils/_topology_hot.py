# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Render a sandbox topology to a Heat (HOT) template, private to the collection.

The sandbox is laid out as CyberRangeCZ's OpenStack driver lays out a topology
instance:

- every topology network becomes a network and a subnet without DHCP (addresses are
  fixed and reach the servers through the config drive); the subnet's gateway is the
  address of the router host mapped to it (the first by name when several are);
- the WAN joins the router hosts to the management node ``man``, whose address on it
  (the WAN's first host address) is the WAN subnet's gateway; the router hosts take the
  next addresses, in the topology's order, and the WAN subnet's host routes send each routed
  topology network to its gateway router host there, so the nodes on the WAN (``man``
  and the router hosts) route between the topology networks as a cloud's cloud-init
  sets them up, with no configuration inside the sandbox;
- the management network ``man-network`` joins every node, ``man`` included, so
  ``man`` reaches each of them; it has no gateway, so it adds no default route;
- ``man`` also sits on the uplink: the sandbox's own ``uplink`` network behind a
  Neutron router to the external network, with a floating IP, or an existing
  network given as ``uplink_network``;
- the user access node ``uan`` (when asked for) joins every network that is
  ``accessible_by_user``, at the highest address no mapping uses;
- ports of router hosts and of ``man`` on the WAN carry ``allowed_address_pairs`` for
  any address, so they may forward traffic that is not their own;
- every server boots with a config drive, from a volume when the host asks for
  volumes (the first is the system disk), and every OpenStack name starts with the
  resource prefix.

The output is plain data with a fixed order: the same topology and options render
the same template, byte for byte, through ``dump_template``.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Mapping
from typing import Any

from ansible.module_utils.common.yaml import yaml_dump

from ansible_collections.opensandbox.cloud.plugins.module_utils._topology import (
    Attachment,
    Network,
    Node,
    Topology,
)

HOT_VERSION = "2018-08-31"
MANAGEMENT_NODE = "man"
USER_ACCESS_NODE = "uan"
MANAGEMENT_NETWORK = "man-network"
UPLINK_NETWORK = "uplink"
DEFAULT_MANAGEMENT_CIDR = "192.168.128.0/17"
DEFAULT_UPLINK_CIDR = "192.168.127.0/24"
DEFAULT_EXTERNAL_NETWORK = "public"
NODE_ROLES = {"host": "host", "router": "router", MANAGEMENT_NODE: "management", USER_ACCESS_NODE: "user-access"}
ANY = {4: "0.0.0.0/0", 6: "::/0"}


@dataclasses.dataclass(frozen=True)
class ManagementBox:
    """What the management and user access nodes boot: image, flavor and login user."""

    image: str
    flavor: str
    user: str


@dataclasses.dataclass(frozen=True)
class SandboxOptions:
    """How a topology is deployed, beyond the topology itself."""

    resource_prefix: str = ""
    key_name: str | None = None
    management: ManagementBox | None = None  # None: the first router host's (or host's) box
    management_cidr: str = DEFAULT_MANAGEMENT_CIDR
    uplink_cidr: str = DEFAULT_UPLINK_CIDR
    uplink_network: str | None = None  # an existing network for man; None: the sandbox makes its own
    external_network: str | None = DEFAULT_EXTERNAL_NETWORK  # None or "": no router, no floating IP
    user_access: bool | None = None  # None: as the topology says

    @property
    def own_uplink(self) -> bool:
        return not self.uplink_network

    @property
    def floating_ip(self) -> bool:
        return bool(self.external_network)


def management_box(topology: Topology, options: SandboxOptions) -> ManagementBox:
    """The box of ``man`` and ``uan``: as given, else the first router host's, else the first host's."""
    if options.management is not None:
        return options.management
    source = (topology.routers or topology.hosts or (None,))[0]
    if source is None:
        return ManagementBox(image="", flavor="", user="")
    return ManagementBox(image=source.base_box.image, flavor=source.flavor, user=source.base_box.mgmt_user)


def has_user_access(topology: Topology, options: SandboxOptions) -> bool:
    wanted = topology.user_access if options.user_access is None else options.user_access
    return wanted and any(n.accessible_by_user for n in topology.networks)


def ip_version(cidr: str) -> int:
    return ipaddress.ip_network(cidr, strict=False).version


def wan_address(topology: Topology) -> str:
    """``man``'s address on the WAN: the first host address, as in CyberRangeCZ."""
    return str(next(ipaddress.ip_network(topology.wan.cidr).hosts()))


def _gateway_mapping(topology: Topology, network: str) -> Attachment | None:
    routers = sorted((a for a in topology.router_mappings if a.network == network), key=lambda a: a.node)
    return routers[0] if routers else None


def gateway_of(topology: Topology, network: str) -> str | None:
    """The address of the router host that is the network's gateway (the first router by name)."""
    mapping = _gateway_mapping(topology, network)
    return mapping.ip if mapping else None


def router_wan_addresses(topology: Topology) -> dict[str, str]:
    """Each router host's address on the WAN: the host addresses after ``man``'s, in the topology's order."""
    hosts = ipaddress.ip_network(topology.wan.cidr).hosts()
    next(hosts)  # man's
    return {router.name: str(next(hosts)) for router in topology.routers}


def wan_routes(topology: Topology) -> list[dict[str, str]]:
    """The WAN subnet's host routes: each routed topology network via its gateway router host's WAN address."""
    on_wan = router_wan_addresses(topology)
    version = ip_version(topology.wan.cidr)
    routes = []
    for network in topology.networks:
        mapping = _gateway_mapping(topology, network.name)
        if mapping is not None and ip_version(network.cidr) == version:
            routes.append({"destination": network.cidr, "nexthop": on_wan[mapping.node]})
    return routes


def user_access_address(topology: Topology, network: Network) -> str | None:
    """``uan``'s address on a user network: the highest host address no mapping uses."""
    taken = {a.ip for a in topology.attachments if a.network == network.name}
    net = ipaddress.ip_network(network.cidr)
    last = net.broadcast_address - 1 if net.version == 4 else net.broadcast_address
    address = last
    while address > net.network_address:
        if str(address) not in taken:
            return str(address)
        address -= 1
    return None


def _res(name: str) -> dict[str, str]:
    return {"get_resource": name}


def _ip_of(port: str) -> dict[str, list[Any]]:
    return {"get_attr": [port, "fixed_ips", 0, "ip_address"]}


def _net_key(network: str) -> str:
    return f"net_{network}"


def _subnet_key(network: str) -> str:
    return f"subnet_{network}"


def _port_key(node: str, network: str) -> str:
    # Underscores never appear in topology names, so these keys cannot collide.
    return f"port_{node}_{network}"


class _Builder:
    """Builds the template in a fixed order: groups, networks, ports, volumes, servers, outputs."""

    def __init__(self, topology: Topology, options: SandboxOptions) -> None:
        self.topology = topology
        self.options = options
        self.prefix = options.resource_prefix
        self.box = management_box(topology, options)
        self.user_access = has_user_access(topology, options)
        self.resources: dict[str, Any] = {}
        self.node_ports: dict[str, list[tuple[str, str]]] = {}  # node -> [(network, port key)]

    def name(self, *parts: str) -> str:
        return self.prefix + "-".join(parts)

    # -- security groups --------------------------------------------------------------------

    def security_groups(self) -> None:
        self.resources["sg_internal"] = {
            "type": "OS::Neutron::SecurityGroup",
            "properties": {
                "name": self.name("internal"),
                "description": "Sandbox traffic: anything in, anything out",
                "rules": [
                    {"direction": "ingress", "ethertype": "IPv4", "remote_ip_prefix": ANY[4]},
                    {"direction": "ingress", "ethertype": "IPv6", "remote_ip_prefix": ANY[6]},
                ],
            },
        }
        self.resources["sg_uplink"] = {
            "type": "OS::Neutron::SecurityGroup",
            "properties": {
                "name": self.name("uplink"),
                "description": "The management node's uplink: SSH and ICMP in",
                "rules": [
                    {
                        "direction": "ingress",
                        "ethertype": "IPv4",
                        "protocol": "tcp",
                        "port_range_min": 22,
                        "port_range_max": 22,
                        "remote_ip_prefix": ANY[4],
                    },
                    {"direction": "ingress", "ethertype": "IPv4", "protocol": "icmp", "remote_ip_prefix": ANY[4]},
                ],
            },
        }

    # -- networks ---------------------------------------------------------------------------

    def network(
        self,
        name: str,
        cidr: str,
        gateway: str | None,
        *,
        dhcp: bool = False,
        routes: list[dict[str, str]] | None = None,
    ) -> None:
        """A network and its subnet; ``gateway`` None means no gateway (Heat's empty string)."""
        self.resources[_net_key(name)] = {"type": "OS::Neutron::Net", "properties": {"name": self.name(name)}}
        subnet: dict[str, Any] = {
            "name": self.name(name),
            "network": _res(_net_key(name)),
            "cidr": cidr,
            "ip_version": ip_version(cidr),
            "enable_dhcp": dhcp,
            "gateway_ip": gateway if gateway is not None else "",
        }
        if routes:
            subnet["host_routes"] = routes
        self.resources[_subnet_key(name)] = {"type": "OS::Neutron::Subnet", "properties": subnet}

    def networks(self) -> None:
        topo = self.topology
        for network in topo.networks:
            self.network(network.name, network.cidr, gateway_of(topo, network.name))
        self.network(topo.wan.name, topo.wan.cidr, wan_address(topo), routes=wan_routes(topo))
        self.network(MANAGEMENT_NETWORK, self.options.management_cidr, None)
        if self.options.own_uplink:
            # The uplink is routed: its subnet keeps Neutron's default gateway, the router's interface.
            self.resources[_net_key(UPLINK_NETWORK)] = {
                "type": "OS::Neutron::Net",
                "properties": {"name": self.name(UPLINK_NETWORK)},
            }
            self.resources[_subnet_key(UPLINK_NETWORK)] = {
                "type": "OS::Neutron::Subnet",
                "properties": {
                    "name": self.name(UPLINK_NETWORK),
                    "network": _res(_net_key(UPLINK_NETWORK)),
                    "cidr": self.options.uplink_cidr,
                    "ip_version": ip_version(self.options.uplink_cidr),
                    "enable_dhcp": False,
                },
            }
            if self.options.external_network:
                self.resources["uplink_router"] = {
                    "type": "OS::Neutron::Router",
                    "properties": {
                        "name": self.name(UPLINK_NETWORK),
                        "external_gateway_info": {"network": self.options.external_network},
                    },
                }
                self.resources["uplink_router_interface"] = {
                    "type": "OS::Neutron::RouterInterface",
                    "properties": {
                        "router": _res("uplink_router"),
                        "subnet": _res(_subnet_key(UPLINK_NETWORK)),
                    },
                }

    # -- ports ------------------------------------------------------------------------------

    def port(
        self,
        node: str,
        network: str,
        *,
        ip: str | None = None,
        forwards: int | None = None,
        groups: tuple[str, ...] = ("sg_internal",),
        existing_network: str | None = None,
    ) -> None:
        """A port of ``node`` on ``network``: a fixed address when ``ip`` is given,
        and address pairs for any address of IP version ``forwards`` when it routes."""
        key = _port_key(node, network)
        props: dict[str, Any] = {
            "name": self.name(node, network),
            "network": existing_network if existing_network else _res(_net_key(network)),
        }
        if existing_network is None:
            fixed: dict[str, Any] = {"subnet": _res(_subnet_key(network))}
            if ip is not None:
                fixed["ip_address"] = ip
            props["fixed_ips"] = [fixed]
        props["security_groups"] = [_res(g) for g in groups]
        if forwards is not None:
            props["allowed_address_pairs"] = [{"ip_address": ANY[forwards]}]
        self.resources[key] = {"type": "OS::Neutron::Port", "properties": props}
        self.node_ports.setdefault(node, []).append((network, key))

    def ports(self) -> None:
        topo, options = self.topology, self.options
        wan_version = ip_version(topo.wan.cidr)
        # man: management network first, then the WAN (it routes for the router hosts), then the uplink.
        self.port(MANAGEMENT_NODE, MANAGEMENT_NETWORK)
        self.port(MANAGEMENT_NODE, topo.wan.name, ip=wan_address(topo), forwards=wan_version)
        self.port(
            MANAGEMENT_NODE,
            UPLINK_NETWORK,
            groups=("sg_uplink",),
            existing_network=None if options.own_uplink else options.uplink_network,
        )
        if self.user_access:
            self.port(USER_ACCESS_NODE, MANAGEMENT_NETWORK)
            for network in topo.networks:
                if network.accessible_by_user:
                    self.port(USER_ACCESS_NODE, network.name, ip=user_access_address(topo, network))
        on_wan = router_wan_addresses(topo)
        for node in topo.nodes:
            self.port(node.name, MANAGEMENT_NETWORK)
            if node.kind == "router":
                self.port(node.name, topo.wan.name, ip=on_wan[node.name], forwards=wan_version)
            for attachment in topo.attachments_of(node.name):
                self.attachment_port(node, attachment)

    def attachment_port(self, node: Node, attachment: Attachment) -> None:
        network = self.topology.network(attachment.network)
        forwards = ip_version(network.cidr) if node.kind == "router" and network is not None else None
        self.port(node.name, attachment.network, ip=attachment.ip, forwards=forwards)

    # -- volumes, servers, floating IP ------------------------------------------------------

    def server(self, node: str, role: str, image: str, flavor: str, node_def: Node | None = None) -> None:
        props: dict[str, Any] = {"name": self.name(node), "flavor": flavor}
        volumes = node_def.volumes if node_def is not None else ()
        if volumes:
            mappings = []
            for index, volume in enumerate(volumes):
                key = f"volume_{node}_{index}"
                spec: dict[str, Any] = {"name": self.name(node, f"disk{index}"), "size": volume.size}
                source = image if index == 0 else volume.image
                if source:
                    spec["image"] = source
                self.resources[key] = {"type": "OS::Cinder::Volume", "properties": spec}
                mappings.append(
                    {"volume_id": _res(key), "boot_index": 0 if index == 0 else -1, "delete_on_termination": False}
                )
            props["block_device_mapping_v2"] = mappings
        else:
            props["image"] = image
        if self.options.key_name:
            props["key_name"] = self.options.key_name
        props["config_drive"] = True
        props["user_data_format"] = "RAW"  # no heat-cfntools payload: sandboxes are provisioned by Ansible
        props["networks"] = [{"port": _res(key)} for _network, key in self.node_ports.get(node, [])]
        props["metadata"] = {
            "opensandbox_sandbox": self.topology.name,
            "opensandbox_node": node,
            "opensandbox_role": role,
        }
        self.resources[f"server_{node}"] = {"type": "OS::Nova::Server", "properties": props}

    def servers(self) -> None:
        box = self.box
        self.server(MANAGEMENT_NODE, NODE_ROLES[MANAGEMENT_NODE], box.image, box.flavor)
        if self.user_access:
            self.server(USER_ACCESS_NODE, NODE_ROLES[USER_ACCESS_NODE], box.image, box.flavor)
        for node in self.topology.nodes:
            self.server(node.name, NODE_ROLES[node.kind], node.base_box.image, node.flavor, node)
        if self.options.floating_ip:
            fip: dict[str, Any] = {
                "type": "OS::Neutron::FloatingIP",
                "properties": {
                    "floating_network": self.options.external_network,
                    "port_id": _res(_port_key(MANAGEMENT_NODE, UPLINK_NETWORK)),
                },
            }
            if "uplink_router_interface" in self.resources:
                fip["depends_on"] = ["uplink_router_interface"]
            self.resources["man_floating_ip"] = fip

    # -- outputs ----------------------------------------------------------------------------

    def outputs(self) -> dict[str, Any]:
        nodes: dict[str, Any] = {}
        order = [(MANAGEMENT_NODE, NODE_ROLES[MANAGEMENT_NODE])]
        if self.user_access:
            order.append((USER_ACCESS_NODE, NODE_ROLES[USER_ACCESS_NODE]))
        order += [(n.name, NODE_ROLES[n.kind]) for n in self.topology.nodes]
        for node, role in order:
            entry: dict[str, Any] = {
                "role": role,
                "server_name": self.name(node),
                "server_id": _res(f"server_{node}"),
                "addresses": {network: _ip_of(key) for network, key in self.node_ports.get(node, [])},
            }
            if node == MANAGEMENT_NODE and self.options.floating_ip:
                entry["floating_ip"] = {"get_attr": ["man_floating_ip", "floating_ip_address"]}
            nodes[node] = entry
        return {
            "nodes": {
                "description": "Every node of the sandbox: its role, server name and ID, and address on each network.",
                "value": nodes,
            }
        }

    def build(self) -> dict[str, Any]:
        self.security_groups()
        self.networks()
        self.ports()
        self.servers()
        return {
            "heat_template_version": HOT_VERSION,
            "description": f"Sandbox {self.topology.name}, rendered by opensandbox.cloud.heat_sandbox",
            "resources": self.resources,
            "outputs": self.outputs(),
        }


def render_template(topology: Topology, options: SandboxOptions) -> dict[str, Any]:
    """The sandbox's HOT template, as plain data. The topology must have passed validation."""
    return _Builder(topology, options).build()


def dump_template(template: Mapping[str, Any]) -> str:
    """The template as YAML text, keys in the order they were built (the same data gives the same text)."""
    return yaml_dump(dict(template), default_flow_style=False, sort_keys=False, width=120)
