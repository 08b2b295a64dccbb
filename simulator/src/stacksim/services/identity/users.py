"""Users and their passwords."""

from __future__ import annotations

from typing import Any

from stacksim import faults
from stacksim.services.identity.common import DomainOwned, Record
from stacksim.services.identity.passwords import hash_secret, verify_secret
from stacksim.services.identity.specs import UserSpec
from stacksim.store import atomic

AUTH_FAILED = "The request you have made requires authentication: invalid credentials or disabled account."


class Users(DomainOwned):
    kind = "user"
    label = "user"

    def create(self, spec: UserSpec) -> Record:
        self.identity.domains.get(spec.domain_id)
        self.unique_name(spec.name, spec.domain_id)
        # Hashed before the transaction: the store's lock is not held for the slow part.
        password_hash = hash_secret(spec.password) if spec.password else None
        with self.store.transaction():
            self.unique_name(spec.name, spec.domain_id)
            if spec.default_project_id:
                self.identity.projects.get(spec.default_project_id)
            unset = (k for k in ("default_project_id", "description") if getattr(spec, k) is None)
            omit = ("password", *unset)
            return self.put_new(spec, omit, password_expires_at=None, password_hash=password_hash)

    def update(self, id: str, changes: dict[str, Any]) -> Record:
        self.get(id)
        changes = dict(changes)
        password = changes.pop("password", None)
        password_hash = hash_secret(password) if password is not None else None  # outside the lock
        with self.store.transaction():
            record = self.get(id)
            if changes.get("domain_id", record["domain_id"]) != record["domain_id"]:
                raise faults.BadRequest("Invalid input for field 'user/domain_id': Cannot change Domain ID.")
            if "name" in changes and changes["name"] != record["name"]:
                self.unique_name(changes["name"], record["domain_id"])
            if changes.get("default_project_id"):
                self.identity.projects.get(changes["default_project_id"])
            if password_hash is not None:
                changes["password_hash"] = password_hash
            updated = self.changed(id, changes)
            if password_hash is not None or updated["enabled"] is False:
                self.identity.tokens.forget(user_id=id)
            return updated

    def change_password(self, id: str, original: str, password: str) -> None:
        record = self.get(id)
        if not verify_secret(original, record.get("password_hash")):
            raise faults.Unauthorized("The original password is not correct.")
        self.update(id, {"password": password})

    def check_password(self, user: Record, password: str) -> None:
        """401 unless ``user`` and its domain are enabled and ``password`` is its password."""
        if not user["enabled"] or not self.identity.domains.enabled(user["domain_id"]):
            raise faults.Unauthorized(AUTH_FAILED)
        if not verify_secret(password, user.get("password_hash")):
            raise faults.Unauthorized(AUTH_FAILED)

    @atomic
    def delete(self, id: str) -> None:
        self.get(id)
        identity = self.identity
        identity.assignments.forget_actor(user_id=id)
        identity.groups.forget_member(id)
        identity.app_creds.forget(user_id=id)
        identity.app_creds.rules.forget(user_id=id)
        identity.credentials.forget(user_id=id)
        identity.tokens.forget(user_id=id)
        self.store.delete(self.kind, id)

    def live(self, id: str) -> Record | None:
        """The user if it exists and it and its domain are enabled, else None."""
        user = self.store.get(self.kind, id)
        if user is None or not user["enabled"] or not self.identity.domains.enabled(user["domain_id"]):
            return None
        return user
