"""Block Storage's typed interface: the :class:`BlockStorage` facade.

The Cloud holds it as ``cloud.volume``. It owns one part per resource (each
with its rules: validation, policy, quota, allocation), which the service's
own routes call through it (``bs.volumes``, ``bs.snapshots`` ...). Other
services and Heat use only the methods of the "for other services" section,
with typed requests and ids; they get plain records (or, from
:meth:`BlockStorage.volume_view`, the volume as the API shows it) and the
errors the API would answer, listed in each docstring.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stacksim import faults, toolkit
from stacksim.auth import Context
from stacksim.services.volume import views
from stacksim.services.volume.attachments import Attachments, ServerAttachment
from stacksim.services.volume.backups import Backups, NewBackup
from stacksim.services.volume.data import VolumeFiles
from stacksim.services.volume.group_snapshots import GroupSnapshots
from stacksim.services.volume.group_types import GroupTypes
from stacksim.services.volume.groups import Groups, NewGroup
from stacksim.services.volume.hosts import Hosts
from stacksim.services.volume.messages import Messages
from stacksim.services.volume.pools import Pools
from stacksim.services.volume.qos import QosSpecs
from stacksim.services.volume.quotas import Quotas
from stacksim.services.volume.snapshots import NewSnapshot, Snapshots
from stacksim.services.volume.transfers import NewTransfer, Transfers
from stacksim.services.volume.types import VolumeTypes
from stacksim.services.volume.volume_create import NewVolume
from stacksim.services.volume.volumes import ImageUpload, Volumes

if TYPE_CHECKING:
    from stacksim.cloud import Cloud

__all__ = [
    "BlockStorage",
    "ImageUpload",
    "NewBackup",
    "NewGroup",
    "NewSnapshot",
    "NewTransfer",
    "NewVolume",
    "VolumeChanges",
]


@dataclass(frozen=True)
class VolumeChanges:
    """What an update changes: each field left at ``...`` stays as it is (None clears a name)."""

    name: Any = ...
    description: Any = ...
    metadata: Any = ...

    def given(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in (("name", self.name), ("description", self.description), ("metadata", self.metadata))
            if v is not ...
        }


class BlockStorage:
    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud
        self.store = cloud.store
        self.lifecycle = cloud.lifecycle
        self.images = cloud.image
        self.files = VolumeFiles(cloud.data_dir)
        self.types = VolumeTypes(self.store)
        self.group_types = GroupTypes(self.store)
        self.qos = QosSpecs(self.store)
        self.pools = Pools(self.store)
        self.hosts = Hosts(self.store)
        self.quotas = Quotas(self.store)
        self.messages = Messages(self.store)
        self.volumes = Volumes(self)
        self.snapshots = Snapshots(self)
        self.backups = Backups(self)
        self.attachments = Attachments(self)
        self.groups = Groups(self)
        self.group_snapshots = GroupSnapshots(self)
        self.transfers = Transfers(self)

    # -- start ----------------------------------------------------------------------------------

    def bootstrap(self) -> None:
        """``__DEFAULT__`` and ``default_cgsnapshot_type`` on the first start; every start settles
        what a crash left in flight."""
        self.types.ensure_default()
        self.group_types.ensure_default()
        self.files.clear_parts()
        self.mend_text()
        for part in (self.volumes, self.snapshots, self.backups, self.groups, self.group_snapshots):
            part.recover()

    #: every kind Block Storage keeps
    KINDS = (
        "volume",
        "volume_snapshot",
        "volume_backup",
        "volume_attachment",
        "volume_type",
        "volume_group_type",
        "volume_qos_specs",
        "volume_group",
        "volume_group_snapshot",
        "volume_transfer",
        "volume_message",
        "volume_type_encryption",
        "volume_service",
    )

    def mend_text(self) -> None:
        """Records stored before text with lone surrogates was refused would break every list that
        shows them (they cannot be sent as UTF-8): their text is mended at start (U+FFFD)."""
        toolkit.mend_records(self.store, self.KINDS)

    # -- for other services (Nova, Heat) ------------------------------------------------------------

    def get(self, ctx: Context, volume_id: str) -> dict[str, Any]:
        """The volume record; ``NotFound("Volume <id> could not be found.")`` if the caller may not see it."""
        return self.volumes.get(ctx, volume_id)

    def find(self, volume_id: str) -> dict[str, Any] | None:
        """The volume record whoever asks, None if there is none (for Heat's checks of its own volumes)."""
        return self.volumes.record(volume_id)

    def volume_view(self, ctx: Context, volume_id: str) -> dict[str, Any]:
        """The volume as ``GET /volumes/<id>`` shows it to ``ctx`` at the newest microversion."""
        return views.volume(views.Viewer.latest(self, ctx), self.volumes.get(ctx, volume_id))

    def create_volume(self, ctx: Context, request: NewVolume) -> dict[str, Any]:
        """A new volume, as ``POST /volumes`` makes it; it is ``creating`` until its lifecycle job
        has placed and filled it. Raises what the API would: ``BadRequest`` (a bad size, name or
        source, a type that does not allow ``multiattach``), ``NotFound`` (the source or the type),
        ``OverLimit`` (413, a quota)."""
        return self.volumes.create(ctx, request)

    def create(self, ctx: Context, **attrs: Any) -> dict[str, Any]:
        """:meth:`create_volume` with the fields of :class:`NewVolume` as keywords."""
        return self.create_volume(ctx, NewVolume(**attrs))

    def update(self, ctx: Context, volume_id: str, changes: VolumeChanges) -> dict[str, Any]:
        """A new name, description or metadata (``BadRequest`` if one is not valid)."""
        return self.volumes.update(ctx, volume_id, changes.given())

    def extend(self, ctx: Context, volume_id: str, new_size: int, attached_ok: bool = True) -> None:
        """Grow the volume to ``new_size`` GiB (``extending`` -> its status before); ``BadRequest`` if
        it would not grow or the volume is busy (``in-use`` ones only with ``attached_ok``)."""
        self.volumes.extend(ctx, volume_id, new_size, attached_ok=attached_ok)

    def retype(self, ctx: Context, volume_id: str, new_type: str, migration_policy: str = "never") -> None:
        """Change the volume's type (by name or id): ``retyping`` -> its status before."""
        self.volumes.retype(ctx, volume_id, new_type, migration_policy)

    def restore_backup(self, ctx: Context, volume_id: str, backup_id: str) -> None:
        """Put a backup's bytes back into the volume (``restoring-backup`` -> ``available``); the volume
        must be ``available`` and big enough, the backup ``available`` (else ``BadRequest``)."""
        self.backups.restore(ctx, backup_id, volume_id=volume_id)

    def set_read_only(self, ctx: Context, volume_id: str, read_only: bool) -> None:
        """Attach the volume read-only (or not) from now on; it must be ``available``."""
        self.volumes.set_readonly(ctx, volume_id, read_only)

    def delete(self, ctx: Context, volume_id: str) -> None:
        """Delete a detached volume (as ``DELETE /volumes/<id>?cascade=true``, with its snapshots)."""
        self.volumes.delete(ctx, volume_id, cascade=True)

    def snapshot(self, ctx: Context, snapshot_id: str) -> dict[str, Any]:
        """The snapshot record; ``NotFound("Snapshot <id> could not be found.")`` if the caller may not see it."""
        return self.snapshots.get(ctx, snapshot_id)

    def attach(
        self,
        ctx: Context,
        volume_id: str,
        server_id: str,
        mountpoint: str | None,
        *,
        host_name: str | None = None,
        mode: str = "rw",
    ) -> dict[str, Any]:
        """Attach ``volume_id`` to ``server_id`` at ``mountpoint`` (e.g. ``/dev/vdb``) in one step.

        The volume goes ``attaching`` -> ``in-use`` (``attach_status`` ``attached``)
        atomically and the attachment record is returned (``id``, ``volume_id``,
        ``instance_uuid``, ``mountpoint``, ``attach_mode``, ``attach_time``,
        ``connection_info`` with ``data.device_path``). Raises ``NotFound`` (404,
        "Volume <id> could not be found.") and ``BadRequest`` (400): "Invalid volume:
        Volume <id> status must be available or downloading" when it is in use and
        not multiattach (or busy), "Invalid volume: Volume <id> is already attached
        to server <server>." and "Invalid attaching mode 'rw' for volume <id>."
        """
        request = ServerAttachment(volume_id, server_id, mountpoint, host_name, mode)
        return self.attachments.attach(ctx, request)

    def detach(self, ctx: Context, volume_id: str, server_id: str) -> None:
        """Detach ``volume_id`` from ``server_id``: ``detaching`` -> ``available`` (``in-use`` if
        other servers still have it). ``NotFound`` if the volume is not visible or not attached
        to that server ("Volume <id> is not attached to server <server>.")."""
        self.attachments.detach(ctx, volume_id, server_id)

    def attachments_of_server(self, server_id: str) -> list[dict[str, Any]]:
        """Every attachment record of ``server_id`` (oldest first), whatever its project."""
        return self.attachments.of_server(server_id)

    def attachments_of_servers(self, server_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """:meth:`attachments_of_server` for many servers in one read, by server id."""
        return self.attachments.of_servers(server_ids)

    def attachments_of_volume(self, volume_id: str) -> list[dict[str, Any]]:
        """Every attachment record of ``volume_id`` (whatever its status)."""
        return self.attachments.of_volume(volume_id)

    def path(self, volume_id: str) -> Path:
        """The volume's data file (a sparse file of ``size`` GiB once the volume is available)."""
        return self.files.volume(volume_id)

    def wait(self, volume_id: str, statuses: tuple[str, ...] = ("available",), timeout: float = 60.0) -> dict[str, Any]:
        """Block (in a job's worker thread, never on the event loop) until the volume reaches one of
        ``statuses``; ``BadRequest`` if it goes to ``error``, ``NotFound`` if it disappears.

        Woken by the lifecycle when a job ends (no polling); the volume's own
        job runs in this thread once it is due, if no worker has started it.
        """

        def settled() -> dict[str, Any] | None:
            record = self.volumes.record(volume_id)
            if record is None:
                raise faults.NotFound(f"Volume {volume_id} could not be found.")
            if record["status"] in statuses:
                return record
            if record["status"] == "error" and "error" not in statuses:
                reasons = [m["user_message"] for m in self.messages.of(volume_id)]
                raise faults.BadRequest(
                    f"Volume {volume_id} did not finish being created, status error"
                    + (f": {reasons[-1]}" if reasons else ".")
                )
            return None

        try:
            return self.lifecycle.wait_until(settled, timeout, targets=(volume_id,), what=f"volume {volume_id}")
        except TimeoutError:
            status = (self.volumes.record(volume_id) or {}).get("status")
            raise faults.ApiError(f"Volume {volume_id} is still {status} after {timeout}s.", status=504) from None

    # -- for the service's own routes ----------------------------------------------------------------

    def check_project(self, project_id: str) -> None:
        """A project named in a path must exist (Cinder asks Keystone): 404 if not."""
        try:
            self.cloud.identity.project(project_id)
        except faults.NotFound:
            raise faults.NotFound(f"Project ID {project_id} was not found.") from None
