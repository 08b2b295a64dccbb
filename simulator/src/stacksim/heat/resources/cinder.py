"""``OS::Cinder::Volume`` (a table over the Block Storage facade) and ``OS::Cinder::VolumeAttachment``.

A volume is made with :meth:`BlockStorage.create_volume` and a typed
:class:`NewVolume` (the same record ``openstack volume list`` shows), from an
image (by name or id), a snapshot, a volume or a backup, or empty; it is
ready when ``available``. An update changes the name, description and
metadata in one call, extends the volume (attached ones too), retypes it,
restores a backup into it and sets it read-only, each only if its properties
changed and each once the one before is done (as Heat's own steps); ``read_only``
at create is applied once the volume is available.
Attributes and ``show`` are the volume as the API shows it.

An attachment is made through Nova (as Heat asks Nova), so the server shows
the volume; it is ready when the volume is ``in-use``.
"""

from __future__ import annotations

import contextlib
from typing import Any

from stacksim import faults
from stacksim.heat import lookup
from stacksim.heat.constraints import CustomConstraint, Range
from stacksim.heat.resources.base import Attr, Call, From, Mapped, Prop, Resource, Status, Table, physical_name
from stacksim.services.volume.model import BlockStorage, NewVolume, VolumeChanges

VOLUME = CustomConstraint("cinder.volume")
FAILED = ("error", "error_extending", "error_restoring")


def _image_id(res: Mapped, ref: Any) -> str | None:
    return lookup.image(res.cloud, res.ctx, ref)["id"] if ref else None


class Volume(Mapped):
    type_name = "OS::Cinder::Volume"
    description = "A resource that implements Cinder volumes."
    properties_schema = {
        "size": Prop("integer", "The size of the volume in GB.", update_allowed=True, constraints=(Range(min=1),)),
        "snapshot_id": Prop("string", "If specified, the snapshot to create the volume from."),
        "backup_id": Prop("string", "If specified, the backup to create the volume from.", update_allowed=True),
        "name": Prop("string", "A name used to distinguish the volume.", update_allowed=True),
        "description": Prop("string", "A description of the volume.", update_allowed=True),
        "volume_type": Prop("string", "If specified, the type of volume to use.", update_allowed=True),
        "metadata": Prop("map", "Key/value pairs to associate with the volume.", update_allowed=True, default={}),
        "image": Prop(
            "string",
            "If specified, the name or ID of the image to create the volume from.",
            constraints=(CustomConstraint("glance.image"),),
        ),
        "source_volid": Prop("string", "If specified, the volume to use as source.", constraints=(VOLUME,)),
        "availability_zone": Prop("string", "The availability zone in which the volume will be created."),
        "read_only": Prop("boolean", "Enables or disables read-only access mode of volume.", update_allowed=True),
        "multiattach": Prop("boolean", "Whether allow the volume to be attached more than once."),
    }
    attributes_schema = {
        "availability_zone": Attr("The availability zone in which the volume is located.", "string"),
        "size": Attr("The size of the volume in GB.", "string"),
        "snapshot_id": Attr("The snapshot the volume was created from, if any.", "string"),
        "display_name": Attr("Name of the volume.", "string"),
        "display_description": Attr("Description of the volume.", "string"),
        "volume_type": Attr("The type of the volume mapping to a backend, if any.", "string"),
        "metadata": Attr("Key/value pairs associated with the volume.", "string"),
        "metadata_values": Attr("Key/value pairs associated with the volume in raw dict form.", "map"),
        "source_volid": Attr("The volume used as source, if any.", "string"),
        "status": Attr("The current status of the volume.", "string"),
        "created_at": Attr("The timestamp indicating volume creation.", "string"),
        "bootable": Attr("Boolean indicating if the volume can be booted or not.", "string"),
        "encrypted": Attr("Boolean indicating if the volume is encrypted or not.", "string"),
        "attachments_list": Attr("The list of attachments of the volume.", "list"),
        "multiattach": Attr("Boolean indicating whether allow the volume to be attached more than once.", "boolean"),
    }
    table = Table(
        service="volume",
        create=Call(
            BlockStorage.create_volume,
            NewVolume,  # size, name, description, volume_type, availability_zone, metadata, sources, multiattach
            fields={"name": physical_name(), "image_ref": From(("image",), _image_id)},
            ready=Status(ok=("available",), failed=FAILED),
        ),
        update=(
            Call(
                BlockStorage.update,
                VolumeChanges,  # name, description, metadata
                fields={"name": physical_name()},
                ready=Status(ok=("available", "in-use"), failed=FAILED),
            ),
            Call(BlockStorage.extend, fields={"new_size": "size"}, ready=Status(("available", "in-use"), FAILED)),
            Call(
                BlockStorage.retype, fields={"new_type": "volume_type"}, ready=Status(("available", "in-use"), FAILED)
            ),
            Call(BlockStorage.restore_backup, fields={"backup_id": "backup_id"}, ready=Status(("available",), FAILED)),
            Call(BlockStorage.set_read_only, fields={"read_only": "read_only"}),
        ),
        delete=Call(BlockStorage.delete),
        view=BlockStorage.volume_view,
        attributes={
            "display_name": "name",
            "display_description": "description",
            "metadata": lambda res, view: str(view.get("metadata") or {}),
            "metadata_values": "metadata",
            "encrypted": lambda res, view: str(bool(view.get("encrypted"))).lower(),
            "attachments_list": "attachments",
        },
    )

    # An update's calls run one after another, as Heat's do: a retype must wait for an extend to
    # finish (a volume that is ``extending`` cannot be retyped). The step reached is kept in ``data``.

    def handle_update(self, changed: dict[str, Any], old: dict[str, Any]) -> None:
        self.data["updating"] = {"changed": sorted(changed), "step": 0, "waiting": None}
        self._next_update_step()

    def _next_update_step(self) -> None:
        """Make the next update call whose properties changed; stop at one that must become ready."""
        state, calls = self.data["updating"], self.table.updates
        changed = set(state["changed"])
        state["waiting"] = None
        while state["step"] < len(calls):
            call = calls[state["step"]]
            state["step"] += 1
            if not call.values(self, changed):
                continue
            call.invoke(self, self.resource_id or "", changed=changed)
            if call.ready is not None:
                state["waiting"] = state["step"] - 1
                return

    def check_update_complete(self) -> bool:
        state = self.data.get("updating")
        while state is not None:
            waiting = state["waiting"]
            if waiting is not None:
                ready = self.table.updates[waiting].ready
                if ready is not None and not ready(self._existing()):
                    return False
            if state["step"] >= len(self.table.updates):
                self.data.pop("updating")
                return True
            self._next_update_step()
        return True

    def check_create_complete(self) -> bool:
        """Available, and then read-only if asked (Cinder sets the flag on an available volume only)."""
        if not super().check_create_complete():
            return False
        if self.props.get("read_only") and not self.data.get("read_only_set"):
            self.facade.set_read_only(self.ctx, self.resource_id or "", True)
            self.data["read_only_set"] = True
        return True


