"""The Block Storage API object and what its route modules share: paths, bodies, lists, common routes.

Every resource is served both under ``/v3/{project_id}/...`` (the
``volumev3`` catalog endpoint) and ``/v3/...`` (``block-storage``), whatever
the microversion: Cinder's 3.67 only announces that the project id may be
left out. A project id in the path that is not the token's is Cinder's
"Malformed request url" (400), for admins too. Route modules register their
handlers with :func:`route`; :mod:`.api` imports them all.
"""

from __future__ import annotations

import ast
import json
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from stacksim import faults, listing, toolkit
from stacksim.microversion import Microversions
from stacksim.services.volume import common, views
from stacksim.services.volume.model import BlockStorage
from stacksim.web import Api, Call, Handler, reply

MIN_VERSION = "3.0"
MAX_VERSION = views.MAX_VERSION
MICROVERSIONS = Microversions("volume", MIN_VERSION, MAX_VERSION)

api = Api("nova", MICROVERSIONS)

#: Cinder's default ``resource_filters.json``: the filters a non-admin may use in each list
#: (``GET /resource_filters``). Admins may use any.
RESOURCE_FILTERS: dict[str, tuple[str, ...]] = {
    "volume": (
        "name",
        "status",
        "metadata",
        "bootable",
        "migration_status",
        "availability_zone",
        "group_id",
        "size",
        "created_at",
        "updated_at",
        "consumes_quota",
    ),
    "backup": ("name", "status", "volume_id"),
    "snapshot": ("name", "status", "volume_id", "metadata", "availability_zone", "consumes_quota"),
    "group": ("name",),
    "group_snapshot": ("name", "status", "group_id"),
    "attachment": ("volume_id", "status", "instance_id", "attach_status"),
    "message": ("resource_uuid", "resource_type", "event_id", "request_id", "message_level"),
    "pool": ("name", "volume_type"),
    "volume_type": ("is_public", "extra_specs"),
}


def route(path: str, methods: tuple[str, ...] = ("GET",)):
    """Register ``handler`` at ``/v3<path>`` and ``/v3/{project_id}<path>``."""

    def register(handler: Handler) -> Handler:
        async def scoped(call: Call) -> Response:
            if call.params.get("project_id") != call.ctx.project_id:
                raise faults.BadRequest("Malformed request url")
            return await handler(call)

        api.route(f"/v3{path}", methods)(handler)
        api.route(f"/v3/{{project_id}}{path}", methods)(scoped)
        return handler

    return register


def model(call: Call) -> BlockStorage:
    return call.cloud.volume


def viewer(call: Call) -> views.Viewer:
    assert call.version is not None
    return views.Viewer(call.cloud.volume, call.ctx, call.version, root_url(call))


def since(call: Call, version: str) -> bool:
    assert call.version is not None
    return call.version.at_least(version)


def require_version(call: Call, first: str) -> None:
    """A method that only exists from microversion ``first`` is a 404 before it, as in Cinder."""
    if not since(call, first):
        raise faults.NotFound("The resource could not be found.")


def root_url(call: Call) -> str:
    return f"{call.cloud.settings.base_url}/volume"


# -- bodies ---------------------------------------------------------------------------------------------


async def body_of(call: Call, root: str) -> dict[str, Any]:
    """The ``root`` object of a JSON body, or Cinder's 400."""
    data = await call.json()
    if not isinstance(data, dict) or not isinstance(data.get(root), dict):
        raise faults.BadRequest(f"Missing required element '{root}' in request body.")
    return data[root]


async def action_of(call: Call) -> tuple[str, Any]:
    """The one action an ``/action`` body names, and its argument."""
    data = await call.json()
    if not isinstance(data, dict) or not data:
        raise faults.BadRequest("Malformed request body")
    name = next(iter(data))
    return name, data[name]


