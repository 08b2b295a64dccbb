"""The orchestration engine: requests on stacks, and the background work on them.

A request is validated at once (a bad template is a 400 with Heat's message);
the work itself (create, update, delete, suspend, resume, check, rollback) is
a lifecycle job. Each action is a generator over the resource graph (see
:mod:`.run`): resources whose requirements are done start together, each
through its plugin's ``handle_*`` and then its ``check_*_complete`` until
done, so independent resources are made concurrently. The job steps the
generator in the lifecycle's executor; when a step leaves resources
unfinished it waits on the loop, holding no thread, until the lifecycle says
something changed (a job finished, an API call was made: see
:meth:`Lifecycle.wait_change`), or until the time a resource or the stack's
time-out asks to be looked at again (:func:`~stacksim.heat.resources.base.recheck_after`). Nested stacks
(template resources, resource groups) run inline in their parent's action.

State lives in the store: ``heat_stack``, ``heat_resource`` and
``heat_event`` records. After a restart an action that was running is marked
FAILED (``Engine went down during stack CREATE``), as Heat does, except a
delete, which is resumed; the stack can then be updated or deleted.

Not implemented: snapshots, abandon/adopt, software deployments, stack
hooks (breakpoints), convergence, the ``Snapshot`` deletion policy (it deletes).
"""

from __future__ import annotations

import copy
import itertools
import math
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stacksim.auth import Context
from stacksim.heat import errors
from stacksim.heat.environment import Environment
from stacksim.heat.lookup import CloudChecker
from stacksim.heat.resources import plugin_for
from stacksim.heat.resources.base import Recheck, Resource, rechecking
from stacksim.heat.run import (
    COMPLETE,
    EVENT,
    FAILED,
    IN_PROGRESS,
    RESOURCE,
    STACK,
    Control,
    StackRun,
    ctx_dump,
    log,
    new_resource_record,
    now,
)
from stacksim.heat.stack import StackDefinition
from stacksim.lifecycle import Interrupted

if TYPE_CHECKING:
    from stacksim.cloud import Cloud

__all__ = ["EVENT", "RESOURCE", "STACK", "Orchestration", "StackRun"]

JOB = "orchestration.run"
DEFAULT_TIMEOUT_MINS = 60
NAME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9_.-]{0,254}$")


