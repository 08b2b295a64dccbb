"""One stack at work: its records, its definition, its resources' plugins and its actions.

A :class:`StackRun` reads a stack's records and builds its definition on
demand; its actions (create, update, delete, suspend, resume, check and the
rollbacks) are generators the engine steps (see :mod:`.engine`): each runs
the resource graph, starting a resource once everything it requires is done,
so independent resources are worked on side by side. Every state change of
the stack or of a resource is written to the store and recorded as an event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Generator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stacksim import faults
from stacksim.auth import Context
from stacksim.heat import errors, functions, graph
from stacksim.heat.environment import Environment
from stacksim.heat.functions import UNRESOLVED
from stacksim.heat.lookup import NotFound as LookupNotFound
from stacksim.heat.resources import REGISTRY
from stacksim.heat.resources.base import (
    NotCheckable,
    NotReady,
    Resource,
    ResourceInError,
    Runtime,
    UpdateReplace,
    check_properties,
)
from stacksim.heat.stack import ResourceDefinition, StackDefinition
from stacksim.toolkit import timestamp

if TYPE_CHECKING:
    from stacksim.heat.engine import Engine

log = logging.getLogger("stacksim.heat")

STACK = "heat_stack"
RESOURCE = "heat_resource"
EVENT = "heat_event"
IN_PROGRESS, COMPLETE, FAILED = "IN_PROGRESS", "COMPLETE", "FAILED"
Task = Generator[None, None, None]


now = timestamp


def ctx_dump(ctx: Context) -> dict[str, Any]:
    return {
        "user_id": ctx.user_id,
        "user_name": ctx.user_name,
        "user_domain_id": ctx.user_domain_id,
        "roles": sorted(ctx.roles),
        "project_id": ctx.project_id,
        "project_name": ctx.project_name,
        "project_domain_id": ctx.project_domain_id,
    }


def ctx_load(data: Mapping[str, Any]) -> Context:
    return Context(
        token_id="",
        user_id=data["user_id"],
        user_name=data.get("user_name") or "",
        user_domain_id=data.get("user_domain_id") or "default",
        roles=frozenset(data.get("roles") or ()),
        project_id=data.get("project_id"),
        project_name=data.get("project_name"),
        project_domain_id=data.get("project_domain_id"),
    )


def failure_of(res_name: str, exc: BaseException) -> errors.ResourceFailure:
    """Heat's ``<Error>: resources.<name>: <message>`` for what went wrong in a resource."""
    path: list[Any] = ["resources", res_name]
    if isinstance(exc, errors.ResourceFailure):
        return errors.ResourceFailure(exc.error, [*path, *exc.path[1:]] if exc.path else path, exc.message)
    if isinstance(exc, faults.ApiError):
        kind = type(exc).__name__ if type(exc) is not faults.ApiError else exc.kind
        return errors.ResourceFailure(kind, path, exc.message)
    if isinstance(exc, LookupNotFound):
        return errors.ResourceFailure("NotFound", path, str(exc))
    return errors.ResourceFailure(type(exc).__name__, path, str(exc))


@dataclass
class Control:
    """How the API talks to a running action: cancel it (and how), and know when it stopped."""

    cancel: str | None = None  # "rollback", "no_rollback" or "delete"
    done: asyncio.Event = field(default_factory=asyncio.Event)


def new_resource_record(stack_id: str, name: str, defn: ResourceDefinition) -> dict[str, Any]:
    return {
        "id": f"{stack_id}:{name}",
        "stack_id": stack_id,
        "name": name,
        "uuid": str(uuid.uuid4()),
        "type": defn.type,
        "action": "INIT",
        "status": COMPLETE,
        "status_reason": "",
        "physical_id": "",
        "data": {},
        "properties": {},
        "metadata": {},
        "description": defn.description,
        "created": now(),
        "updated": None,
        "nested_id": None,
        "needs_replace": False,
    }


