"""``OS::Neutron::*`` types: declarative tables over the Networking facade (``cloud.network``).

``Net``, ``Subnet``, ``Port``, ``Router``, ``FloatingIP``, ``SecurityGroup``,
``SecurityGroupRule``, ``SubnetPool``, ``AddressScope``, ``RBACPolicy``,
``QoSPolicy`` with its ``QoSBandwidthLimitRule``, ``QoSDscpMarkingRule`` and
``QoSMinimumBandwidthRule``, and ``Trunk`` are each a :class:`Table` of facade
calls with the service's typed requests (Heat's property names mapped onto
Neutron's); ``RouterInterface`` and ``FloatingIPAssociation`` are actions on
other resources, written as methods. ``value_specs`` adds Neutron attributes
to a request as they are. What a type shows (``show``, ``get_attr``) is what
the API shows the stack's owner. Like Heat, a port waits for the subnets of
its network, a server for the subnets of the networks it joins, and a
floating IP (or association) for the routers and router interfaces of its
stack, though the template does not say so.

Not implemented: DHCP agent ids, L3 agent ids, segments, DNS names,
``RouterGateway``, ``ProviderNet``, port forwarding, QoS packet-rate rules.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from stacksim import faults
from stacksim.heat import errors, functions, lookup
from stacksim.heat.constraints import AllowedValues, Checker, CustomConstraint, Range
from stacksim.heat.resources.base import Attr, Call, From, Mapped, Prop, Resource, Table, physical_name
from stacksim.services.network.model import (
    UNSET,
    AddressScopeCreate,
    AddressScopeUpdate,
    BandwidthLimitRule,
    DscpMarkingRule,
    FloatingIPCreate,
    FloatingIPUpdate,
    MinimumBandwidthRule,
    NetworkCreate,
    Networking,
    NetworkUpdate,
    PortCreate,
    PortUpdate,
    QosPolicyCreate,
    QosPolicyUpdate,
    RbacPolicyCreate,
    RbacPolicyUpdate,
    RouterCreate,
    RouterUpdate,
    SecurityGroupCreate,
    SecurityGroupRuleCreate,
    SecurityGroupUpdate,
    SubnetCreate,
    SubnetPoolCreate,
    SubnetPoolUpdate,
    SubnetUpdate,
    SubPort,
    TrunkCreate,
    TrunkUpdate,
)

NET = CustomConstraint("neutron.network")
SUBNET = CustomConstraint("neutron.subnet")
PORT = CustomConstraint("neutron.port")
ROUTER = CustomConstraint("neutron.router")
SECGROUP = CustomConstraint("neutron.security_group")
TAGS = Prop("list", "The tags to be added to the resource.", update_allowed=True, schema=Prop("string"))


# -- from properties to requests ---------------------------------------------------------------


#: A value that is None in the request (a create leaves out the Nones a table gives it).
NONE = object()


def with_specs(cls: type) -> Callable[..., Any]:
    """Build a ``cls`` request from a table's values, with Heat's ``value_specs`` (Neutron's own
    attribute names) added: those ``cls`` knows, the table's values winning."""
    known = {getattr(f.default, "alias", None) or f.name for f in dataclasses.fields(cls)}

    def build(value_specs: Mapping[str, Any] | None = None, **values: Any) -> Any:
        specs = {k: v for k, v in (value_specs or {}).items() if k in known}
        return cls(**specs, **{k: None if v is NONE else v for k, v in values.items()})

    return build


def given(prop: str) -> From:
    """The property, or nothing at all when it is not set (rather than None)."""
    return From((prop,), lambda res, value: UNSET if value is None else value)


def tags() -> From:
    return From(("tags",), lambda res, value: value or [])


def found(kind: str, *props: str, lookup_fn: Callable[..., dict[str, Any]] | None = None, absent: Any = UNSET) -> From:
    """The id of what the first set property among ``props`` names (by name or id); ``absent`` if none is
    set (nothing at all by default; None in an update where clearing the property clears the link)."""

    def resolve(res: Mapped, *refs: Any) -> Any:
        ref = next((r for r in refs if r), None)
        if ref is None:
            return absent
        if lookup_fn is not None:
            return lookup_fn(res.cloud, res.ctx, ref)["id"]
        matches = res.cloud.network.find(res.ctx, kind, str(ref))
        if len(matches) != 1:
            raise lookup.NotFound(f"Unable to find {kind} with name or id '{ref}'")
        return matches[0]["id"]

    return From(props, resolve)


def shown(kind: str) -> Callable[[Networking, Any, str], dict[str, Any]]:
    """A type's view: the resource as the API shows it to the stack's owner."""
    return lambda net, ctx, id: net.show(ctx, kind, id)


def neutron(kind: str, *, delete: Callable[..., None], **calls: Any) -> Table:
    """The table of a type that is one Neutron resource: its calls, ``delete``, and the API's view of ``kind``."""
    return Table(service="network", delete=Call(delete), view=shown(kind), **calls)


#: What most requests take the same way: the tags, and Neutron attributes given as they are.
TAGS_AND_SPECS: dict[str, Any] = {"tags": From(("tags",), lambda res, value: value or []), "value_specs": "value_specs"}


def ref_key(snippet: Any) -> tuple[str, Any] | None:
    """What a property snippet points at, to compare two (``get_resource: x`` or a literal)."""
    if isinstance(snippet, functions.GetResource) and isinstance(snippet.args, str):
        return ("resource", snippet.args)
    if isinstance(snippet, str):
        return ("literal", snippet)
    return None


def subnets_of(network: Any, definitions: Mapping[str, Any]) -> set[str]:
    """The Subnet resources of a stack on the network ``network`` (a snippet) points at."""
    key = ref_key(network)
    if key is None:
        return set()
    out = set()
    for name, defn in definitions.items():
        if defn.type != Subnet.type_name and getattr(defn.plugin, "type_name", "") != Subnet.type_name:
            continue
        props = defn.properties if isinstance(defn.properties, Mapping) else {}
        if ref_key(props.get("network") or props.get("network_id")) == key:
            out.add(name)
    return out


def _require(defn: Any, props: Mapping[str, Any], *names: str) -> None:
    """Heat's "at least one of" check."""
    if all(props.get(n) is None for n in names):
        raise errors.StackValidationFailed(
            f"At least one of the following properties must be specified: {', '.join(names)}.",
            path=["resources", defn.name, "properties"],
            error="Property error",
        )


def _exclusive(defn: Any, props: Mapping[str, Any], *names: str) -> None:
    if all(props.get(n) is not None for n in names):
        raise errors.StackValidationFailed(
            f"Cannot define the following properties at the same time: {', '.join(names)}.",
            path=["resources", defn.name, "properties"],
            error="Property error",
        )


