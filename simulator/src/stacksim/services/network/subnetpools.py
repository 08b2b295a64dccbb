"""Subnet pools (subnets allocated from a set of prefixes) and address scopes (pools that must not overlap).

A pool holds prefixes of one IP version, kept compacted and sorted as Neutron
keeps them, with the prefix lengths its subnets may have (``min_prefixlen``
.. ``max_prefixlen``, ``default_prefixlen`` when a subnet asks for none) and an
optional per-project quota of addresses (``default_quota``: IPv4 in /32s,
IPv6 in /64s). A subnet from a pool takes the lowest free block of its length,
or the CIDR it names if the pool holds it free. One pool per IP version may be
the default (``use_default_subnetpool``, auto-allocation). Pools in one address
scope may not overlap. Only an admin makes shared or default pools, and shared
address scopes; a pool or scope in use cannot be deleted.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from stacksim import faults
from stacksim.auth import Context
from stacksim.services.network import ipam
from stacksim.services.network.access import SHARED
from stacksim.services.network.common import (
    Part,
    admin_only,
    apply,
    basics,
    check_tags,
    denied,
    not_found,
    owner_of,
    stamp,
)
from stacksim.store import atomic
from stacksim.toolkit import new_id

if TYPE_CHECKING:
    pass

POOL_FIELDS = (
    "name",
    "description",
    "prefixes",
    "default_prefixlen",
    "min_prefixlen",
    "max_prefixlen",
    "default_quota",
    "is_default",
    "address_scope_id",
)
#: Neutron's default prefix-length bounds per IP version
MIN_PREFIXLEN = {4: 8, 6: 64}
MAX_PREFIXLEN = {4: 32, 6: 128}
#: the unit of ``default_quota`` per IP version: a /32, a /64
QUOTA_UNIT = {4: 32, 6: 64}


def _compact(prefixes: list[ipam.Net]) -> list[str]:
    return [str(p) for p in ipaddress.collapse_addresses(prefixes)]  # type: ignore[type-var]


def _first_free(prefix: ipam.Net, taken: list[ipam.Net], prefixlen: int) -> ipam.Net | None:
    """The lowest block of ``prefixlen`` in ``prefix`` clear of every ``taken`` one."""
    size = 1 << (prefix.max_prefixlen - prefixlen)
    candidate, last = int(prefix.network_address), int(prefix.broadcast_address)
    for low, high in sorted((int(t.network_address), int(t.broadcast_address)) for t in taken):
        if candidate + size - 1 < low:
            break
        if high >= candidate:
            candidate = -(-(high + 1) // size) * size
    if candidate + size - 1 > last:
        return None
    return ipaddress.ip_network((candidate, prefixlen))


class SubnetPools(Part):
    # -- pools -------------------------------------------------------------------------

    def _prefixes(self, values: list[Any]) -> tuple[int, list[ipam.Net]]:
        if not values:
            raise ipam.invalid_input("A subnet pool needs at least one prefix")
        nets = [ipam.parse_cidr(v, "prefixes") for v in values]
        versions = {n.version for n in nets}
        if len(versions) > 1:
            raise ipam.invalid_input("Cannot mix IPv4 and IPv6 prefixes in a subnet pool")
        return versions.pop(), nets

    @staticmethod
    def _bounds(version: int, low: Any, default: Any, high: Any) -> tuple[int, int, int]:
        top = MAX_PREFIXLEN[version]
        for name, value in (("min_prefixlen", low), ("default_prefixlen", default), ("max_prefixlen", high)):
            if not 0 <= int(value) <= top:
                raise ipam.invalid(name, f"'{value}' is not in the range 0 to {top}")
        low, default, high = int(low), int(default), int(high)
        if low > high:
            raise ipam.bad_request("subnetpool", f"Illegal prefix bounds: min_prefixlen={low}, max_prefixlen={high}")
        if not low <= default <= high:
            raise ipam.bad_request(
                "subnetpool", f"Illegal prefix bounds: default_prefixlen={default}, min_prefixlen={low}"
            )
        return low, default, high

    def _scope(self, ctx: Context, scope_id: str | None, version: int, pool: dict[str, Any]) -> str | None:
        """The address scope a pool joins: visible, of the pool's IP version, overlapping no pool in it."""
        if not scope_id:
            return None
        scope = self.store.get("address_scope", scope_id)
        if scope is None or not self.net.parts.access.can_see(ctx, "address_scope", scope):
            raise not_found("address_scope", scope_id)
        if scope["ip_version"] != version:
            raise faults.BadRequest(
                f"Illegal subnetpool association: subnetpool {pool['id']} cannot be associated with address "
                f"scope {scope_id} because subnetpool ip_version is not {scope['ip_version']}.",
                kind="IllegalSubnetPoolIpVersionAssociation",
            )
        mine = [ipaddress.ip_network(p) for p in pool["prefixes"]]
        for other in self.store.find("subnetpool", address_scope_id=scope_id):
            if other["id"] != pool["id"] and any(ipam.overlaps(p, str(m)) for p in other["prefixes"] for m in mine):
                raise faults.BadRequest(
                    f"Illegal subnetpool association: subnetpool {pool['id']} cannot be associated with address "
                    f"scope {scope_id} because its prefixes overlap those of subnetpool {other['id']}.",
                    kind="IllegalSubnetPoolAssociationToAddressScope",
                )
        return scope_id

    def _default(self, version: int, pool_id: str) -> bool:
        other = self.store.first("subnetpool", is_default=True, ip_version=version)
        if other is not None and other["id"] != pool_id:
            raise ipam.invalid_input(
                "A default subnetpool for this IP family has already been set. Only one default may exist per IP family"
            )
        return True

    @atomic
    def create(self, ctx: Context, attrs: dict[str, Any]) -> dict[str, Any]:
        parts = self.net.parts
        owner = owner_of(ctx, attrs)
        admin_only(ctx, "create_subnetpool", attrs, {"shared": False, "is_default": False})
        version, prefixes = self._prefixes(attrs["prefixes"])
        low = attrs.get("min_prefixlen", MIN_PREFIXLEN[version])
        low, default, high = self._bounds(
            version, low, attrs.get("default_prefixlen", low), attrs.get("max_prefixlen", MAX_PREFIXLEN[version])
        )
        pool = stamp(
            {
                **basics(attrs, owner),
                "ip_version": version,
                "prefixes": _compact(prefixes),
                "min_prefixlen": low,
                "default_prefixlen": default,
                "max_prefixlen": high,
                "default_quota": attrs.get("default_quota"),
                "shared": bool(attrs.get("shared", False)),
                "is_default": False,
                "address_scope_id": None,
            }
        )
        pool["address_scope_id"] = self._scope(ctx, attrs.get("address_scope_id"), version, pool)
        if attrs.get("is_default"):
            pool["is_default"] = self._default(version, pool["id"])
        parts.quotas.check(owner, "subnetpool")
        self.store.put("subnetpool", pool)
        if pool["shared"]:
            parts.rbac.wildcard("subnetpool", pool, SHARED, True)
        return pool

    @atomic
    def update(self, ctx: Context, id: str, changes: dict[str, Any], if_match: str | None = None) -> dict[str, Any]:
        pool, changes = self.editable(ctx, "subnetpool", id, changes, POOL_FIELDS, if_match)
        if "is_default" in changes and not ctx.is_admin:
            raise denied("update_subnetpool:is_default")
        version = pool["ip_version"]
        if "prefixes" in changes:
            _, wanted = self._prefixes(changes["prefixes"])
            held = [ipaddress.ip_network(p) for p in pool["prefixes"]]
            if any(not any(h.subnet_of(n) for n in wanted) for h in held):  # type: ignore[arg-type]
                raise faults.BadRequest(
                    "Illegal update to prefixes: Existing prefixes must be a subset of the new prefixes",
                    kind="IllegalSubnetPoolPrefixUpdate",
                )
            changes["prefixes"] = _compact(wanted)
        names = ("min_prefixlen", "default_prefixlen", "max_prefixlen")
        bounds = self._bounds(version, *(changes.get(k, pool[k]) for k in names))
        changes.update(zip(names, bounds, strict=True))
        if "address_scope_id" in changes:
            changes["address_scope_id"] = self._scope(ctx, changes["address_scope_id"], version, {**pool, **changes})
        if changes.get("is_default"):
            self._default(version, id)
        if "tags" in changes:
            changes["tags"] = check_tags(changes["tags"])
        return apply(self.store, "subnetpool", pool, changes)

    @atomic
    def change_prefixes(self, ctx: Context, id: str, prefixes: list[Any], add: bool) -> list[str]:
        """``add_prefixes`` / ``remove_prefixes``: the pool's prefixes after the change."""
        pool = self.net.parts.access.writable(ctx, "subnetpool", id, "update_subnetpool")
        version, given = self._prefixes(prefixes)
        if version != pool["ip_version"]:
            raise ipam.invalid_input("Cannot mix IPv4 and IPv6 prefixes in a subnet pool")
        held = [ipaddress.ip_network(p) for p in pool["prefixes"]]
        if add:
            result = _compact([*held, *given])
        else:
            kept: list[ipam.Net] = []
            for prefix in held:
                pieces = [prefix]
                for gone in given:
                    pieces = [rest for p in pieces for rest in ([p] if not p.overlaps(gone) else _minus(p, gone))]
                kept += pieces
            for subnet in self.store.find("subnet", subnetpool_id=id):
                if not any(ipaddress.ip_network(subnet["cidr"]).subnet_of(k) for k in kept):  # type: ignore[arg-type]
                    raise faults.BadRequest(
                        f"Illegal update to subnet pool {id}: prefix {subnet['cidr']} is in use",
                        kind="IllegalSubnetPoolUpdate",
                    )
            result = _compact(kept)
        return apply(self.store, "subnetpool", pool, {"prefixes": result})["prefixes"]

    @atomic
    def delete(self, ctx: Context, id: str) -> None:
        parts = self.net.parts
        parts.access.writable(ctx, "subnetpool", id, "delete_subnetpool")
        if self.store.first("subnet", subnetpool_id=id):
            raise faults.Conflict(
                f"Unable to complete operation on subnet pool {id}. Subnet pool has existing allocations.",
                kind="SubnetPoolInUse",
            )
        parts.rbac.forget("subnetpool", id)
        self.store.delete("subnetpool", id)

    # -- subnets from pools --------------------------------------------------------------

    def for_subnet(self, ctx: Context, attrs: dict[str, Any], version: int) -> dict[str, Any] | None:
        """The pool a new subnet asks for (``subnetpool_id``, or the default one), or None."""
        pool_id = attrs.get("subnetpool_id")
        if pool_id:
            pool = self.store.get("subnetpool", pool_id)
            if pool is None or not self.net.parts.access.can_see(ctx, "subnetpool", pool):
                raise not_found("subnetpool", pool_id)
        elif attrs.get("use_default_subnetpool"):
            pool = self.store.first("subnetpool", is_default=True, ip_version=version)
            if pool is None:
                raise ipam.bad_request("subnets", f"No default subnetpool found for IPv{version}")
        else:
            return None
        if pool["ip_version"] != version:
            raise ipam.bad_request(
                "subnets", f"Cannot allocate IPv{version} subnet from IPv{pool['ip_version']} subnet pool"
            )
        return pool

    def allocate(self, pool: dict[str, Any], owner: str, wanted: ipam.Net | None, prefixlen: Any) -> ipam.Net:
        """A CIDR from ``pool`` for a subnet of ``owner``: ``wanted`` if the pool holds it free, else the
        lowest free block of ``prefixlen`` (the pool's default if None). Call it in the writing transaction."""
        length = wanted.prefixlen if wanted is not None else int(prefixlen or pool["default_prefixlen"])
        if length < pool["min_prefixlen"]:
            raise faults.BadRequest(
                f"Unable to allocate subnet with prefix length {length}, minimum allowed prefix is "
                f"{pool['min_prefixlen']}.",
                kind="MinPrefixSubnetAllocationError",
            )
        if length > pool["max_prefixlen"]:
            raise faults.BadRequest(
                f"Unable to allocate subnet with prefix length {length}, maximum allowed prefix is "
                f"{pool['max_prefixlen']}.",
                kind="MaxPrefixSubnetAllocationError",
            )
        allocated = self.store.find("subnet", subnetpool_id=pool["id"])
        self._check_quota(pool, owner, allocated, length)
        taken = [ipaddress.ip_network(s["cidr"]) for s in allocated]
        prefixes = [ipaddress.ip_network(p) for p in pool["prefixes"]]
        if wanted is not None:
            inside = any(wanted.subnet_of(p) for p in prefixes)  # type: ignore[arg-type]
            if not inside or any(wanted.overlaps(t) for t in taken):
                raise faults.Conflict(
                    "Failed to allocate subnet: Cannot allocate requested subnet from the available set of prefixes.",
                    kind="SubnetAllocationError",
                )
            return wanted
        for prefix in prefixes:
            if prefix.prefixlen <= length:
                found = _first_free(prefix, [t for t in taken if t.overlaps(prefix)], length)
                if found is not None:
                    return found
        raise faults.Conflict(
            f"Failed to allocate subnet: Insufficient prefix space to allocate subnet size /{length}.",
            kind="SubnetAllocationError",
        )

    @staticmethod
    def _check_quota(pool: dict[str, Any], owner: str, allocated: list[dict[str, Any]], length: int) -> None:
        quota = pool.get("default_quota")
        if quota is None:
            return
        unit = QUOTA_UNIT[pool["ip_version"]]

        def size(prefixlen: int) -> int:
            return 1 << max(unit - prefixlen, 0)

        used = sum(size(ipaddress.ip_network(s["cidr"]).prefixlen) for s in allocated if s["project_id"] == owner)
        if used + size(length) > quota:
            raise faults.Conflict("Per-tenant subnet pool prefix quota exceeded.", kind="SubnetPoolQuotaExceeded")


