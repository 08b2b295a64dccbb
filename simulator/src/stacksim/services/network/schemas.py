"""The Networking service's typed requests, and how Neutron's wire format becomes them.

Each request is a dataclass (a pydantic one, so it checks its types): Nova and
Heat build one in Python by field name (``PortCreate(network_id=..,
device_owner="compute:nova")``); the REST layer builds the same class from a
JSON body with Neutron's attribute names (``"binding:host_id"``) through
:func:`parse`. A field left out stays :data:`UNSET`, which is not the same as
``None``: an update changes only what it was given, and a create gets
Neutron's default for what it was not (``gateway_ip=None`` means "no gateway",
an unset one "the first address"). Types and shapes are checked here, with the
message Neutron would send; values (CIDRs, addresses, ranges, policy) are the
model's to check, so every caller gets the same rules.

:func:`given` turns a request into the attributes the model works on, under
Neutron's names, and refuses text that cannot be stored (a lone UTF-16
surrogate such as ``"\\ud800"``), so nothing that would break a later list is
ever written.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from pydantic import BeforeValidator, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError
from pydantic.dataclasses import dataclass

from stacksim import faults
from stacksim.services.network.common import MAX_TAG_LEN, MAX_TAGS, text_problem, too_many_tags

T = TypeVar("T")


class _Unset:
    """The value of a request field nobody set."""

    _instance: _Unset | None = None

    def __new__(cls) -> _Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Any = _Unset()
_CONFIG = ConfigDict(extra="forbid", populate_by_name=True, arbitrary_types_allowed=True)


def request(cls: type[T]) -> type[T]:
    """Make ``cls`` a typed request: a checked, keyword-only dataclass whose bad
    values raise Neutron's 400 (``faults.BadRequest``) when built in Python too,
    and where a field given as :data:`UNSET` is left unset."""
    made = dataclass(config=_CONFIG, kw_only=True)(cls)
    init = made.__init__

    @functools.wraps(init)
    def checked(self: Any, *args: Any, **kwargs: Any) -> None:
        try:  # a field given as UNSET is a field not given
            init(self, *args, **{k: v for k, v in kwargs.items() if v is not UNSET})
        except ValidationError as exc:
            raise describe(exc) from None

    made.__init__ = checked  # type: ignore[method-assign]
    return made


def _bounded_tags(value: Any) -> Any:
    # Checked before the items, so a body with millions of tags is refused at once.
    if isinstance(value, list) and len(value) > MAX_TAGS:
        raise too_many_tags()
    return value


Name = Annotated[str, StringConstraints(max_length=255)]
Description = Annotated[str, StringConstraints(max_length=255)]
Id = Annotated[str, StringConstraints(max_length=255)]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TAG_LEN)]
TagList = Annotated[list[Tag], BeforeValidator(_bounded_tags)]


# -- the parts every resource has ---------------------------------------------------------


@request
class _Standard:
    """standard-attr-description and standard-attr-tag (tags on create: tag-creation)."""

    description: Description = UNSET
    tags: TagList = UNSET


@request
class _Owned:
    """project-id: the owner a create may name (an admin's, or the caller's own)."""

    project_id: Id = UNSET
    tenant_id: Id = UNSET


# -- networks ------------------------------------------------------------------------------


@request
class NetworkUpdate(_Standard):
    name: Name = UNSET
    admin_state_up: bool = UNSET
    shared: bool = UNSET
    router_external: bool = Field(UNSET, alias="router:external")
    mtu: int = UNSET
    port_security_enabled: bool = UNSET
    is_default: bool = UNSET
    qos_policy_id: Id | None = UNSET


@request
class NetworkCreate(NetworkUpdate, _Owned):
    provider_network_type: str | None = Field(UNSET, alias="provider:network_type")
    provider_physical_network: str | None = Field(UNSET, alias="provider:physical_network")
    provider_segmentation_id: int | None = Field(UNSET, alias="provider:segmentation_id")
    availability_zone_hints: list[Name] = UNSET


# -- subnets -------------------------------------------------------------------------------


@request
class Pool:
    start: str
    end: str


@request
class Route:
    destination: str
    nexthop: str


@request
class SubnetUpdate(_Standard):
    name: Name = UNSET
    gateway_ip: str | None = UNSET
    allocation_pools: list[Pool] | None = UNSET
    dns_nameservers: list[str] | None = UNSET
    host_routes: list[Route] | None = UNSET
    enable_dhcp: bool = UNSET
    service_types: list[str] = UNSET


@request
class SubnetCreate(SubnetUpdate, _Owned):
    network_id: Id
    ip_version: int
    cidr: str | None = UNSET
    ipv6_ra_mode: str | None = UNSET
    ipv6_address_mode: str | None = UNSET
    subnetpool_id: Id | None = UNSET
    use_default_subnetpool: bool = UNSET
    prefixlen: int | None = UNSET
    segment_id: None = UNSET


# -- ports ----------------------------------------------------------------------------------


@request
class FixedIp:
    subnet_id: Id | None = UNSET
    ip_address: str | None = UNSET


@request
class AddressPair:
    ip_address: str | None = UNSET
    mac_address: str | None = UNSET


@request
class DhcpOption:
    """One of a port's ``extra_dhcp_opts`` (a None value, in an update, removes the option)."""

    opt_name: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    opt_value: Annotated[str, StringConstraints(max_length=255)] | None = UNSET
    ip_version: int = UNSET