# -- networks, subnets, ports ----------------------------------------------------------------------


class Net(Mapped):
    type_name = "OS::Neutron::Net"
    description = "A resource for managing Neutron net."
    properties_schema = {
        "name": Prop(
            "string",
            "A string specifying a symbolic name for the network, which is not required to be unique.",
            update_allowed=True,
        ),
        "value_specs": Prop("map", "Extra parameters to include in the request.", default={}, update_allowed=True),
        "admin_state_up": Prop(
            "boolean",
            "A boolean value specifying the administrative status of the network.",
            default=True,
            update_allowed=True,
        ),
        "tenant_id": Prop(
            "string",
            "The ID of the tenant which will own the network. Only administrative users "
            "can set the tenant identifier; this cannot be changed using authorization policies.",
        ),
        "shared": Prop(
            "boolean", "Whether this network should be shared across all tenants.", default=False, update_allowed=True
        ),
        "dhcp_agent_ids": Prop("list", "The IDs of the DHCP agent to schedule the network.", update_allowed=True),
        "port_security_enabled": Prop(
            "boolean", "Flag to enable/disable port security on the network.", update_allowed=True
        ),
        "qos_policy": Prop("string", "The name or ID of QoS policy to attach to this network.", update_allowed=True),
        "dns_domain": Prop("string", "DNS domain associated with this network.", update_allowed=True),
        "availability_zone_hints": Prop("list", "Availability zone candidates for the network.", schema=Prop("string")),
        "tags": TAGS,
    }
    attributes_schema = {
        "status": Attr("The status of the network.", "string"),
        "name": Attr("The name of the network.", "string"),
        "subnets": Attr("Subnets of this network.", "list"),
        "admin_state_up": Attr("The administrative status of the network.", "string"),
        "tenant_id": Attr("The tenant owning this network.", "string"),
        "port_security_enabled": Attr("Port security enabled of the network.", "boolean"),
        "mtu": Attr("The maximum transmission unit size(in bytes) for the network.", "integer"),
        "qos_policy_id": Attr("The QoS policy ID attached to this network.", "string"),
        "l2_adjacency": Attr(
            "A boolean value for L2 adjacency, True means that you can expect L2 connectivity throughout the Network.",
            "boolean",
        ),
        "segments": Attr("The segments of this network.", "list"),
    }
    table = neutron(
        "network",
        create=Call(
            Networking.create_network,
            with_specs(NetworkCreate),
            fields={
                "name": physical_name(),
                "admin_state_up": "admin_state_up",
                "shared": "shared",
                "port_security_enabled": given("port_security_enabled"),
                "project_id": given("tenant_id"),
                "qos_policy_id": found("qos_policy", "qos_policy"),
                "availability_zone_hints": given("availability_zone_hints"),
                **TAGS_AND_SPECS,
            },
        ),
        update=Call(
            Networking.update_network,
            with_specs(NetworkUpdate),
            fields={
                "name": physical_name(),
                "admin_state_up": "admin_state_up",
                "shared": "shared",
                "port_security_enabled": given("port_security_enabled"),
                "qos_policy_id": found("qos_policy", "qos_policy", absent=None),
                **TAGS_AND_SPECS,
            },
        ),
        delete=Networking.delete_network,
        attributes={"segments": lambda res, view: []},
    )


def _gateway(res: Mapped, value: Any, creating: bool) -> Any:
    """Heat's ``gateway_ip``: null, ``~`` or ``""`` for none; left out of a create, the first address."""
    if value is None:
        return UNSET if creating else None
    return value or NONE


class Subnet(Mapped):
    type_name = "OS::Neutron::Subnet"
    description = "A resource for managing Neutron subnets."
    properties_schema = {
        "network_id": Prop("string", "The ID of the attached network.", constraints=(NET,), support_status="HIDDEN"),
        "network": Prop("string", "The ID of the attached network.", constraints=(NET,)),
        "subnetpool": Prop("string", "The name or ID of the subnet pool."),
        "prefixlen": Prop(
            "integer", "Prefix length for subnet allocation from subnet pool.", constraints=(Range(min=0),)
        ),
        "cidr": Prop("string", "The CIDR."),
        "value_specs": Prop("map", "Extra parameters to include in the request.", default={}, update_allowed=True),
        "name": Prop("string", "The name of the subnet.", update_allowed=True),
        "ip_version": Prop(
            "integer", "The IP version, which is 4 or 6.", default=4, constraints=(AllowedValues([4, 6]),)
        ),
        "dns_nameservers": Prop(
            "list", "A specified set of DNS name servers to be used.", default=[], update_allowed=True
        ),
        "gateway_ip": Prop(
            "string",
            'The gateway IP address. Set to any of [ null | ~ | "" ] to create/update a '
            "subnet without a gateway. If omitted when creation, neutron will assign the first free IP "
            "address within the subnet to the gateway automatically.",
            update_allowed=True,
        ),
        "enable_dhcp": Prop(
            "boolean",
            "Set to true if DHCP is enabled and false if DHCP is disabled.",
            default=True,
            update_allowed=True,
        ),
        "ipv6_ra_mode": Prop(
            "string",
            "IPv6 RA (Router Advertisement) mode.",
            constraints=(AllowedValues(["dhcpv6-stateful", "dhcpv6-stateless", "slaac"]),),
        ),
        "ipv6_address_mode": Prop(
            "string",
            "IPv6 address mode.",
            constraints=(AllowedValues(["dhcpv6-stateful", "dhcpv6-stateless", "slaac"]),),
        ),
        "allocation_pools": Prop(
            "list",
            "The start and end addresses for the allocation pools.",
            update_allowed=True,
            schema=Prop(
                "map",
                schema={
                    "start": Prop("string", "Start address for the allocation pool.", required=True),
                    "end": Prop("string", "End address for the allocation pool.", required=True),
                },
            ),
        ),
        "tenant_id": Prop(
            "string",
            "The ID of the tenant who owns the network. Only administrative users can "
            "specify a tenant ID other than their own.",
        ),
        "host_routes": Prop(
            "list",
            "A list of host route dictionaries for the subnet.",
            update_allowed=True,
            schema=Prop(
                "map",
                schema={
                    "destination": Prop("string", "The destination for static route.", required=True),
                    "nexthop": Prop("string", "The next hop for the destination.", required=True),
                },
            ),
        ),
        "segment": Prop("string", "The name/ID of the segment to associate."),
        "tags": TAGS,
    }
    attributes_schema = {
        "name": Attr("Friendly name of the subnet.", "string"),
        "network_id": Attr("Parent network of the subnet.", "string"),
        "tenant_id": Attr("Tenant owning the subnet.", "string"),
        "allocation_pools": Attr("Ip allocation pools and their ranges.", "list"),
        "gateway_ip": Attr("Ip of the subnet's gateway.", "string"),
        "host_routes": Attr("Additional routes for this subnet.", "list"),
        "ip_version": Attr("Ip version for the subnet.", "string"),
        "cidr": Attr("CIDR block notation for this subnet.", "string"),
        "dns_nameservers": Attr("List of dns nameservers.", "list"),
        "enable_dhcp": Attr("'true' if DHCP is enabled for this subnet; 'false' otherwise.", "string"),
    }
    table = neutron(
        "subnet",
        create=Call(
            Networking.create_subnet,
            with_specs(SubnetCreate),
            fields={
                "network_id": found("network", "network", "network_id", lookup_fn=lookup.network),
                "subnetpool_id": found("subnetpool", "subnetpool"),
                "prefixlen": given("prefixlen"),
                "cidr": given("cidr"),
                "name": physical_name(),
                "ip_version": "ip_version",
                "dns_nameservers": "dns_nameservers",
                "gateway_ip": From(("gateway_ip",), lambda res, value: _gateway(res, value, creating=True)),
                "enable_dhcp": "enable_dhcp",
                "ipv6_ra_mode": given("ipv6_ra_mode"),
                "ipv6_address_mode": given("ipv6_address_mode"),
                "allocation_pools": given("allocation_pools"),
                "host_routes": given("host_routes"),
                "project_id": given("tenant_id"),
                **TAGS_AND_SPECS,
            },
        ),
        update=Call(
            Networking.update_subnet,
            with_specs(SubnetUpdate),
            fields={
                "name": physical_name(),
                "dns_nameservers": "dns_nameservers",
                "gateway_ip": From(("gateway_ip",), lambda res, value: _gateway(res, value, creating=False)),
                "enable_dhcp": "enable_dhcp",
                "allocation_pools": "allocation_pools",
                "host_routes": "host_routes",
                **TAGS_AND_SPECS,
            },
        ),
        delete=Networking.delete_subnet,
    )

    @classmethod
    def validate_definition(cls, stack: Any, defn: Any, props: dict[str, Any], checker: Checker | None) -> None:
        _require(defn, {"network": props.get("network") or props.get("network_id")}, "network")
        _require(defn, props, "subnetpool", "cidr")


