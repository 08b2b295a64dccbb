"""The Neutron API's edges: error bodies, bulk create, router interfaces by port, extra routes, restarts."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from typing import Any

import openstack
import openstack.exceptions as exc
import pytest

from stacksim.testing import Simulator


def _n(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def _call(conn, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    resp = conn.network.request(path, method, json=body)
    return resp.status_code, (resp.json() if resp.content else None)


def test_error_bodies(demo, sim):
    status, body = _call(demo, "GET", f"/networks/{uuid.uuid4()}")
    assert status == 404 and body["NeutronError"]["type"] == "NetworkNotFound"
    status, body = _call(demo, "GET", "/nothing-here")
    assert status == 404 and set(body["NeutronError"]) == {"type", "message", "detail"}
    status, body = _call(demo, "PUT", f"/security-group-rules/{uuid.uuid4()}", {"security_group_rule": {}})
    assert status == 405 and "NeutronError" in body
    status, body = _call(demo, "GET", "/extensions/no-such-extension")
    assert status == 404 and "no-such-extension" in body["NeutronError"]["message"]
    req = urllib.request.Request(f"{sim.url}/network/v2.0/networks")
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(req, timeout=5)
    assert denied.value.code == 401
    resp = demo.network.request("/networks", "POST", data=b"{not json", headers={"Content-Type": "application/json"})
    assert resp.status_code == 400 and "Malformed request body" in resp.json()["NeutronError"]["message"]


def test_bulk_create_is_all_or_nothing(demo):
    names = [_n("bulk"), _n("bulk")]
    status, body = _call(demo, "POST", "/networks", {"networks": [{"name": names[0]}, {"name": names[1]}]})
    assert status == 201 and [n["name"] for n in body["networks"]] == names
    good = _n("ok")
    status, body = _call(demo, "POST", "/networks", {"networks": [{"name": good}, {"name": "x", "mtu": 99999}]})
    assert status == 400 and "Requested MTU is too big" in body["NeutronError"]["message"]
    assert list(demo.network.networks(name=good)) == []
    for net in demo.network.networks():
        if net.name in names:
            demo.network.delete_network(net)


def test_router_interface_by_port_and_extra_routes(demo):
    net = demo.network.create_network(name=_n("rnet"))
    subnet = demo.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.70.0.0/24", enable_dhcp=False)
    port = demo.network.create_port(network_id=net.id, fixed_ips=[{"ip_address": "10.70.0.254"}])
    router = demo.network.create_router(name=_n("rtr"))
    info = demo.network.add_interface_to_router(router, port_id=port.id)
    assert info["port_id"] == port.id and info["subnet_ids"] == [subnet.id]
    attached = demo.network.get_port(port.id)
    assert attached.device_owner == "network:router_interface" and attached.device_id == router.id
    status, body = _call(demo, "PUT", f"/routers/{router.id}/add_router_interface", {})
    assert status == 400 and "Either subnet_id or port_id must be specified" in body["NeutronError"]["message"]

    with pytest.raises(exc.BadRequestException, match="the nexthop is not connected with router"):
        demo.network.update_router(router, routes=[{"destination": "10.80.0.0/16", "nexthop": "192.0.2.1"}])
    demo.network.add_extra_routes_to_router(
        router, body={"router": {"routes": [{"destination": "10.80.0.0/16", "nexthop": "10.70.0.10"}]}}
    )
    demo.network.add_extra_routes_to_router(
        router, body={"router": {"routes": [{"destination": "10.81.0.0/16", "nexthop": "10.70.0.11"}]}}
    )
    assert len(demo.network.get_router(router.id).routes) == 2
    status, body = _call(demo, "PUT", f"/routers/{router.id}/remove_router_interface", {"port_id": port.id})
    assert status == 409 and body["NeutronError"]["type"] == "RouterInterfaceInUseByRoute"
    demo.network.remove_extra_routes_from_router(
        router, body={"router": {"routes": [{"destination": "10.80.0.0/16", "nexthop": "10.70.0.10"}]}}
    )
    assert demo.network.get_router(router.id).routes == [{"destination": "10.81.0.0/16", "nexthop": "10.70.0.11"}]
    demo.network.update_router(router, routes=[])
    status, body = _call(demo, "PUT", f"/routers/{router.id}/remove_router_interface", {"subnet_id": str(uuid.uuid4())})
    assert status == 404 and body["NeutronError"]["type"] == "RouterInterfaceNotFoundForSubnet"
    # Removing an interface made from a port deletes that port, as in Neutron.
    demo.network.remove_interface_from_router(router, port_id=port.id)
    with pytest.raises(exc.NotFoundException):
        demo.network.get_port(port.id)
    demo.network.delete_router(router)
    demo.network.delete_network(net)


def test_gateway_can_move_and_go(admin, demo):
    public = demo.network.find_network("public")
    router = demo.network.create_router(name=_n("gw"), external_gateway_info={"network_id": public.id})
    gateway_ports = list(admin.network.ports(device_id=router.id, device_owner="network:router_gateway"))
    assert len(gateway_ports) == 1 and gateway_ports[0].project_id == ""
    # members cannot see the gateway port, nor choose its address
    assert list(demo.network.ports(device_id=router.id, device_owner="network:router_gateway")) == []
    with pytest.raises(exc.ForbiddenException):
        demo.network.update_router(
            router,
            external_gateway_info={"network_id": public.id, "external_fixed_ips": [{"ip_address": "172.24.4.200"}]},
        )
    moved = admin.network.update_router(
        router,
        external_gateway_info={"network_id": public.id, "external_fixed_ips": [{"ip_address": "172.24.4.200"}]},
    )
    assert moved.external_gateway_info["external_fixed_ips"][0]["ip_address"] == "172.24.4.200"
    cleared = demo.network.update_router(router, external_gateway_info={})
    assert cleared.external_gateway_info is None
    assert list(admin.network.ports(device_id=router.id)) == []
    demo.network.delete_router(router)


def test_state_survives_a_restart(tmp_path):
    state = tmp_path / "state"

    def connect(url: str):
        return openstack.connect(
            auth_url=f"{url}/identity",
            username="demo",
            password="stacksim",
            project_name="demo",
            user_domain_id="default",
            project_domain_id="default",
        )

    with Simulator(state_dir=state) as first:
        conn = connect(first.url)
        net = conn.network.create_network(name="kept")
        conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.90.0.0/24")
        port = conn.network.create_port(network_id=net.id)
    with Simulator(state_dir=state) as second:
        conn = connect(second.url)
        assert conn.network.get_port(port.id).fixed_ips == port.fixed_ips
        # The bootstrap ran once: one public network, one default group.
        assert len(list(conn.network.networks(name="public"))) == 1
        assert len(list(conn.network.security_groups(name="default"))) == 1
        assert conn.network.create_port(network_id=net.id).fixed_ips[0]["ip_address"] != port.fixed_ips[0]["ip_address"]


def test_discovery_documents(sim):
    with urllib.request.urlopen(f"{sim.url}/network/", timeout=5) as resp:
        assert resp.status == 200
        body = json.load(resp)
    assert body["versions"][0]["id"] == "v2.0"
