"""The service catalog: regions, services, endpoints and endpoint groups (OS-EP-FILTER).

A token's catalog is built from these records when it is issued or shown, so
a created, changed or deleted endpoint shows at once. The endpoints stacksim
registers for itself keep a ``path`` relative to its base URL (the URL follows
``--host``/``--port``); those an admin creates keep their ``url``. A project
with endpoint groups or endpoints associated with it sees only those in its
catalog (Keystone's endpoint filter); any other project sees them all.
"""

from __future__ import annotations

from typing import Any

from stacksim import faults
from stacksim.services.identity.common import Part, Record, conflict, new_id
from stacksim.services.identity.specs import EndpointGroupSpec, EndpointSpec, RegionSpec, ServiceSpec
from stacksim.store import atomic

INTERFACES = ("public", "internal", "admin")
#: the endpoint attributes an endpoint group may filter on
GROUP_FILTERS = ("service_id", "region_id", "interface")
GROUP_PROJECT = "endpoint_group_project"
PROJECT_ENDPOINT = "project_endpoint"
#: where an endpoint's URL takes the token's project (stacksim's own form, then Keystone's)
_PROJECT_MARKS = ("$(project_id)s", "%(project_id)s", "%(tenant_id)s")


def endpoint_url(record: Record, base_url: str) -> str:
    """Where an endpoint is: its ``url``, or stacksim's own base URL and its ``path``."""
    return base_url + record["path"] if record.get("path") is not None else record["url"]


class Regions(Part):
    kind = "region"
    label = "region"

    @atomic
    def create(self, spec: RegionSpec) -> Record:
        id = spec.id or new_id()
        if self.store.get(self.kind, id) is not None:
            raise conflict("region", f"Duplicate ID, {id}")
        if spec.parent_region_id is not None:
            self.get(spec.parent_region_id)
        return self.put_new(spec, id=id, description=spec.description or "")

    @atomic
    def update(self, id: str, changes: dict[str, Any]) -> Record:
        self.get(id)
        parent = changes.get("parent_region_id")
        if parent is not None:
            self.get(parent)
            if parent == id or id in self._ancestors(parent):
                raise faults.BadRequest(
                    f"The specified parent region {parent} would create a circular region hierarchy."
                )
        if "description" in changes and changes["description"] is None:
            changes = {**changes, "description": ""}
        return self.changed(id, changes)

    def _ancestors(self, id: str) -> list[str]:
        found: list[str] = []
        record = self.store.get(self.kind, id)
        while record and record.get("parent_region_id") and record["parent_region_id"] not in found:
            found.append(record["parent_region_id"])
            record = self.store.get(self.kind, record["parent_region_id"])
        return found

    def _tree(self, id: str) -> list[str]:
        """``id`` and every region below it."""
        tree, level = [id], [id]
        while level:
            level = [r["id"] for r in self.store.find_in(self.kind, "parent_region_id", level) if r["id"] not in tree]
            tree.extend(level)
        return tree

    @atomic
    def delete(self, id: str) -> None:
        """Delete a region and the regions below it, unless one of them has endpoints (403)."""
        self.get(id)
        tree = self._tree(id)
        if self.store.find_in("endpoint", "region_id", tree):
            raise faults.Forbidden(
                f"Unable to delete region {id} because it or its child regions have associated endpoints."
            )
        for region_id in tree:
            self.store.delete(self.kind, region_id)


class Services(Part):
    kind = "service"
    label = "service"

    @atomic
    def create(self, spec: ServiceSpec) -> Record:
        return self.put_new(spec)

    @atomic
    def update(self, id: str, changes: dict[str, Any]) -> Record:
        return self.changed(id, changes)

    @atomic
    def delete(self, id: str) -> None:
        """Delete a service and its endpoints."""
        self.get(id)
        for endpoint in self.store.find("endpoint", service_id=id):
            self.identity.catalog.endpoints.delete(endpoint["id"])
        self.store.delete(self.kind, id)


