"""Neutron's model: networks, subnets and ports, with their rules and IPAM.

Security groups (:mod:`.secgroups`), routers and floating IPs (:mod:`.l3`) and
quotas (:mod:`.quotas`) hang off :class:`Networking`. The REST layer, Heat and
Nova all go through it, so a port Nova makes for a server is the one
``openstack port list`` shows. Every public method takes the caller first: a
:class:`~stacksim.auth.Context`, or a project id (or None) for the cloud acting
on its own with admin rights (see :func:`.common.as_context`), and enforces
Neutron's default policy: a member sees and changes its own project's
resources (others' are 404), shared and external networks are visible to all.

Records are stored through :class:`~stacksim.store.Store` in Neutron's own
attribute names; the REST views add the computed ones.

Not implemented: subnet pools, segments, RBAC policies, QoS, trunks, DNS
integration, extra DHCP options, address scopes, availability zones, port
forwarding, network IP availability.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Set as AbstractSet
from typing import Any

from stacksim import faults
from stacksim.auth import Context
from stacksim.drivers.base import NetworkHooks
from stacksim.services.network import ipam
from stacksim.services.network.common import (
    AUTO_DELETE_OWNERS,
    DHCP,
    ROUTER_INTERFACE,
    SERVICE_OWNERS,
    admin_only,
    as_context,
    check_revision,
    check_tags,
    denied,
    not_found,
    owner_of,
    stamp,
    touch,
)
from stacksim.services.network.l3 import L3
from stacksim.services.network.quotas import Quotas
from stacksim.services.network.secgroups import SecurityGroups
from stacksim.store import Store, atomic

Who = Context | str | None
Where = dict[str, list[Any]]

#: The host service ports (DHCP, routers) are bound to.
NETWORK_HOST = "stacksim"
DHCP_DEVICE_PREFIX = "dhcp" + str(uuid.uuid5(uuid.NAMESPACE_DNS, NETWORK_HOST))
#: The largest MTU of each network type (a 1500-byte underlay).
MAX_MTU = {"flat": 1500, "vlan": 1500, "local": 1500, "vxlan": 1450, "gre": 1458, "geneve": 1442}
AUTO_ADDRESS_MODES = ("slaac", "dhcpv6-stateless")
IPV6_MODES = ("slaac", "dhcpv6-stateful", "dhcpv6-stateless")
VNIC_TYPES = (
    "normal",
    "direct",
    "macvtap",
    "baremetal",
    "direct-physical",
    "virtio-forwarder",
    "smart-nic",
    "vdpa",
    "remote-managed",
)
MAX_DNS_NAMESERVERS = 5
MAX_HOST_ROUTES = 20
MAX_ADDRESS_PAIRS = 10
#: The kinds of record that carry tags (standard-attr-tag).
TAGGABLE = ("network", "subnet", "port", "router", "floatingip", "security_group")

NETWORK_FIELDS = ("name", "description", "admin_state_up", "shared", "router:external", "mtu", "port_security_enabled")
SUBNET_FIELDS = (
    "name",
    "description",
    "gateway_ip",
    "allocation_pools",
    "dns_nameservers",
    "host_routes",
    "enable_dhcp",
    "service_types",
)
PORT_FIELDS = (
    "name",
    "description",
    "admin_state_up",
    "mac_address",
    "fixed_ips",
    "device_id",
    "device_owner",
    "security_groups",
    "allowed_address_pairs",
    "port_security_enabled",
    "binding:host_id",
    "binding:profile",
    "binding:vnic_type",
)


def read_only(attr: str) -> faults.BadRequest:
    return faults.BadRequest(f"Cannot update read-only attribute {attr}", kind="HTTPBadRequest")


def _net(subnet: dict[str, Any]) -> ipam.Net:
    return ipaddress.ip_network(subnet["cidr"])


def _auto_address(subnet: dict[str, Any]) -> bool:
    return subnet["ip_version"] == 6 and subnet.get("ipv6_address_mode") in AUTO_ADDRESS_MODES


def _ip_scope(subnet_id: str) -> str:
    return f"ip:{subnet_id}"


def _ip_key(address: str | int) -> str:
    """An address as text that sorts in numeric order (v4 and v6 alike)."""
    value = address if isinstance(address, int) else int(ipaddress.ip_address(address))
    return f"{value:032x}"


def _held_addresses(port: dict[str, Any]) -> list[tuple[str, str]]:
    """The ``(scope, value)`` pairs a port holds alone: each fixed IP in its subnet."""
    return [(_ip_scope(ip["subnet_id"]), _ip_key(ip["ip_address"])) for ip in port.get("fixed_ips") or ()]


class Networking:
    """Neutron's state and rules, over a :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        # A port's fixed IPs are unique in their subnet: the store indexes them, so
        # "is it taken" and "the lowest free one" never scan the network's ports.
        store.unique("port", _held_addresses, on_release=self._released)
        store.on_rollback(self._forget_free)
        #: scope -> pool start -> an address below which the pool is all taken
        self._all_taken_below: dict[str, dict[int, int]] = {}
        self.quotas = Quotas(store)
        self.security = SecurityGroups(self)
        self.l3 = L3(self)
        #: told of changes a compute driver must make real (the compute service sets its driver here)
        self.hooks: NetworkHooks = NetworkHooks()

    # -- who sees what ------------------------------------------------------------

    def can_see(self, ctx: Context, kind: str, record: dict[str, Any]) -> bool:
        if ctx.is_admin or record.get("project_id") == ctx.project_id:
            return True
        if kind == "network":
            return bool(record["shared"] or record["router:external"])
        if kind == "subnet":
            network = self.store.get("network", record["network_id"])
            return bool(network and network["shared"])
        if kind == "port":
            network = self.store.get("network", record["network_id"])
            return bool(network and network["project_id"] == ctx.project_id)
        if kind == "security_group_rule":
            group = self.store.get("security_group", record["security_group_id"])
            return bool(group and group["project_id"] == ctx.project_id)
        return False

    def load(self, who: Who, kind: str, id: str) -> dict[str, Any]:
        """A record the caller may see, else the resource's 404."""
        ctx = as_context(who)
        record = self.store.get(kind, id)
        if record is None or not self.can_see(ctx, kind, record):
            raise not_found(kind, id)
        return record

    def writable(self, ctx: Context, kind: str, id: str, action: str) -> dict[str, Any]:
        """A record the caller may change: 404 if it cannot see it, 403 if it may only look."""
        record = self.load(ctx, kind, id)
        if ctx.is_admin or record.get("project_id") == ctx.project_id:
            return record
        if kind == "port":
            network = self.store.get("network", record["network_id"])
            if network and network["project_id"] == ctx.project_id:
                return record
        raise denied(action)

    def visible(self, who: Who, kind: str, where: Where | None = None) -> list[dict[str, Any]]:
        """The records of ``kind`` the caller may see; ``where`` (field -> the values it may
        take) narrows them in the store first, from its indexes."""
        ctx = as_context(who)
        records = self.store.query(kind, any_of=where)
        if ctx.is_admin:
            return records
        if kind in ("subnet", "port"):
            networks = {n["id"]: n for n in self.store.find("network")}

            def allowed(r: dict[str, Any]) -> bool:
                if r["project_id"] == ctx.project_id:
                    return True
                net = networks.get(r["network_id"])
                if net is None:
                    return False
                return bool(net["shared"]) if kind == "subnet" else net["project_id"] == ctx.project_id

            return [r for r in records if allowed(r)]
        return [r for r in records if self.can_see(ctx, kind, r)]

    def ensure_project(self, project_id: str | None) -> None:
        """What Neutron does on a project's first call: give it its ``default`` security group."""
        if project_id:
            self.security.ensure_default(project_id)

    # -- networks ----------------------------------------------------------------

    def networks(self, who: Who, where: Where | None = None) -> list[dict[str, Any]]:
        return self.visible(who, "network", where)

    def network(self, who: Who, id: str) -> dict[str, Any]:
        return self.load(who, "network", id)

    def subnet_ids(self, network_id: str) -> list[str]:
        return [s["id"] for s in self.store.find("subnet", network_id=network_id)]

    @atomic
    def create_network(self, who: Who, **attrs: Any) -> dict[str, Any]:
        ctx = as_context(who)
        owner = owner_of(ctx, attrs)
        admin_only(
            ctx,
            "create_network",
            attrs,
            {
                "shared": False,
                "router:external": False,
                "provider:network_type": None,
                "provider:physical_network": None,
                "provider:segmentation_id": None,
            },
        )
        external = bool(attrs.get("router:external", False))
        ntype, physnet, segment = self._provider(
            attrs.get("provider:network_type") or ("flat" if external else "geneve"),
            attrs.get("provider:physical_network")
            or ("public" if external and not attrs.get("provider:network_type") else None),
            attrs.get("provider:segmentation_id"),
        )
        mtu = self._mtu(ntype, attrs.get("mtu"))
        record = stamp(
            {
                "name": attrs.get("name") or "",
                "description": attrs.get("description") or "",
                "project_id": owner,
                "admin_state_up": attrs.get("admin_state_up", True),
                "status": "ACTIVE",
                "shared": bool(attrs.get("shared", False)),
                "router:external": external,
                "mtu": mtu,
                "port_security_enabled": attrs.get("port_security_enabled", True),
                "provider:network_type": ntype,
                "provider:physical_network": physnet,
                "provider:segmentation_id": segment,
                "availability_zone_hints": list(attrs.get("availability_zone_hints") or []),
                "tags": check_tags(attrs.get("tags") or []),
            }
        )
        with self.store.transaction():
            # Chosen in the transaction that writes it: two creates never take the same one.
            record["provider:segmentation_id"] = self._segment(ntype, physnet, segment)
            self.ensure_project(owner)
            self.quotas.check(owner, "network")
            return self.store.put("network", record)

    def _provider(self, ntype: str, physnet: str | None, segment: Any) -> tuple[str, str | None, int | None]:
        """The provider attributes checked; the segment is chosen later, by :meth:`_segment`."""
        if ntype not in MAX_MTU:
            raise ipam.invalid_input(f"network_type value '{ntype}' not supported")
        if ntype in ("flat", "vlan") and not physnet:
            raise ipam.invalid_input(f"physical_network required for {ntype} provider network")
        if ntype not in ("flat", "vlan") and physnet:
            raise ipam.invalid_input(f"physical_network not allowed for {ntype} provider network")
        if ntype in ("flat", "local"):
            if segment is not None:
                raise ipam.invalid_input(f"segmentation_id not allowed for {ntype} provider network")
            return ntype, physnet, None
        if ntype == "vlan" and (segment is None or not 1 <= int(segment) <= 4094):
            raise ipam.invalid_input("segmentation_id out of range (1 through 4094)")
        return ntype, physnet, None if segment is None else int(segment)

    def _segment(self, ntype: str, physnet: str | None, segment: int | None) -> int | None:
        """The segmentation id: the one asked for if free, else one past the highest (indexed)."""
        if ntype in ("flat", "local"):
            return None
        kind = {"provider:network_type": ntype}
        if segment is None:
            top = self.store.query("network", kind, order=[("provider:segmentation_id", True)], limit=1)
            return int((top[0]["provider:segmentation_id"] if top else 0) or 0) + 1
        same = {**kind, "provider:segmentation_id": segment, "provider:physical_network": physnet}
        if self.store.first("network", **same):
            raise faults.Conflict(
                f"Unable to create the network. The segmentation ID {segment} is in use.",
                kind="SegmentationIdInUse",
            )
        return segment

    @staticmethod
    def _mtu(ntype: str, mtu: Any) -> int:
        largest = MAX_MTU[ntype]
        if mtu is None:
            return largest
        if int(mtu) < 68:
            raise ipam.invalid("mtu", f"'{mtu}' is too small - must be at least '68'")
        if int(mtu) > largest:
            raise ipam.invalid_input(f"Requested MTU is too big, maximum is {largest}")
        return int(mtu)

    @atomic
    def update_network(self, who: Who, id: str, changes: dict[str, Any], if_match: str | None = None) -> dict[str, Any]:
        ctx = as_context(who)
        record = self.writable(ctx, "network", id, "update_network")
        check_revision(record, if_match)
        changes = dict(changes)
        for key in changes:
            if key not in NETWORK_FIELDS and key != "tags":
                raise read_only(key)
        for key in ("shared", "router:external"):
            if key in changes and not ctx.is_admin:
                raise denied(f"update_network:{key}")
        if "mtu" in changes:
            changes["mtu"] = self._mtu(record["provider:network_type"], changes["mtu"])
        if "tags" in changes:
            changes["tags"] = check_tags(changes["tags"])
        ports = self.store.find("port", network_id=id)
        others = any(p["project_id"] not in (record["project_id"], "") for p in ports)
        if record["shared"] and changes.get("shared") is False and others:
            raise faults.Conflict(
                f"Unable to reconfigure sharing settings for network {id}. Multiple tenants are using it.",
                kind="InvalidSharedSetting",
            )
        gateways = any(p["device_owner"] in SERVICE_OWNERS for p in ports)
        if record["router:external"] and changes.get("router:external") is False and gateways:
            raise faults.Conflict(
                f"External network {id} cannot be updated to be made non-external, "
                "since it has existing gateway ports.",
                kind="ExternalNetworkInUse",
            )
        return self._apply(record, "network", changes)

    def _apply(self, record: dict[str, Any], kind: str, changes: dict[str, Any]) -> dict[str, Any]:
        if all(record.get(k) == v for k, v in changes.items()):
            return record
        record.update(changes)
        return self.store.put(kind, touch(record))

    @atomic
    def delete_network(self, who: Who, id: str) -> None:
        ctx = as_context(who)
        self.writable(ctx, "network", id, "delete_network")
        ports = self.store.find("port", network_id=id)
        if any(p["device_owner"] not in AUTO_DELETE_OWNERS for p in ports):
            raise faults.Conflict(
                f"Unable to complete operation on network {id}. "
                "There are one or more ports still in use on the network.",
                kind="NetworkInUse",
            )
        with self.store.transaction():
            for port in ports:
                self.store.delete("port", port["id"])
            self.store.delete_where("subnet", network_id=id)
            self.store.delete("network", id)
        self.hooks.network_deleted(id)

    # -- subnets -------------------------------------------------------------------

    def subnets(self, who: Who, where: Where | None = None) -> list[dict[str, Any]]:
        return self.visible(who, "subnet", where)

    def subnet(self, who: Who, id: str) -> dict[str, Any]:
        return self.load(who, "subnet", id)

    @atomic
    def create_subnet(self, who: Who, **attrs: Any) -> dict[str, Any]:
        ctx = as_context(who)
        network = self.load(ctx, "network", attrs.get("network_id") or "")
        owner = owner_of(ctx, attrs)
        if not ctx.is_admin and network["project_id"] != owner:
            raise faults.Forbidden(f"Tenant {owner} not allowed to create subnet on this network", kind="HTTPForbidden")
        if attrs.get("subnetpool_id") or attrs.get("use_default_subnetpool"):
            raise ipam.bad_request("subnets", "subnet pools are not supported by this cloud")
        version = attrs.get("ip_version")
        if version not in (4, 6):
            raise ipam.invalid("ip_version", f"{version} is not in [4, 6]")
        if not attrs.get("cidr"):
            raise ipam.bad_request("subnets", "a subnetpool must be specified in the absence of a cidr")
        net = ipam.parse_cidr(attrs["cidr"])
        if net.version != version:
            raise ipam.invalid_input(f"cidr '{attrs['cidr']}' does not match the ip_version '{version}'")
        if net.prefixlen == 0:
            raise ipam.invalid_input("0 is not allowed as CIDR prefix length")
        ra_mode, address_mode = self._ipv6_modes(net, attrs.get("ipv6_ra_mode"), attrs.get("ipv6_address_mode"))
        for other in self.store.find("subnet", network_id=network["id"]):
            if ipam.overlaps(other["cidr"], str(net)):
                raise ipam.invalid_input(
                    f"Requested subnet with cidr: {net} for network: {network['id']} overlaps with another subnet"
                )
        gateway = ipam.check_gateway(net, attrs["gateway_ip"]) if "gateway_ip" in attrs else ipam.default_gateway(net)
        pools = attrs.get("allocation_pools")
        pools = ipam.check_pools(net, pools, gateway) if pools else ipam.default_pools(net, gateway)
        record = stamp(
            {
                "name": attrs.get("name") or "",
                "description": attrs.get("description") or "",
                "project_id": owner,
                "network_id": network["id"],
                "ip_version": version,
                "cidr": str(net),
                "gateway_ip": gateway,
                "allocation_pools": pools,
                "dns_nameservers": self._nameservers(attrs.get("dns_nameservers") or [], "new"),
                "host_routes": self._host_routes(attrs.get("host_routes") or [], version, "new"),
                "enable_dhcp": attrs.get("enable_dhcp", True),
                "ipv6_ra_mode": ra_mode,
                "ipv6_address_mode": address_mode,
                "subnetpool_id": None,
                "segment_id": None,
                "service_types": list(attrs.get("service_types") or []),
                "tags": check_tags(attrs.get("tags") or []),
            }
        )
        with self.store.transaction():
            self.ensure_project(owner)
            self.quotas.check(owner, "subnet")
            self.store.put("subnet", record)
            self.store.put("network", touch(network))
            self._sync_dhcp(network)
            if _auto_address(record):
                for port in self.store.find("port", network_id=network["id"]):
                    if port["device_owner"] not in SERVICE_OWNERS and port["device_owner"] != DHCP:
                        port["fixed_ips"].append(
                            {"subnet_id": record["id"], "ip_address": ipam.eui64(net, port["mac_address"])}
                        )
                        self.store.put("port", touch(port))
        return record

    @staticmethod
    def _ipv6_modes(net: ipam.Net, ra_mode: str | None, address_mode: str | None) -> tuple[str | None, str | None]:
        for name, value in (("ipv6_ra_mode", ra_mode), ("ipv6_address_mode", address_mode)):
            if value is not None and value not in IPV6_MODES:
                raise ipam.invalid(name, f"{value} is not in {list(IPV6_MODES)}")
        if net.version == 4 and (ra_mode or address_mode):
            raise ipam.invalid_input("ipv6_ra_mode or ipv6_address_mode cannot be set when ip_version is 4")
        if ra_mode and address_mode and ra_mode != address_mode:
            raise ipam.invalid_input(
                f"ipv6_ra_mode set to '{ra_mode}' with ipv6_address_mode set to '{address_mode}' is not valid. "
                "If both attributes are set, they must be the same value"
            )
        if address_mode in AUTO_ADDRESS_MODES and net.prefixlen != 64:
            raise ipam.invalid_input(
                f"Invalid CIDR {net} for IPv6 address mode. OpenStack uses the EUI-64 address format, "
                "which requires the prefix to be /64"
            )
        return ra_mode, address_mode

    @staticmethod
    def _nameservers(servers: list[Any], subnet_id: str) -> list[str]:
        if len(servers) > MAX_DNS_NAMESERVERS:
            raise faults.BadRequest(
                f"Unable to complete operation for {subnet_id}. The number of DNS nameservers exceeds the limit "
                f"{MAX_DNS_NAMESERVERS}.",
                kind="DNSNameServersExhausted",
            )
        seen: list[str] = []
        for host in servers:
            reason = ipam.address_reason(host)
            if reason:
                raise ipam.invalid("dns_nameservers", f"'{host}' is not a valid nameserver. {reason}")
            if host in seen:
                raise ipam.invalid("dns_nameservers", f"Duplicate nameserver '{host}'")
            seen.append(host)
        return seen

    @staticmethod
    def _host_routes(routes: list[dict[str, Any]], version: int, subnet_id: str) -> list[dict[str, str]]:
        if len(routes) > MAX_HOST_ROUTES:
            raise faults.BadRequest(
                f"Unable to complete operation for {subnet_id}. The number of host routes exceeds the limit "
                f"{MAX_HOST_ROUTES}.",
                kind="HostRoutesExhausted",
            )
        checked: list[dict[str, str]] = []
        for route in routes:
            destination = ipam.parse_cidr(route.get("destination"), "host_routes")
            nexthop = ipam.parse_ip(route.get("nexthop"), "host_routes")
            if destination.version != version or nexthop.version != version:
                raise ipam.invalid_input(f"Invalid route: {route}, the IP version does not match the subnet's")
            entry = {"destination": str(destination), "nexthop": str(nexthop)}
            if entry in checked:
                raise ipam.invalid("host_routes", f"Duplicate hostroute '{route}'")
            checked.append(entry)
        return checked

    @atomic
    def update_subnet(self, who: Who, id: str, changes: dict[str, Any], if_match: str | None = None) -> dict[str, Any]:
        ctx = as_context(who)
        record = self.writable(ctx, "subnet", id, "update_subnet")
        check_revision(record, if_match)
        changes = dict(changes)
        for key in changes:
            if key not in SUBNET_FIELDS and key != "tags":
                raise read_only(key)
        net = _net(record)
        if "gateway_ip" in changes and changes["gateway_ip"] != record["gateway_ip"]:
            for port in self.store.find("port", network_id=record["network_id"], device_owner=ROUTER_INTERFACE):
                if {"subnet_id": id, "ip_address": record["gateway_ip"]} in port["fixed_ips"]:
                    raise faults.Conflict(
                        f"Current gateway ip {record['gateway_ip']} already in use by port {port['id']}. "
                        "Unable to update.",
                        kind="GatewayIpInUse",
                    )
            changes["gateway_ip"] = ipam.check_gateway(net, changes["gateway_ip"])
        gateway = changes.get("gateway_ip", record["gateway_ip"])
        if "allocation_pools" in changes:
            pools = changes["allocation_pools"]
            changes["allocation_pools"] = (
                ipam.check_pools(net, pools, gateway) if pools else ipam.default_pools(net, gateway)
            )
        elif "gateway_ip" in changes:
            ipam.check_pools(net, record["allocation_pools"], gateway)
        if "dns_nameservers" in changes:
            changes["dns_nameservers"] = self._nameservers(changes["dns_nameservers"] or [], id)
        if "host_routes" in changes:
            changes["host_routes"] = self._host_routes(changes["host_routes"] or [], record["ip_version"], id)
        if "tags" in changes:
            changes["tags"] = check_tags(changes["tags"])
        with self.store.transaction():
            record = self._apply(record, "subnet", changes)
            if "enable_dhcp" in changes:
                self._sync_dhcp(self.store.get("network", record["network_id"]))
        return record

    @atomic
    def delete_subnet(self, who: Who, id: str) -> None:
        ctx = as_context(who)
        record = self.writable(ctx, "subnet", id, "delete_subnet")
        holders = [
            p
            for p in self.store.find("port", network_id=record["network_id"])
            if any(ip["subnet_id"] == id for ip in p["fixed_ips"])
        ]
        for port in holders:
            auto = _auto_address(record) and port["device_owner"] not in SERVICE_OWNERS
            if port["device_owner"] not in AUTO_DELETE_OWNERS and not auto:
                raise faults.Conflict(
                    f"Unable to complete operation on subnet {id}: "
                    "One or more ports have an IP allocation from this subnet.",
                    kind="SubnetInUse",
                )
        with self.store.transaction():
            for port in holders:
                port["fixed_ips"] = [ip for ip in port["fixed_ips"] if ip["subnet_id"] != id]
                if port["device_owner"] == DHCP and not port["fixed_ips"]:
                    self.store.delete("port", port["id"])
                else:
                    self.store.put("port", touch(port))
            self.store.delete("subnet", id)
            network = self.store.get("network", record["network_id"])
            if network:
                self.store.put("network", touch(network))

    def _sync_dhcp(self, network: dict[str, Any] | None) -> None:
        """One DHCP port per network, with an address on each DHCP-enabled subnet."""
        if network is None:
            return
        wanted = [s for s in self.store.find("subnet", network_id=network["id"]) if s["enable_dhcp"]]
        port = self.store.first("port", network_id=network["id"], device_owner=DHCP)
        if not wanted:
            if port:
                self.store.delete("port", port["id"])
            return
        if port is None:
            port = self.new_port(
                network,
                network["project_id"],
                fixed_ips=[],
                device_owner=DHCP,
                device_id=f"{DHCP_DEVICE_PREFIX}-{network['id']}",
                bound=True,
            )
        ids = {s["id"] for s in wanted}
        keep = [ip for ip in port["fixed_ips"] if ip["subnet_id"] in ids]
        held = {ip["subnet_id"] for ip in keep}
        for subnet in wanted:
            if subnet["id"] not in held:
                try:
                    keep += self.allocate(network, [{"subnet_id": subnet["id"]}], port["mac_address"])
                except faults.Conflict:
                    continue  # a full subnet serves no DHCP address, as in Neutron
        if keep != port["fixed_ips"]:
            port["fixed_ips"] = keep
            self.store.put("port", touch(port))

    # -- addresses -------------------------------------------------------------------

    @atomic
    def allocate(
        self,
        network: dict[str, Any],
        requests: list[dict[str, Any]] | None,
        mac: str,
        exclude_port: str | None = None,
    ) -> list[dict[str, str]]:
        """Fixed IPs for a port on ``network``: requested ones checked, the rest from the pools.

        ``requests`` None means Neutron's default: one IPv4 address (from the
        first subnet with room) plus SLAAC addresses and one stateful IPv6 one.
        """
        subnets = self.store.find("subnet", network_id=network["id"])
        by_id = {s["id"]: s for s in subnets}
        # What this call takes, and what the port being changed holds (free for it to keep).
        used: dict[str, set[str]] = {s["id"]: set() for s in subnets}
        own: dict[str, set[str]] = {}
        if exclude_port is not None:
            for ip in (self.store.get("port", exclude_port) or {}).get("fixed_ips", ()):
                own.setdefault(ip["subnet_id"], set()).add(_ip_key(ip["ip_address"]))
        result: list[dict[str, str]] = []

        def take(subnet: dict[str, Any], address: str) -> None:
            used[subnet["id"]].add(_ip_key(address))
            result.append({"subnet_id": subnet["id"], "ip_address": address})

        def free_in(subnet: dict[str, Any]) -> str | None:
            return self.free_address(subnet, used[subnet["id"]], own.get(subnet["id"], set()))

        if requests is None:
            v4 = [s for s in subnets if s["ip_version"] == 4]
            for subnet in v4:
                free = free_in(subnet)
                if free:
                    take(subnet, free)
                    break
            else:
                if v4:
                    raise faults.Conflict(
                        f"No more IP addresses available on network {network['id']}.",
                        kind="IpAddressGenerationFailure",
                    )
            stateful_done = False
            for subnet in (s for s in subnets if s["ip_version"] == 6):
                if _auto_address(subnet):
                    take(subnet, ipam.eui64(_net(subnet), mac))
                elif not stateful_done:
                    free = free_in(subnet)
                    if free:
                        take(subnet, free)
                        stateful_done = True
            return result

        for req in requests:
            subnet_id, address = req.get("subnet_id"), req.get("ip_address")
            if subnet_id is None and address is None:
                raise ipam.invalid_input("IP allocation requires subnet_id or ip_address")
            subnet = None
            if subnet_id is not None:
                subnet = by_id.get(subnet_id)
                if subnet is None:
                    if self.store.get("subnet", subnet_id) is None:
                        raise not_found("subnet", subnet_id)
                    raise ipam.invalid_input(
                        f"Failed to create port on network {network['id']}, "
                        f"because fixed_ips included invalid subnet {subnet_id}"
                    )
            if address is not None:
                addr = ipam.parse_ip(address, "fixed_ips")
                if subnet is None:
                    subnet = next((s for s in subnets if ipam.usable(_net(s), addr)), None)
                    if subnet is None:
                        raise faults.BadRequest(
                            f"IP address {address} is not a valid IP for any of the subnets on the specified network.",
                            kind="InvalidIpForNetwork",
                        )
                elif not ipam.usable(_net(subnet), addr):
                    raise faults.BadRequest(
                        f"IP address {address} is not a valid IP for the specified subnet.", kind="InvalidIpForSubnet"
                    )
                key = _ip_key(int(addr))
                holder = self.store.holder(_ip_scope(subnet["id"]), key)
                if key in used[subnet["id"]] or (holder is not None and holder != ("port", exclude_port)):
                    raise faults.Conflict(
                        f"IP address {addr} already allocated in subnet {subnet['id']}",
                        kind="IpAddressAlreadyAllocated",
                    )
                take(subnet, str(addr))
                continue
            assert subnet is not None
            if _auto_address(subnet):
                take(subnet, ipam.eui64(_net(subnet), mac))
                continue
            free = free_in(subnet)
            if free is None:
                raise faults.Conflict(
                    f"No more IP addresses available for subnet {subnet['id']}.", kind="IpAddressGenerationFailure"
                )
            take(subnet, free)
        return result

    def free_address(
        self, subnet: dict[str, Any], taken: AbstractSet[str] = frozenset(), mine: AbstractSet[str] = frozenset()
    ) -> str | None:
        """The lowest address of the subnet's pools that no port holds (None when full).

        ``taken``: keys (:func:`_ip_key`) this call already took; ``mine``: keys
        the port being changed holds, free for it. Held addresses come from the
        store's index, and each pool remembers below which address it is full,
        so the cost does not grow with the number of ports.
        """
        scope = _ip_scope(subnet["id"])
        full_below = self._all_taken_below.setdefault(scope, {})
        make = ipaddress.IPv4Address if subnet["ip_version"] == 4 else ipaddress.IPv6Address
        for low, high in sorted(ipam.pool_bounds(p) for p in subnet["allocation_pools"]):
            candidate = max(low, full_below.get(low, low))
            while candidate <= high:
                held = self.store.values_in(scope, _ip_key(candidate), _ip_key(high), limit=64)
                gap = False
                for key in held:  # ascending, none below the candidate
                    if int(key, 16) > candidate or key in mine:
                        gap = True
                        break
                    candidate += 1
                if not gap and len(held) == 64:
                    continue  # more held addresses follow: read on
                if candidate > high:
                    break
                if _ip_key(candidate) in taken:
                    candidate += 1
                    continue
                if not taken and not mine:
                    full_below[low] = candidate
                return str(make(candidate))
            if not taken and not mine:
                full_below[low] = high + 1
        return None

    def _released(self, scope: str, key: str) -> None:
        """A port let an address go: the pools below it are no longer full."""
        value = int(key, 16)
        for low, below in list(self._all_taken_below.get(scope, {}).items()):
            if low <= value < below:
                self._all_taken_below[scope][low] = value

    def _forget_free(self) -> None:
        self._all_taken_below.clear()  # a rolled-back transaction may have freed anything

    def _mac(self, network_id: str, wanted: str | None = None) -> str:
        if wanted is not None:
            mac = ipam.check_mac(wanted)
            if self.store.first("port", network_id=network_id, mac_address=mac):
                raise faults.Conflict(
                    f"Unable to complete operation for network {network_id}. The mac address {mac} is in use.",
                    kind="MacAddressInUse",
                )
            return mac
        while True:
            mac = ipam.random_mac()
            if self.store.first("port", mac_address=mac) is None:
                return mac

    # -- ports ---------------------------------------------------------------------------

    def ports(self, who: Who, where: Where | None = None) -> list[dict[str, Any]]:
        return self.visible(who, "port", where)

    def port(self, who: Who, id: str) -> dict[str, Any]:
        return self.load(who, "port", id)

    @atomic
    def new_port(
        self,
        network: dict[str, Any],
        project_id: str,
        *,
        fixed_ips: list[dict[str, Any]] | None = None,
        device_owner: str = "",
        device_id: str = "",
        name: str = "",
        bound: bool = False,
        status: str | None = None,
        mac_address: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Record a port as Neutron's services do (no policy, no quota): DHCP, routers, floating IPs."""
        mac = self._mac(network["id"], mac_address)
        record = stamp(
            {
                "name": name,
                "project_id": project_id,
                "network_id": network["id"],
                "mac_address": mac,
                "admin_state_up": True,
                "status": status or ("ACTIVE" if bound else "DOWN"),
                "device_id": device_id,
                "device_owner": device_owner,
                "fixed_ips": self.allocate(network, fixed_ips, mac),
                "allowed_address_pairs": [],
                "security_groups": [],
                "port_security_enabled": False
                if device_owner.startswith("network:")
                else network["port_security_enabled"],
                "binding:host_id": NETWORK_HOST if bound else "",
                "binding:profile": {},
                "binding:vnic_type": "normal",
                "ip_allocation": "immediate",
            }
        )
        record.update(extra)
        return self.store.put("port", record)

    @atomic
    def create_port(self, who: Who, **attrs: Any) -> dict[str, Any]:
        ctx = as_context(who)
        network = self.load(ctx, "network", attrs.get("network_id") or "")
        owner = owner_of(ctx, attrs)
        net_owner = ctx.is_admin or network["project_id"] == owner
        if not net_owner and not network["shared"]:
            raise faults.Forbidden(f"Tenant {owner} not allowed to create port on this network", kind="HTTPForbidden")
        admin_only(ctx, "create_port", attrs, {"binding:host_id": "", "binding:profile": {}})
        if not net_owner:
            if attrs.get("mac_address") is not None:
                raise denied("create_port:mac_address")
            if any("ip_address" in ip for ip in attrs.get("fixed_ips") or []):
                raise denied("create_port:fixed_ips:ip_address")
            if str(attrs.get("device_owner") or "").startswith("network:"):
                raise denied("create_port:device_owner")
        device_owner = attrs.get("device_owner") or ""
        security = attrs.get("port_security_enabled")
        if security is None:
            security = network["port_security_enabled"]
        with self.store.transaction():
            self.ensure_project(owner)
            self.quotas.check(owner, "port")
            mac = self._mac(network["id"], attrs.get("mac_address"))
            groups = attrs.get("security_groups")
            if groups is None:
                groups = (
                    [] if not security or device_owner.startswith("network:") else [self.security.default_id(owner)]
                )
            else:
                groups = self.security.check_for_port(ctx, owner, groups)
            fixed = self.allocate(network, attrs.get("fixed_ips"), mac)
            pairs = self._address_pairs(attrs.get("allowed_address_pairs") or [], mac)
            self._check_port_security(security, groups, pairs)
            host = attrs.get("binding:host_id") or ""
            admin_up = attrs.get("admin_state_up", True)
            record = stamp(
                {
                    "name": attrs.get("name") or "",
                    "description": attrs.get("description") or "",
                    "project_id": owner,
                    "network_id": network["id"],
                    "mac_address": mac,
                    "admin_state_up": admin_up,
                    "status": "ACTIVE" if host and admin_up else "DOWN",
                    "device_id": attrs.get("device_id") or "",
                    "device_owner": device_owner,
                    "fixed_ips": fixed,
                    "allowed_address_pairs": pairs,
                    "security_groups": groups,
                    "port_security_enabled": security,
                    "binding:host_id": host,
                    "binding:profile": attrs.get("binding:profile") or {},
                    "binding:vnic_type": self._vnic(attrs.get("binding:vnic_type")),
                    "ip_allocation": "immediate",
                    "tags": check_tags(attrs.get("tags") or []),
                }
            )
            return self.store.put("port", record)

    @staticmethod
    def _vnic(value: str | None) -> str:
        if value is None:
            return "normal"
        if value not in VNIC_TYPES:
            raise ipam.invalid("binding:vnic_type", f"{value} is not in {list(VNIC_TYPES)}")
        return value

    @staticmethod
    def _address_pairs(pairs: list[dict[str, Any]], mac: str) -> list[dict[str, str]]:
        if len(pairs) > MAX_ADDRESS_PAIRS:
            raise faults.BadRequest(
                f"Exceeded maximum amount of allowed address pairs {MAX_ADDRESS_PAIRS}",
                kind="AllowedAddressPairExhausted",
            )
        checked: list[dict[str, str]] = []
        for pair in pairs:
            if not pair.get("ip_address"):
                raise faults.BadRequest(
                    "AllowedAddressPair must contain ip_address", kind="AllowedAddressPairsMissingIP"
                )
            entry = {
                "ip_address": ipam.parse_ip_or_cidr(pair["ip_address"], "allowed_address_pairs"),
                "mac_address": ipam.check_mac(pair["mac_address"]) if pair.get("mac_address") else mac,
            }
            if entry in checked:
                raise faults.BadRequest(
                    f"Request contains duplicate address pair: mac_address {entry['mac_address']} "
                    f"ip_address {entry['ip_address']}.",
                    kind="DuplicateAddressPairInRequest",
                )
            checked.append(entry)
        return checked

    @staticmethod
    def _check_port_security(security: bool, groups: list[str], pairs: list[Any]) -> None:
        if not security and groups:
            raise faults.BadRequest(
                "Port security must be enabled and port must have an IP address in order to use security groups.",
                kind="PortSecurityAndIPRequiredForSecurityGroups",
            )
        if not security and pairs:
            raise faults.Conflict(
                "Port Security must be enabled in order to have allowed address pairs on a port.",
                kind="AddressPairAndPortSecurityRequired",
            )

    @atomic
    def update_port(self, who: Who, id: str, changes: dict[str, Any], if_match: str | None = None) -> dict[str, Any]:
        ctx = as_context(who)
        record = self.writable(ctx, "port", id, "update_port")
        check_revision(record, if_match)
        changes = dict(changes)
        for key in changes:
            if key not in PORT_FIELDS and key != "tags":
                raise read_only(key)
        admin_only(
            ctx,
            "update_port",
            changes,
            {"binding:host_id": record["binding:host_id"], "binding:profile": record["binding:profile"]},
        )
        network = self.store.get("network", record["network_id"])
        assert network is not None
        net_owner = ctx.is_admin or network["project_id"] == ctx.project_id
        if "mac_address" in changes and changes["mac_address"] != record["mac_address"]:
            if not net_owner:
                raise denied("update_port:mac_address")
            if record["binding:host_id"]:
                raise faults.Conflict(
                    f"Unable to complete operation on port {id}, port is already bound, port type: ovs, "
                    f"old_mac {record['mac_address']}, new_mac {changes['mac_address']}.",
                    kind="PortBound",
                )
            changes["mac_address"] = self._mac(network["id"], changes["mac_address"])
        mac = changes.get("mac_address", record["mac_address"])
        if "fixed_ips" in changes:
            if not net_owner and any("ip_address" in ip for ip in changes["fixed_ips"] or []):
                raise denied("update_port:fixed_ips:ip_address")
            requests = []
            spare = list(record["fixed_ips"])
            for req in changes["fixed_ips"] or []:
                if "ip_address" not in req:
                    held = next((ip for ip in spare if ip["subnet_id"] == req.get("subnet_id")), None)
                    if held:
                        spare.remove(held)
                        req = held
                requests.append(req)
            changes["fixed_ips"] = self.allocate(network, requests, mac, exclude_port=id)
        if "binding:vnic_type" in changes:
            changes["binding:vnic_type"] = self._vnic(changes["binding:vnic_type"])
        if "binding:host_id" in changes:
            changes["binding:host_id"] = changes["binding:host_id"] or ""
        if "binding:profile" in changes:
            changes["binding:profile"] = changes["binding:profile"] or {}
        if "device_id" in changes:
            changes["device_id"] = changes["device_id"] or ""
        if "device_owner" in changes:
            changes["device_owner"] = changes["device_owner"] or ""
        if "tags" in changes:
            changes["tags"] = check_tags(changes["tags"])
        security = changes.get("port_security_enabled", record["port_security_enabled"])
        if "security_groups" in changes:
            changes["security_groups"] = self.security.check_for_port(
                ctx, record["project_id"], changes["security_groups"] or []
            )
        groups = changes.get("security_groups", record["security_groups"])
        if "allowed_address_pairs" in changes:
            changes["allowed_address_pairs"] = self._address_pairs(changes["allowed_address_pairs"] or [], mac)
        pairs = changes.get("allowed_address_pairs", record["allowed_address_pairs"])
        if not security and groups and "port_security_enabled" in changes and "security_groups" not in changes:
            raise faults.Conflict(
                "Port has security group associated. Cannot disable port security or ip address until "
                "security group is removed",
                kind="PortSecurityPortHasSecurityGroup",
            )
        self._check_port_security(security, groups, pairs)
        merged = {**record, **changes}
        changes["status"] = self._status(merged)
        with self.store.transaction():
            updated = self._apply(record, "port", changes)
            if "fixed_ips" in changes:
                self.l3.port_addresses_changed(updated)
        if {"security_groups", "port_security_enabled", "fixed_ips"} & set(changes):
            self.hooks.port_updated(updated)
        return updated

    @staticmethod
    def _status(port: dict[str, Any]) -> str:
        if port["device_owner"] == "network:floatingip":
            return "N/A"
        return "ACTIVE" if port["binding:host_id"] and port["admin_state_up"] else "DOWN"

    @atomic
    def delete_port(self, who: Who, id: str) -> None:
        ctx = as_context(who)
        record = self.writable(ctx, "port", id, "delete_port")
        if record["device_owner"] in SERVICE_OWNERS:
            raise faults.Conflict(
                f"Port {id} cannot be deleted directly via the port API: has device owner {record['device_owner']}.",
                kind="ServicePortInUse",
            )
        with self.store.transaction():
            self.l3.port_deleted(record)
            self.store.delete("port", id)

    def bind_port(
        self,
        who: Who,
        id: str,
        host: str,
        *,
        device_id: str | None = None,
        device_owner: str | None = None,
        profile: dict[str, Any] | None = None,
        vnic_type: str | None = None,
    ) -> dict[str, Any]:
        """Bind a port to a compute host (what Nova does when a server boots): status ACTIVE."""
        changes: dict[str, Any] = {"binding:host_id": host}
        if device_id is not None:
            changes["device_id"] = device_id
        if device_owner is not None:
            changes["device_owner"] = device_owner
        if profile is not None:
            changes["binding:profile"] = profile
        if vnic_type is not None:
            changes["binding:vnic_type"] = vnic_type
        self.load(who, "port", id)
        return self.update_port(as_context(None), id, changes)

    def unbind_port(self, who: Who, id: str, clear_device: bool = True) -> dict[str, Any]:
        """Undo :meth:`bind_port` (a server deleted or an interface detached): status DOWN."""
        changes: dict[str, Any] = {"binding:host_id": "", "binding:profile": {}}
        if clear_device:
            changes.update(device_id="", device_owner="")
        self.load(who, "port", id)
        return self.update_port(as_context(None), id, changes)

    # -- tags ------------------------------------------------------------------------------

    def tags(self, who: Who, kind: str, id: str) -> list[str]:
        if kind not in TAGGABLE:
            raise ValueError(f"{kind} records carry no tags")
        return list(self.load(who, kind, id)["tags"])

    @atomic
    def set_tags(self, who: Who, kind: str, id: str, tags: list[str]) -> list[str]:
        if kind not in TAGGABLE:
            raise ValueError(f"{kind} records carry no tags")
        ctx = as_context(who)
        record = self.writable(ctx, kind, id, f"update_{kind}_tags")
        record = self._apply(record, kind, {"tags": check_tags(tags)})
        return record["tags"]

    @atomic
    def add_tag(self, who: Who, kind: str, id: str, tag: str) -> list[str]:
        current = self.load(who, kind, id)["tags"]
        return self.set_tags(who, kind, id, [*current, tag])

    @atomic
    def remove_tag(self, who: Who, kind: str, id: str, tag: str) -> list[str]:
        current = self.load(who, kind, id)["tags"]
        if tag not in current:
            raise faults.NotFound(f"Tag {tag} could not be found for {kind} {id}.", kind="TagNotFound")
        return self.set_tags(who, kind, id, [t for t in current if t != tag])
