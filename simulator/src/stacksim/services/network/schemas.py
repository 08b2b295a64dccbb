"""Request bodies of the Networking API, and Neutron's messages when they are wrong.

The models check shape and types and reject unknown attributes; values
(CIDRs, addresses, ranges) are checked by the model itself, so Heat and Nova,
which call it directly, get the same checks. :func:`parse` turns a pydantic
error into the message Neutron would send.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from stacksim import faults

M = TypeVar("M", bound=BaseModel)

Name = Annotated[str, StringConstraints(max_length=255)]
Description = Annotated[str, StringConstraints(max_length=255)]
Id = Annotated[str, StringConstraints(max_length=255)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=False)


class _Standard(_Body):
    """Attributes every Neutron resource has (standard-attr-description, -tag, project-id)."""

    description: Description = ""
    tags: list[str] = []


class _Owned(_Standard):
    project_id: Id = ""
    tenant_id: Id = ""


# -- networks -------------------------------------------------------------------------


class NetworkCreate(_Owned):
    name: Name = ""
    admin_state_up: bool = True
    shared: bool = False
    router_external: bool = Field(False, alias="router:external")
    mtu: int = 0
    port_security_enabled: bool = True
    provider_network_type: str | None = Field(None, alias="provider:network_type")
    provider_physical_network: str | None = Field(None, alias="provider:physical_network")
    provider_segmentation_id: int | None = Field(None, alias="provider:segmentation_id")
    availability_zone_hints: list[str] = []


class NetworkUpdate(_Standard):
    name: Name = ""
    admin_state_up: bool = True
    shared: bool = False
    router_external: bool = Field(False, alias="router:external")
    mtu: int = 0
    port_security_enabled: bool = True


# -- subnets ---------------------------------------------------------------------------


class Pool(_Body):
    start: str
    end: str


class Route(_Body):
    destination: str
    nexthop: str


class SubnetCreate(_Owned):
    network_id: Id
    ip_version: int
    cidr: str | None = None
    name: Name = ""
    gateway_ip: str | None = None
    allocation_pools: list[Pool] | None = None
    dns_nameservers: list[str] = []
    host_routes: list[Route] = []
    enable_dhcp: bool = True
    ipv6_ra_mode: str | None = None
    ipv6_address_mode: str | None = None
    subnetpool_id: str | None = None
    use_default_subnetpool: bool = False
    prefixlen: int | None = None
    segment_id: None = None
    service_types: list[str] = []


class SubnetUpdate(_Standard):
    name: Name = ""
    gateway_ip: str | None = None
    allocation_pools: list[Pool] | None = None
    dns_nameservers: list[str] | None = None
    host_routes: list[Route] | None = None
    enable_dhcp: bool = True
    service_types: list[str] = []


# -- ports -------------------------------------------------------------------------------


class FixedIp(_Body):
    subnet_id: str | None = None
    ip_address: str | None = None


class AddressPair(_Body):
    ip_address: str | None = None
    mac_address: str | None = None


class _PortBody(_Standard):
    name: Name = ""
    admin_state_up: bool = True
    mac_address: str = ""
    fixed_ips: list[FixedIp] = []
    device_id: Annotated[str, StringConstraints(max_length=255)] | None = ""
    device_owner: Annotated[str, StringConstraints(max_length=255)] | None = ""
    security_groups: list[str] | None = []
    allowed_address_pairs: list[AddressPair] | None = []
    port_security_enabled: bool = True
    binding_host_id: str | None = Field("", alias="binding:host_id")
    binding_profile: dict[str, Any] | None = Field(None, alias="binding:profile")
    binding_vnic_type: str = Field("normal", alias="binding:vnic_type")


class PortCreate(_PortBody, _Owned):
    network_id: Id


class PortUpdate(_PortBody):
    pass


# -- routers ---------------------------------------------------------------------------------


class GatewayInfo(_Body):
    network_id: Id | None = None
    enable_snat: bool | None = None
    external_fixed_ips: list[FixedIp] | None = None


class RouterCreate(_Owned):
    name: Name = ""
    admin_state_up: bool = True
    external_gateway_info: GatewayInfo | None = None
    availability_zone_hints: list[str] = []


class RouterUpdate(_Standard):
    name: Name = ""
    admin_state_up: bool = True
    external_gateway_info: GatewayInfo | None = None
    routes: list[Route] | None = None


class Interface(_Body):
    subnet_id: Id | None = None
    port_id: Id | None = None


class Routes(_Body):
    routes: list[Route]


# -- floating IPs ------------------------------------------------------------------------------


class FloatingIPCreate(_Owned):
    floating_network_id: Id
    port_id: Id | None = None
    fixed_ip_address: str | None = None
    floating_ip_address: str | None = None
    subnet_id: Id | None = None


class FloatingIPUpdate(_Standard):
    port_id: Id | None = None
    fixed_ip_address: str | None = None


# -- security groups -----------------------------------------------------------------------------


class SecurityGroupCreate(_Owned):
    name: Name = ""
    stateful: bool = True


class SecurityGroupUpdate(_Standard):
    name: Name = ""
    stateful: bool = True


class SecurityGroupRuleCreate(_Owned):
    security_group_id: Id
    direction: str
    ethertype: str = "IPv4"
    protocol: str | int | None = None
    port_range_min: int | None = None
    port_range_max: int | None = None
    remote_ip_prefix: str | None = None
    remote_group_id: Id | None = None
    remote_address_group_id: Id | None = None


# -- quotas and tags -------------------------------------------------------------------------------


class QuotaValues(_Body):
    network: int = 0
    subnet: int = 0
    port: int = 0
    router: int = 0
    floatingip: int = 0
    security_group: int = 0
    security_group_rule: int = 0
    check_limit: bool = False


class Tags(_Body):
    tags: list[str]


# -- errors ----------------------------------------------------------------------------------------


def _reason(err: dict[str, Any]) -> str:
    value = err.get("input")
    kind = err["type"]
    if kind in ("bool_parsing", "bool_type"):
        return f"'{value}' is not a valid boolean value"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"'{value}' is not an integer"
    if kind == "string_type":
        return f"'{value}' is not a valid string"
    if kind == "string_too_long":
        return f"'{value}' exceeds maximum length of {err.get('ctx', {}).get('max_length')}"
    if kind == "list_type":
        return f"'{value}' is not a list"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"'{value}' is not a dictionary"
    if kind == "extra_forbidden":
        return f"Unexpected keys supplied: {err['loc'][-1]}"
    if kind == "missing":
        return f"Validation of dictionary's keys failed: '{err['loc'][-1]}' is required"
    if kind == "none_required":
        return f"'{value}' is not supported by this cloud"
    return str(err.get("msg", "invalid value"))


def describe(exc: ValidationError) -> faults.BadRequest:
    errors = exc.errors()
    extras = [str(e["loc"][0]) for e in errors if e["type"] == "extra_forbidden" and len(e["loc"]) == 1]
    if extras:
        return faults.BadRequest(f"Unrecognized attribute(s) '{', '.join(extras)}'", kind="HTTPBadRequest")
    err = errors[0]
    attr = str(err["loc"][0]) if err["loc"] else "body"
    if err["type"] == "missing" and len(err["loc"]) == 1:
        return faults.BadRequest(
            f"Failed to parse request. Required attribute '{attr}' not specified", kind="HTTPBadRequest"
        )
    return faults.BadRequest(f"Invalid input for {attr}. Reason: {_reason(err)}.", kind="HTTPBadRequest")


def parse(model: type[M], data: Any, read_only: frozenset[str] = frozenset(), creating: bool = True) -> dict[str, Any]:
    """``data`` checked by ``model``; only the attributes given, under Neutron's names."""
    if not isinstance(data, dict):
        raise faults.BadRequest(f"Invalid input: '{data}' is not a dictionary", kind="HTTPBadRequest")
    for key in data:
        if key in read_only:
            if creating:
                raise faults.BadRequest(f"Attribute '{key}' not allowed in POST", kind="HTTPBadRequest")
            raise faults.BadRequest(f"Cannot update read-only attribute {key}", kind="HTTPBadRequest")
    try:
        return model.model_validate(data).model_dump(by_alias=True, exclude_unset=True)
    except ValidationError as exc:
        raise describe(exc) from None
