"""Group snapshots (3.14): one snapshot of every volume of a group, taken together.

``creating`` -> ``available`` once every member snapshot is (``error`` if one
fails); ``deleting`` -> gone with its member snapshots. A member snapshot
cannot be deleted on its own, and a group with snapshots cannot be deleted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stacksim import faults
from stacksim.auth import Context
from stacksim.services.volume import common
from stacksim.services.volume.snapshots import CREATE_JOB as SNAPSHOT_JOB

if TYPE_CHECKING:
    from stacksim.services.volume.model import BlockStorage

KIND = "volume_group_snapshot"
CREATE_JOB = "group_snapshot.create"
DELETE_JOB = "group_snapshot.delete"
STATUSES = frozenset({"creating", "available", "deleting", "error", "error_deleting", "deleted"})


def not_found(group_snapshot_id: str) -> faults.NotFound:
    return faults.NotFound(f"GroupSnapshot {group_snapshot_id} could not be found.")


def invalid(reason: str) -> faults.BadRequest:
    return faults.BadRequest(f"Invalid GroupSnapshot: {reason}")


class GroupSnapshots(common.Records):
    reset_rule = "group:reset_group_snapshot_status"
    reset_statuses = STATUSES
    resumable = {"creating": CREATE_JOB, "deleting": DELETE_JOB}
    jobs = {CREATE_JOB: "_run_create", DELETE_JOB: "_run_delete"}

    def __init__(self, bs: BlockStorage) -> None:
        super().__init__(bs, KIND, not_found)

    def create(self, ctx: Context, group_id: str, name: Any = None, description: Any = None) -> dict[str, Any]:
        """Snapshots of every volume of the group (each checked and counted as a plain snapshot)."""
        common.require_member(ctx, "group:create_group_snapshot")
        labels = common.Labels.check(name, description)
        group_id = common.check_id(group_id, "group_id")
        with self.store.transaction():
            group = self.bs.groups.get(ctx, group_id)
            self.bs.hosts.check_not_frozen()
            if group["status"] != "available":
                raise faults.BadRequest(
                    f"Invalid Group: Group status must be available, but current status is: {group['status']}"
                )
            record = self.store.put(
                KIND,
                {
                    "id": common.new_id(),
                    "project_id": ctx.project_id,
                    "user_id": ctx.user_id,
                    "group_id": group_id,
                    "group_type_id": group["group_type_id"],
                    "name": labels.name,
                    "description": labels.description,
                    "status": "creating",
                    "created_at": common.now(),
                    "updated_at": None,
                },
            )
            volumes = self.bs.volumes.of_group(group_id)
            for volume in volumes:
                if volume["status"] not in ("available", "in-use"):
                    raise common.invalid_volume(
                        f"Volume {volume['id']} status must be available or in-use, but current status is: "
                        f"{volume['status']}."
                    )
            self.bs.quotas.check(
                ctx.project_id or "", snapshots=len(volumes), gigabytes=sum(v["size"] for v in volumes)
            )
            members = [
                self.bs.snapshots.add(ctx, v, common.Labels(labels.name, labels.description, {}), record["id"])
                for v in volumes
            ]
        for member in members:
            self.bs.lifecycle.schedule(SNAPSHOT_JOB, member["id"])
        self.bs.lifecycle.schedule(CREATE_JOB, record["id"])
        return record

    def _run_create(self, job: dict[str, Any]) -> None:
        self.settle(job["target"])

    def settle(self, group_snapshot_id: str | None) -> None:
        """``available`` once every member snapshot is, ``error`` if one failed (called as they finish)."""
        if not group_snapshot_id:
            return
        with self.store.transaction():
            record = self.still(group_snapshot_id, "creating")
            if record is None:
                return
            states = {s["status"] for s in self.bs.snapshots.of_group_snapshot(group_snapshot_id)}
            if "error" in states:
                record["status"] = "error"
            elif states <= {"available"}:
                record["status"] = "available"
            else:
                return
            self.save(record)

    def delete(self, ctx: Context, group_snapshot_id: str) -> None:
        common.require_member(ctx, "group:delete_group_snapshot")
        with self.store.transaction():
            record = self.get(ctx, group_snapshot_id)
            self.bs.hosts.check_not_frozen()
            if record["status"] not in ("available", "error") or self.bs.groups.made_from(group_snapshot_id):
                raise invalid(
                    "GroupSnapshot status must be available or error, and no Group can be currently using it as "
                    "source for its creation."
                )
            record["status"] = "deleting"
            self.save(record)
            for snap in self.bs.snapshots.of_group_snapshot(group_snapshot_id):
                self.bs.snapshots.set_status(snap["id"], "deleting")
        self.bs.lifecycle.schedule(DELETE_JOB, group_snapshot_id)

    def _remove(self, record: dict[str, Any]) -> None:
        for snap in self.bs.snapshots.of_group_snapshot(record["id"]):
            self.bs.snapshots.purge(snap["id"])
        self.store.delete(KIND, record["id"])

    def of_group(self, group_id: str) -> list[dict[str, Any]]:
        return self.store.find(KIND, group_id=group_id)
