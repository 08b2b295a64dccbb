"""``/group_types`` (3.11, with ``group_specs``), ``/groups`` (3.13) and ``/group_snapshots`` (3.14).

Group types are managed by admins (only admins see ``group_specs``); groups and
group snapshots by their project's members. Group replication actions answer
400 (groups here have no replication targets).
"""

from __future__ import annotations

from starlette.responses import Response

from stacksim import faults
from stacksim.services.volume import common, routing, schemas, views
from stacksim.services.volume.group_types import not_found as group_type_not_found
from stacksim.services.volume.routing import model, require_version, route, since, viewer
from stacksim.services.volume.types_api import is_public_flag, is_public_query, single_spec, type_changes
from stacksim.web import Call, reply

SORT_FIELDS = {"id": "id", "name": "name", "status": "status", "created_at": "created_at", "updated_at": "updated_at"}
TYPE_RULE = "group:group_types_manage"
SPEC_RULE = "group:group_types_specs"

# -- group types ----------------------------------------------------------------------------------------------


@route("/group_types")
async def list_group_types(call: Call) -> Response:
    require_version(call, "3.11")
    records = model(call).group_types.list(call.ctx, is_public_query(call))
    page = routing.paginate(
        call,
        records,
        sort_fields=SORT_FIELDS,
        marker_missing=group_type_not_found,
        default_sort=[("created_at", False)],
    )
    shown = [views.group_type(viewer(call), r) for r in page.items]
    return reply(routing.collection(call, "group_types", page, shown, "group_type_links"))


@route("/group_types/default")
async def default_group_type(call: Call) -> Response:
    require_version(call, "3.11")
    return reply({"group_type": views.group_type(viewer(call), model(call).group_types.default())})


@route("/group_types", methods=("POST",))
async def create_group_type(call: Call) -> Response:
    require_version(call, "3.11")
    common.require_admin(call.ctx, "group:group_types:create")
    body = schemas.parse(schemas.GroupTypeCreate, await routing.body_of(call, "group_type"), "group_type")
    record = model(call).group_types.create(
        body.name,
        description=body.description,
        is_public=is_public_flag(body.is_public) if body.is_public is not None else True,
        specs=body.group_specs or {},
    )
    return reply({"group_type": views.group_type(viewer(call), record)})


@route("/group_types/{type_id}")
async def show_group_type(call: Call) -> Response:
    require_version(call, "3.11")
    record = model(call).group_types.get(call.ctx, call.params["type_id"])
    return reply({"group_type": views.group_type(viewer(call), record)})


@route("/group_types/{type_id}", methods=("PUT",))
async def update_group_type(call: Call) -> Response:
    require_version(call, "3.11")
    common.require_admin(call.ctx, "group:group_types:update")
    nothing = "Specify group type name, description or a combination thereof."
    record = model(call).group_types.update(call.params["type_id"], **await type_changes(call, "group_type", nothing))
    return reply({"group_type": views.group_type(viewer(call), record)})


@route("/group_types/{type_id}", methods=("DELETE",))
async def delete_group_type(call: Call) -> Response:
    require_version(call, "3.11")
    common.require_admin(call.ctx, "group:group_types:delete")
    bs = model(call)
    bs.group_types.delete(call.params["type_id"], bs.groups.of_type(call.params["type_id"]))
    return reply(status=202)


@route("/group_types/{type_id}/group_specs")
async def list_group_specs(call: Call) -> Response:
    require_version(call, "3.11")
    common.require_admin(call.ctx, f"{SPEC_RULE}:get_all")
    record = model(call).group_types.existing(call.params["type_id"])
    return reply({"group_specs": dict(record["group_specs"])})


@route("/group_types/{type_id}/group_specs", methods=("POST",))
async def create_group_specs(call: Call) -> Response:
    require_version(call, "3.11")
    common.require_admin(call.ctx, f"{SPEC_RULE}:create")
    data = await call.json()
    if not isinstance(data, dict) or not isinstance(data.get("group_specs"), dict):
        raise faults.BadRequest("Missing required element 'group_specs' in request body.")
    return reply({"group_specs": model(call).group_types.set_specs(call.params["type_id"], data["group_specs"])})


@route("/group_types/{type_id}/group_specs/{key}")
async def show_group_spec(call: Call) -> Response:
    require_version(call, "3.11")
    common.require_admin(call.ctx, f"{SPEC_RULE}:get")
    types = model(call).group_types
    key = call.params["key"]
    return reply({key: types.spec(types.existing(call.params["type_id"]), key)})


