"""Application credentials and their access rules.

A credential acts for its user on one project with a subset of the user's roles
there, until its ``expires_at``; its tokens never outlive it. Access rules are
records of the user's own, shared by the credentials that name them: a rule
given again (same service, method and path) is the same rule, and a rule still
used by a credential cannot be deleted. The web layer holds a token to its
credential's rules (``Context.access_rules``).
"""

from __future__ import annotations

import secrets
from typing import Any

from stacksim import clock, faults
from stacksim.auth import AccessRule
from stacksim.services.identity.common import Part, Record, conflict, new_id
from stacksim.services.identity.passwords import hash_secret, verify_secret
from stacksim.services.identity.specs import AccessRuleSpec, AppCredSpec, Target
from stacksim.services.identity.users import AUTH_FAILED
from stacksim.store import atomic


class AccessRules(Part):
    kind = "access_rule"
    label = "Access Rule"

    def of_user(self, user_id: str, id: str) -> Record:
        record = self.store.get(self.kind, id)
        if record is None or record["user_id"] != user_id:
            raise faults.NotFound(f"Could not find Access Rule: {id}.")
        return record

    def resolve(self, user_id: str, specs: list[AccessRuleSpec]) -> list[str]:
        """The ids of the rules ``specs`` name, made where new (run inside the credential's transaction)."""
        ids: list[str] = []
        for spec in specs:
            existing = self.store.get(self.kind, spec.id) if spec.id else None
            if existing is not None and existing["user_id"] != user_id:
                existing = None
            if existing is None and spec.service and spec.method and spec.path is not None:
                existing = self.store.first(
                    self.kind, user_id=user_id, service=spec.service, method=spec.method, path=spec.path
                )
            if existing is None:
                if not (spec.service and spec.method and spec.path is not None):
                    raise faults.BadRequest(
                        "Invalid input for field 'application_credential/access_rules': a new access rule "
                        "needs 'service', 'method' and 'path'."
                    )
                existing = self.store.put(
                    self.kind,
                    {
                        "id": spec.id or new_id(),
                        "user_id": user_id,
                        "service": spec.service,
                        "method": spec.method,
                        "path": spec.path,
                    },
                )
            if existing["id"] not in ids:
                ids.append(existing["id"])
        return ids

    @atomic
    def delete(self, user_id: str, id: str) -> None:
        self.of_user(user_id, id)
        for cred in self.store.find("app_cred", user_id=user_id):
            if id in (cred.get("access_rule_ids") or ()):
                raise faults.Forbidden("May not delete access rule in use")
        self.store.delete(self.kind, id)

    def forget(self, user_id: str) -> None:
        self.store.delete_where(self.kind, user_id=user_id)


