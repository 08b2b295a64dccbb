# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Cloud-side helpers the runner modules share (private to the opensandbox.cloud collection).

Booting a server with user data, reading the revisions of a runner image (and which
images servers use), pruning them, and reading the end of a server's console.  Built on the state kit (``_module``,
``_resources``, ``_kinds``); the rules themselves are in ``_runner_build``.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from typing import Any

from ansible_collections.opensandbox.cloud.plugins.module_utils import _runner_build as rb
from ansible_collections.opensandbox.cloud.plugins.module_utils._kinds import IMAGE
from ansible_collections.opensandbox.cloud.plugins.module_utils._module import AnsibleOpenStackModule
from ansible_collections.opensandbox.cloud.plugins.module_utils._resources import to_dict


def boot_server(
    module: AnsibleOpenStackModule,
    *,
    name: str,
    image_id: str,
    flavor_id: str,
    network_id: str,
    security_group: str | None,
    key_name: str | None,
    user_data: str,
    metadata: Mapping[str, str],
    **extra: Any,
) -> Any:
    """Create a server on one network with cloud-init user data (given as text; Nova takes it base64-encoded)."""
    return module.call(
        module.conn.compute.create_server,
        name=name,
        image_id=image_id,
        flavor_id=flavor_id,
        networks=[{"uuid": network_id}],
        security_groups=[{"name": security_group}],
        key_name=key_name,
        user_data=base64.b64encode(user_data.encode("utf-8")).decode("ascii"),
        metadata=dict(metadata),
        **extra,
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
    views = [to_dict(IMAGE, image) for image in module.call(conn.image.images, **query) or []]
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
