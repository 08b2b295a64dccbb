"""``/v2/metadefs``: namespaces and their objects, properties, tags and resource type associations,
and the resource types (see :mod:`.metadefs` for the rules and the policy)."""

from __future__ import annotations

import urllib.parse
from typing import Any

from starlette.responses import Response

from stacksim import faults, toolkit
from stacksim.services.image import metadefs as rules
from stacksim.services.image import schemas, views
from stacksim.services.image.metadefs import NamespaceSpec
from stacksim.services.image.routing import api, images, json_body
from stacksim.web import Call, reply

BASE = "/v2/metadefs/namespaces"
ITEM = BASE + "/{namespace}"


def _model(call: Call) -> rules.Metadefs:
    return images(call).metadefs


def _spec(data: dict[str, Any]) -> NamespaceSpec:
    """A namespace body (create, or an update's full replacement)."""
    if "namespace" not in data:
        raise faults.BadRequest("Invalid input for field/attribute namespace. Value: None. Mandatory field missing.")
    tags = data.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, dict) and "name" in t for t in tags):
        raise faults.BadRequest("Invalid input for field/attribute tags: a list of {'name': ...} objects is expected.")
    for key in ("resource_type_associations", "objects"):
        if not isinstance(data.get(key) or [], list):
            raise faults.BadRequest(f"Invalid input for field/attribute {key}: a list is expected.")
    if not isinstance(data.get("properties") or {}, dict):
        raise faults.BadRequest("Invalid input for field/attribute properties: an object is expected.")
    protected = data.get("protected")
    if protected is not None and not isinstance(protected, bool):
        raise faults.BadRequest(f"Invalid input for field/attribute protected. Value: {protected!r}. Wrong type.")
    return NamespaceSpec(
        namespace=data["namespace"],
        display_name=data.get("display_name"),
        description=data.get("description"),
        visibility=data.get("visibility"),
        protected=protected,
        owner=data.get("owner"),
        resource_type_associations=list(data.get("resource_type_associations") or []),
        properties=dict(data.get("properties") or {}),
        objects=list(data.get("objects") or []),
        tags=[t["name"] for t in tags],
    )


def _show(call: Call, name: str) -> dict[str, Any]:
    model = _model(call)
    record = model.namespace(call.ctx, name)
    shown = views.namespace(record, contents=model.contents(call.ctx, name))
    prefix_for = call.query.get("resource_type")
    if prefix_for and "properties" in shown:
        association = next((a for a in shown.get("resource_type_associations", []) if a["name"] == prefix_for), None)
        prefix = (association or {}).get("prefix") or ""
        shown["properties"] = {f"{prefix}{k}": v for k, v in shown["properties"].items()}
    return shown


# -- namespaces -------------------------------------------------------------------------------------------


@api.route(BASE)
async def list_namespaces(call: Call) -> Response:
    query = dict(call.query)
    visibility = query.get("visibility")
    if visibility not in (None, "public", "private"):
        raise faults.BadRequest(f"Invalid visibility value: {toolkit.printable(visibility)}")
    wanted = [t.strip() for t in query.get("resource_types", "").split(",") if t.strip()]
    model = _model(call)
    found = model.namespaces(call.ctx, visibility, wanted)
    if query.get("sort_dir", "desc") == "asc":
        found.reverse()
    marker = query.get("marker")
    if marker:
        names = [r["namespace"] for r in found]
        if marker not in names:
            raise faults.NotFound(f"Metadata definition namespace={marker} was not found.")
        found = found[names.index(marker) + 1 :]
    limit = query.get("limit")
    page = found
    if limit is not None:
        if not limit.isdigit():
            raise faults.BadRequest("limit param must be an integer")
        page = found[: int(limit)]
    linked = model.associations_of([r["id"] for r in page])
    kept = {k: v for k, v in query.items() if k != "marker"}
    shown: dict[str, Any] = {
        "namespaces": [views.namespace(r, linked.get(r["id"], [])) for r in page],
        "first": BASE + (f"?{urllib.parse.urlencode(kept)}" if kept else ""),
        "schema": "/v2/schemas/metadefs/namespaces",
    }
    if page and len(page) < len(found):
        shown["next"] = f"{BASE}?{urllib.parse.urlencode({**kept, 'marker': page[-1]['namespace']})}"
    return reply(shown)


