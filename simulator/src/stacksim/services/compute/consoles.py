"""Looking at a guest: its console log, remote consoles and diagnostics.

A remote console is a noVNC one, as DevStack enables (SPICE, serial and MKS
consoles are not: asking for one is Nova's 400). Its URL carries a token that
lives ten minutes (Nova's ``[consoleauth] token_ttl``); the page behind it
shows the guest's console log, the one thing a simulated guest has to show.
Diagnostics are the standard view (microversion 2.48) made from the server's
flavor, ports and volumes, with the driver's own figures where it has any.
"""

from __future__ import annotations

import secrets
import time
import urllib.parse
from typing import TYPE_CHECKING, Any

from stacksim import clock, faults
from stacksim.auth import Context
from stacksim.drivers.base import DriverError
from stacksim.services.compute import policy
from stacksim.services.compute.states import RUNNING

if TYPE_CHECKING:
    from stacksim.services.compute.model import Compute

TOKEN_KIND = "console_token"
TOKEN_TTL = 600
#: protocol -> the console types Nova knows for it; only noVNC is enabled, as in DevStack.
CONSOLE_TYPES = {"vnc": ("novnc", "xvpvnc"), "spice": ("spice-html5",), "serial": ("serial",), "mks": ("webmks",)}
ENABLED = {("vnc", "novnc")}
VNC_PORT = 5900
POWER_NAMES = {0: "pending", 1: "running", 3: "paused", 4: "shutdown", 6: "crashed", 7: "suspended"}


class Consoles:
    def __init__(self, compute: Compute) -> None:
        self.compute = compute
        self.store = compute.store
        self.servers = compute.servers

    def _on_host(self, server: dict[str, Any]) -> None:
        if server["vm_state"] == "building" or not server.get("host"):
            raise faults.Conflict(f"Instance {server['id']} is not ready")

    def output(self, ctx: Context, server_id: str, length: int | None) -> str:
        """The last ``length`` lines of the console log (all of it if None)."""
        server = self.servers.owned(ctx, server_id, "os_compute_api:os-console-output")
        self._on_host(server)
        try:
            return self.compute.driver.console_output(server["id"], length)
        except DriverError as exc:
            raise faults.NotFound(f"Guest does not have a console available: {exc}") from None

    # -- remote consoles ---------------------------------------------------------------------------

    def remote(self, ctx: Context, server_id: str, protocol: str, console_type: str) -> str:
        """A remote console's URL (Nova's ``os-remote-consoles``)."""
        server = self.servers.owned(ctx, server_id, "os_compute_api:os-remote-consoles")
        if protocol == "rdp":
            raise faults.BadRequest("Unavailable console type rdp.")
        if (protocol, console_type) not in ENABLED:
            if console_type not in CONSOLE_TYPES.get(protocol, ()):
                raise faults.BadRequest(f"Invalid console type {console_type}")
            raise faults.BadRequest(f"Unavailable console type {console_type}.")
        self._on_host(server)
        token = secrets.token_urlsafe(24)
        now = time.time()
        for old in self.store.find(TOKEN_KIND, instance_uuid=server["id"]):
            if old["expires"] < now:  # expired ones go when the server gets a new one
                self.store.delete(TOKEN_KIND, old["id"])
        self.store.put(
            TOKEN_KIND,
            {
                "id": token,
                "instance_uuid": server["id"],
                "console_type": console_type,
                "host": self.compute.hosts.host_ip,
                "port": VNC_PORT,
                "internal_access_path": None,
                "expires": now + TOKEN_TTL,
            },
        )
        path = urllib.parse.quote(f"?token={token}", safe="")
        return f"{self.compute.cloud.settings.base_url}/compute/vnc_lite.html?path={path}"

    def token(self, ctx: Context, token: str) -> dict[str, Any]:
        """The connection a console token stands for (admins: ``os-console-auth-tokens``)."""
        policy.authorize(ctx, "os_compute_api:os-console-auth-tokens")
        return self._valid(token)

    def _valid(self, token: str) -> dict[str, Any]:
        record = self.store.get(TOKEN_KIND, token)
        if record is None or record["expires"] < time.time():
            raise faults.NotFound("Token not found")
        return record

    def page(self, token: str) -> str:
        """What a console URL shows: the guest's console log (the token is the only credential)."""
        record = self._valid(token)
        try:
            return self.compute.driver.console_output(record["instance_uuid"], None)
        except DriverError:
            return ""

    # -- diagnostics -----------------------------------------------------------------------------

    def diagnostics(self, ctx: Context, server_id: str, standard: bool) -> dict[str, Any]:
        """Nova's diagnostics (admins): the standard view (``standard``, 2.48 on) or the
        libvirt-style one older microversions show."""
        server = self.servers.owned(ctx, server_id, "os_compute_api:os-server-diagnostics")
        self._on_host(server)
        if server["power_state"] != RUNNING:
            state = POWER_NAMES.get(server["power_state"], "pending")
            raise faults.Conflict(
                f"Cannot 'get_diagnostics' instance {server['id']} while it is in power state {state}"
            )
        ports = self.servers.ports(server)
        disks = ["vda", *(a["mountpoint"].rsplit("/", 1)[-1] for a in self.compute.volumes.of(server))]
        flavor = server["flavor"]
        measured = self.compute.driver.diagnostics(server["id"]) or {}
        if not standard:
            legacy: dict[str, Any] = {"cpu0_time": 0, "memory": flavor["ram"] * 1024}
            for disk in disks:
                legacy.update({f"{disk}_{k}": 0 for k in ("read", "read_req", "write", "write_req", "errors")})
            for port in ports:
                tap = f"tap{port['id'][:11]}"
                legacy.update({f"{tap}_{k}": 0 for k in ("rx", "rx_drop", "rx_errors", "rx_packets")})
                legacy.update({f"{tap}_{k}": 0 for k in ("tx", "tx_drop", "tx_errors", "tx_packets")})
            return {**legacy, **measured.get("legacy", {})}
        launched = server.get("launched_at")
        uptime = int((clock.now() - clock.parse(launched)).total_seconds()) if launched else 0
        view = {
            "state": "running",
            "driver": self.compute.driver.name,
            "hypervisor": self.compute.hosts.hypervisor_type,
            "hypervisor_os": "linux",
            "uptime": uptime,
            "config_drive": bool(server["config_drive"]),
            "num_cpus": flavor["vcpus"],
            "num_nics": len(ports),
            "num_disks": len(disks),
            "memory_details": {"maximum": flavor["ram"], "used": 0},
            "cpu_details": [{"id": n, "time": 0, "utilisation": None} for n in range(flavor["vcpus"])],
            "nic_details": [_nic(p["mac_address"]) for p in ports],
            "disk_details": [
                {"read_bytes": 0, "read_requests": 0, "write_bytes": 0, "write_requests": 0, "errors_count": 0}
                for _ in disks
            ],
        }
        view.update({k: v for k, v in measured.items() if k in view})
        return view


def _nic(mac: str) -> dict[str, Any]:
    counters = ("rx_octets", "rx_errors", "rx_drop", "rx_packets", "tx_octets", "tx_errors", "tx_drop", "tx_packets")
    return {"mac_address": mac, **dict.fromkeys(counters, 0), "rx_rate": None, "tx_rate": None}
