"""``OS::Neutron::*`` types, made through the Networking model.

``Net``, ``Subnet``, ``Port``, ``Router``, ``RouterInterface``,
``FloatingIP``, ``FloatingIPAssociation``, ``SecurityGroup`` and
``SecurityGroupRule``, with Heat's property names and defaults. Like Heat,
a port waits for the subnets of its network, a server for the subnets of the
networks it joins, and a floating IP (or association) for the routers and
router interfaces of its stack, though the template does not say so.

Not implemented: ``value_specs`` beyond the attributes Neutron's model knows,
QoS policies, DHCP agent ids, segments, ``RouterGateway``, ``ProviderNet``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from stacksim import faults
from stacksim.heat import errors, functions
from stacksim.heat.constraints import AllowedValues, Checker, CustomConstraint, Range
from stacksim.heat.resources.base import Attr, Prop, Resource

NET = CustomConstraint("neutron.network")
SUBNET = CustomConstraint("neutron.subnet")
PORT = CustomConstraint("neutron.port")
ROUTER = CustomConstraint("neutron.router")
SECGROUP = CustomConstraint("neutron.security_group")
TAGS = Prop("list", "The tags to be added to the resource.", update_allowed=True, schema=Prop("string"))
NETWORK_FIELDS = ("name", "description", "admin_state_up", "shared", "router:external", "mtu", "port_security_enabled")


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
    found = set()
    for name, defn in definitions.items():
        if defn.type != Subnet.type_name and getattr(defn.plugin, "type_name", "") != Subnet.type_name:
            continue
        props = defn.properties if isinstance(defn.properties, Mapping) else {}
        if ref_key(props.get("network") or props.get("network_id")) == key:
            found.add(name)
    return found


class NeutronResource(Resource):
    kind = ""

    def show(self) -> Any:
        return self.store.get(self.kind, self.resource_id) if self.resource_id else None

    def _record(self) -> dict[str, Any] | None:
        return self.show()

    def resolve_attribute(self, attr: str) -> Any:
        record = self._record()
        if record is None:
            return None
        if attr == "tenant_id":
            return record.get("project_id")
        return record.get(attr)

    def check_exists(self) -> dict[str, Any]:
        record = self._record()
        if record is None:
            raise faults.NotFound(f"{self.type_name} {self.resource_id} could not be found.")
        return record

    def handle_check(self) -> None:
        self.check_exists()

    @staticmethod
    def specs(props: Mapping[str, Any]) -> dict[str, Any]:
        return dict(props.get("value_specs") or {})


class Net(NeutronResource):
    type_name = "OS::Neutron::Net"
    description = "A resource for managing Neutron net."
    kind = "network"
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

    def _attrs(self, props: Mapping[str, Any], create: bool) -> dict[str, Any]:
        attrs = {k: v for k, v in self.specs(props).items() if k in NETWORK_FIELDS}
        attrs["name"] = props.get("name") or self.physical_name()
        for key in ("admin_state_up", "shared", "port_security_enabled"):
            if props.get(key) is not None:
                attrs[key] = props[key]
        if create:
            if props.get("tenant_id"):
                attrs["project_id"] = props["tenant_id"]
            if props.get("tags"):
                attrs["tags"] = props["tags"]
            if props.get("availability_zone_hints"):
                attrs["availability_zone_hints"] = props["availability_zone_hints"]
        return attrs

    def handle_create(self) -> None:
        self.resource_id = self.cloud.network.create_network(self.ctx, **self._attrs(self.props, True))["id"]

    def handle_update(self, changed: dict[str, Any], old: dict[str, Any]) -> None:
        net = self.cloud.network
        net.update_network(self.ctx, self.resource_id or "", self._attrs(self.props, False))
        if "tags" in changed:
            net.set_tags(self.ctx, "network", self.resource_id or "", self.props.get("tags") or [])

    def handle_delete(self) -> None:
        if self.resource_id:
            self.cloud.network.delete_network(self.ctx, self.resource_id)

    def resolve_attribute(self, attr: str) -> Any:
        record = self._record()
        if record is None:
            return None
        if attr == "subnets":
            return self.cloud.network.subnet_ids(record["id"])
        if attr == "l2_adjacency":
            return True
        if attr in ("segments", "qos_policy_id"):
            return [] if attr == "segments" else None
        return super().resolve_attribute(attr)


class Subnet(NeutronResource):
    type_name = "OS::Neutron::Subnet"
    description = "A resource for managing Neutron subnets."
    kind = "subnet"
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

    @classmethod
    def validate_definition(cls, stack: Any, defn: Any, props: dict[str, Any], checker: Checker | None) -> None:
        if props.get("network") is None and props.get("network_id") is None:
            raise errors.StackValidationFailed(
                "At least one of the following properties must be specified: network.",
                path=["resources", defn.name, "properties"],
                error="Property error",
            )
        if props.get("cidr") is None and props.get("subnetpool") is None:
            raise errors.StackValidationFailed(
                "At least one of the following properties must be specified: subnetpool, cidr.",
                path=["resources", defn.name, "properties"],
                error="Property error",
            )

    def _updatable(self, props: Mapping[str, Any]) -> dict[str, Any]:
        attrs: dict[str, Any] = {"name": props.get("name") or self.physical_name()}
        for key in ("dns_nameservers", "enable_dhcp", "host_routes", "allocation_pools"):
            if props.get(key) is not None:
                attrs[key] = props[key]
        if props.get("gateway_ip") is not None:
            attrs["gateway_ip"] = props["gateway_ip"] or None
        return attrs

    def handle_create(self) -> None:
        from stacksim.heat import lookup

        network = lookup.network(self.cloud, self.ctx, self.props.get("network") or self.props.get("network_id"))
        attrs = self._updatable(self.props)
        attrs.update(network_id=network["id"], ip_version=self.props["ip_version"], cidr=self.props.get("cidr"))
        for key in ("ipv6_ra_mode", "ipv6_address_mode"):
            if self.props.get(key):
                attrs[key] = self.props[key]
        if self.props.get("tenant_id"):
            attrs["project_id"] = self.props["tenant_id"]
        if self.props.get("subnetpool"):
            attrs["subnetpool_id"] = self.props["subnetpool"]
        if self.props.get("tags"):
            attrs["tags"] = self.props["tags"]
        self.resource_id = self.cloud.network.create_subnet(self.ctx, **attrs)["id"]

    def handle_update(self, changed: dict[str, Any], old: dict[str, Any]) -> None:
        net = self.cloud.network
        attrs = self._updatable(self.props)
        if "gateway_ip" in changed and self.props.get("gateway_ip") is None:
            attrs["gateway_ip"] = None
        net.update_subnet(self.ctx, self.resource_id or "", attrs)
        if "tags" in changed:
            net.set_tags(self.ctx, "subnet", self.resource_id or "", self.props.get("tags") or [])

    def handle_delete(self) -> None:
        if self.resource_id:
            self.cloud.network.delete_subnet(self.ctx, self.resource_id)


def _fixed_ips(res: Resource, items: list[Mapping[str, Any]] | None) -> list[dict[str, Any]] | None:
    from stacksim.heat import lookup

    if items is None:
        return None
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


def _groups(res: Resource, names: list[Any] | None) -> list[str] | None:
    from stacksim.heat import lookup

    if names is None:
        return None
    out = []
    for name in names:
        if name == "default":
            out.append(res.cloud.network.default_security_group(res.ctx))
        else:
            out.append(lookup.security_group(res.cloud, res.ctx, name)["id"])
    return out


class Port(NeutronResource):
    type_name = "OS::Neutron::Port"
    description = "A resource for managing Neutron ports."
    kind = "port"
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

    @classmethod
    def implicit_dependencies(cls, name: str, properties: Any, definitions: Mapping[str, Any]) -> set[str]:
        props = properties if isinstance(properties, Mapping) else {}
        return subnets_of(props.get("network") or props.get("network_id"), definitions)

    @classmethod
    def validate_definition(cls, stack: Any, defn: Any, props: dict[str, Any], checker: Checker | None) -> None:
        if props.get("network") is None and props.get("network_id") is None:
            raise errors.StackValidationFailed(
                "At least one of the following properties must be specified: network.",
                path=["resources", defn.name, "properties"],
                error="Property error",
            )

    def _changes(self, props: Mapping[str, Any], changed: Mapping[str, Any] | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        keys = (
            "name",
            "admin_state_up",
            "mac_address",
            "device_id",
            "device_owner",
            "allowed_address_pairs",
            "binding:vnic_type",
            "port_security_enabled",
        )
        for key in keys:
            if changed is not None and key not in changed:
                continue
            if key == "name":
                out["name"] = props.get("name") or self.physical_name()
            elif props.get(key) is not None:
                out[key] = props[key]
        if changed is None or "fixed_ips" in changed:
            fixed = _fixed_ips(self, props.get("fixed_ips"))
            if fixed is not None:
                out["fixed_ips"] = fixed
        if changed is None or "security_groups" in changed:
            groups = _groups(self, props.get("security_groups"))
            if groups is not None:
                out["security_groups"] = groups
        return out

    def handle_create(self) -> None:
        from stacksim.heat import lookup

        network = lookup.network(self.cloud, self.ctx, self.props.get("network") or self.props.get("network_id"))
        attrs = self._changes(self.props, None)
        attrs["network_id"] = network["id"]
        if self.props.get("tags"):
            attrs["tags"] = self.props["tags"]
        self.resource_id = self.cloud.network.create_port(self.ctx, **attrs)["id"]

    def handle_update(self, changed: dict[str, Any], old: dict[str, Any]) -> None:
        net = self.cloud.network
        changes = self._changes(self.props, changed)
        if changes:
            net.update_port(self.ctx, self.resource_id or "", changes)
        if "tags" in changed:
            net.set_tags(self.ctx, "port", self.resource_id or "", self.props.get("tags") or [])

    def handle_delete(self) -> None:
        if self.resource_id:
            self.cloud.network.delete_port(self.ctx, self.resource_id)

    def resolve_attribute(self, attr: str) -> Any:
        record = self._record()
        if record is None:
            return None
        store = self.store
        if attr == "subnets":
            subnets = (store.get("subnet", ip["subnet_id"]) for ip in record["fixed_ips"])
            return [s for s in subnets if s is not None]
        if attr == "network":
            return store.get("network", record["network_id"])
        if attr == "dns_assignment":
            return {}
        if attr == "qos_policy_id":
            return None
        return super().resolve_attribute(attr)


class Router(NeutronResource):
    type_name = "OS::Neutron::Router"
    description = "A resource that implements Neutron router."
    kind = "router"
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

    def _gateway(self, info: Mapping[str, Any] | None) -> dict[str, Any] | None:
        from stacksim.heat import lookup

        if not info:
            return None
        gateway: dict[str, Any] = {"network_id": lookup.network(self.cloud, self.ctx, info["network"])["id"]}
        if info.get("enable_snat") is not None:
            gateway["enable_snat"] = info["enable_snat"]
        fixed = []
        for item in info.get("external_fixed_ips") or []:
            entry = {}
            if item.get("ip_address"):
                entry["ip_address"] = item["ip_address"]
            if item.get("subnet"):
                entry["subnet_id"] = lookup.subnet(self.cloud, self.ctx, item["subnet"])["id"]
            fixed.append(entry)
        if fixed:
            gateway["external_fixed_ips"] = fixed
        return gateway

    def handle_create(self) -> None:
        attrs: dict[str, Any] = {
            "name": self.props.get("name") or self.physical_name(),
            "admin_state_up": self.props["admin_state_up"],
        }
        gateway = self._gateway(self.props.get("external_gateway_info"))
        if gateway:
            attrs["external_gateway_info"] = gateway
        for key in ("availability_zone_hints", "tags"):
            if self.props.get(key):
                attrs[key] = self.props[key]
        self.resource_id = self.cloud.network.create_router(self.ctx, attrs)["id"]

    def handle_update(self, changed: dict[str, Any], old: dict[str, Any]) -> None:
        changes: dict[str, Any] = {}
        if "name" in changed:
            changes["name"] = self.props.get("name") or self.physical_name()
        if "admin_state_up" in changed:
            changes["admin_state_up"] = self.props["admin_state_up"]
        if "external_gateway_info" in changed:
            changes["external_gateway_info"] = self._gateway(self.props.get("external_gateway_info"))
        if changes:
            self.cloud.network.update_router(self.ctx, self.resource_id or "", changes)
        if "tags" in changed:
            self.cloud.network.set_tags(self.ctx, "router", self.resource_id or "", self.props.get("tags") or [])

    def handle_delete(self) -> None:
        if self.resource_id:
            self.cloud.network.delete_router(self.ctx, self.resource_id)


class RouterInterface(Resource):
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
        path = ["resources", defn.name, "properties"]
        if subnet is not None and port is not None:
            raise errors.StackValidationFailed(
                "Cannot define the following properties at the same time: subnet, port.",
                path=path,
                error="Property error",
            )
        if subnet is None and port is None:
            raise errors.StackValidationFailed(
                "At least one of the following properties must be specified: subnet, port.",
                path=path,
                error="Property error",
            )

    def handle_create(self) -> None:
        from stacksim.heat import lookup

        router = lookup.router(self.cloud, self.ctx, self.props.get("router") or self.props.get("router_id"))
        subnet = self.props.get("subnet") or self.props.get("subnet_id")
        port = self.props.get("port") or self.props.get("port_id")
        l3 = self.cloud.network
        if subnet:
            subnet_id = lookup.subnet(self.cloud, self.ctx, subnet)["id"]
            l3.add_router_interface(self.ctx, router["id"], subnet_id=subnet_id)
            self.resource_id = f"{router['id']}:subnet_id={subnet_id}"
        else:
            port_id = lookup.port(self.cloud, self.ctx, port)["id"]
            l3.add_router_interface(self.ctx, router["id"], port_id=port_id)
            self.resource_id = f"{router['id']}:port_id={port_id}"

    def handle_delete(self) -> None:
        if not self.resource_id or ":" not in self.resource_id:
            return
        router_id, spec = self.resource_id.split(":", 1)
        key, _, value = spec.partition("=")
        try:
            if key == "subnet_id":
                self.cloud.network.remove_router_interface(self.ctx, router_id, subnet_id=value)
            else:
                self.cloud.network.remove_router_interface(self.ctx, router_id, port_id=value)
        except faults.NotFound:
            pass

    def handle_check(self) -> None:
        router_id = (self.resource_id or "").split(":", 1)[0]
        self.cloud.network.router(self.ctx, router_id)


def _l3_dependencies(definitions: Mapping[str, Any]) -> set[str]:
    """Heat's floating IP rule: wait for the stack's routers and router interfaces."""
    found = set()
    for name, defn in definitions.items():
        kind = getattr(defn.plugin, "type_name", defn.type)
        if kind == RouterInterface.type_name:
            found.add(name)
        elif kind == Router.type_name:
            props = defn.properties if isinstance(defn.properties, Mapping) else {}
            if props.get("external_gateway_info"):
                found.add(name)
    return found


class FloatingIP(NeutronResource):
    type_name = "OS::Neutron::FloatingIP"
    description = "A resource for managing Neutron floating ips."
    kind = "floatingip"
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

    @classmethod
    def implicit_dependencies(cls, name: str, properties: Any, definitions: Mapping[str, Any]) -> set[str]:
        return _l3_dependencies(definitions)

    @classmethod
    def validate_definition(cls, stack: Any, defn: Any, props: dict[str, Any], checker: Checker | None) -> None:
        if props.get("floating_network") is None and props.get("floating_network_id") is None:
            raise errors.StackValidationFailed(
                "At least one of the following properties must be specified: floating_network.",
                path=["resources", defn.name, "properties"],
                error="Property error",
            )

    def handle_create(self) -> None:
        from stacksim.heat import lookup

        network = lookup.network(
            self.cloud, self.ctx, self.props.get("floating_network") or self.props.get("floating_network_id")
        )
        attrs: dict[str, Any] = {"floating_network_id": network["id"]}
        if self.props.get("floating_subnet"):
            attrs["subnet_id"] = lookup.subnet(self.cloud, self.ctx, self.props["floating_subnet"])["id"]
        for key in ("port_id", "fixed_ip_address", "floating_ip_address", "tags"):
            if self.props.get(key):
                attrs[key] = self.props[key]
        if attrs.get("port_id"):
            attrs["port_id"] = lookup.port(self.cloud, self.ctx, attrs["port_id"])["id"]
        self.resource_id = self.cloud.network.create_floating_ip(self.ctx, attrs)["id"]

    def handle_update(self, changed: dict[str, Any], old: dict[str, Any]) -> None:
        l3 = self.cloud.network
        if "port_id" in changed or "fixed_ip_address" in changed:
            changes: dict[str, Any] = {"port_id": self.props.get("port_id") or None}
            if self.props.get("fixed_ip_address"):
                changes["fixed_ip_address"] = self.props["fixed_ip_address"]
            l3.update_floating_ip(self.ctx, self.resource_id or "", changes)
        if "tags" in changed:
            self.cloud.network.set_tags(self.ctx, "floatingip", self.resource_id or "", self.props.get("tags") or [])

    def handle_delete(self) -> None:
        if self.resource_id:
            self.cloud.network.delete_floating_ip(self.ctx, self.resource_id)


class FloatingIPAssociation(Resource):
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
        from stacksim.heat import lookup

        port_id = lookup.port(self.cloud, self.ctx, self.props["port_id"])["id"]
        changes: dict[str, Any] = {"port_id": port_id}
        if self.props.get("fixed_ip_address"):
            changes["fixed_ip_address"] = self.props["fixed_ip_address"]
        self.cloud.network.update_floating_ip(self.ctx, self.props["floatingip_id"], changes)
        self.resource_id = f"{self.props['floatingip_id']}:{port_id}"

    def handle_create(self) -> None:
        self._associate()

    def handle_update(self, changed: dict[str, Any], old: dict[str, Any]) -> None:
        if "floatingip_id" in changed and old.get("floatingip_id"):
            with contextlib.suppress(faults.NotFound):
                self.cloud.network.update_floating_ip(self.ctx, old["floatingip_id"], {"port_id": None})
        self._associate()

    def handle_delete(self) -> None:
        if not self.resource_id:
            return
        fip_id = self.resource_id.split(":", 1)[0]
        with contextlib.suppress(faults.NotFound):
            self.cloud.network.update_floating_ip(self.ctx, fip_id, {"port_id": None})

    def show(self) -> Any:
        fip_id = (self.resource_id or "").split(":", 1)[0]
        return self.store.get("floatingip", fip_id) if fip_id else None


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


class SecurityGroup(NeutronResource):
    type_name = "OS::Neutron::SecurityGroup"
    description = "A resource for managing Neutron security groups."
    kind = "security_group"
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

    @classmethod
    def validate_definition(cls, stack: Any, defn: Any, props: dict[str, Any], checker: Checker | None) -> None:
        if props.get("name") == "default":
            raise errors.StackValidationFailed('Security groups cannot be assigned the name "default".')

    def handle_create(self) -> None:
        attrs: dict[str, Any] = {
            "name": self.props.get("name") or self.physical_name(),
            "description": self.props.get("description") or "",
        }
        if self.props.get("tags"):
            attrs["tags"] = self.props["tags"]
        self.resource_id = self.cloud.network.create_security_group(self.ctx, attrs)["id"]
        self._create_rules(self.props.get("rules") or [])

    def _rule(self, rule: Mapping[str, Any]) -> dict[str, Any]:
        from stacksim.heat import lookup

        out: dict[str, Any] = {"security_group_id": self.resource_id}
        for key in ("direction", "ethertype", "port_range_min", "port_range_max", "protocol"):
            if rule.get(key) is not None:
                out[key] = rule[key]
        if rule.get("remote_mode") == "remote_group_id":
            group = rule.get("remote_group_id")
            out["remote_group_id"] = (
                lookup.security_group(self.cloud, self.ctx, group)["id"] if group else self.resource_id
            )
        elif rule.get("remote_ip_prefix"):
            out["remote_ip_prefix"] = rule["remote_ip_prefix"]
        return out

    def _create_rules(self, rules: list[Mapping[str, Any]]) -> None:
        security = self.cloud.network
        if any(r.get("direction") == "egress" for r in rules):
            for existing in security.rules_of(self.resource_id or ""):
                if (
                    existing["direction"] == "egress"
                    and not existing["remote_group_id"]
                    and not existing["remote_ip_prefix"]
                ):
                    security.delete_security_group_rule(self.ctx, existing["id"])
        for rule in rules:
            with contextlib.suppress(faults.Conflict):  # Heat ignores a rule that exists already
                security.create_security_group_rule(self.ctx, self._rule(rule))

    def handle_update(self, changed: dict[str, Any], old: dict[str, Any]) -> None:
        security = self.cloud.network
        changes = {}
        if "name" in changed:
            changes["name"] = self.props.get("name") or self.physical_name()
        if "description" in changed:
            changes["description"] = self.props.get("description") or ""
        if changes:
            security.update_security_group(self.ctx, self.resource_id or "", changes)
        if "rules" in changed:
            for existing in security.rules_of(self.resource_id or ""):
                security.delete_security_group_rule(self.ctx, existing["id"])
            rules = self.props.get("rules") or []
            if not any(r.get("direction") == "egress" for r in rules):
                for ethertype in ("IPv4", "IPv6"):
                    security.create_security_group_rule(
                        self.ctx, {"security_group_id": self.resource_id, "direction": "egress", "ethertype": ethertype}
                    )
            self._create_rules(rules)
        if "tags" in changed:
            self.cloud.network.set_tags(
                self.ctx, "security_group", self.resource_id or "", self.props.get("tags") or []
            )

    def handle_delete(self) -> None:
        if self.resource_id:
            self.cloud.network.delete_security_group(self.ctx, self.resource_id)


class SecurityGroupRule(NeutronResource):
    type_name = "OS::Neutron::SecurityGroupRule"
    description = "A resource for managing Neutron security group rules."
    kind = "security_group_rule"
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

    @classmethod
    def validate_definition(cls, stack: Any, defn: Any, props: dict[str, Any], checker: Checker | None) -> None:
        if props.get("remote_group") is not None and props.get("remote_ip_prefix") is not None:
            raise errors.StackValidationFailed(
                "Cannot define the following properties at the same time: remote_group, remote_ip_prefix.",
                path=["resources", defn.name, "properties"],
                error="Property error",
            )

    def handle_create(self) -> None:
        from stacksim.heat import lookup

        group = lookup.security_group(self.cloud, self.ctx, self.props["security_group"])
        attrs: dict[str, Any] = {"security_group_id": group["id"]}
        for key in (
            "direction",
            "ethertype",
            "port_range_min",
            "port_range_max",
            "protocol",
            "remote_ip_prefix",
            "description",
        ):
            if self.props.get(key) is not None:
                attrs[key] = self.props[key]
        if self.props.get("remote_group"):
            attrs["remote_group_id"] = lookup.security_group(self.cloud, self.ctx, self.props["remote_group"])["id"]
        self.resource_id = self.cloud.network.create_security_group_rule(self.ctx, attrs)["id"]

    def handle_delete(self) -> None:
        if self.resource_id:
            self.cloud.network.delete_security_group_rule(self.ctx, self.resource_id)


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
)
