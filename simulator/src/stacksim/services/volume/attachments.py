"""Attachments: the 3.27+ attachments API, the legacy attach actions, and what Nova calls.

An attachment record ties a volume to a server (``instance_uuid``) or a host,
with its status (``reserved`` -> ``attaching`` -> ``attached``), the
connector the host sent and the connection info it got back. The volume
follows: ``reserved``/``attaching`` while an attachment is being made,
``in-use`` (``attach_status`` ``attached``) once one is complete, back to
``available`` when the last one goes. Only a volume whose type allows
multiattach may have more than one.

The connection info is of the ``local`` kind: ``data.device_path`` is the
volume's file on this host, which is what a compute driver plugs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stacksim import faults
from stacksim.auth import Context
from stacksim.services.volume import common

if TYPE_CHECKING:
    from stacksim.services.volume.model import BlockStorage

KIND = "volume_attachment"
MODES = ("rw", "ro")


def not_found(attachment_id: str) -> faults.NotFound:
    return faults.NotFound(f"Volume attachment could not be found with filter: attachment_id = {attachment_id}.")


@dataclass(frozen=True)
class ServerAttachment:
    """Nova's attach: ``volume_id`` on ``server_id`` at ``mountpoint`` (``/dev/vdb``), from ``host_name``."""

    volume_id: str
    server_id: str
    mountpoint: str | None = None
    host_name: str | None = None
    mode: str = "rw"


