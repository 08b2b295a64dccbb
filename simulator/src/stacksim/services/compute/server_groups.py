"""Nova's server groups: a scheduling policy (affinity or anti-affinity) over a set of servers.

A group keeps one ``policy`` and its ``rules`` (the API shows ``policies``, a
one-item list, before microversion 2.64). ``members`` are server ids; the ones
whose server record is gone are left out when the group is shown, as Nova
does. With one compute host, anti-affinity holds at most ``max_server_per_host``
(default 1) live members; :meth:`ServerGroups.fits` says whether more would.
"""

from __future__ import annotations

import uuid
from typing import Any

from stacksim import faults
from stacksim.auth import Context
from stacksim.services.compute import policy
from stacksim.services.compute.inputs import check_text
from stacksim.services.compute.quotas import Quotas, counts
from stacksim.store import Store

KIND = "server_group"
POLICIES = ("anti-affinity", "affinity")
#: Added in microversion 2.15.
SOFT_POLICIES = ("soft-anti-affinity", "soft-affinity")


def not_found(group_id: str) -> faults.NotFound:
    return faults.NotFound(f"Instance group {group_id} could not be found.")


class ServerGroups:
    def __init__(self, store: Store, quotas: Quotas) -> None:
        self.store = store
        self.quotas = quotas

    def record(self, group_id: str) -> dict[str, Any]:
        """The group record, whoever owns it; NotFound ("Instance group <id> could not be found.")."""
        record = self.store.get(KIND, group_id)
        if record is None:
            raise not_found(group_id)
        return record

    def get(self, ctx: Context, group_id: str) -> dict[str, Any]:
        """The group if ``ctx`` may use it (its project's, or any for admins); else NotFound."""
        record = self.record(group_id)
        if not ctx.owns_project(record["project_id"]):
            raise not_found(group_id)
        return record

    def list(self, ctx: Context, all_projects: bool = False) -> list[dict[str, Any]]:
        """The caller's project's groups (an admin's ``all_projects``: every project's)."""
        policy.authorize(ctx, "os_compute_api:os-server-groups:index")
        if all_projects and policy.allowed(ctx, "os_compute_api:os-server-groups:index:all_projects"):
            return self.store.find(KIND)
        return self.store.find(KIND, project_id=ctx.project_id or "")

    def show(self, ctx: Context, group_id: str) -> dict[str, Any]:
        """The group; another project's is Nova's 403."""
        record = self.record(group_id)
        policy.authorize(ctx, "os_compute_api:os-server-groups:show", record["project_id"])
        return record

    def members(self, record: dict[str, Any]) -> list[str]:
        """The member servers that still exist."""
        found = self.store.get_many("server", record["members"])
        return [m for m in record["members"] if m in found and counts(found[m])]

    def create(self, ctx: Context, name: str, kind: str, rules: dict[str, Any] | None = None) -> dict[str, Any]:
        """A group of the caller's project with the policy ``kind`` (affinity, anti-affinity ...)."""
        policy.authorize(ctx, "os_compute_api:os-server-groups:create")
        check_text(name, "name")
        return self.make(ctx.project_id or "", ctx.user_id, name, kind, rules)

    def make(
        self, project_id: str, user_id: str, name: str, kind: str, rules: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        with self.store.transaction():
            limit = self.quotas.limits(project_id)["server_groups"]
            if 0 <= limit <= self.store.count(KIND, project_id=project_id):
                raise faults.Forbidden("Quota exceeded, too many server groups.")
            return self.store.put(
                KIND,
                {
                    "id": str(uuid.uuid4()),
                    "name": name,
                    "project_id": project_id,
                    "user_id": user_id,
                    "policy": kind,
                    "rules": dict(rules or {}),
                    "members": [],
                },
            )

    def delete(self, ctx: Context, group_id: str) -> None:
        record = self.record(group_id)
        policy.authorize(ctx, "os_compute_api:os-server-groups:delete", record["project_id"])
        self.store.delete(KIND, group_id)

    # -- for the servers ----------------------------------------------------------------------

    def fits(self, group_id: str, count: int = 1) -> bool:
        """Could ``count`` more servers join the group on our one host without breaking its policy?"""
        record = self.record(group_id)
        if record["policy"] != "anti-affinity":
            return True
        per_host = int(record["rules"].get("max_server_per_host", 1))
        return len(self.members(record)) + count <= per_host

    def add_member(self, group_id: str, server_id: str) -> dict[str, Any]:
        """Add a server; Forbidden ("Quota exceeded, too many servers in group") past the
        project's ``server_group_members`` quota."""
        with self.store.transaction():
            record = self.record(group_id)
            limit = self.quotas.limits(record["project_id"])["server_group_members"]
            if server_id in record["members"]:
                return record
            if 0 <= limit <= len(self.members(record)):
                raise faults.Forbidden("Quota exceeded, too many servers in group")
            record["members"].append(server_id)
            return self.store.put(KIND, record)

    def remove_member(self, server_id: str) -> None:
        """Take a server out of whatever group holds it (when it is deleted)."""
        with self.store.transaction():
            for record in self.store.find(KIND):
                if server_id in record["members"]:
                    record["members"].remove(server_id)
                    self.store.put(KIND, record)

    def groups_of(self, server_id: str) -> list[str]:
        """The ids of the groups a server belongs to (``server_groups`` in the server body, 2.71)."""
        return self.groups_of_servers([server_id]).get(server_id, [])

    def groups_of_servers(self, server_ids: list[str]) -> dict[str, list[str]]:
        """:meth:`groups_of` for many servers in one read: server id -> group ids."""
        wanted, found = set(server_ids), {}
        for record in self.store.find(KIND):
            for member in wanted.intersection(record["members"]):
                found.setdefault(member, []).append(record["id"])
        return found
