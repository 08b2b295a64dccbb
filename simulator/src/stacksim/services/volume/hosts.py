"""The volume services of the one host, as admins manage them: ``os-services`` and ``os-hosts``.

Three services run: ``cinder-scheduler`` and ``cinder-backup`` on ``stacksim``
and ``cinder-volume`` on ``stacksim@lvm`` (the backend). An admin may disable
a service (``cinder-volume`` disabled takes no new volumes: the scheduler
finds no backend) and freeze or thaw the backend: while it is frozen, new
volumes find no backend, and deleting volumes, taking and deleting snapshots
are refused, as Cinder refuses them ("Modification operations are not allowed
on frozen storage backends."). A service's state lives in a record only once an
admin changed it.

Not implemented: replication failover (``failover_host`` answers 400: no
replication targets), log levels (``set-log`` and ``get-log`` answer with
nothing changed), clusters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stacksim import faults
from stacksim.services.volume import common, pools
from stacksim.store import Store

KIND = "volume_service"
SCHEDULER, VOLUME, BACKUP = "cinder-scheduler", "cinder-volume", "cinder-backup"
#: binary -> host, in the order Cinder lists them
SERVICES = {SCHEDULER: pools.HOST, VOLUME: pools.BACKEND_HOST, BACKUP: pools.HOST}
#: binary -> topic (what ``os-hosts`` calls the service)
TOPICS = {SCHEDULER: "cinder-scheduler", VOLUME: "cinder-volume", BACKUP: "cinder-backup"}


@dataclass(frozen=True)
class ServiceChange:
    """``PUT /os-services/{enable,disable,disable-log-reason}``: which service, and why."""

    binary: str
    host: str | None = None
    disabled: bool = False
    reason: str | None = None


class Hosts:
    def __init__(self, store: Store) -> None:
        self.store = store

    # -- state ----------------------------------------------------------------------------------

    def state(self, binary: str) -> dict[str, Any]:
        found = self.store.get(KIND, binary)
        return found or {
            "id": binary,
            "binary": binary,
            "host": SERVICES[binary],
            "disabled": False,
            "disabled_reason": None,
            "frozen": False,
            "updated_at": None,
        }

    def services(self, host: str | None = None, binary: str | None = None) -> list[dict[str, Any]]:
        return [
            self.state(b)
            for b, h in SERVICES.items()
            if binary in (None, b) and (host is None or host in (h, h.split("@")[0]))
        ]

    def accepts_volumes(self) -> bool:
        """Can the scheduler place new volumes (the volume service is enabled and not frozen)?"""
        volume = self.state(VOLUME)
        return not volume["disabled"] and not volume["frozen"]

    def check_not_frozen(self) -> None:
        if self.state(VOLUME)["frozen"]:
            raise common.invalid_input("Modification operations are not allowed on frozen storage backends.")

    # -- admin actions ---------------------------------------------------------------------------

    def _service(self, binary: str, host: str | None) -> dict[str, Any]:
        if binary not in SERVICES or (host is not None and host != SERVICES[binary]):
            raise faults.NotFound(f"Service {binary} could not be found.")
        return self.state(binary)

    def change(self, request: ServiceChange) -> dict[str, Any]:
        """Enable or disable a service (with a reason)."""
        with self.store.transaction():
            record = self._service(request.binary, request.host)
            record.update(disabled=request.disabled, disabled_reason=request.reason if request.disabled else None)
            record["updated_at"] = common.now()
            return self.store.put(KIND, record)

    def freeze(self, host: str | None, frozen: bool) -> None:
        """Freeze (or thaw) the backend ``host``: 400 if it is not ours or already so."""
        if host != pools.BACKEND_HOST:
            raise common.invalid_input(f"Service {host} could not be found.")
        with self.store.transaction():
            record = self.state(VOLUME)
            if record["frozen"] == frozen:
                expected = "False" if frozen else "True"
                raise common.invalid_input(
                    f"No service could be changed: frozen in ['{host}'] must be {expected} to failover."
                )
            record.update(frozen=frozen, updated_at=common.now())
            self.store.put(KIND, record)

    # -- os-hosts -----------------------------------------------------------------------------------

    def hosts(self, zone: str | None = None) -> list[dict[str, Any]]:
        """The enabled services, as ``os-hosts`` lists them."""
        if zone not in (None, "", common.ZONE):
            return []
        return [
            {
                "host_name": s["host"],
                "service": TOPICS[s["binary"]],
                "zone": common.ZONE,
                "service-status": "available",
                "service-state": "enabled",
                "last-update": s["updated_at"] or common.now(),
            }
            for s in self.services()
            if not s["disabled"]
        ]

    def usage(self, host: str, volumes: list[dict[str, Any]], snapshots: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``os-hosts/{host}``: volume and snapshot counts and gigabytes on the backend, in total and per project."""
        if host != pools.BACKEND_HOST:
            raise faults.NotFound(f"Host {host} could not be found.")
        placed = [v for v in volumes if v.get("host")]
        ids = {v["id"] for v in placed}
        snaps = [s for s in snapshots if s["volume_id"] in ids]

        def resource(project: str, vols: list[dict[str, Any]], snps: list[dict[str, Any]]) -> dict[str, Any]:
            return {
                "resource": {
                    "host": host,
                    "project": project,
                    "volume_count": str(len(vols)),
                    "total_volume_gb": str(sum(v["size"] for v in vols)),
                    "snapshot_count": str(len(snps)),
                    "total_snapshot_gb": str(sum(s["size"] for s in snps)),
                }
            }

        projects = sorted({v["project_id"] for v in placed})
        return [resource("(total)", placed, snaps)] + [
            resource(p, [v for v in placed if v["project_id"] == p], [s for s in snaps if s["project_id"] == p])
            for p in projects
        ]
