"""How the API shows each record: computed attributes added, internal and admin-only ones left out.

What a caller sees depends on who it is, as in Neutron: the provider
attributes of a network, a port's binding details and a router's ``ha`` and
``distributed`` are an admin's; ``shared`` and ``router:external`` say whether
the network is shared with (or external for) the caller, by RBAC too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from stacksim.auth import Context
from stacksim.services.network import qos
from stacksim.services.network.networks import ZONE
from stacksim.services.network.routers import ADMIN_ATTRS as ROUTER_ADMIN_ATTRS

if TYPE_CHECKING:
    from stacksim.services.network.model import Networking

Record = dict[str, Any]
#: internal links between records, never shown
HIDDEN = ("gw_port_id", "fip_port_id")
PROVIDER_ATTRS = ("provider:network_type", "provider:physical_network", "provider:segmentation_id")
#: port attributes only an admin sees (Neutron's ``get_port:binding:*`` policy)
ADMIN_PORT_ATTRS = ("binding:host_id", "binding:profile", "binding:vif_type", "binding:vif_details")
_BOUND_DETAILS = {"port_filter": True, "connectivity": "l2", "bridge_name": "br-int", "datapath_type": "system"}


def public(record: Record) -> dict[str, Any]:
    body = {k: v for k, v in record.items() if k not in HIDDEN}
    if "project_id" in record:
        body["tenant_id"] = record["project_id"]
    return body


def network(net: Networking, ctx: Context, record: Record) -> dict[str, Any]:
    access = net.parts.access
    body = public(record)
    scopes = net.parts.networks.address_scopes(record["id"])
    body.update(
        subnets=net.subnet_ids(record["id"]),
        availability_zones=[ZONE],
        ipv4_address_scope=scopes[4],
        ipv6_address_scope=scopes[6],
        l2_adjacency=True,
        shared=access.shared_for(ctx, "network", record),
    )
    body["router:external"] = access.external_for(ctx, record)
    if not ctx.is_admin:
        for key in PROVIDER_ATTRS:
            body.pop(key, None)
    return body


def port(net: Networking, ctx: Context, record: Record) -> dict[str, Any]:
    body = public(record)
    bound = bool(record.get("binding:host_id"))
    body["binding:vif_type"] = "ovs" if bound else "unbound"
    body["binding:vif_details"] = dict(_BOUND_DETAILS) if bound else {}
    network_record = net.store.get("network", record["network_id"])
    body["qos_network_policy_id"] = network_record.get("qos_policy_id") if network_record else None
    details = net.parts.trunks.details(record["id"])
    if details is not None:
        body["trunk_details"] = details
    if not ctx.is_admin:
        for key in ADMIN_PORT_ATTRS:
            body.pop(key, None)
    return body


def router(net: Networking, ctx: Context, record: Record) -> dict[str, Any]:
    body = public(record)
    body["availability_zones"] = [ZONE]
    if not ctx.is_admin:
        for key in ROUTER_ADMIN_ATTRS:
            body.pop(key, None)
    return body


def floating_ip(net: Networking, ctx: Context, record: Record) -> dict[str, Any]:
    body = public(record)
    body["port_details"] = net.parts.floating_ips.describe(record.get("port_id"))
    return body


def shared(kind: str) -> Callable[[Networking, Context, Record], dict[str, Any]]:
    """The view of a shareable kind: ``shared`` says whether it is shared with the caller."""

    def view(net: Networking, ctx: Context, record: Record) -> dict[str, Any]:
        body = public(record)
        body["shared"] = net.parts.access.shared_for(ctx, kind, record)
        return body

    return view


def security_group(net: Networking, ctx: Context, record: Record) -> dict[str, Any]:
    body = shared("security_group")(net, ctx, record)
    body["security_group_rules"] = [public(r) for r in net.parts.security.rules_of(record["id"])]
    return body


def qos_policy(net: Networking, ctx: Context, record: Record) -> dict[str, Any]:
    body = shared("qos_policy")(net, ctx, record)
    body["rules"] = [dict(r) for r in net.parts.qos.rules_of(record["id"])]
    return body


def qos_rule(record: Record) -> dict[str, Any]:
    """A rule as its own sub-resource shows it: its id and parameters."""
    return {"id": record["id"], **{p: record[p] for p in qos.RULE_TYPES[record["type"]]}}


def trunk(net: Networking, ctx: Context, record: Record) -> dict[str, Any]:
    body = public(record)
    body["status"] = net.parts.trunks.status(record)
    return body


def plain(net: Networking, ctx: Context, record: Record) -> dict[str, Any]:
    return public(record)


VIEWS: dict[str, Callable[[Networking, Context, Record], dict[str, Any]]] = {
    "network": network,
    "subnet": plain,
    "port": port,
    "router": router,
    "floatingip": floating_ip,
    "security_group": security_group,
    "security_group_rule": plain,
    "subnetpool": shared("subnetpool"),
    "address_scope": shared("address_scope"),
    "rbac_policy": plain,
    "qos_policy": qos_policy,
    "trunk": trunk,
}


def render(net: Networking, ctx: Context, kind: str, record: Record) -> dict[str, Any]:
    return VIEWS[kind](net, ctx, record)
