"""Request bodies of the Identity API, validated as Keystone's JSON schemas do, and turned into
the typed requests of :mod:`~stacksim.services.identity.specs` (``.spec()``).

A bad body is a 400 that names the field (see :func:`stacksim.web.describe`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from stacksim.services.identity import specs
from stacksim.services.identity.common import PRIVATE

Name64 = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Name255 = Annotated[str, StringConstraints(min_length=1, max_length=255)]
Id64 = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Interface = Literal["public", "internal", "admin"]
Method = Literal["DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"]
#: Keystone's limits: -1 (unlimited) to 2**31 - 1
LimitValue = Annotated[int, Field(ge=-1, le=2147483647)]


class _Open(BaseModel):
    # Keystone keeps unknown attributes (its "extras") of most resources.
    model_config = ConfigDict(extra="allow")

    @model_validator(mode="after")
    def _not_private(self) -> _Open:
        for key in self.model_extra or {}:
            if key in PRIVATE:
                raise ValueError(f"'{key}' is not an attribute that can be set")
        return self

    def extras(self) -> dict[str, Any]:
        """The extra attributes to keep (an ``id`` is not one: Keystone makes its own)."""
        return {k: v for k, v in (self.model_extra or {}).items() if k != "id"}


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- domains, projects, users, groups, roles ----------------------------------------------------


class DomainCreate(_Open):
    name: Name64
    description: str | None = None
    enabled: bool = True
    tags: list[str] = []
    options: dict[str, Any] = {}

    def spec(self) -> specs.DomainSpec:
        return specs.DomainSpec(self.name, self.description, self.enabled, self.tags, self.options, extra=self.extras())


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

    def spec(self, default_domain: str) -> specs.ProjectSpec:
        """``default_domain``: where the project goes when the body names no domain (nor a parent)."""
        return specs.ProjectSpec(
            self.name,
            self.domain_id or default_domain,
            parent_id=self.parent_id,
            description=self.description,
            enabled=self.enabled,
            tags=self.tags,
            options=self.options,
            extra=self.extras(),
        )


class ProjectUpdate(_Open):
    name: Name64 | None = None
    domain_id: str | None = None
    parent_id: str | None = None
    description: str | None = None
    enabled: bool | None = None
    tags: list[str] | None = None
    options: dict[str, Any] | None = None


class Tags(_Closed):
    tags: list[str]


class UserCreate(_Open):
    name: Name255
    domain_id: str | None = None
    password: str | None = None
    enabled: bool = True
    default_project_id: str | None = None
    description: str | None = None
    options: dict[str, Any] = {}

    def spec(self, default_domain: str) -> specs.UserSpec:
        return specs.UserSpec(
            self.name,
            self.domain_id or default_domain,
            password=self.password,
            enabled=self.enabled,
            default_project_id=self.default_project_id,
            description=self.description,
            options=self.options,
            extra=self.extras(),
        )


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


class GroupCreate(_Open):
    name: Name64
    domain_id: str | None = None
    description: str | None = ""

    def spec(self, default_domain: str) -> specs.GroupSpec:
        return specs.GroupSpec(self.name, self.domain_id or default_domain, self.description, extra=self.extras())


class GroupUpdate(_Open):
    name: Name64 | None = None
    domain_id: str | None = None
    description: str | None = None


class RoleCreate(_Closed):
    name: Name255
    description: str | None = None
    domain_id: str | None = None
    options: dict[str, Any] = {}

    def spec(self) -> specs.RoleSpec:
        return specs.RoleSpec(self.name, self.domain_id, self.description, self.options)


class RoleUpdate(_Closed):
    name: Name255 | None = None
    description: str | None = None
    options: dict[str, Any] | None = None


# -- application credentials and credentials --------------------------------------------------


class RoleRef(_Closed):
    id: str | None = None
    name: str | None = None
    domain_id: str | None = None


class AccessRuleIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: Id64 | None = None
    service: Id64 | None = None
    method: Method | None = None
    path: Annotated[str, StringConstraints(max_length=225, pattern=r"^/")] | None = None


def expiry(text: str | None) -> datetime | None:
    """An ``expires_at`` as Keystone reads it (UTC when no zone is given); ValueError if malformed."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            "Timestamp not in expected format. The server could not comply with the request since it is either "
            "malformed or otherwise incorrect. The client is assumed to be in error."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class AppCredCreate(_Closed):
    name: Name255
    secret: str | None = Field(default=None, min_length=1)
    description: str | None = None
    expires_at: str | None = None
    roles: list[RoleRef] = []
    unrestricted: bool | None = False
    access_rules: list[AccessRuleIn] = []

    @field_validator("expires_at")
    @classmethod
    def _timestamp(cls, value: str | None) -> str | None:
        expiry(value)
        return value

    def spec(self) -> specs.AppCredSpec:
        return specs.AppCredSpec(
            self.name,
            secret=self.secret,
            description=self.description,
            expires_at=expiry(self.expires_at),
            roles=[specs.RoleRef(r.id, r.name, r.domain_id) for r in self.roles],
            unrestricted=bool(self.unrestricted),
            access_rules=[specs.AccessRuleSpec(r.id, r.service, r.method, r.path) for r in self.access_rules],
        )


