"""``OS::Glance::WebImage``: an image Glance imports from a URL (``web-download``).

The image is created ``queued`` through the Image model, then imported with
the interoperable import's ``web-download`` method; the resource is complete
when the image is ``active`` and fails if the import fails. Not implemented:
``OS::Glance::Image`` (the v1 location-based type Heat deprecated).
"""

from __future__ import annotations

from typing import Any

from stacksim import faults
from stacksim.heat.constraints import AllowedValues, Range
from stacksim.heat.resources.base import Prop, Resource

DISK_FORMATS = ["ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"]
CONTAINER_FORMATS = ["ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"]
#: properties that map to an image property of the same name
EXTRA = ("architecture", "kernel_id", "os_distro", "os_version", "ramdisk_id")


class ImageImportFailed(Exception):
    pass


class WebImage(Resource):
    type_name = "OS::Glance::WebImage"
    description = "A resource managing images in Glance using web-download import."
    properties_schema = {
        "name": Prop(
            "string",
            "Name for the image. The name of an image is not unique to a Image Service node.",
            update_allowed=True,
        ),
        "id": Prop("string", "The image ID. Glance will generate a UUID if not specified."),
        "min_disk": Prop(
            "integer", "Amount of disk space (in GB) required to boot image.", default=0, constraints=(Range(min=0),)
        ),
        "min_ram": Prop(
            "integer", "Amount of ram (in MB) required to boot image.", default=0, constraints=(Range(min=0),)
        ),
        "disk_format": Prop(
            "string", "Disk format of image.", required=True, constraints=(AllowedValues(DISK_FORMATS),)
        ),
        "container_format": Prop(
            "string", "Container format of image.", required=True, constraints=(AllowedValues(CONTAINER_FORMATS),)
        ),
        "location": Prop("string", "URL where the data for this image already resides.", required=True),
        "protected": Prop(
            "boolean",
            "Whether the image can be deleted. If the value is True, the image is protected and cannot be deleted.",
            default=False,
            update_allowed=True,
        ),
        "visibility": Prop(
            "string",
            "Scope of image accessibility.",
            default="private",
            update_allowed=True,
            constraints=(AllowedValues(["public", "private", "community", "shared"]),),
        ),
        "tags": Prop("list", "List of image tags.", default=[], update_allowed=True, schema=Prop("string")),
        "extra_properties": Prop(
            "map", "Arbitrary properties to associate with the image.", default={}, update_allowed=True
        ),
        "architecture": Prop("string", "Operating system architecture.", update_allowed=True),
        "kernel_id": Prop(
            "string",
            "ID of image stored in Glance that should be used as the kernel when booting an AMI-style image.",
            update_allowed=True,
        ),
        "os_distro": Prop(
            "string", "The common name of the operating system distribution in lowercase.", update_allowed=True
        ),
        "os_version": Prop("string", "Operating system version as specified by the distributor.", update_allowed=True),
        "owner": Prop("string", "Owner of the image.", update_allowed=True),
        "ramdisk_id": Prop(
            "string",
            "ID of image stored in Glance that should be used as the ramdisk when booting an AMI-style image.",
            update_allowed=True,
        ),
    }
    attributes_schema = {}

    def handle_create(self) -> None:
        images = self.cloud.image
        props = self.props
        attrs: dict[str, Any] = {
            "name": props.get("name") or self.physical_name(),
            "disk_format": props["disk_format"],
            "container_format": props["container_format"],
            "min_disk": props["min_disk"],
            "min_ram": props["min_ram"],
            "protected": props["protected"],
            "visibility": props["visibility"],
            "tags": props.get("tags") or [],
        }
        if props.get("id"):
            attrs["id"] = props["id"]
        if props.get("owner"):
            attrs["owner"] = props["owner"]
        for key in EXTRA:
            if props.get(key):
                attrs[key] = props[key]
        attrs.update({str(k): str(v) for k, v in (props.get("extra_properties") or {}).items()})
        record = images.create(self.ctx, **attrs)
        self.resource_id = record["id"]
        images.imports.start(self.ctx, record["id"], {"method": {"name": "web-download", "uri": props["location"]}})

    def check_create_complete(self) -> bool:
        record = self.cloud.image.record(self.resource_id or "")
        if record is None:
            raise faults.NotFound(f"No image found with ID {self.resource_id}")
        if record["status"] == "active":
            return True
        if record["status"] in ("killed", "deleted") or (
            record["status"] == "queued" and record["properties"].get("os_glance_failed_import")
        ):
            tasks = self.store.find("image_task", image_id=record["id"])
            reason = tasks[-1].get("message") if tasks else ""
            raise ImageImportFailed(f"Image {record['id']} import from {self.props['location']} failed: {reason}")
        return False

    def handle_update(self, changed: dict[str, Any], old: dict[str, Any]) -> None:
        changes: list[tuple[str, str, Any]] = []
        for key in ("name", "protected", "visibility", "tags", "owner", *EXTRA):
            if key in changed:
                value = self.props.get(key)
                if key == "name":
                    value = value or self.physical_name()
                if value is None:
                    changes.append(("remove", key, None))
                else:
                    changes.append(
                        (
                            "replace" if key in ("name", "protected", "visibility", "tags", "owner") else "add",
                            key,
                            value,
                        )
                    )
        if "extra_properties" in changed:
            before = set(old.get("extra_properties") or {})
            after = self.props.get("extra_properties") or {}
            changes += [("remove", k, None) for k in sorted(before - set(after))]
            changes += [("add", str(k), str(v)) for k, v in after.items()]
        if changes:
            self.cloud.image.update(self.ctx, self.resource_id or "", changes)

    def handle_delete(self) -> None:
        if self.resource_id:
            self.cloud.image.delete(self.ctx, self.resource_id)

    def handle_check(self) -> None:
        record = self.cloud.image.get(self.ctx, self.resource_id or "")
        if record["status"] != "active":
            raise ImageImportFailed(f"'status': expected 'active', got '{record['status']}'")

    def show(self) -> Any:
        return self.cloud.image.record(self.resource_id) if self.resource_id else None


TYPES = (WebImage,)