class RunScope:
    """Resolution while a stack lives: resources give their ids and attributes."""

    def __init__(self, run: StackRun, defn: StackDefinition) -> None:
        self.run = run
        self.defn = defn
        self.limits = defn.limits

    def param(self, name: str) -> Any:
        return self.defn.params.value(name)

    def file(self, key: str) -> str | None:
        return self.defn.files.get(key)

    def has_resource(self, name: str) -> bool:
        return name in self.defn.declared

    def _ready(self, name: str) -> Resource | None:
        record = self.run.records.get(name)
        if record is None or name not in self.defn.resources:
            return None
        if record["action"] in ("INIT", "DELETE"):
            return None
        return self.run.plugin(record)

    def ref(self, name: str) -> Any:
        res = self._ready(name)
        return None if res is None else res.reference_id()

    def attr(self, name: str, attr: str, path: list[Any]) -> Any:
        res = self._ready(name)
        if res is None:
            return None
        return res.get_attribute_path(attr, path)

    def all_attrs(self, name: str) -> Any:
        res = self._ready(name)
        return None if res is None else res.all_attributes()

    def attribute_known(self, name: str, attr: str) -> bool:
        defn = self.defn.resources.get(name)
        return True if defn is None else defn.plugin.attribute_known_for(self.defn, defn, attr)

    def condition(self, name: Any) -> bool:
        return self.defn.conditions.is_enabled(name)

    def facade(self, what: str) -> Any:
        return self.defn.facade.get(what)


