"""Authentication and tokens.

Tokens are opaque random strings; only their SHA-256 is stored. As with
Keystone's Fernet tokens, a token carries who and what scope, and the roles
are worked out from the assignments each time it is validated, so a revoked
role, a group left or a disabled user takes effect at once. A token made
from an application credential never outlives the credential.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from stacksim import clock, faults
from stacksim.auth import Context
from stacksim.services.identity.app_creds import expired
from stacksim.services.identity.common import Part, Record
from stacksim.services.identity.specs import AuthRequest, Scope, Target
from stacksim.services.identity.users import AUTH_FAILED

#: Every token begins as Keystone's Fernet tokens do; above all never with "-", which a
#: command line (``openstack token revoke <id>``) would take for an option.
TOKEN_PREFIX = "gAAAAA"
METHODS = ("password", "token", "application_credential")


#: The kinds of record a token's :class:`Context` is worked out from (its token, user, domain,
#: project, application credential and access rules, role grants, roles, implied roles and
#: groups): a write to any of them drops every cached context (see :meth:`Tokens.context`).
CONTEXT_KINDS = (
    "token",
    "user",
    "domain",
    "project",
    "app_cred",
    "access_rule",
    "assignment",
    "role",
    "implied_role",
    "group",
    "group_member",
)
#: contexts cached at most (a full cache is emptied: tokens outnumber them only in floods)
CONTEXT_CACHE_SIZE = 4096


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def target_of(record: Record) -> Target:
    """What a token is scoped to (nothing at all for an unscoped one)."""
    return Target(record.get("project_id"), record.get("domain_id"), bool(record.get("system")))


def is_scoped(record: Record) -> bool:
    return bool(record["project_id"] or record["domain_id"] or record["system"])


class Tokens(Part):
    kind = "token"
    label = "token"

    def __init__(self, identity: Any, ttl: int) -> None:
        super().__init__(identity)
        self.ttl = ttl
        #: token key -> (the store's writes to CONTEXT_KINDS when it was worked out, when it
        #: stops being good, the context)
        self._contexts: dict[str, tuple[int, datetime, Context]] = {}

    # -- POST /v3/auth/tokens ---------------------------------------------------------------

    def authenticate(self, request: AuthRequest) -> tuple[str, Record]:
        """Check every method's credentials (all must name the same user) and issue a token for
        the scope asked for; 401 for bad credentials or a scope the user has no role on."""
        methods = list(dict.fromkeys(request.methods))
        if any(m not in METHODS for m in methods):
            raise faults.Unauthorized("Attempted to authenticate with an unsupported method.")
        user: Record | None = None
        args: dict[str, Any] = {"methods": []}
        for method in methods:
            found, earned = self._by_method(method, request)
            if user is not None and found["id"] != user["id"]:
                raise faults.Unauthorized("User IDs do not match between the authentication methods.")
            user = found
            args.update({k: v for k, v in earned.items() if k != "methods"})
            args["methods"] = sorted(set(args["methods"]) | set(earned["methods"]))
        assert user is not None
        if "app_cred_id" in args:
            if request.scope and not request.scope.unscoped:
                raise faults.Unauthorized("Application credentials cannot request a scope.")
        else:
            args.update(self._scope(user, request.scope))
        return self.issue(user["id"], **args)

    def _by_method(self, method: str, request: AuthRequest) -> tuple[Record, dict[str, Any]]:
        identity = self.identity
        if method == "password":
            if request.password is None:
                raise faults.BadRequest("Expecting to find password in identity.")
            ref = request.password
            try:
                user = identity.users.find_ref(ref)
            except faults.NotFound:
                raise faults.Unauthorized(AUTH_FAILED) from None
            if not isinstance(ref.get("password"), str):
                raise faults.BadRequest(
                    "Invalid input for field 'identity/password/user/password': a string is required."
                )
            identity.users.check_password(user, ref["password"])
            return user, {"methods": ["password"]}
        if method == "token":
            if request.token is None:
                raise faults.BadRequest("Expecting to find token in identity.")
            source = self.record(request.token)
            if source is None:
                raise faults.Unauthorized("The token given for re-authentication is invalid, expired or revoked.")
            if source.get("app_cred_id"):
                raise faults.Forbidden("A token created with an application credential cannot be rescoped.")
            return identity.users.get(source["user_id"]), {
                "methods": sorted(set(source["methods"]) | {"token"}),
                "expires_at": source["expires_at"],
                "audit_ids": source["audit_ids"],
            }
        if request.application_credential is None:
            raise faults.BadRequest("Expecting to find application_credential in identity.")
        cred = identity.app_creds.authenticate(request.application_credential)
        return identity.users.get(cred["user_id"]), {
            "methods": ["application_credential"],
            "project_id": cred["project_id"],
            "app_cred_id": cred["id"],
            "expires_at": cred.get("expires_at"),
        }

    def _scope(self, user: Record, scope: Scope | None) -> dict[str, Any]:
        identity = self.identity
        if scope is not None and scope.unscoped:
            return {}
        if scope is None:
            default = user.get("default_project_id")
            usable = default and self.store.get("project", default) is not None
            if usable and identity.assignments.roles_on(user["id"], Target(project_id=default)):
                return {"project_id": default}
            return {}
        if scope.project is not None:
            try:
                project = identity.projects.find_ref(scope.project)
            except faults.NotFound as exc:
                raise faults.Unauthorized(exc.message) from None
            if not project["enabled"] or not identity.domains.enabled(project["domain_id"]):
                raise faults.Unauthorized(f"Project {project['id']} is disabled.")
            return {"project_id": project["id"]}
        if scope.domain is not None:
            try:
                domain = identity.domains.find_ref(scope.domain)
            except faults.NotFound as exc:
                raise faults.Unauthorized(exc.message) from None
            if not domain["enabled"]:
                raise faults.Unauthorized(f"Domain {domain['id']} is disabled.")
            return {"domain_id": domain["id"]}
        if scope.system:
            return {"system": True}
        raise faults.BadRequest("Invalid input for field 'auth/scope': expected 'project', 'domain' or 'system'.")

    def issue(
        self,
        user_id: str,
        methods: list[str],
        project_id: str | None = None,
        domain_id: str | None = None,
        system: bool = False,
        app_cred_id: str | None = None,
        expires_at: str | None = None,
        audit_ids: list[str] | None = None,
    ) -> tuple[str, Record]:
        """A new token and its record; the caller has checked the credentials. It expires after the
        token lifetime, or at ``expires_at`` if that is sooner (a re-scoped token's or a credential's end)."""
        issued = clock.now()
        expires = issued + timedelta(seconds=self.ttl)
        if expires_at is not None:
            expires = min(expires, clock.parse(expires_at))
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        record = {
            "id": _key(token),
            "user_id": user_id,
            "methods": methods,
            "project_id": project_id,
            "domain_id": domain_id,
            "system": system,
            "app_cred_id": app_cred_id,
            "issued_at": clock.iso(issued),
            "expires_at": clock.iso(expires),
            # Keystone keeps a new audit id and the one of the token it came from.
            "audit_ids": [secrets.token_urlsafe(16), *(audit_ids or [])[:1]],
        }
        if is_scoped(record) and not self.roles(record):
            target = project_id or domain_id or "system"
            raise faults.Unauthorized(f"User {user_id} has no access to {target}.")
        self.store.put(self.kind, record)
        return token, record

    # -- using a token ------------------------------------------------------------------------

    def record(self, token: str) -> Record | None:
        """The stored record of a live token, or None if unknown, expired or no longer valid."""
        record = self.store.get(self.kind, _key(token))
        if record is None:
            return None
        if clock.parse(record["expires_at"]) <= clock.now():
            self.store.delete(self.kind, record["id"])
            return None
        if self.identity.users.live(record["user_id"]) is None:
            return None
        if record["project_id"]:
            project = self.store.get("project", record["project_id"])
            if project is None or not project["enabled"]:
                return None
        if record.get("app_cred_id"):
            cred = self.store.get("app_cred", record["app_cred_id"])
            if cred is None or expired(cred):
                return None
        return record

    def subject(self, token: str) -> Record:
        """The record of a token asked about (``X-Subject-Token``): 404 if it is not live."""
        record = self.record(token)
        if record is None:
            raise faults.NotFound("Could not find token: the subject token is invalid, expired or revoked.")
        return record

    def roles(self, record: Record) -> list[Record]:
        """The roles a token carries now (none for an unscoped token; an application
        credential's tokens only the credential's)."""
        if not is_scoped(record):
            return []
        roles = self.identity.assignments.roles_on(record["user_id"], target_of(record))
        if record.get("app_cred_id"):
            cred = self.store.get("app_cred", record["app_cred_id"])
            allowed = self.identity.roles.implied(set(cred["role_ids"])) if cred else set()
            roles = [r for r in roles if r["id"] in allowed]
        return roles

    def context(self, token: str) -> Context | None:
        """Who calls with ``token`` and what they may do; None if the token is not (or no longer) good.

        Every request asks, and working it out takes about ten reads, so the answer is kept
        until a record it was read from changes (any write to :data:`CONTEXT_KINDS`: a revoked
        token, a removed role, a disabled user or project take effect on the next request) or
        the token or its application credential expires.
        """
        key = _key(token)
        writes = self.store.writes(CONTEXT_KINDS)
        cached = self._contexts.get(key)
        if cached is not None and cached[0] == writes and clock.now() < cached[1]:
            return cached[2]
        ctx, until = self._context(token)
        if ctx is not None and until is not None:
            if len(self._contexts) >= CONTEXT_CACHE_SIZE:
                self._contexts.clear()
            self._contexts[key] = (writes, until, ctx)
        return ctx

    def _context(self, token: str) -> tuple[Context | None, datetime | None]:
        """The context of ``token`` read from the store, and until when it holds unless something changes."""
        record = self.record(token)
        if record is None:
            return None, None
        roles = self.roles(record)
        if is_scoped(record) and not roles:
            return None, None  # the roles that made this token were revoked
        user = self.identity.users.get(record["user_id"])
        project = self.store.get("project", record["project_id"]) if record["project_id"] else None
        cred = self.store.get("app_cred", record["app_cred_id"]) if record.get("app_cred_id") else None
        until = clock.parse(record["expires_at"])
        if cred is not None and cred.get("expires_at"):
            until = min(until, clock.parse(cred["expires_at"]))
        ctx = Context(
            token_id=record["id"],
            user_id=user["id"],
            user_name=user["name"],
            user_domain_id=user["domain_id"],
            roles=frozenset(r["name"] for r in roles),
            project_id=record["project_id"],
            project_name=project["name"] if project else None,
            project_domain_id=project["domain_id"] if project else None,
            domain_id=record["domain_id"],
            system=bool(record["system"]),
            app_cred_id=record.get("app_cred_id"),
            app_cred_restricted=bool(cred and not cred["unrestricted"]),
            access_rules=self.identity.app_creds.limits(cred),
        )
        return ctx, until

    def revoke(self, token: str) -> None:
        if not self.store.delete(self.kind, _key(token)):
            raise faults.NotFound("Could not find token.")

    def forget(self, **equal: Any) -> None:
        """Revoke every token matching ``equal`` (a user's, a project's, a credential's)."""
        self.store.delete_where(self.kind, **equal)

    def prune(self) -> int:
        """Forget expired tokens (run at start-up)."""
        stamp = clock.now()
        dead = [t["id"] for t in self.store.find(self.kind) if clock.parse(t["expires_at"]) <= stamp]
        for key in dead:
            self.store.delete(self.kind, key)
        return len(dead)
