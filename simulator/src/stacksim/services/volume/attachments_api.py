"""``/attachments`` (3.27+): reserve, connect (update), complete (3.44) and delete attachments."""

from __future__ import annotations

from starlette.responses import Response

from stacksim.services.volume import routing, schemas, views
from stacksim.services.volume.attachments import not_found
from stacksim.services.volume.routing import model, require_version, route, since
from stacksim.web import Call, reply

SORT_FIELDS = {"id": "id", "created_at": "created_at", "volume_id": "volume_id", "status": "attach_status"}
#: query filter -> record field
FIELDS = {"instance_id": "instance_uuid", "status": "attach_status", "attach_status": "attach_status"}


async def _list(call: Call, detail: bool) -> Response:
    require_version(call, "3.27")
    records = model(call).attachments.list(call.ctx, routing.all_tenants(call))
    for key, wanted in routing.check_filters(call, "attachment", ("project_id",)).items():
        field = FIELDS.get(key, key)
        records = [r for r in records if str(r.get(field)) == wanted]
    page = routing.paginate(call, records, sort_fields=SORT_FIELDS, marker_missing=not_found)
    shown = [views.attachment(r) if detail else views.attachment_summary(r) for r in page.items]
    return reply(routing.collection(call, "attachments", page, shown))


@route("/attachments")
async def list_attachments(call: Call) -> Response:
    return await _list(call, detail=False)


@route("/attachments/detail")
async def list_attachments_detail(call: Call) -> Response:
    return await _list(call, detail=True)


@route("/attachments", methods=("POST",))
async def create_attachment(call: Call) -> Response:
    require_version(call, "3.27")
    body = schemas.parse(schemas.AttachmentCreate, await routing.body_of(call, "attachment"), "attachment")
    record = model(call).attachments.create(
        call.ctx,
        body.volume_uuid,
        instance_uuid=body.instance_uuid,
        connector=body.connector,
        mode=body.mode if since(call, "3.54") else None,
    )
    return reply({"attachment": views.attachment(record)})


@route("/attachments/{attachment_id}")
async def show_attachment(call: Call) -> Response:
    require_version(call, "3.27")
    return reply({"attachment": views.attachment(model(call).attachments.get(call.ctx, call.params["attachment_id"]))})


@route("/attachments/{attachment_id}", methods=("PUT",))
async def update_attachment(call: Call) -> Response:
    require_version(call, "3.27")
    body = schemas.parse(schemas.AttachmentUpdate, await routing.body_of(call, "attachment"), "attachment")
    record = model(call).attachments.update(call.ctx, call.params["attachment_id"], body.connector)
    return reply({"attachment": views.attachment(record)})


@route("/attachments/{attachment_id}", methods=("DELETE",))
async def delete_attachment(call: Call) -> Response:
    require_version(call, "3.27")
    left = model(call).attachments.delete(call.ctx, call.params["attachment_id"])
    return reply({"attachments": [views.attachment_summary(r) for r in left]})


@route("/attachments/{attachment_id}/action", methods=("POST",))
async def attachment_action(call: Call) -> Response:
    require_version(call, "3.44")
    action, _ = await routing.action_of(call)
    if action != "os-complete":
        raise routing.no_such_action(action)
    model(call).attachments.complete(call.ctx, call.params["attachment_id"])
    return reply(status=204)