def _fixed_ips(res: Mapped, items: list[Mapping[str, Any]] | None) -> Any:
    if items is None:
        return UNSET
    out = []
    for item in items:
        entry: dict[str, Any] = {}
        subnet = item.get("subnet") or item.get("subnet_id")
        if subnet:
            entry["subnet_id"] = lookup.subnet(res.cloud, res.ctx, subnet)["id"]
        if item.get("ip_address"):
            entry["ip_address"] = item["ip_address"]
        out.append(entry)
    return out


def _groups(res: Mapped, names: list[Any] | None) -> Any:
    if names is None:
        return UNSET
    net: Networking = res.cloud.network
    return [
        net.default_security_group(res.ctx)
        if name == "default"
        else lookup.security_group(res.cloud, res.ctx, name)["id"]
        for name in names
    ]


def _port_fields(absent: Any = UNSET) -> dict[str, Any]:
    """What a port's create and update both take from its properties."""
    return {
        "name": physical_name(),
        "admin_state_up": "admin_state_up",
        "fixed_ips": From(("fixed_ips",), _fixed_ips),
        "mac_address": given("mac_address"),
        "device_id": given("device_id"),
        "device_owner": given("device_owner"),
        "security_groups": From(("security_groups",), _groups),
        "allowed_address_pairs": given("allowed_address_pairs"),
        "binding_vnic_type": "binding:vnic_type",
        "port_security_enabled": given("port_security_enabled"),
        "qos_policy_id": found("qos_policy", "qos_policy", absent=absent),
        **TAGS_AND_SPECS,
    }


