"""Lists: filters, ``fields``, sorting, pagination with links; revisions and timestamps; tags."""

from __future__ import annotations

import urllib.parse
import uuid
from typing import Any

import pytest


def _get(conn, path: str, params: Any = None) -> tuple[int, dict]:
    resp = conn.network.request(path, "GET", params=params)
    return resp.status_code, (resp.json() if resp.content else {})


@pytest.fixture
def tagged(admin):
    """Five networks with one fresh tag, names out of creation order."""
    tag = f"page-{uuid.uuid4().hex[:6]}"
    names = ["delta", "alpha", "echo", "charlie", "bravo"]
    nets = [
        admin.network.create_network(name=f"{tag}-{name}", tags=[tag], mtu=1400 + i, is_admin_state_up=(i % 2 == 0))
        for i, name in enumerate(names)
    ]
    yield tag, nets
    for net in nets:
        admin.network.delete_network(net)


def test_pagination_follows_links(admin, tagged):
    tag, nets = tagged
    status, body = _get(admin, "/networks", {"tags": tag, "limit": 2})
    assert status == 200
    assert [n["id"] for n in body["networks"]] == [n.id for n in nets[:2]]
    links = {link["rel"]: link["href"] for link in body["networks_links"]}
    assert set(links) == {"next"}  # the first page has nothing before it
    seen = [n["id"] for n in body["networks"]]
    while "next" in links:
        query = urllib.parse.parse_qs(urllib.parse.urlparse(links["next"]).query)
        assert query["tags"] == [tag] and query["limit"] == ["2"]
        status, body = _get(admin, "/networks", query)
        seen += [n["id"] for n in body["networks"]]
        links = {link["rel"]: link["href"] for link in body["networks_links"]}
        assert "previous" in links
    assert seen == [n.id for n in nets]
    # ... and back with page_reverse from the last page's previous link
    query = urllib.parse.parse_qs(urllib.parse.urlparse(links["previous"]).query)
    assert query["page_reverse"] == ["True"] and query["marker"] == [nets[4].id]
    status, body = _get(admin, "/networks", query)
    assert [n["id"] for n in body["networks"]] == [n.id for n in nets[2:4]]
    # The SDK pages through on its own.
    assert [n.id for n in admin.network.networks(tags=tag, limit=2)] == [n.id for n in nets]


def test_no_links_without_limit_and_bad_marker(admin, tagged):
    tag, _ = tagged
    status, body = _get(admin, "/networks", {"tags": tag})
    assert status == 200 and "networks_links" not in body and len(body["networks"]) == 5
    status, body = _get(admin, "/networks", {"tags": tag, "limit": 2, "marker": str(uuid.uuid4())})
    assert status == 404
    status, body = _get(admin, "/networks", {"limit": "many"})
    assert status == 400 and "Limit must be an integer" in body["NeutronError"]["message"]


def test_sorting(admin, tagged):
    tag, _ = tagged
    status, body = _get(admin, "/networks", {"tags": tag, "sort_key": "name", "sort_dir": "asc"})
    assert [n["name"].split("-")[-1] for n in body["networks"]] == ["alpha", "bravo", "charlie", "delta", "echo"]
    status, body = _get(admin, "/networks", {"tags": tag, "sort_key": "mtu", "sort_dir": "desc"})
    assert [n["mtu"] for n in body["networks"]] == [1404, 1403, 1402, 1401, 1400]
    status, body = _get(
        admin,
        "/networks",
        [
            ("tags", tag),
            ("sort_key", "admin_state_up"),
            ("sort_dir", "desc"),
            ("sort_key", "name"),
            ("sort_dir", "asc"),
        ],
    )
    names = [n["name"].split("-")[-1] for n in body["networks"]]
    assert names == ["bravo", "delta", "echo", "alpha", "charlie"]
    # sorted pages
    status, body = _get(admin, "/networks", {"tags": tag, "sort_key": "name", "limit": 3})
    second = urllib.parse.parse_qs(urllib.parse.urlparse(body["networks_links"][0]["href"]).query)
    status, body = _get(admin, "/networks", second)
    assert [n["name"].split("-")[-1] for n in body["networks"]] == ["delta", "echo"]
    status, body = _get(admin, "/networks", {"sort_key": "colour"})
    assert status == 400 and "colour is invalid attribute for sort_keys" in body["NeutronError"]["message"]
    status, body = _get(admin, "/networks", {"sort_key": "name", "sort_dir": "up"})
    assert status == 400
    status, body = _get(admin, "/networks", [("sort_key", "name"), ("sort_key", "id"), ("sort_dir", "asc")])
    assert status == 400 and "sort_keys and sort_dirs must be same" in body["NeutronError"]["message"]


def test_fields(admin, tagged):
    tag, nets = tagged
    status, body = _get(admin, "/networks", [("tags", tag), ("fields", "id"), ("fields", "name")])
    assert status == 200 and len(body["networks"]) == 5
    assert all(set(n) == {"id", "name"} for n in body["networks"])
    _, body = _get(admin, f"/networks/{nets[0].id}", {"fields": "mtu"})
    assert body == {"network": {"mtu": 1400}}


