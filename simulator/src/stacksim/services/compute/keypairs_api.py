"""``/os-keypairs``: import or generate, list, show and delete a user's keypairs."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from stacksim import faults
from stacksim.services.compute import common, schemas
from stacksim.services.compute.api import api
from stacksim.services.compute.keypairs import Keypairs, check_name
from stacksim.web import Call, reply


def _model(call: Call) -> Keypairs:
    return call.cloud.compute.keypairs


def _user(call: Call, action: str, given: str | None = None) -> str:
    """Whose keypairs: the caller's, or (from 2.10, admins only) the ``user_id`` asked for."""
    wanted = given
    if wanted is None and common.since(call, "2.10"):
        wanted = call.query.get("user_id")
    if wanted is None or wanted == call.ctx.user_id:
        return call.ctx.user_id
    if not call.ctx.is_admin:
        raise common.denied(f"os-keypairs:{action}")
    return wanted


def _view(call: Call, record: dict[str, Any], *extra: str) -> dict[str, Any]:
    body = {k: record[k] for k in ("name", "public_key", "fingerprint", *extra)}
    if common.since(call, "2.2"):
        body["type"] = record["type"]
    return body


@api.route("/v2.1/os-keypairs")
async def list_keypairs(call: Call) -> Response:
    records = _model(call).list(_user(call, "index"))
    paged = common.since(call, "2.35")
    items, more, _ = common.page(call, records, key="name", paged=paged, marker_error="Marker {} could not be found.")
    body: dict[str, Any] = {"keypairs": [{"keypair": _view(call, r)} for r in items]}
    if paged and (found := common.next_links(call, "os-keypairs", items, more, key="name")):
        body["keypairs_links"] = found
    return reply(body)


@api.route("/v2.1/os-keypairs", methods=("POST",))
async def create_keypair(call: Call) -> Response:
    body = await call.body(schemas.KeypairCreate, "keypair")
    common.too_new("keypair", body, call, {"type": "2.2", "user_id": "2.10"})
    if body.public_key is None and common.since(call, "2.92"):
        raise faults.BadRequest(
            "Invalid input for field/attribute keypair. Value: "
            f"{body.model_dump(exclude_unset=True)}. 'public_key' is a required property"
        )
    check_name(body.name, allow_292=common.since(call, "2.92"))
    user_id = _user(call, "create", body.user_id)
    limit = call.cloud.compute.quotas.limits(call.ctx.project_id or "")["key_pairs"]
    record, private_key = _model(call).create(user_id, body.name, body.type, body.public_key, limit=limit)
    keypair = _view(call, record, "user_id")
    if private_key is not None:
        keypair["private_key"] = private_key
    return reply({"keypair": keypair}, status=201 if common.since(call, "2.2") else 200)


@api.route("/v2.1/os-keypairs/{name}")
async def show_keypair(call: Call) -> Response:
    record = _model(call).get(_user(call, "show"), call.params["name"])
    keypair = _view(call, record, "user_id", "created_at")
    keypair.update({"deleted": False, "deleted_at": None, "updated_at": None, "id": record["serial"]})
    return reply({"keypair": keypair})


@api.route("/v2.1/os-keypairs/{name}", methods=("DELETE",))
async def delete_keypair(call: Call) -> Response:
    _model(call).delete(_user(call, "delete"), call.params["name"])
    return reply(status=204 if common.since(call, "2.2") else 202)
