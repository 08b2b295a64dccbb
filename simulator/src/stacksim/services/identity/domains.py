"""Domains: the top of Keystone's hierarchy, each holding projects, users and groups."""

from __future__ import annotations

from typing import Any

from stacksim import faults
from stacksim.services.identity.common import DEFAULT_DOMAIN, Part, Record
from stacksim.services.identity.specs import DomainSpec
from stacksim.store import atomic


class Domains(Part):
    kind = "domain"
    label = "domain"

    def find_ref(self, ref: dict[str, Any]) -> Record:
        """A domain named by ``{"id": ...}`` or ``{"name": ...}``."""
        if ref.get("id"):
            return self.get(ref["id"])
        if ref.get("name"):
            found = self.store.first(self.kind, name=ref["name"])
            if found is None:
                raise faults.NotFound(f"Could not find domain: {ref['name']}.")
            return found
        raise faults.BadRequest("A domain must be given by 'id' or 'name'.")

    def enabled(self, id: str) -> bool:
        domain = self.store.get(self.kind, id)
        return bool(domain and domain["enabled"])

    @atomic
    def create(self, spec: DomainSpec) -> Record:
        self.unique_name(spec.name)
        return self.put_new(spec)

    @atomic
    def update(self, id: str, changes: dict[str, Any]) -> Record:
        record = self.get(id)
        if "name" in changes and changes["name"] != record["name"]:
            self.unique_name(changes["name"])
        return self.changed(id, changes)

    @atomic
    def delete(self, id: str) -> None:
        """Delete a disabled domain with everything in it (projects, users, groups, roles, grants)."""
        record = self.get(id)
        if id == DEFAULT_DOMAIN:
            raise faults.Forbidden("The default domain cannot be deleted.")
        if record["enabled"]:
            raise faults.Forbidden("Cannot delete a domain that is enabled, please disable it first.")
        identity = self.identity
        identity.projects.delete_all_in(id)
        for user in identity.users.find(domain_id=id):
            identity.users.delete(user["id"])
        for group in identity.groups.find(domain_id=id):
            identity.groups.delete(group["id"])
        for role in identity.roles.find(domain_id=id):
            identity.roles.delete(role["id"])
        identity.assignments.forget_target(domain_id=id)
        identity.limits.forget(domain_id=id)
        self.store.delete("domain_config", id)
        self.store.delete(self.kind, id)
