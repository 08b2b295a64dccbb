"""``/attachments`` (3.27+): reserve, connect (update), complete (3.44) and delete attachments."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from stacksim import faults
from stacksim.services.volume import api as common_api
from stacksim.services.volume.api import model, require_version, route, since
from stacksim.services.volume.attachments import not_found
from stacksim.web import Call, reply

SORT_FIELDS = {"id": "id", "created_at": "created_at", "volume_id": "volume_id", "status": "attach_status"}
FILTERS = ("volume_id", "instance_id", "status", "attach_status", "project_id")


def summary(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": record["id"],
        "status": record["attach_status"],
        "instance": record["instance_uuid"],
        "volume_id": record["volume_id"],
    }


def view(record: dict[str, Any]) -> dict[str, Any]:
    return {
        **summary(record),
        "attached_at": record["attach_time"] or "",
        "detached_at": record["detach_time"] or "",
        "attach_mode": record["attach_mode"],
        "connection_info": record["connection_info"],
    }


async def _list(call: Call, detail: bool) -> Response:
    require_version(call, "3.27")
    records = model(call).attachments.list(call.ctx, common_api.all_tenants(call))
    filters = common_api.check_filters(call, FILTERS)
    fields = {"instance_id": "instance_uuid", "status": "attach_status", "attach_status": "attach_status"}
    for key, wanted in filters.items():
        field = fields.get(key, key)
        records = [r for r in records if str(r.get(field)) == wanted]
    page = common_api.paginate(call, records, sort_fields=SORT_FIELDS, marker_missing=not_found)
    shown = [view(r) if detail else summary(r) for r in page.items]
    return reply(common_api.collection(call, "attachments", page, shown))


@route("/attachments")
async def list_attachments(call: Call) -> Response:
    return await _list(call, detail=False)


@route("/attachments/detail")
async def list_attachments_detail(call: Call) -> Response:
    return await _list(call, detail=True)


@route("/attachments", methods=("POST",))
async def create_attachment(call: Call) -> Response:
    require_version(call, "3.27")
    body = await common_api.body_of(call, "attachment")
    mode = body.get("mode") if since(call, "3.54") else None
    record = model(call).attachments.create(
        call.ctx,
        body.get("volume_uuid"),
        instance_uuid=body.get("instance_uuid"),
        connector=body.get("connector"),
        mode=mode,
    )
    return reply({"attachment": view(record)})


@route("/attachments/{attachment_id}")
async def show_attachment(call: Call) -> Response:
    require_version(call, "3.27")
    return reply({"attachment": view(model(call).attachments.get(call.ctx, call.params["attachment_id"]))})


@route("/attachments/{attachment_id}", methods=("PUT",))
async def update_attachment(call: Call) -> Response:
    require_version(call, "3.27")
    body = await common_api.body_of(call, "attachment")
    record = model(call).attachments.update(call.ctx, call.params["attachment_id"], body.get("connector"))
    return reply({"attachment": view(record)})


@route("/attachments/{attachment_id}", methods=("DELETE",))
async def delete_attachment(call: Call) -> Response:
    require_version(call, "3.27")
    left = model(call).attachments.delete(call.ctx, call.params["attachment_id"])
    return reply({"attachments": [summary(r) for r in left]})


@route("/attachments/{attachment_id}/action", methods=("POST",))
async def attachment_action(call: Call) -> Response:
    require_version(call, "3.44")
    data = await call.json()
    if not isinstance(data, dict) or not data:
        raise faults.BadRequest("Malformed request body")
    action = next(iter(data))
    if action != "os-complete":
        raise faults.BadRequest(f"There is no such action: {action}")
    model(call).attachments.complete(call.ctx, call.params["attachment_id"])
    return reply(status=204)
