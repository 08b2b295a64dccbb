"""Floating IPs: an address from an external network, mapped to a port's fixed IP through a router.

Each floating IP holds a ``network:floatingip`` port on its external network,
as in Neutron. It reaches a port only through a router that has a gateway on
the floating IP's network and an interface on the port's subnet. When a port
goes, or loses the fixed IP a floating IP points at, the floating IP stays,
unassociated.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from stacksim import faults
from stacksim.auth import Context
from stacksim.services.network import ipam
from stacksim.services.network.common import (
    FLOATINGIP,
    ROUTER_INTERFACE,
    Part,
    admin_only,
    check_tags,
    owner_of,
    stamp,
    touch,
)
from stacksim.store import atomic

if TYPE_CHECKING:
    pass

FIELDS = ("port_id", "fixed_ip_address", "description")


class FloatingIPs(Part):
    @atomic
    def create(self, ctx: Context, attrs: dict[str, Any]) -> dict[str, Any]:
        parts = self.net.parts
        owner = owner_of(ctx, attrs)
        network_id = attrs.get("floating_network_id") or ""
        network = parts.access.load(ctx, "network", network_id)
        if not parts.access.external_for(ctx, network):
            raise ipam.bad_request("floatingip", f"Network {network_id} is not a valid external network")
        admin_only(ctx, "create_floatingip", attrs, {"floating_ip_address": None})
        request: dict[str, Any] = {}
        if attrs.get("subnet_id"):
            subnet = self.store.get("subnet", attrs["subnet_id"])
            if subnet is None or subnet["network_id"] != network_id or subnet["ip_version"] != 4:
                raise ipam.bad_request(
                    "floatingip", f"Subnet {attrs['subnet_id']} is not an IPv4 subnet of network {network_id}"
                )
            request["subnet_id"] = subnet["id"]
        if attrs.get("floating_ip_address"):
            request["ip_address"] = attrs["floating_ip_address"]
        fip = stamp(
            {
                "project_id": owner,
                "floating_network_id": network_id,
                "description": attrs.get("description") or "",
                "router_id": None,
                "port_id": None,
                "fixed_ip_address": None,
                "status": "DOWN",
                "tags": check_tags(attrs.get("tags") or []),
            }
        )
        self.net.ensure_project(owner)
        parts.quotas.check(owner, "floatingip")
        requests = [request] if request else [{"subnet_id": self._fip_subnet(network)}]
        port = parts.ports.new_port(
            network, "", fixed_ips=requests, device_owner=FLOATINGIP, device_id=fip["id"], status="N/A"
        )
        fip["floating_ip_address"] = port["fixed_ips"][0]["ip_address"]
        fip["fip_port_id"] = port["id"]
        if attrs.get("port_id"):
            self._associate(ctx, fip, attrs["port_id"], attrs.get("fixed_ip_address"))
        self.store.put("floatingip", fip)
        if fip["port_id"]:
            self.net.events.floating_ip_changed(fip)
        return fip

    def _fip_subnet(self, network: dict[str, Any]) -> str:
        """The first IPv4 subnet of an external network with a free address."""
        v4 = [s for s in self.store.find("subnet", network_id=network["id"]) if s["ip_version"] == 4]
        if not v4:
            raise ipam.bad_request("floatingip", f"Network {network['id']} does not contain any IPv4 subnet")
        for subnet in v4:
            if self.net.parts.addresses.free_address(subnet):
                return subnet["id"]
        raise faults.Conflict(
            f"No more IP addresses available on network {network['id']}.", kind="IpAddressGenerationFailure"
        )

    def _associate(self, ctx: Context, fip: dict[str, Any], port_id: str, fixed_ip: str | None) -> None:
        port = self.net.parts.access.load(ctx, "port", port_id)
        if port["project_id"] != fip["project_id"] and not ctx.is_admin:
            raise ipam.bad_request(
                "floatingip",
                f"Cannot create floating IP and bind it to Port {port_id}, since that port is owned by a "
                "different tenant",
            )
        v4 = [ip for ip in port["fixed_ips"] if ipaddress.ip_address(ip["ip_address"]).version == 4]
        if fixed_ip:
            chosen = next((ip for ip in v4 if ip["ip_address"] == fixed_ip), None)
            if chosen is None:
                raise ipam.bad_request("floatingip", f"Port {port_id} does not have fixed ip {fixed_ip}")
        elif not v4:
            raise ipam.bad_request(
                "floatingip", f"Cannot add floating IP to port {port_id} that has no fixed IPv4 addresses"
            )
        elif len(v4) > 1:
            raise ipam.bad_request(
                "floatingip",
                f"Port {port_id} has multiple fixed IPv4 addresses. Must provide a specific IPv4 address when "
                "assigning a floating IP",
            )
        else:
            chosen = v4[0]
        for other in self.store.find("floatingip", port_id=port_id, fixed_ip_address=chosen["ip_address"]):
            if other["id"] != fip["id"] and other["floating_network_id"] == fip["floating_network_id"]:
                raise faults.Conflict(
                    f"Cannot associate floating IP {fip['floating_ip_address']} ({fip['id']}) with port {port_id} "
                    f"using fixed IP {chosen['ip_address']}, as that fixed IP already has a floating IP on external "
                    f"network {fip['floating_network_id']}.",
                    kind="FloatingIPPortAlreadyAssociated",
                )
        router_id = self._router_for(fip["floating_network_id"], chosen["subnet_id"])
        if router_id is None:
            raise faults.NotFound(
                f"External network {fip['floating_network_id']} is not reachable from subnet "
                f"{chosen['subnet_id']}.  Therefore, cannot associate Port {port_id} with a Floating IP.",
                kind="ExternalGatewayForFloatingIPNotFound",
            )
        fip.update(port_id=port_id, fixed_ip_address=chosen["ip_address"], router_id=router_id, status="ACTIVE")

    def _router_for(self, external_network_id: str, subnet_id: str) -> str | None:
        """The router that has a gateway on the external network and an interface on the subnet."""
        for port in self.store.find("port", device_owner=ROUTER_INTERFACE):
            if any(ip["subnet_id"] == subnet_id for ip in port["fixed_ips"]):
                router = self.store.get("router", port["device_id"])
                info = router and router["external_gateway_info"]
                if info and info["network_id"] == external_network_id:
                    return router["id"]
        return None

    @staticmethod
    def _disassociate(fip: dict[str, Any]) -> None:
        fip.update(port_id=None, fixed_ip_address=None, router_id=None, status="DOWN")

    @atomic
    def update(self, ctx: Context, id: str, changes: dict[str, Any], if_match: str | None = None) -> dict[str, Any]:
        fip, changes = self.editable(ctx, "floatingip", id, changes, FIELDS, if_match)
        before = dict(fip)
        if "port_id" in changes:
            if changes["port_id"]:
                self._associate(ctx, fip, changes["port_id"], changes.get("fixed_ip_address"))
            else:
                self._disassociate(fip)
        elif changes.get("fixed_ip_address"):
            if not fip["port_id"]:
                raise ipam.bad_request("floatingip", "fixed_ip_address cannot be specified without a port_id")
            self._associate(ctx, fip, fip["port_id"], changes["fixed_ip_address"])
        if "description" in changes:
            fip["description"] = changes["description"] or ""
        if "tags" in changes:
            fip["tags"] = check_tags(changes["tags"])
        if fip == before:
            return fip
        self.store.put("floatingip", touch(fip))
        if fip["port_id"] != before["port_id"] or fip["fixed_ip_address"] != before["fixed_ip_address"]:
            self.net.events.floating_ip_changed(fip)
        return fip

    @atomic
    def delete(self, ctx: Context, id: str) -> None:
        fip = self.net.parts.access.writable(ctx, "floatingip", id, "delete_floatingip")
        if fip.get("fip_port_id"):
            self.store.delete("port", fip["fip_port_id"])
        self.store.delete("floatingip", id)
        if fip["port_id"]:
            self.net.events.floating_ip_changed(dict(fip, port_id=None, fixed_ip_address=None))

    # -- what ports do to floating IPs ----------------------------------------------------

    def port_deleted(self, port: dict[str, Any]) -> None:
        """A port went away: its floating IPs stay, unassociated (as in Neutron)."""
        for fip in self.store.find("floatingip", port_id=port["id"]):
            self._disassociate(fip)
            self.store.put("floatingip", touch(fip))
            self.net.events.floating_ip_changed(fip)

    def port_addresses_changed(self, port: dict[str, Any]) -> None:
        """A port lost the fixed IP a floating IP points at: the floating IP lets go of it."""
        held = {ip["ip_address"] for ip in port["fixed_ips"]}
        for fip in self.store.find("floatingip", port_id=port["id"]):
            if fip["fixed_ip_address"] not in held:
                self._disassociate(fip)
                self.store.put("floatingip", touch(fip))
                self.net.events.floating_ip_changed(fip)

    def describe(self, port_id: str | None) -> dict[str, Any] | None:
        """The ``port_details`` a floating IP shows (fip-port-details)."""
        port = self.store.get("port", port_id) if port_id else None
        if port is None:
            return None
        return {
            "name": port["name"],
            "network_id": port["network_id"],
            "mac_address": port["mac_address"],
            "admin_state_up": port["admin_state_up"],
            "status": port["status"],
            "device_id": port["device_id"],
            "device_owner": port["device_owner"],
        }
