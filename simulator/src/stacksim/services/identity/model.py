"""The Identity facade: everything Keystone keeps, one part per resource.

The Cloud holds it as ``cloud.identity``. The auth layer and the other
services use the methods at the end of the class (:meth:`Identity.token_context`,
:meth:`Identity.project`, :meth:`Identity.user`, :meth:`Identity.issue_token`);
the identity routes reach each part through it (``identity.groups.create(spec)``)
with the typed requests of :mod:`~stacksim.services.identity.specs` and ids.
Every part raises Keystone's errors (:mod:`stacksim.faults`): 404 "Could not
find <thing>: <id>.", 409 "Conflict occurred attempting to store ...", 400
naming the field, 403 for what Keystone forbids whoever asks.
"""

from __future__ import annotations

from typing import Any

from stacksim.auth import Context
from stacksim.services.identity.app_creds import AppCreds
from stacksim.services.identity.assignments import Assignments
from stacksim.services.identity.catalog import Catalog
from stacksim.services.identity.common import DEFAULT_DOMAIN, Record
from stacksim.services.identity.credentials import Credentials
from stacksim.services.identity.domain_configs import DomainConfigs
from stacksim.services.identity.domains import Domains
from stacksim.services.identity.groups import Groups
from stacksim.services.identity.limits import Limits, RegisteredLimits
from stacksim.services.identity.projects import Projects
from stacksim.services.identity.roles import Roles
from stacksim.services.identity.specs import Target
from stacksim.services.identity.tokens import Tokens
from stacksim.services.identity.users import AUTH_FAILED, Users
from stacksim.store import Store

__all__ = ["AUTH_FAILED", "DEFAULT_DOMAIN", "IMPLIED_ROLES", "Identity"]

#: Keystone's default role hierarchy.
IMPLIED_ROLES = {"admin": "member", "member": "reader"}


class Identity:
    def __init__(self, store: Store, token_ttl: int = 3600) -> None:
        self.store = store
        self.domains = Domains(self)
        self.domain_configs = DomainConfigs(self)
        self.projects = Projects(self)
        self.users = Users(self)
        self.groups = Groups(self)
        self.roles = Roles(self)
        self.assignments = Assignments(self)
        self.app_creds = AppCreds(self)
        self.credentials = Credentials(self)
        self.catalog = Catalog(self)
        self.registered_limits = RegisteredLimits(self)
        self.limits = Limits(self)
        self.tokens = Tokens(self, token_ttl)

    # -- for the auth layer and the other services ---------------------------------------------

    def token_context(self, token: str) -> Context | None:
        """Who calls with ``token``: user, scope, roles (implied ones included) and, for an
        application credential's token, its access rules; None if the token is unknown,
        expired, revoked or no longer backed by a role."""
        return self.tokens.context(token)

    def project(self, id: str) -> Record:
        """The project record; ``NotFound`` ("Could not find project: <id>.") if there is none."""
        return self.projects.get(id)

    def user(self, id: str) -> Record:
        """The user record (its password hash included: never show it); ``NotFound`` if there is none."""
        return self.users.get(id)

    def roles_on(self, user_id: str, target: Target) -> list[Record]:
        """The roles ``user_id`` effectively holds on ``target`` (through groups and implied roles)."""
        return self.assignments.roles_on(user_id, target)

    def issue_token(self, user_id: str, methods: list[str], **scope: Any) -> tuple[str, Record]:
        """A token for ``user_id`` without checking credentials (bootstrap and tests): ``scope`` is
        ``project_id``, ``domain_id`` or ``system``; 401 if the user has no role there."""
        return self.tokens.issue(user_id, methods, **scope)
