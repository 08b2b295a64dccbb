"""The typed requests the Identity facade takes (the request schemas make them from the wire format).

Each is a plain dataclass of already-validated values; ``extra`` holds the
attributes Keystone keeps beyond its own (a project's or user's ``email`` ...).
Updates are ``changes`` dicts of the fields a PATCH set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class DomainSpec:
    name: str
    description: str | None = ""
    enabled: bool = True
    tags: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True)
class ProjectSpec:
    name: str
    domain_id: str
    parent_id: str | None = None  #: None: a top-level project of ``domain_id``
    description: str | None = ""
    enabled: bool = True
    tags: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True)
class UserSpec:
    name: str
    domain_id: str
    password: str | None = None
    enabled: bool = True
    default_project_id: str | None = None
    description: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True)
class GroupSpec:
    name: str
    domain_id: str
    description: str | None = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RoleSpec:
    name: str
    domain_id: str | None = None
    description: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True)
class Target:
    """What a role is granted on: one project, one domain or the whole system."""

    project_id: str | None = None
    domain_id: str | None = None
    system: bool = False

    @property
    def key(self) -> str:
        if self.project_id:
            return f"project={self.project_id}"
        if self.domain_id:
            return f"domain={self.domain_id}"
        return "system=all"


@dataclass(frozen=True)
class Actor:
    """Who holds a role: a user or a group."""

    user_id: str | None = None
    group_id: str | None = None


@dataclass(frozen=True)
class RoleRef:
    id: str | None = None
    name: str | None = None
    domain_id: str | None = None


@dataclass(frozen=True)
class AccessRuleSpec:
    """An access rule as a credential asks for it: an existing one by ``id``, or a new one."""

    id: str | None = None
    service: str | None = None
    method: str | None = None
    path: str | None = None


@dataclass(frozen=True)
class AppCredSpec:
    name: str
    secret: str | None = None
    description: str | None = None
    expires_at: datetime | None = None
    roles: list[RoleRef] = field(default_factory=list)  #: empty: every role of the token
    unrestricted: bool = False
    access_rules: list[AccessRuleSpec] = field(default_factory=list)


@dataclass(frozen=True)
class CredentialSpec:
    user_id: str
    type: str
    blob: str
    project_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True)
class RegionSpec:
    id: str | None = None
    description: str | None = ""
    parent_region_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ServiceSpec:
    type: str
    name: str | None = None
    description: str | None = None
    enabled: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EndpointSpec:
    service_id: str
    interface: str
    url: str
    region_id: str | None = None
    enabled: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EndpointGroupSpec:
    name: str
    filters: dict[str, str]
    description: str | None = None


@dataclass(frozen=True)
class RegisteredLimitSpec:
    service_id: str
    resource_name: str
    default_limit: int
    region_id: str | None = None
    description: str | None = None
    id: str | None = None


@dataclass(frozen=True)
class LimitSpec:
    service_id: str
    resource_name: str
    resource_limit: int
    project_id: str | None = None
    domain_id: str | None = None
    region_id: str | None = None
    description: str | None = None
    id: str | None = None


@dataclass(frozen=True)
class Scope:
    """What a new token is for. The refs are ``{"id": ...}`` or ``{"name": ..., "domain": {"id"|"name": ...}}``."""

    project: dict[str, Any] | None = None
    domain: dict[str, Any] | None = None
    system: bool = False
    unscoped: bool = False  #: explicitly unscoped (no default project)


@dataclass(frozen=True)
class AuthRequest:
    """``POST /v3/auth/tokens``: the methods and their credentials, and the scope asked for (None:
    the user's default project, if it may use it)."""

    methods: tuple[str, ...]
    password: dict[str, Any] | None = None  #: the user's ref with its ``password``
    token: str | None = None  #: the id of the token to re-scope
    application_credential: dict[str, Any] | None = None  #: ``id`` or ``name`` and ``user``; ``secret``
    scope: Scope | None = None
