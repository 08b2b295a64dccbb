"""Generic volume groups (3.13): volumes of the group's volume types, managed together.

A group is ``creating`` -> ``available`` (a lifecycle job, as the scheduler
places it), ``deleting`` -> gone. A volume joins one when it is created with
``group_id`` (its type must be one of the group's) or through an update's
``add_volumes``; a member cannot be deleted on its own, and the group is only
deleted with its volumes (``delete-volumes``). A group counts against the
``groups`` quota. A group can be made from a group snapshot or another group
(3.14, ``create-from-src``): one volume per snapshot or source volume.

Not implemented: replication of groups (``enable_replication`` and the rest
answer 400), consistency groups (the pre-3.13 API).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stacksim import faults
from stacksim.auth import Context
from stacksim.services.volume import common
from stacksim.services.volume.volume_create import NewVolume

if TYPE_CHECKING:
    from stacksim.services.volume.model import BlockStorage

KIND = "volume_group"
CREATE_JOB = "group.create"
DELETE_JOB = "group.delete"
STATUSES = frozenset({"creating", "available", "deleting", "error", "error_deleting", "updating", "in-use", "deleted"})
#: the volume statuses a volume may leave or join a group in
MEMBER_STATUSES = ("available", "in-use")


def not_found(group_id: str) -> faults.NotFound:
    return faults.NotFound(f"Group {group_id} could not be found.")


def invalid_group(reason: str) -> faults.BadRequest:
    return faults.BadRequest(f"Invalid Group: {reason}")


@dataclass(frozen=True)
class NewGroup:
    """A group of ``group_type`` holding volumes of ``volume_types`` (names or ids);
    or, for ``create-from-src``, a copy of a group snapshot or of another group."""

    group_type: str | None = None
    volume_types: list[str] = field(default_factory=list)
    name: str | None = None
    description: str | None = None
    availability_zone: str | None = None
    group_snapshot_id: str | None = None
    source_group_id: str | None = None


@dataclass(frozen=True)
class GroupChanges:
    """``PUT /groups/{id}``: a new name or description, volumes to add and to remove."""

    name: Any = ...
    description: Any = ...
    add_volumes: list[str] = field(default_factory=list)
    remove_volumes: list[str] = field(default_factory=list)


class Groups(common.Records):
    reset_rule = "group:reset_status"
    reset_statuses = STATUSES
    resumable = {"creating": CREATE_JOB, "deleting": DELETE_JOB}
    jobs = {CREATE_JOB: "_run_create", DELETE_JOB: "_run_delete"}

    def __init__(self, bs: BlockStorage) -> None:
        super().__init__(bs, KIND, not_found)

    # -- create ------------------------------------------------------------------------------------

    def create(self, ctx: Context, request: NewGroup) -> dict[str, Any]:
        """A new, empty group (``creating``); its group type and volume types must exist."""
        common.require_member(ctx, "group:create")
        labels = common.Labels.check(request.name, request.description)
        common.check_zone(request.availability_zone)
        if not request.group_type:
            raise faults.BadRequest("Missing required element 'group_type' in request body.")
        if not request.volume_types:
            raise faults.BadRequest("Missing required element 'volume_types' in request body.")
        with self.store.transaction():
            group_type = self.bs.group_types.for_new_group(ctx, request.group_type)
            type_ids = [self._volume_type(ctx, ref)["id"] for ref in request.volume_types]
            record = self._add(ctx, labels, group_type["id"], type_ids)
        self.bs.lifecycle.schedule(CREATE_JOB, record["id"])
        return record

    def _volume_type(self, ctx: Context, ref: str) -> dict[str, Any]:
        try:
            return self.bs.types.find(ctx, ref)
        except faults.NotFound as exc:
            raise faults.BadRequest(exc.message) from None

    def _add(
        self,
        ctx: Context,
        labels: common.Labels,
        group_type_id: str,
        type_ids: list[str],
        *,
        group_snapshot_id: str | None = None,
        source_group_id: str | None = None,
    ) -> dict[str, Any]:
        self.bs.quotas.check(ctx.project_id or "", groups=1)
        return self.store.put(
            KIND,
            {
                "id": common.new_id(),
                "project_id": ctx.project_id,
                "user_id": ctx.user_id,
                "name": labels.name,
                "description": labels.description,
                "status": "creating",
                "availability_zone": common.ZONE,
                "group_type_id": group_type_id,
                "volume_type_ids": list(dict.fromkeys(type_ids)),
                "group_snapshot_id": group_snapshot_id,
                "source_group_id": source_group_id,
                "replication_status": "disabled",
                "created_at": common.now(),
                "updated_at": None,
            },
        )

    def create_from_source(self, ctx: Context, request: NewGroup) -> dict[str, Any]:
        """``create-from-src`` (3.14): a group whose volumes copy a group snapshot's or a group's."""
        common.require_member(ctx, "group:create")
        labels = common.Labels.check(request.name, request.description)
        if bool(request.group_snapshot_id) == bool(request.source_group_id):
            raise invalid_group("Either 'group_snapshot_id' or 'source_group_id' must be provided.")
        with self.store.transaction():
            if request.group_snapshot_id:
                snapshot = self.bs.group_snapshots.get(ctx, request.group_snapshot_id)
                source = self.get(ctx, snapshot["group_id"])
                copies = [("snapshot_id", s) for s in self.bs.snapshots.of_group_snapshot(snapshot["id"])]
                if not copies:
                    raise invalid_group("Group snapshot is empty. No group will be created.")
            else:
                source = self.get(ctx, request.source_group_id or "")
                copies = [("source_volid", v) for v in self.bs.volumes.of_group(source["id"])]
                if not copies:
                    raise invalid_group("Source Group is empty. No group will be created.")
            record = self._add(
                ctx,
                labels,
                source["group_type_id"],
                source["volume_type_ids"],
                group_snapshot_id=request.group_snapshot_id,
                source_group_id=request.source_group_id,
            )
            for key, item in copies:
                volume = NewVolume(
                    **{key: item["id"]},
                    size=item["size"],
                    volume_type=item["volume_type_id"],
                    name=item.get("name"),
                    group_id=record["id"],
                )
                self.bs.volumes.create(ctx, volume)
        self.bs.lifecycle.schedule(CREATE_JOB, record["id"])
        return record

    def _run_create(self, job: dict[str, Any]) -> None:
        """The scheduler's part: the backend takes the group (if the volume service accepts work)."""
        with self.store.transaction():
            record = self.still(job["target"], "creating")
            if record is None:
                return
            record["status"] = "available" if self.bs.hosts.accepts_volumes() else "error"
            self.save(record)

    def check_new_member(self, ctx: Context, group_id: str, type_record: dict[str, Any]) -> None:
        """A volume being created into ``group_id`` must be of one of its types (inside a transaction)."""
        group = self.get(ctx, group_id)
        if type_record["id"] not in group["volume_type_ids"]:
            raise common.invalid_input(
                f"Invalid volume_type provided: {type_record['id']} (requested type must be supported by this group)."
            )
        if group["status"] not in ("available", "creating"):
            raise invalid_group(f"Group status must be available, but current status is: {group['status']}")

    # -- update ------------------------------------------------------------------------------------

    def change(self, ctx: Context, group_id: str, changes: GroupChanges) -> dict[str, Any]:
        """A new name or description, and volumes added to or removed from the group."""
        common.require_member(ctx, "group:update")
        both = sorted(set(changes.add_volumes) & set(changes.remove_volumes))
        if both:
            raise common.invalid_volume(f"UUIDs {', '.join(both)} are in both add and remove volume list.")
        with self.store.transaction():
            record = self.get(ctx, group_id)
            moves = changes.add_volumes or changes.remove_volumes
            if changes.name is ... and changes.description is ... and not moves:
                raise invalid_group(
                    f"Cannot update group {group_id} because no valid name, description, add_volumes, or "
                    "remove_volumes were provided."
                )
            if moves and record["status"] != "available":
                raise invalid_group("Group status must be available.")
            if changes.name is not ...:
                record["name"] = common.check_name(changes.name, "name")
            if changes.description is not ...:
                record["description"] = common.check_name(changes.description, "description")
            for volume_id in changes.remove_volumes:
                self._remove_member(ctx, record, volume_id)
            for volume_id in changes.add_volumes:
                self._add_member(ctx, record, volume_id)
            return self.save(record)

    def _remove_member(self, ctx: Context, group: dict[str, Any], volume_id: str) -> None:
        volume = self.bs.volumes.record(volume_id)
        if volume is None or volume.get("group_id") != group["id"]:
            raise common.invalid_volume(
                f"Cannot remove volume {volume_id} from group {group['id']} because it is not in the group."
            )
        if volume["status"] not in (*MEMBER_STATUSES, "error", "error_deleting"):
            raise common.invalid_volume(
                f"Cannot remove volume {volume_id} from group {group['id']} because volume is in an invalid "
                f"state: {volume['status']}. Valid states are: {MEMBER_STATUSES}."
            )
        self.bs.volumes.set_status(volume_id, volume["status"], group_id=None)

    def _add_member(self, ctx: Context, group: dict[str, Any], volume_id: str) -> None:
        where = f"Cannot add volume {volume_id} to group {group['id']}"
        try:
            volume = self.bs.volumes.get(ctx, volume_id)
        except faults.NotFound:
            raise common.invalid_volume(f"{where} because volume cannot be found.") from None
        if volume.get("group_id"):
            raise common.invalid_volume(f"{where} because it is already in group {volume['group_id']}.")
        if volume["project_id"] != group["project_id"]:
            raise common.invalid_volume(f"{where} as they belong to different projects.")
        if volume["volume_type_id"] not in group["volume_type_ids"]:
            raise common.invalid_volume(
                f"{where} because volume type {volume['volume_type_id']} is not supported by the group."
            )
        if volume["status"] not in MEMBER_STATUSES:
            raise common.invalid_volume(
                f"{where} because volume is in an invalid state: {volume['status']}. Valid states are: "
                f"{MEMBER_STATUSES}."
            )
        self.bs.volumes.set_status(volume_id, volume["status"], group_id=group["id"])

    # -- delete ------------------------------------------------------------------------------------

    def delete(self, ctx: Context, group_id: str, delete_volumes: bool = False) -> None:
        """``deleting``, then gone with its volumes (which ``delete_volumes`` must allow)."""
        common.require_member(ctx, "group:delete")
        with self.store.transaction():
            record = self.get(ctx, group_id)
            if record["status"] not in ("available", "error"):
                raise invalid_group(
                    f"Group status must be available or error, but current status is: {record['status']}"
                )
            if self.bs.group_snapshots.of_group(group_id):
                raise invalid_group("Group has existing snapshots.")
            volumes = self.bs.volumes.of_group(group_id)
            if volumes and not delete_volumes:
                raise invalid_group(
                    f"Group {group_id} still contains volumes. The delete-volumes flag is required to delete it."
                )
            for volume in volumes:
                if volume["attach_status"] == "attached" or self.bs.attachments.of_volume(volume["id"]):
                    raise invalid_group(f"Volume in group {group_id} is attached. Need to detach first.")
                if self.bs.snapshots.of_volume(volume["id"]):
                    raise invalid_group("Volume in group still has dependent snapshots.")
            for volume in volumes:
                self.bs.volumes.start_delete(volume, [])
            record["status"] = "deleting"
            self.save(record)
        self.bs.lifecycle.schedule(DELETE_JOB, group_id)

    def _remove(self, record: dict[str, Any]) -> None:
        """The group goes; a volume its delete has not taken yet leaves it (it is ``deleting`` itself)."""
        for volume in self.bs.volumes.of_group(record["id"]):
            self.bs.volumes.set_status(volume["id"], volume["status"], group_id=None)
        self.store.delete(KIND, record["id"])

    # -- reading for other parts -----------------------------------------------------------------------

    def made_from(self, group_snapshot_id: str) -> bool:
        """Is a group being made from this group snapshot right now?"""
        return any(g["status"] == "creating" for g in self.store.find(KIND, group_snapshot_id=group_snapshot_id))

    def of_type(self, group_type_id: str) -> int:
        return self.store.count(KIND, group_type_id=group_type_id)