class Attachments:
    def __init__(self, bs: BlockStorage) -> None:
        self.bs = bs
        self.store = bs.store

    # -- reading ---------------------------------------------------------------------------------------

    def record(self, attachment_id: str) -> dict[str, Any] | None:
        return self.store.get(KIND, attachment_id)

    def get(self, ctx: Context, attachment_id: str) -> dict[str, Any]:
        record = self.store.get(KIND, attachment_id)
        if record is None or not ctx.owns_project(record["project_id"]):
            raise not_found(attachment_id)
        return record

    def list(self, ctx: Context, all_projects: bool = False) -> list[dict[str, Any]]:
        if ctx.is_admin and all_projects:
            return self.store.find(KIND)
        return self.store.find(KIND, project_id=ctx.project_id)

    def of_volume(self, volume_id: str) -> list[dict[str, Any]]:
        return self.store.find(KIND, volume_id=volume_id)

    def attached(self, volume_id: str) -> list[dict[str, Any]]:
        return [a for a in self.of_volume(volume_id) if a["attach_status"] == "attached"]

    def connection_info(self, volume: dict[str, Any], mode: str = "rw") -> dict[str, Any]:
        type_record = self.bs.types.record(volume.get("volume_type_id") or "")
        return {
            "driver_volume_type": "local",
            "data": {
                "device_path": str(self.bs.files.volume(volume["id"])),
                "volume_id": volume["id"],
                "access_mode": mode,
                "qos_specs": self.bs.qos.front_end(type_record),
                "encrypted": False,
                "discard": False,
                "cacheable": False,
            },
        }

    # -- shared steps ------------------------------------------------------------------------------------

    def _new(
        self,
        volume: dict[str, Any],
        *,
        instance_uuid: str | None,
        host_name: str | None,
        mountpoint: str | None,
        mode: str,
        status: str,
        connector: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        stamp = common.now()
        return self.store.put(
            KIND,
            {
                "id": common.new_id(),
                "volume_id": volume["id"],
                "project_id": volume["project_id"],
                "instance_uuid": instance_uuid,
                "attached_host": host_name,
                "mountpoint": mountpoint,
                "attach_mode": mode,
                "attach_status": status,
                "connector": connector,
                "connection_info": self.connection_info(volume, mode) if connector is not None else None,
                "attach_time": stamp if status == "attached" else None,
                "detach_time": None,
                "created_at": stamp,
                "updated_at": None,
            },
        )

    def _settle(self, volume_id: str) -> None:
        """The volume's status from what attachments it still has."""
        volume = self.bs.volumes.record(volume_id)
        if volume is None:
            return
        left = self.of_volume(volume_id)
        if any(a["attach_status"] == "attached" for a in left):
            status, attach_status = "in-use", "attached"
        elif left:
            pending = {a["attach_status"] for a in left}
            status, attach_status = ("attaching" if "attaching" in pending else "reserved"), "detached"
        else:
            status, attach_status = "available", "detached"
        self.bs.volumes.set_status(volume_id, status, attach_status=attach_status)

    def _reserve(self, volume: dict[str, Any], instance_uuid: str | None) -> None:
        """Cinder's ``_attachment_reserve``: the volume must be free (or multiattach)."""
        expected = ("available", "in-use", "downloading") if volume["multiattach"] else ("available", "downloading")
        if volume["status"] in expected:
            return
        if (
            instance_uuid
            and volume["status"] in ("in-use", "reserved")
            and any(a["instance_uuid"] == instance_uuid for a in self.of_volume(volume["id"]))
        ):
            return  # the same server again (a migration)
        raise common.invalid_volume(f"Volume {volume['id']} status must be {common.or_list(expected)}")

    @staticmethod
    def _mode(mode: Any, volume: dict[str, Any]) -> str:
        mode = mode or "rw"
        if mode not in MODES:
            raise common.invalid_input(
                "Invalid request to attach volume with an invalid mode. Attaching mode should be 'rw' or 'ro'"
            )
        if mode == "rw" and volume.get("admin_metadata", {}).get("readonly") == "True":
            raise faults.BadRequest(f"Invalid attaching mode '{mode}' for volume {volume['id']}.")
        return mode

    @staticmethod
    def _connector(connector: Any) -> dict[str, Any]:
        if not isinstance(connector, dict):
            raise faults.BadRequest("Must specify 'connector'.")
        return connector

    # -- the attachments API (3.27+) -----------------------------------------------------------------------

    def create(
        self,
        ctx: Context,
        volume_id: Any,
        *,
        instance_uuid: Any = None,
        connector: Any = None,
        mode: Any = None,
    ) -> dict[str, Any]:
        common.require_member(ctx, "volume:attachment_create")
        if not isinstance(volume_id, str) or not volume_id:
            raise faults.BadRequest("Invalid input for field/attribute volume_uuid. Expected a string.")
        if connector is not None:
            connector = self._connector(connector)
        with self.store.transaction():
            volume = self.bs.volumes.get(ctx, volume_id)
            mode = self._mode(mode, volume)
            self._reserve(volume, instance_uuid)
            status = "attaching" if connector is not None else "reserved"
            record = self._new(
                volume,
                instance_uuid=instance_uuid,
                host_name=(connector or {}).get("host"),
                mountpoint=(connector or {}).get("mountpoint"),
                mode=mode,
                status=status,
                connector=connector,
            )
            self._settle(volume_id)
            return record

    def update(self, ctx: Context, attachment_id: str, connector: Any) -> dict[str, Any]:
        common.require_member(ctx, "volume:attachment_update")
        connector = self._connector(connector)
        with self.store.transaction():
            record = self.get(ctx, attachment_id)
            volume = self.bs.volumes.record(record["volume_id"])
            if volume is None:
                raise not_found(attachment_id)
            record.update(
                connector=connector,
                connection_info=self.connection_info(volume, record["attach_mode"]),
                attached_host=connector.get("host") or record["attached_host"],
                mountpoint=connector.get("mountpoint") or record["mountpoint"],
                updated_at=common.now(),
            )
            if record["attach_status"] != "attached":
                record["attach_status"] = "attaching"
            self.store.put(KIND, record)
            self._settle(volume["id"])
            return record

    def complete(self, ctx: Context, attachment_id: str) -> None:
        common.require_member(ctx, "volume:attachment_complete")
        with self.store.transaction():
            record = self.get(ctx, attachment_id)
            record.update(attach_status="attached", attach_time=common.now(), updated_at=common.now())
            self.store.put(KIND, record)
            self._settle(record["volume_id"])

    def delete(self, ctx: Context, attachment_id: str) -> list[dict[str, Any]]:
        """Remove the attachment; the volume's remaining attachments are returned, as Cinder does."""
        common.require_member(ctx, "volume:attachment_delete")
        with self.store.transaction():
            record = self.get(ctx, attachment_id)
            self.store.delete(KIND, attachment_id)
            self._settle(record["volume_id"])
            return self.of_volume(record["volume_id"])

    # -- the legacy actions -------------------------------------------------------------------------------

    def reserve(self, ctx: Context, volume_id: str) -> None:
        common.require_member(ctx, "volume_extension:volume_actions:reserve")
        with self.store.transaction():
            volume = self.bs.volumes.get(ctx, volume_id)
            expected = ("available", "in-use") if volume["multiattach"] else ("available",)
            if volume["status"] not in expected:
                raise common.invalid_volume(
                    f"Volume status must be {common.or_list(expected)} to reserve, but the status is "
                    f"{volume['status']}."
                )
            self.bs.volumes.set_status(volume_id, "attaching")

    def unreserve(self, ctx: Context, volume_id: str) -> None:
        common.require_member(ctx, "volume_extension:volume_actions:unreserve")
        with self.store.transaction():
            volume = self.bs.volumes.get(ctx, volume_id)
            if volume["status"] == "attaching":
                self.bs.volumes.set_status(volume_id, "in-use" if self.attached(volume_id) else "available")

    def attach_action(
        self,
        ctx: Context,
        volume_id: str,
        *,
        instance_uuid: Any = None,
        host_name: Any = None,
        mountpoint: Any = None,
        mode: Any = None,
    ) -> dict[str, Any]:
        """``os-attach``: record the attachment and make the volume ``in-use``."""
        common.require_member(ctx, "volume_extension:volume_actions:attach")
        if not instance_uuid and not host_name:
            raise common.invalid_input("Invalid request to attach volume to an invalid target")
        with self.store.transaction():
            volume = self.bs.volumes.get(ctx, volume_id)
            mode = self._mode(mode, volume)
            if volume["status"] == "maintenance":
                raise common.invalid_volume("The volume cannot be attached in maintenance mode.")
            if volume["status"] == "in-use" and not volume["multiattach"]:
                raise common.invalid_volume("volume is already attached")
            if volume["status"] not in ("available", "attaching", "reserved", "in-use"):
                raise common.invalid_volume(
                    f"Volume status must be available or attaching to attach, but the status is {volume['status']}."
                )
            record = self._new(
                volume,
                instance_uuid=instance_uuid or None,
                host_name=host_name or None,
                mountpoint=mountpoint,
                mode=mode,
                status="attached",
                connector={},
            )
            self.bs.volumes.set_status(volume_id, "in-use", attach_status="attached")
            return record

    def begin_detaching(self, ctx: Context, volume_id: str) -> None:
        common.require_member(ctx, "volume_extension:volume_actions:begin_detaching")
        with self.store.transaction():
            volume = self.bs.volumes.get(ctx, volume_id)
            if volume["status"] != "in-use" or volume["attach_status"] != "attached":
                raise common.invalid_volume(
                    "Unable to detach volume. Volume status must be 'in-use' and attach_status must be "
                    "'attached' to detach."
                )
            self.bs.volumes.set_status(volume_id, "detaching")

    def roll_detaching(self, ctx: Context, volume_id: str) -> None:
        common.require_member(ctx, "volume_extension:volume_actions:roll_detaching")
        with self.store.transaction():
            volume = self.bs.volumes.get(ctx, volume_id)
            if volume["status"] == "detaching":
                self.bs.volumes.set_status(volume_id, "in-use")

    def detach_action(self, ctx: Context, volume_id: str, attachment_id: Any = None) -> None:
        """``os-detach``: drop one attachment (the only one if none is named)."""
        common.require_member(ctx, "volume_extension:volume_actions:detach")
        with self.store.transaction():
            volume = self.bs.volumes.get(ctx, volume_id)
            if volume["status"] == "maintenance":
                raise common.invalid_volume("The volume cannot be detached in maintenance mode.")
            found = self.of_volume(volume_id)
            if attachment_id:
                chosen = next((a for a in found if a["id"] == attachment_id), None)
                if chosen is None:
                    raise not_found(str(attachment_id))
            elif len(found) == 1:
                chosen = found[0]
            elif not found:
                raise common.invalid_volume("Volume is not attached.")
            else:
                raise common.invalid_volume(
                    "Detach volume failed: More than one attachment, but no attachment_id provided."
                )
            self.store.delete(KIND, chosen["id"])
            self._settle(volume_id)

    def initialize_connection(self, ctx: Context, volume_id: str, connector: Any) -> dict[str, Any]:
        common.require_member(ctx, "volume_extension:volume_actions:initialize_connection")
        self._connector(connector)
        volume = self.bs.volumes.get(ctx, volume_id)
        if volume["status"] == "maintenance":
            raise common.invalid_volume("The volume connection cannot be initialized in maintenance mode.")
        mode = "ro" if volume.get("admin_metadata", {}).get("readonly") == "True" else "rw"
        return self.connection_info(volume, mode)

    def terminate_connection(self, ctx: Context, volume_id: str, connector: Any) -> None:
        common.require_member(ctx, "volume_extension:volume_actions:terminate_connection")
        self._connector(connector)
        self.bs.volumes.get(ctx, volume_id)
        self.unreserve(ctx, volume_id)

    # -- for Nova -------------------------------------------------------------------------------------------

    def attach(self, ctx: Context, request: ServerAttachment) -> dict[str, Any]:
        """Reserve and attach at once: the volume goes ``attaching`` -> ``in-use`` in one transaction."""
        common.require_member(ctx, "volume:attachment_create")
        volume_id, server_id = request.volume_id, request.server_id
        with self.store.transaction():
            volume = self.bs.volumes.get(ctx, volume_id)
            mode = self._mode(request.mode, volume)
            if any(a["instance_uuid"] == server_id for a in self.of_volume(volume_id)):
                raise common.invalid_volume(f"Volume {volume_id} is already attached to server {server_id}.")
            self._reserve(volume, None)
            self.bs.volumes.set_status(volume_id, "attaching")
            record = self._new(
                volume,
                instance_uuid=server_id,
                host_name=request.host_name,
                mountpoint=request.mountpoint,
                mode=mode,
                status="attached",
                connector={"host": request.host_name, "mountpoint": request.mountpoint},
            )
            self._settle(volume_id)
            return record

    def detach(self, ctx: Context, volume_id: str, server_id: str) -> None:
        """Drop the server's attachment: ``detaching`` -> ``available`` (or ``in-use`` if others remain)."""
        common.require_member(ctx, "volume:attachment_delete")
        with self.store.transaction():
            self.bs.volumes.get(ctx, volume_id)
            mine = [a for a in self.of_volume(volume_id) if a["instance_uuid"] == server_id]
            if not mine:
                raise faults.NotFound(f"Volume {volume_id} is not attached to server {server_id}.")
            self.bs.volumes.set_status(volume_id, "detaching")
            for attachment in mine:
                self.store.delete(KIND, attachment["id"])
            self._settle(volume_id)

    def of_server(self, server_id: str) -> list[dict[str, Any]]:
        return self.store.find(KIND, instance_uuid=server_id)

    def of_servers(self, server_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """:meth:`of_server` for many servers in one read: server id -> its attachments."""
        found: dict[str, list[dict[str, Any]]] = {}
        for record in self.store.find_in(KIND, "instance_uuid", server_ids):
            found.setdefault(record["instance_uuid"], []).append(record)
        return found

    def drop_volume(self, volume_id: str) -> None:
        """Forget every attachment of a volume (it is gone, or reset to ``detached``)."""
        self.store.delete_where(KIND, volume_id=volume_id)