class Endpoints(Part):
    kind = "endpoint"
    label = "endpoint"

    def _check(self, service_id: str | None, region_id: str | None) -> None:
        if service_id is not None and self.store.get("service", service_id) is None:
            raise faults.BadRequest(
                "Expecting to find endpoint service_id in service table. The server could not comply with the "
                "request since it is either malformed or otherwise incorrect. The client is assumed to be in error."
            )
        if region_id is not None and self.store.get("region", region_id) is None:
            raise faults.BadRequest(
                "Expecting to find endpoint region_id in region table. The server could not comply with the "
                "request since it is either malformed or otherwise incorrect. The client is assumed to be in error."
            )

    @atomic
    def create(self, spec: EndpointSpec) -> Record:
        self._check(spec.service_id, spec.region_id)
        return self.put_new(spec)

    @atomic
    def update(self, id: str, changes: dict[str, Any]) -> Record:
        self.get(id)
        self._check(changes.get("service_id"), changes.get("region_id"))
        record = self.changed(id, changes)
        if "url" in changes and record.get("path") is not None:
            # An admin's URL replaces the one stacksim worked out for itself.
            record = self.store.update(self.kind, id, lambda r: {k: v for k, v in r.items() if k != "path"})
        return record

    @atomic
    def delete(self, id: str) -> None:
        self.get(id)
        self.store.delete_where(PROJECT_ENDPOINT, endpoint_id=id)
        self.store.delete(self.kind, id)


class EndpointGroups(Part):
    kind = "endpoint_group"
    label = "Endpoint Group"

    @staticmethod
    def _check_filters(filters: dict[str, Any]) -> None:
        if not filters:
            raise faults.BadRequest("filters field is required and cannot be empty")
        for key in filters:
            if key not in GROUP_FILTERS:
                raise faults.BadRequest(
                    f"Expecting to find {' or '.join(GROUP_FILTERS)} in endpoint_group. The server could not comply "
                    "with the request since it is either malformed or otherwise incorrect. The client is assumed "
                    "to be in error."
                )

    @atomic
    def create(self, spec: EndpointGroupSpec) -> Record:
        self._check_filters(spec.filters)
        return self.put_new(spec)

    @atomic
    def update(self, id: str, changes: dict[str, Any]) -> Record:
        if "filters" in changes:
            self._check_filters(changes["filters"])
        return self.changed(id, changes)

    @atomic
    def delete(self, id: str) -> None:
        self.get(id)
        self.store.delete_where(GROUP_PROJECT, endpoint_group_id=id)
        self.store.delete(self.kind, id)

    def endpoints(self, id: str) -> list[Record]:
        """The endpoints the group's filters select."""
        filters = self.get(id)["filters"]
        return self.store.find("endpoint", **filters)

    # -- projects ------------------------------------------------------------------------------

    @staticmethod
    def _association(id: str, project_id: str) -> str:
        return f"{id}:{project_id}"

    @atomic
    def associate(self, id: str, project_id: str) -> None:
        self.identity.projects.get(project_id)
        self.get(id)
        key = self._association(id, project_id)
        self.store.put(GROUP_PROJECT, {"id": key, "endpoint_group_id": id, "project_id": project_id})

    def association(self, id: str, project_id: str) -> Record:
        self.identity.projects.get(project_id)
        self.get(id)
        found = self.store.get(GROUP_PROJECT, self._association(id, project_id))
        if found is None:
            raise faults.NotFound(f"Could not find Endpoint Group Project Association: {id}, {project_id}.")
        return found

    @atomic
    def dissociate(self, id: str, project_id: str) -> None:
        self.association(id, project_id)
        self.store.delete(GROUP_PROJECT, self._association(id, project_id))

    def projects(self, id: str) -> list[Record]:
        self.get(id)
        ids = [a["project_id"] for a in self.store.find(GROUP_PROJECT, endpoint_group_id=id)]
        return self.identity.projects.many(ids)

    def of_project(self, project_id: str) -> list[Record]:
        self.identity.projects.get(project_id)
        return self.many([a["endpoint_group_id"] for a in self.store.find(GROUP_PROJECT, project_id=project_id)])


