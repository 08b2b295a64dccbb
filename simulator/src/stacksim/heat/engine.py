"""The orchestration engine: stacks at work, in the background.

The Orchestration service's model (:mod:`stacksim.services.orchestration.model`)
takes the requests; this engine keeps the stacks' state and runs their
actions (create, update, delete, suspend, resume, check, rollback) as
lifecycle jobs. Each action is a generator over the resource graph (see
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

import itertools
import math
import threading
import time
import uuid
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stacksim.auth import Context
from stacksim.heat import errors
from stacksim.heat.environment import Environment
from stacksim.heat.limits import DEFAULT, Limits
from stacksim.heat.lookup import CloudChecker
from stacksim.heat.resources import plugin_for
from stacksim.heat.resources.base import Recheck, Resource, rechecking, short_id
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

__all__ = ["EVENT", "JOB", "RESOURCE", "STACK", "Engine", "StackRun"]

JOB = "orchestration.run"
DEFAULT_TIMEOUT_MINS = 60


class Engine:
    """The stacks of every project at work: their records, events, jobs and nested stacks."""

    def __init__(self, cloud: Cloud, limits: Limits = DEFAULT) -> None:
        self.cloud = cloud
        self.limits = limits
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
            limits=self.limits,
        )

    def checker(self, ctx: Context) -> CloudChecker:
        return CloudChecker(self.cloud, ctx)

    # -- reading -----------------------------------------------------------------------------

    def resource_records(self, stack_id: str) -> list[dict[str, Any]]:
        return self.store.find(RESOURCE, stack_id=stack_id)

    def total_resources(self, root_id: str) -> int:
        """The resources of a stack and of every stack nested in it (Heat's ``total_resources``)."""
        stacks = [root_id, *(s["id"] for s in self.store.find(STACK, root_id=root_id))]
        return sum(self.store.count(RESOURCE, stack_id=stack_id) for stack_id in stacks)

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

    def schedule(self, record: dict[str, Any], action: str, **args: Any) -> None:
        self.cloud.lifecycle.schedule(JOB, record["id"], delay=0, op=action, boot=self.boot, **args)

    def control(self, stack_id: str) -> Control | None:
        with self._lock:
            return self._controls.get(stack_id)

    # -- requests: create, preview, update, delete, actions --------------------------------------
    def new_record(
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

    def init_resources(self, record: Mapping[str, Any], defn: StackDefinition) -> None:
        for name in defn.resources:
            self.store.put(RESOURCE, new_resource_record(record["id"], name, defn.resources[name]))

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
        for res in [*run.records.values(), *run.replaced]:
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
        record = self.new_record(
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
            self.init_resources(record, defn)
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
