"""Snapshots: a copy of a volume's bytes at the moment the driver takes it.

``creating`` -> ``available`` through a lifecycle job that copies the volume's
file (keeping its holes) to the snapshot's; ``deleting`` -> gone. A snapshot
counts against the project's ``snapshots`` and ``gigabytes`` quotas, and a
volume with snapshots cannot be deleted unless the delete cascades. A group
snapshot makes one snapshot of each volume of its group (``group_snapshot_id``).

Not implemented: manage/unmanage, ``os-update_snapshot_status``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
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
FORCE_IS_INVALID = (
    "Since microversion 3.66 the 'force' flag is invalid for this request. For backward compatibility, however, "
    "when the 'force' flag is passed with a value evaluating to True, it is silently ignored."
)


def not_found(snapshot_id: str) -> faults.NotFound:
    return faults.NotFound(f"Snapshot {snapshot_id} could not be found.")


@dataclass(frozen=True)
class NewSnapshot:
    """A snapshot to take of ``volume_id``. ``force`` allows an ``in-use`` volume; from 3.66
    (``force_is_invalid``) that is always allowed and ``force: false`` is refused."""

    volume_id: str
    name: str | None = None
    description: str | None = None
    metadata: dict[str, str] | None = None
    force: bool | str | None = None
    force_is_invalid: bool = False


class Snapshots(common.Records):
    label = "Snapshot"
    update_rule = "volume:update_snapshot"
    metadata_rules = ("volume:update_snapshot_metadata", "volume:delete_snapshot_metadata")
    reset_rule = "volume_extension:snapshot_admin_actions:reset_status"
    reset_statuses = frozenset({"available", "error", "creating", "deleting", "error_deleting"})
    resumable = {"creating": CREATE_JOB, "deleting": DELETE_JOB}
    jobs = {CREATE_JOB: "_run_create", DELETE_JOB: "_run_delete"}

    def __init__(self, bs: BlockStorage) -> None:
        super().__init__(bs, KIND, not_found)

    # -- create -------------------------------------------------------------------------------------

    def create(self, ctx: Context, request: NewSnapshot) -> dict[str, Any]:
        """A snapshot of the volume in ``creating``."""
        common.require_member(ctx, "volume:create_snapshot")
        volume_id = common.check_id(request.volume_id, "volume_id")
        labels = common.Labels.check(request.name, request.description, request.metadata)
        forced = self._forced(request)
        with self.store.transaction():
            volume = self.bs.volumes.get(ctx, volume_id)
            self._check_source(volume, forced)
            self.bs.quotas.check(ctx.project_id or "", snapshots=1, gigabytes=volume["size"])
            record = self.add(ctx, volume, labels)
        self.bs.lifecycle.schedule(CREATE_JOB, record["id"])
        return record

    @staticmethod
    def _forced(request: NewSnapshot) -> bool:
        if request.force_is_invalid:
            if request.force is not None and not common.flag(request.force, "force"):
                raise faults.BadRequest(FORCE_IS_INVALID)
            return True
        return common.flag(request.force, "force") if request.force is not None else False

    def _check_source(self, volume: dict[str, Any], forced: bool) -> None:
        if not volume["host"]:
            raise common.invalid_volume(
                "The snapshot cannot be created because volume has not been scheduled to any host."
            )
        self.bs.hosts.check_not_frozen()
        if volume["status"] == "maintenance":
            raise common.invalid_volume("The snapshot cannot be created when the volume is in maintenance mode.")
        if volume["status"] == "error":
            raise common.invalid_volume("The snapshot cannot be created when the volume is in error status.")
        valid = ("available", "in-use") if forced else ("available",)
        if volume["status"] not in valid:
            raise common.invalid_volume(
                f"Volume {volume['id']} status must be {', '.join(valid)}, but current status is: {volume['status']}."
            )

    def add(
        self, ctx: Context, volume: dict[str, Any], labels: common.Labels, group_snapshot_id: str | None = None
    ) -> dict[str, Any]:
        """The ``creating`` record of a snapshot of ``volume`` (checked; inside a transaction)."""
        return self.store.put(
            KIND,
            {
                "id": common.new_id(),
                "project_id": ctx.project_id,
                "user_id": ctx.user_id,
                "volume_id": volume["id"],
                "name": labels.name,
                "description": labels.description,
                "size": volume["size"],
                "status": "creating",
                "progress": "0%",
                "metadata": labels.metadata,
                "volume_type_id": volume["volume_type_id"],
                "group_snapshot_id": group_snapshot_id,
                "consumes_quota": True,
                "created_at": common.now(),
                "updated_at": None,
            },
        )

    def _run_create(self, job: dict[str, Any]) -> None:
        """Copy the volume's bytes as they are now (in a worker thread)."""
        snapshot_id = job["target"]
        record = self.still(snapshot_id, "creating")
        if record is None:
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
                    self.save(record)
                    self.bs.messages.add(
                        record["project_id"],
                        "SNAPSHOT",
                        snapshot_id,
                        messages.SNAPSHOT_CREATE,
                        messages.DRIVER_FAILED,
                        str(exc),
                    )
            self.bs.group_snapshots.settle(record.get("group_snapshot_id") if record else None)
            return
        with self.store.transaction():
            record = self.record(snapshot_id)
            if record is None:
                self.bs.files.remove(path)
                return
            if record["status"] == "creating":
                record.update(status="available", progress="100%")
                self.save(record)
            self.bs.group_snapshots.settle(record.get("group_snapshot_id"))

    # -- delete, admin actions ----------------------------------------------------------------------

    def delete(self, ctx: Context, snapshot_id: str, force: bool = False) -> None:
        common.require_member(ctx, "volume:delete_snapshot")
        if force:
            common.require_admin(ctx, "volume_extension:snapshot_admin_actions:force_delete")
        with self.store.transaction():
            record = self.get(ctx, snapshot_id)
            self.bs.hosts.check_not_frozen()
            if record.get("group_snapshot_id") or (not force and record["status"] not in ("available", "error")):
                raise common.invalid_snapshot(
                    "Snapshot status must be available or error and must not be part of a group."
                )
            record["status"] = "deleting"
            self.save(record)
        self.bs.lifecycle.schedule(DELETE_JOB, snapshot_id)

    def _remove(self, record: dict[str, Any]) -> None:
        self.purge(record["id"])

    def purge(self, snapshot_id: str) -> None:
        """Remove the snapshot and its bytes now (inside a transaction)."""
        self.bs.lifecycle.cancel(snapshot_id, CREATE_JOB)
        self.store.delete(KIND, snapshot_id)
        self.bs.files.remove(self.bs.files.snapshot(snapshot_id))

    # -- reading for other parts ------------------------------------------------------------------------

    def of_volume(self, volume_id: str) -> list[dict[str, Any]]:
        return self.store.find(KIND, volume_id=volume_id)

    def of_group_snapshot(self, group_snapshot_id: str) -> list[dict[str, Any]]:
        return self.store.find(KIND, group_snapshot_id=group_snapshot_id)
