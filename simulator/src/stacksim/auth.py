"""Who is calling, and what they may do: token check, scoping, role policy.

Every service asks this module, never the token store directly, so the
rules live in one place. The role model is Keystone's default one:
``admin`` implies ``member`` implies ``reader``, and the ``admin`` role on
any project makes a token a cloud admin (Keystone's legacy ``role:admin``
rule, which is what a stock deployment enforces).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from stacksim import faults

if TYPE_CHECKING:
    from stacksim.services.identity.model import Identity

AUTH_REQUIRED = "The request you have made requires authentication."


@functools.lru_cache(maxsize=1024)
def path_pattern(template: str) -> re.Pattern[str]:
    """The regular expression of an access rule's path: ``*`` and ``{name}`` match one path
    segment, ``**`` any number of them (keystonemiddleware's matching)."""
    out = []
    for match in re.finditer(r"(\{[^}]*\})|(\*\*)|(\*)|([^{}*]+|[{}])", template):
        tag, deep, one, literal = match.groups()
        if deep:
            out.append(".*")
        elif tag or one:
            out.append(r"[^/]+")
        else:
            out.append(re.escape(literal))
    return re.compile("^" + "".join(out) + "$")


def path_matches(path: str, template: str) -> bool:
    return path_pattern(template).match(path) is not None


@dataclass(frozen=True)
class AccessRule:
    """One kind of request an application credential's tokens may make (Keystone's access rules)."""

    service: str  #: the catalog type, e.g. ``compute``
    method: str  #: ``GET``, ``POST`` ...
    #: a pattern for the path as the service itself sees it (below its mount prefix: ``/v2.1/servers/*``
    #: for ``/compute/v2.1/servers/<id>``, ``/v2.0/networks`` for ``/network/v2.0/networks``)
    path: str

    def allows(self, service: str, method: str, path: str) -> bool:
        """Whether a ``method`` request for ``path`` (below ``service``'s mount prefix) matches."""
        return self.service == service and self.method == method.upper() and path_matches(path, self.path)


@dataclass(frozen=True)
class Context:
    token_id: str
    user_id: str
    user_name: str
    user_domain_id: str
    roles: frozenset[str]
    project_id: str | None = None
    project_name: str | None = None
    project_domain_id: str | None = None
    domain_id: str | None = None
    system: bool = False
    app_cred_id: str | None = None
    app_cred_restricted: bool = False
    #: the access rules of the application credential the token came from: None when it
    #: has none (the token may make any request its roles allow), else only the requests
    #: one of them allows (see :meth:`permits`)
    access_rules: tuple[AccessRule, ...] | None = None
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def require_admin(self, action: str) -> None:
        if not self.is_admin:
            raise forbidden(action)

    def require(self, allowed: bool, action: str) -> None:
        if not (allowed or self.is_admin):
            raise forbidden(action)

    def permits(self, service: str, method: str, path: str) -> bool:
        """Whether the token's access rules let it make this request: ``service`` is the catalog
        type (``compute``, ``network``, ``block-storage`` ...), ``path`` the request's path below the
        service's mount prefix (``/v2.1/servers`` for ``/compute/v2.1/servers``). As
        keystonemiddleware does, a token may always validate itself (``GET /v3/auth/tokens``)."""
        if self.access_rules is None:
            return True
        if service == "identity" and method.upper() == "GET" and path.endswith("/v3/auth/tokens"):
            return True
        return any(rule.allows(service, method, path) for rule in self.access_rules)

    def owns_project(self, project_id: str | None) -> bool:
        return self.is_admin or (project_id is not None and project_id == self.project_id)

    def project_filter(self, requested: str | None = None, all_projects: bool = False) -> str | None:
        """The project a list call is limited to (None: every project, admins only)."""
        if self.is_admin:
            return requested if requested or not all_projects else None
        if all_projects or (requested and requested != self.project_id):
            raise forbidden("list resources of other projects")
        return self.project_id


def forbidden(action: str) -> faults.Forbidden:
    return faults.Forbidden(f"You are not authorized to perform the requested action: {action}.")


class Authenticator:
    def __init__(self, identity: Identity, auth_url: str) -> None:
        self._identity = identity
        self._challenge = {"WWW-Authenticate": f'Keystone uri="{auth_url}"'}

    @property
    def challenge(self) -> dict[str, str]:
        """The ``WWW-Authenticate`` header a 401 carries."""
        return dict(self._challenge)

    def optional_context(self, token: str | None) -> Context | None:
        return self._identity.token_context(token) if token else None

    def context(self, token: str | None) -> Context:
        if not token:
            raise faults.Unauthorized(AUTH_REQUIRED, headers=self._challenge)
        ctx = self._identity.token_context(token)
        if ctx is None:
            raise faults.Unauthorized(
                "The request you have made requires authentication: the token is invalid, expired or revoked.",
                headers=self._challenge,
            )
        return ctx