@request
class PortUpdate(_Standard):
    name: Name = UNSET
    admin_state_up: bool = UNSET
    mac_address: str = UNSET
    fixed_ips: list[FixedIp] = UNSET
    device_id: Id | None = UNSET
    device_owner: Id | None = UNSET
    security_groups: list[Id] | None = UNSET
    allowed_address_pairs: list[AddressPair] | None = UNSET
    port_security_enabled: bool = UNSET
    binding_host_id: str | None = Field(UNSET, alias="binding:host_id")
    binding_profile: dict[str, Any] | None = Field(UNSET, alias="binding:profile")
    binding_vnic_type: str = Field(UNSET, alias="binding:vnic_type")
    extra_dhcp_opts: list[DhcpOption] | None = UNSET
    qos_policy_id: Id | None = UNSET


@request
class PortCreate(PortUpdate, _Owned):
    network_id: Id


# -- routers ---------------------------------------------------------------------------------


@request
class GatewayInfo:
    network_id: Id | None = UNSET
    enable_snat: bool | None = UNSET
    external_fixed_ips: list[FixedIp] | None = UNSET


@request
class _RouterBody(_Standard):
    name: Name = UNSET
    admin_state_up: bool = UNSET
    external_gateway_info: GatewayInfo | None = UNSET
    ha: bool = UNSET
    distributed: bool = UNSET


@request
class RouterCreate(_RouterBody, _Owned):
    availability_zone_hints: list[Name] = UNSET


@request
class RouterUpdate(_RouterBody):
    routes: list[Route] | None = UNSET


@request
class Interface:
    subnet_id: Id | None = UNSET
    port_id: Id | None = UNSET


@request
class Routes:
    routes: list[Route]


# -- floating IPs ------------------------------------------------------------------------------


@request
class FloatingIPUpdate(_Standard):
    port_id: Id | None = UNSET
    fixed_ip_address: str | None = UNSET


@request
class FloatingIPCreate(FloatingIPUpdate, _Owned):
    floating_network_id: Id
    floating_ip_address: str | None = UNSET
    subnet_id: Id | None = UNSET


# -- security groups -----------------------------------------------------------------------------


@request
class SecurityGroupUpdate(_Standard):
    name: Name = UNSET
    stateful: bool = UNSET


@request
class SecurityGroupCreate(SecurityGroupUpdate, _Owned):
    pass