@route("/group_types/{type_id}/group_specs/{key}", methods=("PUT",))
async def update_group_spec(call: Call) -> Response:
    require_version(call, "3.11")
    common.require_admin(call.ctx, f"{SPEC_RULE}:update")
    return reply(model(call).group_types.set_specs(call.params["type_id"], await single_spec(call)))


@route("/group_types/{type_id}/group_specs/{key}", methods=("DELETE",))
async def delete_group_spec(call: Call) -> Response:
    require_version(call, "3.11")
    common.require_admin(call.ctx, f"{SPEC_RULE}:delete")
    model(call).group_types.delete_spec(call.params["type_id"], call.params["key"])
    return reply(status=202)


# -- groups --------------------------------------------------------------------------------------------------


def select_groups(call: Call, records: list[dict]) -> list[dict]:
    filters = routing.check_filters(call, "group", ("status", "project_id"))
    return routing.text_filters(call, records, filters, ("name", "status", "project_id", "id"))


routing.list_routes("groups", lambda bs: bs.groups, select_groups, SORT_FIELDS, views.group, first="3.13")


@route("/groups/{group_id}")
async def show_group(call: Call) -> Response:
    require_version(call, "3.13")
    record = model(call).groups.get(call.ctx, call.params["group_id"])
    return reply({"group": views.group(viewer(call), record, list_volume=routing.flag_query(call, "list_volume"))})


@route("/groups", methods=("POST",))
async def create_group(call: Call) -> Response:
    require_version(call, "3.13")
    record = model(call).groups.create(call.ctx, schemas.new_group(await routing.body_of(call, "group")))
    return reply({"group": views.group(viewer(call), record, detail=False)}, status=202)


@route("/groups/action", methods=("POST",))
async def create_group_from_source(call: Call) -> Response:
    require_version(call, "3.14")
    action, value = await routing.action_of(call)
    if action != "create-from-src":
        raise routing.no_such_action(action)
    record = model(call).groups.create_from_source(call.ctx, schemas.group_from_source(value))
    return reply({"group": views.group(viewer(call), record, detail=False)}, status=202)


@route("/groups/{group_id}", methods=("PUT",))
async def update_group(call: Call) -> Response:
    require_version(call, "3.13")
    changes = schemas.group_changes(await routing.body_of(call, "group"))
    model(call).groups.change(call.ctx, call.params["group_id"], changes)
    return reply(status=202)


@route("/groups/{group_id}/action", methods=("POST",))
async def group_action(call: Call) -> Response:
    require_version(call, "3.13")
    action, value = await routing.action_of(call)
    groups, group_id = model(call).groups, call.params["group_id"]
    if action == "delete":
        body = schemas.parse(schemas.GroupDelete, value or {}, "delete")
        groups.delete(call.ctx, group_id, common.flag(body.delete_volumes or False, "delete-volumes"))
    elif action == "reset_status" and since(call, "3.20"):
        groups.reset_status(call.ctx, group_id, routing.args_of(value, action).get("status"))
    elif action in ("enable_replication", "disable_replication", "failover_replication") and since(call, "3.38"):
        groups.get(call.ctx, group_id)
        raise faults.BadRequest(f"Invalid group type: Group {group_id} is not a replication group type.")
    elif action == "list_replication_targets" and since(call, "3.38"):
        groups.get(call.ctx, group_id)
        return reply({"replication_targets": []})
    else:
        raise routing.no_such_action(action)
    return reply(status=202)


# -- group snapshots -----------------------------------------------------------------------------------------


def select_group_snapshots(call: Call, records: list[dict]) -> list[dict]:
    filters = routing.check_filters(call, "group_snapshot", ("project_id",))
    return routing.text_filters(call, records, filters, ("name", "status", "group_id", "project_id", "id"))


routing.list_routes(
    "group_snapshots",
    lambda bs: bs.group_snapshots,
    select_group_snapshots,
    SORT_FIELDS,
    views.group_snapshot,
    first="3.14",
)
routing.item_routes(
    "group_snapshots", "group_snapshot", lambda bs: bs.group_snapshots, views.group_snapshot, first="3.14"
)
routing.admin_action_route("group_snapshots", lambda bs: bs.group_snapshots, first="3.19", force_delete=False)


@route("/group_snapshots", methods=("POST",))
async def create_group_snapshot(call: Call) -> Response:
    require_version(call, "3.14")
    body = schemas.parse(schemas.GroupSnapshotCreate, await routing.body_of(call, "group_snapshot"), "group_snapshot")
    record = model(call).group_snapshots.create(call.ctx, body.group_id, body.name, body.description)
    return reply({"group_snapshot": views.group_snapshot(viewer(call), record, detail=False)}, status=202)
