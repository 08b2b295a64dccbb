"""The interoperable image import: staging, ``glance-direct`` and ``web-download``.

``PUT /v2/images/{id}/stage`` puts the data aside (status ``uploading``);
``POST /v2/images/{id}/import`` checks the request as Glance does, marks the
image ``importing`` (with Glance's ``os_glance_*`` bookkeeping properties) and
schedules a lifecycle job, so a restart resumes it. The job moves the staged
data into place, or downloads the URL (http and https only, redirects
included) streaming it to disk. Whatever fails, the import fails cleanly: the
image goes back to ``queued`` with ``os_glance_failed_import`` set, and no
partial data is left.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import TYPE_CHECKING, Any

from stacksim import faults
from stacksim.auth import Context
from stacksim.services.image.data import CHUNK, Written

if TYPE_CHECKING:
    from stacksim.services.image.images import ImageRecords

log = logging.getLogger("stacksim.image")

TASK = "image_task"
IMPORT_JOB = "image.import"
#: The one store images live in (reported as Glance's ``enabled_backends``).
STORE_ID = "local"
IMPORT_METHODS = ("glance-direct", "web-download")
WEB_DOWNLOAD_TIMEOUT = 60.0


def denied(action: str) -> faults.Forbidden:
    """Glance's message when its policy refuses ``action``."""
    return faults.Forbidden(f"You are not authorized to complete {action} action.")


class Imports:
    def __init__(self, images: ImageRecords) -> None:
        self.images = images
        self.store = images.store
        self.files = images.files
        self.lifecycle = images.lifecycle
        self.lifecycle.register(IMPORT_JOB, self._run)

    def begin_stage(self, ctx: Context, image_id: str) -> dict[str, Any]:
        with self.store.transaction():
            rec = self.images.mutable(ctx, image_id, "modify_image")
            self.images.move(rec, "uploading")
            return self.images.save(rec)

    def finish_stage(self, image_id: str, written: Written) -> dict[str, Any]:
        with self.store.transaction():
            rec = self.images.record(image_id)
            if rec is None or rec["status"] != "uploading":
                self.files.remove(image_id)
                raise faults.NotFound(f"No image found with ID {image_id}")
            rec["size"] = written.size
            rec["staged"] = {
                "size": written.size,
                "checksum": written.checksum,
                "os_hash_value": written.os_hash_value,
                "virtual_size": written.virtual_size,
            }
            rec["updated_at"] = self.images.now()
            return self.images.save(rec)

    def abort_stage(self, image_id: str) -> None:
        self.files.staged(image_id).unlink(missing_ok=True)
        with self.store.transaction():
            rec = self.images.record(image_id)
            if rec is not None and rec["status"] == "uploading":
                self.images.move(rec, "queued")
                rec.pop("staged", None)
                self.images.save(rec)

    def start(self, ctx: Context, image_id: str, body: Any) -> dict[str, Any]:
        """Check an import request as Glance does and schedule it; returns the task."""
        method, uri, stores = _import_request(body)
        with self.store.transaction():
            rec = self.images.get(ctx, image_id)
            status = rec["status"]
            if status == "active":
                raise faults.Conflict("Image with status active cannot be target for import")
            if method == "web-download" and status != "queued":
                raise faults.Conflict(f"Image needs to be in 'queued' state to use '{method}' method")
            if method == "glance-direct" and status != "uploading":
                raise faults.Conflict("Image needs to be staged before 'glance-direct' method can be used")
            for key in ("container_format", "disk_format"):
                if not rec.get(key):
                    raise faults.Conflict(f"'{key}' needs to be set before import")
            if not self.images.owns(ctx, rec):
                raise denied("modify_image")
            if "os_glance_import_task" in rec["properties"]:
                raise faults.Conflict("Image has active task")
            for store_id in stores:
                if store_id != STORE_ID:
                    raise faults.Conflict(f"Unknown scheme '{store_id}' found in URI")
            if method == "web-download" and not allowed_uri(uri):
                raise faults.BadRequest(f"URI for web-download does not pass filtering: {uri}")
            now = self.images.now()
            task = {
                "id": str(uuid.uuid4()),
                "type": "api_image_import",
                "status": "pending",
                "owner": ctx.project_id,
                "image_id": image_id,
                "user_id": ctx.user_id,
                "request_id": None,
                "input": {"image_id": image_id, "import_req": body, "backend": [STORE_ID]},
                "result": None,
                "message": "",
                "created_at": now,
                "updated_at": now,
                "expires_at": None,
            }
            self.store.put(TASK, task)
            self.images.move(rec, "importing")
            rec["properties"].update(
                os_glance_import_task=task["id"],
                os_glance_importing_to_stores=STORE_ID,
                os_glance_failed_import="",
            )
            self.images.save(rec)
        # No artificial delay: the import takes as long as its work (a rename, a download).
        self.lifecycle.schedule(IMPORT_JOB, image_id, delay=0, task_id=task["id"], method=method, uri=uri)
        return task

    def _run(self, job: dict[str, Any]) -> None:
        """The import job (in a worker thread): move the staged data in, or download it."""
        image_id, args = job["target"], job["args"]
        task_id = args["task_id"]
        rec = self.images.record(image_id)
        if rec is None or rec["properties"].get("os_glance_import_task") != task_id:
            self.files.staged(image_id).unlink(missing_ok=True)
            return
        self._task(task_id, status="processing")
        try:
            if args["method"] == "glance-direct":
                staged = rec.get("staged")
                source = self.files.staged(image_id)
                if not staged or not source.is_file():
                    raise RuntimeError(f"The staged data of image {image_id} is missing")
                written = Written(staged["size"], staged["checksum"], staged["os_hash_value"], staged["virtual_size"])
                self.files.adopt(source, self.images.path(image_id))
            else:
                written = self._download(image_id, args["uri"])
        except Exception as exc:  # the import fails cleanly, whatever went wrong
            log.info("import of image %s failed: %s", image_id, exc)
            self._import_failed(image_id, task_id, str(exc))
            return
        with self.store.transaction():
            rec = self.images.record(image_id)
            if rec is None or rec["properties"].get("os_glance_import_task") != task_id:
                self.files.remove(image_id)  # deleted (or taken over) meanwhile
                return
            rec.pop("staged", None)
            self.images.activate(rec, written)
            rec["properties"]["os_glance_importing_to_stores"] = ""
            rec["properties"].pop("os_glance_import_task", None)
            self.images.save(rec)
            self._task(task_id, status="success", result={"image_id": image_id})

    def _download(self, image_id: str, uri: str) -> Written:
        with open_url(uri) as resp:
            return self.files.write_chunks(self.images.path(image_id), iter(lambda: resp.read(CHUNK), b""))

    def _import_failed(self, image_id: str, task_id: str, message: str) -> None:
        self.files.staged(image_id).unlink(missing_ok=True)
        with self.store.transaction():
            self._task(task_id, status="failure", message=message)
            rec = self.images.record(image_id)
            if rec is None or rec["properties"].get("os_glance_import_task") != task_id:
                return
            if rec["status"] == "importing":
                self.images.move(rec, "queued")
            rec.pop("staged", None)
            rec["properties"].update(os_glance_importing_to_stores="", os_glance_failed_import=STORE_ID)
            rec["properties"].pop("os_glance_import_task", None)
            self.images.save(rec)

    def _task(self, task_id: str, **changes: Any) -> None:
        task = self.store.get(TASK, task_id)
        if task is not None:
            task.update(changes, updated_at=self.images.now())
            self.store.put(TASK, task)

    def recover(self) -> None:
        """After a restart: an import whose job is gone (it cannot resume) fails."""
        pending = {job["target"] for job in self.lifecycle.pending() if job["action"] == IMPORT_JOB}
        for rec in self.store.find("image", status="importing"):
            task_id = rec["properties"].get("os_glance_import_task")
            if rec["id"] not in pending and task_id:
                self._import_failed(rec["id"], task_id, "The import was interrupted by a restart.")


