"""What the Block Storage model modules share: Cinder's errors, policy, timestamps, checks, records."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
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


def invalid_field(field: str, value: Any, reason: str) -> faults.BadRequest:
    """Cinder's schema error: ``Invalid input for field/attribute <field>. Value: <value>. <reason>``."""
    shown = toolkit.printable(str(value))
    return faults.BadRequest(f"Invalid input for field/attribute {field}. Value: {shown}. {reason}")


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

#: Cinder's words for text no UTF-8 can carry (JSON allows ``"\ud800"``; Unicode does not).
NOT_UNICODE = "It holds a lone surrogate, which is not valid Unicode text."


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
        raise invalid_field(field, metadata, "Expected a dict.")
    if toolkit.has_lone_surrogate(metadata):
        raise invalid_field(field, metadata, NOT_UNICODE)
    for key, value in metadata.items():
        if not isinstance(key, str) or not key.strip():
            raise faults.BadRequest("Metadata property key blank.")
        if len(key) > 255:
            raise faults.BadRequest("Metadata property key greater than 255 characters.")
        if not isinstance(value, str):
            raise invalid_field(field, metadata, f"{value!r} is not of type 'string'")
        if len(value) > 255:
            raise faults.BadRequest("Metadata property value greater than 255 characters.")
    return dict(metadata)


def check_name(value: Any, field: str) -> str | None:
    """A name or description: a string of at most 255 characters (or None), valid Unicode."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid_field(field, value, "Expected a string.")
    if toolkit.has_lone_surrogate(value):
        raise invalid_field(field, value, NOT_UNICODE)
    if len(value) > 255:
        raise faults.BadRequest(f"{field.capitalize()} has more than 255 characters.")
    return value


def check_id(value: Any, field: str) -> str:
    """A required id given as a non-empty string."""
    if not isinstance(value, str) or not value:
        raise invalid_field(field, value, "Expected a string.")
    return value


@dataclass(frozen=True)
class Labels:
    """The name, description and metadata a new volume, snapshot, backup or group carries, checked."""

    name: str | None
    description: str | None
    metadata: dict[str, str]

    @classmethod
    def check(cls, name: Any, description: Any, metadata: Any = None) -> Labels:
        return cls(check_name(name, "name"), check_name(description, "description"), check_metadata(metadata))


def check_zone(zone: Any) -> None:
    if zone not in (None, ZONE):
        raise faults.BadRequest(f"Availability zone '{toolkit.printable(str(zone))}' is invalid.")


def flag(value: Any, name: str) -> bool:
    """A boolean from a body or query (``true``/``1``/``yes``/``on`` ...), as Cinder's ``bool_from_string``."""
    return toolkit.to_bool(value, lambda _: invalid_input(f"Invalid value '{value}' for {name}."))


# -- records --------------------------------------------------------------------------------------------