@request
class SecurityGroupRuleCreate(_Owned):
    security_group_id: Id
    direction: str
    description: Description = UNSET
    ethertype: str = UNSET
    protocol: str | int | None = UNSET
    port_range_min: int | None = UNSET
    port_range_max: int | None = UNSET
    remote_ip_prefix: str | None = UNSET
    remote_group_id: Id | None = UNSET
    remote_address_group_id: Id | None = UNSET


# -- subnet pools and address scopes -----------------------------------------------------------------


@request
class SubnetPoolUpdate(_Standard):
    name: Name = UNSET
    prefixes: list[str] = UNSET
    default_prefixlen: int = UNSET
    min_prefixlen: int = UNSET
    max_prefixlen: int = UNSET
    default_quota: int | None = UNSET
    is_default: bool = UNSET
    address_scope_id: Id | None = UNSET


@request
class SubnetPoolCreate(SubnetPoolUpdate, _Owned):
    prefixes: list[str]
    shared: bool = UNSET


@request
class Prefixes:
    """The body of ``add_prefixes`` and ``remove_prefixes``."""

    prefixes: list[str]


@request
class AddressScopeUpdate:
    name: Name = UNSET
    shared: bool = UNSET


@request
class AddressScopeCreate(AddressScopeUpdate, _Owned):
    ip_version: int


# -- RBAC policies -------------------------------------------------------------------------------------


@request
class RbacPolicyUpdate:
    target_tenant: Id = UNSET


@request
class RbacPolicyCreate(RbacPolicyUpdate, _Owned):
    object_type: str
    object_id: Id
    action: str
    target_tenant: Id


# -- QoS -------------------------------------------------------------------------------------------------


@request
class QosPolicyUpdate(_Standard):
    name: Name = UNSET
    shared: bool = UNSET
    is_default: bool = UNSET


@request
class QosPolicyCreate(QosPolicyUpdate, _Owned):
    pass


@request
class BandwidthLimitRule:
    max_kbps: int = UNSET
    max_burst_kbps: int = UNSET
    direction: str = UNSET


@request
class DscpMarkingRule:
    dscp_mark: int = UNSET


@request
class MinimumBandwidthRule:
    min_kbps: int = UNSET
    direction: str = UNSET


# -- trunks ------------------------------------------------------------------------------------------------


@request
class SubPort:
    port_id: Id
    segmentation_type: str | None = UNSET
    segmentation_id: int | None = UNSET


@request
class SubPorts:
    """The body of ``add_subports`` and ``remove_subports``."""

    sub_ports: list[SubPort]


@request
class TrunkUpdate(_Standard):
    name: Name = UNSET
    admin_state_up: bool = UNSET


@request
class TrunkCreate(TrunkUpdate, _Owned):
    port_id: Id
    sub_ports: list[SubPort] = UNSET


# -- quotas and tags -----------------------------------------------------------------------------------------


@request
class QuotaValues:
    network: int = UNSET
    subnet: int = UNSET
    subnetpool: int = UNSET
    port: int = UNSET
    router: int = UNSET
    floatingip: int = UNSET
    security_group: int = UNSET
    security_group_rule: int = UNSET
    rbac_policy: int = UNSET
    check_limit: bool = UNSET


@request
class Tags:
    tags: TagList


# -- from a request to the model's attributes ------------------------------------------------------------------


def given(req: Any) -> dict[str, Any]:
    """The fields set on ``req``, under Neutron's attribute names (nested requests as dicts).

    Raises Neutron's 400 for text that cannot be stored (a lone surrogate), naming the attribute.
    """
    out: dict[str, Any] = {}
    for f in dataclasses.fields(req):
        value = getattr(req, f.name)
        if value is UNSET:
            continue
        name = _wire_name(f)
        out[name] = _plain(value, name)
    return out


def _wire_name(f: dataclasses.Field) -> str:
    default = f.default
    alias = getattr(default, "alias", None)  # a pydantic Field(UNSET, alias=...)
    return alias or f.name


