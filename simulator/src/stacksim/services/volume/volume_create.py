"""Making a volume: where its bytes, size and type come from, Cinder's checks, and the create job.

:class:`VolumeMaker` is the create half of :class:`~.volumes.Volumes`: a
request (:class:`NewVolume`) is checked and recorded ``creating`` in one store
transaction (with the quota check); a lifecycle job then has the scheduler
place it in a pool (``error`` with a user message if none fits), fills its
file from its source, keeping holes (``error`` if that fails), and makes it
``available``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stacksim import faults
from stacksim.auth import Context
from stacksim.lifecycle import hold
from stacksim.services.volume import common, messages
from stacksim.services.volume.pools import NoValidBackend, host_of, pool_of
from stacksim.services.volume.types import is_multiattach

if TYPE_CHECKING:
    from stacksim.services.volume.volumes import Volumes

log = logging.getLogger("stacksim.volume")

CREATE_JOB = "volume.create"
#: Image attributes Cinder copies into ``volume_image_metadata`` (custom properties come too).
IMAGE_CORE = ("checksum", "container_format", "disk_format", "min_disk", "min_ram", "size")
NO_SIZE = (
    "Invalid volume size provided for create request: None (size argument must be an integer "
    "(or string representation of an integer) and greater than zero)."
)

#: a volume type extra spec: the seconds a volume of that type spends in ``creating``
CREATE_DELAY = "stacksim:create_delay"


def gigabytes(size_bytes: int | None) -> int:
    return max(1, math.ceil((size_bytes or 0) / (1 << 30)))


@dataclass(frozen=True)
class NewVolume:
    """A volume to make (``POST /volumes``, Nova's boot volumes, Heat): a ``size``, a source, or both.

    At most one source: ``snapshot_id``, ``source_volid``, ``image_ref`` (an image id)
    or ``backup_id``. ``volume_type`` is a type's name or id; without it the volume
    gets its source's type, else the project's default type, else ``__DEFAULT__``.
    """

    size: int | str | None = None
    name: str | None = None
    description: str | None = None
    volume_type: str | None = None
    availability_zone: str | None = None
    metadata: dict[str, str] | None = None
    snapshot_id: str | None = None
    source_volid: str | None = None
    image_ref: str | None = None
    backup_id: str | None = None
    group_id: str | None = None
    multiattach: bool = False


@dataclass
class _Origin:
    """Where a new volume's bytes, size, type and image metadata come from."""

    size: int
    source: dict[str, str] = field(default_factory=dict)  #: ``{"kind": ..., "id": ...}``, empty for a blank one
    type_record: dict[str, Any] | None = None
    image_metadata: dict[str, str] = field(default_factory=dict)


class VolumeMaker:
    def __init__(self, volumes: Volumes) -> None:
        self.volumes = volumes
        self.bs = volumes.bs
        self.store = volumes.store
        self.bs.lifecycle.register(CREATE_JOB, self._run_create)

    def create(self, ctx: Context, request: NewVolume) -> dict[str, Any]:
        """A new volume in ``creating`` (placed and filled by a lifecycle job); Cinder's checks first."""
        common.require_member(ctx, "volume:create")
        labels = common.Labels.check(request.name, request.description, request.metadata)
        common.check_zone(request.availability_zone)
        sources = [s for s in (request.snapshot_id, request.source_volid, request.image_ref, request.backup_id) if s]
        if len(sources) > 1:
            raise common.invalid_input("Only one of snapshot_id, source_volid, imageRef or backup_id may be given.")
        size = common.check_size(request.size) if request.size is not None else None
        with self.store.transaction():
            origin = self._origin(ctx, request, size)
            type_record = self._volume_type(ctx, request, origin)
            if request.group_id:
                self.bs.groups.check_new_member(ctx, request.group_id, type_record)
            create_delay = self._create_delay(type_record)
            self.bs.quotas.check(ctx.project_id or "", volumes=1, gigabytes=origin.size, volume_size=origin.size)
            record = self.store.put(self.volumes.kind, self._new_record(ctx, request, labels, origin, type_record))
            if origin.source.get("kind") == "backup":
                self.bs.backups.set_status(origin.source["id"], "restoring", restore_volume_id=record["id"])
        self.bs.lifecycle.schedule(CREATE_JOB, record["id"], delay=create_delay)
        return record

    def _origin(self, ctx: Context, request: NewVolume, size: int | None) -> _Origin:
        if request.snapshot_id:
            return self._from_snapshot(ctx, request.snapshot_id, size)
        if request.source_volid:
            return self._from_volume(ctx, request.source_volid, size)
        if request.image_ref:
            return self._from_image(ctx, request.image_ref, size)
        if request.backup_id:
            return self._from_backup(ctx, request.backup_id, size)
        if size is None:
            raise common.invalid_input(NO_SIZE)
        return _Origin(size)

    def _from_snapshot(self, ctx: Context, snapshot_id: str, size: int | None) -> _Origin:
        snap = self.bs.snapshots.get(ctx, snapshot_id)
        if snap["status"] != "available":
            raise common.invalid_snapshot("Originating snapshot status must be one of 'available' values")
        parent = self.volumes.record(snap["volume_id"])
        return _Origin(
            self._at_least(size, snap["size"], "the snapshot size", "original snapshot size"),
            {"kind": "snapshot", "id": snapshot_id},
            self.bs.types.record(snap.get("volume_type_id") or ""),
            dict(parent.get("image_metadata") or {}) if parent else {},
        )

    def _from_volume(self, ctx: Context, volume_id: str, size: int | None) -> _Origin:
        src = self.volumes.get(ctx, volume_id)
        if src["status"] not in ("available", "in-use"):
            raise common.invalid_volume(
                "Unable to create a volume from an originating source volume when its status is not "
                "'available' or 'in-use'."
            )
        return _Origin(
            self._at_least(size, src["size"], "original volume size", "original volume size"),
            {"kind": "volume", "id": volume_id},
            self.bs.types.record(src.get("volume_type_id") or ""),
            dict(src.get("image_metadata") or {}),
        )

    def _from_image(self, ctx: Context, image_ref: str, size: int | None) -> _Origin:
        try:
            image = self.bs.images.get(ctx, image_ref)
        except faults.NotFound:
            raise common.invalid_input("Invalid image identifier or unable to access requested image.") from None
        if image["status"] != "active":
            raise common.invalid_input(f"Image {image_ref} is not active.")
        need = gigabytes(image.get("virtual_size") or image.get("size"))
        min_disk = int(image.get("min_disk") or 0)
        if size is None:
            size = max(need, min_disk)
        if need > size:
            raise common.invalid_input(f"Size of specified image {need}GB is larger than volume size {size}GB.")
        if min_disk > size:
            raise common.invalid_input(
                f"Volume size {size}GB cannot be smaller than the image minDisk size {min_disk}GB."
            )
        return _Origin(size, {"kind": "image", "id": image["id"]}, image_metadata=self._image_metadata(image))

    def _from_backup(self, ctx: Context, backup_id: str, size: int | None) -> _Origin:
        backup = self.bs.backups.get(ctx, backup_id)
        if backup["status"] != "available":
            raise common.invalid_backup(
                f'Backup status must be available but the current status is "{backup["status"]}".'
            )
        return _Origin(
            self._at_least(size, backup["size"], "the backup size", "original backup size"),
            {"kind": "backup", "id": backup_id},
        )

    def _volume_type(self, ctx: Context, request: NewVolume, origin: _Origin) -> dict[str, Any]:
        """The type asked for, else the source's, else the project's default (3.62), else ``__DEFAULT__``."""
        if request.volume_type:
            type_record = self.bs.types.find(ctx, request.volume_type)
        else:
            type_record = origin.type_record or self.bs.types.default(ctx.project_id)
        if request.multiattach and not is_multiattach(type_record):
            raise common.invalid_input(
                "multiattach is set by the volume type: its extra spec multiattach must be '<is> True'."
            )
        return type_record

    @staticmethod
    def _create_delay(type_record: dict[str, Any]) -> float | None:
        try:  # a hold, for testing what a client does while a volume is "creating"
            return hold(type_record.get("extra_specs"), CREATE_DELAY)
        except ValueError as exc:
            raise common.invalid_input(f"Volume type {type_record['name']}: {exc}") from None

    def _new_record(
        self,
        ctx: Context,
        request: NewVolume,
        labels: common.Labels,
        origin: _Origin,
        type_record: dict[str, Any],
    ) -> dict[str, Any]:
        encrypted = self.bs.types.encryption_of(type_record["id"]) is not None
        return {
            "id": common.new_id(),
            "project_id": ctx.project_id,
            "user_id": ctx.user_id,
            "name": labels.name,
            "description": labels.description,
            "size": origin.size,
            "new_size": None,
            "status": "creating",
            "previous_status": None,
            "attach_status": "detached",
            "availability_zone": common.ZONE,
            "volume_type_id": type_record["id"],
            "host": None,
            "bootable": False,
            "multiattach": is_multiattach(type_record),
            "metadata": labels.metadata,
            "image_metadata": origin.image_metadata,
            "admin_metadata": {},
            "snapshot_id": request.snapshot_id or None,
            "source_volid": request.source_volid or None,
            "backup_id": request.backup_id or None,
            "group_id": request.group_id or None,
            "source": origin.source,
            "encrypted": encrypted,
            "encryption_key_id": common.new_id() if encrypted else None,
            "consumes_quota": True,
            "migration_status": None,
            "replication_status": None,
            "created_at": common.now(),
            "updated_at": None,
            "launched_at": None,
        }

    @staticmethod
    def _at_least(size: int | None, source_size: int, what: str, plain: str) -> int:
        if size is None:
            return source_size
        if size < source_size:
            raise common.invalid_input(
                f"Volume size '{size}'GB cannot be smaller than {what} {source_size}GB. They must be >= {plain}."
            )
        return size

    @staticmethod
    def _image_metadata(image: dict[str, Any]) -> dict[str, str]:
        meta = {k: str(v) for k, v in (image.get("properties") or {}).items() if not k.startswith("os_glance")}
        for key in IMAGE_CORE:
            if image.get(key) is not None:
                meta[key] = str(image[key])
        meta["image_id"] = image["id"]
        meta["image_name"] = image.get("name") or ""
        return meta

    # -- the create job: schedule, fill, finish ------------------------------------------------------

    def place(self, record: dict[str, Any], prefer: str | None = None) -> str:
        """Choose the pool for a new volume (inside a transaction); :class:`NoValidBackend` if none fits."""
        if not self.bs.hosts.accepts_volumes():
            raise NoValidBackend("No weighed backends available")
        type_record = self.bs.types.record(record["volume_type_id"] or "")
        specs = type_record["extra_specs"] if type_record else {}
        used = self.bs.pools.allocated()
        if prefer and self.bs.pools.fits(specs, prefer) and self.bs.pools.free(prefer, used) >= record["size"]:
            return prefer
        return self.bs.pools.choose(specs, record["size"], used)

    def _run_create(self, job: dict[str, Any]) -> None:
        """The scheduler and the driver, in a worker thread: place the volume, then fill its file."""
        volume_id = job["target"]
        placed = self._schedule(volume_id)
        if placed is None:
            return
        source, size = placed
        path = self.bs.files.volume(volume_id)
        try:
            src = self._source_path(source)
            if src is None:
                self.bs.files.create(path, size)
            else:
                self.bs.files.copy(src, path, size)
        except Exception as exc:  # the create fails cleanly, whatever went wrong
            self._fill_failed(volume_id, source, path, exc)
            return
        self._created(volume_id, source, path)

    def _schedule(self, volume_id: str) -> tuple[dict[str, str], int] | None:
        """Give a ``creating`` volume a pool (``error`` with a message if none fits): its source and size."""
        with self.store.transaction():
            record = self.volumes.still(volume_id, "creating")
            if record is None:
                return None
            source = record.get("source") or {}
            if record["host"] is None:
                try:
                    pool = self.place(record, self._source_pool(source))
                except NoValidBackend as exc:
                    log.info("volume %s: %s", volume_id, exc)
                    record["status"] = "error"
                    self.volumes.save(record)
                    self._release(source)
                    self.bs.messages.add(
                        record["project_id"],
                        "VOLUME",
                        volume_id,
                        messages.SCHEDULE_ALLOCATE_VOLUME,
                        messages.NO_BACKEND,
                        str(exc),
                    )
                    return None
                record["host"] = host_of(pool)
                self.volumes.save(record)
            return source, record["size"]

    def _fill_failed(self, volume_id: str, source: dict[str, str], path: Path, exc: Exception) -> None:
        log.info("volume %s: filling it failed: %s", volume_id, exc)
        self.bs.files.remove(path)
        image = source.get("kind") == "image"
        action = messages.COPY_IMAGE_TO_VOLUME if image else messages.CREATE_VOLUME_FROM_BACKEND
        with self.store.transaction():
            record = self.volumes.record(volume_id)
            self._release(source)
            if record is not None:
                record.update(status="error", host=None)
                self.volumes.save(record)
                self.bs.messages.add(
                    record["project_id"], "VOLUME", volume_id, action, messages.DRIVER_FAILED, str(exc)
                )

    def _created(self, volume_id: str, source: dict[str, str], path: Path) -> None:
        with self.store.transaction():
            self._release(source)
            record = self.volumes.record(volume_id)
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
            self.volumes.save(record)

    def _source_path(self, source: dict[str, str]) -> Path | None:
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

    def _release(self, source: dict[str, str]) -> None:
        """A backup a volume was made from is ``available`` again once the copy is over."""
        if source.get("kind") == "backup":
            self.bs.backups.restore_status(source["id"], "restoring", restore_volume_id=None)

    def _parent(self, source: dict[str, str]) -> dict[str, Any] | None:
        if source.get("kind") == "volume":
            return self.volumes.record(source["id"])
        if source.get("kind") == "snapshot":
            snap = self.bs.snapshots.record(source["id"])
            return self.volumes.record(snap["volume_id"]) if snap else None
        return None

    def _source_pool(self, source: dict[str, str]) -> str | None:
        """Cinder's ``snapshot_same_host``: a copy goes next to its source if it fits there."""
        parent = self._parent(source)
        return pool_of(parent.get("host")) if parent else None
