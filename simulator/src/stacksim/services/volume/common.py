"""What the Block Storage model modules share: Cinder's errors, policy, timestamps, checks."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from stacksim import faults, toolkit
from stacksim.auth import Context
from stacksim.toolkit import naive_timestamp as now
from stacksim.toolkit import new_id  # noqa: F401 - for the other modules

if TYPE_CHECKING:
    from stacksim.services.volume.model import BlockStorage

#: The availability zone of the one volume service (Cinder's ``storage_availability_zone``).
ZONE = "nova"


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
    return toolkit.to_bool(value, lambda _: invalid_input(f"Invalid value '{value}' for {name}."))


# -- records --------------------------------------------------------------------------------------------


class Records:
    """What volumes, snapshots and backups share: one store kind, owner-only reads, stamped saves."""

    def __init__(self, bs: BlockStorage, kind: str, not_found: Callable[[str], faults.NotFound]) -> None:
        self.bs = bs
        self.store = bs.store
        self.kind = kind
        self.not_found = not_found

    def record(self, record_id: str) -> dict[str, Any] | None:
        return self.store.get(self.kind, record_id)

    def get(self, ctx: Context, record_id: str) -> dict[str, Any]:
        """The record if the caller's project owns it (or the caller is an admin); else 404."""
        record = self.store.get(self.kind, record_id)
        if record is None or not ctx.owns_project(record["project_id"]):
            raise self.not_found(record_id)
        return record

    def list(self, ctx: Context, all_projects: bool = False) -> list[dict[str, Any]]:
        if ctx.is_admin and all_projects:
            return self.store.find(self.kind)
        return self.store.find(self.kind, project_id=ctx.project_id)

    def _save(self, record: dict[str, Any]) -> dict[str, Any]:
        record["updated_at"] = now()
        return self.store.put(self.kind, record)

    def set_status(self, record_id: str, status: str, **changes: Any) -> dict[str, Any] | None:
        """Move a record to ``status`` (for the other parts of the model); None if it is gone."""
        with self.store.transaction():
            record = self.record(record_id)
            if record is None:
                return None
            record.update(changes, status=status)
            return self._save(record)

    @staticmethod
    def _apply_changes(record: dict[str, Any], changes: dict[str, Any]) -> None:
        """An update's ``name``, ``description`` and ``metadata``, checked as Cinder checks them."""
        if "name" in changes:
            record["name"] = check_name(changes["name"], "name")
        if "description" in changes:
            record["description"] = check_name(changes["description"], "description")
        if "metadata" in changes:
            record["metadata"] = check_metadata(changes["metadata"])
