"""Neutron's per-project quotas: defaults, overrides, usage and enforcement.

Usage is an indexed count of the project's records of each kind, except for
ports, which the store counts as they are written (a project may have
thousands, and each port create and server create reads the count); limits
and the over-limit test are the shared :class:`stacksim.quotas.QuotaEngine`
(an unlimited resource is not counted at all).
"""

from __future__ import annotations

from stacksim import faults
from stacksim.auth import Context
from stacksim.quotas import QuotaEngine
from stacksim.services.network.common import denied
from stacksim.store import Store

#: Neutron's default limits (``[quotas]`` in neutron.conf); -1 means unlimited.
DEFAULTS = {
    "network": 100,
    "subnet": 100,
    "subnetpool": -1,
    "port": 500,
    "router": 10,
    "floatingip": 50,
    "security_group": 10,
    "security_group_rule": 100,
    "rbac_policy": 10,
}
KIND = "network_quota"


class Quotas:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine = QuotaEngine(store, KIND, DEFAULTS)
        store.track("port", {"port": lambda port: 1})

    def limits(self, project_id: str) -> dict[str, int]:
        """The project's limits (read again only once its quota changes: each port create reads them)."""
        return dict(self.store.cached((KIND,), project_id, lambda: self.engine.limits(project_id)))

    def used(self, project_id: str, resource: str) -> int:
        if resource == "port":
            return self.store.usage("port", project_id)["port"]
        return self.store.count(resource, project_id=project_id)

    def check(self, project_id: str, resource: str, count: int = 1) -> None:
        """Raise OverQuota if ``count`` more of ``resource`` would exceed the project's limit."""
        limits = self.limits(project_id)
        overs, _ = self.engine.over(limits, {resource: count}, lambda _: {resource: self.used(project_id, resource)})
        if overs:
            raise faults.Conflict(f"Quota exceeded for resources: ['{resource}'].", kind="OverQuota")

    def details(self, project_id: str) -> dict[str, dict[str, int]]:
        return {
            name: {"limit": limit, "used": self.used(project_id, name), "reserved": 0}
            for name, limit in self.limits(project_id).items()
        }

    def update(
        self, ctx: Context, project_id: str, values: dict[str, int], check_limit: bool = False
    ) -> dict[str, int]:
        if not ctx.is_admin:
            raise denied("update_quota")
        for name, value in values.items():
            if name not in DEFAULTS:
                raise faults.BadRequest(f"Unrecognized attribute(s) '{name}'", kind="HTTPBadRequest")
            if value < -1:
                raise faults.BadRequest(
                    f"Invalid input for {name}. Reason: '{value}' is too small - must be at least '-1'.",
                    kind="HTTPBadRequest",
                )
            used = self.used(project_id, name)
            if check_limit and 0 <= value < used:
                raise faults.BadRequest(
                    f"Invalid input for operation: Quota limit {value} for {name} must be greater than or "
                    f"equal to already used and reserved {used}.",
                    kind="InvalidQuotaValue",
                )
        return self.engine.set_limits(project_id, values)

    def reset(self, ctx: Context, project_id: str) -> None:
        if not ctx.is_admin:
            raise denied("delete_quota")
        self.engine.reset(project_id)

    def overridden(self) -> list[tuple[str, dict[str, int]]]:
        """Projects whose quotas differ from the defaults, with their limits."""
        return self.engine.overridden()
