"""Glance v2's REST API over the image model.

Errors are webob's, as Glance's are: the body is HTML, JSON or plain text by
the request's ``Accept`` header (see :func:`stacksim.faults.glance_page`), except
401s, which keystonemiddleware answers in Keystone's format. Links in bodies
are relative (``/v2/images/<id>``), as Glance writes them.

Not implemented yet: see the model's docstring; ``/v2/info/stores/detail``.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response

from stacksim import clock, faults, listing
from stacksim.services.image import model, patch, schemas
from stacksim.services.image.imports import IMPORT_METHODS, STORE_ID
from stacksim.services.image.model import Images
from stacksim.web import Api, Call, reply

PREFIX = "/image"
#: The versions Glance lists with an image cache and multiple stores configured.
VERSIONS = ("2.16", "2.15", "2.14", "2.13", "2.12", "2.11", "2.10", "2.9", "2.8", "2.7", "2.6", "2.5", "2.4")
VERSIONS += ("2.3", "2.2", "2.1", "2.0")
SORT_KEYS = ("name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at")
LIMIT_DEFAULT = 25
LIMIT_MAX = 1000
OCTET_STREAM = "application/octet-stream"


class GlanceApi(Api):
    """An :class:`Api` whose errors are negotiated by ``Accept``, as webob's are."""

    def __init__(self) -> None:
        super().__init__("glance")

    def negotiated(self, request: Request, err: faults.ApiError) -> Response:
        if err.status == 401:  # keystonemiddleware answers before Glance does
            return JSONResponse(faults.keystone(err), status_code=401, headers=err.headers)
        body, media = faults.glance_page(err, request.headers.get("accept"))
        return Response(body, status_code=err.status, headers=err.headers, media_type=media)

    async def _fault(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, faults.ApiError)
        return self.negotiated(request, exc)

    async def _http_fault(self, request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        if status == 404:
            err = faults.NotFound("The resource could not be found.")
        elif status == 405:
            err = faults.MethodNotAllowed("The method specified is not allowed for this resource.")
        else:
            err = faults.ApiError(str(getattr(exc, "detail", "")), status=status)
        return self.negotiated(request, err)


api = GlanceApi()


def _images(call: Call) -> Images:
    return call.cloud.image


def _stamp(text: str | None) -> str | None:
    """Glance's ``isotime``: seconds precision."""
    return clock.iso(clock.parse(text), micro=False) if text else text


def image_view(rec: dict[str, Any]) -> dict[str, Any]:
    body = model.flat(rec)
    body["created_at"] = _stamp(body["created_at"])
    body["updated_at"] = _stamp(body["updated_at"])
    body["self"] = f"/v2/images/{rec['id']}"
    body["file"] = f"/v2/images/{rec['id']}/file"
    body["schema"] = "/v2/schemas/image"
    return body


def member_view(rec: dict[str, Any]) -> dict[str, Any]:
    return {
        "member_id": rec["member_id"],
        "image_id": rec["image_id"],
        "status": rec["status"],
        "created_at": _stamp(rec["created_at"]),
        "updated_at": _stamp(rec["updated_at"]),
        "schema": "/v2/schemas/member",
    }


def task_view(rec: dict[str, Any]) -> dict[str, Any]:
    body = dict(rec)
    for key in ("created_at", "updated_at", "expires_at"):
        body[key] = _stamp(rec.get(key))
    body["self"] = f"/v2/tasks/{rec['id']}"
    body["schema"] = "/v2/schemas/task"
    return body


async def _body(call: Call) -> Any:
    """The JSON body, with Glance's complaints when there is none or it is not JSON."""
    raw = await call.request.body()
    if not raw:
        raise faults.BadRequest("Body expected in request.")
    try:
        return json.loads(raw)
    except ValueError:
        raise faults.BadRequest("Malformed JSON in request body.") from None


def _octet_stream(call: Call) -> None:
    content_type = call.header("content-type")
    media = content_type.split(";")[0].strip().lower() if content_type is not None else None
    if media != OCTET_STREAM:
        raise faults.ApiError(f"Invalid content type {media}", status=415)


# -- version discovery and info --------------------------------------------------------------


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
    return reply({"usage": _images(call).usage(call.ctx)})


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


# -- images -------------------------------------------------------------------------------------


@api.route("/v2/images", methods=("POST",))
async def create_image(call: Call) -> Response:
    body = await _body(call)
    if not isinstance(body, dict):
        raise faults.BadRequest(
            f"Provided object does not match schema 'image': {body!r} is not of type 'object'\n\n"
            "Failed validating 'type' in schema"
        )
    rec = _images(call).create(call.ctx, **body)
    headers = {
        "Location": f"{call.cloud.settings.base_url}{PREFIX}/v2/images/{rec['id']}",
        "OpenStack-image-import-methods": ",".join(IMPORT_METHODS),
        "OpenStack-image-store-ids": STORE_ID,
    }
    return reply(image_view(rec), status=201, headers=headers)


@api.route("/v2/images/{image_id}")
async def show_image(call: Call) -> Response:
    return reply(image_view(_images(call).get(call.ctx, call.params["image_id"])))


@api.route("/v2/images/{image_id}", methods=("PATCH",))
async def update_image(call: Call) -> Response:
    draft = patch.media_draft(call.header("content-type"))
    changes = patch.parse(await _body(call), draft)
    return reply(image_view(_images(call).update(call.ctx, call.params["image_id"], changes)))


@api.route("/v2/images/{image_id}", methods=("DELETE",))
async def delete_image(call: Call) -> Response:
    _images(call).delete(call.ctx, call.params["image_id"])
    return reply(status=204)


@api.route("/v2/images/{image_id}/tags/{tag}", methods=("PUT",))
async def add_tag(call: Call) -> Response:
    _images(call).add_tag(call.ctx, call.params["image_id"], call.params["tag"])
    return reply(status=204)


@api.route("/v2/images/{image_id}/tags/{tag}", methods=("DELETE",))
async def remove_tag(call: Call) -> Response:
    _images(call).remove_tag(call.ctx, call.params["image_id"], call.params["tag"])
    return reply(status=204)


@api.route("/v2/images/{image_id}/actions/deactivate", methods=("POST",))
async def deactivate(call: Call) -> Response:
    _images(call).deactivate(call.ctx, call.params["image_id"])
    return reply(status=204)


@api.route("/v2/images/{image_id}/actions/reactivate", methods=("POST",))
async def reactivate(call: Call) -> Response:
    _images(call).reactivate(call.ctx, call.params["image_id"])
    return reply(status=204)


@api.route("/v2/images/{image_id}/tasks")
async def image_tasks(call: Call) -> Response:
    tasks = _images(call).imports.tasks(call.ctx, call.params["image_id"])
    return reply({"tasks": [task_view(t) for t in tasks]})


@api.route("/v2/tasks")
async def list_tasks(call: Call) -> Response:
    tasks = sorted(_images(call).imports.all_tasks(call.ctx), key=lambda t: t["created_at"], reverse=True)
    brief = ("id", "type", "status", "owner", "created_at", "updated_at", "expires_at", "self", "schema")
    views = [{k: v for k, v in task_view(t).items() if k in brief} for t in tasks]
    return reply({"tasks": views, "first": "/v2/tasks", "schema": "/v2/schemas/tasks"})


@api.route("/v2/tasks/{task_id}")
async def show_task(call: Call) -> Response:
    return reply(task_view(_images(call).imports.task(call.ctx, call.params["task_id"])))


# -- data ------------------------------------------------------------------------------------------


async def _receive(call: Call, dest_of, begin, finish, abort) -> Response:
    image_id = call.params["image_id"]
    begin(call.ctx, image_id)
    try:
        written = await _images(call).files.write_stream(dest_of(image_id), call.request.stream())
    except ClientDisconnect:
        abort(image_id)
        return Response(status_code=400)
    except BaseException:
        abort(image_id)
        raise
    finish(image_id, written)
    return reply(status=204)


@api.route("/v2/images/{image_id}/file", methods=("PUT",), stream=True)
async def upload(call: Call) -> Response:
    _octet_stream(call)
    images = _images(call)
    return await _receive(call, images.path, images.begin_upload, images.finish_upload, images.abort_upload)


@api.route("/v2/images/{image_id}/file")
async def download(call: Call) -> Response:
    images = _images(call)
    image_id = call.params["image_id"]
    rec = images.download(call.ctx, image_id)
    if rec is None:
        return Response(status_code=204)
    headers = {"Content-MD5": rec["checksum"]} if rec["checksum"] else {}
    return FileResponse(images.path(image_id), media_type=OCTET_STREAM, headers=headers)


@api.route("/v2/images/{image_id}/stage", methods=("PUT",), stream=True)
async def stage(call: Call) -> Response:
    _octet_stream(call)
    images = _images(call)
    imports = images.imports
    return await _receive(call, images.files.staged, imports.begin_stage, imports.finish_stage, imports.abort_stage)


@api.route("/v2/images/{image_id}/import", methods=("POST",))
async def import_image(call: Call) -> Response:
    _images(call).imports.start(call.ctx, call.params["image_id"], await _body(call))
    return reply(status=202)


# -- list -------------------------------------------------------------------------------------------


def _sort_key(key: str) -> str:
    if key not in SORT_KEYS:
        raise faults.BadRequest(f"Invalid sort key: {key}. It must be one of the following: {', '.join(SORT_KEYS)}.")
    return key


def _sort_dir(direction: str) -> bool:
    if direction not in ("asc", "desc"):
        raise faults.BadRequest(f"Invalid sort direction: {direction}")
    return direction == "desc"


def _sorting(items: list[tuple[str, str]]) -> list[tuple[str, bool]]:
    """Glance's two sort syntaxes: ``sort=name:asc,size`` or ``sort_key``/``sort_dir`` pairs."""
    names = {k for k, _ in items}
    keys: list[str] = []
    dirs: list[bool] = []
    if "sort" in names:
        if names & {"sort_key", "sort_dir"}:
            raise faults.BadRequest("Old and new sorting syntax cannot be combined")
        text = [v for k, v in items if k == "sort"][-1]
        for part in text.strip().split(","):
            key, _, direction = part.partition(":")
            keys.append(_sort_key(key.strip()))
            dirs.append(_sort_dir(direction.strip() or "desc"))
    else:
        keys = [_sort_key(v.strip()) for k, v in items if k == "sort_key"]
        dirs = [_sort_dir(v.strip()) for k, v in items if k == "sort_dir"]
        if len(dirs) > 1 and len(dirs) != len(keys):
            raise faults.BadRequest("Number of sort dirs does not match the number of sort keys")
    keys = keys or ["created_at"]
    dirs = dirs or [True]
    if len(dirs) < len(keys):
        dirs = dirs + [dirs[-1]] * (len(keys) - len(dirs))
    order = list(zip(keys, dirs, strict=False))
    for tie in ("created_at", "id"):  # Glance's own tie-breakers, newest first
        if tie not in keys:
            order.append((tie, True))
    return order


def _flag(name: str, text: str) -> bool:
    if text.lower() not in ("true", "false"):
        raise faults.BadRequest(f"Invalid value '{text}' for '{name}' filter. Valid values are 'true' or 'false'.")
    return text.lower() == "true"


def _in_or_equal(value: Any, wanted: list[str]) -> bool:
    text = wanted[-1]
    if text.startswith("in:"):
        return value in [w.strip('"') for w in text[3:].split(",")]
    return value == text


_TIME_OPS = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
    "eq": lambda a, b: a == b,
    "neq": lambda a, b: a != b,
}


