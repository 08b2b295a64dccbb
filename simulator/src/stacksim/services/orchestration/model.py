"""Orchestration's model: the stacks a project may see and what may be asked of them.

:class:`Orchestration` is ``cloud.orchestration``, the service's one facade.
It takes typed requests (:class:`StackCreate`, :class:`StackUpdate` ...,
read from Heat's bodies by :mod:`.schemas`), holds Heat's rules for them
(who sees which stack, names, busy stacks, what an update may change, the
limits of :class:`~stacksim.heat.limits.Limits`), and hands the work to the
template engine's :class:`~stacksim.heat.engine.Engine`, which runs it in
the background. Software configs are its part ``configs``
(:class:`~stacksim.services.orchestration.configs.SoftwareConfigs`).

Errors are :mod:`stacksim.heat.errors` (Heat's 400/404/409 bodies).
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stacksim import faults
from stacksim.auth import Context
from stacksim.heat import errors, fetch
from stacksim.heat.engine import EVENT, RESOURCE, STACK, Engine
from stacksim.heat.environment import Environment
from stacksim.heat.limits import Limits, check_structure
from stacksim.heat.resources import REGISTRY
from stacksim.heat.resources.base import Resource
from stacksim.heat.run import COMPLETE, FAILED, IN_PROGRESS, StackRun
from stacksim.heat.stack import StackDefinition
from stacksim.services.orchestration.configs import SoftwareConfigs

if TYPE_CHECKING:
    from stacksim.cloud import Cloud

__all__ = ["EVENT", "RESOURCE", "STACK", "Orchestration", "StackRun"]

NAME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9_.-]{0,254}$")


# -- typed requests ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateSource:
    """What a request gives a stack's definition from: a template (or its URL) and what goes with it."""

    template: Any = None
    template_url: str | None = None
    files: dict[str, str] = field(default_factory=dict)
    environment: Any = None
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StackCreate:
    name: Any
    source: TemplateSource
    disable_rollback: bool = True
    timeout_mins: int | None = None
    tags: list[str] | None = None
    adopt: bool = False


@dataclass(frozen=True)
class StackUpdate:
    """``PUT`` (everything given anew) or ``PATCH`` (``patch``: what is not given is kept)."""

    source: TemplateSource
    patch: bool = False
    clear_parameters: tuple[str, ...] = ()
    disable_rollback: bool | None = None
    timeout_mins: int | None = None
    tags: list[str] | None = None
    #: the request named ``tags`` (None then clears them)
    set_tags: bool = False


@dataclass(frozen=True)
class MarkUnhealthy:
    mark: bool
    reason: str = ""


@dataclass(frozen=True)
class StackQuery:
    """``GET /stacks``: who asks for what, filtered, sorted and paged as Heat does."""

    global_tenant: bool = False
    all_projects: bool = False
    show_deleted: bool = False
    show_nested: bool = False
    #: filter key (Heat's names) -> the values wanted
    filters: dict[str, list[str]] = field(default_factory=dict)
    #: tags, tags_any, not_tags, not_tags_any -> the tags given
    tag_filters: dict[str, set[str]] = field(default_factory=dict)
    sort_keys: tuple[str, ...] = ()
    descending: bool = True
    marker: str | None = None
    limit: int | None = None


@dataclass(frozen=True)
class ResourceQuery:
    """``GET .../resources``: how deep into nested stacks, and which resources (each filter: any of its values)."""

    nested_depth: int = 0
    names: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    physical_ids: tuple[str, ...] = ()
    #: ``IN_PROGRESS`` ... or whole states (``CREATE_COMPLETE``)
    statuses: tuple[str, ...] = ()
    #: ``CREATE`` ... or whole states
    actions: tuple[str, ...] = ()

    def wants(self, record: Mapping[str, Any]) -> bool:
        state = f"{record['action']}_{record['status']}"
        return (
            (not self.names or record["name"] in self.names)
            and (not self.types or record["type"] in self.types)
            and (not self.ids or (record.get("physical_id") or "") in self.ids)
            and (not self.physical_ids or (record.get("physical_id") or "") in self.physical_ids)
            and (not self.statuses or record["status"] in self.statuses or state in self.statuses)
            and (not self.actions or record["action"] in self.actions or state in self.actions)
        )