def _minus(prefix: ipam.Net, gone: ipam.Net) -> list[ipam.Net]:
    if prefix.subnet_of(gone):  # type: ignore[arg-type]
        return []
    return list(prefix.address_exclude(gone))  # type: ignore[arg-type]


class AddressScopes(Part):
    """Address scopes: a name, an IP version, and whether every project may use it."""

    FIELDS = ("name", "shared")

    @atomic
    def create(self, ctx: Context, attrs: dict[str, Any]) -> dict[str, Any]:
        parts = self.net.parts
        owner = owner_of(ctx, attrs)
        admin_only(ctx, "create_address_scope", attrs, {"shared": False})
        version = attrs["ip_version"]
        if version not in (4, 6):
            raise ipam.invalid("ip_version", f"{version} is not in [4, 6]")
        scope = {
            "id": new_id(),
            "name": attrs.get("name") or "",
            "project_id": owner,
            "ip_version": version,
            "shared": bool(attrs.get("shared", False)),
        }
        self.store.put("address_scope", scope)
        if scope["shared"]:
            parts.rbac.wildcard("address_scope", scope, SHARED, True)
        return scope

    @atomic
    def update(self, ctx: Context, id: str, changes: dict[str, Any], if_match: str | None = None) -> dict[str, Any]:
        parts = self.net.parts
        scope, changes = self.editable(ctx, "address_scope", id, changes, self.FIELDS, if_match)
        if "shared" in changes:
            if not ctx.is_admin:
                raise denied("update_address_scope:shared")
            if bool(changes["shared"]) != scope["shared"]:
                parts.rbac.wildcard("address_scope", scope, SHARED, bool(changes["shared"]))
        if all(scope.get(k) == v for k, v in changes.items()):
            return scope
        scope.update(changes)
        return self.store.put("address_scope", scope)

    @atomic
    def delete(self, ctx: Context, id: str) -> None:
        parts = self.net.parts
        parts.access.writable(ctx, "address_scope", id, "delete_address_scope")
        if self.store.first("subnetpool", address_scope_id=id):
            raise faults.Conflict(
                f"Unable to complete operation on address scope {id}. There are one or more subnet pools in use "
                "on the address scope.",
                kind="AddressScopeInUse",
            )
        parts.rbac.forget("address_scope", id)
        self.store.delete("address_scope", id)