def _time_matcher(name: str, text: str) -> listing.Matcher:
    op, sep, moment = text.partition(":")
    if not sep or op not in _TIME_OPS:
        op, moment = "eq", text
    try:
        wanted = clock.parse(moment)
    except ValueError:
        raise faults.BadRequest(f"Invalid value '{text}' for parameter '{name}': Invalid time format") from None
    compare = _TIME_OPS[op]
    return lambda value, _w: value is not None and compare(clock.parse(value).replace(microsecond=0), wanted)


def _size_matcher(name: str, text: str) -> listing.Matcher:
    try:
        bound = int(text)
    except ValueError:
        raise faults.BadRequest(f"Invalid value '{text}' for '{name}' filter: it must be an integer.") from None
    if name == "size_min":
        return lambda value, _w: value is not None and value >= bound
    return lambda value, _w: value is not None and value <= bound


def _list_query(items: list[tuple[str, str]]) -> tuple[listing.ListQuery, dict[str, tuple[str, listing.Matcher]]]:
    """Glance's list parameters as a :class:`listing.ListQuery` and a matcher for each filter.

    Every filter gets a matcher (``select`` then needs no other rule): ``in:``
    lists on a few attributes, ``gte:``-style operators on the timestamps,
    ``size_min``/``size_max``, ANDed ``tag``s, and equality for the rest, custom
    properties included. ``visibility`` and ``member_status`` are the model's.
    """
    params: dict[str, str] = {}
    tags: list[str] = []
    for key, value in items:
        if key == "tag":
            tags.append(value.strip())
        elif key not in ("sort", "sort_key", "sort_dir"):
            params[key] = value
    q = listing.ListQuery(sort=_sorting(items))
    matchers: dict[str, tuple[str, listing.Matcher]] = {}
    if "limit" in params:
        try:
            limit = int(params.pop("limit"))
        except ValueError:
            raise faults.BadRequest("limit param must be an integer") from None
        if limit < 0:
            raise faults.BadRequest("limit param must be positive")
        q.limit = min(limit, LIMIT_MAX)
    else:
        q.limit = LIMIT_DEFAULT
    q.marker = params.pop("marker", None)
    for key in ("member_status", "visibility"):
        params.pop(key, None)  # applied by the model
    if "changes-since" in params:
        raise faults.BadRequest('The "changes-since" filter is no longer available on v2.')
    hidden = _flag("os_hidden", params.pop("os_hidden", "false"))
    matchers["os_hidden"] = ("os_hidden", lambda value, _w, h=hidden: bool(value) == h)
    if "protected" in params:
        protected = _flag("protected", params.pop("protected"))
        matchers["protected"] = ("protected", lambda value, _w, p=protected: bool(value) == p)
    if tags:
        matchers["tag"] = ("tags", lambda value, wanted: set(wanted) <= set(value or ()))
    for key, value in params.items():
        if key in ("name", "id", "status", "container_format", "disk_format"):
            matchers[key] = (key, _in_or_equal)
        elif key in ("created_at", "updated_at"):
            matchers[key] = (key, _time_matcher(key, value))
        elif key in ("size_min", "size_max"):
            matchers[key] = ("size", _size_matcher(key, value))
        elif key in ("min_ram", "min_disk", "size", "virtual_size"):
            matchers[key] = (key, listing.matches)
        else:  # owner, checksum, os_hash_value and custom properties: equality
            matchers[key] = (key, lambda value, wanted: value is not None and str(value) == wanted[-1])
    q.filters = {key: [params[key]] if key in params else tags for key in matchers}
    return q, matchers


