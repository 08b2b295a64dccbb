"""What the dashboard shows, read through the services' own interfaces with the viewer's context.

Nothing here reads the store: each read is a model call the REST API makes too, with the
token's :class:`~stacksim.auth.Context`, so who sees what (a member their project, an admin
every project) is decided by the services' own rules. Nothing here changes anything.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stacksim import faults
from stacksim.dashboard.svg import Device, Link, Net, Resource
from stacksim.services.compute.build import decode_user_data
from stacksim.services.compute.inputs import ServerQuery
from stacksim.services.compute.servers import addresses as server_addresses
from stacksim.services.orchestration.model import EventQuery, StackQuery
from stacksim.services.volume import views as volume_views

if TYPE_CHECKING:
    from stacksim.auth import Context
    from stacksim.cloud import Cloud

PREFIX = "/dashboard"
#: the console log lines a server's page shows (the last ones)
CONSOLE_LINES = 200
#: the events a stack's page shows (the newest ones)
EVENTS_SHOWN = 60
HIDDEN = "[hidden by the dashboard]"
#: outputs whose name says they hold a secret, or whose value is a private key, are not shown
SECRET_NAME = re.compile(r"pass|secret|private|token|credential", re.IGNORECASE)
PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")


class Reader:
    """The dashboard's reads for one viewer."""

    def __init__(self, cloud: Cloud, ctx: Context) -> None:
        self.cloud = cloud
        self.ctx = ctx
        self._projects: dict[str, str] = {}

    def project_name(self, project_id: str | None) -> str:
        """The project's name (its id if the viewer may not know it)."""
        if not project_id:
            return ""
        if project_id not in self._projects:
            name = project_id
            if self.ctx.is_admin or project_id == self.ctx.project_id:
                with contextlib.suppress(faults.ApiError):
                    name = self.cloud.identity.project(project_id)["name"]
            self._projects[project_id] = name
        return self._projects[project_id]

    # -- servers ---------------------------------------------------------------------------

    def servers(self) -> list[dict[str, Any]]:
        """The servers the viewer may list (every project's for an admin), by name."""
        found, _ = self.cloud.compute.list_servers(self.ctx, ServerQuery(detail=True, all_projects=self.ctx.is_admin))
        return sorted(found, key=lambda s: (s["name"], s["id"]))

    def addresses(self, servers: list[dict[str, Any]]) -> dict[str, dict[str, list[dict[str, Any]]]]:
        """Each server's addresses by network name, as Nova shows them (none while it builds)."""
        related = self.cloud.compute.servers.related(servers)
        return {s["id"]: {} if s["vm_state"] == "building" else server_addresses(s, related) for s in servers}

    def server(self, server_id: str) -> dict[str, Any]:
        """One server (404 if the viewer may not see it)."""
        return self.cloud.compute.server(self.ctx, server_id)

    def server_volumes(self, server: dict[str, Any]) -> list[dict[str, Any]]:
        return self.cloud.volume.attachments_of_server(server["id"])

    def console(self, server: dict[str, Any]) -> str:
        """The end of the server's console log, its user data cut out (a guest may echo it), or
        why there is none."""
        try:
            text = self.cloud.compute.consoles.output(self.ctx, server["id"], CONSOLE_LINES)
        except faults.ApiError as exc:  # none yet (building), none at all, or not for this viewer
            return f"(no console log: {exc.message})"
        return redact(text, decode_user_data(server.get("user_data")))

    # -- networks ----------------------------------------------------------------------------

    def topology(self) -> tuple[list[Net], list[Device]]:
        """The networks (with their subnets' CIDRs) and the routers and servers on them."""
        net, ctx = self.cloud.network, self.ctx
        networks = sorted(net.networks(ctx), key=lambda n: (not n.get("router:external"), n["name"], n["id"]))
        cidrs: dict[str, list[str]] = {}
        for subnet in sorted(net.subnets(ctx), key=lambda s: (s["ip_version"], s["cidr"])):
            cidrs.setdefault(subnet["network_id"], []).append(subnet["cidr"])
        ports = net.ports(ctx)
        floating: dict[str, list[str]] = {}
        for fip in net.floating_ips(ctx):
            if fip.get("port_id"):
                floating.setdefault(fip["port_id"], []).append(fip["floating_ip_address"])
        by_device: dict[str, list[dict[str, Any]]] = {}
        for port in sorted(ports, key=lambda p: (p["network_id"], p["id"])):
            by_device.setdefault(port["device_id"], []).append(port)

        def links(device_id: str) -> list[Link]:
            return [
                Link(
                    port["network_id"],
                    [ip["ip_address"] for ip in port["fixed_ips"]],
                    sorted(floating.get(port["id"], [])),
                )
                for port in by_device.get(device_id, [])
            ]

        devices: list[Device] = []
        for router in sorted(net.routers(ctx), key=lambda r: (r["name"], r["id"])):
            own = [link for link in links(router["id"]) if link.network_id]
            gateway = router.get("external_gateway_info") or {}
            if gateway.get("network_id") and not any(link.network_id == gateway["network_id"] for link in own):
                ips = [ip["ip_address"] for ip in gateway.get("external_fixed_ips") or []]
                own.insert(0, Link(gateway["network_id"], ips))
            devices.append(Device(router["id"], router["name"], "router", router.get("status") or "", own))
        for server in self.servers():
            devices.append(
                Device(
                    server["id"],
                    server["name"],
                    "server",
                    server["status"],
                    links(server["id"]),
                    href=f"{PREFIX}/servers/{server['id']}",
                )
            )
        shown = [Net(n["id"], n["name"], cidrs.get(n["id"], []), bool(n.get("router:external"))) for n in networks]
        return shown, devices

    # -- volumes and images --------------------------------------------------------------------

    def volumes(self) -> list[dict[str, Any]]:
        """The volumes as Cinder shows them to the viewer (with their attachments), by name."""
        bs = self.cloud.volume
        viewer = volume_views.Viewer.latest(bs, self.ctx)
        records = bs.volumes.list(self.ctx, all_projects=self.ctx.is_admin)
        shown = [volume_views.volume(viewer, r) for r in records]
        return sorted(shown, key=lambda v: (v.get("name") or "", v["id"]))

    def images(self) -> list[dict[str, Any]]:
        """The images Glance lists to the viewer, by name."""
        return sorted(
            self.cloud.image.listable(self.ctx, None, "accepted"), key=lambda i: (i.get("name") or "", i["id"])
        )

    # -- stacks ----------------------------------------------------------------------------------

    def stacks(self) -> list[dict[str, Any]]:
        found, _ = self.cloud.orchestration.stacks(self.ctx, StackQuery(global_tenant=self.ctx.is_admin))
        return found

    def stack(self, stack_id: str) -> StackView:
        """One stack with its resources, dependencies, newest events and outputs (404 if unseen)."""
        heat = self.cloud.orchestration
        record = heat.get(self.ctx, stack_id)
        run = heat.run_of(record)
        resources = [Resource(r["name"], r["type"], f"{r['action']}_{r['status']}") for r in run.records.values()]
        reasons = {r["name"]: r.get("status_reason") or "" for r in run.records.values()}
        events = [e for _, e in heat.stack_events(record, EventQuery(descending=True, limit=EVENTS_SHOWN))]
        return StackView(record, resources, run.required_by(), reasons, events, run)

    def outputs(self, view: StackView) -> list[tuple[str, str, str]]:
        """(name, value, description) of each output, secrets hidden."""
        shown = []
        for output in view.run.outputs():
            key = str(output.get("output_key") or "")
            value = output.get("output_error") or output.get("output_value")
            text = "" if value is None else str(value)
            if SECRET_NAME.search(key) or PRIVATE_KEY.search(text):
                text = HIDDEN
            shown.append((key, text, str(output.get("description") or "")))
        return shown


@dataclass
class StackView:
    record: dict[str, Any]
    resources: list[Resource]
    required_by: dict[str, list[str]]
    reasons: dict[str, str]
    events: list[dict[str, Any]] = field(default_factory=list)
    run: Any = None

    @property
    def state(self) -> str:
        return f"{self.record['action']}_{self.record['status']}"

    @property
    def busy(self) -> bool:
        return self.record["status"] == "IN_PROGRESS"


def redact(text: str, user_data: str | None) -> str:
    """``text`` without any line of ``user_data`` in it (cloud-init and the fake hypervisor
    echo user data to the console; the dashboard never shows it)."""
    if not user_data:
        return text
    for line in sorted({ln.strip() for ln in user_data.splitlines() if ln.strip()}, key=len, reverse=True):
        text = text.replace(line, HIDDEN)
    return text
