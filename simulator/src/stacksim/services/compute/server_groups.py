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

    def list(self, project_id: str | None = None) -> list[dict[str, Any]]:
        """The groups of a project (None: every project)."""
        if project_id is None:
            return self.store.find(KIND)
        return self.store.find(KIND, project_id=project_id)

    def members(self, record: dict[str, Any]) -> list[str]:
        """The member servers that still exist."""
        found = self.store.get_many("server", record["members"])
        return [m for m in record["members"] if m in found and counts(found[m])]

    def create(
        self, project_id: str, user_id: str, name: str, policy: str, rules: dict[str, Any] | None = None
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
                    "policy": policy,
                    "rules": dict(rules or {}),
                    "members": [],
                },
            )

    def delete(self, group_id: str) -> None:
        self.record(group_id)
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
