"""Nova's flavors: the sizes a server comes in, their extra specs and who may use the private ones.

A flavor record keeps Nova's API names (``id`` is the flavor id clients use,
``serial`` the creation order Nova's internal id gives), its ``extra_specs``
and, for a private flavor, the ``projects`` that may see and use it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from stacksim import clock, faults
from stacksim.auth import Context
from stacksim.services.compute import policy
from stacksim.services.compute.inputs import FlavorRequest, check_text
from stacksim.store import Store, atomic

KIND = "flavor"

#: DevStack's flavors: name, id, RAM (MiB), root disk (GiB), vCPUs.
DEFAULTS = (
    ("m1.tiny", "1", 512, 1, 1),
    ("m1.small", "2", 2048, 20, 1),
    ("m1.medium", "3", 4096, 40, 2),
    ("m1.large", "4", 8192, 80, 4),
    ("m1.xlarge", "5", 16384, 160, 8),
    ("m1.nano", "42", 128, 1, 1),
    ("m1.micro", "84", 192, 1, 1),
)
#: ``--flavors devstack``: DevStack's lib/nova set, for suites and playbooks written against
#: DevStack: its extra flavors (with ``hw_rng:allowed``), and not m1.nano/m1.micro, which only
#: DevStack's tempest set-up adds
DEVSTACK_EXTRA = (
    ("cirros256", "c1", 256, 1, 1),
    ("ds512M", "d1", 512, 5, 1),
    ("ds1G", "d2", 1024, 10, 1),
    ("ds2G", "d3", 2048, 10, 2),
    ("ds4G", "d4", 4096, 20, 4),
)
TEMPEST_ONLY = ("m1.nano", "m1.micro")
#: the bootstrap flavor sets (``--flavors``)
FLAVOR_SETS = ("default", "devstack")


def row_is_extra(name: str) -> bool:
    return any(row[0] == name for row in DEVSTACK_EXTRA)


def not_found(flavor_id: str) -> faults.NotFound:
    return faults.NotFound(f"Flavor {flavor_id} could not be found.")


class Flavors:
    def __init__(self, store: Store, check_project: Callable[[str], None] = lambda project_id: None) -> None:
        self.store = store
        #: raises Nova's 400 for a project Keystone does not know
        self.check_project = check_project

    # -- reading -----------------------------------------------------------------

    @staticmethod
    def can_see(ctx: Context, record: dict[str, Any]) -> bool:
        """Public flavors for everyone; private ones for admins and the projects given access."""
        return record["is_public"] or ctx.is_admin or ctx.project_id in record["projects"]

    def get(self, ctx: Context, flavor_id: str) -> dict[str, Any]:
        """The flavor record; NotFound ("Flavor <id> could not be found.") if missing or not visible."""
        record = self.store.get(KIND, str(flavor_id))
        if record is None or not self.can_see(ctx, record):
            raise not_found(flavor_id)
        return record

    def find(self, ctx: Context, ref: str) -> dict[str, Any]:
        """A flavor by id or, failing that, by its name (NotFound if none or several match)."""
        ref = str(ref)
        try:
            return self.get(ctx, ref)
        except faults.NotFound:
            pass
        named = [f for f in self.list(ctx, None) if f["name"] == ref]
        if len(named) != 1:
            raise not_found(ref)
        return named[0]

    def list(self, ctx: Context, is_public: bool | None = True) -> list[dict[str, Any]]:
        """Nova's selection: ``is_public`` True means the public ones plus the private ones the
        caller's project may use, False only private ones, None all; non-admins always get True
        and never see disabled flavors."""
        records = self.store.find(KIND)
        if not ctx.is_admin:
            is_public = True
            records = [r for r in records if not r["disabled"]]
        if is_public is None:
            return records
        if is_public:
            return [r for r in records if r["is_public"] or ctx.project_id in r["projects"]]
        return [r for r in records if not r["is_public"]]

    @staticmethod
    def snapshot(record: dict[str, Any]) -> dict[str, Any]:
        """What a server keeps of its flavor (Nova's embedded flavor from 2.47)."""
        return {
            "id": record["id"],
            "original_name": record["name"],
            "vcpus": record["vcpus"],
            "ram": record["ram"],
            "disk": record["disk"],
            "ephemeral": record["ephemeral"],
            "swap": record["swap"],
            "extra_specs": dict(record["extra_specs"]),
        }

    # -- writing -----------------------------------------------------------------

    def create(self, ctx: Context, req: FlavorRequest) -> dict[str, Any]:
        policy.authorize(ctx, "os_compute_api:os-flavor-manage:create")
        check_text(req)
        if req.projects and req.is_public:
            raise faults.Conflict("Can not add access to a public flavor.")
        for project_id in req.projects:
            self.check_project(project_id)
        with self.store.transaction():
            record = self.make(req)
            record["projects"] = list(dict.fromkeys(req.projects))
            return self.store.put(KIND, record)

    def make(self, req: FlavorRequest) -> dict[str, Any]:
        """Record a flavor (no policy: the cloud's own flavors)."""
        flavor_id = str(uuid.uuid4()) if req.id in (None, "auto") else str(req.id)
        with self.store.transaction():
            if self.store.first(KIND, name=req.name) is not None:
                raise faults.Conflict(f"Flavor with name {req.name} already exists.")
            if self.store.get(KIND, flavor_id) is not None:
                raise faults.Conflict(f"Flavor with ID {flavor_id} already exists.")
            serial = max((r["serial"] for r in self.store.find(KIND)), default=0) + 1
            return self.store.put(
                KIND,
                {
                    "id": flavor_id,
                    "serial": serial,
                    "name": req.name,
                    "ram": req.ram,
                    "vcpus": req.vcpus,
                    "disk": req.disk,
                    "ephemeral": req.ephemeral,
                    "swap": req.swap,
                    "rxtx_factor": req.rxtx_factor,
                    "is_public": req.is_public,
                    "disabled": False,
                    "description": req.description,
                    "extra_specs": {k: str(v) for k, v in req.extra_specs.items()},
                    "projects": [],
                    "created_at": clock.iso(clock.now(), micro=False),
                },
            )

    def _existing(self, flavor_id: str) -> dict[str, Any]:
        record = self.store.get(KIND, flavor_id)
        if record is None:
            raise not_found(flavor_id)
        return record

    @atomic
    def update(self, ctx: Context, flavor_id: str, description: str | None) -> dict[str, Any]:
        policy.authorize(ctx, "os_compute_api:os-flavor-manage:update")
        record = self._existing(flavor_id)
        record["description"] = description
        return self.store.put(KIND, record)

    def delete(self, ctx: Context, flavor_id: str) -> None:
        policy.authorize(ctx, "os_compute_api:os-flavor-manage:delete")
        self._existing(flavor_id)
        self.store.delete(KIND, flavor_id)

    # -- extra specs -----------------------------------------------------------------

    def extra_specs(self, ctx: Context, flavor_id: str) -> dict[str, str]:
        policy.authorize(ctx, "os_compute_api:os-flavor-extra-specs:index")
        return self.get(ctx, flavor_id)["extra_specs"]

    def extra_spec_of(self, ctx: Context, flavor_id: str, key: str) -> str:
        policy.authorize(ctx, "os_compute_api:os-flavor-extra-specs:show")
        return self.extra_spec(self.get(ctx, flavor_id), key)

    @atomic
    def set_extra_specs(self, ctx: Context, flavor_id: str, specs: dict[str, str], rule: str = "create") -> dict:
        policy.authorize(ctx, f"os_compute_api:os-flavor-extra-specs:{rule}")
        record = self._existing(flavor_id)
        record["extra_specs"].update(specs)
        self.store.put(KIND, record)
        return record["extra_specs"]

    @atomic
    def replace_extra_specs(self, ctx: Context, flavor_id: str, specs: dict[str, str]) -> dict[str, str]:
        """Make ``specs`` all of the flavor's extra specs (the policy of both create and delete)."""
        policy.authorize(ctx, "os_compute_api:os-flavor-extra-specs:create")
        policy.authorize(ctx, "os_compute_api:os-flavor-extra-specs:delete")
        record = self._existing(flavor_id)
        record["extra_specs"] = {k: str(v) for k, v in specs.items()}
        return self.store.put(KIND, record)["extra_specs"]

    def extra_spec(self, record: dict[str, Any], key: str) -> str:
        if key not in record["extra_specs"]:
            raise faults.NotFound(f"Flavor {record['id']} has no extra specs with key {key}.")
        return record["extra_specs"][key]

    @atomic
    def delete_extra_spec(self, ctx: Context, flavor_id: str, key: str) -> None:
        policy.authorize(ctx, "os_compute_api:os-flavor-extra-specs:delete")
        record = self._existing(flavor_id)
        self.extra_spec(record, key)
        del record["extra_specs"][key]
        self.store.put(KIND, record)

    # -- access to private flavors ---------------------------------------------------------

    def access(self, ctx: Context, flavor_id: str) -> list[dict[str, str]]:
        policy.authorize(ctx, "os_compute_api:os-flavor-access")
        record = self._existing(flavor_id)
        if record["is_public"]:
            raise faults.NotFound("Access list not available for public flavors.")
        return self._access(record)

    @staticmethod
    def _access(record: dict[str, Any]) -> list[dict[str, str]]:
        return [{"flavor_id": record["id"], "tenant_id": p} for p in record["projects"]]

    @atomic
    def add_access(self, ctx: Context, flavor_id: str, project_id: str) -> list[dict[str, str]]:
        policy.authorize(ctx, "os_compute_api:os-flavor-access:add_tenant_access")
        self.get(ctx, flavor_id)
        self.check_project(project_id)
        record = self._existing(flavor_id)
        if record["is_public"]:
            raise faults.Conflict("Can not add access to a public flavor.")
        if project_id in record["projects"]:
            raise faults.Conflict(
                f"Flavor access already exists for flavor {flavor_id} and project {project_id} combination."
            )
        record["projects"].append(project_id)
        self.store.put(KIND, record)
        return self._access(record)

    @atomic
    def remove_access(self, ctx: Context, flavor_id: str, project_id: str) -> list[dict[str, str]]:
        policy.authorize(ctx, "os_compute_api:os-flavor-access:remove_tenant_access")
        self.get(ctx, flavor_id)
        self.check_project(project_id)
        record = self._existing(flavor_id)
        if project_id not in record["projects"]:
            raise faults.NotFound(f"Flavor access not found for {flavor_id} / {project_id} combination.")
        record["projects"].remove(project_id)
        self.store.put(KIND, record)
        return self._access(record)

    @atomic
    def replace_access(self, ctx: Context, flavor_id: str, projects: tuple[str, ...]) -> list[dict[str, str]]:
        """Make ``projects`` all the projects a private flavor is for."""
        policy.authorize(ctx, "os_compute_api:os-flavor-access:add_tenant_access")
        policy.authorize(ctx, "os_compute_api:os-flavor-access:remove_tenant_access")
        record = self._existing(flavor_id)
        if record["is_public"]:
            if projects:
                raise faults.Conflict("Can not add access to a public flavor.")
            return []
        for project_id in projects:
            self.check_project(project_id)
        record["projects"] = list(dict.fromkeys(projects))
        return self._access(self.store.put(KIND, record))

    # -- bootstrap ---------------------------------------------------------------------

    def create_defaults(self, which: str = "default") -> None:
        """The bootstrap flavors of the set ``which`` (one of :data:`FLAVOR_SETS`)."""
        rows = list(DEFAULTS)
        if which == "devstack":
            rows = [row for row in rows if row[0] not in TEMPEST_ONLY] + list(DEVSTACK_EXTRA)
        for name, flavor_id, ram, disk, vcpus in rows:
            if self.store.get(KIND, flavor_id) is None and self.store.first(KIND, name=name) is None:
                specs = {"hw_rng:allowed": "True"} if which == "devstack" and row_is_extra(name) else {}
                self.make(FlavorRequest(name=name, ram=ram, vcpus=vcpus, disk=disk, id=flavor_id, extra_specs=specs))
