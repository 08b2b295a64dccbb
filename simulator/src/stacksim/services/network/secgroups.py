"""Security groups and their rules, with each project's ``default`` group.

As in Neutron, a project gets its ``default`` group (ingress from members of the
group itself and egress anywhere, for IPv4 and IPv6) on its first networking
call, and every new group starts with the two egress rules.

A group may be shared with a project through RBAC (``access_as_shared``):
the project sees it and may put its ports in it. Not implemented: address
groups (``remote_address_group_id``), default-rule templates
(``/default-security-group-rules``).
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from stacksim import faults
from stacksim.auth import Context
from stacksim.services.network import ipam
from stacksim.services.network.common import (
    Part,
    apply,
    check_tags,
    not_found,
    owner_of,
    stamp,
    touch,
)
from stacksim.store import atomic

if TYPE_CHECKING:
    pass

#: Protocol names Neutron accepts, with their IANA numbers.
PROTOCOLS = {
    "ah": 51,
    "dccp": 33,
    "egp": 8,
    "esp": 50,
    "gre": 47,
    "hopopt": 0,
    "icmp": 1,
    "icmpv6": 58,
    "igmp": 2,
    "ipip": 4,
    "ipv6-encap": 41,
    "ipv6-frag": 44,
    "ipv6-icmp": 58,
    "ipv6-nonxt": 59,
    "ipv6-opts": 60,
    "ipv6-route": 43,
    "ospf": 89,
    "pgm": 113,
    "rsvp": 46,
    "sctp": 132,
    "tcp": 6,
    "udp": 17,
    "udplite": 136,
    "vrrp": 112,
}
PORT_PROTOCOLS = frozenset({6, 17, 33, 132, 136})
ICMP_PROTOCOLS = frozenset({1, 58})
ANY_PREFIX = {"IPv4": "0.0.0.0/0", "IPv6": "::/0"}
FIELDS = ("name", "description", "stateful")


def protocol_number(protocol: str | None) -> int | None:
    if protocol is None:
        return None
    return PROTOCOLS[protocol] if protocol in PROTOCOLS else int(protocol)


class SecurityGroups(Part):
    # -- groups ----------------------------------------------------------------------

    def default_group(self, project_id: str) -> dict[str, Any] | None:
        """The project's ``default`` group, if it has one: read by every port a server create makes,
        so kept until a security group is written (or a transaction rolls back); not to be changed."""
        return self.store.cached(
            ("security_group",),
            ("default", project_id),
            lambda: self.store.first("security_group", project_id=project_id, name="default"),
        )

    def ensure_default(self, project_id: str) -> dict[str, Any]:
        """The project's ``default`` group, made with Neutron's default rules if it has none."""
        found = self.default_group(project_id)
        if found is not None:
            return found
        with self.store.transaction():
            found = self.default_group(project_id)  # again, now that no one else can make it
            if found is not None:
                return found
            group = self._new_group(project_id, "default", "Default security group", True)
            for ethertype in ("IPv4", "IPv6"):
                self._new_rule(group, "ingress", ethertype, remote_group_id=group["id"])
            return group

    def default_id(self, project_id: str) -> str:
        return self.ensure_default(project_id)["id"]

    def _new_group(self, project_id: str, name: str, description: str, stateful: bool, **extra: Any) -> dict[str, Any]:
        group = stamp(
            {
                "name": name,
                "description": description,
                "project_id": project_id,
                "stateful": stateful,
                "shared": False,
                **extra,
            }
        )
        self.store.put("security_group", group)
        for ethertype in ("IPv4", "IPv6"):
            self._new_rule(group, "egress", ethertype)
        return group

    def groups(self, who: Context | str | None, where: dict[str, list[Any]] | None = None) -> list[dict[str, Any]]:
        """The groups the caller may see (for callers from before the facade's ``list``)."""
        return self.net.list(who, "security_group", where)

    def group(self, who: Context | str | None, id: str) -> dict[str, Any]:
        return self.net.security_group(who, id)

    def rules_of(self, group_id: str) -> list[dict[str, Any]]:
        return self.store.find("security_group_rule", security_group_id=group_id)

    @atomic
    def create(self, ctx: Context, attrs: dict[str, Any]) -> dict[str, Any]:
        owner = owner_of(ctx, attrs)
        name = attrs.get("name") or ""
        if name.lower() == "default":
            raise faults.Conflict("Default security group already exists.", kind="SecurityGroupDefaultAlreadyExists")
        tags = check_tags(attrs.get("tags") or [])
        self.net.ensure_project(owner)
        self.net.parts.quotas.check(owner, "security_group")
        return self._new_group(owner, name, attrs.get("description") or "", attrs.get("stateful", True), tags=tags)

    @atomic
    def update(self, ctx: Context, id: str, changes: dict[str, Any], if_match: str | None = None) -> dict[str, Any]:
        group, changes = self.editable(ctx, "security_group", id, changes, FIELDS, if_match)
        if "tags" in changes:
            changes["tags"] = check_tags(changes["tags"])
        if group["name"] == "default" and changes.get("name", "default") != "default":
            raise faults.Conflict(
                "Updating default security group not allowed.", kind="SecurityGroupCannotUpdateDefault"
            )
        if str(changes.get("name", "")).lower() == "default" and group["name"] != "default":
            raise faults.Conflict("Default security group already exists.", kind="SecurityGroupDefaultAlreadyExists")
        if "stateful" in changes and changes["stateful"] != group["stateful"] and self._in_use(id):
            raise faults.Conflict(
                f"Security Group {id} in use. Cannot change 'stateful' while ports use it.", kind="SecurityGroupInUse"
            )
        return apply(self.store, "security_group", group, changes)

    def _in_use(self, group_id: str) -> bool:
        return any(group_id in p["security_groups"] for p in self.store.find("port"))

    @atomic
    def delete(self, ctx: Context, id: str) -> None:
        group = self.net.parts.access.writable(ctx, "security_group", id, "delete_security_group")
        if group["name"] == "default" and not ctx.is_admin:
            raise faults.Conflict(
                "Insufficient rights for removing default security group.", kind="SecurityGroupCannotRemoveDefault"
            )
        if self._in_use(id):
            raise faults.Conflict(f"Security Group {id} in use.", kind="SecurityGroupInUse")
        self.store.delete_where("security_group_rule", security_group_id=id)
        for rule in self.store.find("security_group_rule", remote_group_id=id):
            self.store.delete("security_group_rule", rule["id"])
        self.net.parts.rbac.forget("security_group", id)
        self.store.delete("security_group", id)

    def check_for_port(
        self, ctx: Context, project_id: str, ids: list[str], known: dict[str, dict[str, Any]] | None = None
    ) -> list[str]:
        """The groups a port of ``project_id`` asks for: each must exist and be the project's (or shared
        with it). ``known``: groups by id as the caller read them in this transaction (not read again)."""
        checked: list[str] = []
        for gid in ids:
            group = known[gid] if known and gid in known else self.store.get("security_group", gid)
            mine = group is not None and (group["project_id"] == project_id or ctx.is_admin)
            if group is None or not (mine or self.net.parts.access.shared_for(ctx, "security_group", group)):
                raise not_found("security_group", gid)
            if gid not in checked:
                checked.append(gid)
        return checked

    # -- rules ---------------------------------------------------------------------------

    def _new_rule(self, group: dict[str, Any], direction: str, ethertype: str, **fields: Any) -> dict[str, Any]:
        prefix = fields.get("remote_ip_prefix")
        rule = stamp(
            {
                "security_group_id": group["id"],
                "project_id": group["project_id"],
                "direction": direction,
                "ethertype": ethertype,
                "protocol": fields.get("protocol"),
                "port_range_min": fields.get("port_range_min"),
                "port_range_max": fields.get("port_range_max"),
                "remote_ip_prefix": prefix,
                "remote_group_id": fields.get("remote_group_id"),
                "remote_address_group_id": None,
                "normalized_cidr": prefix,
                "description": fields.get("description") or "",
                "belongs_to_default_sg": group["name"] == "default",
            }
        )
        return self.store.put("security_group_rule", rule)

    @atomic
    def create_rule(self, ctx: Context, attrs: dict[str, Any]) -> dict[str, Any]:
        group_id = attrs.get("security_group_id") or ""
        group = self.net.parts.access.load(ctx, "security_group", group_id)
        owner_of(ctx, attrs)
        if not ctx.is_admin and group["project_id"] != ctx.project_id:
            raise not_found("security_group", group_id)
        fields = self._check_rule(ctx, attrs)
        self.net.parts.quotas.check(group["project_id"], "security_group_rule")
        duplicate = self._duplicate(group["id"], fields)
        if duplicate:
            raise faults.Conflict(
                f"Security group rule already exists. Rule id is {duplicate}.", kind="SecurityGroupRuleExists"
            )
        direction, ethertype = fields.pop("direction"), fields.pop("ethertype")
        rule = self._new_rule(group, direction, ethertype, **fields)
        self.store.put("security_group", touch(group))
        self.net.events.security_group_rules_changed(group["id"])
        return rule

    def _check_rule(self, ctx: Context, attrs: dict[str, Any]) -> dict[str, Any]:
        direction = attrs.get("direction")
        if direction not in ("ingress", "egress"):
            raise ipam.invalid("direction", f"{direction} is not in ['ingress', 'egress']")
        ethertype = attrs.get("ethertype") or "IPv4"
        ethertype = {"ipv4": "IPv4", "ipv6": "IPv6"}.get(str(ethertype).lower(), ethertype)
        if ethertype not in ("IPv4", "IPv6"):
            raise ipam.invalid("ethertype", f"{ethertype} is not in ['IPv4', 'IPv6']")
        protocol = self._protocol(attrs.get("protocol"))
        number = protocol_number(protocol)
        low, high = attrs.get("port_range_min"), attrs.get("port_range_max")
        if (low is not None or high is not None) and protocol is None:
            raise ipam.invalid_input("Must also specify protocol if port range is given")
        if number in PORT_PROTOCOLS:
            if low is None and high is not None:
                low = high
            if high is None and low is not None:
                high = low
            for port in (low, high):
                if port is not None and not 1 <= int(port) <= 65535:
                    raise ipam.invalid_input(f"Invalid value for port {port}")
            if low is not None and int(low) > int(high):
                raise ipam.invalid_input("For TCP/UDP protocols, port_range_min must be <= port_range_max")
        elif number in ICMP_PROTOCOLS:
            for field, label, value in (("type", "port-range-min", low), ("code", "port-range-max", high)):
                if value is not None and not 0 <= int(value) <= 255:
                    raise ipam.invalid_input(f"Invalid value for ICMP {field} ({label}) {value}. It must be 0 to 255")
            if high is not None and low is None:
                raise ipam.invalid_input(
                    f"ICMP code (port-range-max) {high} is provided but ICMP type (port-range-min) is missing"
                )
        elif low is not None or high is not None:
            raise ipam.invalid_input(
                f"Invalid protocol {protocol} for port range, only supported for TCP, UDP, UDPLITE, SCTP and DCCP "
                "protocols"
            )
        prefix, remote_group = attrs.get("remote_ip_prefix"), attrs.get("remote_group_id")
        if prefix and remote_group:
            raise ipam.invalid_input("Only remote_ip_prefix or remote_group_id may be provided")
        if prefix:
            network = ipam.parse_cidr(
                prefix if "/" in str(prefix) else f"{prefix}/{32 if ':' not in str(prefix) else 128}",
                "remote_ip_prefix",
            )
            if f"IPv{network.version}" != ethertype:
                raise ipam.invalid_input(f"Conflicting value ethertype {ethertype} for CIDR {prefix}")
            prefix = str(network)
        if remote_group:
            remote = self.store.get("security_group", remote_group)
            if remote is None or not self.net.parts.access.can_see(ctx, "security_group", remote):
                raise not_found("security_group", remote_group)
        if attrs.get("remote_address_group_id"):
            raise ipam.invalid_input("address groups are not supported by this cloud")
        return {
            "direction": direction,
            "ethertype": ethertype,
            "protocol": protocol,
            "port_range_min": None if low is None else int(low),
            "port_range_max": None if high is None else int(high),
            "remote_ip_prefix": prefix or None,
            "remote_group_id": remote_group or None,
            "description": attrs.get("description") or "",
        }

    @staticmethod
    def _protocol(value: Any) -> str | None:
        if value is None or (isinstance(value, str) and value.lower() in ("", "any")):
            return None
        text = str(value).lower()
        if text in PROTOCOLS:
            return text
        try:
            number = int(text)
        except ValueError:
            number = -1
        if 0 <= number <= 255:
            return str(number)
        raise faults.BadRequest(
            f"Security group rule protocol {value} not supported. Only protocol values "
            f"{[None, *sorted(PROTOCOLS)]} and integer representations [0 to 255] are supported.",
            kind="SecurityGroupRuleInvalidProtocol",
        )

    def _duplicate(self, group_id: str, fields: dict[str, Any]) -> str | None:
        def key(rule: dict[str, Any]) -> tuple:
            prefix = rule["remote_ip_prefix"]
            if prefix == ANY_PREFIX.get(rule["ethertype"]):
                prefix = None
            elif prefix:
                prefix = str(ipaddress.ip_network(prefix, strict=False))
            return (
                rule["direction"],
                rule["ethertype"],
                protocol_number(rule["protocol"]),
                rule["port_range_min"],
                rule["port_range_max"],
                prefix,
                rule["remote_group_id"],
            )

        wanted = key(fields)
        for rule in self.rules_of(group_id):
            if key(rule) == wanted:
                return rule["id"]
        return None

    @atomic
    def delete_rule(self, ctx: Context, id: str) -> None:
        rule = self.net.parts.access.load(ctx, "security_group_rule", id)
        group = self.store.get("security_group", rule["security_group_id"])
        if not ctx.is_admin and ctx.project_id not in (rule["project_id"], group and group["project_id"]):
            raise not_found("security_group_rule", id)
        self.store.delete("security_group_rule", id)
        if group:
            self.store.put("security_group", touch(group))
        self.net.events.security_group_rules_changed(rule["security_group_id"])
