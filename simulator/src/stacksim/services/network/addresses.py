"""Addresses a port holds: fixed IPs allocated from a network's subnets, and MAC addresses.

A port's fixed IPs are unique in their subnet: the store indexes them
(:meth:`~stacksim.store.Store.unique`), so "is it taken" and "the lowest free
one" never scan the network's ports, and each pool remembers below which
address it is full. Everything here runs in the caller's transaction, so what
is chosen is written before anyone else can choose it.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Set as AbstractSet
from typing import Any

from stacksim import faults
from stacksim.services.network import ipam
from stacksim.services.network.common import not_found
from stacksim.store import Store

AUTO_ADDRESS_MODES = ("slaac", "dhcpv6-stateless")


def cidr_of(subnet: dict[str, Any]) -> ipam.Net:
    return ipaddress.ip_network(subnet["cidr"])


def auto_address(subnet: dict[str, Any]) -> bool:
    """Does the subnet give addresses by SLAAC (EUI-64 from the MAC) rather than from its pools?"""
    return subnet["ip_version"] == 6 and subnet.get("ipv6_address_mode") in AUTO_ADDRESS_MODES


def _ip_scope(subnet_id: str) -> str:
    return f"ip:{subnet_id}"


@functools.lru_cache(maxsize=8192)  # each write of a port derives its addresses' keys again
def _ip_key(address: str | int) -> str:
    """An address as text that sorts in numeric order (v4 and v6 alike)."""
    value = address if isinstance(address, int) else int(ipaddress.ip_address(address))
    return f"{value:032x}"


def _held_addresses(port: dict[str, Any]) -> list[tuple[str, str]]:
    """The ``(scope, value)`` pairs a port holds alone: each fixed IP in its subnet."""
    return [(_ip_scope(ip["subnet_id"]), _ip_key(ip["ip_address"])) for ip in port.get("fixed_ips") or ()]


class Addresses:
    def __init__(self, store: Store) -> None:
        self.store = store
        store.unique("port", _held_addresses, on_release=self._released)
        store.on_rollback(self._forget_free)
        #: scope -> pool start -> an address below which the pool is all taken
        self._all_taken_below: dict[str, dict[int, int]] = {}

    def subnets(self, network_id: str) -> list[dict[str, Any]]:
        """The network's subnets, oldest first: read by every port made, so kept until a subnet is
        written (or a transaction rolls back); neither the list nor its records are to be changed.
        (One read, under the store's lock: no transaction of its own to open.)"""
        return self.store.cached(
            ("subnet",), ("of network", network_id), lambda: self.store.find("subnet", network_id=network_id)
        )

    def allocate(
        self,
        network: dict[str, Any],
        requests: list[dict[str, Any]] | None,
        mac: str,
        exclude_port: str | None = None,
    ) -> list[dict[str, str]]:
        """Fixed IPs for a port on ``network``: requested ones checked, the rest from the pools.

        ``requests`` None means Neutron's default: one IPv4 address (from the
        first subnet with room) plus SLAAC addresses and one stateful IPv6 one.
        """
        subnets = self.subnets(network["id"])
        by_id = {s["id"]: s for s in subnets}
        # What this call takes, and what the port being changed holds (free for it to keep).
        used: dict[str, set[str]] = {s["id"]: set() for s in subnets}
        own: dict[str, set[str]] = {}
        if exclude_port is not None:
            for ip in (self.store.get("port", exclude_port) or {}).get("fixed_ips", ()):
                own.setdefault(ip["subnet_id"], set()).add(_ip_key(ip["ip_address"]))
        result: list[dict[str, str]] = []

        def take(subnet: dict[str, Any], address: str) -> None:
            used[subnet["id"]].add(_ip_key(address))
            result.append({"subnet_id": subnet["id"], "ip_address": address})

        def free_in(subnet: dict[str, Any]) -> str | None:
            return self.free_address(subnet, used[subnet["id"]], own.get(subnet["id"], set()))

        if requests is None:
            v4 = [s for s in subnets if s["ip_version"] == 4]
            for subnet in v4:
                free = free_in(subnet)
                if free:
                    take(subnet, free)
                    break
            else:
                if v4:
                    raise faults.Conflict(
                        f"No more IP addresses available on network {network['id']}.",
                        kind="IpAddressGenerationFailure",
                    )
            stateful_done = False
            for subnet in (s for s in subnets if s["ip_version"] == 6):
                if auto_address(subnet):
                    take(subnet, ipam.eui64(cidr_of(subnet), mac))
                elif not stateful_done:
                    free = free_in(subnet)
                    if free:
                        take(subnet, free)
                        stateful_done = True
            return result

        for req in requests:
            subnet_id, address = req.get("subnet_id"), req.get("ip_address")
            if subnet_id is None and address is None:
                raise ipam.invalid_input("IP allocation requires subnet_id or ip_address")
            subnet = None
            if subnet_id is not None:
                subnet = by_id.get(subnet_id)
                if subnet is None:
                    if self.store.get("subnet", subnet_id) is None:
                        raise not_found("subnet", subnet_id)
                    raise ipam.invalid_input(
                        f"Failed to create port on network {network['id']}, "
                        f"because fixed_ips included invalid subnet {subnet_id}"
                    )
            if address is not None:
                addr = ipam.parse_ip(address, "fixed_ips")
                if subnet is None:
                    subnet = next((s for s in subnets if ipam.usable(cidr_of(s), addr)), None)
                    if subnet is None:
                        raise faults.BadRequest(
                            f"IP address {address} is not a valid IP for any of the subnets on the specified network.",
                            kind="InvalidIpForNetwork",
                        )
                elif not ipam.usable(cidr_of(subnet), addr):
                    raise faults.BadRequest(
                        f"IP address {address} is not a valid IP for the specified subnet.", kind="InvalidIpForSubnet"
                    )
                key = _ip_key(int(addr))
                holder = self.store.holder(_ip_scope(subnet["id"]), key)
                if key in used[subnet["id"]] or (holder is not None and holder != ("port", exclude_port)):
                    raise faults.Conflict(
                        f"IP address {addr} already allocated in subnet {subnet['id']}",
                        kind="IpAddressAlreadyAllocated",
                    )
                take(subnet, str(addr))
                continue
            assert subnet is not None
            if auto_address(subnet):
                take(subnet, ipam.eui64(cidr_of(subnet), mac))
                continue
            free = free_in(subnet)
            if free is None:
                raise faults.Conflict(
                    f"No more IP addresses available for subnet {subnet['id']}.", kind="IpAddressGenerationFailure"
                )
            take(subnet, free)
        return result

    def free_address(
        self, subnet: dict[str, Any], taken: AbstractSet[str] = frozenset(), mine: AbstractSet[str] = frozenset()
    ) -> str | None:
        """The lowest address of the subnet's pools that no port holds (None when full).

        ``taken``: keys (:func:`_ip_key`) this call already took; ``mine``: keys
        the port being changed holds, free for it. Held addresses come from the
        store's index, and each pool remembers below which address it is full,
        so the cost does not grow with the number of ports.
        """
        scope = _ip_scope(subnet["id"])
        full_below = self._all_taken_below.setdefault(scope, {})
        make = ipaddress.IPv4Address if subnet["ip_version"] == 4 else ipaddress.IPv6Address
        for low, high in sorted(ipam.pool_bounds(p) for p in subnet["allocation_pools"]):
            candidate = max(low, full_below.get(low, low))
            while candidate <= high:
                held = self.store.values_in(scope, _ip_key(candidate), _ip_key(high), limit=64)
                gap = False
                for key in held:  # ascending, none below the candidate
                    if int(key, 16) > candidate or key in mine:
                        gap = True
                        break
                    candidate += 1
                if not gap and len(held) == 64:
                    continue  # more held addresses follow: read on
                if candidate > high:
                    break
                if _ip_key(candidate) in taken:
                    candidate += 1
                    continue
                if not taken and not mine:
                    full_below[low] = candidate
                return str(make(candidate))
            if not taken and not mine:
                full_below[low] = high + 1
        return None

    def _released(self, scope: str, key: str) -> None:
        """A port let an address go: the pools below it are no longer full."""
        value = int(key, 16)
        for low, below in list(self._all_taken_below.get(scope, {}).items()):
            if low <= value < below:
                self._all_taken_below[scope][low] = value

    def _forget_free(self) -> None:
        self._all_taken_below.clear()  # a rolled-back transaction may have freed anything

    def mac(self, network_id: str, wanted: str | None = None) -> str:
        """The MAC asked for (checked, and free on the network), else a new one with Neutron's prefix."""
        if wanted is not None:
            mac = ipam.check_mac(wanted)
            if self.store.first("port", network_id=network_id, mac_address=mac):
                raise faults.Conflict(
                    f"Unable to complete operation for network {network_id}. The mac address {mac} is in use.",
                    kind="MacAddressInUse",
                )
            return mac
        while True:
            mac = ipam.random_mac()
            if self.store.first("port", mac_address=mac) is None:
                return mac
