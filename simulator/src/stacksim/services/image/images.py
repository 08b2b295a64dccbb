"""Images: the records and their rules (Glance's): status, create, update, delete, tags, data.

An image is a record of kind ``image`` (its custom properties under
``properties``); its data is a file (see :mod:`.data`). Statuses move as in
Glance: ``queued`` -> ``saving`` -> ``active`` for an upload, ``queued`` ->
``uploading`` (staged) -> ``importing`` -> ``active`` for an import, and
``active`` <-> ``deactivated``; a failed upload or import puts the image back
to ``queued``. Who may see an image follows Glance's visibility rules, with
sharing in :mod:`.members`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stacksim import faults
from stacksim.auth import Context
from stacksim.lifecycle import Lifecycle
from stacksim.services.image import schemas
from stacksim.services.image.data import CHUNK, HASH_ALGO, ImageFiles, Written
from stacksim.services.image.imports import IMPORT_JOB, STORE_ID, TASK, denied
from stacksim.store import Store
from stacksim.toolkit import timestamp

if TYPE_CHECKING:
    from stacksim.services.image.members import Members

KIND = "image"
#: Glance's allowed status transitions.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "queued": ("saving", "uploading", "importing", "active", "deleted"),
    "saving": ("active", "killed", "deleted", "queued"),
    "uploading": ("importing", "queued", "deleted"),
    "importing": ("active", "deleted", "queued"),
    "active": ("pending_delete", "deleted", "deactivated"),
    "killed": ("deleted",),
    "pending_delete": ("deleted", "active"),
    "deleted": (),
    "deactivated": ("active", "deleted"),
}
#: Properties Glance keeps to itself and never shows.
HIDDEN_PROPERTIES = ("os_glance_stage_host",)


def _now() -> str:
    return timestamp(micro=True)


def may_write(ctx: Context) -> bool:
    """Glance's writes (and downloads) need the ``member`` role (or ``admin``): a ``reader`` only looks."""
    return ctx.is_admin or "member" in ctx.roles


def flat(rec: dict[str, Any]) -> dict[str, Any]:
    """An image as Glance shows it, without links: custom properties at the top level."""
    body = {k: v for k, v in rec.get("properties", {}).items() if k not in HIDDEN_PROPERTIES}
    for key in schemas.BASE:
        body[key] = rec.get(key)
    body["tags"] = list(rec.get("tags", []))
    if rec["status"] in ("active", "deactivated"):
        body["stores"] = STORE_ID
    return body


