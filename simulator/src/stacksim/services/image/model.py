"""The Image service's typed interface: the :class:`Images` facade.

The Cloud holds it as ``cloud.image``. It owns the parts (``records``: images
and their data; ``members``; ``imports``; ``tasks``; ``metadefs``), which the
service's own routes call. Other services (Nova's snapshots and boots,
Cinder's image volumes and uploads) and Heat use only the "for other services"
section: ids, a caller's context or an owner project, and :class:`NewImage`;
they get image records (custom properties under ``properties``) and the
errors the API would answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stacksim import faults, toolkit
from stacksim.auth import Context
from stacksim.lifecycle import Lifecycle
from stacksim.services.image import metadefs, schemas, views
from stacksim.services.image.data import ImageFiles
from stacksim.services.image.images import ImageRecords
from stacksim.services.image.imports import TASK, Imports
from stacksim.services.image.members import Members
from stacksim.services.image.metadefs import Metadefs
from stacksim.services.image.tasks import Tasks
from stacksim.store import Store

#: ``(op, attribute, value)``: one change of an update (``add``, ``replace``, ``remove``)
ImageChange = tuple[str, str, Any]


@dataclass(frozen=True)
class ImageChanges:
    """What an update changes: base attributes (``...`` leaves one as it is), custom properties to
    set (``properties``) and to remove (``removed``)."""

    name: Any = ...
    protected: Any = ...
    visibility: Any = ...
    tags: Any = ...
    owner: Any = ...
    properties: dict[str, str] | None = None
    removed: list[str] | None = None

    def patch(self) -> list[ImageChange]:
        """The changes as JSON-patch operations."""
        base = (
            ("name", self.name),
            ("protected", self.protected),
            ("visibility", self.visibility),
            ("tags", self.tags),
            ("owner", self.owner),
        )
        ops: list[ImageChange] = [("replace", key, value) for key, value in base if value is not ...]
        ops += [("remove", key, None) for key in self.removed or ()]
        ops += [("add", key, value) for key, value in (self.properties or {}).items()]
        return ops


@dataclass(frozen=True)
class NewImage:
    """An image to make (``queued``, no data yet): its base attributes and custom properties."""

    name: str | None = None
    disk_format: str | None = None
    container_format: str | None = None
    visibility: str | None = None
    min_disk: int = 0
    min_ram: int = 0
    protected: bool = False
    tags: list[str] = field(default_factory=list)
    id: str | None = None
    owner: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    #: a URL to import the data from at once (the ``web-download`` method)
    web_download: str | None = None

    def attributes(self) -> dict[str, Any]:
        """The attributes as a create body holds them (base attributes and properties side by side)."""
        base = {
            "name": self.name,
            "disk_format": self.disk_format,
            "container_format": self.container_format,
            "min_disk": self.min_disk,
            "min_ram": self.min_ram,
            "protected": self.protected,
            "tags": list(self.tags),
        }
        extra = {k: v for k, v in (("visibility", self.visibility), ("id", self.id), ("owner", self.owner)) if v}
        return {**self.properties, **base, **extra}


class Images:
    def __init__(self, store: Store, lifecycle: Lifecycle, data_dir: Path) -> None:
        self.store = store
        self.lifecycle = lifecycle
        self.files = ImageFiles(data_dir)
        self.records = ImageRecords(store, lifecycle, self.files)
        self.members = Members(self.records)
        self.records.members = self.members
        self.imports = Imports(self.records)
        self.tasks = Tasks(self.records)
        self.metadefs = Metadefs(store)

    #: every kind the Image service keeps
    KINDS = ("image", "image_member", TASK, *metadefs.KINDS)

    def recover(self) -> None:
        """Every start: uploads a crash cut off go back to ``queued``, imports without a job fail;
        text an older stacksim stored with lone surrogates is mended (U+FFFD), so lists work."""
        toolkit.mend_records(self.store, self.KINDS)
        self.records.recover()
        self.imports.recover()
        self.metadefs.seed()

    # -- for other services (Nova, Cinder, Heat) -----------------------------------------------------

    def get(self, ctx: Context, image_id: str) -> dict[str, Any]:
        """The image if ``ctx`` may see it; ``NotFound("No image found with ID <id>")`` otherwise."""
        return self.records.get(ctx, image_id)

    def record(self, image_id: str) -> dict[str, Any] | None:
        """The image whoever asks, None if there is none (for the simulator's own bookkeeping)."""
        return self.records.record(image_id)

    def visible(self, ctx: Context, image: dict[str, Any]) -> bool:
        """May ``ctx`` see this image record (Glance's rules, its membership read now)?"""
        return self.records.visible(ctx, image)

    def path(self, image_id: str) -> Path:
        """The image's data file (it exists once the image is active)."""
        return self.records.path(image_id)

    def named(self, ctx: Context, name: str) -> list[dict[str, Any]]:
        """Every image called ``name`` that ``ctx`` may see (any visibility, any member status)."""
        return [i for i in self.records.listable(ctx, "all", "all") if i.get("name") == name]

    def listable(self, ctx: Context, visibility: str | None, member_status: str) -> list[dict[str, Any]]:
        """The images a list of ``ctx`` starts from (Glance's visibility rules; see :meth:`named`)."""
        return self.records.listable(ctx, visibility, member_status)

    def view(self, ctx: Context, image_id: str) -> dict[str, Any]:
        """The image as ``GET /v2/images/<id>`` shows it to ``ctx`` (``NotFound`` if it may not see it)."""
        return views.image(self.records.get(ctx, image_id))

    def create_image(self, who: Context | str, request: NewImage) -> dict[str, Any]:
        """A new ``queued`` image: ``who`` is the caller (Glance's checks and policy apply) or an owner
        project id (the simulator's own images). ``BadRequest``/``Forbidden``/``Conflict`` as the API.

        With ``web_download`` (and a caller), its ``web-download`` import starts at once: the image is
        ``importing``, then ``active`` or back to ``queued`` (see :meth:`import_failure`).
        """
        image = self.records.create(who, **request.attributes())
        if request.web_download is not None:
            if not isinstance(who, Context):
                raise TypeError("a web-download import needs the caller's context")
            self.web_import(who, image["id"], request.web_download)
            image = self.records.find(image["id"])
        return image

    def create(self, who: Context | str, /, **attrs: Any) -> dict[str, Any]:
        """:meth:`create_image` with the attributes a create body holds, as keywords."""
        return self.records.create(who, **attrs)

    def change_image(self, ctx: Context, image_id: str, changes: ImageChanges) -> dict[str, Any]:
        """:meth:`update` with typed changes."""
        return self.update(ctx, image_id, changes.patch())

    def update(self, ctx: Context, image_id: str, changes: list[ImageChange]) -> dict[str, Any]:
        """Apply ``changes`` (checked as a PATCH's) as ``ctx``: 403 unless it owns the image."""
        for op, key, value in changes:
            if op != "remove":
                schemas.check_image({key: value})
        return self.records.update(ctx, image_id, changes)

    def delete(self, ctx: Context, image_id: str) -> None:
        """Delete the image as ``ctx`` (403 if protected or not its own)."""
        self.records.delete(ctx, image_id)

    def store_data(self, image_id: str, chunks: Iterable[bytes]) -> dict[str, Any]:
        """Write a ``queued`` image's data (no policy check): ``saving`` -> ``active``."""
        return self.records.store_data(image_id, chunks)

    def import_file(self, image_id: str, src_path: str | Path) -> dict[str, Any]:
        """Copy a file (a snapshot, a volume) in as a ``queued`` image's data; the source stays."""
        return self.records.import_file(image_id, src_path)

    def delete_failed(self, image_id: str) -> None:
        """Drop an image whose making failed, whatever its state (no policy check)."""
        self.records.delete_failed(image_id)

    def set_attributes(self, image_id: str, **attrs: Any) -> dict[str, Any]:
        """Set base attributes or custom properties directly (None removes a property; no checks)."""
        return self.records.set_attributes(image_id, **attrs)

    def web_import(self, ctx: Context, image_id: str, uri: str) -> dict[str, Any]:
        """Start a ``web-download`` import of ``uri`` into a ``queued`` image; returns its task."""
        return self.imports.start(ctx, image_id, {"method": {"name": "web-download", "uri": uri}})

    def import_failure(self, image_id: str) -> str | None:
        """Why the image's last import failed, or None while none has (it may still be running)."""
        record = self.records.record(image_id)
        if record is None:
            raise faults.NotFound(f"No image found with ID {image_id}")
        failed = record["status"] in ("killed", "deleted") or (
            record["status"] == "queued" and record["properties"].get("os_glance_failed_import")
        )
        if not failed:
            return None
        tasks = sorted(self.store.find(TASK, image_id=image_id), key=lambda t: t["created_at"])
        return (tasks[-1].get("message") if tasks else "") or "the import failed"

    @staticmethod
    def is_custom_property(key: str) -> bool:
        """May ``key`` be an image's custom property (not a base, read-only or reserved attribute)?"""
        return (
            key not in schemas.BASE
            and key not in schemas.READ_ONLY
            and key not in schemas.DISALLOWED
            and not schemas.is_reserved(key)
        )
