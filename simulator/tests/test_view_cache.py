"""``GET /servers/detail`` keeps the views it encoded while nothing is written (``compute/listed.py``).
A listed server's view must never lag: after every change, a list made at once shows what
``GET /servers/{id}`` (never kept) shows, and a caller of another shape (an admin, another
microversion) never gets a view made for someone else."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from compute_http import nova

from stacksim.services.image.bootstrap import DEFAULT_IMAGE_NAME
from stacksim.testing import wait_until

LATEST = "2.96"


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def _listed(conn: Any, server_id: str, version: str = LATEST, query: str = "") -> dict[str, Any]:
    resp = nova(conn, "GET", f"/servers/detail{query}", version=version)
    assert resp.status_code == 200, resp.text
    found = [s for s in resp.json()["servers"] if s["id"] == server_id]
    assert len(found) == 1, resp.json()
    return found[0]


def _shown(conn: Any, server_id: str, version: str = LATEST) -> dict[str, Any]:
    resp = nova(conn, "GET", f"/servers/{server_id}", version=version)
    assert resp.status_code == 200, resp.text
    view = resp.json()["server"]
    view.pop("server_groups", None)  # a single server's view only, as in Nova
    return view


def _same(conn: Any, server_id: str) -> dict[str, Any]:
    """Lists twice (the second from what the first kept, if nothing changed) and shows: all equal."""
    first = _listed(conn, server_id)
    assert _listed(conn, server_id) == first
    shown = _shown(conn, server_id)
    assert first == shown
    return shown


@pytest.fixture
def vm(demo) -> dict[str, Any]:
    name = _name("vc")
    network = demo.network.create_network(name=name)
    subnet = demo.network.create_subnet(network_id=network.id, name=name, cidr="10.30.0.0/24", ip_version=4)
    server = demo.create_server(
        name, image=DEFAULT_IMAGE_NAME, flavor="m1.tiny", network=name, wait=True, auto_ip=False
    )
    return {"server": server, "network": network, "subnet": subnet}


def test_changes_to_the_server_show_in_the_next_list(demo, vm):
    sid = vm["server"].id
    _same(demo, sid)
    demo.compute.set_server_metadata(sid, color="blue")
    assert _same(demo, sid)["metadata"] == {"color": "blue"}
    demo.compute.update_server(sid, name="renamed")
    assert _same(demo, sid)["name"] == "renamed"
    nova(demo, "PUT", f"/servers/{sid}/tags/t1", version=LATEST).raise_for_status()
    assert _same(demo, sid)["tags"] == ["t1"]
    demo.compute.lock_server(sid)
    assert _same(demo, sid)["locked"] is True
    demo.compute.unlock_server(sid)
    assert _same(demo, sid)["locked"] is False
    demo.compute.stop_server(sid)
    wait_until(
        lambda: (view := _shown(demo, sid))["status"] == "SHUTOFF" and view["OS-EXT-STS:task_state"] is None,
        15,
        "the server to stop",
    )
    assert _same(demo, sid)["status"] == "SHUTOFF"


def test_address_changes_show_in_the_next_list(demo, vm):
    sid = vm["server"].id
    before = _same(demo, sid)
    assert list(before["addresses"]) == [vm["network"].name]
    public = demo.network.find_network("public")
    router = demo.network.create_router(name=_name("r"), external_gateway_info={"network_id": public.id})
    demo.network.add_interface_to_router(router, subnet=vm["subnet"].id)
    port = next(demo.network.ports(device_id=sid))
    fip = demo.network.create_ip(floating_network_id=public.id, port_id=port.id)
    kinds = [a["OS-EXT-IPS:type"] for a in _same(demo, sid)["addresses"][vm["network"].name]]
    assert kinds == ["fixed", "floating"]
    demo.network.update_ip(fip, port_id=None)
    kinds = [a["OS-EXT-IPS:type"] for a in _same(demo, sid)["addresses"][vm["network"].name]]
    assert kinds == ["fixed"]
    other = demo.network.create_network(name=_name("other"))
    demo.network.create_subnet(network_id=other.id, name=other.name, cidr="10.31.0.0/24", ip_version=4)
    demo.compute.create_server_interface(sid, net_id=other.id)
    wait_until(lambda: other.name in _shown(demo, sid)["addresses"], 15, "the new interface's address")
    assert set(_same(demo, sid)["addresses"]) == {vm["network"].name, other.name}
    demo.network.update_port(port, fixed_ips=[{"subnet_id": vm["subnet"].id, "ip_address": "10.30.0.77"}])
    assert _same(demo, sid)["addresses"][vm["network"].name][0]["addr"] == "10.30.0.77"


def test_security_groups_and_volumes_show_in_the_next_list(demo, vm):
    sid = vm["server"].id
    _same(demo, sid)
    group = demo.network.create_security_group(name=_name("sg"))
    demo.compute.add_security_group_to_server(sid, group)
    assert {"name": group.name} in _same(demo, sid)["security_groups"]
    volume = demo.block_storage.create_volume(size=1, name=_name("v"))
    demo.block_storage.wait_for_status(volume, "available", wait=15)
    demo.compute.create_volume_attachment(sid, volume_id=volume.id)
    wait_until(lambda: _shown(demo, sid)["os-extended-volumes:volumes_attached"], 15, "the attachment")
    assert [v["id"] for v in _same(demo, sid)["os-extended-volumes:volumes_attached"]] == [volume.id]


def test_each_caller_and_microversion_gets_its_own_view(admin, demo, vm):
    sid = vm["server"].id
    mine = _listed(demo, sid)
    as_admin = _listed(admin, sid, query="?all_tenants=1")
    assert "OS-EXT-SRV-ATTR:host" in as_admin and "OS-EXT-SRV-ATTR:host" not in mine
    assert _listed(demo, sid) == mine  # not the admin's view, though nothing changed meanwhile
    old = _listed(demo, sid, version="2.1")
    assert "locked" not in old and "locked" in mine
    assert _listed(demo, sid, version="2.1") == old == _shown(demo, sid, version="2.1")


def test_a_server_deleted_leaves_the_list_at_once(demo, vm):
    sid = vm["server"].id
    _same(demo, sid)
    demo.compute.delete_server(sid)
    wait_until(lambda: nova(demo, "GET", f"/servers/{sid}").status_code == 404, 15, "the server to go")
    resp = nova(demo, "GET", "/servers/detail", version=LATEST)
    assert sid not in [s["id"] for s in resp.json()["servers"]]


def test_each_query_gets_its_own_reply(demo, vm):
    second = demo.create_server(_name("vc2"), image=DEFAULT_IMAGE_NAME, flavor="m1.tiny", network=vm["network"].name)
    wait_until(
        lambda: (view := _shown(demo, second.id))["status"] == "ACTIVE" and view["OS-EXT-STS:task_state"] is None,
        15,
        "the second server",
    )

    def ids(query: str) -> list[str]:
        resp = nova(demo, "GET", f"/servers/detail{query}", version=LATEST)
        assert resp.status_code == 200, resp.text
        return [s["id"] for s in resp.json()["servers"]]

    both = ids("")
    assert set(both) == {vm["server"].id, second.id}
    assert ids("?limit=1") == both[:1]
    assert ids(f"?limit=1&marker={both[0]}") == both[1:]
    assert ids(f"?name=^{vm['server'].name}$") == [vm["server"].id]
    assert ids("") == both
    brief = nova(demo, "GET", "/servers", version=LATEST).json()["servers"]
    assert [s["id"] for s in brief] == both and set(brief[0]) == {"id", "name", "links"}
