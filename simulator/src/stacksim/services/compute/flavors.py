"""Nova's flavors: the sizes a server comes in, their extra specs and who may use the private ones.

A flavor record keeps Nova's API names (``id`` is the flavor id clients use,
``serial`` the creation order Nova's internal id gives), its ``extra_specs``
and, for a private flavor, the ``projects`` that may see and use it.
"""

from __future__ import annotations

import uuid
from typing import Any

from stacksim import clock, faults
from stacksim.auth import Context
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


def not_found(flavor_id: str) -> faults.NotFound:
    return faults.NotFound(f"Flavor {flavor_id} could not be found.")


class Flavors:
    def __init__(self, store: Store) -> None:
        self.store = store

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

    def create(
        self,
        name: str,
        ram: int,
        vcpus: int,
        disk: int,
        *,
        id: str | None = None,
        ephemeral: int = 0,
        swap: int = 0,
        rxtx_factor: float = 1.0,
        is_public: bool = True,
        description: str | None = None,
    ) -> dict[str, Any]:
        flavor_id = str(uuid.uuid4()) if id in (None, "auto") else str(id)
        with self.store.transaction():
            if self.store.first(KIND, name=name) is not None:
                raise faults.Conflict(f"Flavor with name {name} already exists.")
            if self.store.get(KIND, flavor_id) is not None:
                raise faults.Conflict(f"Flavor with ID {flavor_id} already exists.")
            serial = max((r["serial"] for r in self.store.find(KIND)), default=0) + 1
            return self.store.put(
                KIND,
                {
                    "id": flavor_id,
                    "serial": serial,
                    "name": name,
                    "ram": ram,
                    "vcpus": vcpus,
                    "disk": disk,
                    "ephemeral": ephemeral,
                    "swap": swap,
                    "rxtx_factor": rxtx_factor,
                    "is_public": is_public,
                    "disabled": False,
                    "description": description,
                    "extra_specs": {},
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
    def update(self, flavor_id: str, description: str | None) -> dict[str, Any]:
        record = self._existing(flavor_id)
        record["description"] = description
        return self.store.put(KIND, record)

    def delete(self, flavor_id: str) -> None:
        self._existing(flavor_id)
        self.store.delete(KIND, flavor_id)

    # -- extra specs -----------------------------------------------------------------

    @atomic
    def set_extra_specs(self, flavor_id: str, specs: dict[str, str]) -> dict[str, str]:
        record = self._existing(flavor_id)
        record["extra_specs"].update(specs)
        self.store.put(KIND, record)
        return record["extra_specs"]

    def extra_spec(self, record: dict[str, Any], key: str) -> str:
        if key not in record["extra_specs"]:
            raise faults.NotFound(f"Flavor {record['id']} has no extra specs with key {key}.")
        return record["extra_specs"][key]

    @atomic
    def delete_extra_spec(self, flavor_id: str, key: str) -> None:
        record = self._existing(flavor_id)
        self.extra_spec(record, key)
        del record["extra_specs"][key]
        self.store.put(KIND, record)

    # -- access to private flavors ---------------------------------------------------------

    def access(self, flavor_id: str) -> list[dict[str, str]]:
        record = self._existing(flavor_id)
        if record["is_public"]:
            raise faults.NotFound("Access list not available for public flavors.")
        return [{"flavor_id": record["id"], "tenant_id": p} for p in record["projects"]]

    @atomic
    def add_access(self, flavor_id: str, project_id: str) -> list[dict[str, str]]:
        record = self._existing(flavor_id)
        if record["is_public"]:
            raise faults.Conflict("Can not add access to a public flavor.")
        if project_id in record["projects"]:
            raise faults.Conflict(
                f"Flavor access already exists for flavor {flavor_id} and project {project_id} combination."
            )
        record["projects"].append(project_id)
        self.store.put(KIND, record)
        return self.access(flavor_id)

    @atomic
    def remove_access(self, flavor_id: str, project_id: str) -> list[dict[str, str]]:
        record = self._existing(flavor_id)
        if project_id not in record["projects"]:
            raise faults.NotFound(f"Flavor access not found for {flavor_id} / {project_id} combination.")
        record["projects"].remove(project_id)
        self.store.put(KIND, record)
        return self.access(flavor_id)

    # -- bootstrap ---------------------------------------------------------------------

    def create_defaults(self) -> None:
        for name, flavor_id, ram, disk, vcpus in DEFAULTS:
            if self.store.get(KIND, flavor_id) is None and self.store.first(KIND, name=name) is None:
                self.create(name, ram, vcpus, disk, id=flavor_id)
