"""``/servers/{id}/os-volume_attachments``: attach, list, show, update and detach Cinder volumes."""

from __future__ import annotations

from starlette.responses import Response

from stacksim.services.compute import common, schemas, views
from stacksim.services.compute.common import api
from stacksim.services.compute.model import Compute
from stacksim.web import Call, reply


def _compute(call: Call) -> Compute:
    return call.cloud.compute


@api.route("/v2.1/servers/{id}/os-volume_attachments")
async def list_attachments(call: Call) -> Response:
    server, found = _compute(call).volumes.list(call.ctx, call.params["id"])
    return reply({"volumeAttachments": [views.volume_attachment(call, server, a) for a in found]})


@api.route("/v2.1/servers/{id}/os-volume_attachments/{volume_id}")
async def show_attachment(call: Call) -> Response:
    server, found = _compute(call).volumes.show(call.ctx, call.params["id"], call.params["volume_id"])
    return reply({"volumeAttachment": views.volume_attachment(call, server, found)})


@api.route("/v2.1/servers/{id}/os-volume_attachments", methods=("POST",))
async def attach(call: Call) -> Response:
    body = await call.body(schemas.VolumeAttachmentCreate, "volumeAttachment")
    common.too_new("volumeAttachment", body, call, {"tag": "2.49", "delete_on_termination": "2.79"})
    compute, server_id = _compute(call), call.params["id"]
    attachment = compute.attach_volume(call.ctx, server_id, body.volumeId, body.device, body.delete_on_termination)
    server = compute.servers.get(call.ctx, server_id)
    return reply({"volumeAttachment": views.volume_attachment(call, server, attachment)})


@api.route("/v2.1/servers/{id}/os-volume_attachments/{volume_id}", methods=("PUT",))
async def update_attachment(call: Call) -> Response:
    body = await call.body(schemas.VolumeAttachmentUpdate, "volumeAttachment")
    gated = ("device", "tag", "serverId", "id", "delete_on_termination")
    common.too_new("volumeAttachment", body, call, dict.fromkeys(gated, "2.85"))
    _compute(call).volumes.update(
        call.ctx,
        call.params["id"],
        call.params["volume_id"],
        body.volumeId,
        body.delete_on_termination,
        swap_only=not common.since(call, "2.85"),
        unchanged={k: getattr(body, k) for k in ("device", "tag", "serverId", "id") if k in body.model_fields_set},
    )
    return reply(status=202)


@api.route("/v2.1/servers/{id}/os-volume_attachments/{volume_id}", methods=("DELETE",))
async def detach(call: Call) -> Response:
    _compute(call).detach_volume(call.ctx, call.params["id"], call.params["volume_id"])
    return reply(status=202)
