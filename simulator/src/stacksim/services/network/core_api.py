"""Routes of the core resources: networks, subnets and ports; subnet pools, address scopes, RBAC policies."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from stacksim.services.network import schemas
from stacksim.services.network.model import Networking
from stacksim.services.network.resource_api import (
    READ_ONLY,
    STANDARD,
    Resource,
    api,
    net_of,
    resource_routes,
)
from stacksim.web import Call, reply

_OWNER = frozenset({"project_id", "tenant_id"})


def _fixed_ips_match(value: Any, wanted: list[str]) -> bool:
    """``?fixed_ips=ip_address=10.0.0.5&fixed_ips=subnet_id=...`` (and ``ip_address_substr``)."""
    want: dict[str, set[str]] = {}
    for item in wanted:
        key, _, val = item.partition("=")
        want.setdefault(key, set()).add(val)
    for ip in value or []:
        ok = True
        for key, vals in want.items():
            if key == "ip_address_substr":
                ok = ok and any(v in ip["ip_address"] for v in vals)
            else:
                ok = ok and ip.get(key) in vals
        if ok:
            return True
    return False


NETWORKS = Resource(
    "network",
    "network",
    "networks",
    "networks",
    (
        *STANDARD,
        "admin_state_up",
        "status",
        "shared",
        "router:external",
        "is_default",
        "mtu",
        "port_security_enabled",
        "provider:network_type",
        "provider:physical_network",
        "provider:segmentation_id",
        "subnets",
        "availability_zone_hints",
        "qos_policy_id",
    ),
    Networking.create_network,
    schemas.NetworkCreate,
    Networking.delete_network,
    Networking.update_network,
    schemas.NetworkUpdate,
    READ_ONLY | {"subnets"},
    _OWNER
    | {"provider:network_type", "provider:physical_network", "provider:segmentation_id", "availability_zone_hints"},
)
SUBNETS = Resource(
    "subnet",
    "subnet",
    "subnets",
    "subnets",
    (
        *STANDARD,
        "network_id",
        "ip_version",
        "cidr",
        "gateway_ip",
        "allocation_pools",
        "dns_nameservers",
        "host_routes",
        "enable_dhcp",
        "ipv6_ra_mode",
        "ipv6_address_mode",
        "subnetpool_id",
        "segment_id",
        "service_types",
    ),
    Networking.create_subnet,
    schemas.SubnetCreate,
    Networking.delete_subnet,
    Networking.update_subnet,
    schemas.SubnetUpdate,
    READ_ONLY,
    _OWNER
    | {
        "network_id",
        "ip_version",
        "cidr",
        "ipv6_ra_mode",
        "ipv6_address_mode",
        "subnetpool_id",
        "use_default_subnetpool",
        "prefixlen",
        "segment_id",
    },
)
PORTS = Resource(
    "port",
    "port",
    "ports",
    "ports",
    (
        *STANDARD,
        "network_id",
        "admin_state_up",
        "status",
        "mac_address",
        "fixed_ips",
        "device_id",
        "device_owner",
        "security_groups",
        "allowed_address_pairs",
        "port_security_enabled",
        "ip_allocation",
        "binding:host_id",
        "binding:vnic_type",
        "binding:vif_type",
        "qos_policy_id",
    ),
    Networking.create_port,
    schemas.PortCreate,
    Networking.delete_port,
    Networking.update_port,
    schemas.PortUpdate,
    READ_ONLY | {"binding:vif_type", "binding:vif_details", "ip_allocation", "trunk_details"},
    _OWNER | {"network_id"},
    {"fixed_ips": ("fixed_ips", _fixed_ips_match)},
)
SUBNET_POOLS = Resource(
    "subnetpool",
    "subnetpool",
    "subnetpools",
    "subnetpools",
    (
        *STANDARD,
        "prefixes",
        "ip_version",
        "default_prefixlen",
        "min_prefixlen",
        "max_prefixlen",
        "default_quota",
        "shared",
        "is_default",
        "address_scope_id",
    ),
    Networking.create_subnet_pool,
    schemas.SubnetPoolCreate,
    Networking.delete_subnet_pool,
    Networking.update_subnet_pool,
    schemas.SubnetPoolUpdate,
    READ_ONLY | {"ip_version"},
    _OWNER | {"shared"},
)
ADDRESS_SCOPES = Resource(
    "address_scope",
    "address_scope",
    "address_scopes",
    "address-scopes",
    ("id", "name", "project_id", "tenant_id", "ip_version", "shared"),
    Networking.create_address_scope,
    schemas.AddressScopeCreate,
    Networking.delete_address_scope,
    Networking.update_address_scope,
    schemas.AddressScopeUpdate,
    frozenset({"id"}),
    _OWNER | {"ip_version"},
)
RBAC_POLICIES = Resource(
    "rbac_policy",
    "rbac_policy",
    "rbac_policies",
    "rbac-policies",
    ("id", "project_id", "tenant_id", "object_type", "object_id", "action", "target_tenant"),
    Networking.create_rbac_policy,
    schemas.RbacPolicyCreate,
    Networking.delete_rbac_policy,
    Networking.update_rbac_policy,
    schemas.RbacPolicyUpdate,
    frozenset({"id"}),
    _OWNER | {"object_type", "object_id", "action"},
)

for _res in (NETWORKS, SUBNETS, PORTS, SUBNET_POOLS, ADDRESS_SCOPES, RBAC_POLICIES):
    resource_routes(_res)


@api.route("/v2.0/subnetpools/{id}/add_prefixes", methods=("PUT",))
async def add_prefixes(call: Call) -> Response:
    prefixes = schemas.parse(schemas.Prefixes, await call.json()).prefixes
    return reply({"prefixes": net_of(call).add_subnet_pool_prefixes(call.ctx, call.params["id"], prefixes)})


@api.route("/v2.0/subnetpools/{id}/remove_prefixes", methods=("PUT",))
async def remove_prefixes(call: Call) -> Response:
    prefixes = schemas.parse(schemas.Prefixes, await call.json()).prefixes
    return reply({"prefixes": net_of(call).remove_subnet_pool_prefixes(call.ctx, call.params["id"], prefixes)})
