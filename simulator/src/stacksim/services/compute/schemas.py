"""Request bodies of the Compute API (servers aside), as Nova's JSON schemas accept them.

Fields a microversion adds or removes are checked by the routes
(:func:`stacksim.services.compute.common.too_new` / ``too_old``).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

Name = Annotated[str, StringConstraints(min_length=1, max_length=255)]
Limit = Annotated[int, Field(ge=-1, le=2**31 - 1)]
_FLAVOR_ID = re.compile(r"^(?! )[a-zA-Z0-9. _-]+(?<! )$")
_SPEC_KEY = re.compile(r"^[a-zA-Z0-9-_:. ]{1,255}$")


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _no_edge_spaces(value: str) -> str:
    if value.strip() != value:
        raise ValueError("leading or trailing whitespace is not allowed")
    return value


# -- flavors ---------------------------------------------------------------------------------


class FlavorCreate(Body):
    name: Name
    ram: int = Field(ge=1, le=2**31 - 1)
    vcpus: int = Field(ge=1, le=2**31 - 1)
    disk: int = Field(ge=0, le=2**31 - 1)
    id: str | None = Field(default=None, min_length=1, max_length=255)
    ephemeral: int = Field(default=0, ge=0, le=2**31 - 1, alias="OS-FLV-EXT-DATA:ephemeral")
    swap: int = Field(default=0, ge=0, le=2**31 - 1)
    rxtx_factor: float = Field(default=1.0, gt=0)
    is_public: bool = Field(default=True, alias="os-flavor-access:is_public")
    description: str | None = Field(default=None, max_length=65535)  #: from 2.55

    _name = field_validator("name")(_no_edge_spaces)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str | None) -> str | None:
        if value is not None and not _FLAVOR_ID.match(value):
            raise ValueError(f"'{value}' does not match '{_FLAVOR_ID.pattern}'")
        return value


class FlavorUpdate(Body):
    description: str | None = Field(max_length=65535)


class ExtraSpecs(Body):
    extra_specs: dict[str, str | int | float | bool]

    @field_validator("extra_specs")
    @classmethod
    def _keys(cls, specs: dict[str, Any]) -> dict[str, Any]:
        for key, value in specs.items():
            if not _SPEC_KEY.match(key):
                raise ValueError(f"'{key}' is not a valid extra spec key")
            if len(str(value)) > 255:
                raise ValueError(f"the value of '{key}' is longer than 255 characters")
        return specs


def check_spec_key(key: str) -> bool:
    return bool(_SPEC_KEY.match(key))


class Tenant(Body):
    tenant: Name


class FlavorAction(Body):
    addTenantAccess: Tenant | None = None  # Nova's action names
    removeTenantAccess: Tenant | None = None


# -- keypairs -------------------------------------------------------------------------------------


class KeypairCreate(Body):
    name: str
    public_key: str | None = None
    type: Literal["ssh", "x509"] = "ssh"  #: from 2.2
    user_id: str | None = None  #: from 2.10


# -- quotas ---------------------------------------------------------------------------------------


class QuotaValues(Body):
    instances: Limit | None = None
    cores: Limit | None = None
    ram: Limit | None = None
    metadata_items: Limit | None = None
    key_pairs: Limit | None = None
    server_groups: Limit | None = None
    server_group_members: Limit | None = None
    #: removed in 2.57
    injected_files: Limit | None = None
    injected_file_content_bytes: Limit | None = None
    injected_file_path_bytes: Limit | None = None
    #: removed in 2.36 (quota sets) or 2.50 (quota classes)
    fixed_ips: Limit | None = None
    floating_ips: Limit | None = None
    security_groups: Limit | None = None
    security_group_rules: Limit | None = None
    networks: Limit | None = None

    def values(self) -> dict[str, int]:
        return {k: v for k, v in self.model_dump(exclude={"force"}).items() if v is not None}


class QuotaSetUpdate(QuotaValues):
    force: bool = False


# -- server groups ------------------------------------------------------------------------------


class GroupRules(Body):
    max_server_per_host: int = Field(ge=1)


class ServerGroupCreate(Body):
    name: Name
    policies: list[str] | None = Field(default=None, min_length=1, max_length=1)  #: before 2.64
    policy: str | None = None  #: from 2.64
    rules: GroupRules | None = None  #: from 2.64

    _name = field_validator("name")(_no_edge_spaces)


# -- services ---------------------------------------------------------------------------------------


class ServiceAction(Body):
    """The body of ``PUT /os-services/{enable,disable,...}`` before 2.53."""

    host: Name
    binary: Name
    disabled_reason: Name | None = None
    forced_down: bool | None = None


class ServiceUpdate(Body):
    """The body of ``PUT /os-services/{service_id}`` from 2.53."""

    status: Literal["enabled", "disabled"] | None = None
    disabled_reason: Name | None = None
    forced_down: bool | None = None