class ImageRecords:
    def __init__(self, store: Store, lifecycle: Lifecycle, files: ImageFiles) -> None:
        self.store = store
        self.lifecycle = lifecycle
        self.files = files
        #: set by the facade: who is a member of a shared image
        self.members: Members | None = None

    @staticmethod
    def now() -> str:
        return _now()

    # -- lookups --------------------------------------------------------------------------

    def record(self, image_id: str) -> dict[str, Any] | None:
        return self.store.get(KIND, image_id)

    def find(self, image_id: str) -> dict[str, Any]:
        """An image whoever asks (for the simulator's own use)."""
        rec = self.record(image_id)
        if rec is None:
            raise faults.NotFound(f"No image found with ID {image_id}")
        return rec

    def visible(self, ctx: Context, rec: dict[str, Any]) -> bool:
        """Glance's ``is_image_visible``: a member sees a shared image whatever its member status."""
        if ctx.is_admin or rec["visibility"] in ("public", "community"):
            return True
        if ctx.project_id is None:
            return False
        if rec["owner"] == ctx.project_id:
            return True
        assert self.members is not None
        return rec["visibility"] == "shared" and self.members.is_member(rec["id"], ctx.project_id)

    def get(self, ctx: Context, image_id: str) -> dict[str, Any]:
        """The image, if the caller may see it (else 404, never 403)."""
        rec = self.record(image_id)
        if rec is None or not self.visible(ctx, rec):
            raise faults.NotFound(f"No image found with ID {image_id}")
        return rec

    def path(self, image_id: str) -> Path:
        """The image's data file (it exists once the image is active)."""
        return self.files.path(image_id)

    def owns(self, ctx: Context, rec: dict[str, Any]) -> bool:
        return ctx.is_admin or (ctx.project_id is not None and rec["owner"] == ctx.project_id)

    def mutable(self, ctx: Context, image_id: str, action: str) -> dict[str, Any]:
        """The image, if ``ctx`` may change it: an admin, or a ``member`` of its owner (not a reader)."""
        rec = self.get(ctx, image_id)
        if not self.owns(ctx, rec) or not may_write(ctx):
            raise denied(action)
        return rec

    def listable(self, ctx: Context, visibility: str | None, member_status: str) -> list[dict[str, Any]]:
        """The images a list call starts from, oldest first (Glance's list visibility rules).

        Without a ``visibility`` filter, community images are listed only to their
        owner; a shared image is listed to a member whose status matches
        ``member_status`` (``all`` for any).
        """
        assert self.members is not None
        shared_with = {} if ctx.is_admin else self.members.status_of(ctx.project_id)
        found = []
        for rec in self.store.find(KIND):
            mine = ctx.project_id is not None and rec["owner"] == ctx.project_id
            vis = rec["visibility"]
            if visibility in (None, "") and vis == "community" and not mine:
                continue
            if visibility not in (None, "", "all") and vis != visibility:
                continue
            if not (ctx.is_admin or mine or vis in ("public", "community")):
                status = shared_with.get(rec["id"])
                if vis != "shared" or status is None or member_status not in ("all", status):
                    continue
            found.append(rec)
        return found

    # -- status -----------------------------------------------------------------------------

    def move(self, rec: dict[str, Any], status: str) -> None:
        current = rec["status"]
        if status not in TRANSITIONS.get(current, ()):
            raise faults.Conflict(f"Image status transition from {current} to {status} is not allowed")
        if current in ("queued", "uploading") and status in ("saving", "active", "importing"):
            missing = [k for k in ("disk_format", "container_format") if not rec.get(k)]
            if len(missing) == 1:
                raise faults.BadRequest(f"Property {missing[0]} must be set prior to saving data.")
            if missing:
                raise faults.BadRequest(f"Properties {', '.join(missing)} must be set prior to saving data.")
        if status == "queued":
            rec.update(size=None, virtual_size=None)
        rec["status"] = status
        rec["updated_at"] = _now()

    def save(self, rec: dict[str, Any]) -> dict[str, Any]:
        return self.store.put(KIND, rec)

    # -- create, update, delete ---------------------------------------------------------------

    def create(self, who: Context | str, /, **attrs: Any) -> dict[str, Any]:
        """A new ``queued`` image; ``who`` is the caller, or an owner project id for internal use.

        ``attrs`` are what a create body holds: base attributes and custom
        properties side by side, checked as Glance checks them.
        """
        for key in schemas.DISALLOWED:
            if key in attrs:
                raise schemas.read_only(key)
        schemas.check_image(attrs)
        for key in schemas.READ_ONLY:
            if key in attrs and key != "id":
                raise schemas.read_only(key)
        tags = attrs.pop("tags", None) or []
        base = {k: attrs.pop(k) for k in list(attrs) if k in schemas.BASE}
        for key in attrs:
            if len(key) > 255:
                raise faults.BadRequest("Custom property should not be greater than 255 characters.")
            if schemas.is_reserved(key):
                raise schemas.reserved(key)
        if isinstance(who, Context):
            if not may_write(who):
                raise denied("add_image")
            owner = base.get("owner", who.project_id)
            if not who.is_admin and owner != who.project_id:
                raise faults.Forbidden(f"You are not permitted to create images owned by '{owner}'.")
            if base.get("visibility") == "public" and not who.is_admin:
                raise denied("publicize_image")
        else:
            owner = base.get("owner", who)
        for key in ("min_disk", "min_ram"):
            if (base.get(key) or 0) < 0:
                raise faults.BadRequest(
                    f"Invalid value '{base[key]}' for parameter '{key}': Cannot be a negative value"
                )
        image_id = base.get("id") or str(uuid.uuid4())
        now = _now()
        rec = {
            "id": image_id,
            "name": base.get("name"),
            "status": "queued",
            "visibility": base.get("visibility") or "shared",
            "protected": bool(base.get("protected", False)),
            "os_hidden": bool(base.get("os_hidden", False)),
            "owner": owner,
            "disk_format": base.get("disk_format"),
            "container_format": base.get("container_format"),
            "min_disk": base.get("min_disk") or 0,
            "min_ram": base.get("min_ram") or 0,
            "size": None,
            "virtual_size": None,
            "checksum": None,
            "os_hash_algo": None,
            "os_hash_value": None,
            "tags": sorted(set(tags)),
            "properties": dict(attrs),
            "created_at": now,
            "updated_at": now,
        }
        with self.store.transaction():
            if self.record(image_id) is not None:
                raise faults.Conflict(f"Image with identifier {image_id} already exists!")
            return self.save(rec)

    def update(self, ctx: Context, image_id: str, changes: list[tuple[str, str, Any]]) -> dict[str, Any]:
        """Apply JSON-patch changes ``(op, attribute, value)`` (already parsed and checked)."""
        with self.store.transaction():
            rec = self.mutable(ctx, image_id, "modify_image")
            for op, key, value in changes:
                if op == "remove":
                    self._remove(rec, key)
                else:
                    self._set(ctx, rec, key, value, must_exist=op == "replace")
            if changes:
                rec["updated_at"] = _now()
                self.save(rec)
            return rec

    def _set(self, ctx: Context, rec: dict[str, Any], key: str, value: Any, must_exist: bool) -> None:
        if key == "locations":
            raise faults.Forbidden("It's not allowed to update locations if locations are invisible.")
        if key == "owner" and not ctx.is_admin:
            raise faults.Forbidden("Owner can't be updated by non admin.")
        if key == "visibility" and value == "public" and not ctx.is_admin:
            raise denied("publicize_image")
        if key in ("disk_format", "container_format") and rec["status"] not in ("queued", "importing"):
            raise faults.Forbidden(f"Attribute {key} can be only replaced for a queued image.")
        if key in ("min_disk", "min_ram") and (value or 0) < 0:
            raise faults.BadRequest(f"Invalid value '{value}' for parameter '{key}': Cannot be a negative value")
        if key in schemas.BASE:
            rec[key] = sorted(set(value)) if key == "tags" else value
        elif key in rec["properties"] or not must_exist:
            rec["properties"][key] = value
        else:
            raise faults.Conflict(f"Property {key} does not exist.")

    def _remove(self, rec: dict[str, Any], key: str) -> None:
        if key == "locations":
            raise faults.Forbidden("It's not allowed to remove locations if locations are invisible.")
        if key in schemas.BASE:
            raise faults.Forbidden(f"Property {key} may not be removed.")
        if key not in rec["properties"]:
            raise faults.Conflict(f"Property {key} does not exist.")
        del rec["properties"][key]

    def set_attributes(self, image_id: str, **attrs: Any) -> dict[str, Any]:
        """Set base attributes or custom properties directly (for the simulator's own use)."""
        with self.store.transaction():
            rec = self.find(image_id)
            for key, value in attrs.items():
                if key in schemas.BASE:
                    rec[key] = value
                elif value is None:
                    rec["properties"].pop(key, None)
                else:
                    rec["properties"][key] = value
            rec["updated_at"] = _now()
            return self.save(rec)

    def delete(self, ctx: Context, image_id: str) -> None:
        with self.store.transaction():
            rec = self.mutable(ctx, image_id, "delete_image")
            if rec["protected"]:
                raise faults.Forbidden(f"Image {image_id} is protected and cannot be deleted.")
            self._purge(image_id)

    def delete_failed(self, image_id: str) -> None:
        """Drop an image whose making failed (a snapshot that could not be taken): no checks."""
        with self.store.transaction():
            self._purge(image_id)

    def _purge(self, image_id: str) -> None:
        self.store.delete(KIND, image_id)
        assert self.members is not None
        self.members.drop_image(image_id)
        self.store.delete_where(TASK, image_id=image_id)
        self.lifecycle.cancel(image_id, IMPORT_JOB)
        self.files.remove(image_id)

    # -- tags and actions -----------------------------------------------------------------------

    def add_tag(self, ctx: Context, image_id: str, tag: str) -> None:
        schemas.check_text({"tags": tag})
        if len(tag) > 255:
            raise faults.BadRequest(
                f"Provided object does not match schema 'image': '{tag}' is too long\n\n"
                "Failed validating 'maxLength' in schema['properties']['tags']['items']"
            )
        with self.store.transaction():
            rec = self.mutable(ctx, image_id, "modify_image")
            if tag not in rec["tags"]:
                rec["tags"] = sorted({*rec["tags"], tag})
                rec["updated_at"] = _now()
                self.save(rec)

    def remove_tag(self, ctx: Context, image_id: str, tag: str) -> None:
        with self.store.transaction():
            rec = self.mutable(ctx, image_id, "modify_image")
            if tag not in rec["tags"]:
                raise faults.NotFound("The resource could not be found.")
            rec["tags"] = [t for t in rec["tags"] if t != tag]
            rec["updated_at"] = _now()
            self.save(rec)

    def deactivate(self, ctx: Context, image_id: str) -> None:
        self._toggle(ctx, image_id, "deactivate", "active", "deactivated")

    def reactivate(self, ctx: Context, image_id: str) -> None:
        self._toggle(ctx, image_id, "reactivate", "deactivated", "active")

    def _toggle(self, ctx: Context, image_id: str, action: str, source: str, target: str) -> None:
        with self.store.transaction():
            rec = self.mutable(ctx, image_id, action)  # Glance's default: admin or the owner's member
            if rec["status"] == target:
                return
            if rec["status"] != source:
                raise faults.Forbidden(f"Not allowed to {action} image in status '{rec['status']}'")
            self.move(rec, target)
            self.save(rec)

    # -- data: upload, download, Python-side writes -----------------------------------------------

    def begin_upload(self, ctx: Context, image_id: str) -> dict[str, Any]:
        """Check an upload may start and move the image to ``saving``."""
        with self.store.transaction():
            rec = self.mutable(ctx, image_id, "upload_image")
            self.move(rec, "saving")
            return self.save(rec)

    def finish_upload(self, image_id: str, written: Written) -> dict[str, Any]:
        """The data is in place: the image becomes ``active`` (410 if it was deleted meanwhile)."""
        with self.store.transaction():
            rec = self.record(image_id)
            if rec is None or rec["status"] != "saving":
                self.files.remove(image_id)
                raise faults.ApiError(
                    f"Image {image_id} could not be found after upload. The image may have been deleted "
                    "during the upload, cleaning up the chunks uploaded.",
                    status=410,
                )
            self.activate(rec, written)
            return self.save(rec)

    def abort_upload(self, image_id: str) -> None:
        """An upload failed: back to ``queued``, as Glance restores it."""
        with self.store.transaction():
            rec = self.record(image_id)
            if rec is not None and rec["status"] == "saving":
                self.move(rec, "queued")
                self.save(rec)

    def activate(self, rec: dict[str, Any], written: Written) -> None:
        self.move(rec, "active")
        vsize = written.virtual_size
        if vsize is None and rec.get("disk_format") == "raw":
            vsize = written.size
        rec.update(
            size=written.size,
            virtual_size=vsize,
            checksum=written.checksum,
            os_hash_algo=HASH_ALGO,
            os_hash_value=written.os_hash_value,
        )

    def store_data(self, image_id: str, chunks: Iterable[bytes]) -> dict[str, Any]:
        """Write an image's data from Python (no policy check): ``queued`` -> ``saving`` -> ``active``."""
        with self.store.transaction():
            rec = self.find(image_id)
            self.move(rec, "saving")
            self.save(rec)
        try:
            written = self.files.write_chunks(self.path(image_id), chunks)
        except BaseException:
            self.abort_upload(image_id)
            raise
        return self.finish_upload(image_id, written)

    def import_file(self, image_id: str, src_path: str | Path) -> dict[str, Any]:
        """Copy a file (a snapshot) in as an image's data; the source is left alone."""
        with open(src_path, "rb") as fh:
            return self.store_data(image_id, iter(lambda: fh.read(CHUNK), b""))

    def download(self, ctx: Context, image_id: str) -> dict[str, Any] | None:
        """The image whose data the caller may read; None if it has no data (Glance's 204)."""
        rec = self.get(ctx, image_id)
        if not may_write(ctx):
            raise denied("download_image")
        if rec["status"] == "deactivated" and not ctx.is_admin:
            raise faults.Forbidden("The requested image has been deactivated. Image data download is forbidden.")
        if rec["status"] not in ("active", "deactivated") or not self.files.exists(image_id):
            return None
        return rec

    # -- restart -------------------------------------------------------------------------------------

    def recover(self) -> None:
        """After a restart: uploads cut off go back to ``queued``."""
        self.files.clear_tmp()
        for rec in self.store.find(KIND, status="saving"):
            self.abort_upload(rec["id"])

    def usage(self, ctx: Context) -> dict[str, Any]:
        mine = [r for r in self.store.find(KIND) if r["owner"] == ctx.project_id]
        size = sum(r.get("size") or 0 for r in mine if r["status"] in ("active", "deactivated"))
        staged = sum(r.get("size") or 0 for r in mine if r["status"] == "uploading")
        uploading = sum(1 for r in mine if r["status"] in ("saving", "uploading", "importing"))
        return {
            "image_size_total": {"usage": size // (1 << 20), "limit": -1},
            "image_stage_total": {"usage": staged // (1 << 20), "limit": -1},
            "image_count_total": {"usage": len(mine), "limit": -1},
            "image_count_uploading": {"usage": uploading, "limit": -1},
        }
