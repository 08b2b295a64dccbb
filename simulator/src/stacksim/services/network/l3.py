"""Routers (gateways, interfaces, static routes) and floating IPs.

A router's gateway is a ``network:router_gateway`` port on an external network,
each interface a ``network:router_interface`` port (by default on the subnet's
gateway address), and a floating IP a ``network:floatingip`` port on the
external network, as in Neutron. A floating IP reaches a port only through a
router that has a gateway on the floating IP's network and an interface on the
port's subnet.

Not implemented: HA and distributed routers, multiple gateways, NDP proxy,
conntrack helpers, port forwarding, floating IP pools listing.
"""

from __future__ import annotations

import copy
import ipaddress
from typing import TYPE_CHECKING, Any

from stacksim import faults
from stacksim.auth import Context
from stacksim.services.network import ipam
from stacksim.services.network.common import (
    FLOATINGIP,
    ROUTER_GATEWAY,
    ROUTER_INTERFACE,
    admin_only,
    as_context,
    check_revision,
    check_tags,
    denied,
    owner_of,
    stamp,
    touch,
)
from stacksim.store import atomic

if TYPE_CHECKING:
    from stacksim.services.network.model import Networking

Who = Context | str | None
MAX_ROUTES = 30
ROUTER_FIELDS = ("name", "description", "admin_state_up", "external_gateway_info", "routes")
FIP_FIELDS = ("port_id", "fixed_ip_address", "description")


def _interface_info(router: dict[str, Any], port: dict[str, Any], subnet_ids: list[str]) -> dict[str, Any]:
    return {
        "id": router["id"],
        "tenant_id": router["project_id"],
        "project_id": router["project_id"],
        "port_id": port["id"],
        "network_id": port["network_id"],
        "subnet_id": subnet_ids[0] if subnet_ids else None,
        "subnet_ids": subnet_ids,
    }


