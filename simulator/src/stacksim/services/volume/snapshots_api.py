"""``/snapshots``: create, list and ``detail``, show, update, delete, metadata, admin actions."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from stacksim import faults
from stacksim.services.volume import api as common_api
from stacksim.services.volume import common
from stacksim.services.volume.api import model, route, since
from stacksim.services.volume.snapshots import not_found
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


async def _list(call: Call, detail: bool) -> Response:
    records = select(call, model(call).snapshots.list(call.ctx, common_api.all_tenants(call)))
    page = common_api.paginate(call, records, sort_fields=SORT_FIELDS, marker_missing=not_found)
    return reply(common_api.collection(call, "snapshots", page, [view(call, r, detail) for r in page.items]))


@route("/snapshots")
async def list_snapshots(call: Call) -> Response:
    return await _list(call, detail=False)


@route("/snapshots/detail")
async def list_snapshots_detail(call: Call) -> Response:
    return await _list(call, detail=True)


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
    changes: dict[str, Any] = {}
    for key, alias in (("name", "display_name"), ("description", "display_description")):
        if key in body:
            changes[key] = body[key]
        elif alias in body:
            changes[key] = body[alias]
    if not changes:
        raise faults.BadRequest(
            f"Invalid input for field/attribute snapshot. Value: {body}. {body} does not have enough properties"
        )
    record = model(call).snapshots.update(call.ctx, call.params["snapshot_id"], changes)
    return reply({"snapshot": view(call, record)})


@route("/snapshots/{snapshot_id}", methods=("DELETE",))
async def delete_snapshot(call: Call) -> Response:
    model(call).snapshots.delete(call.ctx, call.params["snapshot_id"])
    return reply(status=202)


@route("/snapshots/{snapshot_id}/action", methods=("POST",))
async def snapshot_action(call: Call) -> Response:
    data = await call.json()
    if not isinstance(data, dict) or not data:
        raise faults.BadRequest("Malformed request body")
    action = next(iter(data))
    snapshot_id = call.params["snapshot_id"]
    if action == "os-reset_status":
        args = data[action] if isinstance(data[action], dict) else {}
        model(call).snapshots.reset_status(call.ctx, snapshot_id, args.get("status"))
    elif action == "os-force_delete":
        model(call).snapshots.delete(call.ctx, snapshot_id, force=True)
    else:
        raise faults.BadRequest(f"There is no such action: {action}")
    return reply(status=202)


# -- metadata -------------------------------------------------------------------------------------------


@route("/snapshots/{snapshot_id}/metadata")
async def show_metadata(call: Call) -> Response:
    record = model(call).snapshots.get(call.ctx, call.params["snapshot_id"])
    return reply({"metadata": dict(record["metadata"])})


async def _metadata_body(call: Call) -> Any:
    data = await call.json()
    if not isinstance(data, dict) or "metadata" not in data:
        raise faults.BadRequest("Malformed request body")
    return data["metadata"]


@route("/snapshots/{snapshot_id}/metadata", methods=("POST",))
async def create_metadata(call: Call) -> Response:
    meta = await _metadata_body(call)
    return reply({"metadata": model(call).snapshots.set_metadata(call.ctx, call.params["snapshot_id"], meta)})


@route("/snapshots/{snapshot_id}/metadata", methods=("PUT",))
async def replace_metadata(call: Call) -> Response:
    meta = await _metadata_body(call)
    found = model(call).snapshots.set_metadata(call.ctx, call.params["snapshot_id"], meta, replace=True)
    return reply({"metadata": found})


@route("/snapshots/{snapshot_id}/metadata/{key}")
async def show_metadata_item(call: Call) -> Response:
    bs = model(call)
    record = bs.snapshots.get(call.ctx, call.params["snapshot_id"])
    key = call.params["key"]
    return reply({"meta": {key: bs.snapshots.metadata_item(record, key)}})


@route("/snapshots/{snapshot_id}/metadata/{key}", methods=("PUT",))
async def update_metadata_item(call: Call) -> Response:
    key = call.params["key"]
    data = await call.json()
    meta = data.get("meta") if isinstance(data, dict) else None
    if not isinstance(meta, dict):
        raise faults.BadRequest("Malformed request body")
    if key not in meta:
        raise faults.BadRequest("Request body and URI mismatch")
    if len(meta) > 1:
        raise faults.BadRequest("Request body contains too many items")
    model(call).snapshots.set_metadata(call.ctx, call.params["snapshot_id"], meta)
    return reply({"meta": meta})


@route("/snapshots/{snapshot_id}/metadata/{key}", methods=("DELETE",))
async def delete_metadata_item(call: Call) -> Response:
    model(call).snapshots.delete_metadata(call.ctx, call.params["snapshot_id"], call.params["key"])
    return reply(status=200)
