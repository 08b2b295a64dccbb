"""Backups: a volume's (or a snapshot's) bytes copied under the state dir, and restores of them.

``creating`` -> ``available`` through a lifecycle job that copies the data
(the volume is ``backing-up`` meanwhile); a restore makes the backup
``restoring`` and the target volume ``restoring-backup`` until the copy is
back; ``deleting`` -> gone. An incremental backup needs an earlier one of the
same volume (its parent, which then cannot be deleted first); its data is a
full copy all the same.

Not implemented: export/import of backup records, backup drivers and
containers (``container`` is recorded only), encryption keys.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stacksim import faults
from stacksim.auth import Context
from stacksim.services.volume import common, messages
from stacksim.services.volume.volume_create import NewVolume

if TYPE_CHECKING:
    from stacksim.services.volume.model import BlockStorage

log = logging.getLogger("stacksim.volume")

KIND = "volume_backup"
CREATE_JOB = "backup.create"
DELETE_JOB = "backup.delete"
RESTORE_JOB = "backup.restore"
DEFAULT_CONTAINER = "volumebackups"
#: The chunk size of Cinder's chunked backup drivers (``backup_file_size`` default).
OBJECT_SIZE = 1999994880


def not_found(backup_id: str) -> faults.NotFound:
    return faults.NotFound(f"Backup {backup_id} could not be found.")


@dataclass(frozen=True)
class NewBackup:
    """A backup to make of ``volume_id`` (of its ``snapshot_id`` if given). ``incremental`` needs an
    earlier backup of the volume; ``force`` allows an ``in-use`` volume."""

    volume_id: str
    name: str | None = None
    description: str | None = None
    metadata: dict[str, str] | None = None
    container: str | None = None
    incremental: bool | str = False
    force: bool | str = False
    snapshot_id: str | None = None
    availability_zone: str | None = None


class Backups(common.Records):
    update_rule = "backup:update"
    reset_rule = "volume_extension:backup_admin_actions:reset_status"
    reset_statuses = frozenset({"available", "error"})
    resumable = {"creating": CREATE_JOB, "deleting": DELETE_JOB}
    jobs = {CREATE_JOB: "_run_create", DELETE_JOB: "_run_delete", RESTORE_JOB: "_run_restore"}

    def __init__(self, bs: BlockStorage) -> None:
        super().__init__(bs, KIND, not_found)

    # -- reading -------------------------------------------------------------------------------------

    def has_dependents(self, backup_id: str) -> bool:
        return self.store.count(KIND, parent_id=backup_id) > 0

    # -- create ---------------------------------------------------------------------------------------

    def create(self, ctx: Context, request: NewBackup) -> dict[str, Any]:
        common.require_member(ctx, "backup:create")
        volume_id = common.check_id(request.volume_id, "volume_id")
        labels = common.Labels.check(request.name, request.description, request.metadata)
        incremental = common.flag(request.incremental or False, "incremental")
        force = common.flag(request.force or False, "force")
        common.check_zone(request.availability_zone)
        container = common.check_name(request.container, "container")
        with self.store.transaction():
            volume = self.bs.volumes.get(ctx, volume_id)
            snap = self._source_snapshot(ctx, volume, request.snapshot_id, force)
            parent_id = self._parent(volume_id) if incremental else None
            size = snap["size"] if snap else volume["size"]
            self.bs.quotas.check(ctx.project_id or "", backups=1, backup_gigabytes=size)
            stamp = common.now()
            record = self.store.put(
                KIND,
                {
                    "id": common.new_id(),
                    "project_id": ctx.project_id,
                    "user_id": ctx.user_id,
                    "volume_id": volume_id,
                    "snapshot_id": request.snapshot_id or None,
                    "name": labels.name,
                    "description": labels.description,
                    "size": size,
                    "status": "creating",
                    "fail_reason": None,
                    "availability_zone": common.ZONE,
                    "container": container or DEFAULT_CONTAINER,
                    "object_count": 0,
                    "is_incremental": incremental,
                    "parent_id": parent_id,
                    "metadata": labels.metadata,
                    "data_timestamp": snap["created_at"] if snap else stamp,
                    "restore_volume_id": None,
                    "created_at": stamp,
                    "updated_at": None,
                },
            )
            if snap is None:
                self.bs.volumes.set_status(volume_id, "backing-up", previous_status=volume["status"])
            else:
                self.bs.snapshots.set_status(snap["id"], "backing-up")
        self.bs.lifecycle.schedule(CREATE_JOB, record["id"])
        return record

    def _source_snapshot(
        self, ctx: Context, volume: dict[str, Any], snapshot_id: str | None, force: bool
    ) -> dict[str, Any] | None:
        """The snapshot to back up (None: the volume itself), once the source may be backed up."""
        if snapshot_id:
            snap = self.bs.snapshots.get(ctx, snapshot_id)
            if snap["volume_id"] != volume["id"]:
                raise common.invalid_snapshot(f"Snapshot {snapshot_id} is not part of volume {volume['id']}.")
            if snap["status"] != "available":
                raise common.invalid_snapshot(
                    f'Snapshot to be backed up must be available, but the current status is "{snap["status"]}".'
                )
            return snap
        if volume["status"] not in ("available", "in-use"):
            raise common.invalid_volume(
                f'Volume to be backed up must be available or in-use, but the current status is "{volume["status"]}".'
            )
        if volume["status"] == "in-use" and not force:
            raise common.invalid_volume("Backing up an in-use volume must use the force flag.")
        return None

    def _parent(self, volume_id: str) -> str:
        """The newest available backup of the volume, which an incremental one builds on."""
        done = [b for b in self.store.find(KIND, volume_id=volume_id) if b["status"] == "available"]
        if not done:
            raise common.invalid_backup("No backups available to do an incremental backup.")
        return max(done, key=lambda b: b["created_at"])["id"]

    def _run_create(self, job: dict[str, Any]) -> None:
        backup_id = job["target"]
        record = self.still(backup_id, "creating")
        if record is None:
            return
        files = self.bs.files
        source = files.snapshot(record["snapshot_id"]) if record["snapshot_id"] else files.volume(record["volume_id"])
        path = files.backup(backup_id)
        failure = None
        try:
            files.copy(source, path)
        except Exception as exc:
            log.info("backup %s failed: %s", backup_id, exc)
            files.remove(path)
            failure = str(exc)
        with self.store.transaction():
            if record["snapshot_id"]:
                snap = self.bs.snapshots.record(record["snapshot_id"])
                if snap is not None and snap["status"] == "backing-up":
                    self.bs.snapshots.set_status(snap["id"], "available")
            else:
                self.bs.volumes.restore_status(record["volume_id"], "backing-up")
            record = self.record(backup_id)
            if record is None:
                files.remove(path)
                return
            if record["status"] != "creating":
                return
            if failure is None:
                used = files.allocated(path)
                record.update(status="available", object_count=max(1, math.ceil(used / OBJECT_SIZE)))
            else:
                record.update(status="error", fail_reason=failure)
                self.bs.messages.add(
                    record["project_id"], "BACKUP", backup_id, messages.BACKUP_CREATE, messages.UNKNOWN_ERROR, failure
                )
            self.save(record)

    # -- update, delete ---------------------------------------------------------------------------------

    def delete(self, ctx: Context, backup_id: str, force: bool = False) -> None:
        common.require_member(ctx, "backup:delete")
        if force:
            common.require_admin(ctx, "volume_extension:backup_admin_actions:force_delete")
        with self.store.transaction():
            record = self.get(ctx, backup_id)
            if not force and record["status"] not in ("available", "error"):
                raise common.invalid_backup("Backup status must be available or error")
            if self.has_dependents(backup_id):
                raise common.invalid_backup("Incremental backups exist for this backup.")
            record["status"] = "deleting"
            self.save(record)
        self.bs.lifecycle.schedule(DELETE_JOB, backup_id)

    def _remove(self, record: dict[str, Any]) -> None:
        self.store.delete(KIND, record["id"])
        self.bs.files.remove(self.bs.files.backup(record["id"]))

    # -- restore -----------------------------------------------------------------------------------------

    def restore(
        self, ctx: Context, backup_id: str, *, volume_id: str | None = None, name: str | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Into ``volume_id`` (available, big enough) or a new volume the size of the backup,
        named ``name``: the backup and the volume."""
        common.require_member(ctx, "backup:restore")
        with self.store.transaction():
            record = self.get(ctx, backup_id)
            if record["status"] != "available":
                raise common.invalid_backup("Backup status must be available")
            if not volume_id:
                volume = self.bs.volumes.create(
                    ctx,
                    NewVolume(
                        size=record["size"],
                        name=name if name is not None else f"restore_backup_{backup_id}",
                        backup_id=backup_id,
                    ),
                )
                return record, volume
            volume = self.bs.volumes.get(ctx, volume_id)
            if volume["status"] != "available":
                raise common.invalid_volume("Volume to be restored to must be available")
            if volume["size"] < record["size"]:
                raise common.invalid_volume(
                    f"volume size {volume['size']} is too small to restore backup of size {record['size']}."
                )
            self.bs.volumes.set_status(volume_id, "restoring-backup", previous_status=volume["status"])
            record.update(status="restoring", restore_volume_id=volume_id)
            self.save(record)
        self.bs.lifecycle.schedule(RESTORE_JOB, backup_id, volume_id=volume_id)
        return record, volume

    def _run_restore(self, job: dict[str, Any]) -> None:
        backup_id, volume_id = job["target"], job["args"]["volume_id"]
        volume = self.bs.volumes.record(volume_id)
        failure = None
        if volume is None or volume["status"] != "restoring-backup":
            failure = f"volume {volume_id} is no longer being restored"
        else:
            try:
                self.bs.files.copy(self.bs.files.backup(backup_id), self.bs.files.volume(volume_id), volume["size"])
            except Exception as exc:
                failure = str(exc)
        with self.store.transaction():
            self.restore_status(backup_id, "restoring", restore_volume_id=None)
            volume = self.bs.volumes.record(volume_id)
            if volume is None or volume["status"] != "restoring-backup":
                return
            if failure is None:
                self.bs.volumes.restore_status(volume_id, "restoring-backup")
            else:
                log.info("restore of backup %s to volume %s failed: %s", backup_id, volume_id, failure)
                self.bs.volumes.set_status(volume_id, "error_restoring", previous_status=None)
                self.bs.messages.add(
                    volume["project_id"], "VOLUME", volume_id, messages.BACKUP_RESTORE, messages.UNKNOWN_ERROR, failure
                )

    def recover(self) -> None:
        super().recover()
        pending = {(j["target"], j["action"]) for j in self.bs.lifecycle.pending()}
        for record in self.store.find(KIND):
            if record["status"] == "restoring" and not any(t == record["id"] for t, _ in pending):
                volume_id = record.get("restore_volume_id")
                volume = self.bs.volumes.record(volume_id) if volume_id else None
                if volume is not None and volume["status"] == "restoring-backup":
                    self.bs.lifecycle.schedule(RESTORE_JOB, record["id"], delay=0, volume_id=volume_id)
                elif volume is None or volume["status"] != "creating":
                    self.restore_status(record["id"], "restoring", restore_volume_id=None)
