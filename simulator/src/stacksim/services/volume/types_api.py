"""``/types``: volume types, their extra specs and project access (managed by admins).

Not implemented: encryption types (``/types/{id}/encryption``), per-project
default types (``/default-types``, 3.62).
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from stacksim import faults
from stacksim.auth import Context
from stacksim.services.volume import api as common_api
from stacksim.services.volume import common
from stacksim.services.volume.api import model, route, since
from stacksim.services.volume.types import USER_VISIBLE_SPECS, not_found
from stacksim.web import Call, reply

SORT_FIELDS = {"id": "id", "name": "name", "created_at": "created_at", "updated_at": "updated_at"}


def view(ctx: Context, record: dict[str, Any]) -> dict[str, Any]:
    body = {
        "id": record["id"],
        "name": record["name"],
        "description": record["description"],
        "is_public": record["is_public"],
        "os-volume-type-access:is_public": record["is_public"],
        "extra_specs": model_specs(ctx, record),
    }
    if ctx.is_admin:
        body["qos_specs_id"] = record.get("qos_specs_id")
    return body


def model_specs(ctx: Context, record: dict[str, Any]) -> dict[str, str]:
    if ctx.is_admin:
        return dict(record["extra_specs"])
    return {k: v for k, v in record["extra_specs"].items() if k in USER_VISIBLE_SPECS}


def _is_public_param(value: Any) -> bool:
    try:
        return common.flag(value, "is_public")
    except faults.BadRequest:
        raise faults.BadRequest(f"Invalid value '{value}' for is_public. Accepted values: True or False.") from None


# -- types ----------------------------------------------------------------------------------------------


@route("/types")
async def list_types(call: Call) -> Response:
    text = call.query.get("is_public")
    if text is None:
        is_public: bool | None = True
    elif text.lower() == "none":
        is_public = None
    else:
        is_public = _is_public_param(text)
    records = model(call).types.list(call.ctx, is_public)
    wanted = call.query.get("extra_specs")
    if wanted is not None and since(call, "3.52"):
        specs = common_api.dict_filter(wanted)
        records = [r for r in records if all(r["extra_specs"].get(k) == str(v) for k, v in specs.items())]
    page = common_api.paginate(
        call, records, sort_fields=SORT_FIELDS, marker_missing=not_found, default_sort=[("created_at", False)]
    )
    return reply(common_api.collection(call, "volume_types", page, [view(call.ctx, r) for r in page.items]))


@route("/types/default")
async def default_type(call: Call) -> Response:
    return reply({"volume_type": view(call.ctx, model(call).types.default())})


@route("/types", methods=("POST",))
async def create_type(call: Call) -> Response:
    common.require_admin(call.ctx, "volume_extension:type_create")
    body = await common_api.body_of(call, "volume_type")
    public = body.get("os-volume-type-access:is_public", body.get("is_public", True))
    record = model(call).types.create(
        body.get("name") if isinstance(body.get("name"), str) else "",
        description=common.check_name(body.get("description"), "description"),
        is_public=_is_public_param(public),
        extra_specs=body.get("extra_specs") or {},
    )
    return reply({"volume_type": view(call.ctx, record)})


@route("/types/{type_id}")
async def show_type(call: Call) -> Response:
    return reply({"volume_type": view(call.ctx, model(call).types.get(call.ctx, call.params["type_id"]))})


@route("/types/{type_id}", methods=("PUT",))
async def update_type(call: Call) -> Response:
    common.require_admin(call.ctx, "volume_extension:type_update")
    body = await common_api.body_of(call, "volume_type")
    if not any(k in body for k in ("name", "description", "is_public")):
        raise faults.BadRequest("Specify volume type name, description, is_public or a combination thereof.")
    name = body.get("name")
    if "name" in body and not isinstance(name, str):
        raise faults.BadRequest("Invalid input for field/attribute name. Expected a string.")
    kwargs: dict[str, Any] = {"name": name}
    if "description" in body:
        kwargs["description"] = common.check_name(body["description"], "description")
    if "is_public" in body:
        kwargs["is_public"] = _is_public_param(body["is_public"])
    record = model(call).types.update(call.params["type_id"], **kwargs)
    return reply({"volume_type": view(call.ctx, record)})


@route("/types/{type_id}", methods=("DELETE",))
async def delete_type(call: Call) -> Response:
    common.require_admin(call.ctx, "volume_extension:type_delete")
    model(call).types.delete(call.params["type_id"])
    return reply(status=202)


# -- extra specs ----------------------------------------------------------------------------------------


@route("/types/{type_id}/extra_specs")
async def list_extra_specs(call: Call) -> Response:
    record = model(call).types.get(call.ctx, call.params["type_id"])
    return reply({"extra_specs": model_specs(call.ctx, record)})


@route("/types/{type_id}/extra_specs", methods=("POST",))
async def create_extra_specs(call: Call) -> Response:
    common.require_admin(call.ctx, "volume_extension:types_extra_specs:create")
    data = await call.json()
    if not isinstance(data, dict) or not isinstance(data.get("extra_specs"), dict):
        raise faults.BadRequest("Missing required element 'extra_specs' in request body.")
    specs = model(call).types.set_extra_specs(call.params["type_id"], data["extra_specs"])
    return reply({"extra_specs": specs})


@route("/types/{type_id}/extra_specs/{key}")
async def show_extra_spec(call: Call) -> Response:
    types = model(call).types
    record = types.get(call.ctx, call.params["type_id"])
    key = call.params["key"]
    if not call.ctx.is_admin and key not in USER_VISIBLE_SPECS:
        raise faults.NotFound(f"Volume Type {record['id']} has no extra specs with key {key}.")
    return reply({key: types.extra_spec(record, key)})


@route("/types/{type_id}/extra_specs/{key}", methods=("PUT",))
async def update_extra_spec(call: Call) -> Response:
    common.require_admin(call.ctx, "volume_extension:types_extra_specs:update")
    key = call.params["key"]
    data = await call.json()
    if not isinstance(data, dict) or key not in data:
        raise faults.BadRequest("Request body and URI mismatch")
    if len(data) > 1:
        raise faults.BadRequest("Request body contains too many items")
    specs = model(call).types.set_extra_specs(call.params["type_id"], data)
    return reply(specs)


@route("/types/{type_id}/extra_specs/{key}", methods=("DELETE",))
async def delete_extra_spec(call: Call) -> Response:
    common.require_admin(call.ctx, "volume_extension:types_extra_specs:delete")
    model(call).types.delete_extra_spec(call.params["type_id"], call.params["key"])
    return reply(status=202)


# -- access to private types ------------------------------------------------------------------------------


@route("/types/{type_id}/os-volume-type-access")
async def list_access(call: Call) -> Response:
    common.require_admin(call.ctx, "volume_extension:volume_type_access:get_all_for_type")
    return reply({"volume_type_access": model(call).types.access(call.params["type_id"])})


@route("/types/{type_id}/action", methods=("POST",))
async def type_action(call: Call) -> Response:
    data = await call.json()
    if not isinstance(data, dict) or not data:
        raise faults.BadRequest("Malformed request body")
    action = next(iter(data))
    if action not in ("addProjectAccess", "removeProjectAccess"):
        raise faults.BadRequest(f"There is no such action: {action}")
    common.require_admin(call.ctx, f"volume_extension:volume_type_access:{action}")
    args = data[action]
    project = args.get("project") if isinstance(args, dict) else None
    if not isinstance(project, str) or not project:
        raise faults.BadRequest("Missing required element 'project' in request body.")
    types = model(call).types
    if action == "addProjectAccess":
        types.add_access(call.params["type_id"], project)
    else:
        types.remove_access(call.params["type_id"], project)
    return reply(status=202)
