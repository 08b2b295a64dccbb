"""The rest of what Neutron offers here: zones, service providers, HA and DVR flags, DHCP options, MACs,
tags (POST and bounds), text that cannot be stored, auto-allocated topology, routes via the gateway, quotas."""

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


def test_zones_and_service_providers(demo):
    zones = {(z.name, z.resource, z.state) for z in demo.network.availability_zones()}
    assert zones == {("nova", "network", "available"), ("nova", "router", "available")}
    net = demo.network.create_network(name=_n("net"), availability_zone_hints=["nova"])
    assert (net.availability_zone_hints, net.availability_zones) == (["nova"], ["nova"])
    status, body = _call(demo, "POST", "/routers", {"router": {"availability_zone_hints": ["mars"]}})
    assert status == 404 and body["NeutronError"]["type"] == "AvailabilityZoneNotFound"
    providers = {(p.service_type, p.name) for p in demo.network.service_providers()}
    assert ("L3_ROUTER_NAT", "ha") in providers and ("L3_ROUTER_NAT", "dvr") in providers
    status, body = _call(demo, "GET", "/service-providers?service_type=VPN")
    assert (status, body) == (200, {"service_providers": []})
    demo.network.delete_network(net)


def test_router_ha_and_distributed_are_an_admins(admin, demo):
    router = admin.network.create_router(name=_n("dvr"), distributed=True)
    assert (router.is_distributed, router.is_ha) == (True, False)
    assert admin.network.get_router(router.id).is_distributed is True
    mine = demo.network.create_router(name=_n("r"))
    assert mine.is_ha is None and mine.is_distributed is None  # a member does not see them
    status, body = _call(demo, "POST", "/routers", {"router": {"name": "x", "ha": True}})
    assert status == 403 and body["NeutronError"]["message"] == "rule:create_router:ha is disallowed by policy"
    status, body = _call(admin, "PUT", f"/routers/{router.id}", {"router": {"ha": True}})
    assert status == 400 and "Please set router admin_state_up to False" in body["NeutronError"]["message"]
    updated = admin.network.update_router(router, is_admin_state_up=False, is_ha=True)
    assert (updated.is_ha, updated.is_admin_state_up) == (True, False)
    admin.network.delete_router(router)
    demo.network.delete_router(mine)


def test_extra_dhcp_options_and_macs(demo):
    net = demo.network.create_network(name=_n("net"))
    options = [
        {"opt_name": "bootfile-name", "opt_value": "pxelinux.0"},
        {"opt_name": "tftp-server", "opt_value": "1.2.3.4"},
    ]
    port = demo.network.create_port(network_id=net.id, extra_dhcp_opts=options, mac_address="11:22:33:44:55:66")
    assert port.mac_address == "11:22:33:44:55:66"  # a multicast bit is no reason to refuse it, for Neutron
    assert {(o["opt_name"], o["opt_value"], o["ip_version"]) for o in port.extra_dhcp_opts} == {
        ("bootfile-name", "pxelinux.0", 4),
        ("tftp-server", "1.2.3.4", 4),
    }
    # An update changes the options it names, removes those set to None, keeps the rest.
    changed = demo.network.update_port(
        port, extra_dhcp_opts=[{"opt_name": "tftp-server", "opt_value": None}, {"opt_name": "mtu", "opt_value": "1400"}]
    )
    assert {o["opt_name"] for o in changed.extra_dhcp_opts} == {"bootfile-name", "mtu"}
    for notation, shown in (("AA-BB-CC-00-11-22", "aa:bb:cc:00:11:22"), ("aabb.cc00.1133", "aa:bb:cc:00:11:33")):
        assert demo.network.create_port(network_id=net.id, mac_address=notation).mac_address == shown
    for bad in ("00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff", "11:22:33:44:55"):
        status, body = _call(demo, "POST", "/ports", {"port": {"network_id": net.id, "mac_address": bad}})
        assert status == 400 and "is not a valid MAC address" in body["NeutronError"]["message"]
    for p in demo.network.ports(network_id=net.id):
        demo.network.delete_port(p)
    demo.network.delete_network(net)


def test_tags_added_with_post_and_bounded(demo):
    net = demo.network.create_network(name=_n("net"))
    demo.network.add_tags(net, ["red", "green"])
    status, body = _call(demo, "POST", f"/networks/{net.id}/tags", {"tags": ["blue", "red"]})
    assert (status, body) == (201, {"tags": ["blue", "red"]})  # Neutron answers with the tags given
    assert demo.network.get_network(net.id).tags == ["blue", "green", "red"]
    status, body = _call(demo, "PUT", f"/networks/{net.id}/tags", {"tags": [f"t{i}" for i in range(51)]})
    assert status == 400 and "exceed the per-resource limit of 50" in body["NeutronError"]["message"]
    status, body = _call(demo, "POST", f"/networks/{net.id}/tags", {"tags": ["x" * 256]})
    assert status == 400 and "exceeds maximum length of 255" in body["NeutronError"]["message"]
    # A body with thousands of tags is refused on its count, before any tag is looked at.
    status, body = _call(demo, "POST", "/networks", {"network": {"name": "n", "tags": ["t"] * 5000}})
    assert status == 400 and "exceed the per-resource limit of 50" in body["NeutronError"]["message"]
    demo.network.delete_network(net)


