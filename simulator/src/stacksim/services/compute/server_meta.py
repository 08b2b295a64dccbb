"""A server's metadata and tags: Nova's rules (sizes, counts, the ``metadata_items`` quota) and policy."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stacksim import clock, faults
from stacksim.auth import Context

if TYPE_CHECKING:
    from stacksim.services.compute.model import Compute

MAX_METADATA = 128
MAX_TAGS = 50


def metadata_limit(compute: Compute, ctx: Context) -> int:
    limit = compute.quotas.limits(ctx.project_id or "")["metadata_items"]
    return MAX_METADATA if limit < 0 else limit


def check_metadata(items: dict[str, str], limit: int = MAX_METADATA) -> dict[str, str]:
    """Nova's metadata rules: keys of 1-255 characters, values of at most 255, at most ``limit``."""
    for key, value in items.items():
        if not key or len(key) > 255 or not isinstance(value, str) or len(value) > 255:
            raise faults.BadRequest(f"Invalid metadata item {key!r}: keys and values are strings of 1-255 characters.")
    if len(items) > limit:
        raise faults.Forbidden("Quota exceeded for metadata_items: too many metadata items.")
    return items


def check_tags(tags: list[str]) -> list[str]:
    """Nova's tag rules: 1-60 characters without ``,`` or ``/``, at most 50, duplicates dropped."""
    if len(tags) > MAX_TAGS:
        raise faults.BadRequest(f"The number of tags exceeded the per-server limit {MAX_TAGS}")
    for tag in tags:
        if not isinstance(tag, str) or not 1 <= len(tag) <= 60 or "," in tag or "/" in tag:
            raise faults.BadRequest(f"Invalid tag {tag!r}: 1-60 characters, without ',' or '/'.")
    return list(dict.fromkeys(tags))


class ServerMeta:
    def __init__(self, compute: Compute) -> None:
        self.compute = compute
        self.servers = compute.servers

    def metadata(self, ctx: Context, server_id: str) -> dict[str, str]:
        return self.servers.owned(ctx, server_id, "os_compute_api:server-metadata:index")["metadata"]

    def metadata_item(self, ctx: Context, server_id: str, key: str) -> str:
        metadata = self.servers.owned(ctx, server_id, "os_compute_api:server-metadata:show")["metadata"]
        if key not in metadata:
            raise faults.NotFound("Metadata item was not found")
        return metadata[key]

    def set_metadata(self, ctx: Context, server_id: str, items: dict[str, str], replace: bool) -> dict[str, str]:
        """Merge ``items`` into the metadata (or, with ``replace``, make them all of it)."""
        rule = "update_all" if replace else "create"
        self.servers.owned(ctx, server_id, f"os_compute_api:server-metadata:{rule}")
        limit = metadata_limit(self.compute, ctx)

        def merge(current: dict[str, Any]) -> None:
            merged = dict(items) if replace else {**current["metadata"], **items}
            current["metadata"] = check_metadata(merged, limit)

        return self.servers.edit(server_id, merge)["metadata"]

    def set_metadata_item(self, ctx: Context, server_id: str, key: str, value: str) -> None:
        self.servers.owned(ctx, server_id, "os_compute_api:server-metadata:update")
        limit = metadata_limit(self.compute, ctx)

        def put(current: dict[str, Any]) -> None:
            current["metadata"] = check_metadata({**current["metadata"], key: value}, limit)

        self.servers.edit(server_id, put)

    def delete_metadata_item(self, ctx: Context, server_id: str, key: str) -> None:
        self.servers.owned(ctx, server_id, "os_compute_api:server-metadata:delete")

        def remove(current: dict[str, Any]) -> None:
            if key not in current["metadata"]:
                raise faults.NotFound("Metadata item was not found")
            del current["metadata"][key]

        self.servers.edit(server_id, remove)

    def tags(self, ctx: Context, server_id: str) -> list[str]:
        return list(self.servers.owned(ctx, server_id, "os_compute_api:os-server-tags:index")["tags"])

    def has_tag(self, ctx: Context, server_id: str, tag: str) -> None:
        if tag not in self.servers.owned(ctx, server_id, "os_compute_api:os-server-tags:show")["tags"]:
            raise faults.NotFound(f"Tag {tag} could not be found.")

    def set_tags(self, ctx: Context, server_id: str, tags: list[str]) -> list[str]:
        rule = "update_all" if tags else "delete_all"
        self.servers.owned(ctx, server_id, f"os_compute_api:os-server-tags:{rule}")
        tags = check_tags(tags)
        self.servers.edit(server_id, lambda current: current.update(tags=tags))
        return tags

    def add_tag(self, ctx: Context, server_id: str, tag: str) -> bool:
        """Add one tag; False if the server had it already."""
        self.servers.owned(ctx, server_id, "os_compute_api:os-server-tags:update")
        (tag,) = check_tags([tag])
        added = []

        def add(current: dict[str, Any]) -> bool | None:
            if tag in current["tags"]:
                return False
            if len(current["tags"]) >= MAX_TAGS:
                raise faults.BadRequest(f"The number of tags exceeded the per-server limit {MAX_TAGS}")
            current["tags"].append(tag)
            current["updated"] = clock.iso(clock.now(), micro=False)
            added.append(tag)
            return None

        self.servers.modify(server_id, add)
        return bool(added)

    def remove_tag(self, ctx: Context, server_id: str, tag: str) -> None:
        self.servers.owned(ctx, server_id, "os_compute_api:os-server-tags:delete")

        def remove(current: dict[str, Any]) -> None:
            if tag not in current["tags"]:
                raise faults.NotFound(f"Tag {tag} could not be found.")
            current["tags"].remove(tag)

        self.servers.edit(server_id, remove)
