"""What the Block Storage model modules share: Cinder's errors, policy, timestamps, checks."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from stacksim import clock, faults
from stacksim.auth import Context

#: The availability zone of the one volume service (Cinder's ``storage_availability_zone``).
ZONE = "nova"


def now() -> str:
    """Cinder's timestamps: ISO 8601 with microseconds and no zone."""
    return clock.now().strftime("%Y-%m-%dT%H:%M:%S.%f")


def new_id() -> str:
    return str(uuid.uuid4())


# -- errors, as Cinder words them -------------------------------------------------------------


def denied(rule: str) -> faults.Forbidden:
    """Cinder's ``PolicyNotAuthorized``."""
    return faults.Forbidden(f"Policy doesn't allow {rule} to be performed.")


def require_admin(ctx: Context, rule: str) -> None:
    if not ctx.is_admin:
        raise denied(rule)


def require_member(ctx: Context, rule: str) -> None:
    """Writes need the ``member`` role (or ``admin``); a ``reader`` may only look."""
    if not (ctx.is_admin or "member" in ctx.roles):
        raise denied(rule)


def invalid_input(reason: str) -> faults.BadRequest:
    return faults.BadRequest(f"Invalid input received: {reason}")


def invalid_volume(reason: str) -> faults.BadRequest:
    return faults.BadRequest(f"Invalid volume: {reason}")


def invalid_snapshot(reason: str) -> faults.BadRequest:
    return faults.BadRequest(f"Invalid snapshot: {reason}")


def invalid_backup(reason: str) -> faults.BadRequest:
    return faults.BadRequest(f"Invalid backup: {reason}")


def invalid_type(reason: str) -> faults.BadRequest:
    return faults.BadRequest(f"Invalid volume type: {reason}")


def over_quota(exception: str, message: str) -> faults.OverLimit:
    """A quota error: Cinder's fault middleware names the exception class before its message."""
    return faults.OverLimit(f"{exception}: {message}", kind=exception)


def or_list(values: Iterable[str]) -> str:
    """Cinder's ``build_or_str``: ``a or b or c``."""
    return " or ".join(values)


# -- checks -----------------------------------------------------------------------------------------


def check_size(size: Any, what: str = "volume") -> int:
    """A positive integer (or a string of one), as Cinder takes a size."""
    if isinstance(size, bool) or not isinstance(size, int | str):
        value = None
    else:
        try:
            value = int(size)
        except ValueError:
            value = None
    if value is None or value <= 0:
        raise invalid_input(
            f"Invalid {what} size provided for create request: {size} (size argument must be an "
            "integer (or string representation of an integer) and greater than zero)."
        )
    return value


def check_metadata(metadata: Any, field: str = "metadata") -> dict[str, str]:
    """Cinder's metadata rules: a mapping of strings, keys of 1-255 characters, values up to 255."""
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise faults.BadRequest(f"Invalid input for field/attribute {field}. Value: {metadata}. Expected a dict.")
    for key, value in metadata.items():
        if not isinstance(key, str) or not key.strip():
            raise faults.BadRequest("Metadata property key blank.")
        if len(key) > 255:
            raise faults.BadRequest("Metadata property key greater than 255 characters.")
        if not isinstance(value, str):
            raise faults.BadRequest(
                f"Invalid input for field/attribute {field}. Value: {metadata}. {value!r} is not of type 'string'"
            )
        if len(value) > 255:
            raise faults.BadRequest("Metadata property value greater than 255 characters.")
    return dict(metadata)


def check_name(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise faults.BadRequest(f"Invalid input for field/attribute {field}. Value: {value}. Expected a string.")
    if len(value) > 255:
        raise faults.BadRequest(f"{field.capitalize()} has more than 255 characters.")
    return value


def flag(value: Any, name: str) -> bool:
    """A boolean from a body or query (``true``/``1``/``yes``/``on`` ...), as Cinder's ``bool_from_string``."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "t", "true", "on", "y", "yes"):
        return True
    if text in ("0", "f", "false", "off", "n", "no"):
        return False
    raise invalid_input(f"Invalid value '{value}' for {name}.")
