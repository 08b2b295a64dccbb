"""``/v2/images/{id}/members``: sharing a ``shared`` image with other projects (see :mod:`.members`)."""

from __future__ import annotations

from starlette.responses import Response

from stacksim import faults
from stacksim.services.image import views
from stacksim.services.image.routing import api, images, json_body
from stacksim.web import Call, reply


@api.route("/v2/images/{image_id}/members")
async def list_members(call: Call) -> Response:
    found = images(call).members.list(call.ctx, call.params["image_id"])
    return reply({"members": [views.member(m) for m in found], "schema": "/v2/schemas/members"})


@api.route("/v2/images/{image_id}/members", methods=("POST",))
async def add_member(call: Call) -> Response:
    body = await json_body(call)
    if not isinstance(body, dict):
        raise faults.BadRequest('Expected a member in the form: {"member": "image_id"}')
    if "member" not in body:
        raise faults.BadRequest("Member to be added not specified")
    if not body["member"]:
        raise faults.BadRequest("Member can't be empty")
    if not isinstance(body["member"], str):
        raise faults.BadRequest('Expected a member in the form: {"member": "image_id"}')
    member = images(call).members.add(call.ctx, call.params["image_id"], body["member"])
    return reply(views.member(member))


@api.route("/v2/images/{image_id}/members/{member_id}")
async def show_member(call: Call) -> Response:
    member = images(call).members.get(call.ctx, call.params["image_id"], call.params["member_id"])
    return reply(views.member(member))


@api.route("/v2/images/{image_id}/members/{member_id}", methods=("PUT",))
async def update_member(call: Call) -> Response:
    body = await json_body(call)
    if not isinstance(body, dict):
        raise faults.BadRequest('Expected a status in the form: {"status": "status"}')
    if "status" not in body:
        raise faults.BadRequest("Status not specified")
    member = images(call).members.update(call.ctx, call.params["image_id"], call.params["member_id"], body["status"])
    return reply(views.member(member))


@api.route("/v2/images/{image_id}/members/{member_id}", methods=("DELETE",))
async def delete_member(call: Call) -> Response:
    images(call).members.remove(call.ctx, call.params["image_id"], call.params["member_id"])
    return reply(status=204)
