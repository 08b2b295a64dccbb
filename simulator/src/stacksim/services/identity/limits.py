"""Unified limits: registered (default) limits per service and resource, and project or domain limits.

The enforcement model is Keystone's default, ``flat``: a project's limit does
not depend on its parents'. stacksim's own services keep their own quotas;
these limits are stored and served for the clients (oslo.limit) that read them.
"""

from __future__ import annotations

from typing import Any

from stacksim import faults
from stacksim.services.identity.common import Part, Record, conflict
from stacksim.services.identity.specs import LimitSpec, RegisteredLimitSpec
from stacksim.store import atomic

MODEL = {
    "name": "flat",
    "description": "Limit enforcement and validation does not take project hierarchy into consideration.",
}


def _refers(store: Any, target: str, service_id: str | None, region_id: str | None) -> None:
    """400 unless the service and the region a limit names exist (as Keystone's ValidationError)."""
    for kind, value in (("service", service_id), ("region", region_id)):
        if value is not None and store.get(kind, value) is None:
            raise faults.BadRequest(
                f"Expecting to find {kind}_id in {target}. The server could not comply with the request since it "
                "is either malformed or otherwise incorrect. The client is assumed to be in error."
            )


class RegisteredLimits(Part):
    kind = "registered_limit"
    label = "registered limit"
    missing = "Could not find {label} for {id}."

    def _unique(self, service_id: str, resource_name: str, region_id: str | None, but: str | None = None) -> None:
        for other in self.find(service_id=service_id, resource_name=resource_name, region_id=region_id):
            if other["id"] != but:
                raise conflict("registered_limit", "Duplicate entry")

    @atomic
    def create(self, specs: list[RegisteredLimitSpec]) -> list[Record]:
        """All of ``specs`` or none of them."""
        made = []
        for spec in specs:
            _refers(self.store, "registered_limit", spec.service_id, spec.region_id)
            self._unique(spec.service_id, spec.resource_name, spec.region_id)
            made.append(self.put_new(spec))
        return made

    def _unused(self, record: Record) -> None:
        if self.identity.limits.of_registered(record):
            raise faults.Forbidden(
                f"Unable to update or delete registered limit {record['id']} because there are project limits "
                "associated with it."
            )

    @atomic
    def update(self, id: str, changes: dict[str, Any]) -> Record:
        record = self.get(id)
        merged = {**record, **changes}
        if {"service_id", "region_id", "resource_name"} & changes.keys():
            self._unused(record)
            _refers(self.store, "registered_limit", changes.get("service_id"), changes.get("region_id"))
            self._unique(merged["service_id"], merged["resource_name"], merged["region_id"], but=id)
        return self.changed(id, changes)

    @atomic
    def delete(self, id: str) -> None:
        self._unused(self.get(id))
        self.store.delete(self.kind, id)


class Limits(Part):
    kind = "limit"
    label = "limit"
    missing = "Could not find {label} for {id}."

    def of_registered(self, registered: Record) -> list[Record]:
        return self.find(
            service_id=registered["service_id"],
            resource_name=registered["resource_name"],
            region_id=registered.get("region_id"),
        )

    @atomic
    def create(self, specs: list[LimitSpec]) -> list[Record]:
        """All of ``specs`` or none; each needs a registered limit for its service, region and resource."""
        made = []
        for spec in specs:
            _refers(self.store, "limit", spec.service_id, spec.region_id)
            project_id, domain_id = spec.project_id, spec.domain_id
            if project_id is not None and self.store.get("project", project_id) is None:
                if self.store.get("domain", project_id) is None:
                    raise faults.BadRequest("Expecting to find project_id in limit.")
                project_id, domain_id = None, project_id  # a domain named as a project: a domain limit
            if domain_id is not None and self.store.get("domain", domain_id) is None:
                raise faults.BadRequest("Expecting to find domain_id in limit.")
            if (project_id is None) == (domain_id is None):
                raise faults.BadRequest("Invalid input for field 'limit': give a project_id or a domain_id.")
            if not self.store.first(
                "registered_limit",
                service_id=spec.service_id,
                resource_name=spec.resource_name,
                region_id=spec.region_id,
            ):
                raise faults.Forbidden("Unable to create a limit that has no corresponding registered limit.")
            owner = {"project_id": project_id} if project_id else {"domain_id": domain_id}
            if self.find(
                service_id=spec.service_id, resource_name=spec.resource_name, region_id=spec.region_id, **owner
            ):
                raise conflict("limit", "Duplicate entry")
            made.append(self.put_new(spec, project_id=project_id, domain_id=domain_id))
        return made

    @atomic
    def update(self, id: str, changes: dict[str, Any]) -> Record:
        """Only a limit's value and description change (as Keystone)."""
        self.get(id)
        return self.changed(id, {k: v for k, v in changes.items() if k in ("resource_limit", "description")})

    @atomic
    def delete(self, id: str) -> None:
        self.get(id)
        self.store.delete(self.kind, id)

    def visible(self, filters: dict[str, Any], project_id: str | None, domain_id: str | None, everything: bool):
        """The limits a caller may list: all for a cloud admin or a system token, those of its
        domain's projects for a domain token, its project's for a project token."""
        found = self.find(**filters)
        if everything:
            return found
        if domain_id:
            projects = {p["id"] for p in self.identity.projects.find(domain_id=domain_id)}
            return [x for x in found if x.get("project_id") in projects or x.get("domain_id") == domain_id]
        return [x for x in found if project_id and x.get("project_id") == project_id]

    def forget(self, project_id: str | None = None, domain_id: str | None = None) -> None:
        self.store.delete_where(self.kind, **({"project_id": project_id} if project_id else {"domain_id": domain_id}))
