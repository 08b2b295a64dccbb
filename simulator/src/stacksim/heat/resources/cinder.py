"""Cinder's resource types: OS::Cinder::Volume and OS::Cinder::VolumeAttachment.

Volumes are made through the block-storage model, and attachments through
Nova's servers model (as Heat asks Nova), so what a stack makes shows in
``openstack volume list`` and ``server show``.
"""

from __future__ import annotations

import contextlib
from typing import Any

from stacksim import faults
from stacksim.heat import lookup
from stacksim.heat.constraints import CustomConstraint, Range
from stacksim.heat.resources.base import Attr, Prop, Resource, ResourceInError

VOLUME = CustomConstraint("cinder.volume")


class Volume(Resource):
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

    def _volume(self) -> dict[str, Any] | None:
        return self.cloud.volume.volumes.record(self.resource_id) if self.resource_id else None

    def _settled(self, *wanted: str) -> bool:
        volume = self._volume()
        if volume is None:
            raise faults.NotFound(f"Volume {self.resource_id} could not be found.")
        if volume["status"].startswith("error"):
            raise ResourceInError(volume["status"], f"the volume went to {volume['status']}")
        return volume["status"] in wanted

    def handle_create(self) -> None:
        props = self.props
        attrs: dict[str, Any] = {
            "size": props.get("size"),
            "name": props.get("name") or self.physical_name(),
            "description": props.get("description"),
            "volume_type": props.get("volume_type"),
            "availability_zone": props.get("availability_zone"),
            "metadata": props.get("metadata") or {},
            "snapshot_id": props.get("snapshot_id"),
            "source_volid": props.get("source_volid"),
            "backup_id": props.get("backup_id"),
        }
        if props.get("image"):
            attrs["image_ref"] = lookup.image(self.cloud, self.ctx, props["image"])["id"]
        self.resource_id = self.cloud.volume.create(self.ctx, **attrs)["id"]

    def check_create_complete(self) -> bool:
        return self._settled("available")

    def handle_update(self, changed: dict[str, Any], old: dict[str, Any]) -> None:
        volumes, volume_id = self.cloud.volume.volumes, self.resource_id or ""
        simple = {k: self.props.get(k) for k in ("name", "description", "metadata") if k in changed}
        if simple:
            volumes.update(self.ctx, volume_id, simple)
        if "size" in changed and self.props.get("size"):
            if self.props["size"] < (old.get("size") or 0):
                raise faults.BadRequest("The new size must be greater than the old size.")
            volumes.extend(self.ctx, volume_id, self.props["size"], attached_ok=True)
        if "volume_type" in changed and self.props.get("volume_type"):
            volumes.retype(self.ctx, volume_id, self.props["volume_type"])

    def check_update_complete(self) -> bool:
        return self._settled("available", "in-use")

    def handle_delete(self) -> None:
        if self._volume() is not None:
            with contextlib.suppress(faults.NotFound):
                self.cloud.volume.delete(self.ctx, self.resource_id or "")

    def check_delete_complete(self) -> bool:
        return self._volume() is None

    def resolve_attribute(self, attr: str) -> Any:
        volume = self._volume()
        if volume is None:
            return None
        mapping = {
            "display_name": "name",
            "display_description": "description",
            "source_volid": "source_volid",
            "volume_type": "volume_type",
            "metadata_values": "metadata",
            "attachments_list": "attachments",
        }
        if attr == "metadata":
            return str(volume.get("metadata") or {})
        if attr in ("bootable", "encrypted"):
            return str(bool(volume.get(attr))).lower()
        return volume.get(mapping.get(attr, attr))

    def show(self) -> Any:
        return self._volume()


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
        volume = self.cloud.volume.volumes.record(self.props["volume_id"])
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
        return not any(a["instance_uuid"] == server_id for a in self.cloud.volume.attachments.of_volume(volume_id))


TYPES = (Volume, VolumeAttachment)