@dataclass(frozen=True)
class EventQuery:
    """``GET .../events``: of one resource or the whole stack (and its nested ones), filtered and paged."""

    resource: str | None = None
    nested_depth: int = 0
    #: event field -> the values wanted
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    descending: bool = False
    marker: str | None = None
    limit: int | None = None


#: a resource as a listing finds it: its stack's run, its record, the parent resource of a nested one
Listed = tuple[StackRun, dict[str, Any], str | None]

#: Heat's sort keys for stacks -> the record's field
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


def _matches(record: Mapping[str, Any], key: str, wanted: list[str]) -> bool:
    if key in ("name", "stack_name"):
        return record["name"] in wanted
    if key == "id":
        return record["id"] in wanted
    if key in ("status", "stack_status"):
        return any(w in (record["status"], f"{record['action']}_{record['status']}") for w in wanted)
    if key == "action":
        return record["action"] in wanted
    if key in ("tenant", "project_id", "tenant_id"):
        return record["project_id"] in wanted
    if key == "username":
        return record.get("username") in wanted
    if key in ("owner_id", "parent"):
        return record.get("parent_id") in wanted
    return True


def _tagged(record: Mapping[str, Any], wanted: Mapping[str, set[str]]) -> bool:
    tags = set(record.get("tags") or [])
    if "tags" in wanted and not wanted["tags"] <= tags:
        return False
    if "tags_any" in wanted and not wanted["tags_any"] & tags:
        return False
    if "not_tags" in wanted and wanted["not_tags"] <= tags:
        return False
    return not ("not_tags_any" in wanted and wanted["not_tags_any"] & tags)


def signal_reason(details: Any) -> str:
    if isinstance(details, Mapping):
        return str(details.get("reason") or details.get("status") or "Signal received")
    return "Signal received"