@api.route(BASE, methods=("POST",))
async def create_namespace(call: Call) -> Response:
    spec = _spec(schemas.metadef_body(await json_body(call), "namespace"))
    _model(call).create_namespace(call.ctx, spec)
    return reply(_show(call, spec.namespace), status=201)


@api.route(ITEM)
async def show_namespace(call: Call) -> Response:
    return reply(_show(call, call.params["namespace"]))


@api.route(ITEM, methods=("PUT",))
async def update_namespace(call: Call) -> Response:
    spec = _spec(schemas.metadef_body(await json_body(call), "namespace"))
    record = _model(call).update_namespace(call.ctx, call.params["namespace"], spec)
    return reply(views.namespace(record))


@api.route(ITEM, methods=("DELETE",))
async def delete_namespace(call: Call) -> Response:
    _model(call).delete_namespace(call.ctx, call.params["namespace"])
    return reply(status=204)


# -- objects ------------------------------------------------------------------------------------------------


@api.route(ITEM + "/objects")
async def list_objects(call: Call) -> Response:
    name = call.params["namespace"]
    found = _model(call).objects(call.ctx, name)
    return reply({"objects": [views.metadef_object(name, o) for o in found], "schema": "v2/schemas/metadefs/objects"})


@api.route(ITEM + "/objects", methods=("POST",))
async def create_object(call: Call) -> Response:
    name = call.params["namespace"]
    record = _model(call).create_object(call.ctx, name, schemas.metadef_body(await json_body(call), "object"))
    return reply(views.metadef_object(name, record), status=201)


@api.route(ITEM + "/objects", methods=("DELETE",))
async def delete_objects(call: Call) -> Response:
    _model(call).delete_all(call.ctx, call.params["namespace"], rules.OBJECT)
    return reply(status=204)


@api.route(ITEM + "/objects/{object_name}")
async def show_object(call: Call) -> Response:
    name = call.params["namespace"]
    return reply(views.metadef_object(name, _model(call).object(call.ctx, name, call.params["object_name"])))


@api.route(ITEM + "/objects/{object_name}", methods=("PUT",))
async def update_object(call: Call) -> Response:
    name = call.params["namespace"]
    data = schemas.metadef_body(await json_body(call), "object")
    record = _model(call).update_object(call.ctx, name, call.params["object_name"], data)
    return reply(views.metadef_object(name, record))


@api.route(ITEM + "/objects/{object_name}", methods=("DELETE",))
async def delete_object(call: Call) -> Response:
    _model(call).delete_item(call.ctx, call.params["namespace"], rules.OBJECT, call.params["object_name"])
    return reply(status=204)


# -- properties -------------------------------------------------------------------------------------------


@api.route(ITEM + "/properties")
async def list_properties(call: Call) -> Response:
    found = _model(call).properties(call.ctx, call.params["namespace"])
    return reply({"properties": views.properties(found)})


@api.route(ITEM + "/properties", methods=("POST",))
async def create_property(call: Call) -> Response:
    data = schemas.metadef_body(await json_body(call), "property")
    record = _model(call).create_property(call.ctx, call.params["namespace"], data)
    return reply(views.metadef_property(record), status=201)


@api.route(ITEM + "/properties", methods=("DELETE",))
async def delete_properties(call: Call) -> Response:
    _model(call).delete_all(call.ctx, call.params["namespace"], rules.PROPERTY)
    return reply(status=204)


@api.route(ITEM + "/properties/{property_name}")
async def show_property(call: Call) -> Response:
    record = _model(call).property(
        call.ctx, call.params["namespace"], call.params["property_name"], call.query.get("resource_type")
    )
    return reply(views.metadef_property(record))


