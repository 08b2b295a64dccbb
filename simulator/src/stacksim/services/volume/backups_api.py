"""``/backups``: create, list and ``detail``, show, update (3.9), delete, restore, admin actions."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from stacksim import faults
from stacksim.services.volume import api as common_api
from stacksim.services.volume.api import model, route, since
from stacksim.web import Call, reply

SORT_FIELDS = {
    "id": "id",
    "name": "name",
    "status": "status",
    "size": "size",
    "volume_id": "volume_id",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "project_id": "project_id",
}
FILTERS = ("name", "status", "volume_id", "project_id", "snapshot_id")


def view(call: Call, record: dict[str, Any], detail: bool = True) -> dict[str, Any]:
    links = common_api.links(call, "backups", record["id"])
    if not detail:
        return {"id": record["id"], "name": record["name"], "links": links}
    body: dict[str, Any] = {
        "id": record["id"],
        "name": record["name"],
        "description": record["description"],
        "status": record["status"],
        "size": record["size"],
        "object_count": record["object_count"],
        "availability_zone": record["availability_zone"],
        "container": record["container"],
        "created_at": record["created_at"],
        "updated_at": record["updated_at"],
        "fail_reason": record["fail_reason"],
        "volume_id": record["volume_id"],
        "links": links,
        "is_incremental": record["is_incremental"],
        "has_dependent_backups": model(call).backups.has_dependents(record["id"]),
        "snapshot_id": record["snapshot_id"],
        "data_timestamp": record["data_timestamp"],
    }
    if since(call, "3.18") and call.ctx.is_admin:
        body["os-backup-project-attr:project_id"] = record["project_id"]
    if since(call, "3.43"):
        body["metadata"] = dict(record["metadata"])
    if since(call, "3.56"):
        body["user_id"] = record["user_id"]
    if since(call, "3.64"):
        body["encryption_key_id"] = None
    return body


def select(call: Call, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    filters = common_api.check_filters(call, FILTERS)
    found = records
    for key, wanted in filters.items():
        like = key.endswith("~") and since(call, "3.34")
        name = key.rstrip("~")
        if name in ("name", "status", "volume_id", "project_id", "snapshot_id", "id"):
            found = [r for r in found if common_api.matches_text(r.get(name), wanted, like)]
    return found


common_api.list_routes("backups", lambda bs: bs.backups, select, SORT_FIELDS, view)


@route("/backups", methods=("POST",))
async def create_backup(call: Call) -> Response:
    body = await common_api.body_of(call, "backup")
    record = model(call).backups.create(
        call.ctx,
        body.get("volume_id"),
        name=body.get("name"),
        description=body.get("description"),
        container=body.get("container"),
        incremental=body.get("incremental", False),
        force=body.get("force", False),
        snapshot_id=body.get("snapshot_id") or None,
        metadata=body.get("metadata") if since(call, "3.43") else None,
        availability_zone=body.get("availability_zone") if since(call, "3.51") else None,
    )
    return reply({"backup": view(call, record, detail=False)}, status=202)


@route("/backups/{backup_id}")
async def show_backup(call: Call) -> Response:
    return reply({"backup": view(call, model(call).backups.get(call.ctx, call.params["backup_id"]))})


@route("/backups/{backup_id}", methods=("PUT",))
async def update_backup(call: Call) -> Response:
    common_api.require_version(call, "3.9")
    body = await common_api.body_of(call, "backup")
    changes = {k: body[k] for k in ("name", "description") if k in body}
    if "metadata" in body and since(call, "3.43"):
        changes["metadata"] = body["metadata"]
    if not changes:
        raise common_api.nothing_to_update("backup", body)
    record = model(call).backups.update(call.ctx, call.params["backup_id"], changes)
    return reply({"backup": view(call, record, detail=False)})


@route("/backups/{backup_id}", methods=("DELETE",))
async def delete_backup(call: Call) -> Response:
    model(call).backups.delete(call.ctx, call.params["backup_id"])
    return reply(status=202)


@route("/backups/{backup_id}/restore", methods=("POST",))
async def restore_backup(call: Call) -> Response:
    data = await call.json()
    args = data.get("restore") if isinstance(data, dict) else None
    if not isinstance(args, dict):
        raise faults.BadRequest("Missing required element 'restore' in request body.")
    found = model(call).backups.restore(
        call.ctx,
        call.params["backup_id"],
        volume_id=args.get("volume_id"),
        name=args.get("name"),
        description=args.get("description"),
    )
    return reply({"restore": found}, status=202)


common_api.admin_action_route("backups", lambda bs: bs.backups)
