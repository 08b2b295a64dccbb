"""Request bodies of the Identity API, validated as Keystone's JSON schemas do."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Name64 = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Name255 = Annotated[str, StringConstraints(min_length=1, max_length=255)]


class _Open(BaseModel):
    # Keystone keeps unknown attributes of projects and users as "extras".
    model_config = ConfigDict(extra="allow")


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DomainCreate(_Open):
    name: Name64
    description: str | None = None
    enabled: bool = True
    tags: list[str] = []
    options: dict[str, Any] = {}


class DomainUpdate(_Open):
    name: Name64 | None = None
    description: str | None = None
    enabled: bool | None = None
    tags: list[str] | None = None
    options: dict[str, Any] | None = None


class ProjectCreate(_Open):
    name: Name64
    domain_id: str | None = None
    parent_id: str | None = None
    description: str | None = ""
    enabled: bool = True
    is_domain: Literal[False] = False
    tags: list[str] = []
    options: dict[str, Any] = {}


class ProjectUpdate(_Open):
    name: Name64 | None = None
    domain_id: str | None = None
    description: str | None = None
    enabled: bool | None = None
    tags: list[str] | None = None
    options: dict[str, Any] | None = None


class UserCreate(_Open):
    name: Name255
    domain_id: str | None = None
    password: str | None = None
    enabled: bool = True
    default_project_id: str | None = None
    description: str | None = None
    options: dict[str, Any] = {}


class UserUpdate(_Open):
    name: Name255 | None = None
    password: str | None = None
    enabled: bool | None = None
    default_project_id: str | None = None
    description: str | None = None
    options: dict[str, Any] | None = None


class PasswordChange(_Closed):
    original_password: str
    password: str = Field(min_length=1)


class RoleCreate(_Closed):
    name: Name255
    description: str | None = None
    domain_id: str | None = None
    options: dict[str, Any] = {}


class RoleUpdate(_Closed):
    name: Name255 | None = None
    description: str | None = None
    options: dict[str, Any] | None = None


class RoleRef(_Closed):
    id: str | None = None
    name: str | None = None
    domain_id: str | None = None


class AppCredCreate(_Closed):
    name: Name255
    secret: str | None = Field(default=None, min_length=1)
    description: str | None = None
    expires_at: str | None = None
    roles: list[RoleRef] = []
    unrestricted: bool = False
    access_rules: list[dict[str, Any]] = []


class Identity(BaseModel):
    model_config = ConfigDict(extra="allow")
    methods: list[Literal["password", "token", "application_credential"]] = Field(min_length=1)
    password: dict[str, Any] | None = None
    token: dict[str, Any] | None = None
    application_credential: dict[str, Any] | None = None


class Auth(BaseModel):
    model_config = ConfigDict(extra="allow")
    identity: Identity
    scope: dict[str, Any] | Literal["unscoped"] | None = None
