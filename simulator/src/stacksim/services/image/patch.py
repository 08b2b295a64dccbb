"""Glance's JSON-patch dialect for image updates (``PATCH /v2/images/{id}``).

Two media types: ``application/openstack-images-v2.1-json-patch`` (RFC 6902
operation objects, ``{"op": "replace", "path": "/name", "value": ...}``) and
the older ``...-v2.0-json-patch`` (``{"replace": "/name", "value": ...}``).
Paths name one top-level attribute (``/locations/N`` aside); read-only and
reserved attributes are refused with 403, bad values with 400, as in Glance.
"""

from __future__ import annotations

import re
from typing import Any

from stacksim import faults
from stacksim.services.image import schemas

MEDIA_TYPES = {
    "application/openstack-images-v2.0-json-patch": 4,
    "application/openstack-images-v2.1-json-patch": 10,
}
OPERATIONS = ("add", "remove", "replace")
_DEPTH = {"locations": {"add": 2, "remove": 2, "replace": 1}}


def media_draft(content_type: str | None) -> int:
    """The JSON-schema draft a PATCH's media type stands for (415 if it is not one of ours)."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media not in MEDIA_TYPES:
        raise faults.ApiError(
            f"The request media type {media or None} is not supported by this server.",
            status=415,
            headers={"Accept-Patch": ", ".join(sorted(MEDIA_TYPES))},
        )
    return MEDIA_TYPES[media]


def _operation(change: dict[str, Any], draft: int) -> tuple[str, Any]:
    available = ", ".join(OPERATIONS)
    if draft == 10:
        op = change.get("op")
        if op is None:
            raise faults.BadRequest(
                f"Unable to find `op` in JSON Schema change. It must be one of the following: {available}."
            )
        if op not in OPERATIONS:
            raise faults.BadRequest(f"Invalid operation: `{op}`. It must be one of the following: {available}.")
        if "path" not in change:
            raise faults.BadRequest("Unable to find 'path' in JSON Schema change")
        return op, change["path"]
    found = [key for key in OPERATIONS if key in change]
    named = 'named "add", "remove", or "replace".'
    if len(found) > 1:
        raise faults.BadRequest(f"Operation objects must contain only one member {named}")
    if not found:
        raise faults.BadRequest(f"Operation objects must contain exactly one member {named}")
    return found[0], change[found[0]]


def _pointer(pointer: Any) -> list[str]:
    if not isinstance(pointer, str) or not pointer.startswith("/"):
        raise faults.BadRequest(f'Pointer `{pointer}` does not start with "/".')
    if re.search(r"/\s*?/", pointer[1:]):
        raise faults.BadRequest(f'Pointer `{pointer}` contains adjacent "/".')
    if len(pointer) > 1 and pointer.endswith("/"):
        raise faults.BadRequest(f'Pointer `{pointer}` end with "/".')
    if pointer[1:].strip() == "/":
        raise faults.BadRequest(f"Pointer `{pointer}` does not contains valid token.")
    if re.search("~[^01]", pointer) or pointer.endswith("~"):
        raise faults.BadRequest(f'Pointer `{pointer}` contains "~" not part of a recognized escape sequence.')
    return [part.replace("~1", "/").replace("~0", "~").strip() for part in pointer.lstrip("/").split("/")]


def parse(body: Any, draft: int) -> list[tuple[str, str, Any]]:
    """``(op, attribute, value)`` for each operation, checked; value is None for ``remove``."""
    if not isinstance(body, list):
        raise faults.BadRequest("Request body must be a JSON array of operation objects.")
    changes: list[tuple[str, str, Any]] = []
    for change in body:
        if not isinstance(change, dict):
            raise faults.BadRequest("Operations must be JSON objects.")
        op, pointer = _operation(change, draft)
        path = _pointer(pointer)
        root = path[0]
        if len(path) != _DEPTH.get(root, {}).get(op, 1):
            raise faults.BadRequest(f"Invalid JSON pointer for this resource: '/{'/'.join(path)}'")
        value = None
        if op != "remove":
            if "value" not in change:
                raise faults.BadRequest(f'Operation "{op}" requires a member named "value".')
            value = change["value"]
        if root in schemas.READ_ONLY:
            raise schemas.read_only(root)
        if root != "locations" and schemas.is_reserved(root):
            raise schemas.reserved(root)
        if op != "remove" and root != "locations":
            schemas.check_image({root: value})
        changes.append((op, root, value))
    return changes
