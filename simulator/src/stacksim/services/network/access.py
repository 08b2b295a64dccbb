"""Who sees and who may change what: Neutron's default policy, with sharing through RBAC.

A member sees its own project's resources; others' are a 404 to it, never a
403, so nobody learns what exists. Sharing widens who sees: a network shared
with everyone (``shared``, an ``access_as_shared`` RBAC policy for ``*``) or
with the caller's project (one naming it), an external network
(``router:external``, or ``access_as_external`` for the project), the subnets
of a network shared with the caller, and shared subnet pools, address scopes,
QoS policies and security groups. Seeing is not changing: a shared resource is
a 403 to all but its owner and an admin. A port is also seen and changed by
the owner of its network, as in Neutron.
"""

from __future__ import annotations

from typing import Any

from stacksim.auth import Context
from stacksim.services.network.common import as_context, denied, not_found
from stacksim.store import Store

Who = Context | str | None
Where = dict[str, list[Any]]

SHARED = "access_as_shared"
EXTERNAL = "access_as_external"
#: kind -> the RBAC ``object_type`` that shares it
SHAREABLE = {
    "network": "network",
    "subnetpool": "subnetpool",
    "address_scope": "address_scope",
    "qos_policy": "qos_policy",
    "security_group": "security_group",
}


class Access:
    def __init__(self, store: Store) -> None:
        self.store = store
        store.index("target_tenant")
        store.index("object_id")

    # -- sharing ---------------------------------------------------------------------

    def targets(self, ctx: Context, kind: str, action: str = SHARED) -> set[str]:
        """Ids of the ``kind`` records an RBAC policy shares with the caller's project by name."""
        if not ctx.project_id or kind not in SHAREABLE:
            return set()
        found = self.store.find("rbac_policy", target_tenant=ctx.project_id, action=action)
        return {p["object_id"] for p in found if p["object_type"] == SHAREABLE[kind]}

    def _targeted(self, ctx: Context, kind: str, object_id: str, action: str) -> bool:
        if not ctx.project_id or kind not in SHAREABLE:
            return False
        found = self.store.find("rbac_policy", object_id=object_id, target_tenant=ctx.project_id, action=action)
        return any(p["object_type"] == SHAREABLE[kind] for p in found)

    def shared_for(self, ctx: Context, kind: str, record: dict[str, Any]) -> bool:
        """Is ``record`` shared with the caller (with everyone, or with its project)?"""
        return bool(record.get("shared")) or self._targeted(ctx, kind, record["id"], SHARED)

    def external_for(self, ctx: Context, network: dict[str, Any]) -> bool:
        """Is ``network`` external for the caller (for everyone, or for its project)?"""
        return bool(network.get("router:external")) or self._targeted(ctx, "network", network["id"], EXTERNAL)

    # -- seeing -----------------------------------------------------------------------

    def owns(self, ctx: Context, record: dict[str, Any]) -> bool:
        return ctx.is_admin or record.get("project_id") == ctx.project_id

    def can_see(self, ctx: Context, kind: str, record: dict[str, Any]) -> bool:
        if self.owns(ctx, record):
            return True
        if kind == "network":
            return self.shared_for(ctx, kind, record) or self.external_for(ctx, record)
        if kind == "subnet":
            network = self.store.get("network", record["network_id"])
            return bool(network and self.shared_for(ctx, "network", network))
        if kind == "port":
            network = self.store.get("network", record["network_id"])
            return bool(network and network["project_id"] == ctx.project_id)
        if kind == "security_group_rule":
            group = self.store.get("security_group", record["security_group_id"])
            return bool(group and group["project_id"] == ctx.project_id)
        if kind in SHAREABLE:
            return self.shared_for(ctx, kind, record)
        return False

    def load(self, who: Who, kind: str, id: str, kept: bool = False) -> dict[str, Any]:
        """A record the caller may see, else the resource's 404. ``kept``: read through the store's
        cache (kept until a record of the kind is written), for what every server create reads
        and is rarely written (its network); the caller must not change it."""
        ctx = as_context(who)
        if kept:
            record = self.store.cached((kind,), ("record", id), lambda: self.store.get(kind, id))
        else:
            record = self.store.get(kind, id)
        if record is None or not self.can_see(ctx, kind, record):
            raise not_found(kind, id)
        return record

    def writable(self, ctx: Context, kind: str, id: str, action: str) -> dict[str, Any]:
        """A record the caller may change: 404 if it cannot see it, 403 if it may only look."""
        record = self.load(ctx, kind, id)
        if self.owns(ctx, record):
            return record
        if kind == "port":
            network = self.store.get("network", record["network_id"])
            if network and network["project_id"] == ctx.project_id:
                return record
        raise denied(action)

    def visible(self, who: Who, kind: str, where: Where | None = None) -> list[dict[str, Any]]:
        """The records of ``kind`` the caller may see; ``where`` (field -> the values it may
        take) narrows them in the store first, from its indexes."""
        ctx = as_context(who)
        records = self.store.query(kind, any_of=where)
        if ctx.is_admin:
            return records
        if kind in ("subnet", "port"):
            # only the networks of the records the caller does not own decide (often none)
            others = {r["network_id"] for r in records if r["project_id"] != ctx.project_id}
            networks = {n["id"]: n for n in self.store.find_in("network", "id", others)} if others else {}
            shared = self.targets(ctx, "network") if others and kind == "subnet" else set()

            def allowed(r: dict[str, Any]) -> bool:
                if r["project_id"] == ctx.project_id:
                    return True
                net = networks.get(r["network_id"])
                if net is None:
                    return False
                if kind == "port":
                    return net["project_id"] == ctx.project_id
                return bool(net["shared"]) or net["id"] in shared

            return [r for r in records if allowed(r)]
        if kind in SHAREABLE:
            shared = self.targets(ctx, kind)
            external = self.targets(ctx, kind, EXTERNAL) if kind == "network" else set()

            def seen(r: dict[str, Any]) -> bool:
                if r.get("project_id") == ctx.project_id or r.get("shared") or r["id"] in shared:
                    return True
                return bool(r.get("router:external")) or r["id"] in external

            return [r for r in records if seen(r)]
        return [r for r in records if self.can_see(ctx, kind, r)]