@api.route("/v2/images")
async def list_images(call: Call) -> Response:
    items = list(call.query.multi_items())
    given = dict(items)
    member_status = given.get("member_status", "accepted")
    if member_status not in ("pending", "accepted", "rejected", "all"):
        raise faults.BadRequest(f"Invalid status: {member_status}")
    visibility = given.get("visibility")
    if visibility and visibility not in ("community", "public", "private", "shared", "all"):
        raise faults.BadRequest(f"Invalid visibility value: {visibility}")
    q, matchers = _list_query(items)
    records = _images(call).listable(call.ctx, visibility, member_status)
    views = [model.flat(r) for r in records]
    if q.limit == 0:
        page = listing.Page([])
    else:
        try:
            page = listing.select(views, q, matchers=matchers, reject_unknown=False)
        except faults.NotFound:
            raise faults.BadRequest(f"No image found with ID {q.marker}") from None
    by_id = {r["id"]: r for r in records}
    kept = [(k, v) for k, v in items if k != "marker"]
    body: dict[str, Any] = {
        "images": [image_view(by_id[v["id"]]) for v in page.items],
        "first": "/v2/images" + (f"?{urllib.parse.urlencode(kept)}" if kept else ""),
        "schema": "/v2/schemas/images",
    }
    if page.has_next and page.items:
        body["next"] = "/v2/images?" + urllib.parse.urlencode([*kept, ("marker", page.items[-1]["id"])])
    return reply(body)