class VolumeAttachment(Resource):
    type_name = "OS::Cinder::VolumeAttachment"
    description = "Resource for associating volumes to Nova servers."
    properties_schema = {
        "instance_uuid": Prop(
            "string", "The ID of the server to which the volume attaches.", required=True, update_allowed=True
        ),
        "volume_id": Prop(
            "string", "The ID of the volume to be attached.", required=True, update_allowed=True, constraints=(VOLUME,)
        ),
        "mountpoint": Prop("string", "The location where the volume is exposed on the instance.", update_allowed=True),
    }

    def _attach(self) -> None:
        server_id, volume_id = self.props["instance_uuid"], self.props["volume_id"]
        self.cloud.compute.attach_volume(self.ctx, server_id, volume_id, self.props.get("mountpoint"))
        self.resource_id = f"{server_id}:{volume_id}"

    def _detach(self, server_id: str, volume_id: str) -> None:
        with contextlib.suppress(faults.NotFound):
            self.cloud.compute.detach_volume(self.ctx, server_id, volume_id)

    def handle_create(self) -> None:
        self._attach()

    def check_create_complete(self) -> bool:
        volume = self.cloud.volume.find(self.props["volume_id"])
        return volume is not None and volume["status"] == "in-use"

    def handle_update(self, changed: dict[str, Any], old: dict[str, Any]) -> None:
        # Heat moves an attachment by detaching it and attaching it anew.
        self._detach(old["instance_uuid"], old["volume_id"])
        self._attach()

    def check_update_complete(self) -> bool:
        return self.check_create_complete()

    def handle_delete(self) -> None:
        if self.resource_id:
            server_id, _, volume_id = self.resource_id.partition(":")
            self._detach(server_id, volume_id)

    def check_delete_complete(self) -> bool:
        if not self.resource_id:
            return True
        server_id, _, volume_id = self.resource_id.partition(":")
        return not any(a["instance_uuid"] == server_id for a in self.cloud.volume.attachments_of_volume(volume_id))


TYPES = (Volume, VolumeAttachment)
