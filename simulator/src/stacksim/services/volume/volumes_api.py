"""``/volumes``: create, list and ``detail``, ``summary``, show, update, delete, metadata and the actions.

Not implemented (400 "There is no such action"): ``revert``, ``os-reimage``,
``os-migrate_volume`` and ``os-migrate_volume_completion``, ``os-unmanage``,
``os-extend_volume_completion``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.responses import Response

from stacksim import faults
from stacksim.services.volume import common, routing, schemas, views
from stacksim.services.volume.routing import args_of, model, route, since, viewer
from stacksim.web import Call, reply

SORT_FIELDS = {
    "id": "id",
    "name": "name",
    "display_name": "name",
    "status": "status",
    "size": "size",
    "availability_zone": "availability_zone",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "bootable": "bootable",
    "volume_type": "volume_type_id",
    "project_id": "project_id",
    "user_id": "user_id",
    "host": "host",
}
#: Filters a member may use beyond Cinder's configured ones (its list call reads these itself).
MORE_FILTERS = ("user_id", "project_id", "volume_type", "volume_type_id", "glance_metadata")
TEXT_FILTERS = ("name", "status", "availability_zone", "user_id", "project_id", "migration_status", "host", "id")


# -- listing --------------------------------------------------------------------------------------------


def _time_filter(value: Any, spec: str) -> bool:
    """Cinder's 3.60 time comparisons: ``gt:2024-01-01T00:00:00,lte:...`` (plain value: equal)."""
    if value is None:
        return False
    text = str(value)
    for part in spec.split(","):
        op, sep, moment = part.partition(":")
        if not sep or op not in ("gt", "gte", "lt", "lte", "eq", "neq"):
            op, moment = "eq", part
        moment = moment.replace("Z", "").replace("+00:00", "")
        tests = {
            "gt": text > moment,
            "gte": text >= moment,
            "lt": text < moment,
            "lte": text <= moment,
            "eq": text.startswith(moment),
            "neq": not text.startswith(moment),
        }
        if not tests[op]:
            return False
    return True


