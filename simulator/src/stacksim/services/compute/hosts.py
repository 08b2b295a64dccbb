"""The compute host: its Nova services, its hypervisor and the availability zones.

There is one host, ``stacksim``, in the zone ``nova``; it runs ``nova-compute``
there and ``nova-scheduler`` and ``nova-conductor`` in the ``internal`` zone,
as an all-in-one DevStack does. The hypervisor reports the capacity of the
machine stacksim runs on and the usage of the servers it holds (their
records). The compute service can be disabled or forced down; then the host
takes no new servers and the zone ``nova`` is shown unavailable.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

from stacksim import clock, faults
from stacksim.auth import Context
from stacksim.services.compute import policy
from stacksim.services.compute.aggregates import KIND as AGGREGATE_KIND
from stacksim.services.compute.aggregates import zone_of
from stacksim.services.compute.quotas import flavor_sizes, live_servers
from stacksim.store import Store

HOST = "stacksim"
ZONE = "nova"
INTERNAL_ZONE = "internal"
SERVICE_KIND = "compute_service"
HYPERVISOR_KIND = "hypervisor"
#: binary -> zone, in Nova's order of registration.
BINARIES = {"nova-scheduler": INTERNAL_ZONE, "nova-conductor": INTERNAL_ZONE, "nova-compute": ZONE}
#: Memory Nova keeps for the host itself (``reserved_host_memory_mb``).
RESERVED_HOST_MEMORY_MB = 512
#: Statuses of servers that are not on the host.
OFF_HOST = frozenset({"SHELVED_OFFLOADED"})


def _nova_time() -> str:
    return clock.now().strftime("%Y-%m-%dT%H:%M:%S.%f")


class Hosts:
    def __init__(
        self, store: Store, driver: str = "fake", host_ip: str = "127.0.0.1", data_dir: Path | None = None
    ) -> None:
        self.store = store
        self.driver = driver
        self.host_ip = host_ip
        self.data_dir = data_dir
        self.started = time.time()

    def ensure(self) -> None:
        """Make the service and hypervisor records if they are missing (every start)."""
        with self.store.transaction():
            for number, (binary, zone) in enumerate(BINARIES.items(), start=1):
                if self.store.first(SERVICE_KIND, binary=binary) is None:
                    self.store.put(
                        SERVICE_KIND,
                        {
                            "id": str(uuid.uuid4()),
                            "number": number,
                            "binary": binary,
                            "host": HOST,
                            "zone": zone,
                            "disabled": False,
                            "disabled_reason": None,
                            "forced_down": False,
                            "created_at": _nova_time(),
                        },
                    )
            if self.store.first(HYPERVISOR_KIND) is None:
                self.store.put(HYPERVISOR_KIND, {"id": str(uuid.uuid4()), "number": 1, "hostname": HOST, "host": HOST})

    # -- services -----------------------------------------------------------------------

    def services(self) -> list[dict[str, Any]]:
        return sorted(self.store.find(SERVICE_KIND), key=lambda s: s["number"])

    def service(self, ref: str) -> dict[str, Any] | None:
        """A service by uuid or by its integer id."""
        found = self.store.get(SERVICE_KIND, ref)
        if found is None and ref.isdigit():
            found = self.store.first(SERVICE_KIND, number=int(ref))
        return found

    def find_service(self, host: str, binary: str) -> dict[str, Any]:
        found = self.store.first(SERVICE_KIND, host=host, binary=binary)
        if found is None:
            raise faults.NotFound(f"Could not find binary {binary} on host {host}.")
        return found

    def update_service(self, record: dict[str, Any], **changes: Any) -> dict[str, Any]:
        """Set ``changes`` on the service as it is now (one store transaction)."""
        return self.store.update(
            SERVICE_KIND, record["id"], lambda current: {**current, **changes, "updated_at": _nova_time()}
        )

    # -- for the API (admins only, as Nova's policy says) ---------------------------------------------

    @staticmethod
    def authorize(ctx: Context, rule: str) -> None:
        policy.authorize(ctx, f"os_compute_api:{rule}")

    def list_services(self, ctx: Context, host: str | None = None, binary: str | None = None) -> list[dict]:
        self.authorize(ctx, "os-services:list")
        found = self.services()
        if host is not None:
            found = [s for s in found if s["host"] == host]
        if binary is not None:
            found = [s for s in found if s["binary"] == binary]
        return found

    def set_service(
        self, ctx: Context, action: str, host: str, binary: str, reason: str | None, forced_down: bool | None
    ) -> dict[str, Any]:
        """The pre-2.53 ``PUT /os-services/{enable,disable,disable-log-reason,force-down}``."""
        self.authorize(ctx, "os-services:update")
        service = self.find_service(host, binary)
        if action == "force-down":
            if forced_down is None:
                raise faults.BadRequest("Invalid input for field/attribute forced_down. 'forced_down' is required.")
            return self.update_service(service, forced_down=forced_down)
        if action == "enable":
            return self.update_service(service, disabled=False, disabled_reason=None)
        if action == "disable-log-reason" and not reason:
            raise faults.BadRequest("Missing disabled reason field")
        return self.update_service(service, disabled=True, disabled_reason=reason if action != "disable" else None)

    def change_service(
        self, ctx: Context, ref: str, status: str | None, reason: str | None, forced_down: bool | None
    ) -> dict[str, Any]:
        """The 2.53 ``PUT /os-services/{service_id}``."""
        self.authorize(ctx, "os-services:update")
        service = self.service(ref)
        if service is None:
            raise faults.NotFound(f"Service {ref} could not be found.")
        if status is None and forced_down is None:
            raise faults.BadRequest("No updates were requested. Fields 'status' or 'forced_down' should be specified.")
        if reason is not None and status != "disabled":
            raise faults.BadRequest(f"Specifying 'disabled_reason' with status '{status}' is invalid.")
        if service["binary"] != "nova-compute":
            raise faults.BadRequest(
                f"Updating a {service['binary']} service is not supported. Only nova-compute services can be updated."
            )
        changes: dict[str, Any] = {}
        if status is not None:
            changes["disabled"] = status == "disabled"
            changes["disabled_reason"] = reason if status == "disabled" else None
        if forced_down is not None:
            changes["forced_down"] = forced_down
        return self.update_service(service, **changes)

    def hypervisor_for(self, ctx: Context, rule: str) -> dict[str, Any]:
        """The hypervisor record, for a caller ``os-hypervisors:<rule>`` lets see it."""
        self.authorize(ctx, f"os-hypervisors:{rule}")
        return self.hypervisor()

    def migrations(self, ctx: Context, project_id: str | None) -> list[dict[str, Any]]:
        """Nova's migrations (none: one host migrates nothing, and a resize is done in place)."""
        self.authorize(ctx, "os-migrations:index")
        if not project_id or project_id != ctx.project_id:
            self.authorize(ctx, "os-migrations:index:all_projects")
        return []

    def is_compute_host(self, host: str) -> bool:
        return host == HOST

    def zone_of(self, service: dict[str, Any]) -> str:
        """A service's zone: the internal one, or the compute host's (an aggregate's, or ``nova``)."""
        if service["zone"] == INTERNAL_ZONE:
            return INTERNAL_ZONE
        return self.host_zone()

    def host_zone(self) -> str:
        # Read on every create: kept until an aggregate is written (or a transaction rolls back).
        return self.store.cached((AGGREGATE_KIND,), "host_zone", lambda: zone_of(self.store, HOST) or ZONE)

    @staticmethod
    def is_up(service: dict[str, Any]) -> bool:
        return not service["forced_down"]

    def compute_service(self) -> dict[str, Any]:
        return self.find_service(HOST, "nova-compute")

    def accepting(self) -> bool:
        """Does the host take new servers (nova-compute enabled and up)? Asked by every create: the
        answer is kept until a service record is written (or a transaction rolls back)."""

        def read() -> bool:
            service = self.compute_service()
            return not service["disabled"] and self.is_up(service)

        return self.store.cached((SERVICE_KIND,), "accepting", read)

    # -- availability zones ----------------------------------------------------------------------

    def zones(self) -> dict[str, bool]:
        """Zone name -> available, for the zones with compute hosts (Nova's public list)."""
        return {self.host_zone(): not self.compute_service()["disabled"]}

    def zone_list(self, ctx: Context, detail: bool = False) -> dict[str, bool]:
        self.authorize(ctx, f"os-availability-zone:{'detail' if detail else 'list'}")
        return self.zones()

    def check_zone(self, requested: str | None) -> None:
        """For a server create: ``nova``, ``nova:stacksim`` or ``nova:stacksim:stacksim`` (or none).

        BadRequest ("The requested availability zone is not available") otherwise.
        """
        if not requested:
            return
        zone, _, rest = requested.partition(":")
        host, _, node = rest.partition(":")
        if zone != self.host_zone() or host not in ("", HOST) or node not in ("", HOST):
            raise faults.BadRequest("The requested availability zone is not available")

    # -- the hypervisor ---------------------------------------------------------------------------

    def hypervisor(self) -> dict[str, Any]:
        found = self.store.first(HYPERVISOR_KIND)
        assert found is not None, "Hosts.ensure() runs at start"
        return found

    def servers(self) -> list[dict[str, Any]]:
        """The server records on the host."""
        return [s for s in live_servers(self.store) if s.get("status") not in OFF_HOST]

    def capacity(self) -> dict[str, int]:
        """The machine's vCPUs, memory (MiB) and disk (GiB) where state is kept."""
        try:
            memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024)
        except (ValueError, OSError, AttributeError):
            memory = 16384
        disk = shutil.disk_usage(self.data_dir or Path.cwd()).total // (1024**3)
        return {"vcpus": os.cpu_count() or 1, "memory_mb": int(memory), "local_gb": int(disk)}

    def usage(self) -> dict[str, int]:
        servers = self.servers()
        disk = 0
        for server in servers:
            flavor = server.get("flavor") or {}
            disk += int(flavor.get("disk") or 0) + int(flavor.get("ephemeral") or 0)
        return {
            "vcpus_used": sum(flavor_sizes(s)[0] for s in servers),
            "memory_mb_used": RESERVED_HOST_MEMORY_MB + sum(flavor_sizes(s)[1] for s in servers),
            "local_gb_used": disk,
            "running_vms": len(servers),
        }

    def resources(self) -> dict[str, Any]:
        """Nova's hypervisor resource fields (those removed in microversion 2.88)."""
        cap, used = self.capacity(), self.usage()
        free_disk = cap["local_gb"] - used["local_gb_used"]
        return {
            "vcpus": cap["vcpus"],
            "memory_mb": cap["memory_mb"],
            "local_gb": cap["local_gb"],
            **used,
            "free_ram_mb": cap["memory_mb"] - used["memory_mb_used"],
            "free_disk_gb": free_disk,
            "current_workload": 0,
            "disk_available_least": free_disk,
        }

    def cpu_info(self) -> dict[str, Any]:
        return {
            "arch": platform.machine() or "x86_64",
            "model": "stacksim",
            "vendor": "stacksim",
            "topology": {"cells": 1, "sockets": 1, "cores": os.cpu_count() or 1, "threads": 1},
            "features": [],
        }

    def cpu_info_text(self) -> str:
        return json.dumps(self.cpu_info())

    @property
    def hypervisor_type(self) -> str:
        return {"fake": "fake", "docker": "docker"}.get(self.driver, self.driver)

    def uptime(self) -> str:
        """The ``uptime`` line Nova shows, for the simulator's own run."""
        up = int(time.time() - self.started)
        days, rest = divmod(up, 86400)
        hours, minutes = divmod(rest // 60, 60)
        try:
            loads = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        except OSError:
            loads = "0.00, 0.00, 0.00"
        return f" {time.strftime('%H:%M:%S')} up {days} days, {hours:2d}:{minutes:02d},  1 user,  load average: {loads}"
