"""Auto-allocated topology ("get me a network"): a project's own network, routed to the default external one.

As in Neutron: the first ``GET /auto-allocated-topology/{project}`` makes
``auto_allocated_network`` with a subnet from each default subnet pool
(``auto_allocated_subnet_v4`` ...) and ``auto_allocated_router`` with a
gateway on the default external network (``is_default``) and an interface on
each subnet; later ones return the same network. All of it is made in one
transaction, so a failure leaves nothing behind. ``?fields=dry-run`` only
checks that it could be made. A project asks for its own topology; an admin
for any project's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stacksim import faults
from stacksim.auth import Context
from stacksim.services.network import ipam
from stacksim.services.network.common import Part
from stacksim.store import atomic

if TYPE_CHECKING:
    pass

KIND = "auto_allocated_topology"
NETWORK_NAME = "auto_allocated_network"
ROUTER_NAME = "auto_allocated_router"


def _failure(reason: str) -> faults.Conflict:
    return faults.Conflict(f"Deployment error: {reason}.", kind="AutoAllocationFailure")


class AutoAllocation(Part):
    def _project(self, ctx: Context, project_id: str | None) -> str:
        project = ctx.project_id if project_id in (None, "", "None") else project_id
        if not project:
            raise ipam.bad_request("auto_allocate", "a project is needed")
        if not ctx.is_admin and project != ctx.project_id:
            raise faults.Forbidden("User is not authorized to perform this action.", kind="NotAuthorized")
        return project

    def _requirements(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        external = self.store.first("network", is_default=True)
        if external is None or not external["router:external"]:
            raise _failure("No default router:external network")
        pools = [p for v in (4, 6) if (p := self.store.first("subnetpool", is_default=True, ip_version=v))]
        if not pools:
            raise _failure("No default subnetpools defined")
        return external, pools

    def check(self, ctx: Context, project_id: str | None) -> dict[str, Any]:
        """``?fields=dry-run``: would a topology be made? (409 ``AutoAllocationFailure`` if not)."""
        project = self._project(ctx, project_id)
        self._requirements()
        return {"id": "dry-run=pass", "tenant_id": project, "project_id": project}

    @atomic
    def get(self, ctx: Context, project_id: str | None) -> dict[str, Any]:
        """The project's topology, made on the first call: ``{"id": network id, "project_id": ...}``."""
        project = self._project(ctx, project_id)
        found = self.store.get(KIND, project)
        if found is None:
            found = self._build(ctx, project)
        return {"id": found["network_id"], "tenant_id": project, "project_id": project}

    def _build(self, ctx: Context, project: str) -> dict[str, Any]:
        parts = self.net.parts
        external, pools = self._requirements()
        try:
            network = parts.networks.create(ctx, {"name": NETWORK_NAME, "project_id": project, "shared": False})
            subnets = [
                parts.subnets.create(
                    ctx,
                    {
                        "name": f"auto_allocated_subnet_v{pool['ip_version']}",
                        "network_id": network["id"],
                        "project_id": project,
                        "ip_version": pool["ip_version"],
                        "subnetpool_id": pool["id"],
                    },
                )
                for pool in pools
            ]
        except faults.ApiError:
            raise _failure("Unable to provide tenant private network") from None
        try:
            router = parts.routers.create(
                ctx,
                {
                    "name": ROUTER_NAME,
                    "project_id": project,
                    "admin_state_up": True,
                    "external_gateway_info": {"network_id": external["id"]},
                },
            )
            for subnet in subnets:
                parts.routers.add_interface(ctx, router["id"], subnet["id"], None)
        except faults.ApiError:
            raise _failure("Unable to provide external connectivity") from None
        record = {"id": project, "project_id": project, "network_id": network["id"], "router_id": router["id"]}
        return self.store.put(KIND, record)

    @atomic
    def delete(self, ctx: Context, project_id: str | None) -> None:
        """Take the project's topology apart (nothing to do if it has none)."""
        parts = self.net.parts
        project = self._project(ctx, project_id)
        found = self.store.get(KIND, project)
        if found is None:
            return
        subnets = self.store.find("subnet", network_id=found["network_id"])
        if self.store.get("router", found["router_id"]) is not None:
            for subnet in subnets:
                interfaces = parts.routers.interfaces(found["router_id"])
                if any(ip["subnet_id"] == subnet["id"] for p in interfaces for ip in p["fixed_ips"]):
                    parts.routers.remove_interface(ctx, found["router_id"], subnet["id"], None)
            parts.routers.delete(ctx, found["router_id"])
        if self.store.get("network", found["network_id"]) is not None:
            parts.networks.delete(ctx, found["network_id"])
        self.store.delete(KIND, project)