def test_a_lone_surrogate_is_refused_and_never_stored(demo):
    before = len(list(demo.network.networks()))
    raw = b'{"network": {"name": "bad \\ud800 name"}}'
    resp = demo.network.request("/networks", "POST", data=raw, headers={"Content-Type": "application/json"})
    assert resp.status_code == 400
    message = resp.json()["NeutronError"]["message"]
    assert "name" in message and "surrogate" in message
    net = demo.network.create_network(name=_n("net"))
    for path, payload in (
        (f"/networks/{net.id}", b'{"network": {"description": "\\udfff"}}'),
        (f"/networks/{net.id}/tags", b'{"tags": ["ok", "\\ud800"]}'),
    ):
        resp = demo.network.request(path, "PUT", data=payload, headers={"Content-Type": "application/json"})
        assert resp.status_code == 400
    assert len(list(demo.network.networks())) == before + 1  # and every list still works
    assert demo.network.get_network(net.id).tags == []
    demo.network.delete_network(net)


def test_auto_allocated_topology(admin, demo, alt):
    project = demo.current_project_id
    check = demo.network.validate_auto_allocated_topology(project)
    assert (check.id, check.project) == ("dry-run=pass", project)
    top = demo.network.get_auto_allocated_topology()
    network = demo.network.get_network(top.id)
    assert (network.name, network.project_id, top.project_id) == ("auto_allocated_network", project, project)
    (subnet,) = demo.network.subnets(network_id=network.id)
    assert subnet.name == "auto_allocated_subnet_v4" and subnet.cidr.endswith("/26")
    (router,) = [r for r in demo.network.routers() if r.name == "auto_allocated_router"]
    assert router.external_gateway_info["network_id"] == demo.network.find_network("public").id
    assert demo.network.get_auto_allocated_topology(project).id == top.id  # the same one, not a second
    status, body = _call(alt, "GET", f"/auto-allocated-topology/{project}")
    assert status == 403
    demo.network.delete_auto_allocated_topology(project)
    with pytest.raises(exc.NotFoundException):
        demo.network.get_network(top.id)
    assert [r for r in demo.network.routers() if r.name == "auto_allocated_router"] == []
    # Without a default external network, nothing is made and the reason is given.
    public = admin.network.find_network("public")
    admin.network.update_network(public, is_default=False)
    status, body = _call(demo, "GET", f"/auto-allocated-topology/{project}")
    assert status == 409 and body["NeutronError"] == {
        "type": "AutoAllocationFailure",
        "message": "Deployment error: No default router:external network.",
        "detail": "",
    }
    assert demo.network.get_auto_allocated_topology is not None
    admin.network.update_network(public, is_default=True)
    other = admin.network.create_network(name=_n("ext"), is_router_external=True)
    status, body = _call(admin, "PUT", f"/networks/{other.id}", {"network": {"is_default": True}})
    assert status == 409 and body["NeutronError"]["type"] == "DefaultExternalNetworkExists"
    status, body = _call(demo, "PUT", f"/networks/{public.id}", {"network": {"is_default": False}})
    assert status in (403, 404)
    admin.network.delete_network(other)


def test_static_route_via_the_gateway_subnet(admin):
    external = admin.network.create_network(name=_n("ext"), is_router_external=True)
    admin.network.create_subnet(network_id=external.id, ip_version=4, cidr="10.7.7.0/24")
    router = admin.network.create_router(name=_n("r"), external_gateway_info={"network_id": external.id})
    routes = [{"destination": "10.7.7.0/24", "nexthop": "10.7.7.99"}]
    assert admin.network.update_router(router, routes=routes).routes == routes
    gateway_ip = router.external_gateway_info["external_fixed_ips"][0]["ip_address"]
    status, body = _call(
        admin,
        "PUT",
        f"/routers/{router.id}",
        {"router": {"routes": [{"destination": "10.8.0.0/16", "nexthop": gateway_ip}]}},
    )
    assert status == 400 and "the nexthop is used by router" in body["NeutronError"]["message"]
    # The SDK's atomic extraroute calls, in its body format.
    admin.network.add_extra_routes_to_router(
        router, {"router": {"routes": [{"destination": "10.9.0.0/16", "nexthop": "10.7.7.98"}]}}
    )
    admin.network.remove_extra_routes_from_router(router, {"router": {"routes": routes}})
    assert admin.network.get_router(router.id).routes == [{"destination": "10.9.0.0/16", "nexthop": "10.7.7.98"}]
    admin.network.update_router(router, routes=[])
    admin.network.delete_router(router)
    admin.network.delete_network(external)


def test_quotas_cover_pools_and_rbac(admin, demo):
    quota = demo.network.get_quota(demo.current_project_id)
    assert (quota.subnet_pools, quota.rbac_policies) == (-1, 10)
    project = admin.identity.create_project(name=_n("q"), domain_id="default")
    admin.network.update_quota(project.id, rbac_policies=1, subnet_pools=1)
    admin.network.create_subnet_pool(name="one", prefixes=["10.200.0.0/16"], project_id=project.id)
    status, body = _call(
        admin, "POST", "/subnetpools", {"subnetpool": {"prefixes": ["10.201.0.0/16"], "project_id": project.id}}
    )
    assert status == 409 and body["NeutronError"]["message"] == "Quota exceeded for resources: ['subnetpool']."
    details = admin.network.get_quota(project.id, details=True)
    assert details.subnet_pools == {"limit": 1, "used": 1, "reserved": 0}
    for pool in admin.network.subnet_pools(project_id=project.id):
        admin.network.delete_subnet_pool(pool)
    admin.identity.delete_project(project)
