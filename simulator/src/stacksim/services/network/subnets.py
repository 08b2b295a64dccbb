"""Subnets: CIDRs (given, or allocated from a subnet pool), gateways, allocation pools, DHCP.

Every DHCP-enabled subnet of a network gets an address on the network's one
DHCP port (``network:dhcp``), made and kept in step here; a SLAAC subnet gives
every port of its network an EUI-64 address at once. A subnet from a pool
takes the next free block of the asked (or the pool's default) prefix length,
or the CIDR asked for if the pool holds it (see :mod:`.subnetpools`).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from stacksim import faults
from stacksim.auth import Context
from stacksim.services.network import ipam
from stacksim.services.network.addresses import auto_address, cidr_of
from stacksim.services.network.common import (
    AUTO_DELETE_OWNERS,
    DHCP,
    ROUTER_INTERFACE,
    SERVICE_OWNERS,
    Part,
    apply,
    basics,
    check_tags,
    owner_of,
    stamp,
    touch,
)
from stacksim.store import atomic

if TYPE_CHECKING:
    pass

#: The host service ports (DHCP, routers) are bound to.
NETWORK_HOST = "stacksim"
DHCP_DEVICE_PREFIX = "dhcp" + str(uuid.uuid5(uuid.NAMESPACE_DNS, NETWORK_HOST))
AUTO_ADDRESS_MODES = ("slaac", "dhcpv6-stateless")
IPV6_MODES = ("slaac", "dhcpv6-stateful", "dhcpv6-stateless")
MAX_DNS_NAMESERVERS = 5
MAX_HOST_ROUTES = 20
FIELDS = (
    "name",
    "description",
    "gateway_ip",
    "allocation_pools",
    "dns_nameservers",
    "host_routes",
    "enable_dhcp",
    "service_types",
)


class Subnets(Part):
    @atomic
    def create(self, ctx: Context, attrs: dict[str, Any]) -> dict[str, Any]:
        parts = self.net.parts
        network = parts.access.load(ctx, "network", attrs.get("network_id") or "")
        owner = owner_of(ctx, attrs)
        if not ctx.is_admin and network["project_id"] != owner:
            raise faults.Forbidden(f"Tenant {owner} not allowed to create subnet on this network", kind="HTTPForbidden")
        version = attrs.get("ip_version")
        if version not in (4, 6):
            raise ipam.invalid("ip_version", f"{version} is not in [4, 6]")
        if attrs.get("cidr") and attrs.get("prefixlen") is not None:
            raise ipam.bad_request("subnets", "cidr and prefixlen must not be supplied together")
        pool = parts.pools.for_subnet(ctx, attrs, version)
        if pool is None and not attrs.get("cidr"):
            raise ipam.bad_request("subnets", "a subnetpool must be specified in the absence of a cidr")
        if attrs.get("cidr"):
            net = ipam.parse_cidr(attrs["cidr"])
            if net.version != version:
                raise ipam.invalid_input(f"cidr '{attrs['cidr']}' does not match the ip_version '{version}'")
            if net.prefixlen == 0:
                raise ipam.invalid_input("0 is not allowed as CIDR prefix length")
        ra_mode, address_mode = self._ipv6_modes(version, attrs.get("ipv6_ra_mode"), attrs.get("ipv6_address_mode"))
        if pool is not None:
            # The pool's next free block (or the CIDR asked for, if the pool holds it), in this transaction.
            net = parts.pools.allocate(pool, owner, net if attrs.get("cidr") else None, attrs.get("prefixlen"))
        if address_mode in AUTO_ADDRESS_MODES and net.prefixlen != 64:
            raise ipam.invalid_input(
                f"Invalid CIDR {net} for IPv6 address mode. OpenStack uses the EUI-64 address format, "
                "which requires the prefix to be /64"
            )
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
                **basics(attrs, owner),
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
                "subnetpool_id": pool["id"] if pool else None,
                "segment_id": None,
                "service_types": list(attrs.get("service_types") or []),
            }
        )
        self.net.ensure_project(owner)
        parts.quotas.check(owner, "subnet")
        self.store.put("subnet", record)
        self.store.put("network", touch(network))
        self._sync_dhcp(network)
        if auto_address(record):
            for port in self.store.find("port", network_id=network["id"]):
                if port["device_owner"] not in SERVICE_OWNERS and port["device_owner"] != DHCP:
                    port["fixed_ips"].append(
                        {"subnet_id": record["id"], "ip_address": ipam.eui64(net, port["mac_address"])}
                    )
                    self.store.put("port", touch(port))
        return record

    @staticmethod
    def _ipv6_modes(version: int, ra_mode: str | None, address_mode: str | None) -> tuple[str | None, str | None]:
        for name, value in (("ipv6_ra_mode", ra_mode), ("ipv6_address_mode", address_mode)):
            if value is not None and value not in IPV6_MODES:
                raise ipam.invalid(name, f"{value} is not in {list(IPV6_MODES)}")
        if version == 4 and (ra_mode or address_mode):
            raise ipam.invalid_input("ipv6_ra_mode or ipv6_address_mode cannot be set when ip_version is 4")
        if ra_mode and address_mode and ra_mode != address_mode:
            raise ipam.invalid_input(
                f"ipv6_ra_mode set to '{ra_mode}' with ipv6_address_mode set to '{address_mode}' is not valid. "
                "If both attributes are set, they must be the same value"
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
    def update(self, ctx: Context, id: str, changes: dict[str, Any], if_match: str | None = None) -> dict[str, Any]:
        record, changes = self.editable(ctx, "subnet", id, changes, FIELDS, if_match)
        net = cidr_of(record)
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
        record = apply(self.store, "subnet", record, changes)
        if "enable_dhcp" in changes:
            self._sync_dhcp(self.store.get("network", record["network_id"]))
        return record

    @atomic
    def delete(self, ctx: Context, id: str) -> None:
        record = self.net.parts.access.writable(ctx, "subnet", id, "delete_subnet")
        holders = [
            p
            for p in self.store.find("port", network_id=record["network_id"])
            if any(ip["subnet_id"] == id for ip in p["fixed_ips"])
        ]
        for port in holders:
            auto = auto_address(record) and port["device_owner"] not in SERVICE_OWNERS
            if port["device_owner"] not in AUTO_DELETE_OWNERS and not auto:
                raise faults.Conflict(
                    f"Unable to complete operation on subnet {id}: "
                    "One or more ports have an IP allocation from this subnet.",
                    kind="SubnetInUse",
                )
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
            port = self.net.parts.ports.new_port(
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
                    keep += self.net.parts.addresses.allocate(
                        network, [{"subnet_id": subnet["id"]}], port["mac_address"]
                    )
                except faults.Conflict:
                    continue  # a full subnet serves no DHCP address, as in Neutron
        if keep != port["fixed_ips"]:
            port["fixed_ips"] = keep
            self.store.put("port", touch(port))
