"""Flavors through openstacksdk and raw Nova calls."""

from __future__ import annotations

import uuid

import openstack.exceptions as exc
import pytest
from compute_http import fault, nova

from stacksim.auth import Context
from stacksim.cloud import Cloud
from stacksim.config import Settings

DEVSTACK = {
    "1": ("m1.tiny", 512, 1, 1),
    "2": ("m1.small", 2048, 20, 1),
    "3": ("m1.medium", 4096, 40, 2),
    "4": ("m1.large", 8192, 80, 4),
    "5": ("m1.xlarge", 16384, 160, 8),
    "42": ("m1.nano", 128, 1, 1),
    "84": ("m1.micro", 192, 1, 1),
}


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def test_default_flavors_as_devstack_makes_them(demo):
    rows = nova(demo, "GET", "/flavors/detail").json()["flavors"]
    found = {r["id"]: (r["name"], r["ram"], r["disk"], r["vcpus"]) for r in rows if r["id"] in DEVSTACK}
    assert found == DEVSTACK
    # Nova sorts by flavor id, as text
    ids = [r["id"] for r in rows if r["id"] in DEVSTACK]
    assert ids == ["1", "2", "3", "4", "42", "5", "84"]
    small = demo.compute.find_flavor("m1.small")
    shown = nova(demo, "GET", f"/flavors/{small.id}").json()["flavor"]
    assert shown["id"] == "2" and shown["ram"] == 2048 and shown["disk"] == 20 and shown["vcpus"] == 1
    assert shown["os-flavor-access:is_public"] is True and shown["OS-FLV-EXT-DATA:ephemeral"] == 0


def test_admin_create_set_show_delete(admin, demo):
    name = _name("fl")
    body = {
        "flavor": {
            "name": name, "ram": 1024, "disk": 10, "vcpus": 2, "swap": 512, "OS-FLV-EXT-DATA:ephemeral": 5,
            "id": f"{name}-id", "description": "made by a test",
        }
    }  # fmt: skip
    made = nova(admin, "POST", "/flavors", version="2.55", json=body).json()["flavor"]
    assert made["id"] == f"{name}-id" and made["ram"] == 1024 and made["swap"] == 512
    assert made["OS-FLV-EXT-DATA:ephemeral"] == 5 and made["description"] == "made by a test"
    flavor_id = made["id"]
    specs = {"extra_specs": {"hw:cpu_policy": "dedicated", "a": "1"}}
    assert nova(admin, "POST", f"/flavors/{flavor_id}/os-extra_specs", json=specs).status_code == 200
    described = nova(admin, "PUT", f"/flavors/{flavor_id}", version="2.55", json={"flavor": {"description": "changed"}})
    assert described.status_code == 200
    # a member sees a public flavor and its extra specs
    shown = nova(demo, "GET", f"/flavors/{flavor_id}", version="2.61").json()["flavor"]
    assert shown["extra_specs"] == {"hw:cpu_policy": "dedicated", "a": "1"}
    assert shown["description"] == "changed"
    assert nova(admin, "DELETE", f"/flavors/{flavor_id}/os-extra_specs/a").status_code == 200
    assert demo.compute.fetch_flavor_extra_specs(flavor_id).extra_specs == {"hw:cpu_policy": "dedicated"}
    duplicate = nova(admin, "POST", "/flavors", json={"flavor": {"name": name, "ram": 1, "disk": 1, "vcpus": 1}})
    assert fault(duplicate, 409, "conflictingRequest") == f"Flavor with name {name} already exists."
    assert nova(admin, "DELETE", f"/flavors/{flavor_id}").status_code == 202
    assert nova(demo, "GET", f"/flavors/{flavor_id}").status_code == 404


def test_members_may_not_manage_flavors(demo):
    denied = nova(demo, "POST", "/flavors", json={"flavor": {"name": _name("fl"), "ram": 1, "disk": 1, "vcpus": 1}})
    assert fault(denied, 403, "forbidden") == (
        "Policy doesn't allow os_compute_api:os-flavor-manage:create to be performed."
    )
    fault(nova(demo, "DELETE", "/flavors/1"), 403, "forbidden")
    body = {"extra_specs": {"k": "v"}}
    fault(nova(demo, "POST", "/flavors/1/os-extra_specs", json=body), 403, "forbidden")


def test_private_flavor_is_hidden_without_access(admin, alt):
    name = _name("priv")
    flavor = admin.compute.create_flavor(name=name, ram=256, vcpus=1, disk=1, is_public=False)

    def admin_list(**params) -> list[str]:
        return [f["name"] for f in nova(admin, "GET", "/flavors", params=params).json()["flavors"]]

    # invisible to a project without access: not listed, and 404 on show
    assert name not in [f.name for f in alt.compute.flavors()]
    with pytest.raises(exc.NotFoundException, match=f"Flavor {flavor.id} could not be found."):
        alt.compute.get_flavor(flavor.id)
    alt_project = alt.current_project_id
    admin.compute.flavor_add_tenant_access(flavor, alt_project)
    access = admin.compute.get_flavor_access(flavor)
    assert [(a["flavor_id"], a["tenant_id"]) for a in access] == [(flavor.id, alt_project)]
    assert name in [f.name for f in alt.compute.flavors()]
    assert alt.compute.get_flavor(flavor.id).name == name
    # the admin's default list is public + its own project's; --all shows every flavor
    assert name not in admin_list()
    assert name in admin_list(is_public="None")  # the CLI's --all
    assert admin_list(is_public="false").count(name) == 1  # and --private
    again = nova(admin, "POST", f"/flavors/{flavor.id}/action", json={"addTenantAccess": {"tenant": alt_project}})
    assert "already exists" in fault(again, 409, "conflictingRequest")
    admin.compute.flavor_remove_tenant_access(flavor, alt_project)
    with pytest.raises(exc.NotFoundException):
        alt.compute.get_flavor(flavor.id)
    public = nova(admin, "GET", "/flavors/1/os-flavor-access")
    assert fault(public, 404, "itemNotFound") == "Access list not available for public flavors."