@api.route(ITEM + "/properties/{property_name}", methods=("PUT",))
async def update_property(call: Call) -> Response:
    data = schemas.metadef_body(await json_body(call), "property")
    record = _model(call).update_property(call.ctx, call.params["namespace"], call.params["property_name"], data)
    return reply(views.metadef_property(record))


@api.route(ITEM + "/properties/{property_name}", methods=("DELETE",))
async def delete_property(call: Call) -> Response:
    _model(call).delete_item(call.ctx, call.params["namespace"], rules.PROPERTY, call.params["property_name"])
    return reply(status=204)


# -- tags ---------------------------------------------------------------------------------------------------


@api.route(ITEM + "/tags")
async def list_tags(call: Call) -> Response:
    return reply({"tags": [views.tag(t) for t in _model(call).tags(call.ctx, call.params["namespace"])]})


@api.route(ITEM + "/tags", methods=("POST",))
async def create_tags(call: Call) -> Response:
    data = schemas.metadef_body(await json_body(call), "tags")
    tags = data.get("tags")
    if not isinstance(tags, list) or not all(isinstance(t, dict) and "name" in t for t in tags):
        raise faults.BadRequest("Invalid input for field/attribute tags: a list of {'name': ...} objects is expected.")
    append = (call.header("x-openstack-append") or "").strip().lower() in ("1", "true", "yes", "on", "t", "y")
    made = _model(call).create_tags(call.ctx, call.params["namespace"], [t["name"] for t in tags], append)
    return reply({"tags": [{"name": t["name"]} for t in made]}, status=201)


@api.route(ITEM + "/tags", methods=("DELETE",))
async def delete_tags(call: Call) -> Response:
    _model(call).delete_all(call.ctx, call.params["namespace"], rules.TAG)
    return reply(status=204)


@api.route(ITEM + "/tags/{tag_name}")
async def show_tag(call: Call) -> Response:
    return reply(views.tag(_model(call).tag(call.ctx, call.params["namespace"], call.params["tag_name"])))


@api.route(ITEM + "/tags/{tag_name}", methods=("POST",))
async def create_tag(call: Call) -> Response:
    record = _model(call).create_tag(call.ctx, call.params["namespace"], call.params["tag_name"])
    return reply(views.tag(record), status=201)


@api.route(ITEM + "/tags/{tag_name}", methods=("PUT",))
async def update_tag(call: Call) -> Response:
    data = schemas.metadef_body(await json_body(call), "tag")
    record = _model(call).update_tag(call.ctx, call.params["namespace"], call.params["tag_name"], data.get("name"))
    return reply(views.tag(record))


@api.route(ITEM + "/tags/{tag_name}", methods=("DELETE",))
async def delete_tag(call: Call) -> Response:
    _model(call).delete_item(call.ctx, call.params["namespace"], rules.TAG, call.params["tag_name"])
    return reply(status=204)


# -- resource types -------------------------------------------------------------------------------------------


@api.route("/v2/metadefs/resource_types")
async def list_resource_types(call: Call) -> Response:
    return reply({"resource_types": [views.resource_type(r) for r in _model(call).resource_types()]})


@api.route(ITEM + "/resource_types")
async def list_associations(call: Call) -> Response:
    found = _model(call).associations(call.ctx, call.params["namespace"])
    return reply({"resource_type_associations": [views.association(a) for a in found]})


@api.route(ITEM + "/resource_types", methods=("POST",))
async def associate(call: Call) -> Response:
    data = schemas.metadef_body(await json_body(call), "resource_type_association")
    return reply(views.association(_model(call).associate(call.ctx, call.params["namespace"], data)), status=201)


@api.route(ITEM + "/resource_types/{resource_type}", methods=("DELETE",))
async def dissociate(call: Call) -> Response:
    _model(call).dissociate(call.ctx, call.params["namespace"], call.params["resource_type"])
    return reply(status=204)
