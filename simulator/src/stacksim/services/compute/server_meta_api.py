"""A server's ``metadata`` and ``tags`` (tags from microversion 2.26)."""

from __future__ import annotations

from starlette.responses import Response

from stacksim import faults
from stacksim.services.compute import common, schemas
from stacksim.services.compute.common import api
from stacksim.services.compute.server_meta import ServerMeta
from stacksim.web import Call, reply


def _servers(call: Call) -> ServerMeta:
    return call.cloud.compute.meta


@api.route("/v2.1/servers/{id}/metadata")
async def list_metadata(call: Call) -> Response:
    return reply({"metadata": _servers(call).metadata(call.ctx, call.params["id"])})


@api.route("/v2.1/servers/{id}/metadata", methods=("PUT", "POST"))
async def set_metadata(call: Call) -> Response:
    body = await call.body(schemas.MetadataBody)
    replace = call.request.method == "PUT"
    return reply({"metadata": _servers(call).set_metadata(call.ctx, call.params["id"], body.metadata, replace)})


@api.route("/v2.1/servers/{id}/metadata/{key}")
async def show_metadata_item(call: Call) -> Response:
    key = call.params["key"]
    return reply({"meta": {key: _servers(call).metadata_item(call.ctx, call.params["id"], key)}})


@api.route("/v2.1/servers/{id}/metadata/{key}", methods=("PUT",))
async def set_metadata_item(call: Call) -> Response:
    body = await call.body(schemas.MetaItem)
    key = call.params["key"]
    if list(body.meta) != [key]:
        raise faults.BadRequest("Request body and URI mismatch")
    _servers(call).set_metadata_item(call.ctx, call.params["id"], key, body.meta[key])
    return reply({"meta": body.meta})


@api.route("/v2.1/servers/{id}/metadata/{key}", methods=("DELETE",))
async def delete_metadata_item(call: Call) -> Response:
    _servers(call).delete_metadata_item(call.ctx, call.params["id"], call.params["key"])
    return reply(status=204)


# -- tags -------------------------------------------------------------------------------------------


@api.route("/v2.1/servers/{id}/tags")
async def list_tags(call: Call) -> Response:
    common.require_version(call, "2.26")
    return reply({"tags": _servers(call).tags(call.ctx, call.params["id"])})


@api.route("/v2.1/servers/{id}/tags", methods=("PUT",))
async def replace_tags(call: Call) -> Response:
    common.require_version(call, "2.26")
    body = await call.body(schemas.TagsBody)
    return reply({"tags": _servers(call).set_tags(call.ctx, call.params["id"], body.tags)})


@api.route("/v2.1/servers/{id}/tags", methods=("DELETE",))
async def delete_tags(call: Call) -> Response:
    common.require_version(call, "2.26")
    _servers(call).set_tags(call.ctx, call.params["id"], [])
    return reply(status=204)


@api.route("/v2.1/servers/{id}/tags/{tag}")
async def check_tag(call: Call) -> Response:
    common.require_version(call, "2.26")
    _servers(call).has_tag(call.ctx, call.params["id"], call.params["tag"])
    return reply(status=204)


@api.route("/v2.1/servers/{id}/tags/{tag}", methods=("PUT",))
async def add_tag(call: Call) -> Response:
    common.require_version(call, "2.26")
    server_id, tag = call.params["id"], call.params["tag"]
    added = _servers(call).add_tag(call.ctx, server_id, tag)
    location = f"{common.base_url(call)}/servers/{server_id}/tags/{tag}"
    return reply(status=201 if added else 204, headers={"Location": location} if added else None)


@api.route("/v2.1/servers/{id}/tags/{tag}", methods=("DELETE",))
async def delete_tag(call: Call) -> Response:
    common.require_version(call, "2.26")
    _servers(call).remove_tag(call.ctx, call.params["id"], call.params["tag"])
    return reply(status=204)
