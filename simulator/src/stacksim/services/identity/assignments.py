"""Role assignments: a role granted to a user or a group on a project, a domain or the system.

What a user may do on a target is the roles granted to it there directly and
through its groups, with every role those imply (:meth:`Assignments.roles_on`),
worked out afresh each time a token is used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stacksim import faults
from stacksim.services.identity.common import Part, Record
from stacksim.services.identity.specs import Actor, Target
from stacksim.store import atomic


@dataclass(frozen=True)
class AssignmentRow:
    """One line of ``GET /v3/role_assignments``: who holds which role where, and why."""

    role_id: str
    target: Target
    user_id: str | None = None
    group_id: str | None = None
    #: how an effective row came about: ``group_id`` (through that group), ``role_id`` (implied by that role)
    indirect: dict[str, str] = field(default_factory=dict)


def _target_of(record: Record) -> Target:
    return Target(record.get("project_id"), record.get("domain_id"), bool(record.get("system")))


class Assignments(Part):
    kind = "assignment"
    label = "role assignment"

    @staticmethod
    def _key(actor: Actor, target: Target, role_id: str) -> str:
        # Users' grants keep the key they always had; groups' are marked as such.
        who = actor.user_id if actor.user_id else f"group={actor.group_id}"
        return f"{who}:{target.key}:{role_id}"

    def _check(self, role_id: str, actor: Actor, target: Target) -> str:
        """The key of a grant; 404 if its role, actor or target does not exist."""
        identity = self.identity
        role = identity.roles.get(role_id)
        if actor.user_id:
            identity.users.get(actor.user_id)
        elif actor.group_id:
            identity.groups.get(actor.group_id)
        else:
            raise faults.BadRequest("A role assignment needs a user or a group.")
        if target.project_id:
            project = identity.projects.get(target.project_id)
            if role["domain_id"] and role["domain_id"] != project["domain_id"]:
                raise faults.Forbidden(
                    f"Project {target.project_id} must be in the same domain as the role {role_id} being assigned."
                )
        elif target.domain_id:
            identity.domains.get(target.domain_id)
        elif not target.system:
            raise faults.BadRequest("A role assignment needs a project, a domain or the system as its target.")
        return self._key(actor, target, role_id)

    @atomic
    def grant(self, role_id: str, actor: Actor, target: Target) -> None:
        key = self._check(role_id, actor, target)
        self.store.put(
            self.kind,
            {
                "id": key,
                "role_id": role_id,
                "user_id": actor.user_id,
                "group_id": actor.group_id,
                "project_id": target.project_id,
                "domain_id": target.domain_id,
                "system": bool(target.system),
            },
        )

    def check(self, role_id: str, actor: Actor, target: Target) -> None:
        """404 unless ``actor`` holds ``role_id`` on ``target`` directly."""
        if self.store.get(self.kind, self._check(role_id, actor, target)) is None:
            raise self._missing(role_id, actor, target)

    @atomic
    def revoke(self, role_id: str, actor: Actor, target: Target) -> None:
        if not self.store.delete(self.kind, self._check(role_id, actor, target)):
            raise self._missing(role_id, actor, target)

    @staticmethod
    def _missing(role_id: str, actor: Actor, target: Target) -> faults.NotFound:
        where = target.project_id or target.domain_id or "system"
        return faults.NotFound(
            f"Could not find role assignment with role: {role_id}, user or group: "
            f"{actor.user_id or actor.group_id}, project, domain, or system: {where}."
        )

    def roles_granted(self, actor: Actor, target: Target) -> list[Record]:
        """The roles granted directly to ``actor`` on ``target`` (404 if either does not exist)."""
        if actor.user_id:
            self.identity.users.get(actor.user_id)
        else:
            self.identity.groups.get(actor.group_id or "")
        found = self.store.find(self.kind, **self._actor_filter(actor), **self._target_filter(target))
        return self.identity.roles.many([a["role_id"] for a in found])

    @staticmethod
    def _actor_filter(actor: Actor) -> dict[str, Any]:
        return {"user_id": actor.user_id} if actor.user_id else {"group_id": actor.group_id}

    @staticmethod
    def _target_filter(target: Target) -> dict[str, Any]:
        if target.project_id:
            return {"project_id": target.project_id}
        if target.domain_id:
            return {"domain_id": target.domain_id}
        return {"system": True}

    # -- what a user holds --------------------------------------------------------------------

    def _held(self, user_id: str, **equal: Any) -> list[Record]:
        """The grants of ``user_id`` and of its groups (matching ``equal``)."""
        direct = self.store.find(self.kind, user_id=user_id, **equal)
        groups = self.identity.groups.group_ids_of(user_id)
        return direct + (self.store.find_in(self.kind, "group_id", groups, **equal) if groups else [])

    def roles_on(self, user_id: str, target: Target) -> list[Record]:
        """The effective roles (through groups and implied ones included) ``user_id`` holds on ``target``."""
        if not (target.project_id or target.domain_id or target.system):
            return []
        ids = self.identity.roles.implied({a["role_id"] for a in self._held(user_id, **self._target_filter(target))})
        return self.identity.roles.many(sorted(ids))

    def projects_of(self, user_id: str) -> list[Record]:
        """The projects where ``user_id`` holds a role (directly or through a group)."""
        ids = {a["project_id"] for a in self._held(user_id) if a.get("project_id")}
        return [p for p in self.identity.projects.find() if p["id"] in ids]

    def domains_of(self, user_id: str) -> list[Record]:
        ids = {a["domain_id"] for a in self._held(user_id) if a.get("domain_id")}
        return [d for d in self.identity.domains.find() if d["id"] in ids]

    # -- GET /v3/role_assignments ---------------------------------------------------------------

    def listing(
        self,
        *,
        user_id: str | None = None,
        group_id: str | None = None,
        role_id: str | None = None,
        target: Target | None = None,
        effective: bool = False,
        include_subtree: bool = False,
        domain: str | None = None,
    ) -> list[AssignmentRow]:
        """Role assignments as Keystone lists them.

        ``effective``: group grants become one row per member (``indirect.group_id``)
        and every implied role a row of its own (``indirect.role_id``), so each row
        says what one user really holds; ``include_subtree`` (with a project target):
        the grants on the projects below it too; ``domain``: only the grants on that domain
        and its projects.
        """
        if user_id and group_id:
            raise faults.BadRequest("Specify a user or group, not both")
        if effective and group_id:
            raise faults.BadRequest("Combining effective and group filter will always result in an empty list.")
        records: list[Record]
        if target is not None and target.project_id:
            projects = [target.project_id]
            if include_subtree:
                projects += [p["id"] for p in self.identity.projects.subtree(target.project_id)]
            records = self.store.find_in(self.kind, "project_id", projects)
        elif target is not None:
            records = self.store.find(self.kind, **self._target_filter(target))
        else:
            records = self.store.find(self.kind)
        rows = [
            AssignmentRow(r["role_id"], _target_of(r), user_id=r.get("user_id"), group_id=r.get("group_id"))
            for r in records
        ]
        if effective:
            rows = self._through_groups(rows)
            rows = self._with_implied(rows)
        if user_id:
            rows = [r for r in rows if r.user_id == user_id]
        if group_id:
            rows = [r for r in rows if r.group_id == group_id]
        if role_id:
            rows = [r for r in rows if r.role_id == role_id]
        if domain:
            projects = {p["id"] for p in self.identity.projects.find(domain_id=domain)}
            rows = [r for r in rows if r.target.domain_id == domain or r.target.project_id in projects]
        return rows

    def _through_groups(self, rows: list[AssignmentRow]) -> list[AssignmentRow]:
        out: list[AssignmentRow] = []
        for row in rows:
            if row.group_id is None:
                out.append(row)
                continue
            for member in self.identity.groups.member_ids(row.group_id):
                out.append(AssignmentRow(row.role_id, row.target, user_id=member, indirect={"group_id": row.group_id}))
        return out

    def _with_implied(self, rows: list[AssignmentRow]) -> list[AssignmentRow]:
        out: list[AssignmentRow] = []
        seen: set[tuple[Any, ...]] = set()
        for row in rows:
            expanded = [row] + [
                AssignmentRow(implied, row.target, row.user_id, row.group_id, {**row.indirect, "role_id": prior})
                for implied, prior in self.identity.roles.implied_by(row.role_id)
            ]
            for item in expanded:
                mark = (item.role_id, item.target, item.user_id, item.group_id, tuple(sorted(item.indirect.items())))
                if mark not in seen:
                    seen.add(mark)
                    out.append(item)
        return out

    # -- clean-up when what a grant names goes ------------------------------------------------

    def forget_target(self, project_id: str | None = None, domain_id: str | None = None) -> None:
        if project_id:
            self.store.delete_where(self.kind, project_id=project_id)
        if domain_id:
            self.store.delete_where(self.kind, domain_id=domain_id)

    def forget_actor(self, user_id: str | None = None, group_id: str | None = None) -> None:
        if user_id:
            self.store.delete_where(self.kind, user_id=user_id)
        if group_id:
            self.store.delete_where(self.kind, group_id=group_id)

    def forget_role(self, role_id: str) -> None:
        self.store.delete_where(self.kind, role_id=role_id)