class Orchestration:
    """``cloud.orchestration``: the stacks of every project, and the engine working on them."""

    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud
        self.store = cloud.store
        self.boot = uuid.uuid4().hex
        self._controls: dict[str, Control] = {}
        self._lock = threading.Lock()
        last = max((e.get("seq", 0) for e in self.store.find(EVENT)), default=0)
        self._seq = itertools.count(last + 1)
        cloud.lifecycle.register(JOB, self.run_job)

    @property
    def stopping(self) -> bool:
        """The process is going down (or the cloud is being reset): running actions stop where they are.

        Their jobs stay pending, and the next start marks their stacks failed
        (or resumes a delete).
        """
        return self.cloud.lifecycle.interrupted

    # -- type lookups ----------------------------------------------------------------------

    @staticmethod
    def resolve_type(type_name: str, stack: StackDefinition) -> type[Resource] | None:
        return plugin_for(type_name, stack)

    def definition(
        self,
        template: Any,
        files: Mapping[str, str] | None,
        env: Environment,
        name: str,
        stack_id: str,
        project_id: str,
        *,
        strict: bool = True,
        validate_only: bool = False,
        depth: int = 0,
        facade: Mapping[str, Any] | None = None,
    ) -> StackDefinition:
        return StackDefinition(
            template,
            files=files,
            environment=env,
            stack_name=name,
            stack_id=stack_id,
            project_id=project_id,
            resolve_type=self.resolve_type,
            strict=strict,
            validate_only=validate_only,
            depth=depth,
            facade=facade,
        )

    def checker(self, ctx: Context) -> CloudChecker:
        return CloudChecker(self.cloud, ctx)

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

    def stacks(self, ctx: Context, *, all_projects: bool = False, deleted: bool = False, nested: bool = False):
        records = (
            self.store.find(STACK)
            if (ctx.is_admin and all_projects)
            else self.store.find(STACK, project_id=ctx.project_id)
        )
        return [r for r in records if (deleted or not r.get("deleted")) and (nested or not r.get("parent_id"))]

    def resource_records(self, stack_id: str) -> list[dict[str, Any]]:
        return self.store.find(RESOURCE, stack_id=stack_id)

    def run_of(self, record: dict[str, Any]) -> StackRun:
        return StackRun(self, record)

    def events(self, stack_id: str) -> list[dict[str, Any]]:
        return sorted(self.store.find(EVENT, stack_id=stack_id), key=lambda e: e["seq"])

    # -- writing helpers -----------------------------------------------------------------------

    def emit(
        self,
        stack: Mapping[str, Any],
        resource_name: str,
        physical_id: str | None,
        action: str,
        status: str,
        reason: str,
        resource_type: str,
        properties: Any = None,
    ) -> None:
        with self._lock:
            seq = next(self._seq)
        self.store.put(
            EVENT,
            {
                "id": str(uuid.uuid4()),
                "seq": seq,
                "stack_id": stack["id"],
                "stack_name": stack["name"],
                "resource_name": resource_name,
                "physical_resource_id": physical_id or "",
                "resource_action": action,
                "resource_status": status,
                "resource_status_reason": reason,
                "resource_type": resource_type,
                "resource_properties": properties or {},
                "event_time": now(),
            },
        )

    def set_stack_state(self, record: dict[str, Any], action: str, status: str, reason: str) -> None:
        record.update(action=action, status=status, status_reason=reason)
        if status == IN_PROGRESS and action in ("UPDATE", "SUSPEND", "RESUME", "CHECK"):
            record["updated"] = now()
        self.store.put(STACK, record)
        self.emit(record, record["name"], record["id"], action, status, reason, "OS::Heat::Stack")

    def _schedule(self, record: dict[str, Any], action: str, **args: Any) -> None:
        self.cloud.lifecycle.schedule(JOB, record["id"], delay=0, op=action, boot=self.boot, **args)

    def control(self, stack_id: str) -> Control | None:
        with self._lock:
            return self._controls.get(stack_id)

    # -- requests: create, preview, update, delete, actions --------------------------------------

    def _read_request(self, body: Mapping[str, Any]) -> tuple[Any, dict[str, str], Environment]:
        template = body.get("template")
        if template is None and body.get("template_url"):
            template = fetch_template(str(body["template_url"]))
        if template is None:
            raise errors.HeatError("No template specified")
        files = body.get("files") or {}
        if not isinstance(files, Mapping):
            raise errors.HeatError("The files must be a map")
        env = Environment.from_dict(body.get("environment"))
        params = body.get("parameters") or {}
        if not isinstance(params, Mapping):
            raise errors.HeatError("The parameters must be a map")
        env.parameters.update(params)
        return template, {str(k): str(v) for k, v in files.items()}, env

    @staticmethod
    def _tags(value: Any) -> list[str] | None:
        if value in (None, "", []):
            return None
        if isinstance(value, str):
            return [t.strip() for t in value.split(",") if t.strip()]
        if isinstance(value, list):
            return [str(t) for t in value]
        raise errors.HeatError("Invalid tags, not a list or a comma-separated string")

    @staticmethod
    def _timeout(value: Any) -> int | None:
        if value in (None, ""):
            return None
        try:
            minutes = int(value)
        except (TypeError, ValueError):
            raise errors.HeatError(f"Invalid timeout value {value}") from None
        if minutes <= 0:
            raise errors.HeatError(f"Invalid timeout value {value}")
        return minutes

    @staticmethod
    def _bool(value: Any, default: bool) -> bool:
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "t", "true", "on", "y", "yes"):
            return True
        if text in ("0", "f", "false", "off", "n", "no"):
            return False
        raise errors.HeatError(f"Unrecognized value '{value}', acceptable values are: true, false")

    def check_name(self, ctx: Context, name: Any) -> str:
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise errors.StackValidationFailed(
                f'Invalid stack name {name} must contain only alphanumeric or "_-." characters, '
                "must start with alpha and must be 255 characters or less."
            )
        for other in self.store.find(STACK, name=name, project_id=ctx.project_id):
            if not other.get("deleted"):
                raise errors.StackExists(name)
        return name

    def prepare(self, ctx: Context, body: Mapping[str, Any], stack_id: str) -> tuple[StackDefinition, dict]:
        name = self.check_name(ctx, body.get("stack_name"))
        template, files, env = self._read_request(body)
        defn = self.definition(template, files, env, name, stack_id, ctx.project_id or "")
        defn.validate(self.checker(ctx))
        return defn, {"template": defn.raw, "files": files, "environment": env.as_dict()}

    def create(self, ctx: Context, body: Mapping[str, Any]) -> dict[str, Any]:
        if body.get("adopt_stack_data"):
            raise errors.NotSupported("Stack adopt")
        stack_id = str(uuid.uuid4())
        defn, parts = self.prepare(ctx, body, stack_id)
        record = self._new_record(
            ctx,
            stack_id,
            defn.stack_name,
            parts,
            disable_rollback=self._bool(body.get("disable_rollback"), True),
            timeout_mins=self._timeout(body.get("timeout_mins")),
            tags=self._tags(body.get("tags")),
        )
        with self.store.transaction():
            self.store.put(STACK, record)
            self._init_resources(record, defn)
            self.set_stack_state(record, "CREATE", IN_PROGRESS, "Stack CREATE started")
        self._schedule(record, "create")
        return record

    def _new_record(
        self,
        ctx: Context,
        stack_id: str,
        name: str,
        parts: Mapping[str, Any],
        *,
        disable_rollback: bool,
        timeout_mins: int | None,
        tags: list[str] | None,
        parent: Mapping[str, Any] | None = None,
        parent_resource: str | None = None,
    ) -> dict[str, Any]:
        return {
            "id": stack_id,
            "name": name,
            "project_id": ctx.project_id,
            "user_id": ctx.user_id,
            "username": ctx.user_name,
            "ctx": ctx_dump(ctx),
            "parent_id": parent["id"] if parent else None,
            "root_id": (parent.get("root_id") or parent["id"]) if parent else None,
            "parent_resource": parent_resource,
            "depth": (parent.get("depth", 0) + 1) if parent else 0,
            "action": "INIT",
            "status": COMPLETE,
            "status_reason": "",
            "created": now(),
            "updated": None,
            "deleted": None,
            "template": parts["template"],
            "files": parts["files"],
            "environment": parts["environment"],
            "disable_rollback": disable_rollback,
            "timeout_mins": timeout_mins,
            "tags": tags,
            "previous": None,
        }

    def _init_resources(self, record: Mapping[str, Any], defn: StackDefinition) -> None:
        for name in defn.resources:
            self.store.put(RESOURCE, new_resource_record(record["id"], name, defn.resources[name]))

    def preview(self, ctx: Context, body: Mapping[str, Any]) -> tuple[dict[str, Any], StackDefinition]:
        stack_id = str(uuid.uuid4())
        defn, parts = self.prepare(ctx, body, stack_id)
        record = self._new_record(
            ctx,
            stack_id,
            defn.stack_name,
            parts,
            disable_rollback=self._bool(body.get("disable_rollback"), True),
            timeout_mins=self._timeout(body.get("timeout_mins")),
            tags=self._tags(body.get("tags")),
        )
        return record, defn

    def busy(self, record: Mapping[str, Any]) -> None:
        if record["status"] == IN_PROGRESS:
            raise errors.ActionInProgress(record["name"], record["action"])

    def plan_update(
        self, ctx: Context, record: dict[str, Any], body: Mapping[str, Any], patch: bool
    ) -> tuple[StackDefinition, dict[str, Any]]:
        """The new definition an update asks for, validated; and what the stack record becomes."""
        if record["action"] == "DELETE":
            raise errors.NotSupported("Updating a stack when it is deleting")
        env_new = Environment.from_dict(body.get("environment"))
        params = body.get("parameters") or {}
        if not isinstance(params, Mapping):
            raise errors.HeatError("The parameters must be a map")
        files = {str(k): str(v) for k, v in (body.get("files") or {}).items()}
        if patch:
            template = body.get("template")
            if template is None and body.get("template_url"):
                template = fetch_template(str(body["template_url"]))
            if template is None:
                template = copy.deepcopy(record["template"])
            env = Environment.from_dict(record["environment"]).merged(env_new)
            env.parameters.update(params)
            for name in body.get("clear_parameters") or []:
                env.parameters.pop(name, None)
                env.parameter_defaults.pop(name, None)
            files = {**record.get("files", {}), **files}
        else:
            template, files, env = self._read_request(body)
        defn = self.definition(template, files, env, record["name"], record["id"], record["project_id"] or "")
        defn.validate(self.checker(ctx))
        old = self.run_of(record).defn
        changed = old.params.immutable_changes(defn.params)
        if changed:
            raise errors.ImmutableParameterModified(changed)
        changes = {
            "template": defn.raw,
            "files": files,
            "environment": env.as_dict(),
            "disable_rollback": self._bool(body.get("disable_rollback"), record["disable_rollback"]),
            "timeout_mins": self._timeout(body.get("timeout_mins")) or (record["timeout_mins"] if patch else None),
        }
        if "tags" in body:
            changes["tags"] = self._tags(body.get("tags"))
        return defn, changes

    def update(self, ctx: Context, record: dict[str, Any], body: Mapping[str, Any], patch: bool) -> None:
        self.busy(record)
        _, changes = self.plan_update(ctx, record, body, patch)
        with self.store.transaction():
            record["previous"] = {
                "template": record["template"],
                "files": record["files"],
                "environment": record["environment"],
            }
            record.update(changes)
            self.set_stack_state(record, "UPDATE", IN_PROGRESS, "Stack UPDATE started")
        self._schedule(record, "update")

    def preview_update(
        self, ctx: Context, record: dict[str, Any], body: Mapping[str, Any], patch: bool
    ) -> dict[str, list[dict[str, Any]]]:
        defn, _ = self.plan_update(ctx, record, body, patch)
        run = self.run_of(record)
        return run.plan(defn)

    def delete(self, ctx: Context, record: dict[str, Any]) -> None:
        if record.get("deleted") or (record["action"] == "DELETE" and record["status"] == IN_PROGRESS):
            return
        control = self.control(record["id"])
        if control is not None:
            control.cancel = "delete"
        self.set_stack_state(record, "DELETE", IN_PROGRESS, "Stack DELETE started")
        self._schedule(record, "delete")

    def act(self, ctx: Context, record: dict[str, Any], action: str) -> None:
        """``POST .../actions``: suspend, resume, check, cancel_update, cancel_without_rollback."""
        if action in ("cancel_update", "cancel_without_rollback"):
            allowed = ("UPDATE",) if action == "cancel_update" else ("UPDATE", "CREATE")
            control = self.control(record["id"])
            if record["status"] != IN_PROGRESS or record["action"] not in allowed or control is None:
                state = str((record["action"], record["status"]))
                raise errors.NotSupported(f"Cancelling update when stack is {state}")
            control.cancel = "rollback" if action == "cancel_update" else "no_rollback"
            return
        self.busy(record)
        if record["action"] == "DELETE":
            raise errors.NotSupported(f"{action.capitalize()} of a deleted stack")
        name = action.upper()
        self.set_stack_state(record, name, IN_PROGRESS, f"Stack {name} started")
        self._schedule(record, action)

    def mark_unhealthy(self, ctx: Context, record: dict[str, Any], res: dict[str, Any], body: Mapping) -> None:
        mark = body.get("mark_unhealthy")
        if not isinstance(mark, bool):
            mark = self._bool(mark, False) if mark is not None else None
        if mark is None:
            raise errors.HeatError("Missing required parameter mark_unhealthy in the request body")
        if res["status"] == IN_PROGRESS:
            raise errors.ActionInProgress(record["name"], res["action"])
        reason = str(body.get("resource_status_reason") or "")
        run = self.run_of(record)
        if mark:
            res["needs_replace"] = True
            run.resource_state(res, "CHECK", FAILED, reason or "state changed")
        elif (res["action"], res["status"]) == ("CHECK", FAILED):
            res["needs_replace"] = False
            run.resource_state(res, "CHECK", COMPLETE, reason or "state changed")

    def signal(self, record: dict[str, Any], res: dict[str, Any], details: Any) -> None:
        run = self.run_of(record)
        plugin = run.plugin(res)
        plugin.handle_signal(details)
        run.save(plugin)
        run.emit_resource(plugin, res["action"], res["status"], "Signal: " + signal_reason(details))

    def signal_token(self, record: dict[str, Any], res: dict[str, Any]) -> str | None:
        return self.run_of(record).plugin(res).signal_token()

    def validate_template(self, ctx: Context, body: Mapping[str, Any]) -> dict[str, Any]:
        template, files, env = self._read_request(body)
        defn = self.definition(
            template, files, env, "validate", "", ctx.project_id or "", strict=False, validate_only=True
        )
        defn.validate(self.checker(ctx))
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

    # -- the jobs ---------------------------------------------------------------------------------

    async def run_job(self, job: dict[str, Any]) -> None:
        """A stack action: its steps run in the lifecycle's executor, its waits on the loop."""
        life = self.cloud.lifecycle
        action = job["args"]["op"]
        if action == "delete":
            previous = self.control(job["target"])
            if previous is not None:
                previous.cancel = "delete"
                life.changed()  # wake it if it waits, so it sees the cancel
                await previous.done.wait()
        control = Control()
        run = await life.call(self._begin, job, control)
        if run is None:
            return
        try:
            await self.drive(run, action, control)
        except Exception:
            log.exception("stack %s: %s failed unexpectedly", run.id, action)
            await life.call(self._failed, run.id)
        finally:
            with self._lock:
                if self._controls.get(run.id) is control:
                    del self._controls[run.id]
            control.done.set()

    def _begin(self, job: dict[str, Any], control: Control) -> StackRun | None:
        """The run a job works on, its control registered; None if there is nothing to do."""
        record = self.store.get(STACK, job["target"])
        if record is None:
            return None
        args = job["args"]
        action = args["op"]
        if args.get("boot") != self.boot and action != "delete":
            self.engine_went_down(record)
            return None
        if action != "delete" and (record["action"], record["status"]) != (action.upper(), IN_PROGRESS):
            return None  # overtaken (deleted before it started)
        if action == "delete" and record.get("deleted"):
            return None
        with self._lock:
            self._controls[record["id"]] = control
        return StackRun(self, record)

    def _failed(self, stack_id: str) -> None:
        fresh = self.store.get(STACK, stack_id)
        if fresh is not None and fresh["status"] == IN_PROGRESS:
            self.set_stack_state(fresh, fresh["action"], FAILED, "Internal error in the stack engine")

    async def drive(self, run: StackRun, action: str, control: Control) -> None:
        """Step the action until it ends; between steps that leave work unfinished, wait for a change."""
        life = self.cloud.lifecycle
        minutes = run.record.get("timeout_mins") or DEFAULT_TIMEOUT_MINS
        state = _Drive(run.action(action, control), action, control)
        if action in ("create", "update"):
            state.deadline = time.monotonic() + minutes * 60
        try:
            while True:
                seen = life.generation
                wait = await life.call(self._step, run, state)
                if wait is None:
                    return
                await life.wait_change(seen, None if math.isinf(wait) else wait)
        except Interrupted:
            await life.call(state.gen.close)  # the action stops where it is ("Engine went down")
            raise

    def _step(self, run: StackRun, state: _Drive) -> float | None:
        """Advance the action once: None when it ended, else the seconds after which it must be
        stepped again even if nothing changes (``inf``: only a change can move it)."""
        with rechecking() as hint:
            return self._advance(run, state, hint)

    def _advance(self, run: StackRun, state: _Drive, hint: Recheck) -> float | None:
        try:
            if state.control.cancel and state.action != "delete":
                reason = state.control.cancel
                state.control.cancel = None
                state.gen.throw(errors.Cancelled(reason))
            elif state.deadline is not None and time.monotonic() > state.deadline:
                state.deadline = None
                state.gen.throw(errors.TimedOut())
            else:
                next(state.gen)
        except StopIteration:
            return None
        except errors.Cancelled as exc:
            if str(exc) != "delete":
                run.set_state(run.record["action"], FAILED, f"Stack {run.record['action']} cancelled")
            return None
        except errors.TimedOut:
            run.set_state(run.record["action"], FAILED, "Timed out")
            return None
        now = time.monotonic()
        times = [t for t in (state.deadline, hint.at) if t is not None]
        return max(0.0, min(times) - now) if times else math.inf

    def engine_went_down(self, record: dict[str, Any]) -> None:
        """A restart found this stack's action running: mark it (and its nested stacks) failed."""
        if record["status"] == IN_PROGRESS:
            reason = f"Engine went down during stack {record['action']}"
            self.set_stack_state(record, record["action"], FAILED, reason)
        run = StackRun(self, record)
        for res in run.records.values():
            if res["status"] == IN_PROGRESS:
                run.resource_state(res, res["action"], FAILED, f"Engine went down during resource {res['action']}")
            if res.get("nested_id"):
                child = self.store.get(STACK, res["nested_id"])
                if child is not None and not child.get("deleted"):
                    self.engine_went_down(child)

    def recover(self) -> None:
        """At start: stacks left IN_PROGRESS by a process that died without a pending job."""
        pending = {j["target"] for j in self.cloud.lifecycle.pending() if j["action"] == JOB}
        for record in self.store.find(STACK, status=IN_PROGRESS):
            if record["id"] in pending or record.get("parent_id"):
                continue
            if record["action"] == "DELETE":
                self.cloud.lifecycle.schedule(JOB, record["id"], delay=0, op="delete", boot=self.boot)
            else:
                self.engine_went_down(record)

    # -- nested stacks -----------------------------------------------------------------------------

    def nested_create(
        self,
        parent: StackRun,
        resource: Resource,
        template: Any,
        params: Mapping[str, Any],
        files: Mapping[str, str] | None = None,
    ) -> StackRun:
        """Record a nested stack for ``resource`` (validated with its parameters); run its create."""
        env = Environment.from_dict(parent.record["environment"]).nested()
        env.parameters.update({k: v for k, v in params.items() if v is not None})
        stack_id = str(uuid.uuid4())
        from stacksim.heat.resources.base import short_id

        name = f"{parent.name}-{resource.name}-{short_id(stack_id)}"
        merged_files = {**parent.record.get("files", {}), **(files or {})}
        defn = self.definition(
            template,
            merged_files,
            env,
            name,
            stack_id,
            parent.record["project_id"] or "",
            depth=parent.record.get("depth", 0) + 1,
            facade=resource_facade(resource),
        )
        defn.validate(parent.rt.checker)
        parts = {"template": defn.raw, "files": merged_files, "environment": env.as_dict()}
        record = self._new_record(
            parent.ctx,
            stack_id,
            name,
            parts,
            disable_rollback=True,
            timeout_mins=parent.record.get("timeout_mins"),
            tags=None,
            parent=parent.record,
            parent_resource=resource.name,
        )
        with self.store.transaction():
            self.store.put(STACK, record)
            self._init_resources(record, defn)
            self.set_stack_state(record, "CREATE", IN_PROGRESS, "Stack CREATE started")
        return StackRun(self, record, defn)

    def nested_run(self, stack_id: str | None) -> StackRun | None:
        if not stack_id:
            return None
        record = self.store.get(STACK, stack_id)
        if record is None or record.get("deleted"):
            return None
        return StackRun(self, record)

    def nested_update(
        self, child: StackRun, template: Any, params: Mapping[str, Any], files: Mapping[str, str] | None = None
    ) -> StackDefinition:
        """Point a nested stack at a new template/parameters (validated); the caller runs the update."""
        env = Environment.from_dict(child.record["environment"])
        env.parameters = {k: v for k, v in params.items() if v is not None}
        merged_files = {**child.record.get("files", {}), **(files or {})}
        defn = self.definition(
            template,
            merged_files,
            env,
            child.name,
            child.id,
            child.record["project_id"] or "",
            depth=child.record.get("depth", 0),
            facade=child.defn.facade,
        )
        defn.validate(child.rt.checker)
        record = child.record
        record["previous"] = {
            "template": record["template"],
            "files": record["files"],
            "environment": record["environment"],
        }
        record.update(template=defn.raw, files=merged_files, environment=env.as_dict())
        self.set_stack_state(record, "UPDATE", IN_PROGRESS, "Stack UPDATE started")
        return defn


@dataclass
class _Drive:
    """One action being driven: its generator, and the stack's time-out (once, then None)."""

    gen: Generator[None, None, None]
    action: str
    control: Control
    deadline: float | None = None


def resource_facade(resource: Resource) -> dict[str, Any]:
    record = resource.record
    return {
        "metadata": record.get("metadata") or {},
        "deletion_policy": record.get("deletion_policy", "Delete"),
        "update_policy": record.get("update_policy") or {},
    }


def signal_reason(details: Any) -> str:
    if isinstance(details, Mapping):
        return str(details.get("reason") or details.get("status") or "Signal received")
    return "Signal received"


def fetch_template(url: str) -> str:
    if not url.startswith(("http://", "https://")):
        raise errors.HeatError(f"Could not retrieve template: Invalid URL scheme {url.split(':', 1)[0]}")
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.read(524289).decode()
    except (urllib.error.URLError, OSError, UnicodeDecodeError) as exc:
        raise errors.HeatError(f"Could not retrieve template: Failed to retrieve template: {exc}") from None
