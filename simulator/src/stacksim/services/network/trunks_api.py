"""Routes of trunks and their subports."""

from __future__ import annotations

from starlette.responses import Response

from stacksim.services.network import schemas, views
from stacksim.services.network.model import Networking
from stacksim.services.network.resource_api import READ_ONLY, STANDARD, Resource, api, net_of, resource_routes
from stacksim.web import Call, reply

TRUNKS = Resource(
    "trunk",
    "trunk",
    "trunks",
    "trunks",
    (*STANDARD, "port_id", "admin_state_up", "status", "sub_ports"),
    Networking.create_trunk,
    schemas.TrunkCreate,
    Networking.delete_trunk,
    Networking.update_trunk,
    schemas.TrunkUpdate,
    READ_ONLY,
    frozenset({"project_id", "tenant_id", "port_id", "sub_ports"}),
)
resource_routes(TRUNKS)


@api.route("/v2.0/trunks/{id}/get_subports")
async def get_subports(call: Call) -> Response:
    trunk = net_of(call).get(call.ctx, "trunk", call.params["id"])
    return reply({"sub_ports": trunk["sub_ports"]})


@api.route("/v2.0/trunks/{id}/add_subports", methods=("PUT",))
async def add_subports(call: Call) -> Response:
    net = net_of(call)
    sub_ports = schemas.parse(schemas.SubPorts, await call.json()).sub_ports
    return reply(views.trunk(net, call.ctx, net.add_trunk_subports(call.ctx, call.params["id"], sub_ports)))


@api.route("/v2.0/trunks/{id}/remove_subports", methods=("PUT",))
async def remove_subports(call: Call) -> Response:
    net = net_of(call)
    data = await call.json()
    port_ids = [s.port_id for s in schemas.parse(schemas.SubPorts, data).sub_ports]
    return reply(views.trunk(net, call.ctx, net.remove_trunk_subports(call.ctx, call.params["id"], port_ids)))
