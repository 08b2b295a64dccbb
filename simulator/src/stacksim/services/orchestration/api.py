"""Heat's v1 REST API under ``/orchestration``, over :class:`~stacksim.services.orchestration.model.Orchestration`.

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
from stacksim.heat.resources.base import Resource, schema_dict
from stacksim.heat.stack import StackDefinition, ValidationScope
from stacksim.services.orchestration import schemas, views
from stacksim.services.orchestration.model import Listed, Orchestration
from stacksim.web import Api, Call, reply

api = Api("heat")

PREFIX = "/orchestration"
V1 = "/v1/{project_id}"
STACK = V1 + "/stacks/{stack_name}/{stack_id}"
LOOKUP_PATHS = ("resources", "events", "template", "environment", "files", "outputs", "actions")


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
    limit = _engine(call).limits.max_json_body_size
    if len(raw) > limit:
        raise errors.RequestLimitExceeded(
            f"JSON body size ({len(raw)} bytes) exceeds maximum allowed size ({limit} bytes)."
        )
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


@api.route(V1 + "/stacks")
@api.route(V1 + "/stacks/detail")
async def list_stacks(call: Call) -> Response:
    ctx = _ctx(call)
    query = schemas.stack_query(call.query)
    records, count = _engine(call).stacks(ctx, query)
    base = _base(call)
    body: dict[str, Any] = {
        "stacks": [views.stack_view(base, r, project=query.global_tenant or ctx.is_admin) for r in records]
    }
    if _flag(call, "with_count"):
        body["count"] = count
    return reply(body)


@api.route(V1 + "/stacks", methods=("POST",))
async def create_stack(call: Call) -> Response:
    ctx = _ctx(call)
    record = _engine(call).create(ctx, schemas.stack_create(await _body(call)))
    link = {"href": views.stack_url(_base(call), record), "rel": "self"}
    return reply({"stack": {"id": record["id"], "links": [link]}}, status=201)


@api.route(V1 + "/stacks/preview", methods=("POST",))
async def preview_stack(call: Call) -> Response:
    ctx = _ctx(call)
    engine = _engine(call)
    record, defn = engine.preview(ctx, schemas.stack_create(await _body(call)))
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
    request = schemas.stack_update(await _body(call), patch=call.request.method == "PATCH")
    _engine(call).update(_ctx(call), record, request)
    return reply(status=202)


@api.route(STACK + "/preview", methods=("PUT", "PATCH"))
async def preview_update(call: Call) -> Response:
    record = _stack(call)
    request = schemas.stack_update(await _body(call), patch=call.request.method == "PATCH")
    changes = _engine(call).preview_update(_ctx(call), record, request)
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
    action = schemas.stack_action(await _body(call))
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


def _resource_views(call: Call, found: list[Listed], detail: bool) -> list[dict[str, Any]]:
    base = _base(call)
    needed: dict[str, dict[str, list[str]]] = {}
    out = []
    for run, record, parent in found:
        required_by = needed.setdefault(run.id, run.required_by()).get(record["name"], [])
        out.append(
            views.resource_view(base, run.record, record, required_by, parent_resource=parent, detail=detail, run=run)
        )
    return out


@api.route(STACK + "/resources")
async def list_resources(call: Call) -> Response:
    found = _engine(call).resources(_stack(call), schemas.resource_query(call.query))
    return reply({"resources": _resource_views(call, found, _flag(call, "with_detail"))})


@api.route(STACK + "/resources/{resource_name}")
async def show_resource(call: Call) -> Response:
    record = _stack(call)
    run, res = _engine(call).resource(record, call.params["resource_name"])
    needed = run.required_by()
    body = views.resource_view(_base(call), record, res, needed.get(res["name"], []), detail=True, run=run)
    return reply({"resource": body})


@api.route(STACK + "/resources/{resource_name}/metadata")
async def resource_metadata(call: Call) -> Response:
    _, res = _engine(call).resource(_stack(call), call.params["resource_name"])
    return reply({"metadata": res.get("metadata") or {}})


@api.route(STACK + "/resources/{resource_name}", methods=("PATCH",))
async def mark_unhealthy(call: Call) -> Response:
    record = _stack(call)
    request = schemas.mark_unhealthy(await _body(call))
    _engine(call).mark_unhealthy(_ctx(call), record, call.params["resource_name"], request)
    return reply(status=200)


@api.route(STACK + "/resources/{resource_name}/signal", methods=("POST",), public=True)
async def signal_resource(call: Call) -> Response:
    raw = await call.request.body()
    details = await call.json() if raw else None
    token = call.header("x-auth-token")
    _engine(call).signal(
        call.params["stack_id"],
        call.params["stack_name"],
        call.params["resource_name"],
        details,
        secret=call.query.get("token") or token,
        caller=lambda: call.cloud.auth.context(token),
    )
    return reply(status=200)


# -- events -------------------------------------------------------------------------------------------------


@api.route(STACK + "/events")
async def list_events(call: Call) -> Response:
    record = _stack(call)
    query = schemas.event_query(call.query)
    items = _engine(call).stack_events(record, query)
    root = record if query.nested_depth else None
    return reply({"events": [views.event_view(_base(call), s, e, root=root) for s, e in items]})


@api.route(STACK + "/resources/{resource_name}/events")
async def list_resource_events(call: Call) -> Response:
    record = _stack(call)
    query = schemas.event_query(call.query, resource=call.params["resource_name"])
    items = _engine(call).stack_events(record, query)
    return reply({"events": [views.event_view(_base(call), s, e) for s, e in items]})


@api.route(STACK + "/resources/{resource_name}/events/{event_id}")
async def show_event(call: Call) -> Response:
    record = _stack(call)
    event = _engine(call).event(record, call.params["resource_name"], call.params["event_id"])
    return reply({"event": views.event_view(_base(call), record, event, detail=True)})


# -- templates ---------------------------------------------------------------------------------------------------


@api.route(V1 + "/validate", methods=("POST",))
async def validate_template(call: Call) -> Response:
    ctx = _ctx(call)
    body = await _body(call)
    try:
        result = _engine(call).validate_template(ctx, schemas.template_source(body))
    except errors.HeatError as exc:
        raise faults.BadRequest(exc.message, kind="HTTPBadRequest") from None
    return reply(result)


@api.route(V1 + "/resource_types")
async def list_resource_types(call: Call) -> Response:
    _ctx(call)
    types = _engine(call).resource_types()
    names = sorted(n for n, cls in types.items() if cls.support_status != "HIDDEN")
    pattern = call.query.get("name")
    if pattern:
        try:
            names = [n for n in names if re.search(pattern, n)]
        except re.error:
            raise errors.HeatError(f"Invalid resource type name pattern {pattern}") from None
    status = call.query.get("support_status")
    if status:
        names = [n for n in names if types[n].support_status == status]
    if _flag(call, "with_description"):
        return reply({"resource_types": [{"resource_type": n, "description": types[n].description} for n in names]})
    return reply({"resource_types": names})


def _type(call: Call) -> type[Resource]:
    return _engine(call).resource_type(call.params["type_name"])


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
