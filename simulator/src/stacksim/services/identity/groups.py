"""Groups and their members; the roles granted to a group reach every member."""

from __future__ import annotations

from typing import Any

from stacksim import faults
from stacksim.services.identity.common import DomainOwned, Record
from stacksim.services.identity.specs import GroupSpec
from stacksim.store import atomic

MEMBERSHIP = "group_member"


class Groups(DomainOwned):
    kind = "group"
    label = "group"

    @atomic
    def create(self, spec: GroupSpec) -> Record:
        try:
            self.identity.domains.get(spec.domain_id)
        except faults.NotFound as exc:
            raise faults.BadRequest(exc.message) from None
        self.unique_name(spec.name, spec.domain_id)
        return self.put_new(spec)

    @atomic
    def update(self, id: str, changes: dict[str, Any]) -> Record:
        record = self.get(id)
        if "domain_id" in changes and changes["domain_id"] != record["domain_id"]:
            raise faults.BadRequest("Invalid input for field 'group/domain_id': a group cannot move to another domain.")
        if "name" in changes and changes["name"] != record["name"]:
            self.unique_name(changes["name"], record["domain_id"])
        return self.changed(id, changes)

    @atomic
    def delete(self, id: str) -> None:
        self.get(id)
        self.store.delete_where(MEMBERSHIP, group_id=id)
        self.identity.assignments.forget_actor(group_id=id)
        self.store.delete(self.kind, id)

    # -- membership -----------------------------------------------------------------------

    @staticmethod
    def _member_key(group_id: str, user_id: str) -> str:
        return f"{group_id}:{user_id}"

    @atomic
    def add_member(self, group_id: str, user_id: str) -> None:
        self.get(group_id)
        self.identity.users.get(user_id)
        key = self._member_key(group_id, user_id)
        self.store.put(MEMBERSHIP, {"id": key, "group_id": group_id, "user_id": user_id})

    @atomic
    def remove_member(self, group_id: str, user_id: str) -> None:
        self.check_member(group_id, user_id)
        self.store.delete(MEMBERSHIP, self._member_key(group_id, user_id))

    def check_member(self, group_id: str, user_id: str) -> None:
        """404 unless the group and user exist and the user is in the group."""
        self.get(group_id)
        self.identity.users.get(user_id)
        if self.store.get(MEMBERSHIP, self._member_key(group_id, user_id)) is None:
            raise faults.NotFound(f"User {user_id} is not a member of group {group_id}.")

    def members(self, group_id: str) -> list[Record]:
        self.get(group_id)
        ids = [m["user_id"] for m in self.store.find(MEMBERSHIP, group_id=group_id)]
        return self.identity.users.many(ids)

    def member_ids(self, group_id: str) -> list[str]:
        return [m["user_id"] for m in self.store.find(MEMBERSHIP, group_id=group_id)]

    def group_ids_of(self, user_id: str) -> list[str]:
        return [m["group_id"] for m in self.store.find(MEMBERSHIP, user_id=user_id)]

    def of_user(self, user_id: str) -> list[Record]:
        """The groups ``user_id`` is in (404 if there is no such user)."""
        self.identity.users.get(user_id)
        return self.many(self.group_ids_of(user_id))

    def forget_member(self, user_id: str) -> None:
        self.store.delete_where(MEMBERSHIP, user_id=user_id)