def _plain(value: Any, attr: str) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return given(value)
    if isinstance(value, list):
        return [_plain(v, attr) for v in value]
    if isinstance(value, dict):
        return {_plain(k, attr): _plain(v, attr) for k, v in value.items()}
    if isinstance(value, str):
        problem = text_problem(value)
        if problem:
            raise faults.BadRequest(f"Invalid input for {attr}. Reason: {problem}.", kind="HTTPBadRequest")
    return value


# -- from the wire ------------------------------------------------------------------------------------------------


@functools.cache
def _adapter(cls: type[T]) -> TypeAdapter[T]:
    return TypeAdapter(cls)


@functools.cache
def _python_names(cls: type) -> frozenset[str]:
    """Field names that the wire spells otherwise (``router_external`` for ``router:external``)."""
    return frozenset(f.name for f in dataclasses.fields(cls) if _wire_name(f) != f.name)


def parse(cls: type[T], data: Any, read_only: frozenset[str] = frozenset(), creating: bool = True) -> T:
    """A request of type ``cls`` from a JSON body, with Neutron's message when it is wrong."""
    if not isinstance(data, Mapping):
        raise faults.BadRequest(f"Invalid input: '{data}' is not a dictionary", kind="HTTPBadRequest")
    for key in data:
        if key in read_only:
            if creating:
                raise faults.BadRequest(f"Attribute '{key}' not allowed in POST", kind="HTTPBadRequest")
            raise faults.BadRequest(f"Cannot update read-only attribute {key}", kind="HTTPBadRequest")
    unknown = [key for key in data if key in _python_names(cls)]
    if unknown:
        raise faults.BadRequest(f"Unrecognized attribute(s) '{', '.join(unknown)}'", kind="HTTPBadRequest")
    try:
        return _adapter(cls).validate_python(data)
    except ValidationError as exc:
        raise describe(exc) from None


def typed(cls: type[T], value: Any) -> T:
    """``value`` as a ``cls`` request: itself, or a mapping in Neutron's attribute names checked as a body is.

    The mapping form is for callers written before the typed interface; new code builds the request.
    """
    if isinstance(value, cls):
        return value
    return parse(cls, value)


# -- Neutron's messages -----------------------------------------------------------------------------------------------


def _reason(err: Mapping[str, Any]) -> str:
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
    if kind == "string_too_short":
        return f"'{value}' is not a valid string"
    if kind == "string_unicode":
        return text_problem(str(value)) or "not valid UTF-8 text"
    if kind == "list_type":
        return f"'{value}' is not a list"
    if kind in ("dict_type", "model_type", "model_attributes_type", "dataclass_type"):
        return f"'{value}' is not a dictionary"
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        return f"Unexpected keys supplied: {err['loc'][-1]}"
    if kind == "missing":
        return f"Validation of dictionary's keys failed: '{err['loc'][-1]}' is required"
    if kind == "none_required":
        return f"'{value}' is not supported by this cloud"
    cause = err.get("ctx", {}).get("error")
    if isinstance(cause, faults.ApiError):
        return cause.message
    return str(err.get("msg", "invalid value"))


def describe(exc: ValidationError) -> faults.BadRequest:
    """Neutron's 400 for the first thing wrong in a request."""
    errors = exc.errors()
    unknown = {"extra_forbidden", "unexpected_keyword_argument"}
    extras = [str(e["loc"][0]) for e in errors if e["type"] in unknown and len(e["loc"]) == 1]
    if extras:
        return faults.BadRequest(f"Unrecognized attribute(s) '{', '.join(extras)}'", kind="HTTPBadRequest")
    err = errors[0]
    cause = err.get("ctx", {}).get("error")
    if isinstance(cause, faults.ApiError):  # a validator raised the API's own error
        return cause  # type: ignore[return-value]
    attr = str(err["loc"][0]) if err["loc"] else "body"
    if err["type"] == "missing" and len(err["loc"]) == 1:
        return faults.BadRequest(
            f"Failed to parse request. Required attribute '{attr}' not specified", kind="HTTPBadRequest"
        )
    return faults.BadRequest(f"Invalid input for {attr}. Reason: {_reason(err)}.", kind="HTTPBadRequest")