def test_filters(admin, tagged):
    tag, nets = tagged
    status, body = _get(admin, "/networks", [("tags", tag), ("name", nets[0].name), ("name", nets[1].name)])
    assert {n["id"] for n in body["networks"]} == {nets[0].id, nets[1].id}  # repeated keys: OR
    status, body = _get(admin, "/networks", {"tags": tag, "admin_state_up": "false"})
    assert {n["id"] for n in body["networks"]} == {nets[1].id, nets[3].id}
    status, body = _get(admin, "/networks", {"tags": tag, "mtu": "1402"})
    assert [n["id"] for n in body["networks"]] == [nets[2].id]
    status, body = _get(admin, "/networks", {"tags-any": f"{tag},nothing", "router:external": "False"})
    assert len(body["networks"]) == 5
    status, body = _get(admin, "/networks", {"tags": f"{tag},nothing"})
    assert body["networks"] == []
    status, body = _get(admin, "/networks", {"not-tags": tag, "name": nets[0].name})
    assert body["networks"] == []
    status, body = _get(admin, "/networks", {"colour": "blue"})
    assert status == 400 and body["NeutronError"]["message"] == "[colour] is invalid attribute for filtering"
    status, body = _get(admin, "/networks", {"tags": tag, "changed_since": "2000-01-01T00:00:00Z"})
    assert len(body["networks"]) == 5
    status, body = _get(admin, "/networks", {"tags": tag, "changed_since": "2999-01-01T00:00:00Z"})
    assert body["networks"] == []
    public = admin.network.find_network("public")
    assert [n.id for n in admin.network.networks(is_router_external=True, name="public")] == [public.id]


def test_port_filters_by_fixed_ip(demo):
    net = demo.network.create_network(name=f"flt-{uuid.uuid4().hex[:6]}")
    subnet = demo.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.60.0.0/24", enable_dhcp=False)
    a = demo.network.create_port(network_id=net.id, fixed_ips=[{"ip_address": "10.60.0.10"}])
    b = demo.network.create_port(network_id=net.id, fixed_ips=[{"ip_address": "10.60.0.20"}])
    found = demo.network.ports(fixed_ips=["ip_address=10.60.0.20"])
    assert [p.id for p in found] == [b.id]
    found = demo.network.ports(network_id=net.id, fixed_ips=[f"subnet_id={subnet.id}"])
    assert {p.id for p in found} == {a.id, b.id}
    _, body = _get(demo, "/ports", {"fixed_ips": "ip_address_substr=10.60.0.1"})
    assert [p["id"] for p in body["ports"]] == [a.id]
    for port in (a, b):
        demo.network.delete_port(port)
    demo.network.delete_network(net)


def test_revision_number_timestamps_and_if_match(demo):
    net = demo.network.create_network(name=f"rev-{uuid.uuid4().hex[:6]}")
    assert net.revision_number == 0 and net.created_at == net.updated_at
    first = demo.network.update_network(net, description="one").revision_number
    assert first == 1
    assert demo.network.update_network(net, description="two").revision_number == 2
    assert demo.network.update_network(net, description="two").revision_number == 2  # no change, no bump
    resp = demo.network.request(
        f"/networks/{net.id}",
        "PUT",
        json={"network": {"name": "x"}},
        headers={"If-Match": "revision_number=1"},
    )
    assert resp.status_code == 412
    assert resp.json()["NeutronError"]["message"] == "Constrained to 1, but current revision is 2"
    resp = demo.network.request(
        f"/networks/{net.id}",
        "PUT",
        json={"network": {"name": "x"}},
        headers={"If-Match": "revision_number=2"},
    )
    assert resp.status_code == 200 and resp.json()["network"]["revision_number"] == 3
    assert resp.json()["network"]["tenant_id"] == resp.json()["network"]["project_id"] == net.project_id
    demo.network.delete_network(net)


def test_tags_sub_resource(demo):
    net = demo.network.create_network(name=f"tags-{uuid.uuid4().hex[:6]}")
    demo.network.set_tags(net, ["b", "a"])
    assert demo.network.get_network(net.id).tags == ["a", "b"]
    demo.network.add_tag(net, "c")
    assert sorted(demo.network.get(f"/networks/{net.id}/tags").json()["tags"]) == ["a", "b", "c"]
    assert demo.network.check_tag(net, "c") is not None
    assert demo.network.request(f"/networks/{net.id}/tags/zzz", "GET").status_code == 404
    demo.network.remove_tag(net, "a")
    assert demo.network.get_network(net.id).tags == ["b", "c"]
    assert demo.network.request(f"/networks/{net.id}/tags/zzz", "DELETE").status_code == 404
    demo.network.remove_all_tags(net)
    assert demo.network.get_network(net.id).tags == []
    router = demo.network.create_router(name=f"tags-{uuid.uuid4().hex[:6]}")
    demo.network.set_tags(router, ["edge"])
    assert [r.id for r in demo.network.routers(tags="edge")] == [router.id]
    demo.network.delete_router(router)
    demo.network.delete_network(net)