class L3:
    def __init__(self, net: Networking) -> None:
        self.net = net
        self.store = net.store

    # -- routers -------------------------------------------------------------------

    def routers(self, who: Who, where: dict[str, list[Any]] | None = None) -> list[dict[str, Any]]:
        return self.net.visible(who, "router", where)

    def router(self, who: Who, id: str) -> dict[str, Any]:
        return self.net.load(who, "router", id)

    def interfaces(self, router_id: str) -> list[dict[str, Any]]:
        return self.store.find("port", device_id=router_id, device_owner=ROUTER_INTERFACE)

    def gateway_port(self, router: dict[str, Any]) -> dict[str, Any] | None:
        return self.store.get("port", router["gw_port_id"]) if router.get("gw_port_id") else None

    @atomic
    def create_router(self, who: Who, **attrs: Any) -> dict[str, Any]:
        ctx = as_context(who)
        owner = owner_of(ctx, attrs)
        router = stamp(
            {
                "name": attrs.get("name") or "",
                "description": attrs.get("description") or "",
                "project_id": owner,
                "admin_state_up": attrs.get("admin_state_up", True),
                "status": "ACTIVE",
                "external_gateway_info": None,
                "gw_port_id": None,
                "routes": [],
                "availability_zone_hints": list(attrs.get("availability_zone_hints") or []),
                "tags": check_tags(attrs.get("tags") or []),
            }
        )
        with self.store.transaction():
            self.net.ensure_project(owner)
            self.net.quotas.check(owner, "router")
            if attrs.get("external_gateway_info"):
                self._set_gateway(ctx, router, attrs["external_gateway_info"], "create_router")
            return self.store.put("router", router)

    def _set_gateway(self, ctx: Context, router: dict[str, Any], info: dict[str, Any] | None, action: str) -> None:
        """Point the router's gateway at ``info['network_id']`` (None or {} clears it)."""
        old = self.gateway_port(router)
        if not info:
            if old is not None:
                if self.store.first("floatingip", router_id=router["id"]):
                    raise faults.Conflict(
                        f"Gateway cannot be updated for router {router['id']}, since a gateway to external network "
                        f"{old['network_id']} is required by one or more floating IPs.",
                        kind="RouterExternalGatewayInUseByFloatingIp",
                    )
                self.store.delete("port", old["id"])
            router.update(external_gateway_info=None, gw_port_id=None)
            return
        if not info.get("network_id"):
            raise ipam.invalid("external_gateway_info", "network_id is required")
        admin_only(ctx, f"{action}:external_gateway_info", info, {"enable_snat": True})
        if info.get("external_fixed_ips") and not ctx.is_admin:
            raise denied(f"{action}:external_gateway_info:external_fixed_ips")
        network = self.net.load(ctx, "network", info["network_id"])
        if not network["router:external"]:
            raise ipam.bad_request("router", f"Network {network['id']} is not an external network")
        requests = info.get("external_fixed_ips") or None
        if old is not None and old["network_id"] != network["id"]:
            if self.store.first("floatingip", router_id=router["id"]):
                raise faults.Conflict(
                    f"Gateway cannot be updated for router {router['id']}, since a gateway to external network "
                    f"{old['network_id']} is required by one or more floating IPs.",
                    kind="RouterExternalGatewayInUseByFloatingIp",
                )
            self.store.delete("port", old["id"])
            old = None
        if old is None:
            try:
                port = self.net.new_port(
                    network, "", fixed_ips=requests, device_owner=ROUTER_GATEWAY, device_id=router["id"], bound=True
                )
            except faults.Conflict as exc:
                if exc.kind != "IpAddressGenerationFailure":
                    raise
                raise faults.BadRequest(
                    f"Unable to find any IP address on external network {network['id']}.",
                    kind="ExternalIpAddressExhausted",
                ) from None
        elif requests is not None:
            old["fixed_ips"] = self.net.allocate(network, requests, old["mac_address"], exclude_port=old["id"])
            port = self.store.put("port", touch(old))
        else:
            port = old
        router["gw_port_id"] = port["id"]
        router["external_gateway_info"] = {
            "network_id": network["id"],
            "enable_snat": True if info.get("enable_snat") is None else bool(info["enable_snat"]),
            "external_fixed_ips": [dict(ip) for ip in port["fixed_ips"]],
        }

    @atomic
    def update_router(self, who: Who, id: str, changes: dict[str, Any], if_match: str | None = None) -> dict[str, Any]:
        ctx = as_context(who)
        router = self.net.writable(ctx, "router", id, "update_router")
        check_revision(router, if_match)
        changes = dict(changes)
        for key in changes:
            if key not in ROUTER_FIELDS and key != "tags":
                raise faults.BadRequest(f"Cannot update read-only attribute {key}", kind="HTTPBadRequest")
        with self.store.transaction():
            before = copy.deepcopy(router)
            if "external_gateway_info" in changes:
                self._set_gateway(ctx, router, changes.pop("external_gateway_info"), "update_router")
            if "routes" in changes:
                changes["routes"] = self._check_routes(router, changes["routes"] or [])
            if "tags" in changes:
                changes["tags"] = check_tags(changes["tags"])
            router.update(changes)
            if router != before:
                self.store.put("router", touch(router))
            return router

    def _check_routes(self, router: dict[str, Any], routes: list[dict[str, Any]]) -> list[dict[str, str]]:
        if len(routes) > MAX_ROUTES:
            raise faults.BadRequest(
                f"Unable to complete operation for {router['id']}. The number of routes exceeds the maximum "
                f"{MAX_ROUTES}.",
                kind="RoutesExhausted",
            )
        cidrs = [ipaddress.ip_network(s["cidr"]) for s in self._interface_subnets(router["id"])]
        checked: list[dict[str, str]] = []
        for route in routes:
            destination = ipam.parse_cidr(route.get("destination"), "routes")
            nexthop = ipam.parse_ip(route.get("nexthop"), "routes")
            if not any(nexthop in cidr for cidr in cidrs):
                raise faults.BadRequest(
                    f"Invalid format for routes: {[route]}, the nexthop is not connected with router",
                    kind="InvalidRoutes",
                )
            entry = {"destination": str(destination), "nexthop": str(nexthop)}
            if entry not in checked:
                checked.append(entry)
        return checked

    @atomic
    def add_routes(self, who: Who, id: str, routes: list[dict[str, Any]]) -> dict[str, Any]:
        router = self.net.load(who, "router", id)
        merged = list(router["routes"])
        for route in self._check_routes(router, routes):
            if route not in merged:
                merged.append(route)
        return self.update_router(who, id, {"routes": merged})

    @atomic
    def remove_routes(self, who: Who, id: str, routes: list[dict[str, Any]]) -> dict[str, Any]:
        router = self.net.load(who, "router", id)
        gone = [{"destination": r.get("destination"), "nexthop": r.get("nexthop")} for r in routes]
        return self.update_router(who, id, {"routes": [r for r in router["routes"] if r not in gone]})

    @atomic
    def delete_router(self, who: Who, id: str) -> None:
        ctx = as_context(who)
        router = self.net.writable(ctx, "router", id, "delete_router")
        if self.interfaces(id):
            raise faults.Conflict(f"Router {id} still has ports", kind="RouterInUse")
        with self.store.transaction():
            self._set_gateway(ctx, router, None, "delete_router")
            self.store.delete("router", id)

    def _interface_subnets(self, router_id: str) -> list[dict[str, Any]]:
        found = []
        for port in self.interfaces(router_id):
            for ip in port["fixed_ips"]:
                subnet = self.store.get("subnet", ip["subnet_id"])
                if subnet:
                    found.append(subnet)
        return found

    def _check_overlap(self, router: dict[str, Any], subnets: list[dict[str, Any]]) -> None:
        for subnet in subnets:
            for other in self._interface_subnets(router["id"]):
                if other["id"] == subnet["id"]:
                    raise ipam.bad_request("router", f"Router already has a port on subnet {subnet['id']}")
                if ipam.overlaps(other["cidr"], subnet["cidr"]):
                    raise ipam.bad_request(
                        "router",
                        f"Cidr {subnet['cidr']} of subnet {subnet['id']} overlaps with cidr {other['cidr']} "
                        f"of subnet {other['id']}",
                    )

    @atomic
    def add_interface(
        self, who: Who, id: str, subnet_id: str | None = None, port_id: str | None = None
    ) -> dict[str, Any]:
        ctx = as_context(who)
        router = self.net.writable(ctx, "router", id, "add_router_interface")
        if not subnet_id and not port_id:
            raise ipam.bad_request("router", "Either subnet_id or port_id must be specified")
        if subnet_id and port_id:
            raise ipam.bad_request("router", "Cannot specify both subnet-id and port-id")
        with self.store.transaction():
            if port_id:
                port = self.net.writable(ctx, "port", port_id, "update_port")
                if port["device_id"] or port["device_owner"]:
                    raise faults.Conflict(
                        f"Unable to complete operation on port {port_id} for network {port['network_id']}. "
                        f"Port already has an attached device {port['device_id']}.",
                        kind="PortInUse",
                    )
                if not port["fixed_ips"]:
                    raise ipam.bad_request("router", "Router port must have at least one fixed IP")
                subnets = [self.store.get("subnet", ip["subnet_id"]) for ip in port["fixed_ips"]]
                self._check_overlap(router, [s for s in subnets if s])
                port.update(
                    device_id=router["id"],
                    device_owner=ROUTER_INTERFACE,
                    status="ACTIVE",
                    security_groups=[],
                    port_security_enabled=False,
                )
                port["binding:host_id"] = port["binding:host_id"] or "stacksim"
                self.store.put("port", touch(port))
            else:
                subnet = self.net.load(ctx, "subnet", subnet_id or "")
                if not subnet["gateway_ip"]:
                    raise ipam.bad_request("router", "Subnet for router interface must have a gateway IP")
                self._check_overlap(router, [subnet])
                network = self.store.get("network", subnet["network_id"])
                assert network is not None
                port = self.net.new_port(
                    network,
                    subnet["project_id"],
                    fixed_ips=[{"subnet_id": subnet["id"], "ip_address": subnet["gateway_ip"]}],
                    device_owner=ROUTER_INTERFACE,
                    device_id=router["id"],
                    bound=True,
                )
            self.store.put("router", touch(router))
        self.net.hooks.router_interfaces_changed(router["id"])
        return _interface_info(router, port, [ip["subnet_id"] for ip in port["fixed_ips"]])

    @atomic
    def remove_interface(
        self, who: Who, id: str, subnet_id: str | None = None, port_id: str | None = None
    ) -> dict[str, Any]:
        ctx = as_context(who)
        router = self.net.writable(ctx, "router", id, "remove_router_interface")
        if not subnet_id and not port_id:
            raise ipam.bad_request("router", "Either subnet_id or port_id must be specified")
        if port_id:
            port = self.store.get("port", port_id)
            if port is None or port["device_id"] != id or port["device_owner"] != ROUTER_INTERFACE:
                raise faults.NotFound(
                    f"Router {id} does not have an interface with id {port_id}", kind="RouterInterfaceNotFound"
                )
            if subnet_id and not any(ip["subnet_id"] == subnet_id for ip in port["fixed_ips"]):
                raise faults.BadRequest(
                    f"Subnet on port {port_id} does not match the requested subnet {subnet_id}.",
                    kind="SubnetMismatchForPort",
                )
            removed = [ip["subnet_id"] for ip in port["fixed_ips"]]
        else:
            port = next(
                (p for p in self.interfaces(id) if any(ip["subnet_id"] == subnet_id for ip in p["fixed_ips"])), None
            )
            if port is None:
                raise faults.NotFound(
                    f"Router {id} has no interface on subnet {subnet_id}", kind="RouterInterfaceNotFoundForSubnet"
                )
            removed = [subnet_id or ""]
        for sid in removed:
            self._check_interface_unused(router, sid)
        with self.store.transaction():
            remaining = [ip for ip in port["fixed_ips"] if ip["subnet_id"] not in removed]
            if remaining:
                port["fixed_ips"] = remaining
                self.store.put("port", touch(port))
            else:
                self.store.delete("port", port["id"])
            self.store.put("router", touch(router))
        self.net.hooks.router_interfaces_changed(router["id"])
        return _interface_info(router, port, removed)

    def _check_interface_unused(self, router: dict[str, Any], subnet_id: str) -> None:
        subnet = self.store.get("subnet", subnet_id)
        if subnet is None:
            return
        cidr = ipaddress.ip_network(subnet["cidr"])
        for fip in self.store.find("floatingip", router_id=router["id"]):
            if fip["fixed_ip_address"] and ipaddress.ip_address(fip["fixed_ip_address"]) in cidr:
                raise faults.Conflict(
                    f"Router interface for subnet {subnet_id} on router {router['id']} cannot be deleted, "
                    "as it is required by one or more floating IPs.",
                    kind="RouterInterfaceInUseByFloatingIP",
                )
        if any(ipaddress.ip_address(r["nexthop"]) in cidr for r in router["routes"]):
            raise faults.Conflict(
                f"Router interface for subnet {subnet_id} on router {router['id']} cannot be deleted, "
                "as it is required by one or more routes.",
                kind="RouterInterfaceInUseByRoute",
            )

    # -- floating IPs -------------------------------------------------------------------------

    def floating_ips(self, who: Who, where: dict[str, list[Any]] | None = None) -> list[dict[str, Any]]:
        return self.net.visible(who, "floatingip", where)

    def floating_ip(self, who: Who, id: str) -> dict[str, Any]:
        return self.net.load(who, "floatingip", id)

    @atomic
    def create_floating_ip(self, who: Who, **attrs: Any) -> dict[str, Any]:
        ctx = as_context(who)
        owner = owner_of(ctx, attrs)
        network_id = attrs.get("floating_network_id") or ""
        network = self.net.load(ctx, "network", network_id)
        if not network["router:external"]:
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
        with self.store.transaction():
            self.net.ensure_project(owner)
            self.net.quotas.check(owner, "floatingip")
            requests = [request] if request else [{"subnet_id": self._fip_subnet(network)}]
            port = self.net.new_port(
                network, "", fixed_ips=requests, device_owner=FLOATINGIP, device_id=fip["id"], status="N/A"
            )
            fip["floating_ip_address"] = port["fixed_ips"][0]["ip_address"]
            fip["fip_port_id"] = port["id"]
            if attrs.get("port_id"):
                self._associate(ctx, fip, attrs["port_id"], attrs.get("fixed_ip_address"))
            self.store.put("floatingip", fip)
        if fip["port_id"]:
            self.net.hooks.floating_ip_changed(fip)
        return fip

    def _fip_subnet(self, network: dict[str, Any]) -> str:
        """The first IPv4 subnet of an external network with a free address."""
        v4 = [s for s in self.store.find("subnet", network_id=network["id"]) if s["ip_version"] == 4]
        if not v4:
            raise ipam.bad_request("floatingip", f"Network {network['id']} does not contain any IPv4 subnet")
        for subnet in v4:
            if self.net.free_address(subnet):
                return subnet["id"]
        raise faults.Conflict(
            f"No more IP addresses available on network {network['id']}.", kind="IpAddressGenerationFailure"
        )

    def _associate(self, ctx: Context, fip: dict[str, Any], port_id: str, fixed_ip: str | None) -> None:
        port = self.net.load(ctx, "port", port_id)
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
    def update_floating_ip(
        self, who: Who, id: str, changes: dict[str, Any], if_match: str | None = None
    ) -> dict[str, Any]:
        ctx = as_context(who)
        fip = self.net.writable(ctx, "floatingip", id, "update_floatingip")
        check_revision(fip, if_match)
        changes = dict(changes)
        for key in changes:
            if key not in FIP_FIELDS and key != "tags":
                raise faults.BadRequest(f"Cannot update read-only attribute {key}", kind="HTTPBadRequest")
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
            self.net.hooks.floating_ip_changed(fip)
        return fip

    @atomic
    def delete_floating_ip(self, who: Who, id: str) -> None:
        ctx = as_context(who)
        fip = self.net.writable(ctx, "floatingip", id, "delete_floatingip")
        with self.store.transaction():
            if fip.get("fip_port_id"):
                self.store.delete("port", fip["fip_port_id"])
            self.store.delete("floatingip", id)
        if fip["port_id"]:
            self.net.hooks.floating_ip_changed(dict(fip, port_id=None, fixed_ip_address=None))

    # -- what ports do to floating IPs ----------------------------------------------------

    def port_deleted(self, port: dict[str, Any]) -> None:
        """A port went away: its floating IPs stay, unassociated (as in Neutron)."""
        for fip in self.store.find("floatingip", port_id=port["id"]):
            self._disassociate(fip)
            self.store.put("floatingip", touch(fip))
            self.net.hooks.floating_ip_changed(fip)

    def port_addresses_changed(self, port: dict[str, Any]) -> None:
        """A port lost the fixed IP a floating IP points at: the floating IP lets go of it."""
        held = {ip["ip_address"] for ip in port["fixed_ips"]}
        for fip in self.store.find("floatingip", port_id=port["id"]):
            if fip["fixed_ip_address"] not in held:
                self._disassociate(fip)
                self.store.put("floatingip", touch(fip))
                self.net.hooks.floating_ip_changed(fip)

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
