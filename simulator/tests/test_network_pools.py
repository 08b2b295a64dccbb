"""Subnet pools (subnets allocated from them, defaults, quotas, prefix operations) and address scopes."""

from __future__ import annotations

import uuid
from typing import Any

import openstack.exceptions as exc
import pytest


def _n(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def _call(conn, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    resp = conn.network.request(path, method, json=body)
    return resp.status_code, (resp.json() if resp.content else None)


def _error(conn, method: str, path: str, body: Any = None) -> tuple[int, str, str]:
    status, data = _call(conn, method, path, body)
    return status, data["NeutronError"]["type"], data["NeutronError"]["message"]


def test_pool_allocates_the_next_free_block(demo):
    pool = demo.network.create_subnet_pool(
        name=_n("pool"), prefixes=["10.100.0.0/24", "10.101.0.0/24"], min_prefixlen=8, default_prefixlen=26
    )
    assert (pool.ip_version, pool.minimum_prefix_length, pool.maximum_prefix_length) == (4, 8, 32)
    assert pool.prefixes == ["10.100.0.0/24", "10.101.0.0/24"] and pool.is_shared is False
    net = demo.network.create_network(name=_n("net"))
    first = demo.network.create_subnet(network_id=net.id, ip_version=4, subnetpool_id=pool.id, prefixlen=28)
    assert (first.cidr, first.gateway_ip, first.subnet_pool_id) == ("10.100.0.0/28", "10.100.0.1", pool.id)
    second = demo.network.create_subnet(network_id=net.id, ip_version=4, subnetpool_id=pool.id)
    assert second.cidr == "10.100.0.64/26"  # the default length, aligned after the /28
    asked = demo.network.create_subnet(network_id=net.id, ip_version=4, subnetpool_id=pool.id, cidr="10.101.0.0/25")
    assert asked.cidr == "10.101.0.0/25"
    # A CIDR the pool does not hold free, a length out of bounds, an exhausted pool, a pool in use.
    body = {"network_id": net.id, "ip_version": 4, "subnetpool_id": pool.id}
    status, kind, _ = _error(demo, "POST", "/subnets", {"subnet": {**body, "cidr": "10.100.0.0/27"}})
    assert (status, kind) == (409, "SubnetAllocationError")
    status, kind, message = _error(demo, "POST", "/subnets", {"subnet": {**body, "prefixlen": 4}})
    assert (status, kind) == (400, "MinPrefixSubnetAllocationError") and "minimum allowed prefix is 8" in message
    status, _, message = _error(demo, "POST", "/subnets", {"subnet": {**body, "prefixlen": 28, "cidr": "10.1.0.0/28"}})
    assert status == 400 and "cidr and prefixlen must not be supplied together" in message
    status, kind, message = _error(demo, "POST", "/subnets", {"subnet": {**body, "prefixlen": 23}})
    assert (status, kind) == (409, "SubnetAllocationError") and "Insufficient prefix space" in message
    status, kind, _ = _error(demo, "DELETE", f"/subnetpools/{pool.id}")
    assert (status, kind) == (409, "SubnetPoolInUse")
    for subnet in (first, second, asked):
        demo.network.delete_subnet(subnet)
    demo.network.delete_network(net)
    demo.network.delete_subnet_pool(pool)


def test_pool_rules_and_updates(admin, demo):
    status, _, message = _error(demo, "POST", "/subnetpools", {"subnetpool": {"name": "x", "prefixes": []}})
    assert status == 400 and "at least one prefix" in message
    mixed = {"subnetpool": {"name": "x", "prefixes": ["10.0.0.0/8", "2001:db8::/32"]}}
    assert _error(demo, "POST", "/subnetpools", mixed)[2].endswith(
        "Cannot mix IPv4 and IPv6 prefixes in a subnet pool."
    )
    bounds = {"subnetpool": {"name": "x", "prefixes": ["10.0.0.0/8"], "min_prefixlen": 24, "max_prefixlen": 16}}
    assert _error(demo, "POST", "/subnetpools", bounds)[0] == 400
    for flag in ("shared", "is_default"):
        status, kind, _ = _error(
            demo, "POST", "/subnetpools", {"subnetpool": {"prefixes": ["10.9.0.0/16"], flag: True}}
        )
        assert (status, kind) == (403, "PolicyNotAuthorized")
    pool = demo.network.create_subnet_pool(name=_n("pool"), prefixes=["10.30.0.0/24", "10.30.1.0/24"])
    assert pool.prefixes == ["10.30.0.0/23"]  # compacted, as Neutron keeps them
    status, kind, _ = _error(demo, "PUT", f"/subnetpools/{pool.id}", {"subnetpool": {"prefixes": ["10.31.0.0/24"]}})
    assert (status, kind) == (400, "IllegalSubnetPoolPrefixUpdate")
    status, _, message = _error(demo, "PUT", f"/subnetpools/{pool.id}", {"subnetpool": {"shared": True}})
    assert status == 400 and message == "Cannot update read-only attribute shared"
    grown = demo.network.update_subnet_pool(pool, prefixes=["10.30.0.0/22"], name="renamed")
    assert grown.prefixes == ["10.30.0.0/22"] and grown.name == "renamed"
    status, body = _call(demo, "PUT", f"/subnetpools/{pool.id}/add_prefixes", {"prefixes": ["10.40.0.0/24"]})
    assert status == 200 and body == {"prefixes": ["10.30.0.0/22", "10.40.0.0/24"]}
    status, body = _call(demo, "PUT", f"/subnetpools/{pool.id}/remove_prefixes", {"prefixes": ["10.30.2.0/23"]})
    assert status == 200 and body == {"prefixes": ["10.30.0.0/23", "10.40.0.0/24"]}
    # Another project neither sees it nor can take from it.
    alt_pools = {p.id for p in admin.network.subnet_pools(project_id=demo.current_project_id)}
    assert pool.id in alt_pools
    demo.network.delete_subnet_pool(pool)


def test_pool_quota_and_default_pools(admin, demo, alt):
    pool = admin.network.create_subnet_pool(
        name=_n("quota"), prefixes=["10.50.0.0/16"], default_prefixlen=28, default_quota=20, shared=True
    )
    assert alt.network.get_subnet_pool(pool.id).is_shared  # shared: everyone sees it
    net = alt.network.create_network(name=_n("net"))
    made = alt.network.create_subnet(network_id=net.id, ip_version=4, subnetpool_id=pool.id)
    assert made.cidr == "10.50.0.0/28"  # 16 addresses of the 20 allowed
    status, kind, message = _error(
        alt, "POST", "/subnets", {"subnet": {"network_id": net.id, "ip_version": 4, "subnetpool_id": pool.id}}
    )
    assert (status, kind, message) == (409, "SubnetPoolQuotaExceeded", "Per-tenant subnet pool prefix quota exceeded.")
    # The cloud's default IPv4 pool (made at bootstrap) serves use_default_subnetpool.
    (default,) = [p for p in alt.network.subnet_pools() if p.is_default]
    assert default.name == "shared-default-subnetpool-v4" and default.is_shared
    from_default = alt.network.create_subnet(network_id=net.id, ip_version=4, use_default_subnetpool=True)
    assert from_default.subnet_pool_id == default.id and from_default.cidr.endswith("/26")
    status, _, message = _error(
        admin, "POST", "/subnetpools", {"subnetpool": {"prefixes": ["10.60.0.0/16"], "is_default": True}}
    )
    assert status == 400 and "Only one default may exist per IP family" in message
    status, _, message = _error(
        alt, "POST", "/subnets", {"subnet": {"network_id": net.id, "ip_version": 6, "use_default_subnetpool": True}}
    )
    assert status == 400 and "No default subnetpool found for IPv6" in message
    for subnet in (made, from_default):
        alt.network.delete_subnet(subnet)
    alt.network.delete_network(net)
    admin.network.delete_subnet_pool(pool)


def test_address_scopes(admin, demo, alt):
    scope = demo.network.create_address_scope(name=_n("scope"), ip_version=4)
    assert (scope.ip_version, scope.is_shared, scope.project_id) == (4, False, demo.current_project_id)
    assert scope.id not in {s.id for s in alt.network.address_scopes()}
    with pytest.raises(exc.ForbiddenException):
        demo.network.create_address_scope(name="shared", ip_version=4, shared=True)
    status, kind, _ = _error(demo, "POST", "/address-scopes", {"address_scope": {"name": "x", "ip_version": 5}})
    assert status == 400
    pool = demo.network.create_subnet_pool(name=_n("p"), prefixes=["10.70.0.0/16"], address_scope_id=scope.id)
    assert pool.address_scope_id == scope.id
    status, kind, _ = _error(
        demo, "POST", "/subnetpools", {"subnetpool": {"prefixes": ["10.70.1.0/24"], "address_scope_id": scope.id}}
    )
    assert (status, kind) == (400, "IllegalSubnetPoolAssociationToAddressScope")  # overlaps a pool in the scope
    status, kind, _ = _error(
        demo, "POST", "/subnetpools", {"subnetpool": {"prefixes": ["fd00::/48"], "address_scope_id": scope.id}}
    )
    assert (status, kind) == (400, "IllegalSubnetPoolIpVersionAssociation")
    net = demo.network.create_network(name=_n("net"))
    subnet = demo.network.create_subnet(network_id=net.id, ip_version=4, subnetpool_id=pool.id, prefixlen=24)
    assert demo.network.get_network(net.id).ipv4_address_scope_id == scope.id
    status, kind, _ = _error(demo, "DELETE", f"/address-scopes/{scope.id}")
    assert (status, kind) == (409, "AddressScopeInUse")
    assert demo.network.update_address_scope(scope, name="renamed").name == "renamed"
    demo.network.delete_subnet(subnet)
    demo.network.delete_network(net)
    demo.network.delete_subnet_pool(pool)
    demo.network.delete_address_scope(scope)
