"""Image members: sharing a ``shared`` image with other projects, who accept or reject it.

Glance's rules, with its default policy: only the owner (or an admin) adds and
removes members; only the member project (or an admin) sets its own status;
the owner sees every member of the image, a member only its own membership.
Members of an image that is not ``shared`` cannot be listed or changed.
Glance does not check that a member project exists, and neither do we.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stacksim import clock, faults, toolkit
from stacksim.auth import Context
from stacksim.services.image.images import may_write
from stacksim.services.image.schemas import MEMBER_STATUSES

if TYPE_CHECKING:
    from stacksim.services.image.images import ImageRecords


KIND = "image_member"


def _key(image_id: str, member_id: str) -> str:
    return f"{image_id}:{member_id}"


class Members:
    def __init__(self, images: ImageRecords) -> None:
        self.images = images
        self.store = images.store

    # -- lookups ------------------------------------------------------------------------

    def _image(self, ctx: Context, image_id: str, refusal: str | None = None) -> dict[str, Any]:
        """The image, visible to the caller and ``shared`` (else ``refusal`` as a 403)."""
        rec = self.images.record(image_id)
        if rec is None or not self.images.visible(ctx, rec):
            raise faults.NotFound(f"Image {image_id} not found.")
        if rec["visibility"] != "shared" and refusal is not None:
            raise faults.Forbidden(refusal)
        return rec

    def _may_see(self, ctx: Context, image: dict[str, Any], member_id: str) -> bool:
        return ctx.is_admin or image["owner"] == ctx.project_id or member_id == ctx.project_id

    def status_of(self, project_id: str | None) -> dict[str, str]:
        """image id -> this project's member status, for every image shared with it."""
        if not project_id:
            return {}
        return {m["image_id"]: m["status"] for m in self.store.find(KIND, member_id=project_id)}

    def is_member(self, image_id: str, project_id: str | None) -> bool:
        return bool(project_id) and self.store.get(KIND, _key(image_id, project_id or "")) is not None

    # -- the API --------------------------------------------------------------------------

    def list(self, ctx: Context, image_id: str) -> list[dict[str, Any]]:
        image = self._image(ctx, image_id)
        if image["visibility"] != "shared":
            raise faults.Forbidden(
                f"Not allowed to list members for image {image_id}: Only shared images have members."
            )
        found = self.store.find(KIND, image_id=image_id)
        return [m for m in found if self._may_see(ctx, image, m["member_id"])]

    def get(self, ctx: Context, image_id: str, member_id: str) -> dict[str, Any]:
        image = self._image(ctx, image_id)
        if image["visibility"] != "shared":
            raise faults.NotFound("Only shared images have members.")
        record = self.store.get(KIND, _key(image_id, member_id))
        if record is None or not self._may_see(ctx, image, member_id):
            raise faults.NotFound(f"{member_id} not found in the member list of the image {image_id}.")
        return record

    def add(self, ctx: Context, image_id: str, member_id: str) -> dict[str, Any]:
        if toolkit.has_lone_surrogate(member_id):
            raise faults.BadRequest(f"Invalid member {toolkit.printable(member_id)!r}: it is not valid Unicode text.")
        refusal = f"Not allowed to create members for image {image_id}."
        image = self._image(ctx, image_id, refusal)
        if not (ctx.is_admin or (image["owner"] == ctx.project_id and may_write(ctx))):
            raise faults.Forbidden(refusal)
        with self.store.transaction():
            if self.store.get(KIND, _key(image_id, member_id)) is not None:
                raise faults.Conflict(f"Member {member_id} is duplicated for image {image_id}")
            now = clock.iso(clock.now())
            return self.store.put(
                KIND,
                {
                    "id": _key(image_id, member_id),
                    "image_id": image_id,
                    "member_id": member_id,
                    "status": "pending",
                    "created_at": now,
                    "updated_at": now,
                },
            )

    def update(self, ctx: Context, image_id: str, member_id: str, status: Any) -> dict[str, Any]:
        refusal = f"Not allowed to update members for image {image_id}."
        image = self._image(ctx, image_id, refusal)
        if not ctx.is_admin and image["owner"] == ctx.project_id:
            raise faults.Forbidden(refusal)
        with self.store.transaction():
            record = self.get(ctx, image_id, member_id)
            if not (ctx.is_admin or (member_id == ctx.project_id and may_write(ctx))):
                raise faults.Forbidden(refusal)
            if status not in MEMBER_STATUSES:
                raise faults.BadRequest('Incorrect request: Status must be "pending", "accepted" or "rejected".')
            record.update(status=status, updated_at=clock.iso(clock.now()))
            return self.store.put(KIND, record)

    def remove(self, ctx: Context, image_id: str, member_id: str) -> None:
        refusal = f"Not allowed to delete members for image {image_id}."
        image = self._image(ctx, image_id, refusal)
        if not (ctx.is_admin or (image["owner"] == ctx.project_id and may_write(ctx))):
            raise faults.Forbidden(refusal)
        self.get(ctx, image_id, member_id)
        self.store.delete(KIND, _key(image_id, member_id))

    def drop_image(self, image_id: str) -> None:
        self.store.delete_where(KIND, image_id=image_id)
