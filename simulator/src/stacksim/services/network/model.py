"""Networking: the typed interface of the Networking service, for its REST layer, Nova and Heat.

Every caller goes through :class:`Networking` (``cloud.network``): the REST
layer, Nova (ports for servers, binding, security groups), Heat (the
``OS::Neutron::*`` types) and a compute driver's read-only view. So a port Nova
makes for a server is the one ``openstack port list`` shows.

- **Who.** Each method takes the caller first: a :class:`~stacksim.auth.Context`,
  or a project id (or None) for the cloud acting on its own with admin rights
  (bootstrap, Nova binding a port). Neutron's default policy is enforced inside:
  a member sees and changes its own project's resources (others' are 404),
  shared and external ones are seen by all, sharing follows RBAC policies.
- **Requests.** Creates and updates take typed requests, the dataclasses of
  :mod:`.schemas` re-exported here (``NetworkCreate(name="n")``,
  ``PortUpdate(security_groups=[...])``); a field not set is not changed (or
  gets Neutron's default). Actions take ids and plain values.
- **Results.** Records in Neutron's own attribute names (``router:external``,
  ``binding:host_id``), as stored; :meth:`Networking.show` gives what the API
  shows the caller instead. Errors are :mod:`stacksim.faults` exceptions with
  Neutron's status, type and message.
- **Changes** are made in one store transaction each; anything allocated in it
  (addresses, MACs, segmentation ids, CIDRs) is allocated there. A compute
  driver hears of the changes it makes real (:class:`~stacksim.drivers.base.NetworkHooks`)
  once they are committed (:class:`Events`).

The rules live in one module per resource (:mod:`.networks`, :mod:`.subnets`,
:mod:`.ports`, :mod:`.addresses`, :mod:`.routers`, :mod:`.floatingips`,
:mod:`.secgroups`, :mod:`.subnetpools`, :mod:`.rbac`, :mod:`.qos`,
:mod:`.trunks`, :mod:`.topology`, :mod:`.quotas`), reached through
:attr:`Networking.parts`; who sees what is :mod:`.access`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stacksim import faults
from stacksim.auth import Context
from stacksim.drivers.base import NetworkHooks
from stacksim.services.network import extensions, qos, views
from stacksim.services.network.access import Access
from stacksim.services.network.addresses import Addresses
from stacksim.services.network.common import MAX_TAGS, apply, as_context, check_tag, check_tags, too_many_tags
from stacksim.services.network.floatingips import FloatingIPs
from stacksim.services.network.networks import ZONE, Networks
from stacksim.services.network.ports import DevicePort, Ports
from stacksim.services.network.quotas import DEFAULTS, Quotas
from stacksim.services.network.rbac import Rbac
from stacksim.services.network.routers import Routers
from stacksim.services.network.schemas import (
    UNSET,
    AddressScopeCreate,
    AddressScopeUpdate,
    BandwidthLimitRule,
    DscpMarkingRule,
    FixedIp,
    FloatingIPCreate,
    FloatingIPUpdate,
    GatewayInfo,
    MinimumBandwidthRule,
    NetworkCreate,
    NetworkUpdate,
    PortCreate,
    PortUpdate,
    QosPolicyCreate,
    QosPolicyUpdate,
    QuotaValues,
    RbacPolicyCreate,
    RbacPolicyUpdate,
    Route,
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
    given,
    typed,
)
from stacksim.services.network.secgroups import SecurityGroups
from stacksim.services.network.subnetpools import AddressScopes, SubnetPools
from stacksim.services.network.subnets import Subnets
from stacksim.services.network.topology import AutoAllocation
from stacksim.services.network.trunks import Trunks
from stacksim.store import Store, atomic

__all__ = [
    "UNSET",
    "AddressScopeCreate",
    "AddressScopeUpdate",
    "BandwidthLimitRule",
    "DscpMarkingRule",
    "FixedIp",
    "FloatingIPCreate",
    "FloatingIPUpdate",
    "GatewayInfo",
    "MinimumBandwidthRule",
    "NetworkCreate",
    "NetworkUpdate",
    "Networking",
    "PortCreate",
    "PortUpdate",
    "QosPolicyCreate",
    "QosPolicyUpdate",
    "QuotaValues",
    "RbacPolicyCreate",
    "RbacPolicyUpdate",
    "Route",
    "RouterCreate",
    "RouterUpdate",
    "SecurityGroupCreate",
    "SecurityGroupRuleCreate",
    "SecurityGroupUpdate",
    "SubPort",
    "SubnetCreate",
    "SubnetPoolCreate",
    "SubnetPoolUpdate",
    "SubnetUpdate",
    "TrunkCreate",
    "TrunkUpdate",
]

Who = Context | str | None
Where = dict[str, list[Any]]
Record = dict[str, Any]

#: The kinds of record that carry tags (standard-attr-tag), by the collection name their URLs use.
TAGGABLE = {
    "network": "networks",
    "subnet": "subnets",
    "port": "ports",
    "router": "routers",
    "floatingip": "floatingips",
    "security_group": "security_groups",
    "subnetpool": "subnetpools",
    "qos_policy": "policies",
    "trunk": "trunks",
}
#: Neutron's service providers (service-type): the L3 plugin's router flavors.
SERVICE_PROVIDERS = (
    {"service_type": "L3_ROUTER_NAT", "name": "single_node", "default": True},
    {"service_type": "L3_ROUTER_NAT", "name": "ha", "default": False},
    {"service_type": "L3_ROUTER_NAT", "name": "dvr", "default": False},
    {"service_type": "L3_ROUTER_NAT", "name": "dvrha", "default": False},
)
QOS_RULES: dict[str, type] = {
    "bandwidth_limit": BandwidthLimitRule,
    "dscp_marking": DscpMarkingRule,
    "minimum_bandwidth": MinimumBandwidthRule,
}


class Events:
    """The compute driver's network hooks, each told once the change it reports is committed
    (and never for one rolled back): every change is told from the one place it commits."""

    def __init__(self, net: Networking) -> None:
        self._net = net

    def security_group_rules_changed(self, group_id: str) -> None:
        self._net.store.after_commit(lambda: self._net.hooks.security_group_rules_changed(group_id))

    def port_updated(self, port: Record) -> None:
        self._net.store.after_commit(lambda: self._net.hooks.port_updated(port))

    def floating_ip_changed(self, floating_ip: Record) -> None:
        self._net.store.after_commit(lambda: self._net.hooks.floating_ip_changed(floating_ip))

    def network_deleted(self, network_id: str) -> None:
        self._net.store.after_commit(lambda: self._net.hooks.network_deleted(network_id))

    def router_interfaces_changed(self, router_id: str) -> None:
        self._net.store.after_commit(lambda: self._net.hooks.router_interfaces_changed(router_id))


class Parts:
    """The rules of each resource, one object per module; they reach each other through here."""

    def __init__(self, net: Networking) -> None:
        self.access = Access(net.store)
        self.addresses = Addresses(net.store)
        self.quotas = Quotas(net.store)
        self.networks = Networks(net)
        self.subnets = Subnets(net)
        self.ports = Ports(net)
        self.routers = Routers(net)
        self.floating_ips = FloatingIPs(net)
        self.security = SecurityGroups(net)
        self.pools = SubnetPools(net)
        self.scopes = AddressScopes(net)
        self.rbac = Rbac(net)
        self.qos = qos.Qos(net)
        self.trunks = Trunks(net)
        self.topology = AutoAllocation(net)


def _ctx(who: Who) -> Context:
    return as_context(who)


class Networking:
    """Neutron's state and rules over a :class:`Store`: the service's one interface."""

    def __init__(self, store: Store) -> None:
        self.store = store
        #: told of changes a compute driver must make real (the compute service sets its driver here)
        self.hooks: NetworkHooks = NetworkHooks()
        self.events = Events(self)
        self.parts = Parts(self)

    def ensure_project(self, project_id: str | None) -> None:
        """What Neutron does on a project's first call: give it its ``default`` security group."""
        if project_id:
            self.parts.security.ensure_default(project_id)

    # -- reading -------------------------------------------------------------------------

    def get(self, who: Who, kind: str, id: str) -> Record:
        """A record of ``kind`` (``network``, ``subnetpool``, ``qos_policy``...) the caller may see, else its 404."""
        return self.parts.access.load(who, kind, id)

    def list(self, who: Who, kind: str, where: Where | None = None) -> list[Record]:
        """The records of ``kind`` the caller may see; ``where`` (attribute -> allowed values) narrows them."""
        return self.parts.access.visible(who, kind, where)

    def find(self, who: Who, kind: str, name_or_id: str) -> list[Record]:
        """The records of ``kind`` the caller may see with that id, else with that name (Heat's lookups)."""
        record = self.store.get(kind, name_or_id)
        if record is not None and self.parts.access.can_see(_ctx(who), kind, record):
            return [record]
        return self.list(who, kind, {"name": [name_or_id]})

    def show(self, who: Who, kind: str, id: str) -> dict[str, Any]:
        """The record as ``GET`` shows it to the caller (computed attributes added, hidden ones gone)."""
        ctx = _ctx(who)
        return views.render(self, ctx, kind, self.get(ctx, kind, id))

    def network(self, who: Who, id: str, kept: bool = False) -> Record:
        """``kept``: read through the store's cache, not to be changed (see :meth:`Access.load`)."""
        return self.parts.access.load(who, "network", id, kept)

    def networks(self, who: Who, where: Where | None = None) -> list[Record]:
        return self.list(who, "network", where)

    def subnet(self, who: Who, id: str) -> Record:
        return self.get(who, "subnet", id)

    def subnets(self, who: Who, where: Where | None = None) -> list[Record]:
        return self.list(who, "subnet", where)

    def port(self, who: Who, id: str) -> Record:
        return self.get(who, "port", id)

    def ports(self, who: Who, where: Where | None = None) -> list[Record]:
        return self.list(who, "port", where)

    def router(self, who: Who, id: str) -> Record:
        return self.get(who, "router", id)

    def routers(self, who: Who, where: Where | None = None) -> list[Record]:
        return self.list(who, "router", where)

    def floating_ip(self, who: Who, id: str) -> Record:
        return self.get(who, "floatingip", id)

    def floating_ips(self, who: Who, where: Where | None = None) -> list[Record]:
        return self.list(who, "floatingip", where)

    def security_group(self, who: Who, id: str) -> Record:
        return self.get(who, "security_group", id)

    def security_group_rule(self, who: Who, id: str) -> Record:
        return self.get(who, "security_group_rule", id)

    def subnet_ids(self, network_id: str) -> list[str]:
        """The ids of a network's subnets (whoever asks: callers have already seen the network)."""
        return self.parts.networks.subnet_ids(network_id)

    def router_interfaces(self, router_id: str) -> list[Record]:
        """The ``network:router_interface`` ports of a router."""
        return self.parts.routers.interfaces(router_id)

    def rules_of(self, group_id: str) -> list[Record]:
        """The rules of a security group (for a compute driver's firewall)."""
        return self.parts.security.rules_of(group_id)

    def default_security_group(self, who: Who) -> str:
        """The id of the caller's project's ``default`` group, made on first use as Neutron does."""
        project = _ctx(who).project_id
        if not project:
            raise faults.BadRequest("A project is needed for its default security group.")
        return self.parts.security.default_id(project)

    # -- networks, subnets, ports -------------------------------------------------------------

    def create_network(
        self, who: Who, request: NetworkCreate | Mapping[str, Any] | None = None, **attrs: Any
    ) -> Record:
        """A new network; ``attrs`` (Neutron's names) is the older spelling of ``request``."""
        return self.parts.networks.create(_ctx(who), given(typed(NetworkCreate, request or attrs)))

    def update_network(
        self, who: Who, id: str, request: NetworkUpdate | Mapping[str, Any], if_match: str | None = None
    ) -> Record:
        return self.parts.networks.update(_ctx(who), id, given(typed(NetworkUpdate, request)), if_match)

    def delete_network(self, who: Who, id: str) -> None:
        """Delete a network with its subnets and DHCP port (409 ``NetworkInUse`` while other ports are on it)."""
        with self.store.transaction():
            self.parts.networks.delete(_ctx(who), id)
            self.events.network_deleted(id)

    def create_subnet(self, who: Who, request: SubnetCreate | Mapping[str, Any] | None = None, **attrs: Any) -> Record:
        return self.parts.subnets.create(_ctx(who), given(typed(SubnetCreate, request or attrs)))

    def update_subnet(
        self, who: Who, id: str, request: SubnetUpdate | Mapping[str, Any], if_match: str | None = None
    ) -> Record:
        return self.parts.subnets.update(_ctx(who), id, given(typed(SubnetUpdate, request)), if_match)

    def delete_subnet(self, who: Who, id: str) -> None:
        self.parts.subnets.delete(_ctx(who), id)

    def create_port(self, who: Who, request: PortCreate | Mapping[str, Any] | None = None, **attrs: Any) -> Record:
        return self.parts.ports.create(_ctx(who), given(typed(PortCreate, request or attrs)))

    def create_device_port(self, who: Who, port: DevicePort) -> Record:
        """A port for a service's own device (Nova's for a server it makes), from the records the
        service read: not validated again as a request from outside is."""
        return self.parts.ports.create(_ctx(who), port.attrs(), port)

    def update_port(
        self, who: Who, id: str, request: PortUpdate | Mapping[str, Any], if_match: str | None = None
    ) -> Record:
        return self.parts.ports.update(_ctx(who), id, given(typed(PortUpdate, request)), if_match)

    def delete_port(self, who: Who, id: str) -> None:
        self.parts.ports.delete(_ctx(who), id)

    def bind_port(
        self,
        who: Who,
        id: str,
        host: str,
        *,
        device_id: str | None = None,
        device_owner: str | None = None,
        profile: dict[str, Any] | None = None,
        vnic_type: str | None = None,
        made: Record | None = None,
    ) -> Record:
        """Bind a port the caller can see to a compute host (what Nova does when a server boots): ``ACTIVE``.

        ``made``: (Nova's own binding) the port as :meth:`create_device_port` returned it in the
        transaction this runs in, so it is not read again (unless written since); not changed."""
        if who is None and profile is None and vnic_type is None:
            # Nova's own binding as a server builds: plain fields, which no rule checks for an admin
            plain = {"binding:host_id": host or "", "device_id": device_id, "device_owner": device_owner}
            return self.parts.ports.bind(id, {k: v or "" for k, v in plain.items() if v is not None}, made)
        return self._bind_checked(who, id, host, device_id, device_owner, profile, vnic_type)

    @atomic
    def _bind_checked(
        self,
        who: Who,
        id: str,
        host: str,
        device_id: str | None,
        device_owner: str | None,
        profile: dict[str, Any] | None,
        vnic_type: str | None,
    ) -> Record:
        """:meth:`bind_port` as a port update: the caller must see the port, the update's rules apply."""
        change = PortUpdate(binding_host_id=host)
        for field, value in (
            ("device_id", device_id),
            ("device_owner", device_owner),
            ("binding_profile", profile),
            ("binding_vnic_type", vnic_type),
        ):
            if value is not None:
                setattr(change, field, value)
        self.get(who, "port", id)
        return self.parts.ports.update(_ctx(None), id, given(change))

    @atomic
    def unbind_port(self, who: Who, id: str, clear_device: bool = True) -> Record:
        """Undo :meth:`bind_port` (a server deleted or an interface detached): ``DOWN``."""
        change = PortUpdate(binding_host_id="", binding_profile={})
        if clear_device:
            change.device_id, change.device_owner = "", ""
        self.get(who, "port", id)
        return self.parts.ports.update(_ctx(None), id, given(change))

    # -- routers and floating IPs -------------------------------------------------------------

    def create_router(self, who: Who, request: RouterCreate | Mapping[str, Any]) -> Record:
        return self.parts.routers.create(_ctx(who), given(typed(RouterCreate, request)))

    def update_router(
        self, who: Who, id: str, request: RouterUpdate | Mapping[str, Any], if_match: str | None = None
    ) -> Record:
        return self.parts.routers.update(_ctx(who), id, given(typed(RouterUpdate, request)), if_match)

    def delete_router(self, who: Who, id: str) -> None:
        self.parts.routers.delete(_ctx(who), id)

    def add_router_interface(
        self, who: Who, router_id: str, subnet_id: str | None = None, port_id: str | None = None
    ) -> Record:
        """Plug the router into a subnet (a new port on its gateway address) or onto a port; Neutron's answer."""
        return self.parts.routers.add_interface(_ctx(who), router_id, subnet_id, port_id)

    def remove_router_interface(
        self, who: Who, router_id: str, subnet_id: str | None = None, port_id: str | None = None
    ) -> Record:
        return self.parts.routers.remove_interface(_ctx(who), router_id, subnet_id, port_id)

    def add_extra_routes(self, who: Who, router_id: str, routes: list[Route]) -> Record:
        """Add static routes (extraroute-atomic); ones the router has already are kept once."""
        return self.parts.routers.add_routes(_ctx(who), router_id, [given(r) for r in routes])

    def remove_extra_routes(self, who: Who, router_id: str, routes: list[Route]) -> Record:
        return self.parts.routers.remove_routes(_ctx(who), router_id, [given(r) for r in routes])

    def create_floating_ip(self, who: Who, request: FloatingIPCreate | Mapping[str, Any]) -> Record:
        return self.parts.floating_ips.create(_ctx(who), given(typed(FloatingIPCreate, request)))

    def update_floating_ip(
        self, who: Who, id: str, request: FloatingIPUpdate | Mapping[str, Any], if_match: str | None = None
    ) -> Record:
        """Change a floating IP; ``FloatingIPUpdate(port_id=...)`` associates it, ``port_id=None`` lets go."""
        return self.parts.floating_ips.update(_ctx(who), id, given(typed(FloatingIPUpdate, request)), if_match)

    def delete_floating_ip(self, who: Who, id: str) -> None:
        self.parts.floating_ips.delete(_ctx(who), id)

    # -- security groups -------------------------------------------------------------------------

    def create_security_group(self, who: Who, request: SecurityGroupCreate | Mapping[str, Any]) -> Record:
        return self.parts.security.create(_ctx(who), given(typed(SecurityGroupCreate, request)))

    def update_security_group(
        self, who: Who, id: str, request: SecurityGroupUpdate | Mapping[str, Any], if_match: str | None = None
    ) -> Record:
        return self.parts.security.update(_ctx(who), id, given(typed(SecurityGroupUpdate, request)), if_match)

    def delete_security_group(self, who: Who, id: str) -> None:
        self.parts.security.delete(_ctx(who), id)

    def create_security_group_rule(self, who: Who, request: SecurityGroupRuleCreate | Mapping[str, Any]) -> Record:
        return self.parts.security.create_rule(_ctx(who), given(typed(SecurityGroupRuleCreate, request)))

    def delete_security_group_rule(self, who: Who, id: str) -> None:
        self.parts.security.delete_rule(_ctx(who), id)

    # -- subnet pools and address scopes ------------------------------------------------------------

    def create_subnet_pool(self, who: Who, request: SubnetPoolCreate) -> Record:
        return self.parts.pools.create(_ctx(who), given(request))

    def update_subnet_pool(self, who: Who, id: str, request: SubnetPoolUpdate, if_match: str | None = None) -> Record:
        return self.parts.pools.update(_ctx(who), id, given(request), if_match)

    def delete_subnet_pool(self, who: Who, id: str) -> None:
        self.parts.pools.delete(_ctx(who), id)

    def add_subnet_pool_prefixes(self, who: Who, id: str, prefixes: list[str]) -> list[str]:
        """Widen a pool (subnetpool-prefix-ops); the pool's prefixes after."""
        return self.parts.pools.change_prefixes(_ctx(who), id, prefixes, add=True)

    def remove_subnet_pool_prefixes(self, who: Who, id: str, prefixes: list[str]) -> list[str]:
        return self.parts.pools.change_prefixes(_ctx(who), id, prefixes, add=False)

    def create_address_scope(self, who: Who, request: AddressScopeCreate) -> Record:
        return self.parts.scopes.create(_ctx(who), given(request))

    def update_address_scope(
        self, who: Who, id: str, request: AddressScopeUpdate, if_match: str | None = None
    ) -> Record:
        return self.parts.scopes.update(_ctx(who), id, given(request), if_match)

    def delete_address_scope(self, who: Who, id: str) -> None:
        self.parts.scopes.delete(_ctx(who), id)

    # -- RBAC, QoS, trunks ------------------------------------------------------------------------------

    def create_rbac_policy(self, who: Who, request: RbacPolicyCreate) -> Record:
        """Share an object with a project (or ``*``): see :mod:`.rbac`."""
        return self.parts.rbac.create(_ctx(who), given(request))

    def update_rbac_policy(self, who: Who, id: str, request: RbacPolicyUpdate, if_match: str | None = None) -> Record:
        return self.parts.rbac.update(_ctx(who), id, given(request), if_match)

    def delete_rbac_policy(self, who: Who, id: str) -> None:
        self.parts.rbac.delete(_ctx(who), id)

    def create_qos_policy(self, who: Who, request: QosPolicyCreate) -> Record:
        return self.parts.qos.create(_ctx(who), given(request))

    def update_qos_policy(self, who: Who, id: str, request: QosPolicyUpdate, if_match: str | None = None) -> Record:
        return self.parts.qos.update(_ctx(who), id, given(request), if_match)

    def delete_qos_policy(self, who: Who, id: str) -> None:
        self.parts.qos.delete(_ctx(who), id)

    def qos_rules(self, who: Who, rule_type: str, policy_id: str) -> list[Record]:
        """A policy's rules of one type (``bandwidth_limit``, ``dscp_marking``, ``minimum_bandwidth``)."""
        return self.parts.qos.rules(_ctx(who), rule_type, policy_id)

    def qos_rule(self, who: Who, rule_type: str, policy_id: str, rule_id: str) -> Record:
        return self.parts.qos.rule(_ctx(who), rule_type, policy_id, rule_id)

    def create_qos_rule(self, who: Who, policy_id: str, request: Any) -> Record:
        """A new rule; its type is the request's (:class:`BandwidthLimitRule`, :class:`DscpMarkingRule`,
        :class:`MinimumBandwidthRule`)."""
        return self.parts.qos.create_rule(_ctx(who), _rule_type(request), policy_id, given(request))

    def update_qos_rule(self, who: Who, policy_id: str, rule_id: str, request: Any) -> Record:
        return self.parts.qos.update_rule(_ctx(who), _rule_type(request), policy_id, rule_id, given(request))

    def delete_qos_rule(self, who: Who, rule_type: str, policy_id: str, rule_id: str) -> None:
        self.parts.qos.delete_rule(_ctx(who), rule_type, policy_id, rule_id)

    def qos_rule_types(self) -> list[dict[str, Any]]:
        return [{"type": name} for name in qos.RULE_TYPES]

    def qos_rule_type(self, name: str) -> dict[str, Any]:
        return qos.rule_type(name)

    def create_trunk(self, who: Who, request: TrunkCreate) -> Record:
        return self.parts.trunks.create(_ctx(who), given(request))

    def update_trunk(self, who: Who, id: str, request: TrunkUpdate, if_match: str | None = None) -> Record:
        return self.parts.trunks.update(_ctx(who), id, given(request), if_match)

    def delete_trunk(self, who: Who, id: str) -> None:
        self.parts.trunks.delete(_ctx(who), id)

    def add_trunk_subports(self, who: Who, id: str, sub_ports: list[SubPort]) -> Record:
        return self.parts.trunks.add_subports(_ctx(who), id, [given(s) for s in sub_ports])

    def remove_trunk_subports(self, who: Who, id: str, port_ids: list[str]) -> Record:
        return self.parts.trunks.remove_subports(_ctx(who), id, [{"port_id": p} for p in port_ids])

    # -- auto-allocation ----------------------------------------------------------------------------------

    def auto_allocated_topology(self, who: Who, project_id: str | None, dry_run: bool = False) -> Record:
        """A project's auto-allocated network (made on the first call), or with ``dry_run`` only a check."""
        if dry_run:
            return self.parts.topology.check(_ctx(who), project_id)
        return self.parts.topology.get(_ctx(who), project_id)

    def delete_auto_allocated_topology(self, who: Who, project_id: str | None) -> None:
        self.parts.topology.delete(_ctx(who), project_id)

    # -- tags -------------------------------------------------------------------------------------------------

    def _tagged(self, who: Who, kind: str, id: str) -> tuple[Context, Record]:
        if kind not in TAGGABLE:
            raise ValueError(f"{kind} records carry no tags")
        ctx = _ctx(who)
        return ctx, self.get(ctx, kind, id)

    def tags(self, who: Who, kind: str, id: str) -> list[str]:
        return list(self._tagged(who, kind, id)[1]["tags"])

    @atomic
    def set_tags(self, who: Who, kind: str, id: str, tags: list[str]) -> list[str]:
        """Replace the tags (at most 50, each at most 255 characters)."""
        ctx, _ = self._tagged(who, kind, id)
        record = self.parts.access.writable(ctx, kind, id, f"update_{kind}:tags")
        return apply(self.store, kind, record, {"tags": check_tags(tags, TAGGABLE[kind])})["tags"]

    @atomic
    def add_tags(self, who: Who, kind: str, id: str, tags: list[str]) -> list[str]:
        """Add tags to those held (tag-creation); Neutron answers with the tags given."""
        if len(tags) > MAX_TAGS:
            raise too_many_tags(TAGGABLE[kind])
        current = self.tags(who, kind, id)
        self.set_tags(who, kind, id, [*current, *(check_tag(t) for t in tags)])
        return sorted(set(tags))

    @atomic
    def add_tag(self, who: Who, kind: str, id: str, tag: str) -> list[str]:
        return self.set_tags(who, kind, id, [*self.tags(who, kind, id), check_tag(tag)])

    @atomic
    def remove_tag(self, who: Who, kind: str, id: str, tag: str) -> list[str]:
        current = self.tags(who, kind, id)
        if tag not in current:
            raise faults.NotFound(f"Tag {tag} could not be found.", kind="TagNotFound")
        return self.set_tags(who, kind, id, [t for t in current if t != tag])

    # -- quotas ------------------------------------------------------------------------------------------------

    def quota(self, who: Who, project_id: str) -> dict[str, int]:
        """A project's limits (the caller's own, or any project's for an admin)."""
        return self.parts.quotas.limits(self._quota_project(who, project_id))

    def quota_usage(self, project_id: str, resource: str) -> tuple[int, int] | None:
        """A project's limit on ``resource`` and what it uses of it, for Nova's checks before it makes
        ports; None when unlimited (then nothing is counted)."""
        limit = self.parts.quotas.limits(project_id).get(resource, -1)
        return None if limit < 0 else (limit, self.parts.quotas.used(project_id, resource))

    def quota_details(self, who: Who, project_id: str) -> dict[str, dict[str, int]]:
        return self.parts.quotas.details(self._quota_project(who, project_id))

    def quota_defaults(self, who: Who, project_id: str) -> dict[str, int]:
        self._quota_project(who, project_id)
        return dict(DEFAULTS)

    def update_quota(self, who: Who, project_id: str, request: QuotaValues) -> dict[str, int]:
        values = given(request)
        check = bool(values.pop("check_limit", False))
        return self.parts.quotas.update(_ctx(who), project_id, values, check_limit=check)

    def reset_quota(self, who: Who, project_id: str) -> None:
        self.parts.quotas.reset(_ctx(who), project_id)

    def quotas(self, who: Who) -> list[tuple[str, dict[str, int]]]:
        """Every project whose limits differ from the defaults (admin only)."""
        if not _ctx(who).is_admin:
            raise faults.Forbidden("rule:get_quota is disallowed by policy", kind="PolicyNotAuthorized")
        return self.parts.quotas.overridden()

    @staticmethod
    def _quota_project(who: Who, project_id: str) -> str:
        ctx = _ctx(who)
        if project_id != ctx.project_id and not ctx.is_admin:
            raise faults.Forbidden(
                "User does not have admin privileges: Only admin is authorized to access quotas for another tenant.",
                kind="AdminRequired",
            )
        return project_id

    # -- what the cloud offers --------------------------------------------------------------------------------

    @staticmethod
    def extensions() -> list[dict[str, Any]]:
        return extensions.extensions()

    @staticmethod
    def availability_zones() -> list[dict[str, str]]:
        """The zones of the DHCP (network) and L3 (router) agents: one, ``nova``."""
        return [{"name": ZONE, "resource": r, "state": "available"} for r in ("network", "router")]

    @staticmethod
    def service_providers() -> list[dict[str, Any]]:
        return [dict(p) for p in SERVICE_PROVIDERS]

    # -- for callers written before the typed interface ----------------------------------------------------------

    def load(self, who: Who, kind: str, id: str) -> Record:
        """Same as :meth:`get`."""
        return self.get(who, kind, id)

    def visible(self, who: Who, kind: str, where: Where | None = None) -> list[Record]:
        """Same as :meth:`list`."""
        return self.list(who, kind, where)

    def can_see(self, ctx: Context, kind: str, record: Record) -> bool:
        return self.parts.access.can_see(ctx, kind, record)

    @property
    def security(self) -> SecurityGroups:
        """The security-group rules (``default_id``); new code calls :meth:`default_security_group`."""
        return self.parts.security

    @property
    def l3(self) -> Networking:
        """Routers and floating IPs are on the facade itself now."""
        return self


def _rule_type(request: Any) -> str:
    for name, cls in QOS_RULES.items():
        if isinstance(request, cls):
            return name
    raise TypeError(f"not a QoS rule request: {request!r}")
