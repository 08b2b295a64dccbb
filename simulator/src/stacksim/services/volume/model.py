"""Cinder's model: everything Block Storage keeps, one part per attribute.

The Cloud holds it as ``cloud.volume``; the route modules reach each part
through it (``cloud.volume.volumes.get(ctx, id)``). Nova uses the methods
at the end of the class: :meth:`BlockStorage.attach`,
:meth:`BlockStorage.detach`, :meth:`BlockStorage.attachments_of_server`,
:meth:`BlockStorage.path` and, for boot from volume, :meth:`BlockStorage.create`
with :meth:`BlockStorage.wait`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from stacksim import faults
from stacksim.auth import Context
from stacksim.services.volume.attachments import Attachments
from stacksim.services.volume.backups import Backups
from stacksim.services.volume.data import VolumeFiles
from stacksim.services.volume.messages import Messages
from stacksim.services.volume.pools import Pools
from stacksim.services.volume.quotas import Quotas
from stacksim.services.volume.snapshots import Snapshots
from stacksim.services.volume.types import QosSpecs, VolumeTypes
from stacksim.services.volume.volumes import Volumes

if TYPE_CHECKING:
    from stacksim.cloud import Cloud


class BlockStorage:
    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud
        self.store = cloud.store
        self.lifecycle = cloud.lifecycle
        self.images = cloud.image
        self.files = VolumeFiles(cloud.data_dir)
        self.types = VolumeTypes(self.store)
        self.qos = QosSpecs(self.store)
        self.pools = Pools(self.store)
        self.quotas = Quotas(self.store)
        self.messages = Messages(self.store)
        self.volumes = Volumes(self)
        self.snapshots = Snapshots(self)
        self.backups = Backups(self)
        self.attachments = Attachments(self)

    # -- start ----------------------------------------------------------------------------------

    def bootstrap(self) -> None:
        """``__DEFAULT__`` on the first start; every start settles what a crash left in flight."""
        self.types.ensure_default()
        self.files.clear_parts()
        self.volumes.recover()
        self.snapshots.recover()
        self.backups.recover()

    # -- for Nova ---------------------------------------------------------------------------------

    def get(self, ctx: Context, volume_id: str) -> dict[str, Any]:
        """The volume record; ``NotFound("Volume <id> could not be found.")`` if the caller may not see it."""
        return self.volumes.get(ctx, volume_id)

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
        return self.attachments.attach(ctx, volume_id, server_id, mountpoint, host_name=host_name, mode=mode)

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

    def path(self, volume_id: str) -> Path:
        """The volume's data file (a sparse file of ``size`` GiB once the volume is available)."""
        return self.files.volume(volume_id)

    def create(self, ctx: Context, **attrs: Any) -> dict[str, Any]:
        """A new volume, as ``POST /volumes`` makes it (``size``, ``name``, ``image_ref``,
        ``snapshot_id``, ``source_volid``, ``volume_type`` ...); it is ``creating`` until its
        lifecycle job has placed and filled it. Raises what the API would (400, 404, 413)."""
        return self.volumes.create(ctx, **attrs)

    def delete(self, ctx: Context, volume_id: str) -> None:
        """Delete a detached volume (as ``DELETE /volumes/<id>``, cascading to its snapshots)."""
        self.volumes.delete(ctx, volume_id, cascade=True)

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
