"""Ports: addresses, MACs, security groups and port security, bindings, DHCP options, QoS.

Ports that Neutron's own services make (DHCP, router interfaces and gateways,
floating IPs) come from :meth:`Ports.new_port`, with no policy or quota; the
rest from :meth:`Ports.create`, with both. A port's owner and the owner of its
network may change it; only an admin binds it (Nova's compute service binds
through the facade's ``bind_port``, acting as the cloud).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, ClassVar

from stacksim import faults
from stacksim.auth import Context
from stacksim.services.network import ipam
from stacksim.services.network.common import (
    FLOATINGIP,
    SERVICE_OWNERS,
    Part,
    admin_only,
    apply,
    basics,
    check_tags,
    denied,
    not_found,
    owner_of,
    stamp,
    touch,
)
from stacksim.services.network.subnets import NETWORK_HOST
from stacksim.store import MissingRecord, atomic

if TYPE_CHECKING:
    pass

VNIC_TYPES = (
    "normal",
    "direct",
    "macvtap",
    "baremetal",
    "direct-physical",
    "virtio-forwarder",
    "smart-nic",
    "vdpa",
    "remote-managed",
)
MAX_ADDRESS_PAIRS = 10
FIELDS = (
    "name",
    "description",
    "admin_state_up",
    "mac_address",
    "fixed_ips",
    "device_id",
    "device_owner",
    "security_groups",
    "allowed_address_pairs",
    "port_security_enabled",
    "binding:host_id",
    "binding:profile",
    "binding:vnic_type",
    "extra_dhcp_opts",
    "qos_policy_id",
)


@dataclasses.dataclass(frozen=True, slots=True)
class DevicePort:
    """A port a service asks for a device of its own (Nova's port for a server it is making): the
    network and security groups as records the caller read (as the port's maker, after ensuring the
    project's ``default`` group) and values it made, so nothing is validated or read again.

    ``read_at`` is the store's ``writes(DevicePort.READS)`` taken before those reads: if any network
    or security group was written since, the port is made from fresh reads instead.
    """

    READS: ClassVar[tuple[str, ...]] = ("network", "security_group")

    network: dict[str, Any]
    project_id: str
    device_id: str
    device_owner: str
    read_at: int
    security_groups: tuple[dict[str, Any], ...] | None = None  # None: as the network's port security says
    fixed_ip: str | None = None

    def attrs(self) -> dict[str, Any]:
        """The port's attributes as a checked create request gives them."""
        attrs: dict[str, Any] = {
            "network_id": self.network["id"],
            "device_id": self.device_id,
            "device_owner": self.device_owner,
            "project_id": self.project_id,
        }
        if self.security_groups is not None:
            attrs["security_groups"] = [g["id"] for g in self.security_groups]
        if self.fixed_ip:
            attrs["fixed_ips"] = [{"ip_address": self.fixed_ip}]
        return attrs


class Ports(Part):
    @atomic
    def new_port(
        self,
        network: dict[str, Any],
        project_id: str,
        *,
        fixed_ips: list[dict[str, Any]] | None = None,
        device_owner: str = "",
        device_id: str = "",
        name: str = "",
        bound: bool = False,
        status: str | None = None,
        mac_address: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Record a port as Neutron's services do (no policy, no quota): DHCP, routers, floating IPs."""
        parts = self.net.parts
        mac = parts.addresses.mac(network["id"], mac_address)
        record = stamp(
            {
                "name": name,
                "project_id": project_id,
                "network_id": network["id"],
                "mac_address": mac,
                "admin_state_up": True,
                "status": status or ("ACTIVE" if bound else "DOWN"),
                "device_id": device_id,
                "device_owner": device_owner,
                "fixed_ips": parts.addresses.allocate(network, fixed_ips, mac),
                "allowed_address_pairs": [],
                "security_groups": [],
                "port_security_enabled": False
                if device_owner.startswith("network:")
                else network["port_security_enabled"],
                "binding:host_id": NETWORK_HOST if bound else "",
                "binding:profile": {},
                "binding:vnic_type": "normal",
                "ip_allocation": "immediate",
                "extra_dhcp_opts": [],
                "qos_policy_id": None,
            }
        )
        record.update(extra)
        return self.store.add("port", record)

    @atomic
    def create(self, ctx: Context, attrs: dict[str, Any], read: DevicePort | None = None) -> dict[str, Any]:
        """A port from a checked request; ``read``: the records its caller read for it, used as they
        are while no network or security group was written since (no second read of either)."""
        parts = self.net.parts
        current = read is not None and self.store.writes(DevicePort.READS) == read.read_at
        network = read.network if current else parts.access.load(ctx, "network", attrs.get("network_id") or "")
        owner = owner_of(ctx, attrs)
        net_owner = ctx.is_admin or network["project_id"] == owner
        if not net_owner and not parts.access.shared_for(ctx, "network", network):
            raise faults.Forbidden(f"Tenant {owner} not allowed to create port on this network", kind="HTTPForbidden")
        admin_only(ctx, "create_port", attrs, {"binding:host_id": "", "binding:profile": {}})
        if not net_owner:
            if attrs.get("mac_address") is not None:
                raise denied("create_port:mac_address")
            if any("ip_address" in ip for ip in attrs.get("fixed_ips") or []):
                raise denied("create_port:fixed_ips:ip_address")
            if str(attrs.get("device_owner") or "").startswith("network:"):
                raise denied("create_port:device_owner")
        device_owner = attrs.get("device_owner") or ""
        security = attrs.get("port_security_enabled")
        if security is None:
            security = network["port_security_enabled"]
        if not current:  # (the caller that read the records ensured the default group first)
            self.net.ensure_project(owner)
        parts.quotas.check(owner, "port")
        mac = parts.addresses.mac(network["id"], attrs.get("mac_address"))
        groups = attrs.get("security_groups")
        if groups is None:
            groups = [] if not security or device_owner.startswith("network:") else [parts.security.default_id(owner)]
        else:
            known = {g["id"]: g for g in read.security_groups or ()} if current else {}
            groups = parts.security.check_for_port(ctx, owner, groups, known)
        fixed = parts.addresses.allocate(network, attrs.get("fixed_ips"), mac)
        pairs = self._address_pairs(attrs.get("allowed_address_pairs") or [], mac)
        self._check_port_security(security, groups, pairs)
        host = attrs.get("binding:host_id") or ""
        admin_up = attrs.get("admin_state_up", True)
        qos = parts.qos.usable(ctx, attrs["qos_policy_id"]) if attrs.get("qos_policy_id") else None
        record = stamp(
            {
                **basics(attrs, owner),
                "network_id": network["id"],
                "mac_address": mac,
                "admin_state_up": admin_up,
                "status": "ACTIVE" if host and admin_up else "DOWN",
                "device_id": attrs.get("device_id") or "",
                "device_owner": device_owner,
                "fixed_ips": fixed,
                "allowed_address_pairs": pairs,
                "security_groups": groups,
                "port_security_enabled": security,
                "binding:host_id": host,
                "binding:profile": attrs.get("binding:profile") or {},
                "binding:vnic_type": self._vnic(attrs.get("binding:vnic_type")),
                "ip_allocation": "immediate",
                "extra_dhcp_opts": self._dhcp_options([], attrs.get("extra_dhcp_opts") or []),
                "qos_policy_id": qos,
            }
        )
        return self.store.add("port", record)

    @staticmethod
    def _vnic(value: str | None) -> str:
        if value is None:
            return "normal"
        if value not in VNIC_TYPES:
            raise ipam.invalid("binding:vnic_type", f"{value} is not in {list(VNIC_TYPES)}")
        return value

    @staticmethod
    def _address_pairs(pairs: list[dict[str, Any]], mac: str) -> list[dict[str, str]]:
        if len(pairs) > MAX_ADDRESS_PAIRS:
            raise faults.BadRequest(
                f"Exceeded maximum amount of allowed address pairs {MAX_ADDRESS_PAIRS}",
                kind="AllowedAddressPairExhausted",
            )
        checked: list[dict[str, str]] = []
        for pair in pairs:
            if not pair.get("ip_address"):
                raise faults.BadRequest(
                    "AllowedAddressPair must contain ip_address", kind="AllowedAddressPairsMissingIP"
                )
            entry = {
                "ip_address": ipam.parse_ip_or_cidr(pair["ip_address"], "allowed_address_pairs"),
                "mac_address": ipam.check_mac(pair["mac_address"]) if pair.get("mac_address") else mac,
            }
            if entry in checked:
                raise faults.BadRequest(
                    f"Request contains duplicate address pair: mac_address {entry['mac_address']} "
                    f"ip_address {entry['ip_address']}.",
                    kind="DuplicateAddressPairInRequest",
                )
            checked.append(entry)
        return checked

    @staticmethod
    def _check_port_security(security: bool, groups: list[str], pairs: list[Any]) -> None:
        if not security and groups:
            raise faults.BadRequest(
                "Port security must be enabled and port must have an IP address in order to use security groups.",
                kind="PortSecurityAndIPRequiredForSecurityGroups",
            )
        if not security and pairs:
            raise faults.Conflict(
                "Port Security must be enabled in order to have allowed address pairs on a port.",
                kind="AddressPairAndPortSecurityRequired",
            )

    @atomic
    def update(self, ctx: Context, id: str, changes: dict[str, Any], if_match: str | None = None) -> dict[str, Any]:
        parts = self.net.parts
        record, changes = self.editable(ctx, "port", id, changes, FIELDS, if_match)
        admin_only(
            ctx,
            "update_port",
            changes,
            {"binding:host_id": record["binding:host_id"], "binding:profile": record["binding:profile"]},
        )
        network = self.store.get("network", record["network_id"])
        assert network is not None
        net_owner = ctx.is_admin or network["project_id"] == ctx.project_id
        if "mac_address" in changes:
            changes["mac_address"] = ipam.check_mac(changes["mac_address"])
        if "mac_address" in changes and changes["mac_address"] != record["mac_address"]:
            if not net_owner:
                raise denied("update_port:mac_address")
            if record["binding:host_id"]:
                raise faults.Conflict(
                    f"Unable to complete operation on port {id}, port is already bound, port type: ovs, "
                    f"old_mac {record['mac_address']}, new_mac {changes['mac_address']}.",
                    kind="PortBound",
                )
            changes["mac_address"] = parts.addresses.mac(network["id"], changes["mac_address"])
        mac = changes.get("mac_address", record["mac_address"])
        if "fixed_ips" in changes:
            if not net_owner and any("ip_address" in ip for ip in changes["fixed_ips"] or []):
                raise denied("update_port:fixed_ips:ip_address")
            requests = []
            # An entry with only a subnet keeps an address the port has there, unless another entry asks for it.
            asked = {req["ip_address"] for req in changes["fixed_ips"] or [] if "ip_address" in req}
            spare = [ip for ip in record["fixed_ips"] if ip["ip_address"] not in asked]
            for req in changes["fixed_ips"] or []:
                if "ip_address" not in req:
                    held = next((ip for ip in spare if ip["subnet_id"] == req.get("subnet_id")), None)
                    if held:
                        spare.remove(held)
                        req = held
                requests.append(req)
            changes["fixed_ips"] = parts.addresses.allocate(network, requests, mac, exclude_port=id)
        if "binding:vnic_type" in changes:
            changes["binding:vnic_type"] = self._vnic(changes["binding:vnic_type"])
        if "binding:host_id" in changes:
            changes["binding:host_id"] = changes["binding:host_id"] or ""
        if "binding:profile" in changes:
            changes["binding:profile"] = changes["binding:profile"] or {}
        if "device_id" in changes:
            changes["device_id"] = changes["device_id"] or ""
        if "device_owner" in changes:
            changes["device_owner"] = changes["device_owner"] or ""
        if "tags" in changes:
            changes["tags"] = check_tags(changes["tags"])
        if "extra_dhcp_opts" in changes:
            changes["extra_dhcp_opts"] = self._dhcp_options(record["extra_dhcp_opts"], changes["extra_dhcp_opts"] or [])
        if "qos_policy_id" in changes:
            changes["qos_policy_id"] = parts.qos.usable(ctx, changes["qos_policy_id"])
        security = changes.get("port_security_enabled", record["port_security_enabled"])
        if "security_groups" in changes:
            changes["security_groups"] = parts.security.check_for_port(
                ctx, record["project_id"], changes["security_groups"] or []
            )
        groups = changes.get("security_groups", record["security_groups"])
        if "allowed_address_pairs" in changes:
            changes["allowed_address_pairs"] = self._address_pairs(changes["allowed_address_pairs"] or [], mac)
        pairs = changes.get("allowed_address_pairs", record["allowed_address_pairs"])
        if not security and groups and "port_security_enabled" in changes and "security_groups" not in changes:
            raise faults.Conflict(
                "Port has security group associated. Cannot disable port security or ip address until "
                "security group is removed",
                kind="PortSecurityPortHasSecurityGroup",
            )
        self._check_port_security(security, groups, pairs)
        merged = {**record, **changes}
        changes["status"] = self._status(merged)
        updated = apply(self.store, "port", record, changes)
        if "fixed_ips" in changes:
            parts.floating_ips.port_addresses_changed(updated)
        if {"security_groups", "port_security_enabled", "fixed_ips", "allowed_address_pairs"} & set(changes):
            self.net.events.port_updated(updated)
        return updated

    def bind(self, id: str, changes: dict[str, Any], made: dict[str, Any] | None = None) -> dict[str, Any]:
        """Set fields no rule checks (a binding's host, a device: what Nova sets as a server builds)
        as an admin's :meth:`update` of them would, in one read-modify-write of the port.

        ``made``: the port as :meth:`create` wrote it (revision 1) in the transaction this runs in:
        a copy of it is changed and written, not read again, while the port is still at that
        revision (else it is read as without). ``made`` itself is left as it is."""

        def change(record: dict[str, Any]) -> dict[str, Any] | None:
            wanted = {**changes, "status": self._status({**record, **changes})}
            if all(record.get(k) == v for k, v in wanted.items()):
                return None
            record.update(wanted)
            return touch(record)

        current = (dict(made), 1) if made is not None and made["id"] == id else None
        try:
            return self.store.update("port", id, change, current=current)
        except MissingRecord:
            raise not_found("port", id) from None

    @staticmethod
    def _status(port: dict[str, Any]) -> str:
        if port["device_owner"] == FLOATINGIP:
            return "N/A"
        return "ACTIVE" if port["binding:host_id"] and port["admin_state_up"] else "DOWN"

    @atomic
    def delete(self, ctx: Context, id: str) -> None:
        parts = self.net.parts
        record = parts.access.writable(ctx, "port", id, "delete_port")
        if record["device_owner"] in SERVICE_OWNERS:
            raise faults.Conflict(
                f"Port {id} cannot be deleted directly via the port API: has device owner {record['device_owner']}.",
                kind="ServicePortInUse",
            )
        parts.trunks.check_port_free(record)
        parts.floating_ips.port_deleted(record)
        self.store.delete("port", id)

    @staticmethod
    def _dhcp_options(current: list[dict[str, Any]], given: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``extra_dhcp_opts`` after a create or an update: an option given again (by name and IP
        version) replaces the one held, one given with a None value goes, the rest stay."""
        held = {(o["opt_name"], o["ip_version"]): o for o in current}
        for option in given:
            version = option.get("ip_version", 4)
            if version not in (4, 6):
                raise ipam.invalid("extra_dhcp_opts", f"{version} is not in [4, 6]")
            key = (option["opt_name"], version)
            if option.get("opt_value") is None:
                held.pop(key, None)
            else:
                held[key] = {"opt_name": option["opt_name"], "opt_value": option["opt_value"], "ip_version": version}
        return list(held.values())
