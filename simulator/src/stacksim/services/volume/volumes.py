"""Volumes: create (empty, from an image, a snapshot, a volume or a backup), delete, extend,
retype, upload to an image, status and metadata, with their asynchronous transitions.

A volume record keeps Cinder's columns under Cinder's API names where they
have one; ``host`` is ``stacksim@lvm#<pool>`` once the scheduler placed it,
``image_metadata`` is what the API calls ``volume_image_metadata`` and
``new_size`` is set while an extend is under way. Statuses move as Cinder's
do, through lifecycle jobs (so a restart resumes them): ``creating`` ->
``available`` (or ``error`` with a user message saying why), ``available`` ->
``extending`` -> ``available`` (``error_extending`` if the pool is full),
``deleting`` -> gone, ``uploading`` and ``retyping`` -> back where they were,
``awaiting-transfer`` while a transfer is offered.

A volume of a type with an encryption spec is ``encrypted`` with a key id of
its own; no key manager keeps the key and the bytes are not encrypted.

Not implemented: migration, manage/unmanage, revert to snapshot, re-image
(``os-reimage``), replication, scheduler hints (accepted, ignored).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stacksim import faults
from stacksim.auth import Context
from stacksim.services.volume import common, messages
from stacksim.services.volume.pools import NoValidBackend, footprint, host_of, pool_of
from stacksim.services.volume.types import is_multiattach
from stacksim.services.volume.volume_create import CREATE_JOB, IMAGE_CORE, NewVolume, VolumeMaker

if TYPE_CHECKING:
    from stacksim.services.volume.model import BlockStorage

log = logging.getLogger("stacksim.volume")

KIND = "volume"
DELETE_JOB = "volume.delete"
EXTEND_JOB = "volume.extend"
UPLOAD_JOB = "volume.upload"
RETYPE_JOB = "volume.retype"

DELETABLE = ("available", "error", "error_restoring", "error_extending", "error_managing")
#: What ``os-reset_status`` accepts.
RESET_STATUSES = frozenset(
    {
        "available",
        "creating",
        "deleting",
        "error",
        "error_deleting",
        "error_managing",
        "managing",
        "attaching",
        "in-use",
        "detaching",
        "maintenance",
        "reserved",
        "extending",
        "error_extending",
        "backing-up",
        "restoring-backup",
        "error_restoring",
        "uploading",
        "downloading",
        "retyping",
        "awaiting-transfer",
    }
)
ATTACH_STATUSES = frozenset({"attached", "detached"})
DISK_FORMATS = ("raw", "vmdk", "vdi", "qcow2", "vhd", "vhdx", "ploop")
DELETE_MESSAGE = (
    "Volume status must be available or error or error_restoring or error_extending or error_managing "
    "and must not be migrating, attached, belong to a group, have snapshots or be disassociated from "
    "snapshots after volume transfer."
)
FORCE_DELETE_MESSAGE = (
    "Volume must not be migrating, attached, belong to a group, have snapshots or be disassociated "
    "from snapshots after volume transfer."
)
RETYPE_MESSAGE = (
    "Retype needs volume to be in available or in-use state, not be part of an active migration or a "
    "consistency group, requested type has to be different that the one from the volume, and for in-use "
    "volumes front-end qos specs cannot change."
)


def not_found(volume_id: str) -> faults.NotFound:
    return faults.NotFound(f"Volume {volume_id} could not be found.")


# -- typed requests ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageUpload:
    """``os-volume_upload_image``: the image a volume's bytes become."""

    image_name: str
    disk_format: str = "raw"
    container_format: str = "bare"
    visibility: str | None = None
    protected: bool | None = None


