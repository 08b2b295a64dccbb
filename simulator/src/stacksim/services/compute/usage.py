"""Usage reports (``os-simple-tenant-usage``): server hours and what they used, per project.

A server counts for the part of the period between its launch and its
deletion (or the period's end); deleted servers count too, from their
tombstones, as Nova counts soft-deleted instances. The totals are hours
times the flavor's vCPUs, MiB of RAM and GiB of disk.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from stacksim import clock, faults
from stacksim.auth import Context
from stacksim.services.compute import policy
from stacksim.services.compute.servers import GONE, KIND

if TYPE_CHECKING:
    from stacksim.services.compute.model import Compute

#: The formats Nova reads ``start`` and ``end`` in.
FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M:%S.%f")


def parse_moment(text: str | None) -> datetime:
    """A period's bound as Nova reads it (now when not given); 400 otherwise."""
    if not text:
        return clock.now()
    for fmt in FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise faults.BadRequest("Invalid datetime string: Datetime is in invalid format")


def _naive(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


class Usage:
    def __init__(self, compute: Compute) -> None:
        self.compute = compute
        self.store = compute.store

    def report(
        self,
        ctx: Context,
        start: datetime,
        end: datetime,
        project_id: str | None = None,
        detailed: bool = True,
        limit: int | None = None,
        marker: str | None = None,
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The usage of one project (``project_id``; a reader of it may ask) or of all (admins):
        ``(per-project summaries, every server's usage)``, the servers paged by ``marker`` (a
        server id) and ``limit``."""
        if project_id is None:
            policy.authorize(ctx, "os_compute_api:os-simple-tenant-usage:list")
        else:
            policy.authorize(ctx, "os_compute_api:os-simple-tenant-usage:show", project_id)
        if not start < end:
            raise faults.BadRequest("Invalid start time. The start time cannot occur after the end time.")
        end = min(end, clock.now())
        servers = self._active_in(start, end, project_id)
        if marker is not None:
            index = next((i for i, s in enumerate(servers) if s["id"] == marker), None)
            if index is None:
                raise faults.BadRequest(f"Marker {marker} could not be found.")
            servers = servers[index + 1 :]
        if limit is not None:
            servers = servers[:limit]
        summaries: dict[str, dict[str, Any]] = {}
        usages = []
        for server in servers:
            usage = self._server_usage(server, start, end)
            summary = summaries.setdefault(
                server["project_id"],
                {
                    "tenant_id": server["project_id"],
                    **({"server_usages": []} if detailed else {}),
                    "total_local_gb_usage": 0,
                    "total_vcpus_usage": 0,
                    "total_memory_mb_usage": 0,
                    "total_hours": 0,
                    "start": _naive(start),
                    "stop": _naive(end),
                },
            )
            hours = usage["hours"]
            summary["total_local_gb_usage"] += usage["local_gb"] * hours
            summary["total_vcpus_usage"] += usage["vcpus"] * hours
            summary["total_memory_mb_usage"] += usage["memory_mb"] * hours
            summary["total_hours"] += hours
            if detailed:
                summary["server_usages"].append(usage)
            usages.append(usage)
        return list(summaries.values()), usages

    def _active_in(self, start: datetime, end: datetime, project_id: str | None) -> list[dict[str, Any]]:
        """Live and deleted servers launched before ``end`` and not ended before ``start``, oldest first."""
        equal = {"project_id": project_id} if project_id else {}
        found = []
        for server in self.store.query(KIND, equal) + self.store.query(GONE, equal):
            launched, ended = _moment(server.get("launched_at")), _moment(server.get("terminated_at"))
            if launched is None or launched > end or (ended is not None and ended < start):
                continue
            found.append(server)
        return sorted(found, key=lambda s: (s["created"], s["id"]))

    @staticmethod
    def _server_usage(server: dict[str, Any], start: datetime, end: datetime) -> dict[str, Any]:
        launched = _moment(server["launched_at"])
        ended = _moment(server.get("terminated_at"))
        assert launched is not None
        hours = max(0.0, ((min(end, ended) if ended else end) - max(launched, start)).total_seconds() / 3600)
        flavor = server["flavor"]
        uptime_end = ended or clock.now()
        return {
            "hours": hours,
            "flavor": flavor.get("original_name") or flavor.get("name") or "",
            "instance_id": server["id"],
            "name": server["name"],
            "tenant_id": server["project_id"],
            "memory_mb": flavor["ram"],
            "local_gb": flavor["disk"] + flavor.get("ephemeral", 0),
            "vcpus": flavor["vcpus"],
            "started_at": _naive(launched),
            "ended_at": _naive(ended) if ended else None,
            "state": "terminated" if ended else server["vm_state"],
            "uptime": int((uptime_end - launched).total_seconds()),
        }


def _moment(text: str | None) -> datetime | None:
    return clock.parse(text) if text else None