def args_of(value: Any, action: str) -> dict[str, Any]:
    """An action's argument object (``null`` counts as empty)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise common.invalid_field(action, value, "Expected a dict.")
    return value


def no_such_action(name: str) -> faults.BadRequest:
    return faults.BadRequest(f"There is no such action: {toolkit.printable(str(name))}")


# -- queries ------------------------------------------------------------------------------------------------

#: Query keys that steer a list rather than filter it.
STEERING = frozenset({"limit", "marker", "offset", "sort", "sort_key", "sort_dir", "with_count", "all_tenants"})


def flag_query(call: Call, name: str, default: bool = False) -> bool:
    return toolkit.query_flag(call.query, name, default, lambda text: common.flag(text, name))


def all_tenants(call: Call) -> bool:
    """``all_tenants`` counts for admins only (others just see their own project, as in Cinder)."""
    return call.ctx.is_admin and flag_query(call, "all_tenants")


@dataclass
class Page:
    items: list[dict[str, Any]]
    more: bool
    count: int


def _int_param(text: str, name: str) -> int:
    return listing.whole_number(
        text,
        common.invalid_input(f"{name} param must be an integer"),
        common.invalid_input(f"{name} param must be positive"),
    )


def sort_params(call: Call, default: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """``sort=k1:asc,k2`` or the deprecated ``sort_key``/``sort_dir``; (key, descending) pairs."""
    sort = call.query.get("sort")
    keys = call.query.getlist("sort_key")
    dirs = call.query.getlist("sort_dir")
    if sort is not None and (keys or dirs):
        raise common.invalid_input(
            "The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' parameter."
        )
    pairs: list[tuple[str, str]] = []
    if sort is not None:
        for part in sort.split(","):
            key, _, direction = part.strip().partition(":")
            if key:
                pairs.append((key.strip(), direction.strip().lower() or "desc"))
    elif keys or dirs:
        key_list = keys or ["created_at"]
        dir_list = dirs or ["desc"]
        pairs = [(k, dir_list[min(i, len(dir_list) - 1)].lower()) for i, k in enumerate(key_list)]
    if not pairs:
        return list(default)
    out = []
    for key, direction in pairs:
        if direction not in ("asc", "desc"):
            raise common.invalid_input("Unknown sort direction, must be 'desc' or 'asc'")
        out.append((key, direction == "desc"))
    return out


def paginate(
    call: Call,
    records: Iterable[dict[str, Any]],
    *,
    sort_fields: dict[str, str],
    marker_missing: Callable[[str], faults.ApiError],
    default_sort: list[tuple[str, bool]] | None = None,
) -> Page:
    """Sort (``sort_fields`` maps API sort keys to record fields), then marker, offset and limit."""
    sort = sort_params(call, default_sort or [("created_at", True), ("id", True)])
    order = []
    for key, descending in sort:
        if key not in sort_fields:
            raise common.invalid_input(f"Invalid sort key {toolkit.printable(key)}")
        order.append((sort_fields[key], descending))
    records = list(records)
    marker = call.query.get("marker") or None
    offset, limit_text = call.query.get("offset"), call.query.get("limit")
    try:
        items, more = listing.sort_page(records, order, marker=marker)
    except KeyError:
        raise marker_missing(marker or "") from None
    offset_n = _int_param(offset, "offset") if offset is not None else None
    limit = _int_param(limit_text, "limit") if limit_text is not None else None
    items, more = listing.sort_page(items, (), offset=offset_n, limit=limit)
    return Page(items, more, len(records))


def collection(call: Call, key: str, page: Page, shown: list[dict[str, Any]], links_key: str | None = None):
    """``{key: shown}``, with ``<key>_links`` when a limited page has more, and ``count`` if asked (3.45)."""
    body: dict[str, Any] = {key: shown}
    if page.more and page.items:
        kept = [(k, v) for k, v in call.query.multi_items() if k != "marker"]
        query = urllib.parse.urlencode([*kept, ("marker", page.items[-1]["id"])])
        body[links_key or f"{key}_links"] = [
            {"href": f"{call.cloud.settings.base_url}{call.request.url.path}?{query}", "rel": "next"}
        ]
    if since(call, "3.45") and flag_query(call, "with_count"):
        body["count"] = page.count
    return body


def check_filters(call: Call, resource: str, also: Iterable[str] = ()) -> dict[str, str]:
    """The filters of a list call; one a member may not use is Cinder's 400 (admins may use any).

    ``also``: filters the list accepts beyond the resource's configured ones.
    """
    allowed = {*RESOURCE_FILTERS.get(resource, ()), *also}
    found = {k: v for k, v in call.query.items() if k not in STEERING}
    unknown = sorted(k for k in found if k not in allowed and k.rstrip("~") not in allowed)
    if unknown and not call.ctx.is_admin:
        shown = ", ".join(toolkit.printable(k) for k in unknown)
        raise common.invalid_input(f"Invalid filters {shown} are found in query options.")
    return found


def dict_filter(text: str) -> dict[str, Any]:
    """A ``metadata={'k': 'v'}`` filter (JSON or a Python literal, as cinderclient sends it)."""
    for parse in (json.loads, ast.literal_eval):
        try:
            value = parse(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            continue
        if isinstance(value, dict):
            return value
    raise common.invalid_input(f"Invalid metadata filter: {toolkit.printable(text)}")


def matches_text(value: Any, wanted: str, like: bool) -> bool:
    if value is None:
        return False
    return wanted.lower() in str(value).lower() if like else str(value) == wanted


def text_filters(call: Call, records: list[dict[str, Any]], filters: dict[str, str], fields: Iterable[str]):
    """Keep the records whose ``fields`` match the filters (``name~`` is a partial match from 3.34)."""
    names = set(fields)
    found = records
    for key, wanted in filters.items():
        name = key.rstrip("~")
        if name in names:
            like = key.endswith("~") and since(call, "3.34")
            found = [r for r in found if matches_text(r.get(name), wanted, like)]
    return found


def metadata_filter(records: list[dict[str, Any]], text: str, field: str = "metadata") -> list[dict[str, Any]]:
    meta = dict_filter(text)
    return [r for r in records if all((r.get(field) or {}).get(k) == str(v) for k, v in meta.items())]


# -- routes several resources share ---------------------------------------------------------------------

#: A record's view: ``view(viewer, record, detail)``.
View = Callable[[views.Viewer, dict[str, Any], bool], dict[str, Any]]
#: A list's filters: ``select(call, records)``.
Select = Callable[[Call, list[dict[str, Any]]], list[dict[str, Any]]]


def list_routes(
    key: str,
    part: Callable[[BlockStorage], common.Records],
    select: Select,
    sort_fields: dict[str, str],
    view: View,
    *,
    first: str | None = None,
    links_key: str | None = None,
    body_key: str | None = None,
) -> None:
    """``GET /<key>`` and ``/<key>/detail``: the caller's records of ``part``, filtered, sorted and paged,
    as ``{<body_key or key>: [...]}``."""

    async def listed(call: Call, detail: bool) -> Response:
        if first is not None:
            require_version(call, first)
        records = part(model(call))
        found = select(call, records.list(call.ctx, all_tenants(call)))
        page = paginate(call, found, sort_fields=sort_fields, marker_missing=records.not_found)
        shown = [view(viewer(call), r, detail) for r in page.items]
        return reply(collection(call, body_key or key, page, shown, links_key))

    @route(f"/{key}")
    async def summaries(call: Call) -> Response:
        return await listed(call, detail=False)

    @route(f"/{key}/detail")
    async def details(call: Call) -> Response:
        return await listed(call, detail=True)


def name_changes(body: dict[str, Any]) -> dict[str, Any]:
    """``name`` and ``description`` of an update body, or their v1 aliases ``display_name``/``display_description``."""
    changes: dict[str, Any] = {}
    for key, alias in (("name", "display_name"), ("description", "display_description")):
        if key in body:
            changes[key] = body[key]
        elif alias in body:
            changes[key] = body[alias]
    return changes


def nothing_to_update(root: str, body: dict[str, Any]) -> faults.BadRequest:
    """Cinder's 400 for an update body without any field it could change."""
    return common.invalid_field(root, body, f"{toolkit.printable(str(body))} does not have enough properties")