class CredentialCreate(_Open):
    blob: str
    type: Name255
    user_id: Id64
    project_id: Id64 | None = None
    id: str | None = None

    def spec(self) -> specs.CredentialSpec:
        return specs.CredentialSpec(
            self.user_id, self.type, self.blob, self.project_id, extra=self.extras(), id=self.id
        )


class CredentialUpdate(_Open):
    blob: str | None = None
    type: Name255 | None = None
    user_id: Id64 | None = None
    project_id: Id64 | None = None


class Ec2Create(BaseModel):
    model_config = ConfigDict(extra="allow")
    tenant_id: str


# -- the catalog ------------------------------------------------------------------------------


class RegionCreate(_Open):
    id: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = None
    description: Annotated[str, StringConstraints(max_length=255)] | None = None
    parent_region_id: str | None = None

    def spec(self, id: str | None = None) -> specs.RegionSpec:
        return specs.RegionSpec(id or self.id, self.description, self.parent_region_id, extra=self.extras())


class RegionUpdate(_Open):
    description: Annotated[str, StringConstraints(max_length=255)] | None = None
    parent_region_id: str | None = None


class ServiceCreate(_Open):
    type: Name255
    name: str | None = None
    description: str | None = None
    enabled: bool = True

    def spec(self) -> specs.ServiceSpec:
        return specs.ServiceSpec(self.type, self.name, self.description, self.enabled, extra=self.extras())


class ServiceUpdate(_Open):
    type: Name255 | None = None
    name: str | None = None
    description: str | None = None
    enabled: bool | None = None


class EndpointCreate(_Open):
    service_id: Id64
    interface: Interface
    url: Annotated[str, StringConstraints(min_length=1, max_length=225)]
    region_id: str | None = None
    region: str | None = None  #: the v2 name of region_id, still taken
    enabled: bool = True

    def spec(self) -> specs.EndpointSpec:
        region = self.region_id if self.region_id is not None else self.region
        return specs.EndpointSpec(self.service_id, self.interface, self.url, region, self.enabled, self.extras())


class EndpointUpdate(_Open):
    service_id: Id64 | None = None
    interface: Interface | None = None
    url: Annotated[str, StringConstraints(min_length=1, max_length=225)] | None = None
    region_id: str | None = None
    region: str | None = None
    enabled: bool | None = None

    @model_validator(mode="after")
    def _region(self) -> EndpointUpdate:
        if self.region is not None and self.region_id is None:
            self.region_id = self.region
        return self


class EndpointGroupCreate(_Closed):
    name: Name255
    description: str | None = None
    filters: dict[str, str] = {}

    def spec(self) -> specs.EndpointGroupSpec:
        return specs.EndpointGroupSpec(self.name, self.filters, self.description)


class EndpointGroupUpdate(_Closed):
    name: Name255 | None = None
    description: str | None = None
    filters: dict[str, str] | None = None


# -- limits -----------------------------------------------------------------------------------


