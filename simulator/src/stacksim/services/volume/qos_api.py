"""``/qos-specs``: QoS specs and their association with volume types (admins only)."""

from __future__ import annotations

from starlette.responses import Response

from stacksim import faults
from stacksim.services.volume import common, routing
from stacksim.services.volume.routing import model, route
from stacksim.services.volume.views import qos_specs as view
from stacksim.web import Call, reply

RULE = "volume_extension:qos_specs_manage"
SORT_FIELDS = {"id": "id", "name": "name", "consumer": "consumer", "created_at": "created_at"}


def _links(call: Call, qos_id: str) -> list[dict[str, str]]:
    return routing.viewer(call).links("qos-specs", qos_id)


@route("/qos-specs")
async def list_qos(call: Call) -> Response:
    common.require_admin(call.ctx, f"{RULE}:get_all")
    records = model(call).qos.list()

    def missing(marker: str) -> faults.ApiError:
        return faults.NotFound(f"No such QoS spec {marker}.")

    page = routing.paginate(
        call, records, sort_fields=SORT_FIELDS, marker_missing=missing, default_sort=[("created_at", False)]
    )
    return reply(routing.collection(call, "qos_specs", page, [view(r) for r in page.items]))


@route("/qos-specs", methods=("POST",))
async def create_qos(call: Call) -> Response:
    common.require_admin(call.ctx, f"{RULE}:create")
    body = await routing.body_of(call, "qos_specs")
    specs = dict(body)
    name = specs.pop("name", None)
    record = model(call).qos.create(name, specs)
    return reply({"qos_specs": view(record), "links": _links(call, record["id"])})


@route("/qos-specs/{qos_id}")
async def show_qos(call: Call) -> Response:
    common.require_admin(call.ctx, f"{RULE}:get")
    record = model(call).qos.get(call.params["qos_id"])
    return reply({"qos_specs": view(record), "links": _links(call, record["id"])})


@route("/qos-specs/{qos_id}", methods=("PUT",))
async def update_qos(call: Call) -> Response:
    common.require_admin(call.ctx, f"{RULE}:update")
    data = await call.json()
    specs = data.get("qos_specs") if isinstance(data, dict) else None
    return reply({"qos_specs": model(call).qos.set_keys(call.params["qos_id"], specs)})


@route("/qos-specs/{qos_id}", methods=("DELETE",))
async def delete_qos(call: Call) -> Response:
    common.require_admin(call.ctx, f"{RULE}:delete")
    force = routing.flag_query(call, "force")
    model(call).qos.delete(call.params["qos_id"], force=force)
    return reply(status=202)


@route("/qos-specs/{qos_id}/delete_keys", methods=("PUT",))
async def delete_keys(call: Call) -> Response:
    common.require_admin(call.ctx, f"{RULE}:delete")
    data = await call.json()
    keys = data.get("keys") if isinstance(data, dict) else None
    model(call).qos.delete_keys(call.params["qos_id"], keys)
    return reply(status=202)


@route("/qos-specs/{qos_id}/associations")
async def associations(call: Call) -> Response:
    common.require_admin(call.ctx, f"{RULE}:get")
    return reply({"qos_associations": model(call).qos.associations(call.params["qos_id"])})


def _type_id(call: Call) -> str:
    type_id = call.query.get("vol_type_id")
    if not type_id:
        raise faults.BadRequest("Volume Type id must not be None.")
    return type_id


@route("/qos-specs/{qos_id}/associate")
async def associate(call: Call) -> Response:
    common.require_admin(call.ctx, f"{RULE}:update")
    model(call).qos.associate(call.params["qos_id"], _type_id(call))
    return reply(status=202)


@route("/qos-specs/{qos_id}/disassociate")
async def disassociate(call: Call) -> Response:
    common.require_admin(call.ctx, f"{RULE}:update")
    model(call).qos.disassociate(call.params["qos_id"], _type_id(call))
    return reply(status=202)


@route("/qos-specs/{qos_id}/disassociate_all")
async def disassociate_all(call: Call) -> Response:
    common.require_admin(call.ctx, f"{RULE}:update")
    model(call).qos.disassociate_all(call.params["qos_id"])
    return reply(status=202)
