"""``/os-keypairs``: import or generate, list, show and delete a user's keypairs."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from stacksim import faults
from stacksim.services.compute import common, schemas
from stacksim.services.compute.common import api
from stacksim.services.compute.keypairs import Keypairs
from stacksim.services.compute.model import KeypairRequest
from stacksim.web import Call, reply


def _model(call: Call) -> Keypairs:
    return call.cloud.compute.keypairs


def _user(call: Call) -> str | None:
    """The ``user_id`` query (from 2.10) naming another user's key pairs."""
    return call.query.get("user_id") if common.since(call, "2.10") else None


def _view(call: Call, record: dict[str, Any], *extra: str) -> dict[str, Any]:
    body = {k: record[k] for k in ("name", "public_key", "fingerprint", *extra)}
    if common.since(call, "2.2"):
        body["type"] = record["type"]
    return body


@api.route("/v2.1/os-keypairs")
async def list_keypairs(call: Call) -> Response:
    records = _model(call).list(call.ctx, _user(call))
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
    request = KeypairRequest(name=body.name, type=body.type, public_key=body.public_key, user_id=body.user_id)
    record, private_key = call.cloud.compute.create_keypair(call.ctx, request, allow_292=common.since(call, "2.92"))
    keypair = _view(call, record, "user_id")
    if private_key is not None:
        keypair["private_key"] = private_key
    return reply({"keypair": keypair}, status=201 if common.since(call, "2.2") else 200)


@api.route("/v2.1/os-keypairs/{name}")
async def show_keypair(call: Call) -> Response:
    record = _model(call).get(call.ctx, call.params["name"], _user(call))
    keypair = _view(call, record, "user_id", "created_at")
    keypair.update({"deleted": False, "deleted_at": None, "updated_at": None, "id": record["serial"]})
    return reply({"keypair": keypair})


@api.route("/v2.1/os-keypairs/{name}", methods=("DELETE",))
async def delete_keypair(call: Call) -> Response:
    _model(call).delete(call.ctx, call.params["name"], _user(call))
    return reply(status=204 if common.since(call, "2.2") else 202)
