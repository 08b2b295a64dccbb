"""Heat's v1 REST API under ``/orchestration``, over :class:`stacksim.heat.engine.Orchestration`.

Paths are Heat's: ``/v1/{project_id}/stacks`` and below. As in Heat, a stack
named without its id (``/stacks/{name}`` and ``/stacks/{name}/resources``
...) answers ``302 Found`` with the stack's full path, and clients follow it.
Errors are Heat's bodies (``code``, ``title``, ``explanation``, ``error``).

Not implemented: snapshots, abandon/adopt/export, software configs and
deployments, stack hooks, ``/services`` and the CloudFormation-compatible API.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

from starlette.responses import Response

from stacksim import __version__, faults, toolkit
from stacksim.auth import Context
from stacksim.heat import errors, functions, graph, template
from stacksim.heat.engine import Orchestration
from stacksim.heat.resources import REGISTRY
from stacksim.heat.resources.base import Resource, schema_dict
from stacksim.heat.run import EVENT, StackRun
from stacksim.heat.stack import StackDefinition, ValidationScope
from stacksim.services.orchestration import views
from stacksim.web import Api, Call, reply

api = Api("heat")

PREFIX = "/orchestration"
V1 = "/v1/{project_id}"
STACK = V1 + "/stacks/{stack_name}/{stack_id}"
LOOKUP_PATHS = ("resources", "events", "template", "environment", "files", "outputs", "actions")
SORT_KEYS = {
    "stack_name": "name",
    "stack_status": "status",
    "creation_time": "created",
    "updated_time": "updated",
    "name": "name",
    "status": "status",
    "created_at": "created",
    "updated_at": "updated",
}


def _engine(call: Call) -> Orchestration:
    return call.cloud.orchestration


def _root(call: Call) -> str:
    return f"{call.cloud.settings.base_url}{PREFIX}"


def _base(call: Call) -> str:
    return f"{_root(call)}/v1"


def _ctx(call: Call) -> Context:
    ctx = call.ctx
    project = call.params.get("project_id")
    if project is not None and project != ctx.project_id and not ctx.is_admin:
        raise errors.InvalidTenant(project, ctx.project_id)
    return ctx


def _stack(call: Call) -> dict[str, Any]:
    return _engine(call).get(_ctx(call), call.params["stack_id"], call.params["stack_name"])


def _flag(call: Call, name: str, default: bool = False) -> bool:
    return toolkit.query_flag(call.query, name, default)


async def _body(call: Call, required: bool = True) -> dict[str, Any]:
    raw = await call.request.body()
    if not raw:
        if required:
            raise errors.HeatError("The request body is empty; a JSON object was expected.")
        return {}
    data = await call.json()
    if not isinstance(data, dict):
        raise errors.HeatError("The request body must be a JSON object.")
    return data


# -- version discovery and build info ------------------------------------------------------------


def _versions(call: Call) -> dict[str, Any]:
    return {"versions": [{"id": "v1.0", "status": "CURRENT", "links": [{"rel": "self", "href": f"{_base(call)}/"}]}]}


@api.route("/", public=True)
async def versions(call: Call) -> Response:
    return reply(_versions(call), status=300)


@api.route("/v1", public=True)
@api.route("/v1/", public=True)
async def version(call: Call) -> Response:
    return reply(_versions(call), status=300)


@api.route(V1 + "/build_info")
async def build_info(call: Call) -> Response:
    _ctx(call)
    return reply({"api": {"revision": __version__}, "engine": {"revision": __version__}})


# -- stacks ------------------------------------------------------------------------------------------


def _matches(record: dict[str, Any], key: str, wanted: list[str]) -> bool:
    if key in ("name", "stack_name"):
        return record["name"] in wanted
    if key == "id":
        return record["id"] in wanted
    if key in ("status", "stack_status"):
        return any(w in (record["status"], views.status_of(record)) for w in wanted)
    if key == "action":
        return record["action"] in wanted
    if key in ("tenant", "project_id", "tenant_id"):
        return record["project_id"] in wanted
    if key == "username":
        return record.get("username") in wanted
    if key in ("owner_id", "parent"):
        return record.get("parent_id") in wanted
    return True


def _tag_filter(record: dict[str, Any], call: Call) -> bool:
    tags = set(record.get("tags") or [])

    def wanted(name: str) -> set[str] | None:
        value = call.query.get(name)
        return None if value is None else {t for t in value.split(",") if t}

    if (w := wanted("tags")) is not None and not w <= tags:
        return False
    if (w := wanted("tags_any")) is not None and not w & tags:
        return False
    if (w := wanted("not_tags")) is not None and w <= tags:
        return False
    return not ((w := wanted("not_tags_any")) is not None and w & tags)


@api.route(V1 + "/stacks")
@api.route(V1 + "/stacks/detail")
async def list_stacks(call: Call) -> Response:
    ctx = _ctx(call)
    engine = _engine(call)
    global_tenant = _flag(call, "global_tenant")
    if global_tenant and not ctx.is_admin:
        raise faults.Forbidden("You are not authorized to use global_index.", kind="Forbidden")
    records = engine.stacks(
        ctx,
        all_projects=global_tenant or (ctx.is_admin and bool(call.query.get("tenant"))),
        deleted=_flag(call, "show_deleted"),
        nested=_flag(call, "show_nested"),
    )
    filters: dict[str, list[str]] = {}
    for key, value in call.query.multi_items():
        if key in (
            "name",
            "stack_name",
            "id",
            "status",
            "stack_status",
            "action",
            "tenant",
            "username",
            "owner_id",
            "project_id",
            "tenant_id",
        ):
            filters.setdefault(key, []).append(value)
    records = [r for r in records if all(_matches(r, k, v) for k, v in filters.items()) and _tag_filter(r, call)]
    sort_keys = [k for k in call.query.getlist("sort_keys") for k in k.split(",") if k]
    for key in sort_keys:
        if key not in SORT_KEYS:
            raise errors.HeatError(f"Sort key {key} is not one of {', '.join(sorted(SORT_KEYS))}")
    descending = (call.query.get("sort_dir") or "desc").lower() == "desc"
    keys = [SORT_KEYS[k] for k in sort_keys] or ["created"]
    records.sort(key=lambda r: tuple(str(r.get(k) or "") for k in keys), reverse=descending)
    marker = call.query.get("marker")
    if marker:
        ids = [r["id"] for r in records]
        if marker not in ids:
            raise errors.EntityNotFound("Stack", marker)
        records = records[ids.index(marker) + 1 :]
    count = len(records)
    limit = call.query.get("limit")
    if limit:
        try:
            records = records[: int(limit)]
        except ValueError:
            raise errors.HeatError(f"Only integer is acceptable by 'limit'. Got '{limit}'.") from None
    base = _base(call)
    body: dict[str, Any] = {
        "stacks": [views.stack_view(base, r, project=global_tenant or ctx.is_admin) for r in records]
    }
    if _flag(call, "with_count"):
        body["count"] = count
    return reply(body)


@api.route(V1 + "/stacks", methods=("POST",))
async def create_stack(call: Call) -> Response:
    ctx = _ctx(call)
    record = _engine(call).create(ctx, await _body(call))
    link = {"href": views.stack_url(_base(call), record), "rel": "self"}
    return reply({"stack": {"id": record["id"], "links": [link]}}, status=201)


@api.route(V1 + "/stacks/preview", methods=("POST",))
async def preview_stack(call: Call) -> Response:
    ctx = _ctx(call)
    engine = _engine(call)
    record, defn = engine.preview(ctx, await _body(call))
    body = views.stack_view(_base(call), record, detail=True)
    body["parameters"] = defn.params.shown()
    body["resources"] = _preview_resources(call, record, defn)
    return reply({"stack": body})


def _preview_resources(call: Call, record: dict[str, Any], defn: StackDefinition) -> list[Any]:
    scope = ValidationScope(defn)
    needed = graph.required_by(defn.requires)
    out = []
    for name, rdef in defn.resources.items():
        try:
            props = functions.resolve(rdef.properties, scope)
        except (errors.HeatError, TypeError, ValueError, KeyError):
            props = {}
        out.append(
            {
                "resource_name": name,
                "resource_type": rdef.type,
                "resource_action": "INIT",
                "resource_status": "COMPLETE",
                "resource_status_reason": "",
                "physical_resource_id": "",
                "properties": _plain(props),
                "required_by": needed.get(name, []),
                "description": rdef.description,
                "metadata": {},
                "attributes": {},
                "stack_name": record["name"],
                "stack_identity": {
                    "stack_name": record["name"],
                    "stack_id": record["id"],
                    "tenant": record["project_id"],
                    "path": "",
                },
                "resource_identity": {
                    "stack_name": record["name"],
                    "stack_id": record["id"],
                    "tenant": record["project_id"],
                    "path": f"/resources/{name}",
                },
                "creation_time": record["created"],
                "updated_time": None,
            }
        )
    return out


def _plain(value: Any) -> Any:
    if value is functions.UNRESOLVED:
        return None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _redirect(call: Call, record: dict[str, Any], path: str = "") -> Response:
    location = views.stack_url(_base(call), record) + (f"/{path}" if path else "")
    query = urllib.parse.urlencode(list(call.query.multi_items()))
    if query:
        location += f"?{query}"
    return Response(status_code=302, headers={"Location": location})


for _path in LOOKUP_PATHS:

    @api.route(V1 + f"/stacks/{{stack_name}}/{_path}", methods=("GET", "POST", "PUT", "PATCH", "DELETE"))
    async def lookup_path(call: Call, _path: str = _path) -> Response:
        record = _engine(call).lookup(_ctx(call), call.params["stack_name"])
        return _redirect(call, record, _path)


@api.route(V1 + "/stacks/{stack_name}", methods=("GET", "PUT", "PATCH", "DELETE"))
async def lookup_stack(call: Call) -> Response:
    record = _engine(call).lookup(_ctx(call), call.params["stack_name"])
    return _redirect(call, record)


@api.route(STACK)
async def show_stack(call: Call) -> Response:
    record = _stack(call)
    engine = _engine(call)
    run = engine.run_of(record)
    resolve = _flag(call, "resolve_outputs", True) and not record.get("deleted")
    body = views.stack_view(_base(call), record, run, detail=True, outputs=resolve)
    return reply({"stack": body})


@api.route(STACK, methods=("PUT", "PATCH"))
async def update_stack(call: Call) -> Response:
    record = _stack(call)
    patch = call.request.method == "PATCH"
    _engine(call).update(_ctx(call), record, await _body(call), patch)
    return reply(status=202)


@api.route(STACK + "/preview", methods=("PUT", "PATCH"))
async def preview_update(call: Call) -> Response:
    record = _stack(call)
    patch = call.request.method == "PATCH"
    changes = _engine(call).preview_update(_ctx(call), record, await _body(call), patch)
    return reply({"resource_changes": changes})


@api.route(STACK, methods=("DELETE",))
async def delete_stack(call: Call) -> Response:
    record = _stack(call)
    if record.get("deleted"):
        raise errors.EntityNotFound("Stack", record["name"])
    _engine(call).delete(_ctx(call), record)
    return reply(status=204)


@api.route(STACK + "/actions", methods=("POST",))
async def stack_action(call: Call) -> Response:
    record = _stack(call)
    body = await _body(call)
    if len(body) != 1:
        raise errors.HeatError("Multiple actions specified" if body else "No action specified")
    (action,) = body
    if action not in ("suspend", "resume", "check", "cancel_update", "cancel_without_rollback"):
        raise errors.HeatError(f"Invalid action {action} specified")
    _engine(call).act(_ctx(call), record, action)
    return reply(status=200)


@api.route(STACK + "/template")
async def stack_template(call: Call) -> Response:
    return reply(_stack(call)["template"])


@api.route(STACK + "/environment")
async def stack_environment(call: Call) -> Response:
    return reply(_stack(call)["environment"])


@api.route(STACK + "/files")
async def stack_files(call: Call) -> Response:
    return reply(_stack(call).get("files") or {})


@api.route(STACK + "/outputs")
async def list_outputs(call: Call) -> Response:
    record = _stack(call)
    run = _engine(call).run_of(record)
    try:
        outputs = run.defn.outputs
    except errors.HeatError:
        outputs = {}
    items = [{"output_key": k, "description": o.description or "No description given"} for k, o in outputs.items()]
    return reply({"outputs": items})


@api.route(STACK + "/outputs/{output_key}")
async def show_output(call: Call) -> Response:
    record = _stack(call)
    run = _engine(call).run_of(record)
    found = run.outputs([call.params["output_key"]])
    if not found:
        raise faults.NotFound(f"Specified output key {call.params['output_key']} not found.", kind="NotFound")
    return reply({"output": found[0]})


# -- resources ------------------------------------------------------------------------------------------


def _resource_list(
    call: Call, run: StackRun, depth: int, detail: bool, parent: str | None = None
) -> list[dict[str, Any]]:
    base = _base(call)
    needed = run.required_by()
    out = []
    for record in run.records.values():
        out.append(
            views.resource_view(
                base, run.record, record, needed.get(record["name"], []), parent_resource=parent, detail=detail, run=run
            )
        )
        if depth > 0 and record.get("nested_id"):
            child = run.engine.nested_run(record["nested_id"])
            if child is not None:
                out.extend(_resource_list(call, child, depth - 1, detail, record["name"]))
    return out


@api.route(STACK + "/resources")
async def list_resources(call: Call) -> Response:
    record = _stack(call)
    run = _engine(call).run_of(record)
    try:
        depth = int(call.query.get("nested_depth") or 0)
    except ValueError:
        raise errors.HeatError(
            f"Only integer is acceptable by 'nested_depth'. Got '{call.query.get('nested_depth')}'."
        ) from None
    items = _resource_list(call, run, depth, _flag(call, "with_detail"))
    for key, field in (
        ("name", "resource_name"),
        ("type", "resource_type"),
        ("id", "physical_resource_id"),
        ("physical_resource_id", "physical_resource_id"),
    ):
        wanted = call.query.getlist(key)
        if wanted:
            items = [i for i in items if i[field] in wanted]
    for key in ("status", "action"):
        wanted = call.query.getlist(key)
        if wanted:
            index = 1 if key == "status" else 0
            items = [
                i
                for i in items
                if i["resource_status"].split("_", 1)[index] in wanted or i["resource_status"] in wanted
            ]
    return reply({"resources": items})


def _resource_record(run: StackRun, name: str) -> dict[str, Any]:
    record = run.records.get(name)
    if record is None:
        record = next((r for r in run.records.values() if r.get("physical_id") == name), None)
    if record is None:
        raise errors.ResourceNotFound(name, run.name)
    return record


@api.route(STACK + "/resources/{resource_name}")
async def show_resource(call: Call) -> Response:
    record = _stack(call)
    run = _engine(call).run_of(record)
    res = _resource_record(run, call.params["resource_name"])
    needed = run.required_by()
    body = views.resource_view(_base(call), record, res, needed.get(res["name"], []), detail=True, run=run)
    return reply({"resource": body})


@api.route(STACK + "/resources/{resource_name}/metadata")
async def resource_metadata(call: Call) -> Response:
    record = _stack(call)
    run = _engine(call).run_of(record)
    res = _resource_record(run, call.params["resource_name"])
    return reply({"metadata": res.get("metadata") or {}})


@api.route(STACK + "/resources/{resource_name}", methods=("PATCH",))
async def mark_unhealthy(call: Call) -> Response:
    record = _stack(call)
    engine = _engine(call)
    run = engine.run_of(record)
    res = _resource_record(run, call.params["resource_name"])
    engine.mark_unhealthy(_ctx(call), record, res, await _body(call))
    return reply(status=200)


@api.route(STACK + "/resources/{resource_name}/signal", methods=("POST",), public=True)
async def signal_resource(call: Call) -> Response:
    engine = _engine(call)
    record = call.cloud.store.get("heat_stack", call.params["stack_id"])
    if record is None or record["name"] != call.params["stack_name"] or record.get("deleted"):
        raise errors.EntityNotFound("Stack", call.params["stack_name"])
    run = engine.run_of(record)
    res = _resource_record(run, call.params["resource_name"])
    token = call.header("x-auth-token")
    secret = engine.signal_token(record, res)
    given = call.query.get("token") or token
    allowed = secret is not None and given == secret
    if not allowed:
        ctx = call.cloud.auth.context(token)
        if not engine.visible(ctx, record):
            raise errors.EntityNotFound("Stack", record["name"])
    raw = await call.request.body()
    details = await call.json() if raw else None
    engine.signal(record, res, details)
    return reply(status=200)


# -- events -------------------------------------------------------------------------------------------------


def _events(call: Call, record: dict[str, Any], depth: int, root: dict[str, Any] | None) -> list[dict[str, Any]]:
    engine = _engine(call)
    found = [(record, e) for e in engine.events(record["id"])]
    if depth > 0:
        for child in engine.store.find("heat_stack", parent_id=record["id"]):
            found.extend(_events(call, child, depth - 1, root or record))
    return found


def _event_page(call: Call, items: list[tuple[dict[str, Any], dict[str, Any]]]) -> list[tuple[dict, dict]]:
    for key, field in (
        ("resource_name", "resource_name"),
        ("resource_action", "resource_action"),
        ("resource_status", "resource_status"),
        ("resource_type", "resource_type"),
    ):
        wanted = call.query.getlist(key)
        if wanted:
            items = [(s, e) for s, e in items if e.get(field) in wanted]
    items.sort(key=lambda se: se[1]["seq"])
    if (call.query.get("sort_dir") or "asc").lower() == "desc":
        items.reverse()
    marker = call.query.get("marker")
    if marker:
        ids = [e["id"] for _, e in items]
        if marker not in ids:
            raise errors.EntityNotFound("Event", marker)
        items = items[ids.index(marker) + 1 :]
    limit = call.query.get("limit")
    if limit:
        try:
            items = items[: int(limit)]
        except ValueError:
            raise errors.HeatError(f"Only integer is acceptable by 'limit'. Got '{limit}'.") from None
    return items


@api.route(STACK + "/events")
async def list_events(call: Call) -> Response:
    record = _stack(call)
    try:
        depth = int(call.query.get("nested_depth") or 0)
    except ValueError:
        raise errors.HeatError("Only integer is acceptable by 'nested_depth'.") from None
    items = _event_page(call, _events(call, record, depth, None))
    base = _base(call)
    root = record if depth else None
    return reply({"events": [views.event_view(base, s, e, root=root) for s, e in items]})


@api.route(STACK + "/resources/{resource_name}/events")
async def list_resource_events(call: Call) -> Response:
    record = _stack(call)
    name = call.params["resource_name"]
    items = [(record, e) for e in _engine(call).events(record["id"]) if e["resource_name"] == name]
    if not items and name not in _engine(call).run_of(record).records:
        raise errors.ResourceNotFound(name, record["name"])
    items = _event_page(call, items)
    base = _base(call)
    return reply({"events": [views.event_view(base, s, e) for s, e in items]})


@api.route(STACK + "/resources/{resource_name}/events/{event_id}")
async def show_event(call: Call) -> Response:
    record = _stack(call)
    event = call.cloud.store.get(EVENT, call.params["event_id"])
    if event is None or event["stack_id"] != record["id"] or event["resource_name"] != call.params["resource_name"]:
        raise errors.EntityNotFound("Event", call.params["event_id"])
    return reply({"event": views.event_view(_base(call), record, event, detail=True)})


# -- templates ---------------------------------------------------------------------------------------------------


@api.route(V1 + "/validate", methods=("POST",))
async def validate_template(call: Call) -> Response:
    ctx = _ctx(call)
    body = await _body(call)
    try:
        result = _engine(call).validate_template(ctx, body)
    except errors.HeatError as exc:
        raise faults.BadRequest(exc.message, kind="HTTPBadRequest") from None
    return reply(result)


@api.route(V1 + "/resource_types")
async def list_resource_types(call: Call) -> Response:
    _ctx(call)
    names = sorted(n for n, cls in REGISTRY.items() if cls.support_status != "HIDDEN")
    pattern = call.query.get("name")
    if pattern:
        try:
            names = [n for n in names if re.search(pattern, n)]
        except re.error:
            raise errors.HeatError(f"Invalid resource type name pattern {pattern}") from None
    status = call.query.get("support_status")
    if status:
        names = [n for n in names if REGISTRY[n].support_status == status]
    if _flag(call, "with_description"):
        return reply({"resource_types": [{"resource_type": n, "description": REGISTRY[n].description} for n in names]})
    return reply({"resource_types": names})


def _type(call: Call) -> type[Resource]:
    name = call.params["type_name"]
    found = REGISTRY.get(name)
    if found is None:
        raise errors.ResourceTypeNotFound(name, status=404)
    return found


@api.route(V1 + "/resource_types/{type_name}")
async def show_resource_type(call: Call) -> Response:
    _ctx(call)
    return reply(schema_dict(_type(call)))


_PARAM_TYPES = {
    "string": "string",
    "integer": "number",
    "number": "number",
    "boolean": "boolean",
    "map": "json",
    "list": "comma_delimited_list",
    "any": "string",
}


@api.route(V1 + "/resource_types/{type_name}/template")
async def resource_type_template(call: Call) -> Response:
    _ctx(call)
    cls = _type(call)
    name = cls.type_name
    params: dict[str, Any] = {}
    props: dict[str, Any] = {}
    for key, prop in cls.properties_schema.items():
        if prop.support_status == "HIDDEN":
            continue
        param: dict[str, Any] = {"type": _PARAM_TYPES[prop.type], "description": prop.description}
        if prop.default is not None:
            param["default"] = prop.default
        params[key] = param
        props[key] = {"get_param": key}
    outputs = {
        attr: {"description": spec.description, "value": {"get_attr": [name, attr]}}
        for attr, spec in {**cls.attributes_schema}.items()
    }
    outputs["show"] = {"description": "Detailed information about resource.", "value": {"get_attr": [name, "show"]}}
    body = {
        "heat_template_version": "2016-10-14",
        "description": f"Initial template of {name.rsplit('::', 1)[-1]}",
        "parameters": params,
        "resources": {name: {"type": name, "properties": props}},
        "outputs": outputs,
    }
    return reply(body)


@api.route(V1 + "/template_versions")
async def list_template_versions(call: Call) -> Response:
    _ctx(call)
    items = [
        {
            "version": f"{template.VERSION_KEY}.{date}",
            "type": "hot",
            "aliases": [f"{template.VERSION_KEY}.{a}" for a in aliases],
        }
        for date, aliases in template.VERSIONS
    ]
    return reply({"template_versions": items})


@api.route(V1 + "/template_versions/{version}/functions")
async def list_template_functions(call: Call) -> Response:
    _ctx(call)
    version = call.params["version"]
    key, _, value = version.partition(".")
    if key != template.VERSION_KEY or value not in template.CANONICAL:
        raise faults.NotFound(f"Template with version {version} not found", kind="NotFound")
    table, conditions = functions.TABLES[template.CANONICAL[value]]
    chosen = conditions if _flag(call, "with_condition_func") else table
    items = [
        {"functions": name, "description": functions.describe(kind)}
        for name, kind in sorted(chosen.items())
        if kind is not functions.Removed
    ]
    return reply({"template_functions": items})