class Volumes(common.Records):
    label = "Volume"
    update_rule = "volume:update"
    metadata_rules = ("volume:update_volume_metadata", "volume:delete_volume_metadata")
    resumable = {"creating": CREATE_JOB, "deleting": DELETE_JOB, "extending": EXTEND_JOB}
    jobs = {DELETE_JOB: "_run_delete", EXTEND_JOB: "_run_extend", UPLOAD_JOB: "_run_upload", RETYPE_JOB: "_run_retype"}

    def __init__(self, bs: BlockStorage) -> None:
        super().__init__(bs, KIND, not_found)
        self.maker = VolumeMaker(self)

    # -- create ----------------------------------------------------------------------------------

    def create(self, ctx: Context, request: NewVolume) -> dict[str, Any]:
        """A new volume in ``creating`` (placed and filled by a lifecycle job); Cinder's checks first."""
        return self.maker.create(ctx, request)

    # -- update and metadata -------------------------------------------------------------------------

    def _check_updatable(self, record: dict[str, Any]) -> None:
        if record["status"] == "maintenance":
            raise common.invalid_volume("The volume cannot be updated during maintenance.")

    def _check_metadata_writable(self, record: dict[str, Any], verb: str) -> None:
        if record["status"] in ("maintenance", "uploading"):
            raise common.invalid_volume(
                f"{verb} volume metadata is not allowed for volumes in {record['status']} status."
            )

    def set_image_metadata(self, ctx: Context, volume_id: str, metadata: Any) -> dict[str, str]:
        common.require_member(ctx, "volume_extension:volume_image_metadata:set")
        checked = common.check_metadata(metadata)
        with self.store.transaction():
            record = self.get(ctx, volume_id)
            self._check_metadata_writable(record, "Updating")
            record["image_metadata"] = {**(record.get("image_metadata") or {}), **checked}
            self.save(record)
            return dict(record["image_metadata"])

    def unset_image_metadata(self, ctx: Context, volume_id: str, key: Any) -> None:
        common.require_member(ctx, "volume_extension:volume_image_metadata:remove")
        if not isinstance(key, str) or not key:
            raise faults.BadRequest("Invalid input for field/attribute key. Expected a non-empty string.")
        with self.store.transaction():
            record = self.get(ctx, volume_id)
            meta = record.get("image_metadata") or {}
            if key not in meta:
                raise faults.NotFound(f"Glance metadata for volume/snapshot {volume_id} cannot be found.")
            self._check_metadata_writable(record, "Deleting")
            del meta[key]
            record["image_metadata"] = meta
            self.save(record)

    # -- delete ----------------------------------------------------------------------------------------

    def delete(self, ctx: Context, volume_id: str, *, cascade: bool = False, force: bool = False) -> None:
        """Cinder's conditional delete: 400 with its message unless the volume may go."""
        common.require_member(ctx, "volume:delete")
        if force:
            common.require_admin(ctx, "volume_extension:volume_admin_actions:force_delete")
        with self.store.transaction():
            record = self.get(ctx, volume_id)
            if record["host"] is None and record["status"] in ("creating", "error"):
                # Never scheduled (or the scheduler failed): nothing on a backend to delete.
                self.bs.lifecycle.cancel(volume_id, CREATE_JOB)
                self._purge(record)
                return
            self.bs.hosts.check_not_frozen()
            snapshots = self.bs.snapshots.of_volume(volume_id)
            if not self._deletable(record, snapshots, cascade=cascade, force=force):
                raise common.invalid_volume(FORCE_DELETE_MESSAGE if force else DELETE_MESSAGE)
            self.start_delete(record, snapshots)

    def _deletable(
        self, record: dict[str, Any], snapshots: list[dict[str, Any]], *, cascade: bool, force: bool
    ) -> bool:
        attached = record["attach_status"] == "attached" or self.bs.attachments.of_volume(record["id"])
        if (
            attached
            or record.get("group_id")
            or record.get("migration_status") not in (None, "deleting", "error", "success")
        ):
            return False
        if not force and record["status"] not in DELETABLE:
            return False
        if snapshots and not cascade:
            return False
        return not (
            cascade and not force and any(s["status"] not in ("available", "error", "deleting") for s in snapshots)
        )

    def start_delete(self, record: dict[str, Any], snapshots: list[dict[str, Any]]) -> None:
        """``deleting`` now, with its snapshots; gone once the delete job ran (inside a transaction)."""
        record["previous_status"] = record["status"]
        record["status"] = "deleting"
        self.save(record)
        for snap in snapshots:
            self.bs.snapshots.set_status(snap["id"], "deleting")
        self.bs.lifecycle.schedule(DELETE_JOB, record["id"])

    def _purge(self, record: dict[str, Any]) -> None:
        volume_id = record["id"]
        for snap in self.bs.snapshots.of_volume(volume_id):
            self.bs.snapshots.purge(snap["id"])
        self.bs.attachments.drop_volume(volume_id)
        self.bs.transfers.drop_volume(volume_id)
        self.store.delete(KIND, volume_id)
        self.bs.files.remove(self.bs.files.volume(volume_id))

    def _remove(self, record: dict[str, Any]) -> None:
        for action in (CREATE_JOB, EXTEND_JOB, UPLOAD_JOB, RETYPE_JOB):
            self.bs.lifecycle.cancel(record["id"], action)
        self._purge(record)

    # -- extend -----------------------------------------------------------------------------------------

    def extend(self, ctx: Context, volume_id: str, new_size: Any, attached_ok: bool = False) -> None:
        """``os-extend``: only grows; ``in-use`` volumes from 3.42 (``attached_ok``)."""
        common.require_member(ctx, "volume:extend")
        if isinstance(new_size, bool) or not isinstance(new_size, int | str):
            raise common.invalid_field("new_size", new_size, "Expected an integer.")
        try:
            new = int(new_size)
        except ValueError:
            raise common.invalid_field("new_size", new_size, "Expected an integer.") from None
        with self.store.transaction():
            record = self.get(ctx, volume_id)
            if new - record["size"] <= 0:
                raise common.invalid_input(
                    f"New size for extend must be greater than current size. (current: {record['size']}, "
                    f"extended: {new})."
                )
            expected = "in-use" if attached_ok and record["status"] == "in-use" else "available"
            if record["status"] != expected:
                raise common.invalid_volume(
                    f"Volume {volume_id} status must be '{{'status': '{expected}'}}' to extend, "
                    f"currently {record['status']}."
                )
            self.bs.quotas.check(record["project_id"], gigabytes=new - record["size"], volume_size=new)
            record["previous_status"] = record["status"]
            record["status"] = "extending"
            record["new_size"] = new
            self.save(record)
        self.bs.lifecycle.schedule(EXTEND_JOB, volume_id)

    def _run_extend(self, job: dict[str, Any]) -> None:
        volume_id = job["target"]
        with self.store.transaction():
            record = self.still(volume_id, "extending")
            if record is None:
                return
            pool = pool_of(record["host"])
            used = self.bs.pools.allocated()
            if pool is None or self.bs.pools.free(pool, used) < 0:
                record.update(status="error_extending", new_size=None, previous_status=None)
                self.save(record)
                self.bs.messages.add(
                    record["project_id"],
                    "VOLUME",
                    volume_id,
                    messages.EXTEND_VOLUME,
                    messages.NOT_ENOUGH_SPACE,
                    f"pool {pool} has no room for {record['new_size']}GB",
                )
                return
            new = record["new_size"]
        self.bs.files.resize(self.bs.files.volume(volume_id), new)
        with self.store.transaction():
            record = self.still(volume_id, "extending")
            if record is None:
                return
            record.update(size=new, new_size=None, status=record.get("previous_status") or "available")
            record["previous_status"] = None
            self.save(record)

    # -- admin and plain actions ------------------------------------------------------------------------

    def reset_status(self, ctx: Context, volume_id: str, body: Any) -> None:
        """``os-reset_status`` of a volume: ``status``, ``attach_status`` and ``migration_status``."""
        common.require_admin(ctx, "volume_extension:volume_admin_actions:reset_status")
        body = body if isinstance(body, dict) else {}
        status = body.get("status")
        attach_status = body.get("attach_status")
        migration_status = body.get("migration_status")
        if status is None and attach_status is None and migration_status is None:
            raise faults.BadRequest("Must specify 'status', 'attach_status' or 'migration_status' for update.")
        if status is not None and (not isinstance(status, str) or status.lower() not in RESET_STATUSES):
            raise faults.BadRequest("Must specify a valid status")
        if attach_status is not None and (
            not isinstance(attach_status, str) or attach_status.lower() not in ATTACH_STATUSES
        ):
            raise faults.BadRequest("Must specify a valid attach status")
        with self.store.transaction():
            record = self.get(ctx, volume_id)
            if status is not None:
                record["status"] = status.lower()
            if attach_status is not None:
                record["attach_status"] = attach_status.lower()
                if record["attach_status"] == "detached":
                    self.bs.attachments.drop_volume(volume_id)
            if migration_status is not None:
                record["migration_status"] = None if migration_status in ("", "none") else migration_status
            if record["status"] != "extending":
                record["new_size"] = None
            self.save(record)

    def set_bootable(self, ctx: Context, volume_id: str, bootable: Any) -> None:
        common.require_member(ctx, "volume_extension:volume_actions:set_bootable")
        value = common.flag(bootable, "bootable")
        with self.store.transaction():
            record = self.get(ctx, volume_id)
            record["bootable"] = value
            self.save(record)

    def set_readonly(self, ctx: Context, volume_id: str, readonly: Any) -> None:
        common.require_member(ctx, "volume_extension:volume_actions:update_readonly_flag")
        value = common.flag(readonly, "readonly")
        with self.store.transaction():
            record = self.get(ctx, volume_id)
            if record["status"] != "available":
                raise common.invalid_volume(
                    f"Volume {volume_id} status must be available to update readonly flag, but current status "
                    f"is: {record['status']}."
                )
            record["admin_metadata"]["readonly"] = str(value)
            self.save(record)

    # -- upload to image --------------------------------------------------------------------------------

    def upload_to_image(
        self, ctx: Context, volume_id: str, request: ImageUpload
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """``os-volume_upload_image``: a Glance image (``queued`` now) whose data is the volume's bytes.

        Returns the volume (``uploading``) and the image.
        """
        common.require_member(ctx, "volume_extension:volume_actions:upload_image")
        if not isinstance(request.image_name, str) or not request.image_name:
            raise faults.BadRequest("No image_name was specified in request.")
        common.check_name(request.image_name, "image_name")
        if request.disk_format not in DISK_FORMATS:
            raise faults.BadRequest(
                f"Invalid disk-format '{request.disk_format}' is specified. Allowed disk-formats are "
                f"{', '.join(DISK_FORMATS)}."
            )
        if request.visibility == "public" and not ctx.is_admin:
            raise common.denied("volume_extension:volume_actions:upload_public")
        with self.store.transaction():
            record = self.get(ctx, volume_id)
            if record["status"] != "available":
                raise common.invalid_volume(f"Volume {volume_id} status must be available")
            record["previous_status"] = record["status"]
            record["status"] = "uploading"
            self.save(record)
        attrs: dict[str, Any] = {
            "name": request.image_name,
            "disk_format": request.disk_format,
            "container_format": request.container_format,
            "visibility": request.visibility or "private",
        }
        if request.protected is not None:
            attrs["protected"] = bool(request.protected)
        for key, value in (record.get("image_metadata") or {}).items():
            if key not in (*IMAGE_CORE, "image_id", "image_name") and self.bs.images.is_custom_property(key):
                attrs[key] = value
        try:
            image = self.bs.images.create(record["project_id"], **attrs)
        except Exception:
            self.restore_status(volume_id, "uploading")
            raise
        self.bs.lifecycle.schedule(UPLOAD_JOB, volume_id, image_id=image["id"])
        return record, image

    def _run_upload(self, job: dict[str, Any]) -> None:
        volume_id, image_id = job["target"], job["args"]["image_id"]
        record = self.record(volume_id)
        try:
            if record is None or record["status"] != "uploading":
                raise RuntimeError(f"volume {volume_id} is no longer being uploaded")
            self.bs.images.import_file(image_id, self.bs.files.volume(volume_id))
        except Exception as exc:
            log.info("upload of volume %s to image %s failed: %s", volume_id, image_id, exc)
            if self.bs.images.record(image_id) is not None:
                self.bs.images.delete_failed(image_id)
            if record is not None:
                self.bs.messages.add(
                    record["project_id"],
                    "VOLUME",
                    volume_id,
                    messages.COPY_VOLUME_TO_IMAGE,
                    messages.UNKNOWN_ERROR,
                    str(exc),
                )
        finally:
            self.restore_status(volume_id, "uploading")

    # -- retype ------------------------------------------------------------------------------------------

    def retype(self, ctx: Context, volume_id: str, new_type: Any, migration_policy: Any = None) -> None:
        common.require_member(ctx, "volume:retype")
        if not isinstance(new_type, str) or not new_type:
            raise faults.BadRequest("New volume type must be specified.")
        policy = migration_policy or "never"
        if policy not in ("never", "on-demand"):
            raise common.invalid_input(f"Invalid migration policy: {policy}.")
        with self.store.transaction():
            record = self.get(ctx, volume_id)
            target = self.bs.types.find(ctx, new_type)
            if record["multiattach"] != is_multiattach(target) and record["status"] != "available":
                raise common.invalid_input(
                    "Invalid volume_type passed, retypes affecting multiattach are only allowed on available "
                    f"volumes, the specified volume however currently has a status of: {record['status']}."
                )
            if (
                record["status"] not in ("available", "in-use")
                or record["volume_type_id"] == target["id"]
                or record.get("migration_status") not in (None, "deleting", "error", "success")
            ):
                raise common.invalid_volume(RETYPE_MESSAGE)
            record["previous_status"] = record["status"]
            record["status"] = "retyping"
            self.save(record)
        self.bs.lifecycle.schedule(RETYPE_JOB, volume_id, type_id=target["id"], policy=policy)

    def _run_retype(self, job: dict[str, Any]) -> None:
        volume_id, args = job["target"], job["args"]
        with self.store.transaction():
            record = self.still(volume_id, "retyping")
            if record is None:
                return
            target = self.bs.types.record(args["type_id"])
            problem = f"volume type {args['type_id']} no longer exists" if target is None else None
            if target is not None:
                problem = self._move_for_type(record, target["extra_specs"], args["policy"])
            if problem is None and target is not None:
                record["volume_type_id"] = target["id"]
                record["multiattach"] = is_multiattach(target)
            else:
                self.bs.messages.add(
                    record["project_id"], "VOLUME", volume_id, messages.RETYPE, messages.NO_BACKEND, str(problem)
                )
            record["status"] = record.get("previous_status") or "available"
            record["previous_status"] = None
            self.save(record)

    def _move_for_type(self, record: dict[str, Any], specs: dict[str, str], policy: str) -> str | None:
        """Keep the volume's pool if the new type allows it, else migrate (``on-demand``); why not, or None."""
        pool = pool_of(record["host"])
        if pool is not None and self.bs.pools.fits(specs, pool):
            return None
        if policy != "on-demand":
            return "Retype requires migration but is not allowed."
        used = self.bs.pools.allocated()
        if pool in used:
            used[pool] -= footprint(record)
        try:
            record["host"] = host_of(self.bs.pools.choose(specs, record["size"], used))
        except NoValidBackend as exc:
            return str(exc)
        return None

    # -- transfers ---------------------------------------------------------------------------------------

    def give(self, volume_id: str, project_id: str, user_id: str) -> dict[str, Any]:
        """A transferred volume changes hands (inside the accepting transaction)."""
        record = self.record(volume_id)
        if record is None:
            raise not_found(volume_id)
        record.update(project_id=project_id, user_id=user_id, status="available")
        return self.save(record)

    # -- reading for other parts ---------------------------------------------------------------------------

    def of_group(self, group_id: str) -> list[dict[str, Any]]:
        return self.store.find(KIND, group_id=group_id)

    def of_type(self, type_id: str) -> int:
        return self.store.count(KIND, volume_type_id=type_id)

    # -- restart ---------------------------------------------------------------------------------------

    def recover(self) -> None:
        """After a restart: a transitional status whose job is gone would never move; settle it."""
        super().recover()
        pending = {(j["target"], j["action"]) for j in self.bs.lifecycle.pending()}
        for record in self.store.find(KIND):
            status, volume_id = record["status"], record["id"]
            if status == "uploading" and (volume_id, UPLOAD_JOB) not in pending:
                self.restore_status(volume_id, "uploading")
            elif status == "retyping" and (volume_id, RETYPE_JOB) not in pending:
                self.restore_status(volume_id, "retyping")
