"""The tasks API (``/v2/tasks``): the tasks of image imports, and Glance's legacy ``import`` task.

Glance's default policy (``tasks_api_access``) keeps the API to admins; an
image's own tasks are listed at ``/v2/images/{id}/tasks`` to whoever sees the
image. ``POST /v2/tasks`` with type ``import`` makes an image from
``input.image_properties`` and fills it from ``input.import_from`` (an http or
https URL) in a lifecycle job: the task goes ``pending`` -> ``processing`` ->
``success`` (``result.image_id``) or ``failure`` (with a ``message``; the
image made for it is deleted, the task stays). A finished task expires 48 hours later, as
Glance's ``task_time_to_live``.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from stacksim import clock, faults, toolkit
from stacksim.auth import Context
from stacksim.services.image import imports
from stacksim.services.image.data import CHUNK
from stacksim.services.image.imports import TASK, denied

if TYPE_CHECKING:
    from stacksim.services.image.images import ImageRecords

log = logging.getLogger("stacksim.image")

TASK_JOB = "image.task"
TYPES = ("import", "api_image_import", "location_import")
TIME_TO_LIVE = timedelta(hours=48)


def _require_access(ctx: Context) -> None:
    if not ctx.is_admin:
        raise denied("tasks_api_access")


class Tasks:
    def __init__(self, records: ImageRecords) -> None:
        self.records = records
        self.store = records.store
        self.lifecycle = records.lifecycle
        self.lifecycle.register(TASK_JOB, self._run)

    # -- reading ---------------------------------------------------------------------------------

    def of_image(self, ctx: Context, image_id: str) -> list[dict[str, Any]]:
        """An image's tasks (2.12), for whoever may see the image."""
        self.records.get(ctx, image_id)
        return self.store.find(TASK, image_id=image_id)

    def list(self, ctx: Context, status: str | None = None, type_: str | None = None) -> list[dict[str, Any]]:
        _require_access(ctx)
        found = self.store.find(TASK)
        if status:
            found = [t for t in found if t["status"] == status]
        if type_:
            found = [t for t in found if t["type"] == type_]
        return sorted(found, key=lambda t: (t["created_at"], t["id"]), reverse=True)

    def get(self, ctx: Context, task_id: str) -> dict[str, Any]:
        _require_access(ctx)
        task = self.store.get(TASK, task_id)
        if task is None:
            raise faults.NotFound(f"Task with the given id {task_id} was not found")
        return task

    # -- the legacy import task ---------------------------------------------------------------------

    def create(self, ctx: Context, type_: Any, task_input: Any) -> dict[str, Any]:
        """A new task (``pending``): only ``import`` runs; its input is checked as Glance checks it."""
        _require_access(ctx)
        if type_ not in TYPES:
            raise faults.BadRequest(
                f"Provided object does not match schema 'task': {toolkit.printable(repr(type_))} is not one of "
                f"{list(TYPES)!r}"
            )
        if type_ != "import":
            raise faults.BadRequest(f"Task type {type_} is run by Glance itself and cannot be created.")
        uri, properties = _import_input(task_input)
        now = self.records.now()
        task = self.store.put(
            TASK,
            {
                "id": toolkit.new_id(),
                "type": "import",
                "status": "pending",
                "owner": ctx.project_id,
                "image_id": None,
                "user_id": ctx.user_id,
                "request_id": None,
                "input": task_input,
                "result": None,
                "message": "",
                "created_at": now,
                "updated_at": now,
                "expires_at": None,
            },
        )
        self.lifecycle.schedule(TASK_JOB, task["id"], delay=0, uri=uri, properties=properties, owner=ctx.project_id)
        return task

    def _run(self, job: dict[str, Any]) -> None:
        """Make the image and download its data (in a worker thread); the task says how it went."""
        task_id, args = job["target"], job["args"]
        if self.store.get(TASK, task_id) is None:
            return
        self._update(task_id, status="processing")
        image_id = None
        try:
            image = self.records.create(args["owner"], **args["properties"])
            image_id = image["id"]
            with imports.open_url(args["uri"]) as resp:
                self.records.store_data(image_id, iter(lambda: resp.read(CHUNK), b""))
        except Exception as exc:  # the task fails cleanly, whatever went wrong
            log.info("import task %s failed: %s", task_id, exc)
            if image_id is not None and self.records.record(image_id) is not None:
                self.records.delete_failed(image_id)
            message = exc.message if isinstance(exc, faults.ApiError) else str(exc)
            self._update(task_id, status="failure", message=message, expires_at=self._expiry())
            return
        self._update(
            task_id, status="success", image_id=image_id, result={"image_id": image_id}, expires_at=self._expiry()
        )

    @staticmethod
    def _expiry() -> str:
        return clock.iso(clock.now() + TIME_TO_LIVE, micro=True)

    def _update(self, task_id: str, **changes: Any) -> None:
        with self.store.transaction():
            task = self.store.get(TASK, task_id)
            if task is not None:
                task.update(changes, updated_at=self.records.now())
                self.store.put(TASK, task)


def _import_input(task_input: Any) -> tuple[str, dict[str, Any]]:
    """``(import_from, image_properties)`` of an ``import`` task's input, or Glance's 400."""
    if not isinstance(task_input, dict):
        raise faults.BadRequest("Task input must be an object.")
    for key in ("import_from", "import_from_format", "image_properties"):
        if key not in task_input:
            raise faults.BadRequest(f"Input does not contain '{key}' field")
    uri = task_input["import_from"]
    if not imports.allowed_uri(uri):
        raise faults.BadRequest(f"URI for web-download does not pass filtering: {toolkit.printable(str(uri))}")
    properties = task_input["image_properties"]
    if not isinstance(properties, dict):
        raise faults.BadRequest("'image_properties' must be an object.")
    for key in ("container_format", "disk_format"):
        if not properties.get(key):
            raise faults.BadRequest(f"Properties container_format, disk_format must be set prior to saving data: {key}")
    return uri, dict(properties)
