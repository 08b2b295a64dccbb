"""``/snapshots``: create, list and ``detail``, show, update, delete, metadata, admin actions."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from stacksim.services.volume import api as common_api
from stacksim.services.volume import common
from stacksim.services.volume.api import model, route, since
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
FILTERS = ("name", "status", "volume_id", "metadata", "availability_zone", "project_id", "consumes_quota")


def view(call: Call, record: dict[str, Any], detail: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": record["id"],
        "created_at": record["created_at"],
        "updated_at": record["updated_at"],
        "name": record["name"],
        "description": record["description"],
        "volume_id": record["volume_id"],
        "status": record["status"],
        "size": record["size"],
        "metadata": dict(record["metadata"]),
    }
    if not detail:
        return body
    body["os-extended-snapshot-attributes:progress"] = record["progress"]
    body["os-extended-snapshot-attributes:project_id"] = record["project_id"]
    if since(call, "3.14"):
        body["group_snapshot_id"] = record.get("group_snapshot_id")
    if since(call, "3.41"):
        body["user_id"] = record["user_id"]
    if since(call, "3.65"):
        body["consumes_quota"] = record.get("consumes_quota", True)
    return body


def select(call: Call, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    filters = common_api.check_filters(call, FILTERS)
    found = records
    for key, wanted in filters.items():
        like = key.endswith("~") and since(call, "3.34")
        name = key.rstrip("~")
        if name == "metadata":
            meta = common_api.dict_filter(wanted)
            found = [r for r in found if all(r["metadata"].get(k) == str(v) for k, v in meta.items())]
        elif name == "consumes_quota":
            value = common.flag(wanted, "consumes_quota")
            found = [r for r in found if r.get("consumes_quota", True) == value]
        elif name == "availability_zone":
            found = [r for r in found if wanted == common.ZONE]
        elif name in ("name", "status", "volume_id", "project_id", "user_id", "id"):
            found = [r for r in found if common_api.matches_text(r.get(name), wanted, like)]
    return found


common_api.list_routes("snapshots", lambda bs: bs.snapshots, select, SORT_FIELDS, view)


@route("/snapshots", methods=("POST",))
async def create_snapshot(call: Call) -> Response:
    body = await common_api.body_of(call, "snapshot")
    record = model(call).snapshots.create(
        call.ctx,
        body.get("volume_id"),
        name=body.get("name", body.get("display_name")),
        description=body.get("description", body.get("display_description")),
        force=body.get("force"),
        metadata=body.get("metadata"),
        force_is_invalid=since(call, "3.66"),
    )
    return reply({"snapshot": view(call, record)}, status=202)


@route("/snapshots/{snapshot_id}")
async def show_snapshot(call: Call) -> Response:
    return reply({"snapshot": view(call, model(call).snapshots.get(call.ctx, call.params["snapshot_id"]))})


@route("/snapshots/{snapshot_id}", methods=("PUT",))
async def update_snapshot(call: Call) -> Response:
    body = await common_api.body_of(call, "snapshot")
    changes = common_api.name_changes(body)
    if not changes:
        raise common_api.nothing_to_update("snapshot", body)
    record = model(call).snapshots.update(call.ctx, call.params["snapshot_id"], changes)
    return reply({"snapshot": view(call, record)})


@route("/snapshots/{snapshot_id}", methods=("DELETE",))
async def delete_snapshot(call: Call) -> Response:
    model(call).snapshots.delete(call.ctx, call.params["snapshot_id"])
    return reply(status=202)


common_api.admin_action_route("snapshots", lambda bs: bs.snapshots)


common_api.metadata_routes("snapshots", lambda bs: bs.snapshots)
