"""What Nova still answers for other services (its proxy APIs), done through their facades.

Images (up to microversion 2.35; their metadata up to 2.38) are Glance's,
listed, read and changed with the caller's rights, Glance's errors in Nova's
words; an image's metadata is its properties, within the ``metadata_items``
quota. Floating IP pools are the external networks Neutron shows the caller.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from stacksim import clock, faults
from stacksim.auth import Context
from stacksim.services.compute import policy

if TYPE_CHECKING:
    from stacksim.services.compute.model import Compute


@dataclass(frozen=True)
class ImageQuery:
    """Nova's image list filters, and its page."""

    name: str | None = None
    status: str | None = None  #: Glance's status (Nova's lower-cased)
    changes_since: datetime | None = None
    server_id: str | None = None  #: snapshots of this server
    image_type: str | None = None
    min_ram: int | None = None
    min_disk: int | None = None
    properties: dict[str, str] = field(default_factory=dict)
    limit: int | None = None
    marker: str | None = None


class Proxies:
    def __init__(self, compute: Compute) -> None:
        self.compute = compute
        self.glance = compute.peers.image

    def images(self, ctx: Context, q: ImageQuery) -> tuple[list[dict[str, Any]], bool]:
        tests: list[Callable[[dict[str, Any]], bool]] = []
        if q.name is not None:
            tests.append(lambda i: i.get("name") == q.name)
        if q.status is not None:
            tests.append(lambda i: i["status"] == q.status)
        if q.changes_since is not None:
            since = q.changes_since
            tests.append(lambda i: clock.parse(i["updated_at"]) >= since)
        if q.server_id is not None:
            tests.append(lambda i: i["properties"].get("instance_uuid") == q.server_id)
        if q.image_type is not None:
            tests.append(lambda i: i["properties"].get("image_type") == q.image_type)
        if q.min_ram is not None:
            tests.append(lambda i: (i.get("min_ram") or 0) >= (q.min_ram or 0))
        if q.min_disk is not None:
            tests.append(lambda i: (i.get("min_disk") or 0) >= (q.min_disk or 0))
        for key, value in q.properties.items():
            tests.append(lambda i, k=key, v=value: str(i["properties"].get(k)) == v)
        images = [i for i in self.glance.listed(ctx) if all(t(i) for t in tests)]
        if q.marker:
            index = next((n for n, i in enumerate(images) if i["id"] == q.marker), None)
            if index is None:
                raise faults.BadRequest(f"marker [{q.marker}] not found")
            images = images[index + 1 :]
        if q.limit is None:
            return images, False
        return images[: q.limit], len(images) > q.limit

    def image(self, ctx: Context, image_id: str) -> dict[str, Any]:
        try:
            return self.glance.get(ctx, image_id)
        except faults.NotFound:
            raise faults.NotFound("Image not found.") from None

    def delete_image(self, ctx: Context, image_id: str) -> None:
        self.image(ctx, image_id)
        try:
            self.glance.delete(ctx, image_id)
        except faults.Forbidden:
            raise faults.Forbidden("You are not allowed to delete the image.") from None

    def set_image_metadata(self, ctx: Context, image_id: str, values: dict[str, str], replace: bool) -> dict:
        """Merge ``values`` into the image's properties (``replace``: make them all of them)."""
        image = self.image(ctx, image_id)
        merged = dict(values) if replace else {**image["properties"], **values}
        limit = self.compute.quotas.limits(ctx.project_id or "")["metadata_items"]
        if 0 <= limit < len(merged):
            raise faults.Forbidden("Quota exceeded for metadata_items: too many metadata items.")
        return self.glance.set_properties(ctx, image_id, values, replace)["properties"]

    def delete_image_metadata(self, ctx: Context, image_id: str, key: str) -> None:
        if key not in self.image(ctx, image_id)["properties"]:
            raise faults.NotFound("Invalid metadata key")
        self.glance.remove_property(ctx, image_id, key)

    def floating_ip_pools(self, ctx: Context) -> list[str]:
        policy.authorize(ctx, "os_compute_api:os-floating-ip-pools")
        return [n["name"] or n["id"] for n in self.compute.peers.network.external_networks(ctx)]
