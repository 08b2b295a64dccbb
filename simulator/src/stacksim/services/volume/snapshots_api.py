"""``/snapshots``: create, list and ``detail``, show, update, delete, metadata, admin actions."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from stacksim.services.volume import common, routing, schemas, views
from stacksim.services.volume.routing import model, route, since, viewer
from stacksim.web import Call, reply

SORT_FIELDS = {
    "id": "id",
    "name": "name",
    "display_name": "name",
    "status": "status",
    "size": "size",
    "volume_id": "volume_id",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "project_id": "project_id",
}


def select(call: Call, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    filters = routing.check_filters(call, "snapshot", ("project_id",))
    found = routing.text_filters(call, records, filters, ("name", "status", "volume_id", "project_id", "user_id", "id"))
    for name, wanted in filters.items():
        if name == "metadata":
            found = routing.metadata_filter(found, wanted)
        elif name == "consumes_quota":
            value = common.flag(wanted, "consumes_quota")
            found = [r for r in found if r.get("consumes_quota", True) == value]
        elif name == "availability_zone":
            found = [r for r in found if wanted == common.ZONE]
    return found


routing.list_routes("snapshots", lambda bs: bs.snapshots, select, SORT_FIELDS, views.snapshot)
routing.item_routes("snapshots", "snapshot", lambda bs: bs.snapshots, views.snapshot)
routing.admin_action_route("snapshots", lambda bs: bs.snapshots)
routing.metadata_routes("snapshots", lambda bs: bs.snapshots)


@route("/snapshots", methods=("POST",))
async def create_snapshot(call: Call) -> Response:
    body = await routing.body_of(call, "snapshot")
    record = model(call).snapshots.create(call.ctx, schemas.new_snapshot(body, force_is_invalid=since(call, "3.66")))
    return reply({"snapshot": views.snapshot(viewer(call), record)}, status=202)


@route("/snapshots/{snapshot_id}", methods=("PUT",))
async def update_snapshot(call: Call) -> Response:
    body = await routing.body_of(call, "snapshot")
    changes = schemas.name_changes(schemas.parse(schemas.SnapshotUpdate, body, "snapshot"))
    if not changes:
        raise routing.nothing_to_update("snapshot", body)
    record = model(call).snapshots.update(call.ctx, call.params["snapshot_id"], changes)
    return reply({"snapshot": views.snapshot(viewer(call), record)})
