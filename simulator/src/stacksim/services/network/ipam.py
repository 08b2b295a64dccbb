"""Address management: CIDRs, gateways, allocation pools, free addresses and MACs.

Pure functions over :mod:`ipaddress`; they raise the API errors Neutron's IPAM
raises, with its messages, so every caller (REST, Heat, Nova) gets the same.
"""

from __future__ import annotations

import functools
import ipaddress
import itertools
import os
import random
import re
from typing import Any

from stacksim import faults

Net = ipaddress.IPv4Network | ipaddress.IPv6Network
Addr = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Neutron's default MAC prefix (``base_mac = fa:16:3e:00:00:00``).
MAC_PREFIX = "fa:16:3e"
_MAC_GROUPS = re.compile(r"^[0-9a-fA-F]{1,2}([:-])[0-9a-fA-F]{1,2}(\1[0-9a-fA-F]{1,2}){4}$")
_MAC_DOTTED = re.compile(r"^[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}$")
_MAC_BARE = re.compile(r"^[0-9a-fA-F]{12}$")


def invalid(attr: str, reason: str) -> faults.BadRequest:
    """Neutron's message for an attribute that fails validation."""
    return faults.BadRequest(f"Invalid input for {attr}. Reason: {reason}.", kind="HTTPBadRequest")


def invalid_input(message: str) -> faults.BadRequest:
    return faults.BadRequest(f"Invalid input for operation: {message}.", kind="InvalidInput")


def bad_request(resource: str, message: str) -> faults.BadRequest:
    return faults.BadRequest(f"Bad {resource} request: {message}.", kind="BadRequest")


# -- parsing ---------------------------------------------------------------------------


def subnet_reason(text: Any) -> str | None:
    """Why ``text`` is not a CIDR (None if it is one), in Neutron's words.

    As in Neutron, host bits are accepted (``10.0.0.1/24`` is taken as
    ``10.0.0.0/24``); a bare address is not.
    """
    if not isinstance(text, str) or not text or text.strip() != text:
        return f"'{text}' is not a valid IP subnet"
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return f"'{text}' is not a valid IP subnet"
    if "/" not in text:
        return f"'{text}' isn't a recognized IP subnet cidr, '{net}' is recommended"
    return None


def parse_cidr(text: Any, attr: str = "cidr") -> Net:
    reason = subnet_reason(text)
    if reason:
        raise invalid(attr, reason)
    return ipaddress.ip_network(text, strict=False)


def address_reason(text: Any) -> str | None:
    if not isinstance(text, str) or not text or text.strip() != text:
        return f"'{text}' is not a valid IP address"
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return f"'{text}' is not a valid IP address"
    if addr.version == 4 and str(addr) != text:
        return f"'{text}' is not an accepted IP address, '{addr}' is recommended"
    return None


def parse_ip(text: Any, attr: str = "ip_address") -> Addr:
    reason = address_reason(text)
    if reason:
        raise invalid(attr, reason)
    return ipaddress.ip_address(text)


def parse_ip_or_cidr(text: Any, attr: str) -> str:
    """An address or a prefix (allowed address pairs, ``remote_ip_prefix``), normalised."""
    if isinstance(text, str) and "/" in text:
        try:
            return str(ipaddress.ip_network(text, strict=False))
        except ValueError:
            pass
    elif address_reason(text) is None:
        return str(ipaddress.ip_address(text))
    raise invalid(attr, f"'{text}' is neither a valid IP address, nor is it a valid IP subnet")


# -- gateways and pools ----------------------------------------------------------------


def default_gateway(net: Net) -> str | None:
    if net.num_addresses < 2:
        return None
    return str(net.network_address + 1)


def default_pools(net: Net, gateway: str | None) -> list[dict[str, str]]:
    """Every usable address (not the network address, nor the v4 broadcast) but the gateway."""
    first = int(net.network_address)
    last = int(net.broadcast_address)
    if first == last:
        return [_pool(net.version, first, last)]
    low, high = first + 1, last - (1 if net.version == 4 else 0)
    if low >= high:
        return []
    holes = []
    if gateway is not None:
        gw = int(ipaddress.ip_address(gateway))
        if low <= gw <= high:
            holes.append(gw)
    pools, start = [], low
    for hole in holes:
        if start <= hole - 1:
            pools.append(_pool(net.version, start, hole - 1))
        start = hole + 1
    if start <= high:
        pools.append(_pool(net.version, start, high))
    return pools


def _pool(version: int, start: int, end: int) -> dict[str, str]:
    make = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
    return {"start": str(make(start)), "end": str(make(end))}


def pool_bounds(pool: dict[str, str]) -> tuple[int, int]:
    """A pool's first and last address, as numbers."""
    return _bounds(pool["start"], pool["end"])


@functools.lru_cache(maxsize=4096)
def _bounds(start: str, end: str) -> tuple[int, int]:
    # parsed once per pool, not on each port made from it
    return int(ipaddress.ip_address(start)), int(ipaddress.ip_address(end))


