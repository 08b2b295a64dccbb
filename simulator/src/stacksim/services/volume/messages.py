"""User messages (``/messages``, 3.3+): why an asynchronous operation failed.

Cinder records one when something a user asked for fails out of band (a
create the scheduler could not place, an image that would not copy); its
``user_message`` is ``"<action>: <detail>"``. The records live 30 days.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from stacksim import clock, faults
from stacksim.auth import Context
from stacksim.services.volume import common

KIND = "volume_message"
TTL = timedelta(days=30)

#: (action id, action text) as Cinder's ``message_field.Action``
SCHEDULE_ALLOCATE_VOLUME = ("001", "schedule allocate volume")
COPY_IMAGE_TO_VOLUME = ("003", "copy image to volume")
EXTEND_VOLUME = ("007", "extend volume")
CREATE_VOLUME_FROM_BACKEND = ("008", "create volume from backend storage")
SNAPSHOT_CREATE = ("009", "snapshot create")
UPDATE_ATTACHMENT = ("004", "update attachment")
COPY_VOLUME_TO_IMAGE = ("005", "copy volume to image")
BACKUP_CREATE = ("017", "create backup")
BACKUP_RESTORE = ("020", "restore backup")
RETYPE = ("015", "retype volume")

#: (detail id, detail text) as Cinder's ``message_field.Detail``
UNKNOWN_ERROR = ("001", "An unknown error occurred.")
NO_BACKEND = ("003", "Could not find any available weighted backend.")
NOT_ENOUGH_SPACE = ("006", "Not enough space on the backend.")
DRIVER_FAILED = ("009", "Driver failed to create the volume.")


class Messages:
    def __init__(self, store: Any) -> None:
        self.store = store

    def add(
        self,
        project_id: str,
        resource_type: str,
        resource_uuid: str | None,
        action: tuple[str, str],
        detail: tuple[str, str],
        reason: str | None = None,
    ) -> dict[str, Any]:
        moment = clock.now()
        text = f"{action[1]}: {detail[1]}"
        if reason:
            text = f"{text} ({reason})"
        return self.store.put(
            KIND,
            {
                "id": common.new_id(),
                "project_id": project_id,
                "request_id": f"req-{common.new_id()}",
                "resource_type": resource_type,
                "resource_uuid": resource_uuid,
                "event_id": f"VOLUME_{resource_type}_{action[0]}_{detail[0]}",
                "message_level": "ERROR",
                "user_message": text,
                "created_at": moment.strftime("%Y-%m-%dT%H:%M:%S.%f"),
                "guaranteed_until": (moment + TTL).strftime("%Y-%m-%dT%H:%M:%S.%f"),
            },
        )

    def list(self, ctx: Context, all_projects: bool = False) -> list[dict[str, Any]]:
        records = (
            self.store.find(KIND) if ctx.is_admin and all_projects else self.store.find(KIND, project_id=ctx.project_id)
        )
        stamp = clock.now().strftime("%Y-%m-%dT%H:%M:%S.%f")
        return [r for r in records if r["guaranteed_until"] >= stamp]

    def get(self, ctx: Context, message_id: str) -> dict[str, Any]:
        record = self.store.get(KIND, message_id)
        if record is None or not ctx.owns_project(record["project_id"]):
            raise faults.NotFound(f"Message {message_id} could not be found.")
        return record

    def delete(self, ctx: Context, message_id: str) -> None:
        self.get(ctx, message_id)
        self.store.delete(KIND, message_id)

    def of(self, resource_uuid: str) -> list[dict[str, Any]]:
        return self.store.find(KIND, resource_uuid=resource_uuid)
