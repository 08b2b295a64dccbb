"""What every part of the Identity model shares: record look-ups, Keystone's errors, ids."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from stacksim import faults
from stacksim.toolkit import new_hex_id

if TYPE_CHECKING:
    from stacksim.services.identity.model import Identity

Record = dict[str, Any]

DEFAULT_DOMAIN = "default"
#: what records keep for stacksim alone: never shown, never set through the API
PRIVATE = frozenset({"password_hash", "secret_hash", "role_ids", "path", "access_rule_ids", "access_rules"})

#: Keystone's ids: 32 hex digits
new_id = new_hex_id


def conflict(label: str, details: str) -> faults.Conflict:
    """Keystone's 409: ``Conflict occurred attempting to store <label> - <details>.``"""
    return faults.Conflict(f"Conflict occurred attempting to store {label} - {details}.")


class Part:
    """One kind of Identity record and its rules; the facade holds one of each."""

    kind: str = ""
    label: str = ""
    #: Keystone's 404 for a missing record
    missing: str = "Could not find {label}: {id}."

    def __init__(self, identity: Identity) -> None:
        self.identity = identity
        self.store = identity.store

    def get(self, id: str) -> Record:
        record = self.store.get(self.kind, id)
        if record is None:
            raise faults.NotFound(self.missing.format(label=self.label, id=id))
        return record

    def peek(self, id: str) -> Record | None:
        """The record, or None if there is none (for views that show what is left of a reference)."""
        return self.store.get(self.kind, id)

    def find(self, **equal: Any) -> list[Record]:
        """Records whose fields equal ``equal``'s values (None matches a missing field), oldest first."""
        return self.store.find(self.kind, **equal)

    def many(self, ids: list[str]) -> list[Record]:
        """The records of ``ids`` that exist, in the order given."""
        found = self.store.get_many(self.kind, ids)
        return [found[i] for i in ids if i in found]

    def unique_name(self, name: str, domain_id: str | None = None) -> None:
        """409 if a record of this kind already has ``name`` (in ``domain_id`` when given)."""
        key: dict[str, Any] = {"name": name}
        if domain_id is not None:
            key["domain_id"] = domain_id
        if self.store.first(self.kind, **key) is not None:
            where = f" in domain {domain_id}" if domain_id else ""
            raise conflict(self.label, f"Duplicate entry found with name {name}{where}")

    def put_new(self, spec: Any, omit: tuple[str, ...] = (), **fields: Any) -> Record:
        """Store a new record made of a typed request: its fields (but ``omit``), its ``extra``
        attributes, then ``fields``; a new id unless the request names one."""
        values = {k: v for k, v in dataclasses.asdict(spec).items() if k not in omit}
        extra = values.pop("extra", {})
        record = {"id": values.pop("id", None) or new_id(), **extra, **values, **fields}
        return self.store.put(self.kind, record)

    def changed(self, id: str, changes: dict[str, Any]) -> Record:
        """Write ``changes`` over the record in one transaction (404 if it is gone; 400 if they
        would change its id)."""
        self.get(id)
        if changes.get("id", id) != id:
            raise faults.BadRequest(f"Cannot change the ID of {self.label} {id}.")
        return self.store.update(self.kind, id, lambda record: {**record, **changes, "id": id})


class DomainOwned(Part):
    """A kind whose names are unique within a domain (projects, users, groups)."""

    def find_ref(self, ref: dict[str, Any]) -> Record:
        """The record ``ref`` names: ``{"id": ...}``, or ``{"name": ..., "domain": {"id"|"name": ...}}``."""
        if ref.get("id"):
            return self.get(ref["id"])
        if not ref.get("name"):
            raise faults.BadRequest(f"A {self.label} must be given by 'id' or by 'name' and 'domain'.")
        if "domain" not in ref:
            raise faults.BadRequest(f"The {self.label} '{ref['name']}' needs a 'domain' ('id' or 'name').")
        domain = self.identity.domains.find_ref(ref["domain"])
        found = self.store.first(self.kind, name=ref["name"], domain_id=domain["id"])
        if found is None:
            raise faults.NotFound(f"Could not find {self.label}: {ref['name']}.")
        return found


def matches(record: Record, filters: dict[str, Any]) -> bool:
    """Whether ``record`` has every value of ``filters`` (Keystone's exact-match list filters)."""
    return all(record.get(k) == v for k, v in filters.items())
