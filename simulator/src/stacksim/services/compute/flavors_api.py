"""``/flavors``: list, detail, show, admin create/update/delete, extra specs and access.

Not implemented: flavor ``disabled`` (always false; Nova has no API to set it either).
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from stacksim import faults
from stacksim.services.compute import common, schemas
from stacksim.services.compute.common import api
from stacksim.services.compute.flavors import Flavors
from stacksim.web import Call, parse, reply

#: Nova's flavor sort keys -> record fields (``id`` is Nova's internal, creation-ordered id).
SORT_KEYS = {
    "flavorid": "id",
    "id": "serial",
    "name": "name",
    "memory_mb": "ram",
    "root_gb": "disk",
    "ephemeral_gb": "ephemeral",
    "vcpus": "vcpus",
    "swap": "swap",
    "rxtx_factor": "rxtx_factor",
    "is_public": "is_public",
    "disabled": "disabled",
    "description": "description",
    "created_at": "created_at",
}


def _model(call: Call) -> Flavors:
    return call.cloud.compute.flavors


def view(call: Call, record: dict[str, Any], detail: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {"id": record["id"], "name": record["name"]}
    if detail:
        swap = record["swap"] or (0 if common.since(call, "2.75") else "")
        body.update(
            {
                "ram": record["ram"],
                "disk": record["disk"],
                "swap": swap,
                "OS-FLV-EXT-DATA:ephemeral": record["ephemeral"],
                "OS-FLV-DISABLED:disabled": record["disabled"],
                "vcpus": record["vcpus"],
                "os-flavor-access:is_public": record["is_public"],
                "rxtx_factor": record["rxtx_factor"],
            }
        )
    body["links"] = common.links(call, "flavors", record["id"])
    if common.since(call, "2.55"):
        body["description"] = record["description"]
    if detail and common.since(call, "2.61"):
        body["extra_specs"] = dict(record["extra_specs"])
    return body


def _int_filter(call: Call, name: str) -> int | None:
    text = call.query.get(name)
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise faults.BadRequest(f"Invalid {name} filter [{text}]") from None


def _is_public(call: Call) -> bool | None:
    if not call.ctx.is_admin:
        return True
    text = call.query.get("is_public")
    if text is None:
        return True
    if text.lower() == "none":
        return None
    try:
        return common.flag(text, "is_public")
    except faults.BadRequest:
        raise faults.BadRequest(f"Invalid is_public filter [{text}]") from None


async def _list(call: Call, detail: bool) -> Response:
    records = _model(call).list(call.ctx, _is_public(call))
    min_ram, min_disk = _int_filter(call, "minRam"), _int_filter(call, "minDisk")
    if min_ram is not None:
        records = [r for r in records if r["ram"] >= min_ram]
    if min_disk is not None:
        records = [r for r in records if r["disk"] >= min_disk]
    items, more, _ = common.page(call, records, sort_keys=SORT_KEYS, default_sort=[("id", False)])
    body: dict[str, Any] = {"flavors": [view(call, r, detail) for r in items]}
    collection = "flavors/detail" if detail else "flavors"
    if found := common.next_links(call, collection, items, more):
        body["flavors_links"] = found
    return reply(body)


@api.route("/v2.1/flavors")
async def list_flavors(call: Call) -> Response:
    return await _list(call, detail=False)


@api.route("/v2.1/flavors/detail")
async def list_flavors_detail(call: Call) -> Response:
    return await _list(call, detail=True)


@api.route("/v2.1/flavors", methods=("POST",))
async def create_flavor(call: Call) -> Response:
    body = await call.body(schemas.FlavorCreate, "flavor")
    common.too_new("flavor", body, call, {"description": "2.55"})
    record = call.cloud.compute.create_flavor(call.ctx, body.request())
    return reply({"flavor": view(call, record)})


@api.route("/v2.1/flavors/{flavor_id}")
async def show_flavor(call: Call) -> Response:
    return reply({"flavor": view(call, _model(call).get(call.ctx, call.params["flavor_id"]))})


@api.route("/v2.1/flavors/{flavor_id}", methods=("PUT",))
async def update_flavor(call: Call) -> Response:
    common.require_version(call, "2.55")
    body = await call.body(schemas.FlavorUpdate, "flavor")
    record = _model(call).update(call.ctx, call.params["flavor_id"], body.description)
    return reply({"flavor": view(call, record)})


@api.route("/v2.1/flavors/{flavor_id}", methods=("DELETE",))
async def delete_flavor(call: Call) -> Response:
    _model(call).delete(call.ctx, call.params["flavor_id"])
    return reply(status=202)


# -- access to private flavors -------------------------------------------------------------------


@api.route("/v2.1/flavors/{flavor_id}/os-flavor-access")
async def list_access(call: Call) -> Response:
    return reply({"flavor_access": _model(call).access(call.ctx, call.params["flavor_id"])})


@api.route("/v2.1/flavors/{flavor_id}/action", methods=("POST",))
async def flavor_action(call: Call) -> Response:
    data = await call.json()
    if not isinstance(data, dict) or len(data) != 1:
        raise faults.BadRequest("There is no such action: the body must hold exactly one action.")
    (action,) = data
    if action not in ("addTenantAccess", "removeTenantAccess"):
        raise faults.BadRequest(f"There is no such action: {action}")
    tenant = getattr(parse(schemas.FlavorAction, data), action).tenant
    flavor_id = call.params["flavor_id"]
    if action == "addTenantAccess":
        found = _model(call).add_access(call.ctx, flavor_id, tenant)
    else:
        found = _model(call).remove_access(call.ctx, flavor_id, tenant)
    return reply({"flavor_access": found})


# -- extra specs -----------------------------------------------------------------------------------


def _spec_value(value: Any) -> str:
    return str(value)


@api.route("/v2.1/flavors/{flavor_id}/os-extra_specs")
async def list_extra_specs(call: Call) -> Response:
    return reply({"extra_specs": _model(call).extra_specs(call.ctx, call.params["flavor_id"])})


@api.route("/v2.1/flavors/{flavor_id}/os-extra_specs", methods=("POST",))
async def create_extra_specs(call: Call) -> Response:
    body = parse(schemas.ExtraSpecs, await call.json())
    specs = {k: _spec_value(v) for k, v in body.extra_specs.items()}
    _model(call).set_extra_specs(call.ctx, call.params["flavor_id"], specs)
    return reply({"extra_specs": specs})


@api.route("/v2.1/flavors/{flavor_id}/os-extra_specs/{key}")
async def show_extra_spec(call: Call) -> Response:
    key = call.params["key"]
    return reply({key: _model(call).extra_spec_of(call.ctx, call.params["flavor_id"], key)})


@api.route("/v2.1/flavors/{flavor_id}/os-extra_specs/{key}", methods=("PUT",))
async def update_extra_spec(call: Call) -> Response:
    key = call.params["key"]
    data = await call.json()
    if not isinstance(data, dict) or key not in data:
        raise faults.BadRequest("Request body and URI mismatch")
    if len(data) > 1:
        raise faults.BadRequest("Request body contains too many items")
    specs = {k: _spec_value(v) for k, v in parse(schemas.ExtraSpecs, {"extra_specs": data}).extra_specs.items()}
    _model(call).set_extra_specs(call.ctx, call.params["flavor_id"], specs, rule="update")
    return reply(specs)


@api.route("/v2.1/flavors/{flavor_id}/os-extra_specs/{key}", methods=("DELETE",))
async def delete_extra_spec(call: Call) -> Response:
    _model(call).delete_extra_spec(call.ctx, call.params["flavor_id"], call.params["key"])
    return reply(status=200)
