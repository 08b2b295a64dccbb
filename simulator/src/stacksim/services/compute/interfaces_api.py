"""``/servers/{id}/os-interface``: hot-plug and unplug a server's ports, list and show them."""

from __future__ import annotations

from starlette.responses import Response

from stacksim.services.compute import common, schemas, views
from stacksim.services.compute.common import api
from stacksim.services.compute.model import Compute
from stacksim.web import Call, reply


def _compute(call: Call) -> Compute:
    return call.cloud.compute


@api.route("/v2.1/servers/{id}/os-interface")
async def list_interfaces(call: Call) -> Response:
    ports = _compute(call).interfaces.list(call.ctx, call.params["id"])
    return reply({"interfaceAttachments": [views.interface(call, p) for p in ports]})


@api.route("/v2.1/servers/{id}/os-interface/{port_id}")
async def show_interface(call: Call) -> Response:
    port = _compute(call).interfaces.show(call.ctx, call.params["id"], call.params["port_id"])
    return reply({"interfaceAttachment": views.interface(call, port)})


@api.route("/v2.1/servers/{id}/os-interface", methods=("POST",))
async def attach_interface(call: Call) -> Response:
    data = await call.request.body()
    body = schemas.InterfaceAttachmentCreate()
    if data:  # Nova takes no body at all: attach to the one usable network
        body = await call.body(schemas.InterfaceAttachmentCreate, "interfaceAttachment")
        common.too_new("interfaceAttachment", body, call, {"tag": "2.49"})
    port = _compute(call).attach_interface(call.ctx, call.params["id"], body.net_id, body.port_id, body.fixed_ip)
    return reply({"interfaceAttachment": views.interface(call, port)})


@api.route("/v2.1/servers/{id}/os-interface/{port_id}", methods=("DELETE",))
async def detach_interface(call: Call) -> Response:
    _compute(call).detach_interface(call.ctx, call.params["id"], call.params["port_id"])
    return reply(status=202)