class Records:
    """What volumes, snapshots, backups and groups share: one store kind, owner-only reads, stamped saves."""

    #: job name -> the method that runs it (registered with the lifecycle)
    jobs: dict[str, str] = {}

    def __init__(self, bs: BlockStorage, kind: str, not_found: Callable[[str], faults.NotFound]) -> None:
        self.bs = bs
        self.store = bs.store
        self.kind = kind
        self.not_found = not_found
        for job, method in self.jobs.items():
            bs.lifecycle.register(job, getattr(self, method))

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

    def save(self, record: dict[str, Any]) -> dict[str, Any]:
        record["updated_at"] = now()
        return self.store.put(self.kind, record)

    def still(self, record_id: str, status: str) -> dict[str, Any] | None:
        """The record if it is still in ``status`` (what a job checks first: it may have moved or gone)."""
        record = self.record(record_id)
        return record if record is not None and record["status"] == status else None

    def _run_delete(self, job: dict[str, Any]) -> None:
        """The delete job: remove a record that is still ``deleting``, with what goes with it."""
        with self.store.transaction():
            record = self.still(job["target"], "deleting")
            if record is not None:
                self._remove(record)

    def _remove(self, record: dict[str, Any]) -> None:
        """What deleting a record takes away (inside a transaction): the record itself, and a kind's more."""
        self.store.delete(self.kind, record["id"])

    def set_status(self, record_id: str, status: str, **changes: Any) -> dict[str, Any] | None:
        """Move a record to ``status`` (for the other parts of the model); None if it is gone."""
        with self.store.transaction():
            record = self.record(record_id)
            if record is None:
                return None
            record.update(changes, status=status)
            return self.save(record)

    def restore_status(self, record_id: str, expected: str, fallback: str = "available", **changes: Any) -> None:
        """Back to the status before ``expected`` (a transitional one), if the record is still in it."""
        with self.store.transaction():
            record = self.record(record_id)
            if record is not None and record["status"] == expected:
                record.update(changes, status=record.get("previous_status") or fallback)
                if "previous_status" in record:
                    record["previous_status"] = None
                self.save(record)

    def reset_status(self, ctx: Context, record_id: str, status: Any) -> None:
        """``os-reset_status`` (admins): any status in :attr:`RESET_STATUSES`, as Cinder checks it."""
        require_admin(ctx, self.reset_rule)
        if not isinstance(status, str) or status.lower() not in self.reset_statuses:
            raise faults.BadRequest("Must specify a valid status")
        with self.store.transaction():
            record = self.get(ctx, record_id)
            record["status"] = status.lower()
            self.save(record)

    #: the policy rule and the statuses of :meth:`reset_status`, per kind
    reset_rule = ""
    reset_statuses: frozenset[str] = frozenset()

    @staticmethod
    def _apply_changes(record: dict[str, Any], changes: dict[str, Any]) -> None:
        """An update's ``name``, ``description`` and ``metadata``, checked as Cinder checks them."""
        if "name" in changes:
            record["name"] = check_name(changes["name"], "name")
        if "description" in changes:
            record["description"] = check_name(changes["description"], "description")
        if "metadata" in changes:
            record["metadata"] = check_metadata(changes["metadata"])

    def update(self, ctx: Context, record_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """A new name, description or metadata (the keys of ``changes`` that are there)."""
        require_member(ctx, self.update_rule)
        with self.store.transaction():
            record = self.get(ctx, record_id)
            self._check_updatable(record)
            self._apply_changes(record, changes)
            return self.save(record)

    update_rule = ""

    def _check_updatable(self, record: dict[str, Any]) -> None:
        """A kind's own refusal of an update (a volume in maintenance ...)."""

    # -- metadata (volumes and snapshots) ----------------------------------------------------------

    metadata_rules = ("", "")  #: the update and delete rules

    def _check_metadata_writable(self, record: dict[str, Any], verb: str) -> None:
        """A kind's own refusal of a metadata change."""

    def set_metadata(self, ctx: Context, record_id: str, metadata: Any, replace: bool = False) -> dict[str, str]:
        require_member(ctx, self.metadata_rules[0])
        checked = check_metadata(metadata)
        with self.store.transaction():
            record = self.get(ctx, record_id)
            self._check_metadata_writable(record, "Updating")
            record["metadata"] = checked if replace else {**record["metadata"], **checked}
            self.save(record)
            return dict(record["metadata"])

    def metadata_item(self, record: dict[str, Any], key: str) -> str:
        if key not in record["metadata"]:
            raise faults.NotFound(f"{self.label} {record['id']} has no metadata with key {key}.")
        return record["metadata"][key]

    label = ""  #: ``Volume``, ``Snapshot``: how Cinder's messages name the kind

    def delete_metadata(self, ctx: Context, record_id: str, key: str) -> None:
        require_member(ctx, self.metadata_rules[1])
        with self.store.transaction():
            record = self.get(ctx, record_id)
            self.metadata_item(record, key)
            self._check_metadata_writable(record, "Deleting")
            del record["metadata"][key]
            self.save(record)

    # -- restart ----------------------------------------------------------------------------------------

    #: status -> the job that moves a record out of it (resumed after a restart if it is missing)
    resumable: dict[str, str] = {}

    def recover(self) -> None:
        """After a restart: a transitional status whose job is gone would never move; schedule it again."""
        pending = {(j["target"], j["action"]) for j in self.bs.lifecycle.pending()}
        for record in self.store.find(self.kind):
            job = self.resumable.get(record["status"])
            if job is not None and (record["id"], job) not in pending:
                self.bs.lifecycle.schedule(job, record["id"], delay=0)