class RegisteredLimitIn(_Closed):
    service_id: Id64
    region_id: str | None = None
    resource_name: Name255
    default_limit: LimitValue
    description: str | None = None

    def spec(self) -> specs.RegisteredLimitSpec:
        return specs.RegisteredLimitSpec(
            self.service_id, self.resource_name, self.default_limit, self.region_id, self.description
        )


class RegisteredLimitsCreate(_Closed):
    registered_limits: list[RegisteredLimitIn] = Field(min_length=1)


class RegisteredLimitUpdate(_Closed):
    service_id: Id64 | None = None
    region_id: str | None = None
    resource_name: Name255 | None = None
    default_limit: LimitValue | None = None
    description: str | None = None


class LimitIn(_Closed):
    service_id: Id64
    region_id: str | None = None
    project_id: str | None = None
    domain_id: str | None = None
    resource_name: Name255
    resource_limit: LimitValue
    description: str | None = None

    def spec(self) -> specs.LimitSpec:
        return specs.LimitSpec(
            self.service_id,
            self.resource_name,
            self.resource_limit,
            self.project_id,
            self.domain_id,
            self.region_id,
            self.description,
        )


class LimitsCreate(_Closed):
    limits: list[LimitIn] = Field(min_length=1)


class LimitUpdate(_Closed):
    resource_limit: LimitValue | None = None
    description: str | None = None


class DomainConfigBody(_Closed):
    config: dict[str, Any]


# -- POST /v3/auth/tokens ----------------------------------------------------------------------


class _Ref(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str | None = None
    name: str | None = None

    @model_validator(mode="after")
    def _named(self) -> _Ref:
        if self.id is None and self.name is None:
            raise ValueError("id or name must be present.")
        return self


class DomainRef(_Ref):
    pass


class UserRef(_Ref):
    domain: DomainRef | None = None
    password: str | None = None


class PasswordMethod(BaseModel):
    model_config = ConfigDict(extra="allow")
    user: UserRef


class TokenMethod(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str


class AppCredMethod(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str | None = None
    name: str | None = None
    secret: str | None = None
    user: UserRef | None = None


class Identity(BaseModel):
    model_config = ConfigDict(extra="allow")
    methods: list[str] = Field(min_length=1)
    password: PasswordMethod | None = None
    token: TokenMethod | None = None
    application_credential: AppCredMethod | None = None

    @field_validator("methods", mode="before")
    @classmethod
    def _strings(cls, value: Any) -> Any:
        # One error for the first bad item, not one per item of a huge list.
        if isinstance(value, list):
            for i, item in enumerate(value):
                if not isinstance(item, str):
                    raise ValueError(f"item {i} ({item!r}) is not a string")
        return value


class ProjectScope(_Ref):
    domain: DomainRef | None = None


class SystemScope(BaseModel):
    model_config = ConfigDict(extra="allow")
    all: bool = False


class ScopeIn(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    project: ProjectScope | None = None
    domain: DomainRef | None = None
    system: SystemScope | None = None
    unscoped: dict[str, Any] | None = None  #: old keystoneauth's spelling of "unscoped"


def _dump(model: BaseModel | None) -> dict[str, Any] | None:
    return model.model_dump(exclude_none=True) if model is not None else None


class Auth(BaseModel):
    model_config = ConfigDict(extra="allow")
    identity: Identity
    scope: ScopeIn | None = None

    @field_validator("scope", mode="before")
    @classmethod
    def _unscoped(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value != "unscoped":
                raise ValueError("a scope is an object, or the string 'unscoped'")
            return {"unscoped": {}}
        return value

    def request(self) -> specs.AuthRequest:
        scope: specs.Scope | None = None
        if self.scope is not None and self.scope.unscoped is not None:
            scope = specs.Scope(unscoped=True)
        elif self.scope is not None and (self.scope.project or self.scope.domain or self.scope.system):
            scope = specs.Scope(
                project=_dump(self.scope.project),
                domain=_dump(self.scope.domain),
                system=bool(self.scope.system and self.scope.system.all),
            )
        ident = self.identity
        return specs.AuthRequest(
            methods=tuple(ident.methods),
            password=_dump(ident.password.user) if ident.password else None,
            token=ident.token.id if ident.token else None,
            application_credential=_dump(ident.application_credential),
            scope=scope,
        )
