"""Routers: the external gateway, interfaces on subnets, static routes, HA and DVR flags.

A router's gateway is a ``network:router_gateway`` port on an external
network and each interface a ``network:router_interface`` port (by default on
the subnet's gateway address), as in Neutron. A static route's nexthop must be
on a subnet the router has a port on, its gateway's included. ``ha`` and
``distributed`` are an admin's to set and to see; changing either needs the
router down first. The simulator keeps no HA network or agents behind them.
"""

from __future__ import annotations

import copy
import ipaddress
from typing import TYPE_CHECKING, Any

from stacksim import faults
from stacksim.auth import Context
from stacksim.services.network import ipam
from stacksim.services.network.common import (
    ROUTER_GATEWAY,
    ROUTER_INTERFACE,
    Part,
    admin_only,
    basics,
    check_tags,
    denied,
    owner_of,
    stamp,
    touch,
)
from stacksim.services.network.networks import check_zones
from stacksim.services.network.subnets import NETWORK_HOST
from stacksim.store import atomic

if TYPE_CHECKING:
    pass

MAX_ROUTES = 30
FIELDS = ("name", "description", "admin_state_up", "external_gateway_info", "routes", "ha", "distributed")
#: Attributes only an admin sets or sees (Neutron's ``*_router:ha`` and ``:distributed`` policies).
ADMIN_ATTRS = ("ha", "distributed")


def interface_info(router: dict[str, Any], port: dict[str, Any], subnet_ids: list[str]) -> dict[str, Any]:
    return {
        "id": router["id"],
        "tenant_id": router["project_id"],
        "project_id": router["project_id"],
        "port_id": port["id"],
        "network_id": port["network_id"],
        "subnet_id": subnet_ids[0] if subnet_ids else None,
        "subnet_ids": subnet_ids,
    }


def _gateway_in_use(router: dict[str, Any], network_id: str) -> faults.Conflict:
    return faults.Conflict(
        f"Gateway cannot be updated for router {router['id']}, since a gateway to external network "
        f"{network_id} is required by one or more floating IPs.",
        kind="RouterExternalGatewayInUseByFloatingIp",
    )