def test_sdk_filters_sorting_and_detail(demo):
    small = [f.name for f in demo.compute.flavors(min_ram=8192)]
    assert {"m1.large", "m1.xlarge"} <= set(small) and "m1.tiny" not in small
    assert "m1.tiny" not in [f.name for f in demo.compute.flavors(min_disk=2)]
    by_ram = [f.ram for f in demo.compute.flavors(sort_key="memory_mb", sort_dir="desc")]
    assert by_ram == sorted(by_ram, reverse=True)
    tiny = demo.compute.find_flavor("m1.tiny")
    assert (tiny.vcpus, tiny.ram, tiny.disk, tiny.is_public) == (1, 512, 1, True)
    assert tiny.extra_specs == {}  # shown inline from 2.61, the SDK's version


def test_limit_marker_and_links(demo):
    first = nova(demo, "GET", "/flavors?limit=3")
    body = first.json()
    assert [f["id"] for f in body["flavors"]] == ["1", "2", "3"]
    (link,) = body["flavors_links"]
    assert link["rel"] == "next" and "marker=3" in link["href"] and "limit=3" in link["href"]
    second = nova(demo, "GET", "/flavors?limit=3&marker=3").json()
    assert [f["id"] for f in second["flavors"]][:2] == ["4", "42"]
    assert fault(nova(demo, "GET", "/flavors?marker=nope"), 400, "badRequest") == "marker [nope] not found"
    assert fault(nova(demo, "GET", "/flavors?minRam=lots"), 400, "badRequest") == "Invalid minRam filter [lots]"
    # every paged item is a short view with links
    item = body["flavors"][0]
    assert set(item) == {"id", "name", "links"}
    assert {link["rel"] for link in item["links"]} == {"self", "bookmark"}


def test_flavor_body_by_microversion(admin):
    old = nova(admin, "GET", "/flavors/1").json()["flavor"]
    assert old["swap"] == "" and "description" not in old and "extra_specs" not in old
    assert old["rxtx_factor"] == 1.0 and old["OS-FLV-DISABLED:disabled"] is False
    new = nova(admin, "GET", "/flavors/1", version="2.75").json()["flavor"]
    assert new["swap"] == 0 and new["description"] is None and new["extra_specs"] == {}
    body = {"flavor": {"name": _name("x"), "ram": 1, "vcpus": 1, "disk": 0, "description": "d"}}
    message = fault(nova(admin, "POST", "/flavors", version="2.54", json=body), 400, "badRequest")
    assert "'description' was unexpected" in message
    bad = {"flavor": {"name": _name("x"), "ram": 0, "vcpus": 1, "disk": 0}}
    fault(nova(admin, "POST", "/flavors", json=bad), 400, "badRequest")


def test_extra_spec_calls(admin, demo):
    flavor = admin.compute.create_flavor(name=_name("specs"), ram=64, vcpus=1, disk=0)
    try:
        admin.compute.create_flavor_extra_specs(flavor, {"hw:mem_page_size": "large", "quota:cpu_shares": 512})
        assert demo.compute.get_flavor_extra_specs_property(flavor, "quota:cpu_shares") == "512"
        admin.compute.update_flavor_extra_specs_property(flavor, "hw:mem_page_size", "small")
        assert demo.compute.fetch_flavor_extra_specs(flavor.id).extra_specs == {
            "hw:mem_page_size": "small",
            "quota:cpu_shares": "512",
        }
        admin.compute.delete_flavor_extra_specs_property(flavor, "hw:mem_page_size")
        missing = nova(demo, "GET", f"/flavors/{flavor.id}/os-extra_specs/hw:mem_page_size")
        assert (
            fault(missing, 404, "itemNotFound") == f"Flavor {flavor.id} has no extra specs with key hw:mem_page_size."
        )
        mismatch = nova(admin, "PUT", f"/flavors/{flavor.id}/os-extra_specs/a", json={"b": "1"})
        assert fault(mismatch, 400, "badRequest") == "Request body and URI mismatch"
    finally:
        admin.compute.delete_flavor(flavor)


ADMIN = Context(token_id="", user_id="admin", user_name="admin", user_domain_id="default", roles=frozenset({"admin"}))


def test_defaults_only_on_first_start(tmp_path):
    settings = Settings(state_dir=tmp_path)
    first = Cloud(settings)
    first.start()
    first.compute.delete_flavor(ADMIN, "42")
    hypervisor = first.compute.hosts.hypervisor()["id"]
    first.close()
    second = Cloud(settings)
    second.start()
    try:
        ids = [f["id"] for f in second.store.find("flavor")]
        assert "42" not in ids and "84" in ids  # a flavor an admin deleted stays deleted
        assert second.compute.hosts.hypervisor()["id"] == hypervisor
    finally:
        second.close()
