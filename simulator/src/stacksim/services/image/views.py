"""Records as Glance's API shows them: images, members, tasks and metadata definitions.

Timestamps are Glance's ``isotime`` (seconds); links are relative
(``/v2/images/<id>``), as Glance writes them.
"""

from __future__ import annotations

from typing import Any

from stacksim import clock
from stacksim.services.image import schemas
from stacksim.services.image.imports import STORE_ID

#: Properties Glance keeps to itself and never shows.
HIDDEN_PROPERTIES = ("os_glance_stage_host",)


def stamp(text: str | None) -> str | None:
    """Glance's ``isotime``: seconds precision."""
    return clock.iso(clock.parse(text), micro=False) if text else text


def flat(rec: dict[str, Any]) -> dict[str, Any]:
    """An image as Glance shows it, without links: custom properties at the top level."""
    body = {k: v for k, v in rec.get("properties", {}).items() if k not in HIDDEN_PROPERTIES}
    for key in schemas.BASE:
        body[key] = rec.get(key)
    body["tags"] = list(rec.get("tags", []))
    if rec["status"] in ("active", "deactivated"):
        body["stores"] = STORE_ID
    return body


def image(rec: dict[str, Any]) -> dict[str, Any]:
    body = flat(rec)
    body["created_at"] = stamp(body["created_at"])
    body["updated_at"] = stamp(body["updated_at"])
    body["self"] = f"/v2/images/{rec['id']}"
    body["file"] = f"/v2/images/{rec['id']}/file"
    body["schema"] = "/v2/schemas/image"
    return body


def member(rec: dict[str, Any]) -> dict[str, Any]:
    return {
        "member_id": rec["member_id"],
        "image_id": rec["image_id"],
        "status": rec["status"],
        "created_at": stamp(rec["created_at"]),
        "updated_at": stamp(rec["updated_at"]),
        "schema": "/v2/schemas/member",
    }


#: what a task list shows of each (Glance hides ``input``, ``result`` and ``message`` there)
TASK_STUB = ("id", "type", "status", "owner", "created_at", "updated_at", "expires_at", "self", "schema")


def task(rec: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in rec.items() if v is not None or k in ("input", "result")}
    for key in ("created_at", "updated_at", "expires_at"):
        if rec.get(key):
            body[key] = stamp(rec[key])
    body["self"] = f"/v2/tasks/{rec['id']}"
    body["schema"] = "/v2/schemas/task"
    return body


def task_stub(rec: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in task(rec).items() if k in TASK_STUB}


# -- metadata definitions ----------------------------------------------------------------------------


def _times(rec: dict[str, Any]) -> dict[str, Any]:
    return {"created_at": stamp(rec["created_at"]), "updated_at": stamp(rec["updated_at"])}


def association(rec: dict[str, Any]) -> dict[str, Any]:
    body = {"name": rec["name"], **_times(rec)}
    for key in ("prefix", "properties_target"):
        if rec.get(key) is not None:
            body[key] = rec[key]
    return body


def resource_type(rec: dict[str, Any]) -> dict[str, Any]:
    return {"name": rec["name"], **_times(rec)}


def metadef_property(rec: dict[str, Any]) -> dict[str, Any]:
    return {"name": rec["name"], **rec["schema"]}


def properties(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Properties by name, each without its name (as a namespace or a properties list holds them)."""
    return {r["name"]: dict(r["schema"]) for r in records}


def metadef_object(namespace: str, rec: dict[str, Any]) -> dict[str, Any]:
    body = {"name": rec["name"], **_times(rec)}
    if rec.get("description") is not None:
        body["description"] = rec["description"]
    if rec.get("required"):
        body["required"] = list(rec["required"])
    body["properties"] = dict(rec.get("properties") or {})
    body["self"] = f"/v2/metadefs/namespaces/{namespace}/objects/{rec['name']}"
    body["schema"] = "/v2/schemas/metadefs/object"
    return body


def tag(rec: dict[str, Any]) -> dict[str, Any]:
    return {"name": rec["name"], **_times(rec)}


def namespace(
    rec: dict[str, Any],
    associations: list[dict[str, Any]] | None = None,
    contents: dict[str, list[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """A namespace; ``associations`` (list views) or ``contents`` (show: what it holds, by kind)."""
    body: dict[str, Any] = {
        "namespace": rec["namespace"],
        "visibility": rec["visibility"],
        "protected": rec["protected"],
        "owner": rec["owner"],
        **_times(rec),
        "self": f"/v2/metadefs/namespaces/{rec['namespace']}",
        "schema": "/v2/schemas/metadefs/namespace",
    }
    for key in ("display_name", "description"):
        if rec.get(key) is not None:
            body[key] = rec[key]
    if contents is not None:
        associations = contents["metadef_resource_type_association"]
        if contents["metadef_object"]:
            body["objects"] = [metadef_object(rec["namespace"], o) for o in contents["metadef_object"]]
        if contents["metadef_property"]:
            body["properties"] = properties(contents["metadef_property"])
        if contents["metadef_tag"]:
            body["tags"] = [{"name": t["name"]} for t in contents["metadef_tag"]]
    if associations:
        body["resource_type_associations"] = [association(a) for a in associations]
    return body
