"""Keystone's model: domains, projects, users, roles, assignments, tokens,
application credentials and the service catalog.

Tokens are opaque random strings; only their SHA-256 is stored. As with
Keystone's Fernet tokens, a token carries who and what scope, and the
roles are worked out from the assignments each time it is validated, so
a revoked role or a disabled user takes effect at once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from stacksim import clock, faults
from stacksim.auth import Context
from stacksim.services.identity.passwords import hash_secret, verify_secret
from stacksim.store import Store, atomic
from stacksim.toolkit import new_hex_id

DEFAULT_DOMAIN = "default"
# Keystone's default role hierarchy.
IMPLIED_ROLES = {"admin": "member", "member": "reader"}
AUTH_FAILED = "The request you have made requires authentication: invalid credentials or disabled account."


new_id = new_hex_id


def _is_scoped(token: dict[str, Any]) -> bool:
    return bool(token["project_id"] or token["domain_id"] or token["system"])


#: Every token begins as Keystone's Fernet tokens do; above all never with "-", which a
#: command line (``openstack token revoke <id>``) would take for an option.
TOKEN_PREFIX = "gAAAAA"


def _token_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Identity:
    def __init__(self, store: Store, token_ttl: int = 3600) -> None:
        self.store = store
        self.token_ttl = token_ttl

    # -- lookups ---------------------------------------------------------

    def _get(self, kind: str, id: str, label: str) -> dict[str, Any]:
        record = self.store.get(kind, id)
        if record is None:
            raise faults.NotFound(f"Could not find {label}: {id}.")
        return record

    def domain(self, id: str) -> dict[str, Any]:
        return self._get("domain", id, "domain")

    def project(self, id: str) -> dict[str, Any]:
        return self._get("project", id, "project")

    def user(self, id: str) -> dict[str, Any]:
        return self._get("user", id, "user")

    def role(self, id: str) -> dict[str, Any]:
        return self._get("role", id, "role")

    def find_domain(self, ref: dict[str, Any]) -> dict[str, Any]:
        """A domain named by ``{"id": ...}`` or ``{"name": ...}``."""
        if ref.get("id"):
            return self.domain(ref["id"])
        if ref.get("name"):
            found = self.store.first("domain", name=ref["name"])
            if found is None:
                raise faults.NotFound(f"Could not find domain: {ref['name']}.")
            return found
        raise faults.BadRequest("A domain must be given by 'id' or 'name'.")

    def find_by_name(self, kind: str, ref: dict[str, Any]) -> dict[str, Any]:
        """A user or project by ``id``, or by ``name`` and ``domain``."""
        if ref.get("id"):
            return self._get(kind, ref["id"], kind)
        if not ref.get("name"):
            raise faults.BadRequest(f"A {kind} must be given by 'id' or by 'name' and 'domain'.")
        if "domain" not in ref:
            raise faults.BadRequest(f"The {kind} '{ref['name']}' needs a 'domain' ('id' or 'name').")
        domain = self.find_domain(ref["domain"])
        found = self.store.first(kind, name=ref["name"], domain_id=domain["id"])
        if found is None:
            raise faults.NotFound(f"Could not find {kind}: {ref['name']}.")
        return found

    # -- domains, projects, users, roles -----------------------------------

    def _unique(self, kind: str, label: str, **key: Any) -> None:
        if self.store.first(kind, **key) is not None:
            where = f" in domain {key['domain_id']}" if key.get("domain_id") else ""
            raise faults.Conflict(
                f"Conflict occurred attempting to store {label} - Duplicate entry found with name {key['name']}{where}."
            )

    @atomic
    def create_domain(self, name: str, **fields: Any) -> dict[str, Any]:
        self._unique("domain", "domain", name=name)
        record = {
            "id": fields.pop("id", None) or new_id(),
            "name": name,
            "description": "",
            "enabled": True,
            "tags": [],
            "options": {},
        }
        record.update(fields)
        return self.store.put("domain", record)

    @atomic
    def update_domain(self, id: str, changes: dict[str, Any]) -> dict[str, Any]:
        record = self.domain(id)
        if "name" in changes and changes["name"] != record["name"]:
            self._unique("domain", "domain", name=changes["name"])
        record.update(changes)
        return self.store.put("domain", record)

    @atomic
    def delete_domain(self, id: str) -> None:
        record = self.domain(id)
        if id == DEFAULT_DOMAIN:
            raise faults.Forbidden("The default domain cannot be deleted.")
        if record["enabled"]:
            raise faults.Forbidden("Cannot delete a domain that is enabled, please disable it first.")
        with self.store.transaction():
            for project in self.store.find("project", domain_id=id):
                self.delete_project(project["id"])
            for user in self.store.find("user", domain_id=id):
                self.delete_user(user["id"])
            self.store.delete_where("assignment", domain_id=id)
            self.store.delete("domain", id)

    @atomic
    def create_project(self, name: str, domain_id: str, **fields: Any) -> dict[str, Any]:
        self.domain(domain_id)
        self._unique("project", "project", name=name, domain_id=domain_id)
        parent = fields.pop("parent_id", None) or domain_id
        if parent != domain_id:
            self.project(parent)
        record = {
            "id": fields.pop("id", None) or new_id(),
            "name": name,
            "domain_id": domain_id,
            "description": "",
            "enabled": True,
            "parent_id": parent,
            "is_domain": False,
            "tags": [],
            "options": {},
        }
        record.update(fields)
        return self.store.put("project", record)

    @atomic
    def update_project(self, id: str, changes: dict[str, Any]) -> dict[str, Any]:
        record = self.project(id)
        if "domain_id" in changes and changes["domain_id"] != record["domain_id"]:
            raise faults.BadRequest(
                "Invalid input for field 'project/domain_id': a project cannot move to another domain."
            )
        if "name" in changes and changes["name"] != record["name"]:
            self._unique("project", "project", name=changes["name"], domain_id=record["domain_id"])
        record.update(changes)
        return self.store.put("project", record)

    @atomic
    def delete_project(self, id: str) -> None:
        self.project(id)
        if self.store.first("project", parent_id=id):
            raise faults.Forbidden(f"Cannot delete project {id}: it has child projects; delete them first.")
        with self.store.transaction():
            self.store.delete_where("assignment", project_id=id)
            self.store.delete_where("app_cred", project_id=id)
            self.store.delete_where("token", project_id=id)
            self.store.delete("project", id)

    def create_user(self, name: str, domain_id: str, password: str | None = None, **fields: Any) -> dict[str, Any]:
        self.domain(domain_id)
        self._unique("user", "user", name=name, domain_id=domain_id)
        # Hashed before the transaction: the store's lock is not held for the slow part.
        password_hash = hash_secret(password) if password else None
        with self.store.transaction():
            self._unique("user", "user", name=name, domain_id=domain_id)
            if fields.get("default_project_id"):
                self.project(fields["default_project_id"])
            record = {
                "id": fields.pop("id", None) or new_id(),
                "name": name,
                "domain_id": domain_id,
                "enabled": True,
                "options": {},
                "password_expires_at": None,
                "password_hash": password_hash,
            }
            record.update(fields)
            return self.store.put("user", record)

    def update_user(self, id: str, changes: dict[str, Any]) -> dict[str, Any]:
        self.user(id)
        password = changes.pop("password", None)
        password_hash = hash_secret(password) if password is not None else None  # outside the lock
        with self.store.transaction():
            record = self.user(id)
            if "name" in changes and changes["name"] != record["name"]:
                self._unique("user", "user", name=changes["name"], domain_id=record["domain_id"])
            if changes.get("default_project_id"):
                self.project(changes["default_project_id"])
            record.update(changes)
            if password_hash is not None:
                record["password_hash"] = password_hash
                self.revoke_user_tokens(id)
            if record["enabled"] is False:
                self.revoke_user_tokens(id)
            return self.store.put("user", record)

    def change_password(self, id: str, original: str, password: str) -> None:
        record = self.user(id)
        if not verify_secret(original, record.get("password_hash")):
            raise faults.Unauthorized("The original password is not correct.")
        self.update_user(id, {"password": password})

    def delete_user(self, id: str) -> None:
        self.user(id)
        with self.store.transaction():
            self.store.delete_where("assignment", user_id=id)
            self.store.delete_where("app_cred", user_id=id)
            self.revoke_user_tokens(id)
            self.store.delete("user", id)

    @atomic
    def create_role(self, name: str, **fields: Any) -> dict[str, Any]:
        self._unique("role", "role", name=name, domain_id=fields.get("domain_id"))
        record = {
            "id": fields.pop("id", None) or new_id(),
            "name": name,
            "domain_id": None,
            "description": None,
            "options": {},
        }
        record.update(fields)
        return self.store.put("role", record)

    @atomic
    def update_role(self, id: str, changes: dict[str, Any]) -> dict[str, Any]:
        record = self.role(id)
        if "name" in changes and changes["name"] != record["name"]:
            self._unique("role", "role", name=changes["name"], domain_id=record["domain_id"])
        record.update(changes)
        return self.store.put("role", record)

    @atomic
    def delete_role(self, id: str) -> None:
        self.role(id)
        with self.store.transaction():
            self.store.delete_where("assignment", role_id=id)
            self.store.delete_where("implied_role", prior_role_id=id)
            self.store.delete_where("implied_role", implied_role_id=id)
            self.store.delete("role", id)

    # -- role assignments --------------------------------------------------

    @staticmethod
    def _assignment_id(user_id: str, target: str, role_id: str) -> str:
        return f"{user_id}:{target}:{role_id}"

    def _target(self, project_id: str | None, domain_id: str | None, system: bool) -> str:
        if project_id:
            self.project(project_id)
            return f"project={project_id}"
        if domain_id:
            self.domain(domain_id)
            return f"domain={domain_id}"
        if system:
            return "system=all"
        raise faults.BadRequest("A role assignment needs a project, a domain or the system as its target.")

    def _grant_key(
        self, role_id: str, user_id: str, project_id: str | None, domain_id: str | None, system: bool
    ) -> str:
        """The id of an assignment; 404 if its role, user or target does not exist."""
        self.role(role_id)
        self.user(user_id)
        return self._assignment_id(user_id, self._target(project_id, domain_id, system), role_id)

    @atomic
    def grant(
        self,
        role_id: str,
        user_id: str,
        project_id: str | None = None,
        domain_id: str | None = None,
        system: bool = False,
    ) -> None:
        key = self._grant_key(role_id, user_id, project_id, domain_id, system)
        self.store.put(
            "assignment",
            {
                "id": key,
                "role_id": role_id,
                "user_id": user_id,
                "project_id": project_id,
                "domain_id": domain_id,
                "system": bool(system),
            },
        )

    def has_grant(
        self,
        role_id: str,
        user_id: str,
        project_id: str | None = None,
        domain_id: str | None = None,
        system: bool = False,
    ) -> bool:
        return (
            self.store.get("assignment", self._grant_key(role_id, user_id, project_id, domain_id, system)) is not None
        )

    @atomic
    def revoke(
        self,
        role_id: str,
        user_id: str,
        project_id: str | None = None,
        domain_id: str | None = None,
        system: bool = False,
    ) -> None:
        if not self.store.delete("assignment", self._grant_key(role_id, user_id, project_id, domain_id, system)):
            raise faults.NotFound(f"Could not find role assignment with role: {role_id}, user: {user_id}.")

    def assignments(self, **equal: Any) -> list[dict[str, Any]]:
        return self.store.find("assignment", **equal)

    def implied(self, role_ids: set[str]) -> set[str]:
        """``role_ids`` with every role they imply, transitively."""
        result, todo = set(role_ids), list(role_ids)
        while todo:
            for rule in self.store.find("implied_role", prior_role_id=todo.pop()):
                if rule["implied_role_id"] not in result:
                    result.add(rule["implied_role_id"])
                    todo.append(rule["implied_role_id"])
        return result

    def imply(self, prior_role_id: str, implied_role_id: str) -> None:
        self.store.put(
            "implied_role",
            {
                "id": f"{prior_role_id}:{implied_role_id}",
                "prior_role_id": prior_role_id,
                "implied_role_id": implied_role_id,
            },
        )

    def roles_on(
        self, user_id: str, project_id: str | None = None, domain_id: str | None = None, system: bool = False
    ) -> list[dict[str, Any]]:
        """The effective roles (implied ones included) a user holds on a target."""
        if project_id:
            direct = self.assignments(user_id=user_id, project_id=project_id)
        elif domain_id:
            direct = self.assignments(user_id=user_id, domain_id=domain_id)
        elif system:
            direct = self.assignments(user_id=user_id, system=True)
        else:
            return []
        ids = self.implied({a["role_id"] for a in direct})
        return [r for r in (self.store.get("role", i) for i in sorted(ids)) if r is not None]

    def user_projects(self, user_id: str) -> list[dict[str, Any]]:
        ids = {a["project_id"] for a in self.assignments(user_id=user_id) if a["project_id"]}
        return [p for p in self.store.find("project") if p["id"] in ids]

    def user_domains(self, user_id: str) -> list[dict[str, Any]]:
        ids = {a["domain_id"] for a in self.assignments(user_id=user_id) if a["domain_id"]}
        return [d for d in self.store.find("domain") if d["id"] in ids]

    # -- application credentials -------------------------------------------

    def create_app_cred(
        self,
        user_id: str,
        project_id: str,
        name: str,
        secret: str | None,
        role_names: list[dict[str, Any]] | None,
        **fields: Any,
    ) -> tuple[dict[str, Any], str]:
        if self.store.first("app_cred", user_id=user_id, name=name):
            raise faults.Conflict(
                f"Conflict occurred attempting to store application_credential - Duplicate name, {name}."
            )
        held = {r["id"]: r for r in self.roles_on(user_id, project_id=project_id)}
        if role_names:
            wanted = []
            for ref in role_names:
                role = self.store.get("role", ref.get("id", "")) or self.store.first("role", name=ref.get("name"))
                if role is None or role["id"] not in held:
                    raise faults.Forbidden(
                        f"Invalid input for field 'application_credential/roles': the user does not hold role "
                        f"{ref.get('name') or ref.get('id')} on project {project_id}."
                    )
                wanted.append(role["id"])
        else:
            wanted = list(held)
        secret = secret or secrets.token_urlsafe(64)
        record = {
            "id": new_id(),
            "name": name,
            "user_id": user_id,
            "project_id": project_id,
            "role_ids": wanted,
            "secret_hash": hash_secret(secret),
            "description": None,
            "expires_at": None,
            "unrestricted": False,
            "access_rules": [],
        }
        record.update(fields)
        return self.store.put("app_cred", record), secret

    def app_cred(self, user_id: str, id: str) -> dict[str, Any]:
        record = self.store.get("app_cred", id)
        if record is None or record["user_id"] != user_id:
            raise faults.NotFound(f"Could not find Application Credential: {id}.")
        return record

    def delete_app_cred(self, user_id: str, id: str) -> None:
        self.app_cred(user_id, id)
        with self.store.transaction():
            self.store.delete_where("token", app_cred_id=id)
            self.store.delete("app_cred", id)

    # -- tokens --------------------------------------------------------------

    def check_password(self, user: dict[str, Any], password: str) -> None:
        if not user["enabled"] or not self._domain_enabled(user["domain_id"]):
            raise faults.Unauthorized(AUTH_FAILED)
        if not verify_secret(password, user.get("password_hash")):
            raise faults.Unauthorized(AUTH_FAILED)

    def _domain_enabled(self, domain_id: str) -> bool:
        domain = self.store.get("domain", domain_id)
        return bool(domain and domain["enabled"])

    def check_app_cred(self, ref: dict[str, Any]) -> dict[str, Any]:
        secret = ref.get("secret")
        if not secret:
            raise faults.BadRequest("Invalid input for field 'identity/application_credential/secret': it is required.")
        if ref.get("id"):
            record = self.store.get("app_cred", ref["id"])
        elif ref.get("name") and ref.get("user"):
            try:
                user = self.find_by_name("user", ref["user"])
            except faults.NotFound:
                raise faults.Unauthorized(AUTH_FAILED) from None
            record = self.store.first("app_cred", user_id=user["id"], name=ref["name"])
        else:
            raise faults.BadRequest("An application credential must be given by 'id', or by 'name' and 'user'.")
        if record is None or not verify_secret(secret, record["secret_hash"]):
            raise faults.Unauthorized(AUTH_FAILED)
        if record.get("expires_at") and clock.parse(record["expires_at"]) <= clock.now():
            raise faults.Unauthorized("The application credential has expired.")
        user = self.store.get("user", record["user_id"])
        if user is None or not user["enabled"]:
            raise faults.Unauthorized(AUTH_FAILED)
        return record

    def issue_token(
        self,
        user_id: str,
        methods: list[str],
        project_id: str | None = None,
        domain_id: str | None = None,
        system: bool = False,
        app_cred_id: str | None = None,
        expires_at: str | None = None,
        audit_ids: list[str] | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """A new token and its record; the caller has checked the credentials."""
        issued = clock.now()
        expires = expires_at or clock.iso(issued + timedelta(seconds=self.token_ttl))
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        record = {
            "id": _token_key(token),
            "user_id": user_id,
            "methods": methods,
            "project_id": project_id,
            "domain_id": domain_id,
            "system": system,
            "app_cred_id": app_cred_id,
            "issued_at": clock.iso(issued),
            "expires_at": expires,
            # Keystone keeps a new audit id and the one of the token it came from.
            "audit_ids": [secrets.token_urlsafe(16), *(audit_ids or [])[:1]],
        }
        if _is_scoped(record) and not self.scoped_roles(record):
            target = project_id or domain_id or "system"
            raise faults.Unauthorized(f"User {user_id} has no access to {target}.")
        self.store.put("token", record)
        return token, record

    def scoped_roles(self, record: dict[str, Any]) -> list[dict[str, Any]]:
        """The roles a token carries now (none for an unscoped token)."""
        if not _is_scoped(record):
            return []
        roles = self.roles_on(record["user_id"], record["project_id"], record["domain_id"], record["system"])
        if record.get("app_cred_id"):
            cred = self.store.get("app_cred", record["app_cred_id"])
            allowed = self.implied(set(cred["role_ids"])) if cred else set()
            roles = [r for r in roles if r["id"] in allowed]
        return roles

    def token_record(self, token: str) -> dict[str, Any] | None:
        """The stored record of a live token, or None if unknown, expired or no longer valid."""
        record = self.store.get("token", _token_key(token))
        if record is None:
            return None
        if clock.parse(record["expires_at"]) <= clock.now():
            self.store.delete("token", record["id"])
            return None
        user = self.store.get("user", record["user_id"])
        if user is None or not user["enabled"] or not self._domain_enabled(user["domain_id"]):
            return None
        if record["project_id"]:
            project = self.store.get("project", record["project_id"])
            if project is None or not project["enabled"]:
                return None
        return record

    def token_context(self, token: str) -> Context | None:
        record = self.token_record(token)
        if record is None:
            return None
        roles = self.scoped_roles(record)
        if _is_scoped(record) and not roles:
            return None  # the roles that made this token were revoked
        user = self.store.get("user", record["user_id"])
        project = self.store.get("project", record["project_id"]) if record["project_id"] else None
        cred = self.store.get("app_cred", record["app_cred_id"]) if record.get("app_cred_id") else None
        return Context(
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
        )

    def revoke_token(self, token: str) -> None:
        if self.store.get("token", _token_key(token)) is None:
            raise faults.NotFound("Could not find token.")
        self.store.delete("token", _token_key(token))

    def revoke_user_tokens(self, user_id: str) -> None:
        self.store.delete_where("token", user_id=user_id)

    def prune_tokens(self) -> int:
        """Forget expired tokens (run at start-up)."""
        stamp = clock.now()
        dead = [t["id"] for t in self.store.find("token") if clock.parse(t["expires_at"]) <= stamp]
        for key in dead:
            self.store.delete("token", key)
        return len(dead)

    # -- catalog ------------------------------------------------------------

    def ensure_service(self, type: str, name: str, description: str, region_id: str, paths: dict[str, str]) -> None:
        """Register a service and its endpoints once (idempotent across restarts)."""
        service = self.store.first("service", type=type)
        if service is None:
            service = self.store.put(
                "service", {"id": new_id(), "type": type, "name": name, "description": description, "enabled": True}
            )
        for interface, path in paths.items():
            if not self.store.first("endpoint", service_id=service["id"], interface=interface):
                self.store.put(
                    "endpoint",
                    {
                        "id": new_id(),
                        "service_id": service["id"],
                        "interface": interface,
                        "region_id": region_id,
                        "path": path,
                        "enabled": True,
                    },
                )
