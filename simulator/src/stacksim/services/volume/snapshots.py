"""Snapshots: a copy of a volume's bytes at the moment the driver takes it.

``creating`` -> ``available`` through a lifecycle job that copies the volume's
file (keeping its holes) to the snapshot's; ``deleting`` -> gone. A snapshot
counts against the project's ``snapshots`` and ``gigabytes`` quotas, and a
volume with snapshots cannot be deleted unless the delete cascades.

Not implemented: group snapshots, manage/unmanage, ``os-update_snapshot_status``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from stacksim import faults
from stacksim.auth import Context
from stacksim.services.volume import common, messages

if TYPE_CHECKING:
    from stacksim.services.volume.model import BlockStorage

log = logging.getLogger("stacksim.volume")

KIND = "volume_snapshot"
CREATE_JOB = "snapshot.create"
DELETE_JOB = "snapshot.delete"
RESET_STATUSES = frozenset({"available", "error", "creating", "deleting", "error_deleting"})
FORCE_IS_INVALID = (
    "Since microversion 3.66 the 'force' flag is invalid for this request. For backward compatibility, however, "
    "when the 'force' flag is passed with a value evaluating to True, it is silently ignored."
)


def not_found(snapshot_id: str) -> faults.NotFound:
    return faults.NotFound(f"Snapshot {snapshot_id} could not be found.")


class Snapshots(common.Records):
    def __init__(self, bs: BlockStorage) -> None:
        super().__init__(bs, KIND, not_found)
        bs.lifecycle.register(CREATE_JOB, self._run_create)
        bs.lifecycle.register(DELETE_JOB, self._run_delete)

    # -- create -------------------------------------------------------------------------------------

    def create(
        self,
        ctx: Context,
        volume_id: Any,
        *,
        name: Any = None,
        description: Any = None,
        force: Any = None,
        metadata: Any = None,
        force_is_invalid: bool = False,
    ) -> dict[str, Any]:
        """A snapshot of ``volume_id`` in ``creating``; ``force`` allows an ``in-use`` volume
        (always allowed from 3.66, where ``force_is_invalid`` makes ``force: false`` a 400)."""
        common.require_member(ctx, "volume:create_snapshot")
        if not isinstance(volume_id, str) or not volume_id:
            raise faults.BadRequest("Invalid input for field/attribute volume_id. Expected a string.")
        name = common.check_name(name, "name")
        description = common.check_name(description, "description")
        metadata = common.check_metadata(metadata)
        if force_is_invalid:
            if force is not None and not common.flag(force, "force"):
                raise faults.BadRequest(FORCE_IS_INVALID)
            forced = True
        else:
            forced = common.flag(force, "force") if force is not None else False
        with self.store.transaction():
            volume = self.bs.volumes.get(ctx, volume_id)
            if not volume["host"]:
                raise common.invalid_volume(
                    "The snapshot cannot be created because volume has not been scheduled to any host."
                )
            if volume["status"] == "maintenance":
                raise common.invalid_volume("The snapshot cannot be created when the volume is in maintenance mode.")
            if volume["status"] == "error":
                raise common.invalid_volume("The snapshot cannot be created when the volume is in error status.")
            valid = ("available", "in-use") if forced else ("available",)
            if volume["status"] not in valid:
                raise common.invalid_volume(
                    f"Volume {volume_id} status must be {', '.join(valid)}, but current status is: {volume['status']}."
                )
            self.bs.quotas.check(ctx.project_id or "", snapshots=1, gigabytes=volume["size"])
            record = self.store.put(
                KIND,
                {
                    "id": common.new_id(),
                    "project_id": ctx.project_id,
                    "user_id": ctx.user_id,
                    "volume_id": volume_id,
                    "name": name,
                    "description": description,
                    "size": volume["size"],
                    "status": "creating",
                    "progress": "0%",
                    "metadata": metadata,
                    "volume_type_id": volume["volume_type_id"],
                    "group_snapshot_id": None,
                    "consumes_quota": True,
                    "created_at": common.now(),
                    "updated_at": None,
                },
            )
        self.bs.lifecycle.schedule(CREATE_JOB, record["id"])
        return record

    def _run_create(self, job: dict[str, Any]) -> None:
        """Copy the volume's bytes as they are now (in a worker thread)."""
        snapshot_id = job["target"]
        record = self.record(snapshot_id)
        if record is None or record["status"] != "creating":
            return
        path = self.bs.files.snapshot(snapshot_id)
        try:
            self.bs.files.copy(self.bs.files.volume(record["volume_id"]), path)
        except Exception as exc:
            log.info("snapshot %s failed: %s", snapshot_id, exc)
            self.bs.files.remove(path)
            with self.store.transaction():
                record = self.record(snapshot_id)
                if record is not None and record["status"] == "creating":
                    record["status"] = "error"
                    self._save(record)
                    self.bs.messages.add(
                        record["project_id"],
                        "SNAPSHOT",
                        snapshot_id,
                        messages.SNAPSHOT_CREATE,
                        messages.DRIVER_FAILED,
                        str(exc),
                    )
            return
        with self.store.transaction():
            record = self.record(snapshot_id)
            if record is None:
                self.bs.files.remove(path)
                return
            if record["status"] == "creating":
                record.update(status="available", progress="100%")
                self._save(record)

    # -- update, metadata ---------------------------------------------------------------------------

    def update(self, ctx: Context, snapshot_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        common.require_member(ctx, "volume:update_snapshot")
        with self.store.transaction():
            record = self.get(ctx, snapshot_id)
            self._apply_changes(record, changes)
            return self._save(record)

    def set_metadata(self, ctx: Context, snapshot_id: str, metadata: Any, replace: bool = False) -> dict[str, str]:
        common.require_member(ctx, "volume:update_snapshot_metadata")
        checked = common.check_metadata(metadata)
        with self.store.transaction():
            record = self.get(ctx, snapshot_id)
            record["metadata"] = checked if replace else {**record["metadata"], **checked}
            self._save(record)
            return dict(record["metadata"])

    @staticmethod
    def metadata_item(record: dict[str, Any], key: str) -> str:
        if key not in record["metadata"]:
            raise faults.NotFound(f"Snapshot {record['id']} has no metadata with key {key}.")
        return record["metadata"][key]

    def delete_metadata(self, ctx: Context, snapshot_id: str, key: str) -> None:
        common.require_member(ctx, "volume:delete_snapshot_metadata")
        with self.store.transaction():
            record = self.get(ctx, snapshot_id)
            self.metadata_item(record, key)
            del record["metadata"][key]
            self._save(record)

    # -- delete, admin actions ----------------------------------------------------------------------

    def delete(self, ctx: Context, snapshot_id: str, force: bool = False) -> None:
        common.require_member(ctx, "volume:delete_snapshot")
        if force:
            common.require_admin(ctx, "volume_extension:snapshot_admin_actions:force_delete")
        with self.store.transaction():
            record = self.get(ctx, snapshot_id)
            if not force and record["status"] not in ("available", "error"):
                raise common.invalid_snapshot(
                    "Snapshot status must be available or error and must not be part of a group."
                )
            record["status"] = "deleting"
            self._save(record)
        self.bs.lifecycle.schedule(DELETE_JOB, snapshot_id)

    def _run_delete(self, job: dict[str, Any]) -> None:
        with self.store.transaction():
            record = self.record(job["target"])
            if record is None or record["status"] != "deleting":
                return
            self.bs.lifecycle.cancel(record["id"], CREATE_JOB)
            self.store.delete(KIND, record["id"])
            self.bs.files.remove(self.bs.files.snapshot(record["id"]))

    def reset_status(self, ctx: Context, snapshot_id: str, status: Any) -> None:
        common.require_admin(ctx, "volume_extension:snapshot_admin_actions:reset_status")
        if not isinstance(status, str) or status.lower() not in RESET_STATUSES:
            raise faults.BadRequest("Must specify a valid status")
        with self.store.transaction():
            record = self.get(ctx, snapshot_id)
            record["status"] = status.lower()
            self._save(record)

    def recover(self) -> None:
        pending = {(j["target"], j["action"]) for j in self.bs.lifecycle.pending()}
        for record in self.store.find(KIND):
            if record["status"] == "creating" and (record["id"], CREATE_JOB) not in pending:
                self.bs.lifecycle.schedule(CREATE_JOB, record["id"], delay=0)
            elif record["status"] == "deleting" and (record["id"], DELETE_JOB) not in pending:
                self.bs.lifecycle.schedule(DELETE_JOB, record["id"], delay=0)
