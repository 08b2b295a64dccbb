"""Glance v2's REST API: version discovery, ``/v2/info``, the JSON schemas, and every route
module, imported so their routes register on :data:`api` (see :mod:`.routing`).

Not implemented yet: see the package's docstring; ``/v2/info/stores/detail``.
"""

from __future__ import annotations

from starlette.responses import Response

from stacksim import faults
from stacksim.services.image import images_api, members_api, metadefs_api, schemas, tasks_api
from stacksim.services.image.imports import IMPORT_METHODS, STORE_ID
from stacksim.services.image.routing import PREFIX, api, images
from stacksim.web import Call, reply

ROUTE_MODULES = (images_api, members_api, tasks_api, metadefs_api)
#: The versions Glance lists with an image cache and multiple stores configured.
VERSIONS = ("2.16", "2.15", "2.14", "2.13", "2.12", "2.11", "2.10", "2.9", "2.8", "2.7", "2.6", "2.5", "2.4")
VERSIONS += ("2.3", "2.2", "2.1", "2.0")


def _versions(call: Call, status: int) -> Response:
    href = f"{call.cloud.settings.base_url}{PREFIX}/v2/"
    values = [
        {"id": f"v{v}", "status": "CURRENT" if i == 0 else "SUPPORTED", "links": [{"rel": "self", "href": href}]}
        for i, v in enumerate(VERSIONS)
    ]
    return reply({"versions": values}, status=status)


@api.route("/", public=True)
@api.route("/v2", public=True)
@api.route("/v2/", public=True)
async def versions(call: Call) -> Response:
    return _versions(call, 300)


@api.route("/versions", public=True)
async def versions_explicit(call: Call) -> Response:
    return _versions(call, 200)


@api.route("/v2/info/import")
async def info_import(call: Call) -> Response:
    methods = {"description": "Import methods available.", "type": "array", "value": list(IMPORT_METHODS)}
    return reply({"import-methods": methods})


@api.route("/v2/info/stores")
async def info_stores(call: Call) -> Response:
    return reply({"stores": [{"id": STORE_ID, "description": "stacksim local disk", "default": "true"}]})


@api.route("/v2/info/usage")
async def info_usage(call: Call) -> Response:
    return reply({"usage": images(call).records.usage(call.ctx)})


# -- schemas ----------------------------------------------------------------------------------


@api.route("/v2/schemas/image")
async def schema_image(call: Call) -> Response:
    return reply(schemas.image_schema())


@api.route("/v2/schemas/images")
async def schema_images(call: Call) -> Response:
    return reply(schemas.collection_schema("images", schemas.image_schema()))


@api.route("/v2/schemas/member")
async def schema_member(call: Call) -> Response:
    return reply(schemas.member_schema())


@api.route("/v2/schemas/members")
async def schema_members(call: Call) -> Response:
    return reply(schemas.collection_schema("members", schemas.member_schema()))


@api.route("/v2/schemas/task")
async def schema_task(call: Call) -> Response:
    return reply(schemas.task_schema())


@api.route("/v2/schemas/tasks")
async def schema_tasks(call: Call) -> Response:
    return reply(schemas.tasks_schema())


@api.route("/v2/schemas/metadefs/{name}")
async def schema_metadef(call: Call) -> Response:
    found = schemas.metadef_schemas().get(call.params["name"])
    if found is None:
        raise faults.NotFound("The resource could not be found.")
    return reply(found)


__all__ = ["ROUTE_MODULES", "api"]
