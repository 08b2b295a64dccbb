"""Host aggregates (admins): named groups of compute hosts with metadata, and availability zones.

An aggregate with an ``availability_zone`` (kept in its metadata, as Nova
keeps it) puts its hosts in that zone: a server made afterwards on the host
is in it, ``os-availability-zone`` lists it and a create may ask for it. The
one compute host is ``stacksim``; adding any other host is Nova's 404.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from stacksim import faults
from stacksim.auth import Context
from stacksim.services.compute import policy
from stacksim.store import Store
from stacksim.toolkit import naive_timestamp

if TYPE_CHECKING:
    from stacksim.services.compute.hosts import Hosts

KIND = "aggregate"
ZONE_KEY = "availability_zone"


def _not_found(aggregate_id: Any) -> faults.NotFound:
    return faults.NotFound(f"Aggregate {aggregate_id} could not be found.")


class Aggregates:
    def __init__(self, store: Store, hosts: Hosts) -> None:
        self.store = store
        self.hosts = hosts

    def _authorize(self, ctx: Context, rule: str) -> None:
        policy.authorize(ctx, f"os_compute_api:os-aggregates:{rule}")

    def list(self, ctx: Context) -> list[dict[str, Any]]:
        self._authorize(ctx, "index")
        return sorted(self.store.find(KIND), key=lambda a: a["number"])

    def _get(self, aggregate_id: str) -> dict[str, Any]:
        if not str(aggregate_id).lstrip("-").isdigit():
            raise faults.BadRequest("Invalid input received: id must be an integer")
        record = self.store.get(KIND, str(int(aggregate_id)))
        if record is None:
            raise _not_found(aggregate_id)
        return record

    def show(self, ctx: Context, aggregate_id: str) -> dict[str, Any]:
        self._authorize(ctx, "show")
        return self._get(aggregate_id)

    def _name_free(self, name: str, other_than: str | None = None) -> None:
        for record in self.store.find(KIND, name=name):
            if record["id"] != other_than:
                raise faults.Conflict(f"Aggregate {name} already exists.")

    def create(self, ctx: Context, name: str, availability_zone: str | None = None) -> dict[str, Any]:
        self._authorize(ctx, "create")
        with self.store.transaction():
            self._name_free(name)
            number = max((r["number"] for r in self.store.find(KIND)), default=0) + 1
            record = {
                "id": str(number),
                "number": number,
                "uuid": str(uuid.uuid4()),
                "name": name,
                "availability_zone": availability_zone,
                "hosts": [],
                "metadata": {ZONE_KEY: availability_zone} if availability_zone else {},
                "created_at": naive_timestamp(),
                "updated_at": None,
                "deleted_at": None,
                "deleted": False,
            }
            return self.store.put(KIND, record)

    def update(
        self, ctx: Context, aggregate_id: str, name: str | None = None, availability_zone: Any = ...
    ) -> dict[str, Any]:
        self._authorize(ctx, "update")
        with self.store.transaction():
            record = self._get(aggregate_id)
            if name is not None:
                self._name_free(name, other_than=record["id"])
                record["name"] = name
            if availability_zone is not ...:
                self._set_zone(record, availability_zone, "update")
            record["updated_at"] = naive_timestamp()
            return self.store.put(KIND, record)

    def _set_zone(self, record: dict[str, Any], zone: str | None, action: str) -> None:
        if record["hosts"] and zone != record["availability_zone"]:
            servers_here = self.hosts.servers()
            if servers_here:
                raise faults.BadRequest(
                    f"Cannot {action} aggregate {record['number']}. Reason: One or more hosts contain instances in "
                    "this zone."
                )
        record["availability_zone"] = zone
        if zone:
            record["metadata"][ZONE_KEY] = zone
        else:
            record["metadata"].pop(ZONE_KEY, None)

    def delete(self, ctx: Context, aggregate_id: str) -> None:
        self._authorize(ctx, "delete")
        with self.store.transaction():
            record = self._get(aggregate_id)
            if record["hosts"]:
                raise faults.BadRequest(
                    f"Cannot remove aggregate {record['number']}. Reason: Host aggregate is not empty."
                )
            self.store.delete(KIND, record["id"])

    def add_host(self, ctx: Context, aggregate_id: str, host: str) -> dict[str, Any]:
        self._authorize(ctx, "add_host")
        with self.store.transaction():
            record = self._get(aggregate_id)
            if not self.hosts.is_compute_host(host):
                raise faults.NotFound(f"Compute host {host} could not be found.")
            if host in record["hosts"]:
                raise faults.Conflict(f"Aggregate {record['number']} already has host {host}.")
            zone = record["availability_zone"]
            if zone and self.hosts.servers() and zone != self.zone_of(host):
                raise faults.Conflict(
                    f"Cannot add host to aggregate {record['number']}. Reason: One or more hosts contain instances "
                    "in this zone."
                )
            record["hosts"].append(host)
            record["updated_at"] = naive_timestamp()
            return self.store.put(KIND, record)

    def remove_host(self, ctx: Context, aggregate_id: str, host: str) -> dict[str, Any]:
        self._authorize(ctx, "remove_host")
        with self.store.transaction():
            record = self._get(aggregate_id)
            if host not in record["hosts"]:
                raise faults.NotFound(f"Cannot remove host {host} in aggregate {aggregate_id}")
            record["hosts"].remove(host)
            record["updated_at"] = naive_timestamp()
            return self.store.put(KIND, record)

    def set_metadata(self, ctx: Context, aggregate_id: str, metadata: dict[str, str | None]) -> dict[str, Any]:
        """Set (or, with a None value, remove) metadata keys; ``availability_zone`` moves the zone."""
        self._authorize(ctx, "set_metadata")
        with self.store.transaction():
            record = self._get(aggregate_id)
            for key, value in metadata.items():
                if key == ZONE_KEY:
                    self._set_zone(record, value, "update aggregate metadata of")
                elif value is None:
                    record["metadata"].pop(key, None)
                else:
                    record["metadata"][key] = value
            record["updated_at"] = naive_timestamp()
            return self.store.put(KIND, record)

    def zone_of(self, host: str) -> str | None:
        return zone_of(self.store, host)


def zone_of(store: Store, host: str) -> str | None:
    """The availability zone an aggregate puts ``host`` in (None: the default zone)."""
    for record in store.find(KIND):
        if host in record["hosts"] and record.get("availability_zone"):
            return record["availability_zone"]
    return None