class Orchestration:
    """``cloud.orchestration``: the stacks of every project, and Heat's rules for requests on them."""

    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud
        self.store = cloud.store
        self.limits = Limits.from_settings(cloud.settings)
        self.engine = Engine(cloud, self.limits)
        self.configs = SoftwareConfigs(self.store)

    def recover(self) -> None:
        """At start: settle what a process that died left in flight."""
        self.engine.recover()

    # -- reading -----------------------------------------------------------------------------

    def visible(self, ctx: Context, record: Mapping[str, Any]) -> bool:
        return ctx.is_admin or record["project_id"] == ctx.project_id

    def get(self, ctx: Context, stack_id: str, name: str | None = None) -> dict[str, Any]:
        """A stack by id (deleted ones too, as Heat shows them), checked against ``name`` if given."""
        record = self.store.get(STACK, stack_id)
        if record is None or not self.visible(ctx, record) or (name is not None and record["name"] != name):
            raise errors.EntityNotFound("Stack", name or stack_id)
        return record

    def lookup(self, ctx: Context, name_or_id: str) -> dict[str, Any]:
        """A live stack by name (the caller's project first) or id, as Heat's ``stacks:lookup``."""
        record = self.store.get(STACK, name_or_id)
        if record is not None and self.visible(ctx, record) and not record.get("deleted"):
            return record
        found = [r for r in self.store.find(STACK, name=name_or_id) if not r.get("deleted")]
        mine = [r for r in found if r["project_id"] == ctx.project_id]
        if mine:
            return mine[0]
        if ctx.is_admin and found:
            return found[0]
        raise errors.EntityNotFound("Stack", name_or_id)

    def stacks(self, ctx: Context, query: StackQuery) -> tuple[list[dict[str, Any]], int]:
        """The stacks the query finds, and how many there are before ``limit``."""
        if query.global_tenant and not ctx.is_admin:
            raise faults.Forbidden("You are not authorized to use global_index.", kind="Forbidden")
        everyone = ctx.is_admin and (query.global_tenant or query.all_projects)
        records = self.store.find(STACK) if everyone else self.store.find(STACK, project_id=ctx.project_id)
        records = [
            r
            for r in records
            if (query.show_deleted or not r.get("deleted"))
            and (query.show_nested or not r.get("parent_id"))
            and all(_matches(r, k, v) for k, v in query.filters.items())
            and _tagged(r, query.tag_filters)
        ]
        for key in query.sort_keys:
            if key not in SORT_KEYS:
                raise errors.HeatError(f"Sort key {key} is not one of {', '.join(sorted(SORT_KEYS))}")
        keys = [SORT_KEYS[k] for k in query.sort_keys] or ["created"]
        records.sort(key=lambda r: tuple(str(r.get(k) or "") for k in keys), reverse=query.descending)
        if query.marker:
            ids = [r["id"] for r in records]
            if query.marker not in ids:
                raise errors.EntityNotFound("Stack", query.marker)
            records = records[ids.index(query.marker) + 1 :]
        count = len(records)
        if query.limit is not None:
            records = records[: query.limit]
        return records, count

    def run_of(self, record: dict[str, Any]) -> StackRun:
        """The stack's run: its resources, outputs and definition, as the views read them."""
        return self.engine.run_of(record)

    def nested_run(self, stack_id: str | None) -> StackRun | None:
        return self.engine.nested_run(stack_id)

    def events(self, stack_id: str) -> list[dict[str, Any]]:
        return self.engine.events(stack_id)

    def event(self, record: Mapping[str, Any], resource_name: str, event_id: str) -> dict[str, Any]:
        event = self.store.get(EVENT, event_id)
        if event is None or event["stack_id"] != record["id"] or event["resource_name"] != resource_name:
            raise errors.EntityNotFound("Event", event_id)
        return event

    def resources(self, record: dict[str, Any], query: ResourceQuery) -> list[Listed]:
        """The stack's resources (and its nested stacks' to ``nested_depth``) that the query wants."""
        found: list[Listed] = []

        def walk(run: StackRun, depth: int, parent: str | None) -> None:
            for res in run.records.values():
                found.append((run, res, parent))
                if depth > 0 and res.get("nested_id"):
                    child = self.engine.nested_run(res["nested_id"])
                    if child is not None:
                        walk(child, depth - 1, res["name"])

        walk(self.engine.run_of(record), query.nested_depth, None)
        return [item for item in found if query.wants(item[1])]

    def resource(self, record: dict[str, Any], name: str) -> tuple[StackRun, dict[str, Any]]:
        """One of the stack's resources, by name or physical id."""
        run = self.engine.run_of(record)
        res = run.records.get(name) or next((r for r in run.records.values() if r.get("physical_id") == name), None)
        if res is None:
            raise errors.ResourceNotFound(name, run.name)
        return run, res

    def stack_events(self, record: dict[str, Any], query: EventQuery) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(stack, event) pairs, oldest first unless ``descending``, after ``marker``, at most ``limit``."""
        items: list[tuple[dict[str, Any], dict[str, Any]]] = []

        def walk(stack: dict[str, Any], depth: int) -> None:
            items.extend((stack, e) for e in self.engine.events(stack["id"]))
            if depth > 0:
                for child in self.store.find(STACK, parent_id=stack["id"]):
                    walk(child, depth - 1)

        walk(record, query.nested_depth)
        if query.resource is not None:
            items = [(s, e) for s, e in items if e["resource_name"] == query.resource]
            if not items and query.resource not in self.engine.run_of(record).records:
                raise errors.ResourceNotFound(query.resource, record["name"])
        for key, wanted in query.filters.items():
            items = [(s, e) for s, e in items if e.get(key) in wanted]
        items.sort(key=lambda se: se[1]["seq"], reverse=query.descending)
        if query.marker:
            ids = [e["id"] for _, e in items]
            if query.marker not in ids:
                raise errors.EntityNotFound("Event", query.marker)
            items = items[ids.index(query.marker) + 1 :]
        return items if query.limit is None else items[: query.limit]

    @staticmethod
    def resource_types() -> dict[str, type[Resource]]:
        """The built-in resource types by name."""
        return REGISTRY

    @staticmethod
    def resource_type(name: str) -> type[Resource]:
        found = REGISTRY.get(name)
        if found is None:
            raise errors.ResourceTypeNotFound(name, status=404)
        return found

    # -- what a request gives ----------------------------------------------------------------------

    def _given(self, source: TemplateSource, tags: list[str] | None = None) -> None:
        """What a request gives besides its template, held to the limits (and to valid text, so that
        nothing stored breaks a later list)."""
        for what, value in (("The parameters", source.parameters), ("The files", source.files), ("The tags", tags)):
            check_structure(value, self.limits, what)

    def _template(self, source: TemplateSource) -> Any:
        if source.template is None and source.template_url:
            return fetch.template(source.template_url, self.limits)
        return source.template

    def _read(self, source: TemplateSource) -> tuple[Any, dict[str, str], Environment]:
        self._given(source)
        template = self._template(source)
        if template is None:
            raise errors.HeatError("No template specified")
        env = Environment.from_dict(source.environment)
        env.parameters.update(source.parameters)
        return template, dict(source.files), env

    def check_name(self, ctx: Context, name: Any) -> str:
        if not isinstance(name, str) or not NAME_RE.match(name):
            shown = name.encode("utf-8", "backslashreplace").decode() if isinstance(name, str) else name
            raise errors.StackValidationFailed(
                f'Invalid stack name {shown} must contain only alphanumeric or "_-." characters, '
                "must start with alpha and must be 255 characters or less."
            )
        for other in self.store.find(STACK, name=name, project_id=ctx.project_id):
            if not other.get("deleted"):
                raise errors.StackExists(name)
        return name

    def _prepare(self, ctx: Context, request: StackCreate, stack_id: str) -> tuple[StackDefinition, dict]:
        name = self.check_name(ctx, request.name)
        template, files, env = self._read(request.source)
        defn = self.engine.definition(template, files, env, name, stack_id, ctx.project_id or "")
        self.limits.check_resources(len(defn.resources))
        defn.validate(self.engine.checker(ctx))
        return defn, {"template": defn.raw, "files": files, "environment": env.as_dict()}

    def _new(self, ctx: Context, request: StackCreate) -> tuple[dict[str, Any], StackDefinition]:
        stack_id = str(uuid.uuid4())
        defn, parts = self._prepare(ctx, request, stack_id)
        record = self.engine.new_record(
            ctx,
            stack_id,
            defn.stack_name,
            parts,
            disable_rollback=request.disable_rollback,
            timeout_mins=request.timeout_mins,
            tags=request.tags,
        )
        return record, defn

    # -- requests: create, preview, update, delete, actions --------------------------------------

    def create(self, ctx: Context, request: StackCreate) -> dict[str, Any]:
        if request.adopt:
            raise errors.NotSupported("Stack adopt")
        self.limits.check_stacks(len(self.stacks(ctx, StackQuery())[0]))
        self._given(request.source, request.tags)
        record, defn = self._new(ctx, request)
        engine = self.engine
        with self.store.transaction():
            self.store.put(STACK, record)
            engine.init_resources(record, defn)
            engine.set_stack_state(record, "CREATE", IN_PROGRESS, "Stack CREATE started")
        engine.schedule(record, "create")
        return record

    def preview(self, ctx: Context, request: StackCreate) -> tuple[dict[str, Any], StackDefinition]:
        return self._new(ctx, request)

    def busy(self, record: Mapping[str, Any]) -> None:
        if record["status"] == IN_PROGRESS:
            raise errors.ActionInProgress(record["name"], record["action"])

    def plan_update(
        self, ctx: Context, record: dict[str, Any], request: StackUpdate
    ) -> tuple[StackDefinition, dict[str, Any]]:
        """The new definition an update asks for, validated; and what the stack record becomes."""
        if record["action"] == "DELETE":
            raise errors.NotSupported("Updating a stack when it is deleting")
        source = request.source
        self._given(source, request.tags)
        if request.patch:
            template = self._template(source)
            if template is None:
                template = copy.deepcopy(record["template"])
            env = Environment.from_dict(record["environment"]).merged(Environment.from_dict(source.environment))
            env.parameters.update(source.parameters)
            for name in request.clear_parameters:
                env.parameters.pop(name, None)
                env.parameter_defaults.pop(name, None)
            files = {**record.get("files", {}), **source.files}
        else:
            template, files, env = self._read(source)
        engine = self.engine
        defn = engine.definition(template, files, env, record["name"], record["id"], record["project_id"] or "")
        self.limits.check_resources(len(defn.resources))
        defn.validate(engine.checker(ctx))
        old = engine.run_of(record).defn
        changed = old.params.immutable_changes(defn.params)
        if changed:
            raise errors.ImmutableParameterModified(changed)
        rollback = request.disable_rollback
        changes = {
            "template": defn.raw,
            "files": files,
            "environment": env.as_dict(),
            "disable_rollback": record["disable_rollback"] if rollback is None else rollback,
            "timeout_mins": request.timeout_mins or (record["timeout_mins"] if request.patch else None),
        }
        if request.set_tags:
            changes["tags"] = request.tags
        return defn, changes

    def update(self, ctx: Context, record: dict[str, Any], request: StackUpdate) -> None:
        self.busy(record)
        _, changes = self.plan_update(ctx, record, request)
        with self.store.transaction():
            record["previous"] = {
                "template": record["template"],
                "files": record["files"],
                "environment": record["environment"],
            }
            record.update(changes)
            self.engine.set_stack_state(record, "UPDATE", IN_PROGRESS, "Stack UPDATE started")
        self.engine.schedule(record, "update")

    def preview_update(
        self, ctx: Context, record: dict[str, Any], request: StackUpdate
    ) -> dict[str, list[dict[str, Any]]]:
        defn, _ = self.plan_update(ctx, record, request)
        return self.engine.run_of(record).plan(defn)

    def delete(self, ctx: Context, record: dict[str, Any]) -> None:
        if record.get("deleted") or (record["action"] == "DELETE" and record["status"] == IN_PROGRESS):
            return
        control = self.engine.control(record["id"])
        if control is not None:
            control.cancel = "delete"
        self.engine.set_stack_state(record, "DELETE", IN_PROGRESS, "Stack DELETE started")
        self.engine.schedule(record, "delete")

    def act(self, ctx: Context, record: dict[str, Any], action: str) -> None:
        """``POST .../actions``: suspend, resume, check, cancel_update, cancel_without_rollback."""
        if action in ("cancel_update", "cancel_without_rollback"):
            allowed = ("UPDATE",) if action == "cancel_update" else ("UPDATE", "CREATE")
            control = self.engine.control(record["id"])
            if record["status"] != IN_PROGRESS or record["action"] not in allowed or control is None:
                state = str((record["action"], record["status"]))
                raise errors.NotSupported(f"Cancelling update when stack is {state}")
            control.cancel = "rollback" if action == "cancel_update" else "no_rollback"
            return
        self.busy(record)
        if record["action"] == "DELETE":
            raise errors.NotSupported(f"{action.capitalize()} of a deleted stack")
        name = action.upper()
        self.engine.set_stack_state(record, name, IN_PROGRESS, f"Stack {name} started")
        self.engine.schedule(record, action)

    def mark_unhealthy(self, ctx: Context, record: dict[str, Any], name: str, request: MarkUnhealthy) -> None:
        run, res = self.resource(record, name)
        if res["status"] == IN_PROGRESS:
            raise errors.ActionInProgress(record["name"], res["action"])
        if request.mark:
            res["needs_replace"] = True
            run.resource_state(res, "CHECK", FAILED, request.reason or "state changed")
        elif (res["action"], res["status"]) == ("CHECK", FAILED):
            res["needs_replace"] = False
            run.resource_state(res, "CHECK", COMPLETE, request.reason or "state changed")

    def signal(
        self,
        stack_id: str,
        stack_name: str,
        name: str,
        details: Any,
        *,
        secret: str | None,
        caller: Callable[[], Context],
    ) -> None:
        """A signal to a resource: allowed with the resource's own ``secret`` (a wait condition handle's
        token, from an instance that has no Keystone token), else by the rights of ``caller()``."""
        record = self.store.get(STACK, stack_id)
        if record is None or record["name"] != stack_name or record.get("deleted"):
            raise errors.EntityNotFound("Stack", stack_name)
        run, res = self.resource(record, name)
        plugin = run.plugin(res)
        own = plugin.signal_token()
        if (own is None or secret != own) and not self.visible(caller(), record):
            raise errors.EntityNotFound("Stack", record["name"])
        plugin.handle_signal(details)
        run.save(plugin)
        run.emit_resource(plugin, res["action"], res["status"], "Signal: " + signal_reason(details))

    def validate_template(self, ctx: Context, source: TemplateSource) -> dict[str, Any]:
        template, files, env = self._read(source)
        defn = self.engine.definition(
            template, files, env, "validate", "", ctx.project_id or "", strict=False, validate_only=True
        )
        self.limits.check_resources(len(defn.resources))
        defn.validate(self.engine.checker(ctx))
        result: dict[str, Any] = {
            "Description": defn.template.description,
            "Parameters": {
                name: schema.validate_info(env.parameters.get(name)) for name, schema in defn.params.schemas.items()
            },
        }
        if defn.template.parameter_groups:
            result["ParameterGroups"] = defn.template.parameter_groups
        result["Environment"] = env.as_dict()
        return result
