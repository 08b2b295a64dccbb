"""Routes of routers (with their interface and extra-route actions), floating IPs and auto-allocation."""

from __future__ import annotations

from starlette.responses import Response

from stacksim.services.network import ipam, schemas, views
from stacksim.services.network.model import Networking
from stacksim.services.network.resource_api import (
    READ_ONLY,
    STANDARD,
    Resource,
    api,
    body_of,
    fields_of,
    net_of,
    resource_routes,
)
from stacksim.web import Call, reply

_OWNER = frozenset({"project_id", "tenant_id"})

ROUTERS = Resource(
    "router",
    "router",
    "routers",
    "routers",
    (
        *STANDARD,
        "admin_state_up",
        "status",
        "external_gateway_info",
        "routes",
        "availability_zone_hints",
        "ha",
        "distributed",
    ),
    Networking.create_router,
    schemas.RouterCreate,
    Networking.delete_router,
    Networking.update_router,
    schemas.RouterUpdate,
    READ_ONLY | {"availability_zones"},
    _OWNER | {"availability_zone_hints"},
)
FLOATING_IPS = Resource(
    "floatingip",
    "floatingip",
    "floatingips",
    "floatingips",
    (*STANDARD, "floating_ip_address", "floating_network_id", "router_id", "port_id", "fixed_ip_address", "status"),
    Networking.create_floating_ip,
    schemas.FloatingIPCreate,
    Networking.delete_floating_ip,
    Networking.update_floating_ip,
    schemas.FloatingIPUpdate,
    READ_ONLY | {"router_id", "port_details"},
    _OWNER | {"floating_network_id", "floating_ip_address", "subnet_id"},
)

for _res in (ROUTERS, FLOATING_IPS):
    resource_routes(_res)


@api.route("/v2.0/routers/{id}/add_router_interface", methods=("PUT",))
async def add_router_interface(call: Call) -> Response:
    body = schemas.parse(schemas.Interface, await call.json())
    subnet_id, port_id = body.subnet_id or None, body.port_id or None
    return reply(net_of(call).add_router_interface(call.ctx, call.params["id"], subnet_id, port_id))


@api.route("/v2.0/routers/{id}/remove_router_interface", methods=("PUT",))
async def remove_router_interface(call: Call) -> Response:
    body = schemas.parse(schemas.Interface, await call.json())
    subnet_id, port_id = body.subnet_id or None, body.port_id or None
    return reply(net_of(call).remove_router_interface(call.ctx, call.params["id"], subnet_id, port_id))


async def _routes(call: Call) -> list[schemas.Route]:
    """The routes of an ``{"router": {"routes": [...]}}`` body, as the SDK and the CLI send them."""
    return schemas.parse(schemas.Routes, body_of(await call.json(), "router")).routes


@api.route("/v2.0/routers/{id}/add_extraroutes", methods=("PUT",))
async def add_extraroutes(call: Call) -> Response:
    net = net_of(call)
    router = net.add_extra_routes(call.ctx, call.params["id"], await _routes(call))
    return reply({"router": views.router(net, call.ctx, router)})


@api.route("/v2.0/routers/{id}/remove_extraroutes", methods=("PUT",))
async def remove_extraroutes(call: Call) -> Response:
    net = net_of(call)
    router = net.remove_extra_routes(call.ctx, call.params["id"], await _routes(call))
    return reply({"router": views.router(net, call.ctx, router)})


@api.route("/v2.0/auto-allocated-topology/{project}")
async def auto_allocated_topology(call: Call) -> Response:
    fields = fields_of(call)
    if any(f != "dry-run" for f in fields):
        raise ipam.bad_request("auto_allocate", "Unrecognized field")
    dry_run = bool(fields)
    found = net_of(call).auto_allocated_topology(call.ctx, call.params["project"], dry_run=dry_run)
    return reply({"auto_allocated_topology": found})


@api.route("/v2.0/auto-allocated-topology/{project}", methods=("DELETE",))
async def delete_auto_allocated_topology(call: Call) -> Response:
    net_of(call).delete_auto_allocated_topology(call.ctx, call.params["project"])
    return reply(status=204)