def select(call: Call, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    filters = routing.check_filters(call, "volume", MORE_FILTERS)
    found = routing.text_filters(call, records, filters, TEXT_FILTERS)
    for name, wanted in filters.items():
        if name == "metadata":
            found = routing.metadata_filter(found, wanted)
        elif name == "glance_metadata":
            found = routing.metadata_filter(found, wanted, "image_metadata")
        elif name in ("bootable", "consumes_quota"):
            value = common.flag(wanted, name)
            found = [r for r in found if r.get(name, True) == value]
        elif name == "size":
            found = [r for r in found if str(r["size"]) == wanted]
        elif name in ("volume_type", "volume_type_id"):
            ids = {t["id"] for t in model(call).types.list(call.ctx, None) if wanted in (t["id"], t["name"])}
            found = [r for r in found if r["volume_type_id"] in ids]
        elif name in ("created_at", "updated_at"):
            found = [r for r in found if _time_filter(r.get(name), wanted)]
        elif name == "group_id":
            found = [r for r in found if r.get("group_id") == wanted]
    return found


routing.list_routes("volumes", lambda bs: bs.volumes, select, SORT_FIELDS, views.volume)


@route("/volumes/summary")
async def volumes_summary(call: Call) -> Response:
    routing.require_version(call, "3.12")
    records = model(call).volumes.list(call.ctx, routing.all_tenants(call))
    return reply({"volume-summary": views.volume_summary(records, since(call, "3.36"))})


# -- create, show, update, delete ---------------------------------------------------------------------------


@route("/volumes", methods=("POST",))
async def create_volume(call: Call) -> Response:
    body = await routing.body_of(call, "volume")
    request = schemas.new_volume(body, strict=since(call, "3.53"), with_backup=since(call, "3.47"))
    record = model(call).volumes.create(call.ctx, request)
    return reply({"volume": views.volume(viewer(call), record, shown=False)}, status=202)


@route("/volumes/{volume_id}")
async def show_volume(call: Call) -> Response:
    record = model(call).volumes.get(call.ctx, call.params["volume_id"])
    return reply({"volume": views.volume(viewer(call), record)})


@route("/volumes/{volume_id}", methods=("PUT",))
async def update_volume(call: Call) -> Response:
    body = await routing.body_of(call, "volume")
    changes = schemas.name_changes(schemas.parse(schemas.VolumeUpdate, body, "volume"))
    if since(call, "3.53") and not changes:
        raise routing.nothing_to_update("volume", body)
    record = model(call).volumes.update(call.ctx, call.params["volume_id"], changes)
    return reply({"volume": views.volume(viewer(call), record, shown=False)})


@route("/volumes/{volume_id}", methods=("DELETE",))
async def delete_volume(call: Call) -> Response:
    cascade = routing.flag_query(call, "cascade")
    force = routing.flag_query(call, "force") if since(call, "3.23") else False
    model(call).volumes.delete(call.ctx, call.params["volume_id"], cascade=cascade, force=force)
    return reply(status=202)


routing.metadata_routes("volumes", lambda bs: bs.volumes)


# -- actions ---------------------------------------------------------------------------------------------

#: ``handler(call, volume_id, args)`` -> the response
Action = Callable[[Call, str, dict[str, Any]], Awaitable[Response]]
ACTIONS: dict[str, Action] = {}


def action(name: str, status: int = 202, body_status: int = 200):
    """Register a volume action: a handler's body answers ``body_status``, no body ``status``."""

    def register(handler: Callable[[Call, str, dict[str, Any]], Any]) -> Action:
        async def run(call: Call, volume_id: str, args: dict[str, Any]) -> Response:
            found = handler(call, volume_id, args)
            return reply(status=status) if found is None else reply(found, status=body_status)

        ACTIONS[name] = run
        return run

    return register


def _required(args: dict[str, Any], key: str) -> Any:
    if key not in args:
        raise faults.BadRequest(f"Must specify {key} in request.")
    return args[key]


@route("/volumes/{volume_id}/action", methods=("POST",))
async def volume_action(call: Call) -> Response:
    name, value = await routing.action_of(call)
    handler = ACTIONS.get(name)
    if handler is None:
        raise routing.no_such_action(name)
    return await handler(call, call.params["volume_id"], args_of(value, name))


@action("os-extend")
def _extend(call: Call, volume_id: str, args: dict[str, Any]) -> None:
    if "new_size" not in args:
        raise common.invalid_field("os-extend", args, "'new_size' is a required property")
    model(call).volumes.extend(call.ctx, volume_id, args["new_size"], attached_ok=since(call, "3.42"))


@action("os-reset_status")
def _reset_status(call: Call, volume_id: str, args: dict[str, Any]) -> None:
    model(call).volumes.reset_status(call.ctx, volume_id, args)


@action("os-force_delete")
def _force_delete(call: Call, volume_id: str, args: dict[str, Any]) -> None:
    model(call).volumes.delete(call.ctx, volume_id, force=True)


@action("os-set_bootable", status=200)
def _set_bootable(call: Call, volume_id: str, args: dict[str, Any]) -> None:
    model(call).volumes.set_bootable(call.ctx, volume_id, _required(args, "bootable"))


@action("os-update_readonly_flag")
def _readonly(call: Call, volume_id: str, args: dict[str, Any]) -> None:
    model(call).volumes.set_readonly(call.ctx, volume_id, _required(args, "readonly"))


@action("os-volume_upload_image", body_status=202)
def _upload(call: Call, volume_id: str, args: dict[str, Any]) -> dict[str, Any]:
    request = schemas.image_upload(args, with_visibility=since(call, "3.1"))
    record, image = model(call).volumes.upload_to_image(call.ctx, volume_id, request)
    return {"os-volume_upload_image": views.image_upload(viewer(call), record, image)}


@action("os-retype")
def _retype(call: Call, volume_id: str, args: dict[str, Any]) -> None:
    model(call).volumes.retype(call.ctx, volume_id, args.get("new_type"), args.get("migration_policy"))


@action("os-set_image_metadata")
def _set_image_metadata(call: Call, volume_id: str, args: dict[str, Any]) -> dict[str, Any]:
    if "metadata" not in args:
        raise faults.BadRequest("Malformed request body")
    return {"metadata": model(call).volumes.set_image_metadata(call.ctx, volume_id, args["metadata"])}


@action("os-unset_image_metadata", status=200)
def _unset_image_metadata(call: Call, volume_id: str, args: dict[str, Any]) -> None:
    model(call).volumes.unset_image_metadata(call.ctx, volume_id, args.get("key"))


@action("os-show_image_metadata")
def _show_image_metadata(call: Call, volume_id: str, args: dict[str, Any]) -> dict[str, Any]:
    record = model(call).volumes.get(call.ctx, volume_id)
    return {"metadata": dict(record.get("image_metadata") or {})}


@action("os-reserve")
def _reserve(call: Call, volume_id: str, args: dict[str, Any]) -> None:
    model(call).attachments.reserve(call.ctx, volume_id)


@action("os-unreserve")
def _unreserve(call: Call, volume_id: str, args: dict[str, Any]) -> None:
    model(call).attachments.unreserve(call.ctx, volume_id)


@action("os-attach")
def _attach(call: Call, volume_id: str, args: dict[str, Any]) -> None:
    model(call).attachments.attach_action(
        call.ctx,
        volume_id,
        instance_uuid=args.get("instance_uuid"),
        host_name=args.get("host_name"),
        mountpoint=args.get("mountpoint"),
        mode=args.get("mode"),
    )


@action("os-begin_detaching")
def _begin_detaching(call: Call, volume_id: str, args: dict[str, Any]) -> None:
    model(call).attachments.begin_detaching(call.ctx, volume_id)


@action("os-roll_detaching")
def _roll_detaching(call: Call, volume_id: str, args: dict[str, Any]) -> None:
    model(call).attachments.roll_detaching(call.ctx, volume_id)


@action("os-detach")
def _detach(call: Call, volume_id: str, args: dict[str, Any]) -> None:
    model(call).attachments.detach_action(call.ctx, volume_id, args.get("attachment_id"))


@action("os-force_detach")
def _force_detach(call: Call, volume_id: str, args: dict[str, Any]) -> None:
    common.require_admin(call.ctx, "volume_extension:volume_admin_actions:force_detach")
    model(call).attachments.detach_action(call.ctx, volume_id, args.get("attachment_id"))


@action("os-initialize_connection")
def _initialize(call: Call, volume_id: str, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "connection_info": model(call).attachments.initialize_connection(call.ctx, volume_id, args.get("connector"))
    }


@action("os-terminate_connection")
def _terminate(call: Call, volume_id: str, args: dict[str, Any]) -> None:
    model(call).attachments.terminate_connection(call.ctx, volume_id, args.get("connector"))
