"""``/volumes``: create, list and ``detail``, show, update, delete, metadata and the actions.

Not implemented (400 "There is no such action"): ``revert``, ``os-reimage``,
``os-migrate_volume`` and ``os-migrate_volume_completion``, ``os-unmanage``,
``os-extend_volume_completion``.
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.responses import Response

from stacksim import faults
from stacksim.services.volume import api as common_api
from stacksim.services.volume import common
from stacksim.services.volume.api import model, route, since
from stacksim.services.volume.pools import BACKEND_HOST
from stacksim.web import Call, reply

#: The one volume service's uuid (``service_uuid``, 3.48).
SERVICE_UUID = str(uuid.uuid5(uuid.NAMESPACE_URL, f"stacksim:cinder-volume:{BACKEND_HOST}"))
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
#: The filters a member may use (Cinder's default ``resource_filters`` for volumes, and a few more).
FILTERS = (
    "name",
    "status",
    "metadata",
    "bootable",
    "migration_status",
    "availability_zone",
    "group_id",
    "size",
    "created_at",
    "updated_at",
    "user_id",
    "project_id",
    "volume_type",
    "volume_type_id",
    "glance_metadata",
    "consumes_quota",
)
CREATE_KEYS = frozenset(
    {
        "name",
        "description",
        "display_name",
        "display_description",
        "size",
        "availability_zone",
        "source_volid",
        "snapshot_id",
        "backup_id",
        "volume_type",
        "metadata",
        "imageRef",
        "image_id",
        "consistencygroup_id",
        "group_id",
        "multiattach",
    }
)


# -- views ---------------------------------------------------------------------------------------------


def attachment_views(call: Call, volume: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "server_id": a["instance_uuid"],
            "attachment_id": a["id"],
            "attached_at": a["attach_time"],
            "host_name": a["attached_host"],
            "volume_id": volume["id"],
            "device": a["mountpoint"],
            "id": volume["id"],
        }
        for a in model(call).attachments.attached(volume["id"])
    ]


def view(call: Call, record: dict[str, Any], detail: bool = True) -> dict[str, Any]:
    if not detail:
        return {"id": record["id"], "name": record["name"], "links": common_api.links(call, "volumes", record["id"])}
    ctx = call.ctx
    type_record = model(call).types.record(record["volume_type_id"] or "")
    body: dict[str, Any] = {
        "id": record["id"],
        "name": record["name"],
        "description": record["description"],
        "status": record["status"],
        "size": record["size"],
        "availability_zone": record["availability_zone"],
        "created_at": record["created_at"],
        "updated_at": record["updated_at"],
        "attachments": attachment_views(call, record),
        "volume_type": type_record["name"] if type_record else None,
        "snapshot_id": record["snapshot_id"],
        "source_volid": record["source_volid"],
        "metadata": dict(record["metadata"]),
        "links": common_api.links(call, "volumes", record["id"]),
        "user_id": record["user_id"],
        "bootable": "true" if record["bootable"] else "false",
        "encrypted": record["encrypted"],
        "replication_status": record["replication_status"],
        "consistencygroup_id": None,
        "multiattach": record["multiattach"],
        "os-vol-tenant-attr:tenant_id": record["project_id"],
    }
    if record.get("image_metadata"):
        body["volume_image_metadata"] = dict(record["image_metadata"])
    if ctx.is_admin:
        body["os-vol-host-attr:host"] = record["host"]
        body["os-vol-mig-status-attr:migstat"] = record["migration_status"]
        body["os-vol-mig-status-attr:name_id"] = None
        body["migration_status"] = record["migration_status"]
    if since(call, "3.13"):
        body["group_id"] = None
    if since(call, "3.21") and ctx.is_admin:
        body["provider_id"] = None
    if since(call, "3.48"):
        body["service_uuid"] = SERVICE_UUID if record["host"] else None
        body["shared_targets"] = False
    if since(call, "3.61") and ctx.is_admin:
        body["cluster_name"] = None
    if since(call, "3.63"):
        body["volume_type_id"] = record["volume_type_id"]
    if since(call, "3.65"):
        body["consumes_quota"] = record.get("consumes_quota", True)
    return body


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
    filters = common_api.check_filters(call, FILTERS)
    bs = model(call)
    found = records
    for key, wanted in filters.items():
        like = key.endswith("~") and since(call, "3.34")
        name = key.rstrip("~")
        if name == "name":
            found = [r for r in found if common_api.matches_text(r["name"], wanted, like)]
        elif name == "metadata":
            meta = common_api.dict_filter(wanted)
            found = [r for r in found if all(r["metadata"].get(k) == str(v) for k, v in meta.items())]
        elif name == "glance_metadata":
            meta = common_api.dict_filter(wanted)
            found = [r for r in found if all((r.get("image_metadata") or {}).get(k) == str(v) for k, v in meta.items())]
        elif name == "bootable":
            value = common.flag(wanted, "bootable")
            found = [r for r in found if r["bootable"] == value]
        elif name == "consumes_quota":
            value = common.flag(wanted, "consumes_quota")
            found = [r for r in found if r.get("consumes_quota", True) == value]
        elif name == "size":
            found = [r for r in found if str(r["size"]) == wanted]
        elif name in ("volume_type", "volume_type_id"):
            ids = {t["id"] for t in bs.types.list(call.ctx, None) if wanted in (t["id"], t["name"])}
            found = [r for r in found if r["volume_type_id"] in ids]
        elif name in ("created_at", "updated_at"):
            found = [r for r in found if _time_filter(r.get(name), wanted)]
        elif name == "group_id":
            found = []
        elif name in ("status", "availability_zone", "user_id", "project_id", "migration_status", "host"):
            found = [r for r in found if common_api.matches_text(r.get(name), wanted, like)]
        elif name in ("id",):
            found = [r for r in found if r["id"] == wanted]
    return found


common_api.list_routes("volumes", lambda bs: bs.volumes, select, SORT_FIELDS, view)


@route("/volumes/summary")
async def volumes_summary(call: Call) -> Response:
    common_api.require_version(call, "3.12")
    records = model(call).volumes.list(call.ctx, common_api.all_tenants(call))
    summary: dict[str, Any] = {"total_size": sum(r["size"] for r in records), "total_count": len(records)}
    if since(call, "3.36"):
        meta: dict[str, list[str]] = {}
        for record in records:
            for key, value in record["metadata"].items():
                if value not in meta.setdefault(key, []):
                    meta[key].append(value)
        summary["metadata"] = meta
    return reply({"volume-summary": summary})


# -- create, show, update, delete ---------------------------------------------------------------------------


@route("/volumes", methods=("POST",))
async def create_volume(call: Call) -> Response:
    data = await call.json()
    if not isinstance(data, dict) or not isinstance(data.get("volume"), dict):
        raise faults.BadRequest("Missing required element 'volume' in request body.")
    body = data["volume"]
    if since(call, "3.53"):
        extra = sorted(set(body) - CREATE_KEYS)
        if extra:
            raise faults.BadRequest(
                "Invalid input for field/attribute volume. Value: "
                f"{body}. Additional properties are not allowed ({', '.join(repr(k) for k in extra)} were unexpected)"
            )
    for key in ("consistencygroup_id", "group_id"):
        if body.get(key):
            raise common.invalid_input(f"{key}: volume groups are not implemented by this cloud.")
    record = model(call).volumes.create(
        call.ctx,
        size=body.get("size"),
        name=body.get("name", body.get("display_name")),
        description=body.get("description", body.get("display_description")),
        volume_type=body.get("volume_type") or None,
        availability_zone=body.get("availability_zone") or None,
        metadata=body.get("metadata"),
        snapshot_id=body.get("snapshot_id") or None,
        source_volid=body.get("source_volid") or None,
        image_ref=body.get("imageRef") or body.get("image_id") or None,
        backup_id=(body.get("backup_id") or None) if since(call, "3.47") else None,
        multiattach=common.flag(body.get("multiattach") or False, "multiattach"),
    )
    return reply({"volume": view(call, record)}, status=202)


@route("/volumes/{volume_id}")
async def show_volume(call: Call) -> Response:
    return reply({"volume": view(call, model(call).volumes.get(call.ctx, call.params["volume_id"]))})


@route("/volumes/{volume_id}", methods=("PUT",))
async def update_volume(call: Call) -> Response:
    body = await common_api.body_of(call, "volume")
    changes = common_api.name_changes(body)
    if "metadata" in body:
        changes["metadata"] = body["metadata"]
    if since(call, "3.53") and not changes:
        raise common_api.nothing_to_update("volume", body)
    record = model(call).volumes.update(call.ctx, call.params["volume_id"], changes)
    return reply({"volume": view(call, record)})


@route("/volumes/{volume_id}", methods=("DELETE",))
async def delete_volume(call: Call) -> Response:
    cascade = common_api.flag_query(call, "cascade")
    force = common_api.flag_query(call, "force") if since(call, "3.23") else False
    model(call).volumes.delete(call.ctx, call.params["volume_id"], cascade=cascade, force=force)
    return reply(status=202)


# -- metadata ---------------------------------------------------------------------------------------------


common_api.metadata_routes("volumes", lambda bs: bs.volumes)


# -- actions ---------------------------------------------------------------------------------------------


def _args(value: Any, action: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise faults.BadRequest(f"Invalid input for field/attribute {action}. Value: {value}. Expected a dict.")
    return value


def _required(args: dict[str, Any], key: str) -> Any:
    if key not in args:
        raise faults.BadRequest(f"Must specify {key} in request.")
    return args[key]


@route("/volumes/{volume_id}/action", methods=("POST",))
async def volume_action(call: Call) -> Response:
    data = await call.json()
    if not isinstance(data, dict) or not data:
        raise faults.BadRequest("Malformed request body")
    action = next(iter(data))
    handler = ACTIONS.get(action)
    if handler is None:
        raise faults.BadRequest(f"There is no such action: {action}")
    return await handler(call, call.params["volume_id"], data[action])


async def _extend(call: Call, volume_id: str, value: Any) -> Response:
    args = _args(value, "os-extend")
    if "new_size" not in args:
        raise faults.BadRequest("Invalid input for field/attribute os-extend. 'new_size' is a required property")
    model(call).volumes.extend(call.ctx, volume_id, args["new_size"], attached_ok=since(call, "3.42"))
    return reply(status=202)


async def _reset_status(call: Call, volume_id: str, value: Any) -> Response:
    model(call).volumes.reset_status(call.ctx, volume_id, _args(value, "os-reset_status"))
    return reply(status=202)


async def _force_delete(call: Call, volume_id: str, value: Any) -> Response:
    model(call).volumes.delete(call.ctx, volume_id, force=True)
    return reply(status=202)


async def _set_bootable(call: Call, volume_id: str, value: Any) -> Response:
    bootable = _required(_args(value, "os-set_bootable"), "bootable")
    model(call).volumes.set_bootable(call.ctx, volume_id, bootable)
    return reply(status=200)


async def _readonly(call: Call, volume_id: str, value: Any) -> Response:
    readonly = _required(_args(value, "os-update_readonly_flag"), "readonly")
    model(call).volumes.set_readonly(call.ctx, volume_id, readonly)
    return reply(status=202)


async def _upload(call: Call, volume_id: str, value: Any) -> Response:
    args = _args(value, "os-volume_upload_image")
    extra: dict[str, Any] = {}
    if since(call, "3.1"):
        if "visibility" in args:
            extra["visibility"] = args["visibility"]
        if "protected" in args:
            extra["protected"] = common.flag(args["protected"], "protected")
    found = model(call).volumes.upload_to_image(
        call.ctx,
        volume_id,
        image_name=args.get("image_name"),
        disk_format=args.get("disk_format") or "raw",
        container_format=args.get("container_format") or "bare",
        **extra,
    )
    return reply({"os-volume_upload_image": found}, status=202)


async def _retype(call: Call, volume_id: str, value: Any) -> Response:
    args = _args(value, "os-retype")
    model(call).volumes.retype(call.ctx, volume_id, args.get("new_type"), args.get("migration_policy"))
    return reply(status=202)


async def _set_image_metadata(call: Call, volume_id: str, value: Any) -> Response:
    args = _args(value, "os-set_image_metadata")
    if "metadata" not in args:
        raise faults.BadRequest("Malformed request body")
    found = model(call).volumes.set_image_metadata(call.ctx, volume_id, args["metadata"])
    return reply({"metadata": found})


async def _unset_image_metadata(call: Call, volume_id: str, value: Any) -> Response:
    args = _args(value, "os-unset_image_metadata")
    model(call).volumes.unset_image_metadata(call.ctx, volume_id, args.get("key"))
    return reply(status=200)


async def _show_image_metadata(call: Call, volume_id: str, value: Any) -> Response:
    record = model(call).volumes.get(call.ctx, volume_id)
    return reply({"metadata": dict(record.get("image_metadata") or {})})


async def _reserve(call: Call, volume_id: str, value: Any) -> Response:
    model(call).attachments.reserve(call.ctx, volume_id)
    return reply(status=202)


async def _unreserve(call: Call, volume_id: str, value: Any) -> Response:
    model(call).attachments.unreserve(call.ctx, volume_id)
    return reply(status=202)


async def _attach(call: Call, volume_id: str, value: Any) -> Response:
    args = _args(value, "os-attach")
    model(call).attachments.attach_action(
        call.ctx,
        volume_id,
        instance_uuid=args.get("instance_uuid"),
        host_name=args.get("host_name"),
        mountpoint=args.get("mountpoint"),
        mode=args.get("mode"),
    )
    return reply(status=202)


async def _begin_detaching(call: Call, volume_id: str, value: Any) -> Response:
    model(call).attachments.begin_detaching(call.ctx, volume_id)
    return reply(status=202)


async def _roll_detaching(call: Call, volume_id: str, value: Any) -> Response:
    model(call).attachments.roll_detaching(call.ctx, volume_id)
    return reply(status=202)


async def _detach(call: Call, volume_id: str, value: Any) -> Response:
    args = _args(value, "os-detach")
    model(call).attachments.detach_action(call.ctx, volume_id, args.get("attachment_id"))
    return reply(status=202)


async def _force_detach(call: Call, volume_id: str, value: Any) -> Response:
    common.require_admin(call.ctx, "volume_extension:volume_admin_actions:force_detach")
    args = _args(value, "os-force_detach")
    model(call).attachments.detach_action(call.ctx, volume_id, args.get("attachment_id"))
    return reply(status=202)


async def _initialize(call: Call, volume_id: str, value: Any) -> Response:
    args = _args(value, "os-initialize_connection")
    info = model(call).attachments.initialize_connection(call.ctx, volume_id, args.get("connector"))
    return reply({"connection_info": info})


async def _terminate(call: Call, volume_id: str, value: Any) -> Response:
    args = _args(value, "os-terminate_connection")
    model(call).attachments.terminate_connection(call.ctx, volume_id, args.get("connector"))
    return reply(status=202)


ACTIONS = {
    "os-extend": _extend,
    "os-reset_status": _reset_status,
    "os-force_delete": _force_delete,
    "os-set_bootable": _set_bootable,
    "os-update_readonly_flag": _readonly,
    "os-volume_upload_image": _upload,
    "os-retype": _retype,
    "os-set_image_metadata": _set_image_metadata,
    "os-unset_image_metadata": _unset_image_metadata,
    "os-show_image_metadata": _show_image_metadata,
    "os-reserve": _reserve,
    "os-unreserve": _unreserve,
    "os-attach": _attach,
    "os-begin_detaching": _begin_detaching,
    "os-roll_detaching": _roll_detaching,
    "os-detach": _detach,
    "os-force_detach": _force_detach,
    "os-initialize_connection": _initialize,
    "os-terminate_connection": _terminate,
}
