"""``/backups``: create, list and ``detail``, show, update (3.9), delete, restore, admin actions.

Not implemented: export and import of backup records (``/backups/{id}/export_record``,
``/backups/import_record``).
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from stacksim.services.volume import routing, schemas, views
from stacksim.services.volume.routing import model, route, since, viewer
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


def select(call: Call, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    filters = routing.check_filters(call, "backup", ("project_id", "snapshot_id"))
    return routing.text_filters(
        call, records, filters, ("name", "status", "volume_id", "project_id", "snapshot_id", "id")
    )


routing.list_routes("backups", lambda bs: bs.backups, select, SORT_FIELDS, views.backup)
routing.item_routes("backups", "backup", lambda bs: bs.backups, views.backup)
routing.admin_action_route("backups", lambda bs: bs.backups)


@route("/backups", methods=("POST",))
async def create_backup(call: Call) -> Response:
    body = await routing.body_of(call, "backup")
    request = schemas.new_backup(body, with_metadata=since(call, "3.43"), with_zone=since(call, "3.51"))
    record = model(call).backups.create(call.ctx, request)
    return reply({"backup": views.backup(viewer(call), record, detail=False)}, status=202)


@route("/backups/{backup_id}", methods=("PUT",))
async def update_backup(call: Call) -> Response:
    routing.require_version(call, "3.9")
    body = await routing.body_of(call, "backup")
    given = schemas.parse(schemas.BackupUpdate, body, "backup")
    changes = {k: getattr(given, k) for k in ("name", "description") if k in given.model_fields_set}
    if "metadata" in given.model_fields_set and since(call, "3.43"):
        changes["metadata"] = given.metadata
    if not changes:
        raise routing.nothing_to_update("backup", body)
    record = model(call).backups.update(call.ctx, call.params["backup_id"], changes)
    return reply({"backup": views.backup(viewer(call), record, detail=False)})


@route("/backups/{backup_id}/restore", methods=("POST",))
async def restore_backup(call: Call) -> Response:
    body = await routing.body_of(call, "restore")
    args = schemas.parse(schemas.BackupRestore, body, "restore")
    backup, volume = model(call).backups.restore(
        call.ctx, call.params["backup_id"], volume_id=args.volume_id or None, name=args.name
    )
    return reply({"restore": views.restore(backup, volume)}, status=202)