# -- members -----------------------------------------------------------------------------------------


@api.route("/v2/images/{image_id}/members")
async def list_members(call: Call) -> Response:
    found = _images(call).members.list(call.ctx, call.params["image_id"])
    return reply({"members": [member_view(m) for m in found], "schema": "/v2/schemas/members"})


@api.route("/v2/images/{image_id}/members", methods=("POST",))
async def add_member(call: Call) -> Response:
    body = await _body(call)
    if not isinstance(body, dict):
        raise faults.BadRequest('Expected a member in the form: {"member": "image_id"}')
    if "member" not in body:
        raise faults.BadRequest("Member to be added not specified")
    if not body["member"]:
        raise faults.BadRequest("Member can't be empty")
    if not isinstance(body["member"], str):
        raise faults.BadRequest('Expected a member in the form: {"member": "image_id"}')
    member = _images(call).members.add(call.ctx, call.params["image_id"], body["member"])
    return reply(member_view(member))


@api.route("/v2/images/{image_id}/members/{member_id}")
async def show_member(call: Call) -> Response:
    member = _images(call).members.get(call.ctx, call.params["image_id"], call.params["member_id"])
    return reply(member_view(member))


@api.route("/v2/images/{image_id}/members/{member_id}", methods=("PUT",))
async def update_member(call: Call) -> Response:
    body = await _body(call)
    if not isinstance(body, dict):
        raise faults.BadRequest('Expected a status in the form: {"status": "status"}')
    if "status" not in body:
        raise faults.BadRequest("Status not specified")
    member = _images(call).members.update(call.ctx, call.params["image_id"], call.params["member_id"], body["status"])
    return reply(member_view(member))


@api.route("/v2/images/{image_id}/members/{member_id}", methods=("DELETE",))
async def delete_member(call: Call) -> Response:
    _images(call).members.remove(call.ctx, call.params["image_id"], call.params["member_id"])
    return reply(status=204)
