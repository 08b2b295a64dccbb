"""``/types``: volume types, their extra specs, project access and encryption (managed by admins),
and ``/default-types`` (3.62): the type each project's new volumes get."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from stacksim import faults
from stacksim.services.volume import common, routing, schemas, views
from stacksim.services.volume.routing import model, route, since, viewer
from stacksim.services.volume.types import USER_VISIBLE_SPECS, not_found
from stacksim.web import Call, reply

SORT_FIELDS = {"id": "id", "name": "name", "created_at": "created_at", "updated_at": "updated_at"}


def is_public_flag(value: Any) -> bool:
    try:
        return common.flag(value, "is_public")
    except faults.BadRequest:
        raise faults.BadRequest(f"Invalid value '{value}' for is_public. Accepted values: True or False.") from None


def is_public_query(call: Call) -> bool | None:
    """``?is_public=``: true (the default), false, or ``none`` for both."""
    text = call.query.get("is_public")
    if text is None:
        return True
    return None if text.lower() == "none" else is_public_flag(text)


# -- types ----------------------------------------------------------------------------------------------


@route("/types")
async def list_types(call: Call) -> Response:
    records = model(call).types.list(call.ctx, is_public_query(call))
    wanted = call.query.get("extra_specs")
    if wanted is not None and since(call, "3.52"):
        records = routing.metadata_filter(records, wanted, "extra_specs")
    page = routing.paginate(
        call, records, sort_fields=SORT_FIELDS, marker_missing=not_found, default_sort=[("created_at", False)]
    )
    shown = [views.volume_type(viewer(call), r) for r in page.items]
    return reply(routing.collection(call, "volume_types", page, shown))


@route("/types/default")
async def default_type(call: Call) -> Response:
    return reply({"volume_type": views.volume_type(viewer(call), model(call).types.default(call.ctx.project_id))})


@route("/types", methods=("POST",))
async def create_type(call: Call) -> Response:
    common.require_admin(call.ctx, "volume_extension:type_create")
    body = schemas.parse(schemas.TypeCreate, await routing.body_of(call, "volume_type"), "volume_type")
    given = body.model_fields_set
    public = (
        body.access_is_public if "access_is_public" in given else (body.is_public if "is_public" in given else True)
    )
    record = model(call).types.create(
        body.name if isinstance(body.name, str) else "",
        description=body.description,
        is_public=is_public_flag(public),
        specs=body.extra_specs or {},
    )
    return reply({"volume_type": views.volume_type(viewer(call), record)})


@route("/types/{type_id}")
async def show_type(call: Call) -> Response:
    return reply(
        {"volume_type": views.volume_type(viewer(call), model(call).types.get(call.ctx, call.params["type_id"]))}
    )


async def type_changes(call: Call, root: str, nothing: str) -> dict[str, Any]:
    """An update of a volume or group type: its new name, description and publicity (what was given)."""
    body = schemas.parse(schemas.TypeUpdate, await routing.body_of(call, root), root)
    given = body.model_fields_set
    if not given:
        raise faults.BadRequest(nothing)
    changes: dict[str, Any] = {"name": body.name}
    if "description" in given:
        changes["description"] = body.description
    if "is_public" in given:
        changes["is_public"] = is_public_flag(body.is_public)
    return changes


@route("/types/{type_id}", methods=("PUT",))
async def update_type(call: Call) -> Response:
    common.require_admin(call.ctx, "volume_extension:type_update")
    nothing = "Specify volume type name, description, is_public or a combination thereof."
    record = model(call).types.update(call.params["type_id"], **await type_changes(call, "volume_type", nothing))
    return reply({"volume_type": views.volume_type(viewer(call), record)})


@route("/types/{type_id}", methods=("DELETE",))
async def delete_type(call: Call) -> Response:
    common.require_admin(call.ctx, "volume_extension:type_delete")
    bs = model(call)
    type_id = call.params["type_id"]
    bs.types.delete(type_id, bs.volumes.of_type(type_id))
    return reply(status=202)


# -- extra specs ----------------------------------------------------------------------------------------


@route("/types/{type_id}/extra_specs")
async def list_extra_specs(call: Call) -> Response:
    record = model(call).types.get(call.ctx, call.params["type_id"])
    return reply({"extra_specs": model(call).types.visible_specs(call.ctx, record)})


@route("/types/{type_id}/extra_specs", methods=("POST",))
async def create_extra_specs(call: Call) -> Response:
    common.require_admin(call.ctx, "volume_extension:types_extra_specs:create")
    data = await call.json()
    if not isinstance(data, dict) or not isinstance(data.get("extra_specs"), dict):
        raise faults.BadRequest("Missing required element 'extra_specs' in request body.")
    return reply({"extra_specs": model(call).types.set_specs(call.params["type_id"], data["extra_specs"])})


@route("/types/{type_id}/extra_specs/{key}")
async def show_extra_spec(call: Call) -> Response:
    types = model(call).types
    record = types.get(call.ctx, call.params["type_id"])
    key = call.params["key"]
    if not call.ctx.is_admin and key not in USER_VISIBLE_SPECS:
        raise faults.NotFound(f"Volume Type {record['id']} has no extra specs with key {key}.")
    return reply({key: types.spec(record, key)})


async def single_spec(call: Call) -> dict[str, Any]:
    """The body of ``PUT .../<specs>/{key}``: exactly that one key."""
    key = call.params["key"]
    data = await call.json()
    if not isinstance(data, dict) or key not in data:
        raise faults.BadRequest("Request body and URI mismatch")
    if len(data) > 1:
        raise faults.BadRequest("Request body contains too many items")
    return data


@route("/types/{type_id}/extra_specs/{key}", methods=("PUT",))
async def update_extra_spec(call: Call) -> Response:
    common.require_admin(call.ctx, "volume_extension:types_extra_specs:update")
    return reply(model(call).types.set_specs(call.params["type_id"], await single_spec(call)))


@route("/types/{type_id}/extra_specs/{key}", methods=("DELETE",))
async def delete_extra_spec(call: Call) -> Response:
    common.require_admin(call.ctx, "volume_extension:types_extra_specs:delete")
    model(call).types.delete_spec(call.params["type_id"], call.params["key"])
    return reply(status=202)


# -- access to private types ------------------------------------------------------------------------------


@route("/types/{type_id}/os-volume-type-access")
async def list_access(call: Call) -> Response:
    common.require_admin(call.ctx, "volume_extension:volume_type_access:get_all_for_type")
    return reply({"volume_type_access": model(call).types.access(call.params["type_id"])})


@route("/types/{type_id}/action", methods=("POST",))
async def type_action(call: Call) -> Response:
    action, args = await routing.action_of(call)
    if action not in ("addProjectAccess", "removeProjectAccess"):
        raise routing.no_such_action(action)
    common.require_admin(call.ctx, f"volume_extension:volume_type_access:{action}")
    project = args.get("project") if isinstance(args, dict) else None
    if not isinstance(project, str) or not project:
        raise faults.BadRequest("Missing required element 'project' in request body.")
    types = model(call).types
    if action == "addProjectAccess":
        types.add_access(call.params["type_id"], project)
    else:
        types.remove_access(call.params["type_id"], project)
    return reply(status=202)


# -- encryption (admins) --------------------------------------------------------------------------------


def _encryption_admin(call: Call, verb: str) -> None:
    common.require_admin(call.ctx, f"volume_extension:volume_type_encryption:{verb}")


@route("/types/{type_id}/encryption")
async def show_encryption(call: Call) -> Response:
    _encryption_admin(call, "get")
    types = model(call).types
    record = types.existing(call.params["type_id"])
    return reply(views.encryption(types.encryption_of(record["id"])))


@route("/types/{type_id}/encryption/{key}")
async def show_encryption_item(call: Call) -> Response:
    _encryption_admin(call, "get")
    types = model(call).types
    type_id = types.existing(call.params["type_id"])["id"]
    spec = views.encryption(types.encryption_of(type_id))
    key = call.params["key"]
    if key not in spec:
        raise faults.NotFound(f"Volume type encryption for type {type_id} does not exist.")
    return reply({key: spec[key]})


async def _set_encryption(call: Call, creating: bool) -> Response:
    _encryption_admin(call, "create" if creating else "update")
    body = await routing.body_of(call, "encryption")
    spec = schemas.encryption_spec(body, creating)
    bs = model(call)
    type_id = call.params["type_id"]
    bs.types.set_encryption(type_id, spec, bs.volumes.of_type(type_id), create=creating)
    return reply({"encryption": spec})


@route("/types/{type_id}/encryption", methods=("POST",))
async def create_encryption(call: Call) -> Response:
    return await _set_encryption(call, creating=True)


@route("/types/{type_id}/encryption/{encryption_id}", methods=("PUT",))
async def update_encryption(call: Call) -> Response:
    return await _set_encryption(call, creating=False)


@route("/types/{type_id}/encryption/{encryption_id}", methods=("DELETE",))
async def delete_encryption(call: Call) -> Response:
    _encryption_admin(call, "delete")
    bs = model(call)
    type_id = call.params["type_id"]
    bs.types.delete_encryption(type_id, bs.volumes.of_type(type_id))
    return reply(status=202)


# -- per-project default types (3.62, admins) ---------------------------------------------------------------


@route("/default-types")
async def list_default_types(call: Call) -> Response:
    routing.require_version(call, "3.62")
    common.require_admin(call.ctx, "volume_extension:default_get_all")
    return reply({"default_types": [views.default_type(r) for r in model(call).types.project_defaults()]})


@route("/default-types/{target}")
async def show_default_type(call: Call) -> Response:
    routing.require_version(call, "3.62")
    common.require_admin(call.ctx, "volume_extension:default_get")
    bs = model(call)
    bs.check_project(call.params["target"])
    return reply({"default_type": views.default_type(bs.types.project_default(call.params["target"]))})


@route("/default-types/{target}", methods=("PUT",))
async def set_default_type(call: Call) -> Response:
    routing.require_version(call, "3.62")
    common.require_admin(call.ctx, "volume_extension:default_set_or_update")
    body = schemas.parse(schemas.DefaultType, await routing.body_of(call, "default_type"), "default_type")
    bs = model(call)
    bs.check_project(call.params["target"])
    record = bs.types.set_project_default(call.ctx, call.params["target"], body.volume_type)
    return reply({"default_type": views.default_type(record)})


@route("/default-types/{target}", methods=("DELETE",))
async def unset_default_type(call: Call) -> Response:
    routing.require_version(call, "3.62")
    common.require_admin(call.ctx, "volume_extension:default_unset")
    model(call).types.unset_project_default(call.params["target"])
    return reply(status=204)
