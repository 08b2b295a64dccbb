# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Cloud-side helpers the runner modules share (private to the opensandbox.cloud collection).

Reading the revisions of a runner image (and which images servers use), pruning them,
reading the end of a server's console, and best-effort deletion for cleaning up after
a failure, when the module may no longer fail a second time.  Built on the state kit
(``_module``, ``_resources``, ``_kinds``); the rules themselves are in ``_runner_build``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from ansible_collections.opensandbox.cloud.plugins.module_utils import _runner_build as rb
from ansible_collections.opensandbox.cloud.plugins.module_utils._errors import sdk_exception_types
from ansible_collections.opensandbox.cloud.plugins.module_utils._kinds import IMAGE
from ansible_collections.opensandbox.cloud.plugins.module_utils._module import AnsibleOpenStackModule
from ansible_collections.opensandbox.cloud.plugins.module_utils._resources import Kind, to_dict
from ansible_collections.opensandbox.cloud.plugins.module_utils._wait import DEFAULT_BACKOFF, DEFAULT_TIMEOUT

#: Glance's own image fields; everything else in an image is a property.
GLANCE_CORE = frozenset(
    {
        "id", "name", "status", "visibility", "protected", "owner", "checksum", "size", "virtual_size",
        "container_format", "disk_format", "min_disk", "min_ram", "tags", "created_at", "updated_at",
        "os_hash_algo", "os_hash_value", "os_hidden", "file", "schema", "self", "direct_url", "locations",
    }
)  # fmt: skip


def glance_properties(image: Any) -> dict[str, Any]:
    """All of an image's properties, as Glance has them.

    The SDK keeps the well-known ones (``architecture``, ``os_distro``, ``hw_*`` ...) as
    attributes and only the others in ``properties``, which is what the kit's IMAGE view
    shows; runner images need ``architecture`` too.
    """
    raw = image.to_dict(computed=False, original_names=True)
    props = {k: v for k, v in raw.items() if k not in GLANCE_CORE and k != "properties" and v is not None}
    props.update(raw.get("properties") or {})
    return props


#: The kit's IMAGE view with every property (see ``glance_properties``).
RUNNER_IMAGE = replace(
    IMAGE, fields=tuple((key, glance_properties if key == "properties" else get) for key, get in IMAGE.fields)
)


def update_image_properties(module: AnsibleOpenStackModule, image_id: str, changes: Mapping[str, str]) -> Any:
    """Set properties on an image; returns it.

    The SDK sends well-known properties as attributes; for the others it rewrites the whole
    ``properties`` dict (and asks Glance to remove any it was not given), so it gets them all.
    """
    image = module.call(module.conn.image.get_image, image_id)
    known = set(image.to_dict(computed=False)) - {"properties"}
    attrs = {k: v for k, v in changes.items() if k in known}
    custom = {k: v for k, v in changes.items() if k not in known}
    if custom:
        attrs["properties"] = {**(image.properties or {}), **custom}
    return module.call(module.conn.image.update_image, image, **attrs)


#: The kit has no security-group kind (yet); the runners' group is found and made with this one.
SECURITY_GROUP = Kind(
    "security group",
    get=lambda conn: conn.network.get_security_group,
    list=lambda conn: conn.network.security_groups,
    fields=(
        ("id", "id"),
        ("name", "name"),
        ("description", "description"),
        ("project_id", "project_id"),
        ("rules", lambda g: list(g.security_group_rules or [])),
    ),
)


def used_image_ids(module: AnsibleOpenStackModule) -> set[str]:
    """IDs of the images the project's servers were booted from."""
    servers = module.call(module.conn.compute.servers) or []
    return {str((s.image or {}).get("id")) for s in servers if (s.image or {}).get("id")}


def image_revisions(module: AnsibleOpenStackModule, name: str, *, own_only: bool = True) -> list[dict[str, Any]]:
    """The revisions of ``name`` (images the module made: they carry the inputs digest), newest first.

    ``own_only`` keeps those the current project owns (what runner_image may prune); runners
    may also boot from a revision shared with the project.
    """
    conn = module.conn
    query: dict[str, Any] = {"name": name}
    if own_only:
        query["owner"] = conn.current_project_id
    views = [to_dict(RUNNER_IMAGE, image) for image in module.call(conn.image.images, **query) or []]
    return rb.newest_first(v for v in views if rb.is_revision(v, name))


def revision_summary(view: Mapping[str, Any], current_id: str | None, used: Iterable[str]) -> dict[str, Any]:
    """How the modules return one revision."""
    props = view.get("properties") or {}
    return {
        "id": view.get("id"),
        "status": view.get("status"),
        "runner_version": props.get(rb.PROP_VERSION),
        "inputs_digest": props.get(rb.PROP_DIGEST),
        "built_at": props.get(rb.PROP_BUILT_AT),
        "current": current_id is not None and view.get("id") == current_id,
        "in_use": view.get("id") in set(used),
    }


def delete_images(module: AnsibleOpenStackModule, views: Iterable[Mapping[str, Any]]) -> None:
    """Delete images (not in check mode); one that is already gone is fine."""
    if module.check_mode:
        return
    for view in views:
        module.call(module.conn.image.delete_image, view["id"], ignore_missing=True)


def console_tail(module: AnsibleOpenStackModule, server: Any, lines: int) -> list[str]:
    """The last ``lines`` lines of a server's console; empty when it has none (yet)."""
    found = module.call_tolerating((404, 409), module.conn.compute.get_server_console_output, server, length=lines)
    text = (found or {}).get("output") or ""
    return text.splitlines()[-lines:]


def delete_best_effort(delete: Callable[[], Any]) -> list[str]:
    """Run a cleanup step; return what went wrong instead of failing the module (which may have failed already)."""
    try:
        delete()
    except sdk_exception_types() as exc:
        return [" ".join(str(exc).split())]
    return []


def wait_deleted(
    module: AnsibleOpenStackModule, kind: Kind, resources: Iterable[Any], timeout: float | None = None
) -> None:
    """Wait until the cloud no longer has any of ``resources``, whatever their status meanwhile.

    The kit's ``wait_for_delete`` fails when a resource shows a failure status, but a server
    in ERROR keeps that status while it is being deleted; this waits for all of them to go,
    with the kit's backoff, and fails only at the deadline.
    """
    if timeout is None:
        timeout = module.params.get("timeout") or DEFAULT_TIMEOUT
    deadline = time.monotonic() + timeout
    delays = DEFAULT_BACKOFF.delays()
    left = list(resources)
    get = kind.get(module.conn)
    while left:
        left = [r for r in left if module.call_or_none(get, r.id) is not None]
        remaining = deadline - time.monotonic()
        if left and remaining <= 0:
            names = ", ".join(kind.label(r) for r in left)
            module.fail_json(msg=f"Timed out after {timeout:g} s waiting for {names} to be deleted")
        if left:
            time.sleep(min(next(delays), remaining))


def never(_resource: Any) -> bool:
    """A wait's failure test when the caller handles every status itself."""
    return False