class AppCreds(Part):
    kind = "app_cred"
    label = "Application Credential"

    def __init__(self, identity: Any) -> None:
        super().__init__(identity)
        self.rules = AccessRules(identity)

    def of_user(self, user_id: str, id: str) -> Record:
        record = self.store.get(self.kind, id)
        if record is None or record["user_id"] != user_id:
            raise faults.NotFound(f"Could not find Application Credential: {id}.")
        return record

    def create(self, user_id: str, project_id: str, spec: AppCredSpec) -> tuple[Record, str]:
        """A new credential of ``user_id`` on ``project_id``, and its secret (shown this once)."""
        if spec.expires_at is not None and spec.expires_at <= clock.now():
            raise faults.BadRequest(
                "The 'expires_at' must not be before now. The server could not comply with the request since "
                "it is either malformed or otherwise incorrect. The client is assumed to be in error."
            )
        secret = spec.secret or secrets.token_urlsafe(64)
        secret_hash = hash_secret(secret)  # slow: outside the store's lock
        with self.store.transaction():
            if self.store.first(self.kind, user_id=user_id, name=spec.name):
                raise conflict("application_credential", f"Duplicate name, {spec.name}")
            role_ids = self._roles(user_id, project_id, spec)
            record = {
                "id": new_id(),
                "name": spec.name,
                "user_id": user_id,
                "project_id": project_id,
                "role_ids": role_ids,
                "secret_hash": secret_hash,
                "description": spec.description,
                "expires_at": clock.iso(spec.expires_at) if spec.expires_at else None,
                "unrestricted": spec.unrestricted,
                "access_rule_ids": self.rules.resolve(user_id, spec.access_rules),
            }
            return self.store.put(self.kind, record), secret

    def _roles(self, user_id: str, project_id: str, spec: AppCredSpec) -> list[str]:
        """The roles asked for (with those they imply), each of which the user must hold on the project."""
        identity = self.identity
        held = {r["id"] for r in identity.assignments.roles_on(user_id, Target(project_id=project_id))}
        if not spec.roles:
            return sorted(held)
        wanted: list[str] = []
        for ref in spec.roles:
            role = identity.roles.find_ref(ref)
            if role is None or role["id"] not in held:
                raise faults.BadRequest(
                    "Invalid application credential: Cannot create an application credential with unassigned "
                    f"role: {ref.name or ref.id} is not held on project {project_id}."
                )
            wanted.append(role["id"])
        return [r for r in sorted(identity.roles.implied(set(wanted))) if r in held]

    @atomic
    def delete(self, user_id: str, id: str) -> None:
        self.of_user(user_id, id)
        self.identity.tokens.forget(app_cred_id=id)
        self.store.delete(self.kind, id)

    def forget(self, user_id: str | None = None, project_id: str | None = None) -> None:
        equal = {"user_id": user_id} if user_id else {"project_id": project_id}
        for cred in self.find(**equal):
            self.identity.tokens.forget(app_cred_id=cred["id"])
        self.store.delete_where(self.kind, **equal)

    # -- use ----------------------------------------------------------------------------------------

    def authenticate(self, ref: dict[str, Any]) -> Record:
        """The credential ``ref`` names (``id``, or ``name`` and ``user``) if ``ref["secret"]`` is its
        secret and it, its user and its project are usable; 401 otherwise."""
        secret = ref.get("secret")
        if not secret:
            raise faults.BadRequest("Invalid input for field 'identity/application_credential/secret': it is required.")
        if ref.get("id"):
            record = self.store.get(self.kind, ref["id"])
        elif ref.get("name") and ref.get("user"):
            try:
                user = self.identity.users.find_ref(ref["user"])
            except faults.NotFound:
                raise faults.Unauthorized(AUTH_FAILED) from None
            record = self.store.first(self.kind, user_id=user["id"], name=ref["name"])
        else:
            raise faults.BadRequest("An application credential must be given by 'id', or by 'name' and 'user'.")
        if record is None or not verify_secret(secret, record["secret_hash"]):
            raise faults.Unauthorized(AUTH_FAILED)
        if expired(record):
            raise faults.Unauthorized("The application credential has expired.")
        if self.identity.users.live(record["user_id"]) is None:
            raise faults.Unauthorized(AUTH_FAILED)
        return record

    def access_rules(self, record: Record) -> list[Record]:
        """The credential's rules as Keystone shows them (``id``, ``service``, ``method``, ``path``)."""
        if "access_rule_ids" not in record:  # stored by an older stacksim: the rules inline
            return [dict(r) for r in record.get("access_rules") or ()]
        return [
            {k: r[k] for k in ("id", "service", "method", "path")} for r in self.rules.many(record["access_rule_ids"])
        ]

    def limits(self, record: Record | None) -> tuple[AccessRule, ...] | None:
        """What a token of the credential may request: None when it has no rules (as Keystone)."""
        rules = self.access_rules(record) if record else []
        if not rules:
            return None
        return tuple(AccessRule(r.get("service", ""), r.get("method", ""), r.get("path", "")) for r in rules)


def expired(record: Record) -> bool:
    return bool(record.get("expires_at")) and clock.parse(record["expires_at"]) <= clock.now()