class Catalog:
    """The catalog's parts, and the catalog a token of a project sees."""

    def __init__(self, identity: Any) -> None:
        self.identity = identity
        self.store = identity.store
        self.regions = Regions(identity)
        self.services = Services(identity)
        self.endpoints = Endpoints(identity)
        self.endpoint_groups = EndpointGroups(identity)

    # -- project <-> endpoint (OS-EP-FILTER) ----------------------------------------------------

    def _pair(self, project_id: str, endpoint_id: str) -> str:
        self.identity.projects.get(project_id)
        self.endpoints.get(endpoint_id)
        return f"{project_id}:{endpoint_id}"

    def add_endpoint(self, project_id: str, endpoint_id: str) -> None:
        key = self._pair(project_id, endpoint_id)
        self.store.put(PROJECT_ENDPOINT, {"id": key, "project_id": project_id, "endpoint_id": endpoint_id})

    def check_endpoint(self, project_id: str, endpoint_id: str) -> None:
        if self.store.get(PROJECT_ENDPOINT, self._pair(project_id, endpoint_id)) is None:
            raise faults.NotFound(f"Endpoint {endpoint_id} is not associated with project {project_id}.")

    def remove_endpoint(self, project_id: str, endpoint_id: str) -> None:
        self.check_endpoint(project_id, endpoint_id)
        self.store.delete(PROJECT_ENDPOINT, self._pair(project_id, endpoint_id))

    def projects_of_endpoint(self, endpoint_id: str) -> list[Record]:
        self.endpoints.get(endpoint_id)
        ids = [a["project_id"] for a in self.store.find(PROJECT_ENDPOINT, endpoint_id=endpoint_id)]
        return self.identity.projects.many(ids)

    def endpoints_of_project(self, project_id: str) -> list[Record]:
        """The endpoints associated with the project, directly or through its endpoint groups."""
        self.identity.projects.get(project_id)
        ids = [a["endpoint_id"] for a in self.store.find(PROJECT_ENDPOINT, project_id=project_id)]
        found = {e["id"]: e for e in self.endpoints.many(ids)}
        for group in self.endpoint_groups.of_project(project_id):
            found.update((e["id"], e) for e in self.store.find("endpoint", **group["filters"]))
        return list(found.values())

    def forget_project(self, project_id: str) -> None:
        self.store.delete_where(PROJECT_ENDPOINT, project_id=project_id)
        self.store.delete_where(GROUP_PROJECT, project_id=project_id)

    # -- a token's catalog -------------------------------------------------------------------

    def entries(self, project_id: str | None, base_url: str) -> list[dict[str, Any]]:
        """The catalog of a token scoped to ``project_id`` (None: a domain or system token),
        as Keystone renders it: enabled services with their enabled endpoints."""
        allowed: set[str] | None = None
        if project_id and self.store.get("project", project_id) is not None:
            filtered = self.endpoints_of_project(project_id)
            allowed = {e["id"] for e in filtered} if filtered else None
        catalog = []
        for service in self.store.find("service", enabled=True):
            endpoints = []
            for ep in self.store.find("endpoint", service_id=service["id"], enabled=True):
                url = endpoint_url(ep, base_url)
                templated = any(mark in url for mark in _PROJECT_MARKS)
                if (allowed is not None and ep["id"] not in allowed) or (templated and not project_id):
                    continue
                for mark in _PROJECT_MARKS:
                    url = url.replace(mark, project_id or "")
                endpoints.append(
                    {
                        "id": ep["id"],
                        "interface": ep["interface"],
                        "region": ep["region_id"],
                        "region_id": ep["region_id"],
                        "url": url,
                    }
                )
            catalog.append(
                {
                    "id": service["id"],
                    "type": service["type"],
                    "name": service.get("name") or "",
                    "endpoints": endpoints,
                }
            )
        return catalog

    def ensure_service(self, type: str, name: str, description: str, region_id: str, paths: dict[str, str]) -> None:
        """Register one of stacksim's own services and its endpoints once (idempotent across restarts)."""
        service = self.store.first("service", type=type)
        if service is None:
            service = self.store.put(
                "service", {"id": new_id(), "type": type, "name": name, "description": description, "enabled": True}
            )
        for interface, path in paths.items():
            if not self.store.first("endpoint", service_id=service["id"], interface=interface):
                self.store.put(
                    "endpoint",
                    {
                        "id": new_id(),
                        "service_id": service["id"],
                        "interface": interface,
                        "region_id": region_id,
                        "path": path,
                        "enabled": True,
                    },
                )