def open_url(uri: str) -> Any:
    """The response to a GET of ``uri`` (http or https, redirects only to those), with a timeout."""
    opener = urllib.request.build_opener(_HttpOnlyRedirects)
    request = urllib.request.Request(uri, headers={"User-Agent": "stacksim-glance/web-download"})
    return opener.open(request, timeout=WEB_DOWNLOAD_TIMEOUT)


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to http(s) URLs (never to ``file:`` or ``ftp:``)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if not allowed_uri(newurl):
            raise urllib.error.HTTPError(newurl, code, f"redirect to a disallowed URI: {newurl}", headers, fp)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def allowed_uri(uri: Any) -> bool:
    """Glance's web-download filter, with its default schemes (any port: this is a simulator)."""
    if not isinstance(uri, str):
        return False
    parts = urllib.parse.urlsplit(uri)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _import_request(body: Any) -> tuple[str, Any, list[str]]:
    """``(method, uri, stores)`` from an import body, checked as Glance checks it."""
    if not isinstance(body, dict) or "method" not in body:
        raise faults.BadRequest("Import request requires a 'method' field.")
    method = body["method"]
    if not isinstance(method, dict) or "name" not in method:
        raise faults.BadRequest("Import request requires a 'name' field.")
    name = method["name"]
    if name not in IMPORT_METHODS:
        raise faults.BadRequest(f"Unknown import method name '{name}'.")
    for flag in ("all_stores_must_succeed", "all_stores"):
        if flag in body and not isinstance(body[flag], bool):
            raise faults.BadRequest(f"'{flag}' must be boolean value only")
    stores = body.get("stores") or []
    if not isinstance(stores, list):
        raise faults.BadRequest("'stores' must be a list of store identifiers")
    return name, method.get("uri"), [str(s) for s in stores]
