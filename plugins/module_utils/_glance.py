# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Changing a Glance image in place, one JSON-patch request at a time (private to the collection).

openstacksdk's ``image.update_image`` builds its patch from the whole ``properties`` dict
it holds: given one custom property, it asks Glance to remove every other one. Glance's
own answer is the JSON-patch request (``PATCH /v2/images/{id}``), which changes exactly
the keys it names. ``patch_image(module, image, changes)`` sends one: each of Glance's
own attributes (``name``, ``visibility``, ``min_ram`` ...) is replaced, each property
added or replaced, and a property whose value is ``None`` removed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ansible_collections.opensandbox.cloud.plugins.module_utils._kinds import GLANCE_CORE_FIELDS

if TYPE_CHECKING:
    from ansible_collections.opensandbox.cloud.plugins.module_utils._module import AnsibleOpenStackModule

JSON_PATCH = "application/openstack-images-v2.1-json-patch"
#: Glance's own attributes a patch may replace; the others are read-only.
REPLACEABLE = frozenset(
    {"name", "visibility", "protected", "min_ram", "min_disk", "os_hidden", "tags", "disk_format", "container_format"}
)


def patch_operations(changes: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The JSON-patch operations for ``changes`` (Glance's names), in their order.

    Raises ``ValueError`` for a read-only attribute, or an attribute set to ``None``
    (only properties can be removed).
    """
    ops: list[dict[str, Any]] = []
    for key, value in changes.items():
        if key in GLANCE_CORE_FIELDS:
            if key not in REPLACEABLE or value is None:
                raise ValueError(f"the image attribute {key!r} cannot be {'removed' if value is None else 'changed'}")
            ops.append({"op": "replace", "path": f"/{key}", "value": value})
        elif value is None:
            ops.append({"op": "remove", "path": f"/{key}"})
        else:  # "add" replaces a property that is there, as JSON patch says
            ops.append({"op": "add", "path": f"/{key}", "value": value})
    return ops


def patch_image(module: AnsibleOpenStackModule, image: Any, changes: Mapping[str, Any]) -> Any:
    """Apply ``changes`` to ``image`` (an SDK image or an id) in one request; return the image as it is now.

    Removing a property the image does not have fails, as it does in Glance: compute
    ``changes`` from the image as it is.
    """
    image_id = getattr(image, "id", image)
    ops = patch_operations(changes)
    if ops:
        shown = ", ".join(f"{op['op']} {op['path']}" for op in ops)
        with module.sdk_errors(f"image.patch_image({image_id!r}, {shown})"):
            from openstack import exceptions  # pylint: disable=import-outside-toplevel

            response = module.conn.image.patch(f"/images/{image_id}", json=ops, headers={"Content-Type": JSON_PATCH})
            exceptions.raise_from_response(response)
    return module.call(module.conn.image.get_image, image_id)
