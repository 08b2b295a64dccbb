"""Roles and implied roles (``admin`` implies ``member`` implies ``reader`` by default)."""

from __future__ import annotations

from typing import Any

from stacksim import faults
from stacksim.services.identity.common import Part, Record, conflict
from stacksim.services.identity.specs import RoleRef, RoleSpec
from stacksim.store import atomic

IMPLIED = "implied_role"
#: Keystone's default ``[assignment] prohibited_implied_role``
PROHIBITED_IMPLIED = frozenset({"admin"})


class Roles(Part):
    kind = "role"
    label = "role"

    def find_ref(self, ref: RoleRef) -> Record | None:
        """A role by id, or by name (a global one, or the one of ``domain_id``)."""
        if ref.id:
            return self.store.get(self.kind, ref.id)
        if ref.name:
            return self.store.first(self.kind, name=ref.name, domain_id=ref.domain_id)
        return None

    @atomic
    def create(self, spec: RoleSpec) -> Record:
        if spec.domain_id is not None:
            self.identity.domains.get(spec.domain_id)
        self._unique(spec.name, spec.domain_id)
        return self.put_new(spec)

    @atomic
    def update(self, id: str, changes: dict[str, Any]) -> Record:
        record = self.get(id)
        if "name" in changes and changes["name"] != record["name"]:
            self._unique(changes["name"], record["domain_id"])
        return self.changed(id, changes)

    def _unique(self, name: str, domain_id: str | None) -> None:
        """409 if a global role (``domain_id`` None) or one of ``domain_id`` already has ``name``."""
        if self.store.first(self.kind, name=name, domain_id=domain_id) is not None:
            raise conflict("role", f"Duplicate entry found with name {name}")

    @atomic
    def delete(self, id: str) -> None:
        self.get(id)
        self.identity.assignments.forget_role(id)
        self.store.delete_where(IMPLIED, prior_role_id=id)
        self.store.delete_where(IMPLIED, implied_role_id=id)
        self.store.delete(self.kind, id)

    # -- implied roles ----------------------------------------------------------------------

    def implied(self, role_ids: set[str]) -> set[str]:
        """``role_ids`` with every role they imply, transitively."""
        result, todo = set(role_ids), list(role_ids)
        while todo:
            for rule in self.store.find(IMPLIED, prior_role_id=todo.pop()):
                if rule["implied_role_id"] not in result:
                    result.add(rule["implied_role_id"])
                    todo.append(rule["implied_role_id"])
        return result

    def implied_by(self, role_id: str) -> list[tuple[str, str]]:
        """Every role ``role_id`` implies, transitively, as ``(implied, the role that implies it)``."""
        found: list[tuple[str, str]] = []
        seen, todo = {role_id}, [role_id]
        while todo:
            prior = todo.pop()
            for rule in self.store.find(IMPLIED, prior_role_id=prior):
                if rule["implied_role_id"] not in seen:
                    seen.add(rule["implied_role_id"])
                    found.append((rule["implied_role_id"], prior))
                    todo.append(rule["implied_role_id"])
        return found

    @staticmethod
    def _rule_key(prior_role_id: str, implied_role_id: str) -> str:
        return f"{prior_role_id}:{implied_role_id}"

    @atomic
    def imply(self, prior_role_id: str, implied_role_id: str) -> None:
        """``prior_role_id`` from now on implies ``implied_role_id`` (409 if it already does)."""
        prior, implied = self.get(prior_role_id), self.get(implied_role_id)
        if implied["name"] in PROHIBITED_IMPLIED:
            raise faults.Forbidden(f"{implied_role_id} cannot be an implied roles.")
        if prior["domain_id"] is None and implied["domain_id"]:
            raise faults.Forbidden("Global role cannot imply a domain-specific role")
        if prior_role_id == implied_role_id or prior_role_id in self.implied({implied_role_id}):
            raise faults.Forbidden(f"{implied_role_id} cannot be an implied roles: it would make a loop.")
        key = self._rule_key(prior_role_id, implied_role_id)
        if self.store.get(IMPLIED, key) is not None:
            raise conflict("implied_role", "Duplicate entry")
        self.store.put(IMPLIED, {"id": key, "prior_role_id": prior_role_id, "implied_role_id": implied_role_id})

    def implication(self, prior_role_id: str, implied_role_id: str) -> None:
        """404 unless ``prior_role_id`` directly implies ``implied_role_id``."""
        self.get(prior_role_id)
        self.get(implied_role_id)
        if self.store.get(IMPLIED, self._rule_key(prior_role_id, implied_role_id)) is None:
            raise faults.NotFound(f"{prior_role_id} does not imply {implied_role_id}.")

    @atomic
    def unimply(self, prior_role_id: str, implied_role_id: str) -> None:
        self.implication(prior_role_id, implied_role_id)
        self.store.delete(IMPLIED, self._rule_key(prior_role_id, implied_role_id))

    def implications_of(self, prior_role_id: str) -> list[Record]:
        """The roles ``prior_role_id`` directly implies."""
        self.get(prior_role_id)
        return self.many([r["implied_role_id"] for r in self.store.find(IMPLIED, prior_role_id=prior_role_id)])

    def inference_rules(self) -> dict[str, list[str]]:
        """Every prior role's id -> the ids of the roles it directly implies."""
        rules: dict[str, list[str]] = {}
        for rule in self.store.find(IMPLIED):
            rules.setdefault(rule["prior_role_id"], []).append(rule["implied_role_id"])
        return rules