def admin_action_route(
    key: str, part: Callable[[BlockStorage], common.Records], first: str | None = None, force_delete: bool = True
) -> None:
    """``POST /<key>/{id}/action`` with the admin actions ``os-reset_status`` (or ``reset_status``)
    and, with ``force_delete``, ``os-force_delete``."""

    @route(f"/{key}/{{id}}/action", methods=("POST",))
    async def action(call: Call) -> Response:
        if first is not None:
            require_version(call, first)
        name, value = await action_of(call)
        records = part(model(call))
        if name in ("os-reset_status", "reset_status"):
            records.reset_status(call.ctx, call.params["id"], args_of(value, name).get("status"))
        elif name == "os-force_delete" and force_delete:
            records.delete(call.ctx, call.params["id"], force=True)
        else:
            raise no_such_action(name)
        return reply(status=202)


async def _metadata_body(call: Call) -> Any:
    data = await call.json()
    if not isinstance(data, dict) or "metadata" not in data:
        raise faults.BadRequest("Malformed request body")
    return data["metadata"]


def metadata_routes(collection_name: str, part: Callable[[BlockStorage], common.Records]) -> None:
    """``/<collection>/{id}/metadata`` and ``.../metadata/{key}``: show, add, replace and delete.

    ``part`` picks the model part (``bs.volumes`` or ``bs.snapshots``) that keeps the records.
    """
    path = f"/{collection_name}/{{id}}/metadata"

    @route(path)
    async def show_metadata(call: Call) -> Response:
        record = part(model(call)).get(call.ctx, call.params["id"])
        return reply({"metadata": dict(record["metadata"])})

    @route(path, methods=("POST",))
    async def create_metadata(call: Call) -> Response:
        meta = await _metadata_body(call)
        return reply({"metadata": part(model(call)).set_metadata(call.ctx, call.params["id"], meta)})

    @route(path, methods=("PUT",))
    async def replace_metadata(call: Call) -> Response:
        meta = await _metadata_body(call)
        return reply({"metadata": part(model(call)).set_metadata(call.ctx, call.params["id"], meta, replace=True)})

    @route(f"{path}/{{key}}")
    async def show_metadata_item(call: Call) -> Response:
        records = part(model(call))
        record = records.get(call.ctx, call.params["id"])
        key = call.params["key"]
        return reply({"meta": {key: records.metadata_item(record, key)}})

    @route(f"{path}/{{key}}", methods=("PUT",))
    async def update_metadata_item(call: Call) -> Response:
        key = call.params["key"]
        data = await call.json()
        meta = data.get("meta") if isinstance(data, dict) else None
        if not isinstance(meta, dict):
            raise faults.BadRequest("Malformed request body")
        if key not in meta:
            raise faults.BadRequest("Request body and URI mismatch")
        if len(meta) > 1:
            raise faults.BadRequest("Request body contains too many items")
        part(model(call)).set_metadata(call.ctx, call.params["id"], meta)
        return reply({"meta": meta})

    @route(f"{path}/{{key}}", methods=("DELETE",))
    async def delete_metadata_item(call: Call) -> Response:
        part(model(call)).delete_metadata(call.ctx, call.params["id"], call.params["key"])
        return reply(status=200)


def item_routes(
    key: str,
    root: str,
    part: Callable[[BlockStorage], common.Records],
    view: View,
    *,
    first: str | None = None,
    delete_status: int | None = 202,
) -> None:
    """``GET /<key>/{id}`` (``{root: view}``) and, unless ``delete_status`` is None, ``DELETE``."""

    @route(f"/{key}/{{id}}")
    async def show(call: Call) -> Response:
        if first is not None:
            require_version(call, first)
        return reply({root: view(viewer(call), part(model(call)).get(call.ctx, call.params["id"]), True)})

    if delete_status is None:
        return

    @route(f"/{key}/{{id}}", methods=("DELETE",))
    async def delete(call: Call) -> Response:
        if first is not None:
            require_version(call, first)
        part(model(call)).delete(call.ctx, call.params["id"])  # type: ignore[attr-defined]
        return reply(status=delete_status)
