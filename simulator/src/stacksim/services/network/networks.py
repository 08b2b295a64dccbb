"""Networks: provider segments and MTU, sharing and external access, the default external network, QoS.

``shared`` and ``router:external`` are kept as RBAC policies for ``*``, as in
Neutron (see :mod:`.rbac`): setting one makes the policy, clearing it removes
it, and a policy for one project shares the network with that project alone.
Only an admin sets either, or the provider attributes, or ``is_default`` (the
external network that auto-allocation uses; one at most). A network without
``qos_policy_id`` gets its project's default QoS policy, if it has one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stacksim import faults
from stacksim.auth import Context
from stacksim.services.network import ipam
from stacksim.services.network.access import EXTERNAL, SHARED
from stacksim.services.network.common import (
    AUTO_DELETE_OWNERS,
    SERVICE_OWNERS,
    Part,
    admin_only,
    apply,
    basics,
    check_tags,
    denied,
    owner_of,
    stamp,
)
from stacksim.store import atomic

if TYPE_CHECKING:
    pass

#: The largest MTU of each network type (a 1500-byte underlay).
MAX_MTU = {"flat": 1500, "vlan": 1500, "local": 1500, "vxlan": 1450, "gre": 1458, "geneve": 1442}
#: The one availability zone: where the DHCP and L3 agents run.
ZONE = "nova"
FIELDS = (
    "name",
    "description",
    "admin_state_up",
    "shared",
    "router:external",
    "mtu",
    "port_security_enabled",
    "is_default",
    "qos_policy_id",
)


def check_zones(hints: list[str]) -> list[str]:
    """Availability zone hints name zones that exist (``AvailabilityZoneNotFound`` otherwise)."""
    for hint in hints:
        if hint != ZONE:
            raise faults.NotFound(f"AvailabilityZone {hint} could not be found.", kind="AvailabilityZoneNotFound")
    return list(hints)


class Networks(Part):
    def subnet_ids(self, network_id: str) -> list[str]:
        return [s["id"] for s in self.store.find("subnet", network_id=network_id)]

    @atomic
    def create(self, ctx: Context, attrs: dict[str, Any]) -> dict[str, Any]:
        parts = self.net.parts
        owner = owner_of(ctx, attrs)
        admin_only(
            ctx,
            "create_network",
            attrs,
            {
                "shared": False,
                "router:external": False,
                "is_default": False,
                "provider:network_type": None,
                "provider:physical_network": None,
                "provider:segmentation_id": None,
            },
        )
        external = bool(attrs.get("router:external", False))
        ntype, physnet, segment = self._provider(
            attrs.get("provider:network_type") or ("flat" if external else "geneve"),
            attrs.get("provider:physical_network")
            or ("public" if external and not attrs.get("provider:network_type") else None),
            attrs.get("provider:segmentation_id"),
        )
        record = stamp(
            {
                **basics(attrs, owner),
                "admin_state_up": attrs.get("admin_state_up", True),
                "status": "ACTIVE",
                "shared": bool(attrs.get("shared", False)),
                "router:external": external,
                "is_default": False,
                "mtu": self._mtu(ntype, attrs.get("mtu")),
                "port_security_enabled": attrs.get("port_security_enabled", True),
                "provider:network_type": ntype,
                "provider:physical_network": physnet,
                "provider:segmentation_id": segment,
                "availability_zone_hints": check_zones(attrs.get("availability_zone_hints") or []),
                "qos_policy_id": None,
            }
        )
        if "qos_policy_id" in attrs:
            record["qos_policy_id"] = parts.qos.usable(ctx, attrs["qos_policy_id"])
        else:
            record["qos_policy_id"] = parts.qos.default_for(owner)
        # Chosen in the transaction that writes it: two creates never take the same one.
        record["provider:segmentation_id"] = self._segment(ntype, physnet, segment)
        self.net.ensure_project(owner)
        parts.quotas.check(owner, "network")
        if external and attrs.get("is_default"):
            record["is_default"] = self._default_external(record["id"])
        self.store.put("network", record)
        for flag, action in (("shared", SHARED), ("router:external", EXTERNAL)):
            if record[flag]:
                parts.rbac.wildcard("network", record, action, True)
        return record

    def _provider(self, ntype: str, physnet: str | None, segment: Any) -> tuple[str, str | None, int | None]:
        """The provider attributes checked; the segment is chosen later, by :meth:`_segment`."""
        if ntype not in MAX_MTU:
            raise ipam.invalid_input(f"network_type value '{ntype}' not supported")
        if ntype in ("flat", "vlan") and not physnet:
            raise ipam.invalid_input(f"physical_network required for {ntype} provider network")
        if ntype not in ("flat", "vlan") and physnet:
            raise ipam.invalid_input(f"physical_network not allowed for {ntype} provider network")
        if ntype in ("flat", "local"):
            if segment is not None:
                raise ipam.invalid_input(f"segmentation_id not allowed for {ntype} provider network")
            return ntype, physnet, None
        if ntype == "vlan" and (segment is None or not 1 <= int(segment) <= 4094):
            raise ipam.invalid_input("segmentation_id out of range (1 through 4094)")
        return ntype, physnet, None if segment is None else int(segment)

    def _segment(self, ntype: str, physnet: str | None, segment: int | None) -> int | None:
        """The segmentation id: the one asked for if free, else one past the highest (indexed)."""
        if ntype in ("flat", "local"):
            return None
        kind = {"provider:network_type": ntype}
        if segment is None:
            top = self.store.query("network", kind, order=[("provider:segmentation_id", True)], limit=1)
            return int((top[0]["provider:segmentation_id"] if top else 0) or 0) + 1
        same = {**kind, "provider:segmentation_id": segment, "provider:physical_network": physnet}
        if self.store.first("network", **same):
            raise faults.Conflict(
                f"Unable to create the network. The segmentation ID {segment} is in use.",
                kind="SegmentationIdInUse",
            )
        return segment

    @staticmethod
    def _mtu(ntype: str, mtu: Any) -> int:
        largest = MAX_MTU[ntype]
        if mtu is None:
            return largest
        if int(mtu) < 68:
            raise ipam.invalid("mtu", f"'{mtu}' is too small - must be at least '68'")
        if int(mtu) > largest:
            raise ipam.invalid_input(f"Requested MTU is too big, maximum is {largest}")
        return int(mtu)

    def _default_external(self, network_id: str) -> bool:
        """True, once no other network is the default external one (``DefaultExternalNetworkExists``)."""
        other = self.store.first("network", is_default=True)
        if other is not None and other["id"] != network_id:
            raise faults.Conflict(
                f"A default external network already exists: {other['id']}.", kind="DefaultExternalNetworkExists"
            )
        return True

    @atomic
    def update(self, ctx: Context, id: str, changes: dict[str, Any], if_match: str | None = None) -> dict[str, Any]:
        parts = self.net.parts
        record, changes = self.editable(ctx, "network", id, changes, FIELDS, if_match)
        for key in ("shared", "router:external", "is_default"):
            if key in changes and not ctx.is_admin:
                raise denied(f"update_network:{key}")
        if "mtu" in changes:
            changes["mtu"] = self._mtu(record["provider:network_type"], changes["mtu"])
        if "tags" in changes:
            changes["tags"] = check_tags(changes["tags"])
        if "qos_policy_id" in changes:
            changes["qos_policy_id"] = parts.qos.usable(ctx, changes["qos_policy_id"])
        ports = self.store.find("port", network_id=id)
        if record["shared"] and changes.get("shared") is False:
            parts.rbac.check_unshare(record, ports)
        gateways = any(p["device_owner"] in SERVICE_OWNERS for p in ports)
        if record["router:external"] and changes.get("router:external") is False and gateways:
            raise faults.Conflict(
                f"External network {id} cannot be updated to be made non-external, "
                "since it has existing gateway ports.",
                kind="ExternalNetworkInUse",
            )
        external = changes.get("router:external", record["router:external"])
        if changes.get("is_default") and external:
            self._default_external(id)
        if not external:
            changes["is_default"] = False
        for flag, action in (("shared", SHARED), ("router:external", EXTERNAL)):
            if flag in changes and bool(changes[flag]) != bool(record[flag]):
                parts.rbac.wildcard("network", record, action, bool(changes[flag]))
        return apply(self.store, "network", record, changes)

    @atomic
    def delete(self, ctx: Context, id: str) -> None:
        parts = self.net.parts
        parts.access.writable(ctx, "network", id, "delete_network")
        ports = self.store.find("port", network_id=id)
        if any(p["device_owner"] not in AUTO_DELETE_OWNERS for p in ports):
            raise faults.Conflict(
                f"Unable to complete operation on network {id}. "
                "There are one or more ports still in use on the network.",
                kind="NetworkInUse",
            )
        for port in ports:
            self.store.delete("port", port["id"])
        self.store.delete_where("subnet", network_id=id)
        parts.rbac.forget("network", id)
        self.store.delete("network", id)

    def address_scopes(self, network_id: str) -> dict[int, str | None]:
        """The address scope of each IP version of the network (from its subnets' pools)."""
        scopes: dict[int, str | None] = {4: None, 6: None}
        for subnet in self.store.find("subnet", network_id=network_id):
            pool = self.store.get("subnetpool", subnet["subnetpool_id"]) if subnet.get("subnetpool_id") else None
            if pool and pool.get("address_scope_id"):
                scopes[subnet["ip_version"]] = pool["address_scope_id"]
        return scopes
