"""``OS::Glance::WebImage``: an image Glance imports from a URL, a table over the Image facade.

The image is made with :meth:`Images.create_image` and a :class:`NewImage`
whose ``web_download`` starts the interoperable import's ``web-download`` at
once; the resource is complete when the image is ``active`` and fails with the
import's reason if it fails. An update changes base attributes and custom
properties (a property dropped from the template is removed from the image)
in one call. ``show`` is the image as the API shows it; a CHECK expects it
``active``. Not implemented: ``OS::Glance::Image`` (the v1 location-based
type Heat deprecated).
"""

from __future__ import annotations

from typing import Any

from stacksim.heat.constraints import AllowedValues, Range
from stacksim.heat.resources.base import Call, From, Mapped, Prop, Status, Table, physical_name
from stacksim.services.image.model import ImageChanges, Images, NewImage

DISK_FORMATS = ["ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"]
CONTAINER_FORMATS = ["ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"]
#: properties that map to an image property of the same name
EXTRA = ("architecture", "kernel_id", "os_distro", "os_version", "ramdisk_id")
PROPERTY_SOURCES = (*EXTRA, "extra_properties")


class ImageImportFailed(Exception):
    pass


def _properties(res: Mapped, *values: Any) -> dict[str, str]:
    """The image's custom properties the template sets: the named ones and ``extra_properties``."""
    named = dict(zip(EXTRA, values[: len(EXTRA)], strict=True))
    found = {k: v for k, v in named.items() if v is not None}
    found.update({str(k): str(v) for k, v in (values[-1] or {}).items()})
    return found


def _removed(res: Mapped, *values: Any) -> list[str]:
    """The custom properties the template set before and no longer does."""
    old = getattr(res, "previous", None) or {}
    before = _properties(res, *(old.get(k) for k in PROPERTY_SOURCES))
    return sorted(set(before) - set(_properties(res, *values)))


class WebImage(Mapped):
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
    table = Table(
        service="image",
        create=Call(
            Images.create_image,
            NewImage,  # name, id, min_disk, min_ram, formats, protected, visibility, tags, owner
            fields={
                "name": physical_name(),
                "properties": From(PROPERTY_SOURCES, _properties),
                "web_download": "location",
            },
        ),
        update=Call(
            Images.change_image,
            ImageChanges,  # name, protected, visibility, tags, owner
            fields={
                "name": physical_name(),
                "properties": From(PROPERTY_SOURCES, _properties),
                "removed": From(PROPERTY_SOURCES, _removed),
            },
        ),
        delete=Call(Images.delete),
        check=Call(None, ready=Status(ok=("active",))),
        view=Images.view,
    )

    def check_create_complete(self) -> bool:
        """Active once the import is done; an import that failed fails the resource with its reason."""
        if self._existing()["status"] == "active":
            return True
        reason = self.facade.import_failure(self.resource_id or "")
        if reason is not None:
            raise ImageImportFailed(f"Image {self.resource_id} import from {self.props['location']} failed: {reason}")
        return False

    def handle_update(self, changed: dict[str, Any], old: dict[str, Any]) -> None:
        self.previous = old  # what ``removed`` compares against
        super().handle_update(changed, old)


TYPES = (WebImage,)
