"""Volumes: create (empty, from an image, a snapshot, a volume or a backup), delete, extend,
retype, upload to an image, status and metadata, with their asynchronous transitions.

A volume record keeps Cinder's columns under Cinder's API names where they
have one; ``host`` is ``stacksim@lvm#<pool>`` once the scheduler placed it,
``image_metadata`` is what the API calls ``volume_image_metadata`` and
``new_size`` is set while an extend is under way. Statuses move as Cinder's
do, through lifecycle jobs (so a restart resumes them): ``creating`` ->
``available`` (or ``error`` with a user message saying why), ``available`` ->
``extending`` -> ``available`` (``error_extending`` if the pool is full),
``deleting`` -> gone, ``uploading`` and ``retyping`` -> back where they were.

Not implemented: encryption, consistency groups and groups, migration,
manage/unmanage, transfers, revert to snapshot, re-image (``os-reimage``),
replication, scheduler hints (accepted, ignored).
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

from stacksim import faults
from stacksim.auth import Context
from stacksim.lifecycle import hold
from stacksim.services.volume import common, messages
from stacksim.services.volume.pools import NoValidBackend, footprint, host_of, pool_of
from stacksim.services.volume.types import is_multiattach

if TYPE_CHECKING:
    from stacksim.services.volume.model import BlockStorage

log = logging.getLogger("stacksim.volume")

KIND = "volume"
CREATE_JOB = "volume.create"
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
    }
)
ATTACH_STATUSES = frozenset({"attached", "detached"})
DISK_FORMATS = ("raw", "vmdk", "vdi", "qcow2", "vhd", "vhdx", "ploop")
#: Image attributes Cinder copies into ``volume_image_metadata`` (custom properties come too).
IMAGE_CORE = ("checksum", "container_format", "disk_format", "min_disk", "min_ram", "size")
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


#: a volume type extra spec: the seconds a volume of that type spends in ``creating``
CREATE_DELAY = "stacksim:create_delay"


def not_found(volume_id: str) -> faults.NotFound:
    return faults.NotFound(f"Volume {volume_id} could not be found.")


def gigabytes(size_bytes: int | None) -> int:
    return max(1, math.ceil((size_bytes or 0) / (1 << 30)))


class Volumes(common.Records):
    def __init__(self, bs: BlockStorage) -> None:
        super().__init__(bs, KIND, not_found)
        bs.lifecycle.register(CREATE_JOB, self._run_create)
        bs.lifecycle.register(DELETE_JOB, self._run_delete)
        bs.lifecycle.register(EXTEND_JOB, self._run_extend)
        bs.lifecycle.register(UPLOAD_JOB, self._run_upload)
        bs.lifecycle.register(RETYPE_JOB, self._run_retype)

    # -- status ----------------------------------------------------------------------------------

    def restore_status(self, volume_id: str, expected: str) -> None:
        """Back to the status before ``expected`` (a transitional one), if it is still there."""
        with self.store.transaction():
            record = self.record(volume_id)
            if record is not None and record["status"] == expected:
                record["status"] = record.get("previous_status") or "available"
                record["previous_status"] = None
                self._save(record)

    # -- create ----------------------------------------------------------------------------------

    def create(
        self,
        ctx: Context,
        *,
        size: Any = None,
        name: Any = None,
        description: Any = None,
        volume_type: str | None = None,
        availability_zone: str | None = None,
        metadata: Any = None,
        snapshot_id: str | None = None,
        source_volid: str | None = None,
        image_ref: str | None = None,
        backup_id: str | None = None,
        multiattach: bool = False,
    ) -> dict[str, Any]:
        """A new volume in ``creating`` (placed and filled by a lifecycle job); Cinder's checks first."""
        common.require_member(ctx, "volume:create")
        name = common.check_name(name, "name")
        description = common.check_name(description, "description")
        metadata = common.check_metadata(metadata)
        if availability_zone not in (None, common.ZONE):
            raise faults.BadRequest(f"Availability zone '{availability_zone}' is invalid.")
        sources = [s for s in (snapshot_id, source_volid, image_ref, backup_id) if s]
        if len(sources) > 1:
            raise common.invalid_input("Only one of snapshot_id, source_volid, imageRef or backup_id may be given.")
        if size is not None:
            size = common.check_size(size)
        with self.store.transaction():
            source: dict[str, Any] = {}
            type_record = None
            image_metadata: dict[str, Any] = {}
            if snapshot_id:
                snap = self.bs.snapshots.get(ctx, snapshot_id)
                if snap["status"] != "available":
                    raise common.invalid_snapshot("Originating snapshot status must be one of 'available' values")
                size = self._at_least(size, snap["size"], "the snapshot size", "original snapshot size")
                type_record = self.bs.types.record(snap.get("volume_type_id") or "")
                parent = self.record(snap["volume_id"])
                image_metadata = dict(parent.get("image_metadata") or {}) if parent else {}
                source = {"kind": "snapshot", "id": snapshot_id}
            elif source_volid:
                src = self.get(ctx, source_volid)
                if src["status"] not in ("available", "in-use"):
                    raise common.invalid_volume(
                        "Unable to create a volume from an originating source volume when its status is not "
                        "'available' or 'in-use'."
                    )
                size = self._at_least(size, src["size"], "original volume size", "original volume size")
                type_record = self.bs.types.record(src.get("volume_type_id") or "")
                image_metadata = dict(src.get("image_metadata") or {})
                source = {"kind": "volume", "id": source_volid}
            elif image_ref:
                image = self._image(ctx, image_ref)
                need = gigabytes(image.get("virtual_size") or image.get("size"))
                if size is None:
                    size = max(need, int(image.get("min_disk") or 0))
                if need > size:
                    raise common.invalid_input(f"Size of specified image {need}GB is larger than volume size {size}GB.")
                if int(image.get("min_disk") or 0) > size:
                    raise common.invalid_input(
                        f"Volume size {size}GB cannot be smaller than the image minDisk size {image['min_disk']}GB."
                    )
                image_metadata = self._image_metadata(image)
                source = {"kind": "image", "id": image["id"]}
            elif backup_id:
                backup = self.bs.backups.get(ctx, backup_id)
                if backup["status"] != "available":
                    raise common.invalid_backup(
                        f'Backup status must be available but the current status is "{backup["status"]}".'
                    )
                size = self._at_least(size, backup["size"], "the backup size", "original backup size")
                source = {"kind": "backup", "id": backup_id}
            elif size is None:
                raise common.invalid_input(
                    "Invalid volume size provided for create request: None (size argument must be an integer "
                    "(or string representation of an integer) and greater than zero)."
                )
            if volume_type:
                type_record = self.bs.types.find(ctx, volume_type)
            if type_record is None:
                type_record = self.bs.types.default()
            if multiattach and not is_multiattach(type_record):
                raise common.invalid_input(
                    "multiattach is set by the volume type: its extra spec multiattach must be '<is> True'."
                )
            try:  # a hold, for testing what a client does while a volume is "creating"
                create_delay = hold(type_record.get("extra_specs"), CREATE_DELAY)
            except ValueError as exc:
                raise common.invalid_input(f"Volume type {type_record['name']}: {exc}") from None
            self.bs.quotas.check(ctx.project_id or "", volumes=1, gigabytes=size, volume_size=size)
            record = {
                "id": common.new_id(),
                "project_id": ctx.project_id,
                "user_id": ctx.user_id,
                "name": name,
                "description": description,
                "size": size,
                "new_size": None,
                "status": "creating",
                "previous_status": None,
                "attach_status": "detached",
                "availability_zone": common.ZONE,
                "volume_type_id": type_record["id"],
                "host": None,
                "bootable": False,
                "multiattach": is_multiattach(type_record),
                "metadata": metadata,
                "image_metadata": image_metadata,
                "admin_metadata": {},
                "snapshot_id": snapshot_id or None,
                "source_volid": source_volid or None,
                "backup_id": backup_id or None,
                "source": source,
                "encrypted": False,
                "consumes_quota": True,
                "migration_status": None,
                "replication_status": None,
                "created_at": common.now(),
                "updated_at": None,
                "launched_at": None,
            }
            self.store.put(KIND, record)
            if source.get("kind") == "backup":
                self.bs.backups.set_status(source["id"], "restoring", restore_volume_id=record["id"])
        self.bs.lifecycle.schedule(CREATE_JOB, record["id"], delay=create_delay)
        return record

    @staticmethod
    def _at_least(size: int | None, source_size: int, what: str, plain: str) -> int:
        if size is None:
            return source_size
        if size < source_size:
            raise common.invalid_input(
                f"Volume size '{size}'GB cannot be smaller than {what} {source_size}GB. They must be >= {plain}."
            )
        return size

    def _image(self, ctx: Context, image_ref: str) -> dict[str, Any]:
        try:
            image = self.bs.images.get(ctx, image_ref)
        except faults.NotFound:
            raise common.invalid_input("Invalid image identifier or unable to access requested image.") from None
        if image["status"] != "active":
            raise common.invalid_input(f"Image {image_ref} is not active.")
        return image

    @staticmethod
    def _image_metadata(image: dict[str, Any]) -> dict[str, str]:
        meta = {k: str(v) for k, v in (image.get("properties") or {}).items() if not k.startswith("os_glance")}
        for key in IMAGE_CORE:
            if image.get(key) is not None:
                meta[key] = str(image[key])
        meta["image_id"] = image["id"]
        meta["image_name"] = image.get("name") or ""
        return meta

    def _source_path(self, source: dict[str, Any]):
        files = self.bs.files
        kind = source.get("kind")
        if kind == "snapshot":
            return files.snapshot(source["id"])
        if kind == "volume":
            return files.volume(source["id"])
        if kind == "image":
            return self.bs.images.path(source["id"])
        if kind == "backup":
            return files.backup(source["id"])
        return None

    def place(self, record: dict[str, Any], prefer: str | None = None) -> str:
        """Choose the pool for a new volume (inside a transaction); :class:`NoValidBackend` if none fits."""
        type_record = self.bs.types.record(record["volume_type_id"] or "")
        specs = type_record["extra_specs"] if type_record else {}
        used = self.bs.pools.allocated()
        if prefer and self.bs.pools.fits(specs, prefer) and self.bs.pools.free(prefer, used) >= record["size"]:
            return prefer
        return self.bs.pools.choose(specs, record["size"], used)

    def _run_create(self, job: dict[str, Any]) -> None:
        """The scheduler and the driver, in a worker thread: place the volume, then fill its file."""
        volume_id = job["target"]
        with self.store.transaction():
            record = self.record(volume_id)
            if record is None or record["status"] != "creating":
                return
            if record["host"] is None:
                try:
                    pool = self.place(record, self._source_pool(record.get("source") or {}))
                except NoValidBackend as exc:
                    log.info("volume %s: %s", volume_id, exc)
                    record["status"] = "error"
                    self._save(record)
                    self._release(record.get("source") or {})
                    self.bs.messages.add(
                        record["project_id"],
                        "VOLUME",
                        volume_id,
                        messages.SCHEDULE_ALLOCATE_VOLUME,
                        messages.NO_BACKEND,
                        str(exc),
                    )
                    return
                record["host"] = host_of(pool)
                self._save(record)
            source = record.get("source") or {}
            size = record["size"]
        path = self.bs.files.volume(volume_id)
        try:
            src = self._source_path(source)
            if src is None:
                self.bs.files.create(path, size)
            else:
                self.bs.files.copy(src, path, size)
        except Exception as exc:  # the create fails cleanly, whatever went wrong
            log.info("volume %s: filling it failed: %s", volume_id, exc)
            self.bs.files.remove(path)
            action = (
                messages.COPY_IMAGE_TO_VOLUME if source.get("kind") == "image" else messages.CREATE_VOLUME_FROM_BACKEND
            )
            with self.store.transaction():
                record = self.record(volume_id)
                self._release(source)
                if record is not None:
                    record.update(status="error", host=None)
                    self._save(record)
                    self.bs.messages.add(
                        record["project_id"], "VOLUME", volume_id, action, messages.DRIVER_FAILED, str(exc)
                    )
            return
        with self.store.transaction():
            self._release(source)
            record = self.record(volume_id)
            if record is None:
                self.bs.files.remove(path)
                return
            if record["status"] != "creating":
                return
            record["status"] = "available"
            record["launched_at"] = common.now()
            if source.get("kind") == "image":
                record["bootable"] = True
            elif source.get("kind") in ("snapshot", "volume"):
                parent = self._parent(source)
                record["bootable"] = bool(parent and parent.get("bootable"))
            self._save(record)

    def _release(self, source: dict[str, Any]) -> None:
        """A backup a volume was made from is ``available`` again once the copy is over."""
        if source.get("kind") == "backup":
            self.bs.backups.restore_status(source["id"], "restoring")

    def _parent(self, source: dict[str, Any]) -> dict[str, Any] | None:
        if source.get("kind") == "volume":
            return self.record(source["id"])
        if source.get("kind") == "snapshot":
            snap = self.store.get("volume_snapshot", source["id"])
            return self.record(snap["volume_id"]) if snap else None
        return None

    def _source_pool(self, source: dict[str, Any]) -> str | None:
        """Cinder's ``snapshot_same_host``: a copy goes next to its source if it fits there."""
        parent = self._parent(source)
        return pool_of(parent.get("host")) if parent else None

    # -- update and metadata -------------------------------------------------------------------------

    def update(self, ctx: Context, volume_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        common.require_member(ctx, "volume:update")
        with self.store.transaction():
            record = self.get(ctx, volume_id)
            if record["status"] == "maintenance":
                raise common.invalid_volume("The volume cannot be updated during maintenance.")
            self._apply_changes(record, changes)
            return self._save(record)

    def _metadata_writable(self, record: dict[str, Any], verb: str) -> None:
        if record["status"] in ("maintenance", "uploading"):
            raise common.invalid_volume(
                f"{verb} volume metadata is not allowed for volumes in {record['status']} status."
            )

    def set_metadata(self, ctx: Context, volume_id: str, metadata: Any, replace: bool = False) -> dict[str, str]:
        common.require_member(ctx, "volume:update_volume_metadata")
        checked = common.check_metadata(metadata)
        with self.store.transaction():
            record = self.get(ctx, volume_id)
            self._metadata_writable(record, "Updating")
            record["metadata"] = checked if replace else {**record["metadata"], **checked}
            self._save(record)
            return dict(record["metadata"])

    def metadata_item(self, record: dict[str, Any], key: str) -> str:
        if key not in record["metadata"]:
            raise faults.NotFound(f"Volume {record['id']} has no metadata with key {key}.")
        return record["metadata"][key]

    def delete_metadata(self, ctx: Context, volume_id: str, key: str) -> None:
        common.require_member(ctx, "volume:delete_volume_metadata")
        with self.store.transaction():
            record = self.get(ctx, volume_id)
            self.metadata_item(record, key)
            self._metadata_writable(record, "Deleting")
            del record["metadata"][key]
            self._save(record)

    def set_image_metadata(self, ctx: Context, volume_id: str, metadata: Any) -> dict[str, str]:
        common.require_member(ctx, "volume_extension:volume_image_metadata:set")
        checked = common.check_metadata(metadata)
        with self.store.transaction():
            record = self.get(ctx, volume_id)
            self._metadata_writable(record, "Updating")
            record["image_metadata"] = {**(record.get("image_metadata") or {}), **checked}
            self._save(record)
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
            self._metadata_writable(record, "Deleting")
            del meta[key]
            record["image_metadata"] = meta
            self._save(record)

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
            snapshots = self.store.find("volume_snapshot", volume_id=volume_id)
            attached = record["attach_status"] == "attached" or self.store.count(
                "volume_attachment", volume_id=volume_id
            )
            ok = not attached and record.get("migration_status") in (None, "deleting", "error", "success")
            if not force and record["status"] not in DELETABLE:
                ok = False
            if snapshots and not cascade:
                ok = False
            if cascade and not force and any(s["status"] not in ("available", "error", "deleting") for s in snapshots):
                ok = False
            if not ok:
                raise common.invalid_volume(FORCE_DELETE_MESSAGE if force else DELETE_MESSAGE)
            record["previous_status"] = record["status"]
            record["status"] = "deleting"
            self._save(record)
            for snap in snapshots:
                self.bs.snapshots.set_status(snap["id"], "deleting")
        self.bs.lifecycle.schedule(DELETE_JOB, volume_id)

    def _purge(self, record: dict[str, Any]) -> None:
        volume_id = record["id"]
        for snap in self.store.find("volume_snapshot", volume_id=volume_id):
            self.bs.files.remove(self.bs.files.snapshot(snap["id"]))
            self.store.delete("volume_snapshot", snap["id"])
        self.store.delete_where("volume_attachment", volume_id=volume_id)
        self.store.delete(KIND, volume_id)
        self.bs.files.remove(self.bs.files.volume(volume_id))

    def _run_delete(self, job: dict[str, Any]) -> None:
        with self.store.transaction():
            record = self.record(job["target"])
            if record is None or record["status"] != "deleting":
                return
            for action in (CREATE_JOB, EXTEND_JOB, UPLOAD_JOB, RETYPE_JOB):
                self.bs.lifecycle.cancel(record["id"], action)
            self._purge(record)

    # -- extend -----------------------------------------------------------------------------------------

    def extend(self, ctx: Context, volume_id: str, new_size: Any, attached_ok: bool = False) -> None:
        """``os-extend``: only grows; ``in-use`` volumes from 3.42 (``attached_ok``)."""
        common.require_member(ctx, "volume:extend")
        if isinstance(new_size, bool) or not isinstance(new_size, int | str):
            raise faults.BadRequest(f"Invalid input for field/attribute new_size. Value: {new_size}.")
        try:
            new = int(new_size)
        except ValueError:
            raise faults.BadRequest(f"Invalid input for field/attribute new_size. Value: {new_size}.") from None
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
            self._save(record)
        self.bs.lifecycle.schedule(EXTEND_JOB, volume_id)

    def _run_extend(self, job: dict[str, Any]) -> None:
        volume_id = job["target"]
        with self.store.transaction():
            record = self.record(volume_id)
            if record is None or record["status"] != "extending":
                return
            pool = pool_of(record["host"])
            used = self.bs.pools.allocated()
            if pool is None or self.bs.pools.free(pool, used) < 0:
                record.update(status="error_extending", new_size=None, previous_status=None)
                self._save(record)
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
            record = self.record(volume_id)
            if record is None or record["status"] != "extending":
                return
            record.update(size=new, new_size=None, status=record.get("previous_status") or "available")
            record["previous_status"] = None
            self._save(record)

    # -- admin and plain actions ------------------------------------------------------------------------

    def reset_status(self, ctx: Context, volume_id: str, body: dict[str, Any]) -> None:
        common.require_admin(ctx, "volume_extension:volume_admin_actions:reset_status")
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
                    self.store.delete_where("volume_attachment", volume_id=volume_id)
            if migration_status is not None:
                record["migration_status"] = None if migration_status in ("", "none") else migration_status
            if record["status"] != "extending":
                record["new_size"] = None
            self._save(record)

    def set_bootable(self, ctx: Context, volume_id: str, bootable: Any) -> None:
        common.require_member(ctx, "volume_extension:volume_actions:set_bootable")
        value = common.flag(bootable, "bootable")
        with self.store.transaction():
            record = self.get(ctx, volume_id)
            record["bootable"] = value
            self._save(record)

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
            self._save(record)

    # -- upload to image --------------------------------------------------------------------------------

    def upload_to_image(
        self,
        ctx: Context,
        volume_id: str,
        *,
        image_name: Any,
        disk_format: str = "raw",
        container_format: str = "bare",
        visibility: str | None = None,
        protected: bool | None = None,
    ) -> dict[str, Any]:
        """``os-volume_upload_image``: a Glance image (``queued`` now) whose data is the volume's bytes."""
        common.require_member(ctx, "volume_extension:volume_actions:upload_image")
        if not isinstance(image_name, str) or not image_name:
            raise faults.BadRequest("No image_name was specified in request.")
        if disk_format not in DISK_FORMATS:
            raise faults.BadRequest(
                f"Invalid disk-format '{disk_format}' is specified. Allowed disk-formats are {', '.join(DISK_FORMATS)}."
            )
        if visibility == "public" and not ctx.is_admin:
            raise common.denied("volume_extension:volume_actions:upload_public")
        with self.store.transaction():
            record = self.get(ctx, volume_id)
            if record["status"] != "available":
                raise common.invalid_volume(f"Volume {volume_id} status must be available")
            record["previous_status"] = record["status"]
            record["status"] = "uploading"
            self._save(record)
        attrs: dict[str, Any] = {
            "name": image_name,
            "disk_format": disk_format,
            "container_format": container_format,
            "visibility": visibility or "private",
        }
        if protected is not None:
            attrs["protected"] = bool(protected)
        for key, value in (record.get("image_metadata") or {}).items():
            if key not in (*IMAGE_CORE, "image_id", "image_name") and _custom_property(key):
                attrs[key] = value
        try:
            image = self.bs.images.create(record["project_id"], **attrs)
        except Exception:
            self.restore_status(volume_id, "uploading")
            raise
        self.bs.lifecycle.schedule(UPLOAD_JOB, volume_id, image_id=image["id"])
        type_record = self.bs.types.record(record["volume_type_id"] or "")
        return {
            "id": volume_id,
            "updated_at": record["updated_at"],
            "status": "uploading",
            "display_description": record["description"],
            "size": record["size"],
            "volume_type": _type_brief(type_record),
            "image_id": image["id"],
            "container_format": image["container_format"],
            "disk_format": image["disk_format"],
            "image_name": image["name"],
            "protected": image["protected"],
            "visibility": image["visibility"],
        }

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
            self._save(record)
        self.bs.lifecycle.schedule(RETYPE_JOB, volume_id, type_id=target["id"], policy=policy)

    def _run_retype(self, job: dict[str, Any]) -> None:
        volume_id, args = job["target"], job["args"]
        with self.store.transaction():
            record = self.record(volume_id)
            if record is None or record["status"] != "retyping":
                return
            target = self.bs.types.record(args["type_id"])
            problem = None
            if target is None:
                problem = f"volume type {args['type_id']} no longer exists"
            else:
                specs = target["extra_specs"]
                pool = pool_of(record["host"])
                if pool is None or not self.bs.pools.fits(specs, pool):
                    if args["policy"] != "on-demand":
                        problem = "Retype requires migration but is not allowed."
                    else:
                        used = self.bs.pools.allocated()
                        if pool in used:
                            used[pool] -= footprint(record)
                        try:
                            record["host"] = host_of(self.bs.pools.choose(specs, record["size"], used))
                        except NoValidBackend as exc:
                            problem = str(exc)
            if problem is None:
                record["volume_type_id"] = target["id"]
                record["multiattach"] = is_multiattach(target)
            else:
                self.bs.messages.add(
                    record["project_id"], "VOLUME", volume_id, messages.RETYPE, messages.NO_BACKEND, problem
                )
            record["status"] = record.get("previous_status") or "available"
            record["previous_status"] = None
            self._save(record)

    # -- restart ---------------------------------------------------------------------------------------

    def recover(self) -> None:
        """After a restart: a transitional status whose job is gone would never move; settle it."""
        pending = {(j["target"], j["action"]) for j in self.bs.lifecycle.pending()}
        for record in self.store.find(KIND):
            status, volume_id = record["status"], record["id"]
            if status == "creating" and (volume_id, CREATE_JOB) not in pending:
                self.bs.lifecycle.schedule(CREATE_JOB, volume_id, delay=0)
            elif status == "deleting" and (volume_id, DELETE_JOB) not in pending:
                self.bs.lifecycle.schedule(DELETE_JOB, volume_id, delay=0)
            elif status == "extending" and (volume_id, EXTEND_JOB) not in pending:
                self.bs.lifecycle.schedule(EXTEND_JOB, volume_id, delay=0)
            elif status == "uploading" and (volume_id, UPLOAD_JOB) not in pending:
                self.restore_status(volume_id, "uploading")
            elif status == "retyping" and (volume_id, RETYPE_JOB) not in pending:
                self.restore_status(volume_id, "retyping")


def _custom_property(key: str) -> bool:
    from stacksim.services.image import schemas

    return (
        key not in schemas.BASE
        and key not in schemas.READ_ONLY
        and key not in schemas.DISALLOWED
        and not schemas.is_reserved(key)
    )


def _type_brief(record: dict[str, Any] | None) -> dict[str, Any] | None:
    if record is None:
        return None
    return {
        "id": record["id"],
        "name": record["name"],
        "description": record["description"],
        "is_public": record["is_public"],
        "extra_specs": {},
        "qos_specs_id": record.get("qos_specs_id"),
        "deleted": False,
        "created_at": record["created_at"],
        "updated_at": record["updated_at"],
        "deleted_at": None,
    }