class Routers(Part):
    def interfaces(self, router_id: str) -> list[dict[str, Any]]:
        return self.store.find("port", device_id=router_id, device_owner=ROUTER_INTERFACE)

    def gateway_port(self, router: dict[str, Any]) -> dict[str, Any] | None:
        return self.store.get("port", router["gw_port_id"]) if router.get("gw_port_id") else None

    @atomic
    def create(self, ctx: Context, attrs: dict[str, Any]) -> dict[str, Any]:
        parts = self.net.parts
        owner = owner_of(ctx, attrs)
        admin_only(ctx, "create_router", attrs, {"ha": False, "distributed": False})
        router = stamp(
            {
                **basics(attrs, owner),
                "admin_state_up": attrs.get("admin_state_up", True),
                "status": "ACTIVE",
                "external_gateway_info": None,
                "gw_port_id": None,
                "routes": [],
                "availability_zone_hints": check_zones(attrs.get("availability_zone_hints") or []),
                "ha": bool(attrs.get("ha", False)),
                "distributed": bool(attrs.get("distributed", False)),
            }
        )
        self.net.ensure_project(owner)
        parts.quotas.check(owner, "router")
        if attrs.get("external_gateway_info"):
            self._set_gateway(ctx, router, attrs["external_gateway_info"], "create_router")
        return self.store.put("router", router)

    def _set_gateway(self, ctx: Context, router: dict[str, Any], info: dict[str, Any] | None, action: str) -> None:
        """Point the router's gateway at ``info['network_id']`` (None or {} clears it)."""
        old = self.gateway_port(router)
        if not info:
            if old is not None:
                if self.store.first("floatingip", router_id=router["id"]):
                    raise _gateway_in_use(router, old["network_id"])
                self.store.delete("port", old["id"])
            router.update(external_gateway_info=None, gw_port_id=None)
            return
        if not info.get("network_id"):
            raise ipam.invalid("external_gateway_info", "network_id is required")
        admin_only(ctx, f"{action}:external_gateway_info", info, {"enable_snat": True})
        if info.get("external_fixed_ips") and not ctx.is_admin:
            raise denied(f"{action}:external_gateway_info:external_fixed_ips")
        network = self.net.parts.access.load(ctx, "network", info["network_id"])
        if not self.net.parts.access.external_for(ctx, network):
            raise ipam.bad_request("router", f"Network {network['id']} is not an external network")
        requests = info.get("external_fixed_ips") or None
        if old is not None and old["network_id"] != network["id"]:
            if self.store.first("floatingip", router_id=router["id"]):
                raise _gateway_in_use(router, old["network_id"])
            self.store.delete("port", old["id"])
            old = None
        if old is None:
            try:
                port = self.net.parts.ports.new_port(
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
            old["fixed_ips"] = self.net.parts.addresses.allocate(
                network, requests, old["mac_address"], exclude_port=old["id"]
            )
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
    def update(self, ctx: Context, id: str, changes: dict[str, Any], if_match: str | None = None) -> dict[str, Any]:
        router, changes = self.editable(ctx, "router", id, changes, FIELDS, if_match)
        self._check_modes(ctx, router, changes)
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

    @staticmethod
    def _check_modes(ctx: Context, router: dict[str, Any], changes: dict[str, Any]) -> None:
        """``ha`` and ``distributed``: an admin's, and changed only while the router is down."""
        for attr in ADMIN_ATTRS:
            if attr not in changes:
                continue
            if not ctx.is_admin:
                raise denied(f"update_router:{attr}")
            changes[attr] = bool(changes[attr])
            admin_up = changes.get("admin_state_up", router["admin_state_up"])
            if changes[attr] != router[attr] and admin_up:
                what = "HA attribute of active routers" if attr == "ha" else "distributed attribute of active routers"
                raise ipam.bad_request(
                    "router", f"Cannot change {what}. Please set router admin_state_up to False prior to upgrade"
                )

    def _check_routes(self, router: dict[str, Any], routes: list[dict[str, Any]]) -> list[dict[str, str]]:
        if len(routes) > MAX_ROUTES:
            raise faults.BadRequest(
                f"Unable to complete operation for {router['id']}. The number of routes exceeds the maximum "
                f"{MAX_ROUTES}.",
                kind="RoutesExhausted",
            )
        ports = [*self.interfaces(router["id"]), *filter(None, [self.gateway_port(router)])]
        own = {ip["ip_address"] for port in ports for ip in port["fixed_ips"]}
        cidrs = [ipaddress.ip_network(s["cidr"]) for s in self._subnets_of(ports)]
        checked: list[dict[str, str]] = []
        for route in routes:
            destination = ipam.parse_cidr(route.get("destination"), "routes")
            nexthop = ipam.parse_ip(route.get("nexthop"), "routes")
            if not any(nexthop in cidr for cidr in cidrs):
                raise faults.BadRequest(
                    f"Invalid format for routes: {[route]}, the nexthop is not connected with router",
                    kind="InvalidRoutes",
                )
            if str(nexthop) in own:
                raise faults.BadRequest(
                    f"Invalid format for routes: {[route]}, the nexthop is used by router", kind="InvalidRoutes"
                )
            entry = {"destination": str(destination), "nexthop": str(nexthop)}
            if entry not in checked:
                checked.append(entry)
        return checked

    @atomic
    def add_routes(self, ctx: Context, id: str, routes: list[dict[str, Any]]) -> dict[str, Any]:
        router = self.net.parts.access.load(ctx, "router", id)
        merged = list(router["routes"])
        for route in self._check_routes(router, routes):
            if route not in merged:
                merged.append(route)
        return self.update(ctx, id, {"routes": merged})

    @atomic
    def remove_routes(self, ctx: Context, id: str, routes: list[dict[str, Any]]) -> dict[str, Any]:
        router = self.net.parts.access.load(ctx, "router", id)
        gone = [{"destination": r.get("destination"), "nexthop": r.get("nexthop")} for r in routes]
        return self.update(ctx, id, {"routes": [r for r in router["routes"] if r not in gone]})

    @atomic
    def delete(self, ctx: Context, id: str) -> None:
        router = self.net.parts.access.writable(ctx, "router", id, "delete_router")
        if self.interfaces(id):
            raise faults.Conflict(f"Router {id} still has ports", kind="RouterInUse")
        self._set_gateway(ctx, router, None, "delete_router")
        self.store.delete("router", id)

    def _subnets_of(self, ports: list[dict[str, Any]]) -> list[dict[str, Any]]:
        found = []
        for port in ports:
            for ip in port["fixed_ips"]:
                subnet = self.store.get("subnet", ip["subnet_id"])
                if subnet:
                    found.append(subnet)
        return found

    def _interface_subnets(self, router_id: str) -> list[dict[str, Any]]:
        return self._subnets_of(self.interfaces(router_id))

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
    def add_interface(self, ctx: Context, id: str, subnet_id: str | None, port_id: str | None) -> dict[str, Any]:
        parts = self.net.parts
        router = parts.access.writable(ctx, "router", id, "add_router_interface")
        if not subnet_id and not port_id:
            raise ipam.bad_request("router", "Either subnet_id or port_id must be specified")
        if subnet_id and port_id:
            raise ipam.bad_request("router", "Cannot specify both subnet-id and port-id")
        if port_id:
            port = parts.access.writable(ctx, "port", port_id, "update_port")
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
            port["binding:host_id"] = port["binding:host_id"] or NETWORK_HOST
            self.store.put("port", touch(port))
        else:
            subnet = parts.access.load(ctx, "subnet", subnet_id or "")
            if not subnet["gateway_ip"]:
                raise ipam.bad_request("router", "Subnet for router interface must have a gateway IP")
            self._check_overlap(router, [subnet])
            network = self.store.get("network", subnet["network_id"])
            assert network is not None
            port = parts.ports.new_port(
                network,
                subnet["project_id"],
                fixed_ips=[{"subnet_id": subnet["id"], "ip_address": subnet["gateway_ip"]}],
                device_owner=ROUTER_INTERFACE,
                device_id=router["id"],
                bound=True,
            )
        self.store.put("router", touch(router))
        self.net.events.router_interfaces_changed(router["id"])
        return interface_info(router, port, [ip["subnet_id"] for ip in port["fixed_ips"]])

    @atomic
    def remove_interface(self, ctx: Context, id: str, subnet_id: str | None, port_id: str | None) -> dict[str, Any]:
        router = self.net.parts.access.writable(ctx, "router", id, "remove_router_interface")
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
        remaining = [ip for ip in port["fixed_ips"] if ip["subnet_id"] not in removed]
        if remaining:
            port["fixed_ips"] = remaining
            self.store.put("port", touch(port))
        else:
            self.store.delete("port", port["id"])
        self.store.put("router", touch(router))
        self.net.events.router_interfaces_changed(router["id"])
        return interface_info(router, port, removed)

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