def _port_subnets(res: Mapped, view: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for ip in view["fixed_ips"]:
        with contextlib.suppress(faults.NotFound):
            out.append(res.cloud.network.show(res.ctx, "subnet", ip["subnet_id"]))
    return out


class Port(Mapped):
    type_name = "OS::Neutron::Port"
    description = "A resource for managing Neutron ports."
    properties_schema = {
        "network_id": Prop(
            "string", "ID of network to create the port on.", constraints=(NET,), support_status="HIDDEN"
        ),
        "network": Prop("string", "Network this port belongs to.", constraints=(NET,)),
        "name": Prop("string", "A symbolic name for this port.", update_allowed=True),
        "value_specs": Prop("map", "Extra parameters to include in the request.", default={}, update_allowed=True),
        "admin_state_up": Prop("boolean", "The administrative state of this port.", default=True, update_allowed=True),
        "fixed_ips": Prop(
            "list",
            "Desired IPs for this port.",
            update_allowed=True,
            schema=Prop(
                "map",
                schema={
                    "subnet_id": Prop(
                        "string",
                        "Subnet in which to allocate the IP address for this port.",
                        constraints=(SUBNET,),
                        support_status="HIDDEN",
                    ),
                    "subnet": Prop(
                        "string", "Subnet in which to allocate the IP address for this port.", constraints=(SUBNET,)
                    ),
                    "ip_address": Prop("string", "IP address desired in the subnet for this port."),
                },
            ),
        ),
        "mac_address": Prop("string", "MAC address to give to this port.", update_allowed=True),
        "device_id": Prop("string", "Device ID of this port.", update_allowed=True),
        "device_owner": Prop("string", "Name of the network owning the port.", update_allowed=True),
        "security_groups": Prop("list", "Security group IDs to associate with this port.", update_allowed=True),
        "allowed_address_pairs": Prop(
            "list",
            "Additional MAC/IP address pairs allowed to pass through the port.",
            update_allowed=True,
            schema=Prop(
                "map",
                schema={
                    "mac_address": Prop("string", "MAC address to allow through this port."),
                    "ip_address": Prop("string", "IP address to allow through this port.", required=True),
                },
            ),
        ),
        "binding:vnic_type": Prop(
            "string",
            "The vnic type to be bound on the neutron port.",
            default="normal",
            update_allowed=True,
            constraints=(
                AllowedValues(
                    [
                        "normal",
                        "direct",
                        "macvtap",
                        "direct-physical",
                        "baremetal",
                        "virtio-forwarder",
                        "smart-nic",
                        "vdpa",
                        "remote-managed",
                    ]
                ),
            ),
        ),
        "port_security_enabled": Prop(
            "boolean", "Flag to enable/disable port security on the port.", update_allowed=True
        ),
        "qos_policy": Prop("string", "The name or ID of QoS policy to attach to this port.", update_allowed=True),
        "dns_name": Prop("string", "DNS name associated with the port.", update_allowed=True),
        "replacement_policy": Prop(
            "string",
            "Policy on how to respond to a stack-update for this resource.",
            default="AUTO",
            update_allowed=True,
            support_status="HIDDEN",
            constraints=(AllowedValues(["REPLACE_ALWAYS", "AUTO"]),),
        ),
        "tags": TAGS,
    }
    attributes_schema = {
        "admin_state_up": Attr("The administrative state of this port.", "string"),
        "device_id": Attr("Unique identifier for the device.", "string"),
        "device_owner": Attr("Name of the network owning the port.", "string"),
        "fixed_ips": Attr("Fixed IP addresses.", "list"),
        "mac_address": Attr("MAC address of the port.", "string"),
        "name": Attr("Friendly name of the port.", "string"),
        "network_id": Attr("Unique identifier for the network owning the port.", "string"),
        "security_groups": Attr("A list of security groups for the port.", "list"),
        "status": Attr("The status of the port.", "string"),
        "tenant_id": Attr("Tenant owning the port.", "string"),
        "allowed_address_pairs": Attr("Additional MAC/IP address pairs allowed to pass through a port.", "list"),
        "subnets": Attr("A list of all subnet attributes for the port.", "list"),
        "network": Attr("The attributes of the network owning the port.", "map"),
        "port_security_enabled": Attr("Port security enabled of the port.", "boolean"),
        "dns_assignment": Attr("The DNS assigned to this port.", "map"),
        "qos_policy_id": Attr("The QoS policy ID attached to this port.", "string"),
    }
    table = neutron(
        "port",
        create=Call(
            Networking.create_port,
            with_specs(PortCreate),
            fields={
                "network_id": found("network", "network", "network_id", lookup_fn=lookup.network),
                **_port_fields(),
            },
        ),
        update=Call(Networking.update_port, with_specs(PortUpdate), fields=_port_fields(absent=None)),
        delete=Networking.delete_port,
        attributes={
            "subnets": _port_subnets,
            "network": lambda res, view: res.cloud.network.show(res.ctx, "network", view["network_id"]),
            "dns_assignment": lambda res, view: {},
        },
    )

    @classmethod
    def implicit_dependencies(cls, name: str, properties: Any, definitions: Mapping[str, Any]) -> set[str]:
        props = properties if isinstance(properties, Mapping) else {}
        return subnets_of(props.get("network") or props.get("network_id"), definitions)

    @classmethod
    def validate_definition(cls, stack: Any, defn: Any, props: dict[str, Any], checker: Checker | None) -> None:
        _require(defn, {"network": props.get("network") or props.get("network_id")}, "network")


# -- routers and floating IPs ------------------------------------------------------------------------


def _gateway_info(res: Mapped, info: Mapping[str, Any] | None) -> Any:
    if not info:
        return None
    gateway: dict[str, Any] = {"network_id": lookup.network(res.cloud, res.ctx, info["network"])["id"]}
    if info.get("enable_snat") is not None:
        gateway["enable_snat"] = info["enable_snat"]
    fixed = []
    for item in info.get("external_fixed_ips") or []:
        entry = {}
        if item.get("ip_address"):
            entry["ip_address"] = item["ip_address"]
        if item.get("subnet"):
            entry["subnet_id"] = lookup.subnet(res.cloud, res.ctx, item["subnet"])["id"]
        fixed.append(entry)
    if fixed:
        gateway["external_fixed_ips"] = fixed
    return gateway


class Router(Mapped):
    type_name = "OS::Neutron::Router"
    description = "A resource that implements Neutron router."
    properties_schema = {
        "name": Prop("string", "The name of the router.", update_allowed=True),
        "external_gateway_info": Prop(
            "map",
            "External network gateway configuration for a router.",
            update_allowed=True,
            schema={
                "network": Prop(
                    "string",
                    "ID or name of the external network for the gateway.",
                    required=True,
                    update_allowed=True,
                    constraints=(NET,),
                ),
                "enable_snat": Prop("boolean", "Enables Source NAT on the router gateway.", update_allowed=True),
                "external_fixed_ips": Prop(
                    "list",
                    "External fixed IP addresses for the gateway.",
                    update_allowed=True,
                    schema=Prop(
                        "map",
                        schema={
                            "ip_address": Prop("string", "External fixed IP address."),
                            "subnet": Prop("string", "Subnet of external fixed IP address.", constraints=(SUBNET,)),
                        },
                    ),
                ),
            },
        ),
        "value_specs": Prop(
            "map", "Extra parameters to include in the creation request.", default={}, update_allowed=True
        ),
        "admin_state_up": Prop("boolean", "The administrative state of the router.", default=True, update_allowed=True),
        "l3_agent_ids": Prop("list", "ID list of the L3 agent.", update_allowed=True),
        "distributed": Prop("boolean", "Indicates whether or not to create a distributed router."),
        "ha": Prop("boolean", "Indicates whether or not to create a highly available router."),
        "availability_zone_hints": Prop("list", "Availability zone candidates for the router.", schema=Prop("string")),
        "tags": TAGS,
    }
    attributes_schema = {
        "status": Attr("The status of the router.", "string"),
        "external_gateway_info": Attr("Gateway network for the router.", "map"),
        "name": Attr("Friendly name of the router.", "string"),
        "admin_state_up": Attr("Administrative state of the router.", "string"),
        "tenant_id": Attr("Tenant owning the router.", "string"),
        "availability_zone_hints": Attr("Availability zone candidates for the router.", "list"),
    }
    table = neutron(
        "router",
        create=Call(
            Networking.create_router,
            with_specs(RouterCreate),
            fields={
                "name": physical_name(),
                "admin_state_up": "admin_state_up",
                "external_gateway_info": From(
                    ("external_gateway_info",), lambda res, info: _gateway_info(res, info) or UNSET
                ),
                "distributed": given("distributed"),
                "ha": given("ha"),
                "availability_zone_hints": given("availability_zone_hints"),
                **TAGS_AND_SPECS,
            },
        ),
        update=Call(
            Networking.update_router,
            with_specs(RouterUpdate),
            fields={
                "name": physical_name(),
                "admin_state_up": "admin_state_up",
                "external_gateway_info": From(("external_gateway_info",), _gateway_info),
                **TAGS_AND_SPECS,
            },
        ),
        delete=Networking.delete_router,
    )


class RouterInterface(Resource):
    """Not a resource of its own in Neutron, but an action on a router: written as methods."""

    type_name = "OS::Neutron::RouterInterface"
    description = "A resource for managing Neutron router interfaces."
    properties_schema = {
        "router": Prop("string", "The router.", required=True, constraints=(ROUTER,)),
        "router_id": Prop("string", "ID of the router.", constraints=(ROUTER,), support_status="HIDDEN"),
        "subnet_id": Prop("string", "The subnet id.", constraints=(SUBNET,), support_status="HIDDEN"),
        "subnet": Prop("string", "The subnet, either subnet or port should be specified.", constraints=(SUBNET,)),
        "port_id": Prop("string", "The port id.", constraints=(PORT,), support_status="HIDDEN"),
        "port": Prop("string", "The port, either subnet or port should be specified.", constraints=(PORT,)),
    }

    @classmethod
    def validate_definition(cls, stack: Any, defn: Any, props: dict[str, Any], checker: Checker | None) -> None:
        subnet = props.get("subnet") or props.get("subnet_id")
        port = props.get("port") or props.get("port_id")
        _exclusive(defn, {"subnet": subnet, "port": port}, "subnet", "port")
        _require(defn, {"subnet": subnet, "port": port}, "subnet", "port")

    def handle_create(self) -> None:
        net: Networking = self.cloud.network
        router = lookup.router(self.cloud, self.ctx, self.props.get("router") or self.props.get("router_id"))
        subnet = self.props.get("subnet") or self.props.get("subnet_id")
        if subnet:
            subnet_id = lookup.subnet(self.cloud, self.ctx, subnet)["id"]
            net.add_router_interface(self.ctx, router["id"], subnet_id=subnet_id)
            self.resource_id = f"{router['id']}:subnet_id={subnet_id}"
        else:
            port_id = lookup.port(self.cloud, self.ctx, self.props.get("port") or self.props.get("port_id"))["id"]
            net.add_router_interface(self.ctx, router["id"], port_id=port_id)
            self.resource_id = f"{router['id']}:port_id={port_id}"

    def handle_delete(self) -> None:
        if not self.resource_id or ":" not in self.resource_id:
            return
        router_id, spec = self.resource_id.split(":", 1)
        key, _, value = spec.partition("=")
        with contextlib.suppress(faults.NotFound):
            if key == "subnet_id":
                self.cloud.network.remove_router_interface(self.ctx, router_id, subnet_id=value)
            else:
                self.cloud.network.remove_router_interface(self.ctx, router_id, port_id=value)

    def handle_check(self) -> None:
        self.cloud.network.router(self.ctx, (self.resource_id or "").split(":", 1)[0])


def _l3_dependencies(definitions: Mapping[str, Any]) -> set[str]:
    """Heat's floating IP rule: wait for the stack's routers and router interfaces."""
    out = set()
    for name, defn in definitions.items():
        kind = getattr(defn.plugin, "type_name", defn.type)
        if kind == RouterInterface.type_name:
            out.add(name)
        elif kind == Router.type_name:
            props = defn.properties if isinstance(defn.properties, Mapping) else {}
            if props.get("external_gateway_info"):
                out.add(name)
    return out


def _fip_port(res: Mapped, port: Any, fixed: Any) -> Any:
    return lookup.port(res.cloud, res.ctx, port)["id"] if port else None


class FloatingIP(Mapped):
    type_name = "OS::Neutron::FloatingIP"
    description = "A resource for managing Neutron floating ips."
    properties_schema = {
        "floating_network_id": Prop(
            "string", "ID of network to allocate floating IP from.", constraints=(NET,), support_status="HIDDEN"
        ),
        "floating_network": Prop("string", "Network to allocate floating IP from.", constraints=(NET,)),
        "floating_subnet": Prop("string", "Subnet to allocate floating IP from.", constraints=(SUBNET,)),
        "value_specs": Prop(
            "map", 'Extra parameters to include in the "floatingip" object in the creation request.', default={}
        ),
        "port_id": Prop(
            "string",
            "ID of an existing port with at least one IP address to associate with this floating IP.",
            update_allowed=True,
            constraints=(PORT,),
        ),
        "fixed_ip_address": Prop(
            "string", "IP address to use if the port has multiple addresses.", update_allowed=True
        ),
        "floating_ip_address": Prop("string", "IP address of the floating IP."),
        "dns_name": Prop("string", "DNS name associated with floating ip."),
        "dns_domain": Prop("string", "DNS domain associated with floating ip."),
        "tags": TAGS,
    }
    attributes_schema = {
        "router_id": Attr("ID of the router used as gateway, set when associated with a port.", "string"),
        "tenant_id": Attr("The tenant owning this floating IP.", "string"),
        "floating_network_id": Attr("ID of the network in which this IP is allocated.", "string"),
        "fixed_ip_address": Attr("IP address of the associated port, if specified.", "string"),
        "floating_ip_address": Attr("The allocated address of this IP.", "string"),
        "port_id": Attr("ID of the port associated with this IP.", "string"),
    }
    table = neutron(
        "floatingip",
        create=Call(
            Networking.create_floating_ip,
            with_specs(FloatingIPCreate),
            fields={
                "floating_network_id": found(
                    "network", "floating_network", "floating_network_id", lookup_fn=lookup.network
                ),
                "subnet_id": found("subnet", "floating_subnet", lookup_fn=lookup.subnet),
                "port_id": found("port", "port_id", lookup_fn=lookup.port),
                "fixed_ip_address": given("fixed_ip_address"),
                "floating_ip_address": given("floating_ip_address"),
                **TAGS_AND_SPECS,
            },
        ),
        update=Call(
            Networking.update_floating_ip,
            FloatingIPUpdate,
            fields={
                # A new port (or fixed IP) re-associates; no port lets go.
                "port_id": From(("port_id", "fixed_ip_address"), _fip_port),
                "fixed_ip_address": From(("port_id", "fixed_ip_address"), lambda res, port, fixed: fixed or UNSET),
                "tags": tags(),
            },
        ),
        delete=Networking.delete_floating_ip,
    )

    @classmethod
    def implicit_dependencies(cls, name: str, properties: Any, definitions: Mapping[str, Any]) -> set[str]:
        return _l3_dependencies(definitions)

    @classmethod
    def validate_definition(cls, stack: Any, defn: Any, props: dict[str, Any], checker: Checker | None) -> None:
        network = props.get("floating_network") or props.get("floating_network_id")
        _require(defn, {"floating_network": network}, "floating_network")


class FloatingIPAssociation(Resource):
    """An action on a floating IP (associate it with a port), written as methods."""

    type_name = "OS::Neutron::FloatingIPAssociation"
    description = "A resource for associating floating ips and ports."
    properties_schema = {
        "floatingip_id": Prop("string", "ID of the floating IP to associate.", required=True, update_allowed=True),
        "port_id": Prop(
            "string",
            "ID of an existing port with at least one IP address to associate with this floating IP.",
            required=True,
            update_allowed=True,
            constraints=(PORT,),
        ),
        "fixed_ip_address": Prop(
            "string", "IP address to use if the port has multiple addresses.", update_allowed=True
        ),
    }

    @classmethod
    def implicit_dependencies(cls, name: str, properties: Any, definitions: Mapping[str, Any]) -> set[str]:
        return _l3_dependencies(definitions)

    def _associate(self) -> None:
        port_id = lookup.port(self.cloud, self.ctx, self.props["port_id"])["id"]
        change = FloatingIPUpdate(port_id=port_id)
        if self.props.get("fixed_ip_address"):
            change.fixed_ip_address = self.props["fixed_ip_address"]
        self.cloud.network.update_floating_ip(self.ctx, self.props["floatingip_id"], change)
        self.resource_id = f"{self.props['floatingip_id']}:{port_id}"

    def _release(self, floating_ip_id: str) -> None:
        with contextlib.suppress(faults.NotFound):
            self.cloud.network.update_floating_ip(self.ctx, floating_ip_id, FloatingIPUpdate(port_id=None))

    def handle_create(self) -> None:
        self._associate()

    def handle_update(self, changed: dict[str, Any], old: dict[str, Any]) -> None:
        if "floatingip_id" in changed and old.get("floatingip_id"):
            self._release(old["floatingip_id"])
        self._associate()

    def handle_delete(self) -> None:
        if self.resource_id:
            self._release(self.resource_id.split(":", 1)[0])

    def show(self) -> Any:
        floating_ip_id = (self.resource_id or "").split(":", 1)[0]
        if not floating_ip_id:
            return None
        with contextlib.suppress(faults.NotFound):
            return self.cloud.network.show(self.ctx, "floatingip", floating_ip_id)
        return None


# -- security groups -------------------------------------------------------------------------------------


RULE_SCHEMA = {
    "direction": Prop(
        "string",
        "The direction in which the security group rule is applied.",
        default="ingress",
        constraints=(AllowedValues(["ingress", "egress"]),),
    ),
    "ethertype": Prop(
        "string", "Ethertype of the traffic.", default="IPv4", constraints=(AllowedValues(["IPv4", "IPv6"]),)
    ),
    "port_range_min": Prop("integer", "The minimum port number in the range.", constraints=(Range(0, 65535),)),
    "port_range_max": Prop("integer", "The maximum port number in the range.", constraints=(Range(0, 65535),)),
    "protocol": Prop("string", "The protocol that is matched by the security group rule."),
    "remote_mode": Prop(
        "string",
        "Whether to specify a remote group or a remote IP prefix.",
        default="remote_ip_prefix",
        constraints=(AllowedValues(["remote_ip_prefix", "remote_group_id"]),),
    ),
    "remote_group_id": Prop("string", "The remote group ID to be associated with this security group rule."),
    "remote_ip_prefix": Prop("string", "The remote IP prefix (CIDR) to be associated with this security group rule."),
}


class SecurityGroup(Mapped):
    type_name = "OS::Neutron::SecurityGroup"
    description = "A resource for managing Neutron security groups."
    properties_schema = {
        "name": Prop(
            "string",
            "A string specifying a symbolic name for the security group, which is not required to be unique.",
            update_allowed=True,
        ),
        "description": Prop("string", "Description of the security group.", update_allowed=True),
        "rules": Prop(
            "list",
            "List of security group rules.",
            default=[],
            update_allowed=True,
            schema=Prop("map", schema=RULE_SCHEMA),
        ),
        "tags": TAGS,
    }
    table = neutron(
        "security_group",
        create=Call(
            Networking.create_security_group,
            SecurityGroupCreate,
            fields={"name": physical_name(), "description": given("description"), "tags": tags()},
        ),
        update=Call(
            Networking.update_security_group,
            SecurityGroupUpdate,
            fields={
                "name": physical_name(),
                "description": From(("description",), lambda res, value: value or ""),
                "tags": tags(),
            },
        ),
        delete=Networking.delete_security_group,
    )

    @classmethod
    def validate_definition(cls, stack: Any, defn: Any, props: dict[str, Any], checker: Checker | None) -> None:
        if props.get("name") == "default":
            raise errors.StackValidationFailed('Security groups cannot be assigned the name "default".')

    # The rules are the group's, not resources of their own: Heat replaces them as a set.

    def handle_create(self) -> None:
        super().handle_create()
        self._create_rules(self.props.get("rules") or [])

    def handle_update(self, changed: dict[str, Any], old: dict[str, Any]) -> None:
        super().handle_update(changed, old)
        if "rules" not in changed:
            return
        net: Networking = self.cloud.network
        for existing in net.rules_of(self.resource_id or ""):
            net.delete_security_group_rule(self.ctx, existing["id"])
        rules = self.props.get("rules") or []
        if not any(r.get("direction") == "egress" for r in rules):
            for ethertype in ("IPv4", "IPv6"):
                net.create_security_group_rule(
                    self.ctx,
                    SecurityGroupRuleCreate(
                        security_group_id=self.resource_id or "", direction="egress", ethertype=ethertype
                    ),
                )
        self._create_rules(rules)

    def _rule(self, rule: Mapping[str, Any]) -> SecurityGroupRuleCreate:
        fields: dict[str, Any] = {"security_group_id": self.resource_id}
        for key in ("direction", "ethertype", "port_range_min", "port_range_max", "protocol"):
            if rule.get(key) is not None:
                fields[key] = rule[key]
        if rule.get("remote_mode") == "remote_group_id":
            group = rule.get("remote_group_id")
            fields["remote_group_id"] = (
                lookup.security_group(self.cloud, self.ctx, group)["id"] if group else self.resource_id
            )
        elif rule.get("remote_ip_prefix"):
            fields["remote_ip_prefix"] = rule["remote_ip_prefix"]
        return SecurityGroupRuleCreate(**fields)

    def _create_rules(self, rules: list[Mapping[str, Any]]) -> None:
        net: Networking = self.cloud.network
        if any(r.get("direction") == "egress" for r in rules):
            for existing in net.rules_of(self.resource_id or ""):
                if existing["direction"] == "egress" and not (
                    existing["remote_group_id"] or existing["remote_ip_prefix"]
                ):
                    net.delete_security_group_rule(self.ctx, existing["id"])
        for rule in rules:
            with contextlib.suppress(faults.Conflict):  # Heat ignores a rule that exists already
                net.create_security_group_rule(self.ctx, self._rule(rule))


class SecurityGroupRule(Mapped):
    type_name = "OS::Neutron::SecurityGroupRule"
    description = "A resource for managing Neutron security group rules."
    properties_schema = {
        "security_group": Prop(
            "string", "Security group name or ID to add rule.", required=True, constraints=(SECGROUP,)
        ),
        "description": Prop("string", "Description of the security group rule.", update_allowed=True),
        "remote_group": Prop(
            "string",
            "The remote group name or ID to be associated with this security group rule.",
            constraints=(SECGROUP,),
        ),
        "remote_ip_prefix": Prop(
            "string", "The remote IP prefix (CIDR) to be associated with this security group rule."
        ),
        "direction": RULE_SCHEMA["direction"],
        "ethertype": RULE_SCHEMA["ethertype"],
        "port_range_min": RULE_SCHEMA["port_range_min"],
        "port_range_max": RULE_SCHEMA["port_range_max"],
        "protocol": RULE_SCHEMA["protocol"],
    }
    table = neutron(
        "security_group_rule",
        create=Call(
            Networking.create_security_group_rule,
            SecurityGroupRuleCreate,
            fields={
                "security_group_id": found("security_group", "security_group", lookup_fn=lookup.security_group),
                "remote_group_id": found("security_group", "remote_group", lookup_fn=lookup.security_group),
                "remote_ip_prefix": given("remote_ip_prefix"),
                "description": given("description"),
            },
        ),
        delete=Networking.delete_security_group_rule,
    )

    @classmethod
    def validate_definition(cls, stack: Any, defn: Any, props: dict[str, Any], checker: Checker | None) -> None:
        _exclusive(defn, props, "remote_group", "remote_ip_prefix")


# -- subnet pools, address scopes, RBAC -------------------------------------------------------------------


class SubnetPool(Mapped):
    type_name = "OS::Neutron::SubnetPool"
    description = "A resource that implements Neutron subnet pools."
    properties_schema = {
        "name": Prop("string", "Name of the subnet pool.", update_allowed=True),
        "prefixes": Prop(
            "list", "List of subnet prefixes to assign.", required=True, update_allowed=True, schema=Prop("string")
        ),
        "address_scope": Prop("string", "An address scope ID to assign to the subnet pool.", update_allowed=True),
        "default_quota": Prop("integer", "A per-tenant quota on the prefix space.", update_allowed=True),
        "default_prefixlen": Prop("integer", "The default prefix length for subnets.", update_allowed=True),
        "min_prefixlen": Prop("integer", "Smallest prefix size that can be allocated.", update_allowed=True),
        "max_prefixlen": Prop("integer", "Maximum prefix size that can be allocated.", update_allowed=True),
        "is_default": Prop(
            "boolean", "Whether this is the default IPv4/IPv6 subnet pool.", default=False, update_allowed=True
        ),
        "shared": Prop("boolean", "Whether the subnet pool will be shared across all tenants.", default=False),
        "tenant_id": Prop("string", "The ID of the tenant who owns the subnet pool."),
        "tags": TAGS,
    }
    table = neutron(
        "subnetpool",
        create=Call(
            Networking.create_subnet_pool,
            SubnetPoolCreate,
            fields={
                "name": physical_name(),
                "address_scope_id": found("address_scope", "address_scope"),
                "project_id": given("tenant_id"),
                "tags": tags(),
            },
        ),
        update=Call(
            Networking.update_subnet_pool,
            SubnetPoolUpdate,
            fields={
                "name": physical_name(),
                "address_scope_id": found("address_scope", "address_scope"),
                "tags": tags(),
            },
        ),
        delete=Networking.delete_subnet_pool,
    )


class AddressScope(Mapped):
    type_name = "OS::Neutron::AddressScope"
    description = "A resource for Neutron address scopes."
    properties_schema = {
        "name": Prop("string", "The name for the address scope.", update_allowed=True),
        "shared": Prop(
            "boolean",
            "Whether the address scope should be shared to other tenants.",
            default=False,
            update_allowed=True,
        ),
        "tenant_id": Prop("string", "The owner tenant ID of the address scope."),
        "ip_version": Prop(
            "integer", "Address family of the address scope.", default=4, constraints=(AllowedValues([4, 6]),)
        ),
    }
    table = neutron(
        "address_scope",
        create=Call(
            Networking.create_address_scope,
            AddressScopeCreate,
            fields={"name": physical_name(), "project_id": given("tenant_id")},
        ),
        update=Call(Networking.update_address_scope, AddressScopeUpdate, fields={"name": physical_name()}),
        delete=Networking.delete_address_scope,
    )


class RBACPolicy(Mapped):
    type_name = "OS::Neutron::RBACPolicy"
    description = "A Resource for managing RBAC policies in Neutron."
    properties_schema = {
        "object_type": Prop(
            "string",
            "Type of the object that RBAC policy affects.",
            required=True,
            constraints=(AllowedValues(["network", "qos_policy", "security_group", "address_scope", "subnetpool"]),),
        ),
        "target_tenant": Prop(
            "string", "ID of the tenant to which the RBAC policy will be enforced.", required=True, update_allowed=True
        ),
        "action": Prop(
            "string",
            "Action for the RBAC policy.",
            required=True,
            constraints=(AllowedValues(["access_as_shared", "access_as_external"]),),
        ),
        "object_id": Prop("string", "ID or name of the RBAC object.", required=True),
        "tenant_id": Prop("string", "The owner tenant ID. Only required if the caller has an administrative role."),
    }
    table = neutron(
        "rbac_policy",
        create=Call(Networking.create_rbac_policy, RbacPolicyCreate, fields={"project_id": given("tenant_id")}),
        update=Call(Networking.update_rbac_policy, RbacPolicyUpdate),
        delete=Networking.delete_rbac_policy,
    )


# -- QoS ---------------------------------------------------------------------------------------------------------


class QoSPolicy(Mapped):
    type_name = "OS::Neutron::QoSPolicy"
    description = "A resource for neutron qos policy."
    properties_schema = {
        "name": Prop("string", "The name for the QoS policy.", update_allowed=True),
        "description": Prop("string", "The description for the QoS policy.", update_allowed=True),
        "shared": Prop(
            "boolean", "Whether this QoS policy should be shared to other tenants.", default=False, update_allowed=True
        ),
        "tenant_id": Prop("string", "The owner tenant ID of this QoS policy."),
        "tags": TAGS,
    }
    attributes_schema = {"rules": Attr("A list of all rules for the QoS policy.", "list")}
    table = neutron(
        "qos_policy",
        create=Call(
            Networking.create_qos_policy,
            QosPolicyCreate,
            fields={"name": physical_name(), "project_id": given("tenant_id"), "tags": tags()},
        ),
        update=Call(Networking.update_qos_policy, QosPolicyUpdate, fields={"name": physical_name(), "tags": tags()}),
        delete=Networking.delete_qos_policy,
    )


def _rule_table(rule_type: str, request: type, params: tuple[str, ...]) -> Table:
    """A QoS rule's table: its parameters go in its typed request, its policy by name or id."""

    def policy_of(net: Networking, ctx: Any, id: str) -> str:
        return net.get(ctx, "qos_rule", id)["qos_policy_id"]

    return Table(
        service="network",
        create=Call(
            lambda net, ctx, policy_id, **values: net.create_qos_rule(ctx, policy_id, request(**values)),
            fields={"policy_id": found("qos_policy", "policy"), **{p: p for p in params}},
        ),
        update=Call(
            lambda net, ctx, id, **values: net.update_qos_rule(ctx, policy_of(net, ctx, id), id, request(**values)),
            fields={p: p for p in params},
        ),
        delete=Call(lambda net, ctx, id: net.delete_qos_rule(ctx, rule_type, policy_of(net, ctx, id), id)),
        view=lambda net, ctx, id: net.qos_rule(ctx, rule_type, policy_of(net, ctx, id), id),
    )


QOS_POLICY = Prop("string", "ID or name of the QoS policy.", required=True)


class QoSBandwidthLimitRule(Mapped):
    type_name = "OS::Neutron::QoSBandwidthLimitRule"
    description = "A resource for Neutron QoS bandwidth limit rule."
    properties_schema = {
        "policy": QOS_POLICY,
        "max_kbps": Prop(
            "integer", "Max bandwidth in kbps.", required=True, update_allowed=True, constraints=(Range(min=0),)
        ),
        "max_burst_kbps": Prop(
            "integer", "Max burst bandwidth in kbps.", default=0, update_allowed=True, constraints=(Range(min=0),)
        ),
        "direction": Prop(
            "string",
            "Traffic direction.",
            default="egress",
            update_allowed=True,
            constraints=(AllowedValues(["egress", "ingress"]),),
        ),
        "tenant_id": Prop("string", "The owner tenant ID of this rule."),
    }
    table = _rule_table("bandwidth_limit", BandwidthLimitRule, ("max_kbps", "max_burst_kbps", "direction"))


class QoSDscpMarkingRule(Mapped):
    type_name = "OS::Neutron::QoSDscpMarkingRule"
    description = "A resource for Neutron QoS DSCP marking rule."
    properties_schema = {
        "policy": QOS_POLICY,
        "dscp_mark": Prop(
            "integer", "DSCP mark between 0 and 56, except 2-6, 42, 44, and 50-54.", required=True, update_allowed=True
        ),
        "tenant_id": Prop("string", "The owner tenant ID of this rule."),
    }
    table = _rule_table("dscp_marking", DscpMarkingRule, ("dscp_mark",))


class QoSMinimumBandwidthRule(Mapped):
    type_name = "OS::Neutron::QoSMinimumBandwidthRule"
    description = "A resource for Neutron QoS minimum bandwidth rule."
    properties_schema = {
        "policy": QOS_POLICY,
        "min_kbps": Prop(
            "integer", "Min bandwidth in kbps.", required=True, update_allowed=True, constraints=(Range(min=0),)
        ),
        "direction": Prop(
            "string",
            "Traffic direction.",
            default="egress",
            update_allowed=True,
            constraints=(AllowedValues(["egress", "ingress"]),),
        ),
        "tenant_id": Prop("string", "The owner tenant ID of this rule."),
    }
    table = _rule_table("minimum_bandwidth", MinimumBandwidthRule, ("min_kbps", "direction"))


# -- trunks --------------------------------------------------------------------------------------------------


def _sub_ports(res: Mapped, items: list[Mapping[str, Any]] | None) -> Any:
    if not items:
        return UNSET
    return [
        SubPort(
            port_id=lookup.port(res.cloud, res.ctx, item["port"])["id"],
            segmentation_type=item.get("segmentation_type") or "vlan",
            segmentation_id=item.get("segmentation_id"),
        )
        for item in items
    ]


class Trunk(Mapped):
    type_name = "OS::Neutron::Trunk"
    description = "A resource for managing Neutron trunks."
    properties_schema = {
        "name": Prop("string", "A string specifying a symbolic name for the trunk.", update_allowed=True),
        "description": Prop("string", "Description for the trunk.", update_allowed=True),
        "port": Prop("string", "ID or name of a port to be used as a parent port.", required=True, constraints=(PORT,)),
        "sub_ports": Prop(
            "list",
            "List with 0 or more map elements containing subport details.",
            schema=Prop(
                "map",
                schema={
                    "port": Prop(
                        "string", "ID or name of a port to be used as a subport.", required=True, constraints=(PORT,)
                    ),
                    "segmentation_type": Prop("string", "Segmentation type to be used on the subport.", default="vlan"),
                    "segmentation_id": Prop(
                        "integer",
                        "The segmentation ID on which the subport network is presented.",
                        constraints=(Range(1, 4094),),
                    ),
                },
            ),
        ),
        "admin_state_up": Prop(
            "boolean", "Enable/disable subport addition, removal and trunk delete.", default=True, update_allowed=True
        ),
        "tags": TAGS,
    }
    attributes_schema = {
        "status": Attr("The status of the trunk.", "string"),
        "port_id": Attr("ID of the parent port.", "string"),
        "sub_ports": Attr("The subports of the trunk.", "list"),
    }
    table = neutron(
        "trunk",
        create=Call(
            Networking.create_trunk,
            TrunkCreate,
            fields={
                "name": physical_name(),
                "port_id": found("port", "port", lookup_fn=lookup.port),
                "sub_ports": From(("sub_ports",), _sub_ports),
                "tags": tags(),
            },
        ),
        update=Call(Networking.update_trunk, TrunkUpdate, fields={"name": physical_name(), "tags": tags()}),
        delete=Networking.delete_trunk,
    )

    @classmethod
    def implicit_dependencies(cls, name: str, properties: Any, definitions: Mapping[str, Any]) -> set[str]:
        return set()


TYPES = (
    Net,
    Subnet,
    Port,
    Router,
    RouterInterface,
    FloatingIP,
    FloatingIPAssociation,
    SecurityGroup,
    SecurityGroupRule,
    SubnetPool,
    AddressScope,
    RBACPolicy,
    QoSPolicy,
    QoSBandwidthLimitRule,
    QoSDscpMarkingRule,
    QoSMinimumBandwidthRule,
    Trunk,
)