class StackRun:
    """One stack being read or worked on: its record, definition, resources and actions."""

    def __init__(self, engine: Engine, record: dict[str, Any], defn: StackDefinition | None = None) -> None:
        self.engine = engine
        self.record = record
        self.store = engine.store
        self.ctx = ctx_load(record["ctx"])
        self.rt = Runtime(engine.cloud, self.ctx, self, engine.checker(self.ctx))
        self._defn = defn
        found = engine.resource_records(record["id"])
        self.records: dict[str, dict[str, Any]] = {r["name"]: r for r in found if not r.get("replaced")}
        #: resources an update replaced whose physical resources are not deleted yet (kept under their own ids)
        self.replaced: list[dict[str, Any]] = [r for r in found if r.get("replaced")]
        self._plugins: dict[str, Resource] = {}
        #: the definition before an update, for the resources only it knows
        self.fallback: StackDefinition | None = None

    @property
    def name(self) -> str:
        return self.record["name"]

    @property
    def id(self) -> str:
        return self.record["id"]

    @property
    def defn(self) -> StackDefinition:
        if self._defn is None:
            self._defn = self.definition_from(self.record)
        return self._defn

    def definition_from(self, parts: Mapping[str, Any]) -> StackDefinition:
        facade = None
        if self.record.get("parent_id"):
            parent = self.store.get(RESOURCE, f"{self.record['parent_id']}:{self.record['parent_resource']}")
            facade = {
                "metadata": (parent or {}).get("metadata") or {},
                "deletion_policy": (parent or {}).get("deletion_policy", "Delete"),
                "update_policy": {},
            }
        return self.engine.definition(
            parts["template"],
            parts.get("files") or {},
            Environment.from_dict(parts.get("environment")),
            self.name,
            self.id,
            self.record["project_id"] or "",
            strict=False,
            depth=self.record.get("depth", 0),
            facade=facade,
        )

    def scope(self, defn: StackDefinition | None = None) -> RunScope:
        return RunScope(self, defn or self.defn)

    # -- plugins --------------------------------------------------------------------------------

    def plugin_class(self, record: Mapping[str, Any], defn: StackDefinition | None = None) -> type[Resource]:
        name = record["name"]
        candidates = [d for d in (defn, self.defn, self.fallback) if d is not None]
        for candidate in candidates:
            if name in candidate.resources and candidate.resources[name].type == record["type"]:
                return candidate.resources[name].plugin
        for candidate in candidates:
            with contextlib.suppress(errors.HeatError):
                return candidate.plugin_for(record["type"], name)
        found = REGISTRY.get(record["type"])
        if found is None:
            raise errors.ResourceTypeNotFound(record["type"])
        return found

    def plugin(self, record: dict[str, Any], defn: StackDefinition | None = None) -> Resource:
        if record.get("replaced"):
            return self.plugin_class(record, defn)(self.rt, record["name"], record)
        cached = self._plugins.get(record["name"])
        if cached is not None and cached.record is record:
            return cached
        cls = self.plugin_class(record, defn)
        instance = cls(self.rt, record["name"], record)
        self._plugins[record["name"]] = instance
        return instance

    def save(self, res: Resource) -> None:
        self.store.put(RESOURCE, res.record)

    # -- states and events ----------------------------------------------------------------------

    def set_state(self, action: str, status: str, reason: str) -> None:
        self.engine.set_stack_state(self.record, action, status, reason)

    def resource_state(self, record: dict[str, Any], action: str, status: str, reason: str) -> None:
        record.update(action=action, status=status, status_reason=reason)
        if (action, status) != ("CREATE", IN_PROGRESS):
            record["updated"] = now()
        self.store.put(RESOURCE, record)
        self.engine.emit(
            self.record,
            record["name"],
            record.get("physical_id"),
            action,
            status,
            reason,
            record["type"],
            record.get("properties"),
        )

    def emit_resource(self, res: Resource, action: str, status: str, reason: str) -> None:
        self.engine.emit(self.record, res.name, res.resource_id, action, status, reason, res.record["type"])

    # -- properties -------------------------------------------------------------------------------

    def resolve_properties(self, res: Resource, defn: StackDefinition) -> dict[str, Any]:
        rdef = defn.resources[res.name]
        scope = self.scope(defn)
        path: list[Any] = [res.name, "Properties"]
        try:
            values = functions.resolve(rdef.properties, scope)
        except errors.StackValidationFailed:
            raise
        except (TypeError, ValueError, KeyError) as exc:
            raise errors.StackValidationFailed(functions._text(exc), path=path, error="Property error") from None
        values = _drop_unresolved(values)
        schema = rdef.plugin.schema_for(defn, rdef)
        props = check_properties(schema, values, path, self.rt.checker)
        rdef.plugin.validate_definition(defn, rdef, props, self.rt.checker)
        return props

    def resolve_metadata(self, name: str, defn: StackDefinition) -> Any:
        rdef = defn.resources[name]
        value = functions.resolve(rdef.metadata, self.scope(defn))
        return _drop_unresolved(value) or {}

    # -- the graph runner ---------------------------------------------------------------------

    def run_graph(self, requires: Mapping[str, set[str]], start: Any) -> Task:
        """Run ``start(name)`` tasks in graph order, independent ones side by side.

        The first failure stops new tasks and aborts the running ones, then is
        raised; so is anything thrown in (a cancel, a time-out), after aborting.
        """
        done: set[str] = set()
        started: set[str] = set()
        running: dict[str, Task] = {}
        failure: BaseException | None = None
        try:
            while True:
                for name in graph.ready(requires, done, started):
                    started.add(name)
                    running[name] = start(name)
                if not running:
                    break
                for name, task in list(running.items()):
                    try:
                        next(task)
                    except StopIteration:
                        done.add(name)
                        del running[name]
                    except errors.ResourceFailure as exc:
                        del running[name]
                        failure = exc
                        break
                if failure is not None:
                    break
                if running and not graph.ready(requires, done, started):
                    yield
        finally:
            for task in running.values():
                task.close()
        if failure is not None:
            raise failure

    # -- resource actions -------------------------------------------------------------------------

    def _fail(self, record: dict[str, Any], action: str, exc: BaseException) -> errors.ResourceFailure:
        failure = failure_of(record["name"], exc)
        failure.action = action
        expected = (
            errors.ResourceFailure,
            faults.ApiError,
            ResourceInError,
            NotReady,
            LookupNotFound,
            ValueError,
            TypeError,
        )
        if not isinstance(exc, expected):
            log.error("resource %s of stack %s: %s failed", record["name"], self.id, action, exc_info=exc)
        self.resource_state(record, action, FAILED, str(failure))
        return failure

    def create_resource(self, name: str, defn: StackDefinition | None = None) -> Task:
        defn = defn or self.defn
        record = self.records.get(name)
        if record is None or (record["action"], record["status"]) == ("DELETE", COMPLETE):
            record = new_resource_record(self.id, name, defn.resources[name])
            self.records[name] = record
        record["type"] = defn.resources[name].type
        record["deletion_policy"] = defn.resources[name].deletion_policy
        res = self.plugin(record, defn)
        self.resource_state(record, "CREATE", IN_PROGRESS, "state changed")
        try:
            record["metadata"] = self.resolve_metadata(name, defn)
            res.props = self.resolve_properties(res, defn)
            record["properties"] = res.props
            res.handle_create()
            self.save(res)
            while not res.check_create_complete():
                yield
        except GeneratorExit:
            res.abort()
            self.save(res)
            self.resource_state(record, "CREATE", FAILED, "CREATE aborted")
            raise
        except Exception as exc:
            self.save(res)
            raise self._fail(record, "CREATE", exc) from None
        self.resource_state(record, "CREATE", COMPLETE, "state changed")

    def delete_resource(self, name: str) -> Task:
        record = self.records.get(name)
        if record is None:
            return
        yield from self.delete_record(record)

    def delete_record(self, record: dict[str, Any], action: str = "DELETE") -> Task:
        if (record["action"], record["status"]) in (("INIT", COMPLETE), ("DELETE", COMPLETE)):
            return
        res = self.plugin(record)
        self.resource_state(record, action, IN_PROGRESS, "state changed")
        if record.get("deletion_policy") == "Retain":
            self.resource_state(record, action, COMPLETE, "state changed")
            return
        try:
            res.handle_delete()
            self.save(res)
            while not res.check_delete_complete():
                yield
        except GeneratorExit:
            res.abort()
            self.resource_state(record, action, FAILED, f"{action} aborted")
            raise
        except Exception as exc:
            if not Resource.gone(exc):
                raise self._fail(record, action, exc) from None
        self.resource_state(record, action, COMPLETE, "state changed")

    def simple_action(self, name: str, action: str) -> Task:
        """SUSPEND, RESUME or CHECK of one resource."""
        record = self.records.get(name)
        if record is None or record["action"] == "INIT":
            return
        res = self.plugin(record)
        res.props = dict(record.get("properties") or {})
        self.resource_state(record, action, IN_PROGRESS, "state changed")
        lower = action.lower()
        try:
            if action == "CHECK":
                try:
                    res.handle_check()
                except NotCheckable:
                    self.resource_state(record, action, COMPLETE, f"{action} not supported for {record['type']}")
                    return
            else:
                getattr(res, f"handle_{lower}")()
                self.save(res)
                while not getattr(res, f"check_{lower}_complete")():
                    yield
        except GeneratorExit:
            res.abort()
            self.resource_state(record, action, FAILED, f"{action} aborted")
            raise
        except Exception as exc:
            raise self._fail(record, action, exc) from None
        if action == "CHECK":
            record["needs_replace"] = False
        self.resource_state(record, action, COMPLETE, "state changed")

    # -- update -----------------------------------------------------------------------------------

    def _diff(self, name: str, new: StackDefinition) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """What an update does to one resource: create, unchanged, update, replace, or metadata."""
        record = self.records.get(name)
        if (
            record is None
            or record["action"] == "INIT"
            or (record["action"], record["status"])
            == (
                "DELETE",
                COMPLETE,
            )
        ):
            return "create", {}, {}
        rdef = new.resources[name]
        old_cls = self.plugin_class(record)
        if rdef.type != record["type"] or rdef.plugin is not old_cls:
            return "replace", {}, {}
        if record["status"] == FAILED or record.get("needs_replace"):
            return "replace", {}, {}
        res = self.plugin(record)
        try:
            props = self.resolve_properties(res, new)
        except errors.StackValidationFailed:
            raise
        old_props = dict(record.get("properties") or {})
        changed = {k: v for k, v in props.items() if v != old_props.get(k)}
        schema = rdef.plugin.schema_for(new, rdef)
        immutable = sorted(k for k in changed if schema.get(k) and schema[k].immutable)
        if immutable:
            raise errors.NotSupported(f"Update to properties {', '.join(immutable)} of {name} ({record['type']})")
        if any(k in schema and not schema[k].update_allowed for k in changed):
            return "replace", props, changed
        if changed or res.needs_update():
            return "update", props, changed
        if self.resolve_metadata(name, new) != (record.get("metadata") or {}):
            return "metadata", props, {}
        return "unchanged", props, {}

    def plan(self, new: StackDefinition) -> dict[str, list[dict[str, Any]]]:
        """An update's preview: which resources it adds, keeps, updates, replaces and deletes."""
        out: dict[str, list[dict[str, Any]]] = {k: [] for k in ("added", "deleted", "replaced", "unchanged", "updated")}
        for name in new.resources:
            try:
                kind, _, _ = self._diff(name, new)
            except errors.StackValidationFailed:
                kind = "replace"
            key = {"create": "added", "replace": "replaced", "update": "updated", "metadata": "updated"}.get(
                kind, "unchanged"
            )
            out[key].append({"resource_name": name, "resource_type": new.resources[name].type})
        for name, record in self.records.items():
            if name not in new.resources and record["action"] != "INIT":
                out["deleted"].append({"resource_name": name, "resource_type": record["type"]})
        return out

    def update_resource(self, name: str, new: StackDefinition, superseded: list[Resource]) -> Task:
        try:
            kind, props, changed = self._diff(name, new)
        except Exception as exc:
            record = self.records.get(name) or new_resource_record(self.id, name, new.resources[name])
            raise self._fail(record, "UPDATE", exc) from None
        if kind == "create":
            yield from self.create_resource(name, new)
            return
        record = self.records[name]
        record["deletion_policy"] = new.resources[name].deletion_policy
        if kind == "unchanged":
            return
        if kind == "metadata":
            record["metadata"] = self.resolve_metadata(name, new)
            self.store.put(RESOURCE, record)
            return
        if kind == "update":
            res = self.plugin(record, new)
            old_props = dict(record.get("properties") or {})
            self.resource_state(record, "UPDATE", IN_PROGRESS, "state changed")
            try:
                res.props = props
                res.handle_update(changed, old_props)
                self.save(res)
                while not res.check_update_complete():
                    yield
            except UpdateReplace:
                kind = "replace"
            except GeneratorExit:
                res.abort()
                self.resource_state(record, "UPDATE", FAILED, "UPDATE aborted")
                raise
            except Exception as exc:
                raise self._fail(record, "UPDATE", exc) from None
            if kind == "update":
                record["properties"] = props
                record["metadata"] = self.resolve_metadata(name, new)
                self.resource_state(record, "UPDATE", COMPLETE, "state changed")
                return
        # replace: a new physical resource under the same name
        old, record_id = self.plugin(record), record["id"]
        if old.replace_delete_first:
            yield from self.delete_record(record)
        else:
            self._set_aside(record)
            superseded.append(old)
        fresh = new_resource_record(self.id, name, new.resources[name])
        fresh["id"] = record_id
        self.records[name] = fresh
        self._plugins.pop(name, None)
        yield from self.create_resource(name, new)

    # -- stack actions -------------------------------------------------------------------------------

    def action(self, action: str, control: Control) -> Task:
        if action == "create":
            return self.create_stack(control)
        if action == "delete":
            return self.delete_stack()
        if action == "update":
            return self.update_stack(control)
        return self.simple_stack_action(action.upper())

    def _stopped(self, action: str, exc: BaseException, control: Control | None) -> tuple[str, bool]:
        """The reason a stopped action gives, and whether it may roll back."""
        if isinstance(exc, errors.TimedOut):
            return "Timed out", True
        if isinstance(exc, errors.Cancelled):
            mode = str(exc)
            return f"Stack {action} cancelled", mode == "rollback"
        failure_action = getattr(exc, "action", None) or action
        return f"Resource {failure_action} failed: {exc}", True

    def create_stack(self, control: Control | None = None) -> Task:
        try:
            yield from self.run_graph(self.defn.requires, self.create_resource)
        except (errors.ResourceFailure, errors.TimedOut, errors.Cancelled) as exc:
            if isinstance(exc, errors.Cancelled) and str(exc) == "delete":
                return
            reason, may_roll_back = self._stopped("CREATE", exc, control)
            self.set_state("CREATE", FAILED, reason)
            if may_roll_back and not self.record["disable_rollback"]:
                yield from self.rollback_create(reason)
            return
        except GeneratorExit:
            stopping = self.engine.stopping
            self.set_state(
                "CREATE", FAILED, "Engine went down during stack CREATE" if stopping else "Stack CREATE cancelled"
            )
            raise
        self.set_state("CREATE", COMPLETE, "Stack CREATE completed successfully")

    def rollback_create(self, cause: str) -> Task:
        self.set_state("ROLLBACK", IN_PROGRESS, "Stack ROLLBACK started")
        try:
            yield from self.delete_all()
        except errors.ResourceFailure as exc:
            self.set_state("ROLLBACK", FAILED, f"Resource DELETE failed: {exc}")
            return
        self._forget_resources()
        self.set_state("ROLLBACK", COMPLETE, f"Stack ROLLBACK completed successfully (after: {cause})")

    def _set_aside(self, record: dict[str, Any]) -> None:
        """Keep a replaced resource under an id of its own until it is deleted, so its successor
        takes its name (and its place in the stack's resources) at once, as in Heat."""
        self.store.delete(RESOURCE, record["id"])
        record.update(id=f"{record['id']}:replaced:{record['uuid']}", replaced=True)
        self.store.put(RESOURCE, record)
        self.replaced.append(record)

    def _forget_resources(self) -> None:
        for record in [*self.records.values(), *self.replaced]:
            self.store.delete(RESOURCE, record["id"])
        self.records.clear()
        self.replaced.clear()

    def delete_all(self) -> Task:
        yield from self._delete_superseded([self.plugin(r) for r in self.replaced])
        names = list(self.records)
        try:
            requires = {n: s for n, s in self.defn.requires.items() if n in self.records}
        except errors.HeatError:
            requires = {}
        for name in names:
            requires.setdefault(name, set())
        yield from self.run_graph(graph.reverse(requires), self.delete_resource)

    def delete_stack(self) -> Task:
        if self.record["status"] != IN_PROGRESS or self.record["action"] != "DELETE":
            self.set_state("DELETE", IN_PROGRESS, "Stack DELETE started")
        try:
            yield from self.delete_all()
        except errors.ResourceFailure as exc:
            self.set_state("DELETE", FAILED, f"Resource DELETE failed: {exc}")
            return
        self._forget_resources()
        self.record["deleted"] = now()
        self.set_state("DELETE", COMPLETE, "Stack DELETE completed successfully")

    def update_stack(self, control: Control | None = None, rollback: bool = False) -> Task:
        action = "ROLLBACK" if rollback else "UPDATE"
        previous = self.record.get("previous")
        old = self.definition_from(previous) if previous else self.defn
        self.fallback = old
        try:
            new = self.definition_from(self.record)
        except errors.HeatError as exc:
            self.set_state(action, FAILED, str(exc))
            return
        superseded: list[Resource] = []
        try:
            yield from self.run_graph(new.requires, lambda n: self.update_resource(n, new, superseded))
            removed = {n for n, r in self.records.items() if n not in new.resources}
            old_requires = {n: s & removed for n, s in old.requires.items() if n in removed}
            for name in removed:
                old_requires.setdefault(name, set())
            yield from self.run_graph(graph.reverse(old_requires), self.delete_resource)
            for name in removed:
                record = self.records.pop(name, None)
                if record is not None:
                    self.store.delete(RESOURCE, record["id"])
            yield from self._delete_superseded(superseded)
        except (errors.ResourceFailure, errors.TimedOut, errors.Cancelled) as exc:
            yield from self._delete_superseded(superseded, quiet=True)
            if isinstance(exc, errors.Cancelled) and str(exc) == "delete":
                return
            reason, may_roll_back = self._stopped(action, exc, control)
            self.set_state(action, FAILED, reason)
            # cancel_update rolls back whatever disable_rollback says (cancel_without_rollback does not)
            forced = isinstance(exc, errors.Cancelled) and str(exc) == "rollback"
            if not rollback and may_roll_back and previous and (forced or not self.record["disable_rollback"]):
                self.record.update(
                    template=previous["template"],
                    files=previous["files"],
                    environment=previous["environment"],
                    previous=None,
                )
                self._defn = None
                self.set_state("ROLLBACK", IN_PROGRESS, "Stack ROLLBACK started")
                yield from self.update_stack(control, rollback=True)
            return
        self.record["previous"] = None
        self._defn = new
        done = "Stack ROLLBACK completed successfully" if rollback else "Stack UPDATE completed successfully"
        self.set_state(action, COMPLETE, done)

    def _delete_superseded(self, superseded: list[Resource], quiet: bool = False) -> Task:
        while superseded:
            old = superseded.pop(0)
            try:
                yield from self.delete_record(old.record)
            except errors.ResourceFailure:
                if not quiet:
                    raise
                continue
            self.store.delete(RESOURCE, old.record["id"])
            if old.record in self.replaced:
                self.replaced.remove(old.record)

    def simple_stack_action(self, action: str) -> Task:
        requires = {n: s for n, s in self.defn.requires.items() if n in self.records}
        for name in self.records:
            requires.setdefault(name, set())
        if action == "SUSPEND":
            requires = graph.reverse(requires)
        try:
            yield from self.run_graph(requires, lambda n: self.simple_action(n, action))
        except errors.ResourceFailure as exc:
            self.set_state(action, FAILED, f"Resource {action} failed: {exc}")
            return
        except errors.Cancelled as exc:
            if str(exc) != "delete":
                self.set_state(action, FAILED, f"Stack {action} cancelled")
            return
        self.set_state(action, COMPLETE, f"Stack {action} completed successfully")

    # -- reading ------------------------------------------------------------------------------------

    def outputs(self, keys: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Each output resolved now (Heat's ``output_error`` when it cannot be)."""
        out = []
        try:
            defn = self.defn
        except errors.HeatError as exc:
            return [{"output_key": "", "output_value": None, "description": "", "output_error": str(exc)}]
        scope = self.scope(defn)
        for name, output in defn.outputs.items():
            if keys is not None and name not in keys:
                continue
            item: dict[str, Any] = {"output_key": name, "description": output.description or "No description given"}
            try:
                value = functions.resolve(output.value, scope)
                item["output_value"] = None if functions.has_unresolved(value) else value
            except Exception as exc:
                item["output_value"] = None
                item["output_error"] = exc.message if isinstance(exc, faults.ApiError) else str(exc)
            out.append(item)
        return out

    def output(self, key: str) -> Any:
        found = self.outputs([key])
        return found[0].get("output_value") if found else None

    def required_by(self) -> dict[str, list[str]]:
        try:
            return graph.required_by(self.defn.requires)
        except errors.HeatError:
            return {}

    def attributes_of(self, record: dict[str, Any]) -> dict[str, Any]:
        if record["action"] in ("INIT", "DELETE"):
            return {}
        res = self.plugin(record)
        out: dict[str, Any] = {}
        for name in res.attributes_schema:
            with contextlib.suppress(Exception):
                out[name] = res.get_attribute(name)
        return out


def _drop_unresolved(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _drop_unresolved(v) for k, v in value.items() if v is not UNRESOLVED}
    if isinstance(value, list):
        return [_drop_unresolved(v) for v in value if v is not UNRESOLVED]
    return value
