"""Nova's ``os-volume_attachments``: attach and detach Cinder volumes to and from servers."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from stacksim import faults
from stacksim.services.compute.api import api
from stacksim.services.compute.servers import Servers
from stacksim.web import Call, reply


def _servers(call: Call) -> Servers:
    return call.cloud.compute.servers


def attachment_view(call: Call, server: dict[str, Any], attachment: dict[str, Any]) -> dict[str, Any]:
    """As Nova shows it: the volume id is the attachment's id until 2.89 gives the real one."""
    v = call.version
    volume_id = attachment["volume_id"]
    view: dict[str, Any] = {"serverId": server["id"], "volumeId": volume_id, "device": attachment["mountpoint"]}
    if not v.at_least("2.89"):
        view["id"] = volume_id
    if v.at_least("2.70"):
        view["tag"] = None
    if v.at_least("2.79"):
        view["delete_on_termination"] = Servers.deletes_with(server, volume_id)
    if v.at_least("2.89"):
        view["attachment_id"] = attachment["id"]
        view["bdm_uuid"] = attachment["id"]
    return view


@api.route("/v2.1/servers/{id}/os-volume_attachments")
async def list_attachments(call: Call) -> Response:
    servers = _servers(call)
    server = servers.get(call.ctx, call.params["id"])
    views = [attachment_view(call, server, a) for a in servers.volume_attachments(server)]
    return reply({"volumeAttachments": views})


@api.route("/v2.1/servers/{id}/os-volume_attachments/{volume_id}")
async def show_attachment(call: Call) -> Response:
    servers = _servers(call)
    server = servers.get(call.ctx, call.params["id"])
    for attachment in servers.volume_attachments(server):
        if attachment["volume_id"] == call.params["volume_id"]:
            return reply({"volumeAttachment": attachment_view(call, server, attachment)})
    raise faults.NotFound(f"Instance {server['id']} is not attached to volume {call.params['volume_id']}.")


@api.route("/v2.1/servers/{id}/os-volume_attachments", methods=("POST",))
async def attach(call: Call) -> Response:
    servers = _servers(call)
    server = servers.get(call.ctx, call.params["id"])
    body = await call.json()
    request = body.get("volumeAttachment") if isinstance(body, dict) else None
    if not isinstance(request, dict) or not isinstance(request.get("volumeId"), str):
        raise faults.BadRequest("Invalid input for field/attribute volumeAttachment: 'volumeId' is a required property")
    keep = bool(request.get("delete_on_termination", False)) if call.version.at_least("2.79") else False
    attachment = await run_in_threadpool(
        servers.attach_volume, call.ctx, server, request["volumeId"], request.get("device"), keep
    )
    server = servers.get(call.ctx, server["id"])
    return reply({"volumeAttachment": attachment_view(call, server, attachment)})


@api.route("/v2.1/servers/{id}/os-volume_attachments/{volume_id}", methods=("DELETE",))
async def detach(call: Call) -> Response:
    servers = _servers(call)
    server = servers.get(call.ctx, call.params["id"])
    await run_in_threadpool(servers.detach_volume, call.ctx, server, call.params["volume_id"])
    return reply(status=202)
