"""``/v2/images``: create, list, show, update (JSON patch), delete, tags, deactivate and reactivate,
the data (upload, download, stage) and the interoperable import, and an image's tasks (2.12).

``GET /v2/images/`` (an empty id) is a 404, never the list.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from starlette.requests import ClientDisconnect
from starlette.responses import FileResponse, Response

from stacksim import clock, faults, listing
from stacksim.services.image import patch, views
from stacksim.services.image.imports import IMPORT_METHODS, STORE_ID
from stacksim.services.image.routing import OCTET_STREAM, PREFIX, api, images, json_body, octet_stream
from stacksim.web import Call, reply

SORT_KEYS = ("name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at")
LIMIT_DEFAULT = 25
LIMIT_MAX = 1000


@api.route("/v2/images/")
async def no_image_id(call: Call) -> Response:
    """An empty image id (``GET /v2/images/``) names no image: Glance answers 404, not the list."""
    raise faults.NotFound("The resource could not be found.")


# -- images -------------------------------------------------------------------------------------


@api.route("/v2/images", methods=("POST",))
async def create_image(call: Call) -> Response:
    body = await json_body(call)
    if not isinstance(body, dict):
        raise faults.BadRequest(
            f"Provided object does not match schema 'image': {body!r} is not of type 'object'\n\n"
            "Failed validating 'type' in schema"
        )
    rec = images(call).records.create(call.ctx, **body)
    headers = {
        "Location": f"{call.cloud.settings.base_url}{PREFIX}/v2/images/{rec['id']}",
        "OpenStack-image-import-methods": ",".join(IMPORT_METHODS),
        "OpenStack-image-store-ids": STORE_ID,
    }
    return reply(views.image(rec), status=201, headers=headers)


@api.route("/v2/images/{image_id}")
async def show_image(call: Call) -> Response:
    return reply(views.image(images(call).records.get(call.ctx, call.params["image_id"])))


@api.route("/v2/images/{image_id}", methods=("PATCH",))
async def update_image(call: Call) -> Response:
    draft = patch.media_draft(call.header("content-type"))
    changes = patch.parse(await json_body(call), draft)
    return reply(views.image(images(call).records.update(call.ctx, call.params["image_id"], changes)))


@api.route("/v2/images/{image_id}", methods=("DELETE",))
async def delete_image(call: Call) -> Response:
    images(call).records.delete(call.ctx, call.params["image_id"])
    return reply(status=204)


@api.route("/v2/images/{image_id}/tags/{tag}", methods=("PUT",))
async def add_tag(call: Call) -> Response:
    images(call).records.add_tag(call.ctx, call.params["image_id"], call.params["tag"])
    return reply(status=204)


@api.route("/v2/images/{image_id}/tags/{tag}", methods=("DELETE",))
async def remove_tag(call: Call) -> Response:
    images(call).records.remove_tag(call.ctx, call.params["image_id"], call.params["tag"])
    return reply(status=204)


@api.route("/v2/images/{image_id}/actions/deactivate", methods=("POST",))
async def deactivate(call: Call) -> Response:
    images(call).records.deactivate(call.ctx, call.params["image_id"])
    return reply(status=204)


@api.route("/v2/images/{image_id}/actions/reactivate", methods=("POST",))
async def reactivate(call: Call) -> Response:
    images(call).records.reactivate(call.ctx, call.params["image_id"])
    return reply(status=204)


@api.route("/v2/images/{image_id}/tasks")
async def image_tasks(call: Call) -> Response:
    tasks = images(call).tasks.of_image(call.ctx, call.params["image_id"])
    return reply({"tasks": [views.task(t) for t in tasks]})


# -- data ------------------------------------------------------------------------------------------


async def _receive(call: Call, dest_of, begin, finish, abort) -> Response:
    image_id = call.params["image_id"]
    begin(call.ctx, image_id)
    try:
        written = await images(call).records.files.write_stream(dest_of(image_id), call.request.stream())
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
    octet_stream(call)
    records = images(call).records
    return await _receive(call, records.path, records.begin_upload, records.finish_upload, records.abort_upload)


@api.route("/v2/images/{image_id}/file")
async def download(call: Call) -> Response:
    records = images(call).records
    image_id = call.params["image_id"]
    rec = records.download(call.ctx, image_id)
    if rec is None:
        return Response(status_code=204)
    headers = {"Content-MD5": rec["checksum"]} if rec["checksum"] else {}
    return FileResponse(records.path(image_id), media_type=OCTET_STREAM, headers=headers)


@api.route("/v2/images/{image_id}/stage", methods=("PUT",), stream=True)
async def stage(call: Call) -> Response:
    octet_stream(call)
    facade = images(call)
    imports = facade.imports
    return await _receive(call, facade.files.staged, imports.begin_stage, imports.finish_stage, imports.abort_stage)


@api.route("/v2/images/{image_id}/import", methods=("POST",))
async def import_image(call: Call) -> Response:
    images(call).imports.start(call.ctx, call.params["image_id"], await json_body(call))
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
    records = images(call).records.listable(call.ctx, visibility, member_status)
    flat = [views.flat(r) for r in records]
    if q.limit == 0:
        page = listing.Page([])
    else:
        try:
            page = listing.select(flat, q, matchers=matchers, reject_unknown=False)
        except faults.NotFound:
            raise faults.BadRequest(f"No image found with ID {q.marker}") from None
    by_id = {r["id"]: r for r in records}
    kept = [(k, v) for k, v in items if k != "marker"]
    body: dict[str, Any] = {
        "images": [views.image(by_id[v["id"]]) for v in page.items],
        "first": "/v2/images" + (f"?{urllib.parse.urlencode(kept)}" if kept else ""),
        "schema": "/v2/schemas/images",
    }
    if page.has_next and page.items:
        body["next"] = "/v2/images?" + urllib.parse.urlencode([*kept, ("marker", page.items[-1]["id"])])
    return reply(body)
