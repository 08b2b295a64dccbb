"""A server's Cinder volumes: attach, detach and update (``os-volume_attachments``), the boot
volumes a build makes, and what a delete does with them.

Cinder keeps the attachments (``compute.peers.volume``); the server record keeps
only each volume's ``delete_on_termination``. Swapping a volume is Cinder's
volume migration calling Nova; stacksim's volumes never migrate, so a swap is
refused as Nova refuses one for a volume that is not migrating.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from stacksim import faults
from stacksim.auth import Context
from stacksim.drivers.base import DriverError
from stacksim.services.compute import policy
from stacksim.services.compute.servers import check_state, check_unlocked, deletes_with, owner_context

if TYPE_CHECKING:
    from stacksim.services.compute.model import Compute

ROOT_DEVICE = "/dev/vda"
#: The vm_states a volume may be attached to or detached from.
ATTACHABLE = ("active", "stopped", "paused", "suspended", "resized", "shelved", "shelved_offloaded")
#: ... of those, the ones with an instance on the host for the driver to plug into.
ON_HOST = ("active", "stopped", "paused", "suspended", "resized")


def next_device(used: set[str]) -> str:
    for letter in "bcdefghijklmnopqrstuvwxyz":
        if f"/dev/vd{letter}" not in used:
            return f"/dev/vd{letter}"
    raise faults.BadRequest("No free device name is left on this server.")


class ServerVolumes:
    def __init__(self, compute: Compute) -> None:
        self.compute = compute
        self.servers = compute.servers
        self.cinder = compute.peers.volume

    def of(self, server: dict[str, Any]) -> list[dict[str, Any]]:
        return self.cinder.attachments(server["id"])

    def list(self, ctx: Context, server_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        server = self.servers.owned(ctx, server_id, "os_compute_api:os-volumes-attachments:index")
        return server, self.of(server)

    def show(self, ctx: Context, server_id: str, volume_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        server = self.servers.owned(ctx, server_id, "os_compute_api:os-volumes-attachments:show")
        return server, self._attachment(server, volume_id)

    def _attachment(self, server: dict[str, Any], volume_id: str) -> dict[str, Any]:
        for attachment in self.of(server):
            if attachment["volume_id"] == volume_id:
                return attachment
        raise faults.NotFound(f"Instance {server['id']} is not attached to volume {volume_id}.")

    def attach(
        self, ctx: Context, server_id: str, volume_id: str, device: str | None, delete_on_termination: bool = False
    ) -> dict[str, Any]:
        """Attach a volume (Nova's ``os-volume_attachments`` create); blocking (the driver plugs it)."""
        server = self.servers.owned(ctx, server_id, "os_compute_api:os-volumes-attachments:create")
        check_unlocked(ctx, server)
        check_state(server, "attach_volume", ATTACHABLE)
        used = {a["mountpoint"] for a in self.of(server)} | {ROOT_DEVICE}
        if device and device in used:
            raise faults.BadRequest(f"The supplied device path ({device}) is in use.")
        device = device or next_device(used)
        attachment = self.cinder.attach(ctx, volume_id, server["id"], device)
        if server["vm_state"] in ON_HOST:
            try:
                self.compute.driver.attach_volume(server["id"], volume_id, device, self.cinder.path(volume_id))
            except DriverError as exc:
                self.cinder.detach(ctx, volume_id, server["id"])
                raise faults.BadRequest(f"The volume could not be attached: {exc}") from None
        self._remember(server["id"], volume_id, delete_on_termination)
        self.compute.history.record(ctx, server, "attach_volume", event="compute_attach_volume", done=True)
        return attachment

    def _remember(self, server_id: str, volume_id: str, delete_on_termination: bool) -> None:
        def remember(current: dict[str, Any]) -> None:
            flags = dict(current.get("delete_on_termination") or {}, **{volume_id: delete_on_termination})
            current["delete_on_termination"] = flags

        self.servers.edit(server_id, remember)

    def detach(self, ctx: Context, server_id: str, volume_id: str) -> None:
        server = self.servers.owned(ctx, server_id, "os_compute_api:os-volumes-attachments:delete")
        check_unlocked(ctx, server)
        check_state(server, "detach_volume", ATTACHABLE)
        attachment = self._attachment(server, volume_id)
        if attachment["mountpoint"] == ROOT_DEVICE:
            raise faults.BadRequest("Cannot detach a root device volume")
        if server["vm_state"] in ON_HOST:
            self.compute.driver.detach_volume(server["id"], volume_id)
        self.cinder.detach(ctx, volume_id, server["id"])
        self.compute.history.record(ctx, server, "detach_volume", event="compute_detach_volume", done=True)

    def update(
        self,
        ctx: Context,
        server_id: str,
        volume_id: str,
        new_volume_id: str,
        delete_on_termination: bool | None = None,
        swap_only: bool = False,
        unchanged: dict[str, str | None] | None = None,
    ) -> None:
        """Nova's PUT of an attachment: ``delete_on_termination`` (2.85 on, the same volume), or a
        swap to ``new_volume_id`` (before 2.85 always; the service role's, for Cinder's migrations).

        ``unchanged``: the attachment's ``device``, ``tag``, ``serverId`` and ``id`` as the body
        gives them; they may not change (400)."""
        server = self.servers.get(ctx, server_id)
        if swap_only or new_volume_id != volume_id:
            policy.authorize(ctx, "os_compute_api:os-volumes-attachments:swap")
            volume = self.cinder.get(ctx, volume_id)
            if not volume.get("migration_status"):
                raise faults.Conflict(f"volume {volume_id} is not migrating; this API should only be called by Cinder")
            raise faults.BadRequest("Swapping a volume is not supported by stacksim.")
        policy.authorize(ctx, "os_compute_api:os-volumes-attachments:update", server["project_id"])
        attachment = next((a for a in self.of(server) if a["volume_id"] == volume_id), None)
        if attachment is None:
            raise faults.NotFound(f"No volume Block Device Mapping with id {volume_id}.")
        current = {"id": volume_id, "serverId": server["id"], "device": attachment["mountpoint"], "tag": None}
        for key, value in (unchanged or {}).items():
            if value != current[key]:
                raise faults.BadRequest(f"The {key} property is not mutable")
        if delete_on_termination is not None:
            self._remember(server["id"], volume_id, delete_on_termination)

    # -- for builds, rebuilds, unshelves and deletes -------------------------------------------------------

    def plug_all(self, server: dict[str, Any]) -> None:
        """Have the driver plug every volume attached to the server (after a spawn)."""
        for attachment in self.of(server):
            volume_id = attachment["volume_id"]
            self.compute.driver.attach_volume(
                server["id"], volume_id, attachment["mountpoint"], self.cinder.path(volume_id)
            )

    def boot_volumes(self, server: dict[str, Any]) -> None:
        """Make (if need be) and attach the server's block-device volumes, the root one as /dev/vda."""
        if not server["block_devices"]:
            return  # most servers: no context to make for nothing
        ctx = owner_context(server)
        for index, bdm in enumerate(server["block_devices"]):
            if bdm["volume_id"] is None:
                source = {"image": "image_ref", "snapshot": "snapshot_id"}.get(bdm["source_type"])
                made = self.cinder.create(
                    ctx,
                    size=bdm["volume_size"],
                    name=f"{server['name']}-volume",
                    **({source: bdm["uuid"]} if source else {}),
                )
                bdm["volume_id"] = made["id"]
                bdm["made_here"] = True

                def record_volume(current: dict[str, Any], i: int = index, volume_id: str = made["id"]) -> None:
                    current["block_devices"][i].update(volume_id=volume_id, made_here=True)

                self.servers.modify(server["id"], record_volume)
            attached = self.of(server)
            if bdm["volume_id"] in {a["volume_id"] for a in attached}:
                continue  # a second run of the build (after a restart) found it done
            if bdm.get("made_here"):
                # Wait until it is made, in a second run too (after a restart, or a fake build
                # run inline that had to hand its wait on): attached while creating, it would fail.
                self.cinder.wait(bdm["volume_id"], timeout=120.0)  # this job runs in a worker thread
            used = {a["mountpoint"] for a in attached}
            device = ROOT_DEVICE if bdm["boot_index"] == 0 else next_device(used | {ROOT_DEVICE})
            self.cinder.attach(ctx, bdm["volume_id"], server["id"], device)

    def release(self, server: dict[str, Any]) -> None:
        """On delete: detach every volume, and delete those marked delete_on_termination."""
        ctx = owner_context(server)
        doomed = []
        for attachment in self.of(server):
            if deletes_with(server, attachment["volume_id"]):
                doomed.append(attachment["volume_id"])
            with contextlib.suppress(faults.NotFound):
                self.cinder.detach(ctx, attachment["volume_id"], server["id"])
        for volume_id in doomed:
            with contextlib.suppress(faults.NotFound):
                self.cinder.delete(ctx, volume_id)