def check_gateway(net: Net, gateway: str | None) -> str | None:
    """The gateway, checked against the subnet (None stays None).

    As in Neutron, a gateway outside the subnet is accepted (an on-link route
    to a router the cloud does not manage); inside it, it may be neither the
    network address nor the IPv4 broadcast.
    """
    if gateway is None:
        return None
    addr = parse_ip(gateway, "gateway_ip")
    if addr.version != net.version:
        raise invalid_input(f"gateway_ip '{gateway}' does not match the ip_version '{net.version}'")
    if (
        addr in net
        and net.num_addresses > 2
        and net.version == 4
        and addr in (net.network_address, net.broadcast_address)
    ):
        raise invalid_input("Gateway is not valid on subnet")
    if addr in net and net.version == 6 and addr == net.network_address and net.num_addresses > 1:
        raise invalid_input("Gateway is not valid on subnet")
    return str(addr)


def check_pools(net: Net, pools: list[dict[str, Any]], gateway: str | None) -> list[dict[str, str]]:
    """Custom allocation pools: inside the subnet, ordered, disjoint, clear of the gateway."""
    checked = []
    for pool in pools:
        start = parse_ip(pool.get("start"), "allocation_pools")
        end = parse_ip(pool.get("end"), "allocation_pools")
        text = f"{start}-{end}"
        if start.version != net.version or end.version != net.version or start > end:
            raise faults.BadRequest(f"The allocation pool {text} is not valid.", kind="InvalidAllocationPool")
        if start not in net or end not in net:
            raise faults.BadRequest(
                f"The allocation pool {text} spans beyond the subnet cidr {net}.", kind="OutOfBoundsAllocationPool"
            )
        reserved = {net.network_address} | ({net.broadcast_address} if net.version == 4 else set())
        if net.num_addresses > 2 and (start in reserved or end in reserved):
            raise faults.BadRequest(f"The allocation pool {text} is not valid.", kind="InvalidAllocationPool")
        checked.append({"start": str(start), "end": str(end)})
    ordered = sorted(checked, key=pool_bounds)
    for a, b in itertools.pairwise(ordered):
        if pool_bounds(b)[0] <= pool_bounds(a)[1]:
            raise faults.BadRequest(
                f"Found overlapping allocation pools: {a['start']}-{a['end']} and {b['start']}-{b['end']} "
                f"for subnet {net}.",
                kind="OverlappingAllocationPools",
            )
    if gateway is not None:
        gw = int(ipaddress.ip_address(gateway))
        for pool in checked:
            low, high = pool_bounds(pool)
            if low <= gw <= high:
                raise faults.Conflict(
                    f"Gateway ip {gateway} conflicts with allocation pool {pool['start']}-{pool['end']}.",
                    kind="GatewayConflictWithAllocationPools",
                )
    return checked


def usable(net: Net, addr: Addr) -> bool:
    """May a port hold ``addr`` on ``net`` (not the network address nor the v4 broadcast)?"""
    if addr.version != net.version or addr not in net:
        return False
    if net.version == 4 and net.num_addresses > 2:
        return addr not in (net.network_address, net.broadcast_address)
    return True


def eui64(net: Net, mac: str) -> str:
    """The SLAAC address a port with ``mac`` gets on an IPv6 /64."""
    octets = [int(x, 16) for x in mac.split(":")]
    octets[0] ^= 0x02
    iid = [*octets[:3], 0xFF, 0xFE, *octets[3:]]
    value = int(net.network_address) | int.from_bytes(bytes(iid), "big")
    return str(ipaddress.IPv6Address(value))


def overlaps(a: str, b: str) -> bool:
    return ipaddress.ip_network(a).overlaps(ipaddress.ip_network(b))


# -- MAC addresses ------------------------------------------------------------------------


def random_mac(rng: random.Random | None = None) -> str:
    """Neutron's prefix and three random bytes (the system's, in one read, unless ``rng`` is given)."""
    tail = bytes(rng.randrange(256) for _ in range(3)) if rng is not None else os.urandom(3)
    return f"{MAC_PREFIX}:{tail.hex(':')}"


def check_mac(text: Any) -> str:
    """A MAC address in any notation Neutron takes (``11:22:33:44:55:66``, ``11-22-...``,
    ``1122.3344.5566``, ``112233445566``), as Neutron shows it: colon-separated, lower case.

    Multicast and locally administered addresses are accepted, as Neutron does;
    only the all-zeros and the broadcast addresses are not.
    """
    octets = _mac_octets(text) if isinstance(text, str) else None
    if octets is None or octets in (bytes(6), b"\xff" * 6):
        raise invalid("mac_address", f"'{text}' is not a valid MAC address")
    return ":".join(f"{o:02x}" for o in octets)


def _mac_octets(text: str) -> bytes | None:
    if _MAC_GROUPS.match(text):
        return bytes(int(part, 16) for part in re.split("[:-]", text))
    if _MAC_DOTTED.match(text) or _MAC_BARE.match(text):
        return bytes.fromhex(text.replace(".", ""))
    return None
