"""Server actions, each a small registered step: its policy, the states it starts from, the
task state it shows while it runs, the driver work and the state it leaves.

:meth:`Actions.run` checks a step (policy, lock, state, and the step's own
``prepare``: flavor, image, quota), marks the server with the step's task
state in one transaction and schedules the ``server.action`` job. The job
does the driver work with the record as it was, then applies the step's
outcome to the record as it is *now* (another writer's change in between
stays); if someone reset or deleted the server meanwhile, the outcome is
dropped. A driver error puts the server in ERROR with the error as its fault.

Shelving is DevStack's ``shelved_offload_time = 0``: the snapshot is taken and
the instance removed from the host at once (``SHELVED_OFFLOADED``); unshelving
boots it again from that snapshot, which is then deleted.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stacksim import faults
from stacksim.auth import Context
from stacksim.drivers.base import DriverError
from stacksim.services.compute import policy
from stacksim.services.compute.build import encode_user_data
from stacksim.services.compute.clients import HOST
from stacksim.services.compute.inputs import KEEP, Rebuild, check_text
from stacksim.services.compute.servers import check_state, check_unlocked
from stacksim.services.compute.states import NOSTATE, PAUSED, RUNNING, SHUTDOWN, SUSPENDED, set_state

if TYPE_CHECKING:
    from stacksim.services.compute.model import Compute

log = logging.getLogger("stacksim.compute")

Record = dict[str, Any]
#: A step's outcome: applied to the server record as it is when the work is done.
Finish = Callable[[Record], None]
#: What a step does with the driver (given the job's :class:`Run`), returning its outcome.
Work = Callable[["Run"], Finish]
#: A step's own checks before it starts; returns the job's arguments (stored as JSON).
Prepare = Callable[["Actions", Context, Record, dict[str, Any]], dict[str, Any]]

#: What a rebuild may change on the server record.
REBUILD_FIELDS = ("image_id", "name", "metadata", "user_data", "description", "key_name", "public_key")
#: The vm_states a server may be shelved from.
SHELVABLE = ("active", "stopped", "paused", "suspended")


@dataclass(frozen=True)
class Step:
    name: str  #: the key :meth:`Actions.run` takes
    action: str  #: Nova's name: in a 409's message and the instance action list
    rule: str  #: the policy rule
    allowed: tuple[str, ...]  #: the vm_states it starts from
    task_state: str  #: shown while it runs
    event: str  #: the instance action event
    work: Work
    tasks: tuple[str | None, ...] = (None,)  #: the task states it may start in
    prepare: Prepare | None = None


STEPS: dict[str, Step] = {}


def step(
    name: str,
    action: str,
    rule: str,
    allowed: tuple[str, ...],
    task_state: str,
    event: str,
    tasks: tuple[str | None, ...] = (None,),
    prepare: Prepare | None = None,
) -> Callable[[Work], Work]:
    """Register ``work`` as the step ``name``."""

    def register(work: Work) -> Work:
        STEPS[name] = Step(name, action, f"os_compute_api:{rule}", allowed, task_state, event, work, tasks, prepare)
        return work

    return register


@dataclass
class Run:
    """What a step's work gets: the server as the job found it, the job's arguments, the model."""

    server: Record
    args: dict[str, Any]
    compute: Compute

    @property
    def id(self) -> str:
        return self.server["id"]

    @property
    def driver(self) -> Any:
        return self.compute.driver


def settled(vm_state: str, power: int) -> Finish:
    return lambda server: set_state(server, vm_state, None, power)


# -- power ---------------------------------------------------------------------------------------


@step("start", "start", "servers:start", ("stopped",), "powering-on", "compute_start_instance")
def _start(run: Run) -> Finish:
    run.driver.power_on(run.id)
    return settled("active", RUNNING)


@step("stop", "stop", "servers:stop", ("active", "error"), "powering-off", "compute_stop_instance")
def _stop(run: Run) -> Finish:
    run.driver.power_off(run.id)
    return settled("stopped", SHUTDOWN)


@step("reboot", "reboot", "servers:reboot", ("active",), "rebooting", "compute_reboot_instance")
def _reboot(run: Run) -> Finish:
    run.driver.reboot(run.id, hard=False)
    return settled("active", RUNNING)


@step(
    "reboot_hard",
    "reboot",
    "servers:reboot",
    ("active", "stopped", "paused", "suspended", "error"),
    "rebooting_hard",
    "compute_reboot_instance",
    tasks=(None, "rebooting", "reboot_started", "rebooting_hard"),
)
def _reboot_hard(run: Run) -> Finish:
    run.driver.reboot(run.id, hard=True)
    return settled("active", RUNNING)


@step("pause", "pause", "os-pause-server:pause", ("active",), "pausing", "compute_pause_instance")
def _pause(run: Run) -> Finish:
    run.driver.pause(run.id)
    return settled("paused", PAUSED)


@step("unpause", "unpause", "os-pause-server:unpause", ("paused",), "unpausing", "compute_unpause_instance")
def _unpause(run: Run) -> Finish:
    run.driver.unpause(run.id)
    return settled("active", RUNNING)


@step("suspend", "suspend", "os-suspend-server:suspend", ("active",), "suspending", "compute_suspend_instance")
def _suspend(run: Run) -> Finish:
    run.driver.suspend(run.id)
    return settled("suspended", SUSPENDED)


@step("resume", "resume", "os-suspend-server:resume", ("suspended",), "resuming", "compute_resume_instance")
def _resume(run: Run) -> Finish:
    run.driver.resume(run.id)
    return settled("active", RUNNING)


# -- resize -----------------------------------------------------------------------------------------


def _prepare_resize(actions: Actions, ctx: Context, server: Record, args: dict[str, Any]) -> dict[str, Any]:
    flavor = actions.compute.builder.flavor(ctx, args["flavor_id"])
    if flavor["id"] == server["flavor"]["id"]:
        raise faults.BadRequest("When resizing, instances must change flavor!")
    grow = {
        "cores": max(0, flavor["vcpus"] - server["flavor"]["vcpus"]),
        "ram": max(0, flavor["ram"] - server["flavor"]["ram"]),
    }
    if any(grow.values()):
        actions.compute.quotas.check(server["project_id"], instances=0, **grow)
    return {"flavor": flavor, "old_vm_state": server["vm_state"]}


@step(
    "resize",
    "resize",
    "servers:resize",
    ("active", "stopped"),
    "resize_prep",
    "compute_resize_instance",
    prepare=_prepare_resize,
)
def _resize(run: Run) -> Finish:
    run.driver.resize(run.id, run.args["flavor"])
    stopped = run.args["old_vm_state"] == "stopped"

    def finish(server: Record) -> None:
        server["old_flavor"], server["flavor"] = server["flavor"], run.args["flavor"]
        server["old_vm_state"] = run.args["old_vm_state"]
        set_state(server, "resized", None, SHUTDOWN if stopped else RUNNING)

    return finish


def _back_from_resize(server: Record) -> tuple[str, None, int]:
    """The state a resized server goes back to: stopped if it was (Nova's ``old_vm_state``)."""
    stopped = server.pop("old_vm_state", None) == "stopped"
    return ("stopped", None, SHUTDOWN) if stopped else ("active", None, RUNNING)


@step(
    "confirm_resize", "confirmResize", "servers:confirm_resize", ("resized",), "resize_finish", "compute_confirm_resize"
)
def _confirm_resize(run: Run) -> Finish:
    def finish(server: Record) -> None:
        server["old_flavor"] = None
        set_state(server, *_back_from_resize(server))

    return finish


@step(
    "revert_resize",
    "revertResize",
    "servers:revert_resize",
    ("resized",),
    "resize_reverting",
    "compute_revert_resize",
)
def _revert_resize(run: Run) -> Finish:
    run.driver.resize(run.id, run.server["old_flavor"])

    def finish(server: Record) -> None:
        server["flavor"], server["old_flavor"] = server["old_flavor"], None
        set_state(server, *_back_from_resize(server))

    return finish


# -- rebuild ----------------------------------------------------------------------------------------


def _prepare_rebuild(actions: Actions, ctx: Context, server: Record, args: dict[str, Any]) -> dict[str, Any]:
    req: Rebuild = args["rebuild"]
    check_text(req)
    compute = actions.compute
    image = compute.builder.image(ctx, req.image_id, server["flavor"], False)
    changes: dict[str, Any] = {"image_id": image["id"] if image else ""}
    for name in ("name", "metadata", "description"):
        value = getattr(req, name)
        if value is not KEEP:
            changes[name] = dict(value) if name == "metadata" else value
    if req.user_data is not KEEP:
        changes["user_data"] = encode_user_data(req.user_data)
    if req.key_name is not KEEP:
        key = compute.keypairs.for_server(ctx, req.key_name)
        changes["key_name"], changes["public_key"] = (key["name"], key["public_key"]) if key else (None, None)
    return {"changes": changes, "old_vm_state": server["vm_state"]}


@step(
    "rebuild",
    "rebuild",
    "servers:rebuild",
    ("active", "stopped", "error"),
    "rebuilding",
    "compute_rebuild_instance",
    prepare=_prepare_rebuild,
)
def _rebuild(run: Run) -> Finish:
    changes = {k: v for k, v in run.args["changes"].items() if k in REBUILD_FIELDS}
    compute = run.compute
    run.driver.destroy(run.id)
    run.driver.spawn(compute.builder.instance({**run.server, **changes}))
    compute.volumes.plug_all(run.server)
    stopped = run.args["old_vm_state"] == "stopped"
    if stopped:
        run.driver.power_off(run.id)

    def finish(server: Record) -> None:
        server.update(changes)
        set_state(server, "stopped" if stopped else "active", None, SHUTDOWN if stopped else RUNNING)

    return finish


# -- rescue -------------------------------------------------------------------------------------------


def _prepare_rescue(actions: Actions, ctx: Context, server: Record, args: dict[str, Any]) -> dict[str, Any]:
    if not server["image_id"]:
        raise faults.BadRequest(f"Instance {server['id']} cannot be rescued: Cannot rescue a volume-backed instance")
    image_id = args.get("image_id") or server["image_id"]
    try:
        image = actions.compute.peers.image.get(ctx, image_id)
    except faults.NotFound:
        image = None
    if image is None or image["status"] != "active":
        raise faults.BadRequest(f"Requested rescue image '{image_id}' is not supported")
    return {"image_id": image["id"]}


@step(
    "rescue",
    "rescue",
    "os-rescue",
    ("active", "stopped", "error"),
    "rescuing",
    "compute_rescue_instance",
    prepare=_prepare_rescue,
)
def _rescue(run: Run) -> Finish:
    run.driver.rescue(run.id, run.compute.builder.instance(run.server, image_id=run.args["image_id"]))
    return settled("rescued", RUNNING)


@step("unrescue", "unrescue", "os-unrescue", ("rescued",), "unrescuing", "compute_unrescue_instance")
def _unrescue(run: Run) -> Finish:
    run.driver.unrescue(run.id)
    return settled("active", RUNNING)


# -- shelve -------------------------------------------------------------------------------------------


def _prepare_shelve(actions: Actions, ctx: Context, server: Record, args: dict[str, Any]) -> dict[str, Any]:
    if not server["image_id"]:
        return {"image_id": None}  # a volume-backed server keeps its disk in Cinder
    image = actions.snapshot_image(ctx, server, f"{server['name']}-shelved", {})
    return {"image_id": image["id"]}


def _offload(run: Run) -> None:
    """Remove the instance from the host; its ports stay the server's, unbound."""
    run.driver.destroy(run.id)
    for port_id in run.server["ports"]:
        run.compute.peers.network.unbind_port(port_id, clear_device=False)


def _offloaded(image_id: str | None) -> Finish:
    def finish(server: Record) -> None:
        if image_id is not None:
            server["shelved_image_id"] = image_id
        server["host"] = None
        set_state(server, "shelved_offloaded", None, NOSTATE)

    return finish


@step("shelve", "shelve", "os-shelve:shelve", SHELVABLE, "shelving", "compute_shelve_instance", prepare=_prepare_shelve)
def _shelve(run: Run) -> Finish:
    image_id = run.args["image_id"]
    if image_id:
        run.compute.actions.write_snapshot(run.id, image_id)
    run.driver.power_off(run.id)
    _offload(run)
    return _offloaded(image_id)


@step(
    "shelve_offload",
    "shelveOffload",
    "os-shelve:shelve_offload",
    ("shelved",),
    "shelving_offloading",
    "compute_shelve_offload_instance",
)
def _shelve_offload(run: Run) -> Finish:
    _offload(run)
    return _offloaded(None)


def _prepare_unshelve(actions: Actions, ctx: Context, server: Record, args: dict[str, Any]) -> dict[str, Any]:
    zone, host = args.get("availability_zone", KEEP), args.get("host")
    hosts = actions.compute.hosts
    if zone is not KEEP or host:
        if server["vm_state"] != "shelved_offloaded":
            raise faults.Conflict(
                f'Specifying an availability zone or a host when unshelving server "{server["id"]}" with status '
                f'"{server["status"]}" is not supported. The server status must be SHELVED_OFFLOADED.'
            )
        if zone not in (KEEP, None) and not hosts.zones().get(zone):
            raise faults.BadRequest("The requested availability zone is not available")
    if host:
        policy.authorize(ctx, "os_compute_api:os-shelve:unshelve_to_host", server["project_id"])
        if not hosts.is_compute_host(host):
            raise faults.BadRequest(f"Compute host {host} could not be found.")
    return {"availability_zone": None if zone is KEEP else zone, "zone_given": zone is not KEEP}


@step(
    "unshelve",
    "unshelve",
    "os-shelve:unshelve",
    ("shelved", "shelved_offloaded"),
    "unshelving",
    "compute_unshelve_instance",
    prepare=_prepare_unshelve,
)
def _unshelve(run: Run) -> Finish:
    compute, server = run.compute, run.server
    image_id = server.get("shelved_image_id")
    for port_id in server["ports"]:
        compute.peers.network.bind_port(port_id, server["id"])
    compute.driver.spawn(compute.builder.instance(server, image_id=image_id))
    compute.volumes.plug_all(server)
    if image_id:
        compute.peers.image.discard(image_id)

    def finish(current: Record) -> None:
        current.pop("shelved_image_id", None)
        current["host"] = HOST
        if run.args["zone_given"]:
            current["requested_zone"] = run.args["availability_zone"]
            current["availability_zone"] = run.args["availability_zone"] or "nova"
        set_state(current, "active", None, RUNNING)

    return finish


# -- snapshot (createImage) ------------------------------------------------------------------------


@step(
    "create_image",
    "createImage",
    "servers:create_image",
    ("active", "stopped", "paused", "suspended"),
    "image_snapshot",
    "compute_snapshot_instance",
)
def _create_image(run: Run) -> Finish:
    run.compute.actions.write_snapshot(run.id, run.args["image_id"], discard_on_error=True)
    return lambda server: set_state(server, server["vm_state"], None)


# -- the runner --------------------------------------------------------------------------------------


class Actions:
    def __init__(self, compute: Compute) -> None:
        self.compute = compute
        self.store = compute.store
        self.servers = compute.servers
        self.history = compute.history
        life = self.lifecycle = compute.cloud.lifecycle
        life.register("server.action", self._job)
        life.register("server.powered_off", self._power_off_event)
        life.register("server.lost", self._lost_event)

    def check(self, ctx: Context, server_id: str, name: str) -> tuple[Step, Record]:
        """The step and the server, if ``ctx`` may start it on the server as it is (403, 404, 409)."""
        step = STEPS[name]
        server = self.servers.owned(ctx, server_id, step.rule)
        check_unlocked(ctx, server)
        check_state(server, step.action, step.allowed, step.tasks)
        return step, server

    def run(self, ctx: Context, server_id: str, name: str, **kwargs: Any) -> Record:
        """Start the step ``name``: the server shows its task state until the job finishes it."""
        step, server = self.check(ctx, server_id, name)
        args = step.prepare(self, ctx, server, kwargs) if step.prepare else {}
        return self._begin(ctx, step, server_id, args)

    def _begin(self, ctx: Context, step: Step, server_id: str, args: dict[str, Any]) -> Record:
        def begin(current: Record) -> None:
            check_unlocked(ctx, current)  # again: another call may have changed it
            check_state(current, step.action, step.allowed, step.tasks)
            set_state(current, current["vm_state"], step.task_state)

        server = self.servers.modify(server_id, begin)
        self.history.record(ctx, server, step.action, event=step.event)
        self.lifecycle.schedule("server.action", server_id, op=step.name, **args)
        return server

    def _job(self, job: dict[str, Any]) -> None:
        """Do a step's work with the driver, then record its outcome on the server as it is now."""
        args = dict(job["args"])
        step = STEPS[args.pop("op")]
        server = self.servers.record(job["target"])
        if server is None or server["task_state"] != step.task_state:
            return  # deleted or reset meanwhile, or a resumed job that already ran
        try:
            outcome = step.work(Run(server, args, self.compute))
        except (DriverError, faults.ApiError, OSError) as exc:
            log.warning("%s of server %s failed: %s", step.action, server["id"], exc)
            self.servers.fail(server["id"], f"{step.action} failed: {exc}")
            self.history.finish(server["id"], step.event, error=str(exc))
            return

        def finish(current: Record) -> bool | None:
            if current["task_state"] != step.task_state:
                return False  # overtaken: reset, or deleted
            outcome(current)
            return None

        self.servers.settle(server["id"], finish)
        self.history.finish(server["id"], step.event)

    # -- rescue and snapshots -------------------------------------------------------------------

    def rescue(self, ctx: Context, server_id: str, image_id: str | None, admin_pass: str | None) -> str:
        self.run(ctx, server_id, "rescue", image_id=image_id)
        return admin_pass or secrets.token_urlsafe(9)

    def create_image(self, ctx: Context, server_id: str, name: str, metadata: dict[str, str]) -> Record:
        """Nova's ``createImage``: a new private image the job fills with the server's disk."""
        step, server = self.check(ctx, server_id, "create_image")
        image = self.snapshot_image(ctx, server, name, metadata)
        self._begin(ctx, step, server_id, {"image_id": image["id"]})
        return image

    def snapshot_image(self, ctx: Context, server: Record, name: str, metadata: dict[str, str]) -> Record:
        """The ``queued`` Glance image a snapshot of ``server`` goes into."""
        images = self.compute.peers.image
        source = images.record(server["image_id"]) if server["image_id"] else None
        props = dict(metadata)
        props.update(image_type="snapshot", instance_uuid=server["id"], user_id=ctx.user_id)
        if source:
            props["base_image_ref"] = source["id"]
        disk_format, container_format = self.compute.driver.snapshot_formats() or (
            (source or {}).get("disk_format") or "qcow2",
            (source or {}).get("container_format") or "bare",
        )
        return images.create(
            ctx,
            name=name,
            disk_format=disk_format,
            container_format=container_format,
            min_disk=server["flavor"]["disk"],
            min_ram=(source or {}).get("min_ram") or 0,
            visibility="private",
            **props,
        )

    def write_snapshot(self, server_id: str, image_id: str, discard_on_error: bool = False) -> None:
        """Have the driver write the server's disk into the image (blocking, in a job)."""
        images = self.compute.peers.image
        tmp = self.compute.cloud.data_dir / f"snapshot-{image_id}.part"
        try:
            self.compute.driver.snapshot(server_id, tmp)
            images.import_file(image_id, tmp)
        except (DriverError, faults.ApiError, OSError) as exc:
            if not discard_on_error:
                raise
            log.warning("snapshot of server %s failed: %s", server_id, exc)
            images.discard(image_id)
        finally:
            tmp.unlink(missing_ok=True)

    # -- what the driver reports ---------------------------------------------------------------------

    def powered_off(self, server_id: str) -> None:
        """The guest powered itself off (cloud-init power_state): record it once it is up."""
        self.lifecycle.schedule("server.powered_off", server_id)

    def lost(self, server_id: str, reason: str) -> None:
        """The driver found the server's instance gone (after a restart): record it as an error."""
        self.lifecycle.schedule("server.lost", server_id, delay=0, reason=reason)

    def _lost_event(self, job: dict[str, Any]) -> None:
        server = self.servers.record(job["target"])
        if server is not None and server["vm_state"] not in ("building", "deleted", "error", "shelved_offloaded"):
            self.servers.fail(server["id"], job["args"]["reason"])

    def _power_off_event(self, job: dict[str, Any]) -> None:
        def stopped(server: Record) -> bool | None:
            if server["vm_state"] not in ("active", "building"):
                return False
            set_state(server, "stopped", None, SHUTDOWN)
            return None

        self.servers.settle(job["target"], stopped)
