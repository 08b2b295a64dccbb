"""Compute quotas and limits: openstacksdk, raw calls and microversions, and the model servers call."""

from __future__ import annotations

import uuid

import openstack.exceptions as exc
import pytest
from compute_http import fault, nova

from stacksim import faults
from stacksim.auth import Context
from stacksim.services.compute.quotas import DEFAULTS, Quotas
from stacksim.services.compute.server_groups import ServerGroups
from stacksim.store import Store

NOVA_DEFAULTS = {
    "instances": 10,
    "cores": 20,
    "ram": 51200,
    "key_pairs": 100,
    "metadata_items": 128,
    "server_groups": 10,
    "server_group_members": 10,
}


def test_quota_defaults_are_novas(demo):
    rows = nova(demo, "GET", f"/os-quota-sets/{demo.current_project_id}/defaults").json()["quota_set"]
    assert rows["instances"] == 10 and rows["cores"] == 20 and rows["ram"] == 51200
    assert rows["key_pairs"] == 100 and rows["metadata_items"] == 128
    assert rows["server_groups"] == 10 and rows["server_group_members"] == 10


def test_admin_sets_and_member_may_not(admin, alt):
    project = alt.current_project_id
    body = {"quota_set": {"instances": 20, "cores": 40}}
    assert nova(admin, "PUT", f"/os-quota-sets/{project}", json=body).status_code == 200
    rows = nova(alt, "GET", f"/os-quota-sets/{project}").json()["quota_set"]
    assert (rows["instances"], rows["cores"], rows["ram"]) == (20, 40, 51200)
    usage = nova(alt, "GET", f"/os-quota-sets/{project}/detail").json()["quota_set"]
    assert usage["instances"]["limit"] == 20 and usage["instances"]["in_use"] == 0
    denied = nova(alt, "PUT", f"/os-quota-sets/{project}", json={"quota_set": {"instances": 5}})
    assert (
        fault(denied, 403, "forbidden") == "Policy doesn't allow os_compute_api:os-quota-sets:update to be performed."
    )
    assert nova(admin, "DELETE", f"/os-quota-sets/{project}").status_code == 202
    assert nova(alt, "GET", f"/os-quota-sets/{project}").json()["quota_set"]["instances"] == 10


def test_limits_absolute(demo):
    rows = dict(demo.compute.get_limits().absolute)  # openstacksdk's names, as `limits show --absolute` shows
    assert rows["max_total_instances"] == 10 and rows["max_total_cores"] == 20
    assert rows["max_total_ram_size"] == 51200 and rows["max_total_keypairs"] == 100 and rows["max_server_meta"] == 128
    used = {"total_instances_used", "total_cores_used", "total_ram_used", "total_server_groups_used"}
    assert used <= set(rows)


def test_sdk_quota_calls(admin, connect):
    alt = connect("stacksim-alt")
    project = alt.current_project_id
    quotas = admin.get_compute_quotas(project)
    assert (quotas.instances, quotas.cores, quotas.ram, quotas.key_pairs) == (10, 20, 51200, 100)
    try:
        admin.set_compute_quotas(project, cores=64, ram=102400)
        again = alt.get_compute_quotas(project)
        assert (again.cores, again.ram, again.instances) == (64, 102400, 10)
        limits = alt.get_compute_limits()
        assert (limits.total_cores, limits.total_ram, limits.instances) == (64, 102400, 10)
        assert limits.total_cores_used == 0 and limits.instances_used == 0
        with pytest.raises(exc.ForbiddenException):
            alt.set_compute_quotas(project, cores=1)
        with pytest.raises(exc.ForbiddenException):
            alt.get_compute_quotas(admin.current_project_id)  # another project's
    finally:
        admin.delete_compute_quotas(project)
    assert admin.get_compute_quotas(project).cores == 20


def test_quota_set_bodies_by_microversion(admin, demo):
    project = demo.current_project_id
    old = nova(admin, "GET", f"/os-quota-sets/{project}").json()["quota_set"]
    assert old["id"] == project and old["floating_ips"] == 10 and old["injected_files"] == 5
    assert {k: old[k] for k in NOVA_DEFAULTS} == NOVA_DEFAULTS
    mid = nova(admin, "GET", f"/os-quota-sets/{project}", version="2.36").json()["quota_set"]
    assert "floating_ips" not in mid and "security_groups" not in mid and mid["injected_files"] == 5
    new = nova(admin, "GET", f"/os-quota-sets/{project}", version="2.57").json()["quota_set"]
    assert set(new) == {"id", *NOVA_DEFAULTS}
    detail = nova(admin, "GET", f"/os-quota-sets/{project}/detail", version="2.57").json()["quota_set"]
    assert detail["cores"] == {"limit": 20, "in_use": 0, "reserved": 0}
    gone = nova(admin, "PUT", f"/os-quota-sets/{project}", version="2.57", json={"quota_set": {"injected_files": 1}})
    assert "'injected_files' was unexpected" in fault(gone, 400, "badRequest")
    low = nova(admin, "PUT", f"/os-quota-sets/{project}", json={"quota_set": {"cores": -2}})
    fault(low, 400, "badRequest")
    unknown = nova(admin, "GET", "/os-quota-sets/no-such-project")
    assert fault(unknown, 400, "badRequest") == "Project ID no-such-project is not a valid project."


def test_limits_by_microversion_and_for_other_projects(admin, demo):
    old = nova(demo, "GET", "/limits").json()["limits"]
    assert old["rate"] == [] and old["absolute"]["maxImageMeta"] == 128 and "maxPersonality" in old["absolute"]
    assert "maxTotalFloatingIps" in old["absolute"] and "totalSecurityGroupsUsed" in old["absolute"]
    new = nova(demo, "GET", "/limits", version="2.57").json()["limits"]["absolute"]
    assert "maxImageMeta" not in new and "maxPersonality" not in new and "maxTotalFloatingIps" not in new
    assert new["maxTotalInstances"] == 10 and new["totalServerGroupsUsed"] >= 0
    other = nova(demo, "GET", f"/limits?tenant_id={admin.current_project_id}")
    assert fault(other, 403, "forbidden") == "Policy doesn't allow os_compute_api:limits:other_project to be performed."
    assert nova(admin, "GET", f"/limits?tenant_id={demo.current_project_id}").status_code == 200


def test_quota_class_default_changes_the_defaults(admin, connect):
    alt = connect("stacksim-alt")
    shown = nova(admin, "GET", "/os-quota-class-sets/default", version="2.57").json()["quota_class_set"]
    assert shown["id"] == "default" and shown["instances"] == 10 and shown["server_groups"] == 10
    try:
        nova(admin, "PUT", "/os-quota-class-sets/default", json={"quota_class_set": {"metadata_items": 64}})
        assert alt.get_compute_quotas(alt.current_project_id).metadata_items == 64
    finally:
        nova(admin, "PUT", "/os-quota-class-sets/default", json={"quota_class_set": {"metadata_items": 128}})
    fault(nova(alt, "GET", "/os-quota-class-sets/default"), 403, "forbidden")


# -- the model the servers code calls ----------------------------------------------------------------


def _ctx(project: str, admin: bool = False) -> Context:
    roles = {"admin", "member", "reader"} if admin else {"member", "reader"}
    return Context(token_id="t", user_id="u", user_name="u", user_domain_id="default", roles=frozenset(roles),
                   project_id=project)  # fmt: skip


def _server(store: Store, project: str, vcpus: int, ram: int, status: str = "ACTIVE") -> dict:
    flavor = {"vcpus": vcpus, "ram": ram, "disk": 1, "ephemeral": 0, "swap": 0}
    record = {"id": str(uuid.uuid4()), "project_id": project, "user_id": "u", "status": status, "flavor": flavor}
    return store.put("server", record)


def test_quota_check_counts_servers_and_speaks_novas_message():
    store = Store()
    quotas = Quotas(store)
    for _ in range(9):
        _server(store, "p1", vcpus=2, ram=1024)
    _server(store, "p1", vcpus=8, ram=8192, status="DELETED")  # holds nothing
    _server(store, "p2", vcpus=8, ram=8192)  # another project's
    assert quotas.usage("p1")["cores"] == 18 and quotas.usage("p1")["instances"] == 9
    quotas.check("p1", instances=1, cores=2, ram=2048)
    with pytest.raises(faults.Forbidden) as over:
        quotas.check("p1", instances=1, cores=4, ram=4096)
    assert over.value.message == "Quota exceeded for cores: Requested 4, but already used 18 of 20 cores"
    with pytest.raises(faults.Forbidden) as both:
        quotas.check("p1", instances=2, cores=4, ram=1024)
    assert both.value.message == (
        "Quota exceeded for instances, cores: Requested 2, 4, but already used 9, 18 of 10, 20 instances, cores"
    )
    assert quotas.headroom("p1", vcpus=1, ram=512) == 1
    quotas.update("p1", {"cores": -1, "instances": -1})
    quotas.check("p1", instances=5, cores=100, ram=1024)
    assert quotas.headroom("p1", vcpus=1, ram=1024) == (51200 - 9 * 1024) // 1024
    with pytest.raises(faults.BadRequest, match="must be greater than or equal to already used and reserved 9"):
        quotas.update("p1", {"instances": 5})
    quotas.update("p1", {"instances": 5}, force=True)
    quotas.reset("p1")
    assert quotas.limits("p1") == DEFAULTS


def test_server_group_members_for_servers():
    store = Store()
    quotas = Quotas(store)
    groups = ServerGroups(store, quotas)
    group = groups.make("p1", "u", "g", "anti-affinity")
    first, second = _server(store, "p1", 1, 64), _server(store, "p1", 1, 64)
    assert groups.fits(group["id"])
    groups.add_member(group["id"], first["id"])
    assert not groups.fits(group["id"])  # one host: anti-affinity holds one server
    assert groups.groups_of(first["id"]) == [group["id"]]
    quotas.update("p1", {"server_group_members": 1})
    with pytest.raises(faults.Forbidden, match="Quota exceeded, too many servers in group"):
        groups.add_member(group["id"], second["id"])
    store.delete("server", first["id"])  # a deleted member no longer counts or shows
    assert groups.members(groups.record(group["id"])) == []
    groups.add_member(group["id"], second["id"])
    groups.remove_member(second["id"])
    assert groups.record(group["id"])["members"] == [first["id"]] and groups.groups_of(second["id"]) == []
    with pytest.raises(faults.NotFound, match=r"Instance group nope could not be found\."):
        groups.record("nope")
    # for a server create: only the caller's project's groups (any, for admins)
    assert groups.get(_ctx("p1"), group["id"])["id"] == group["id"]
    assert groups.get(_ctx("p2", admin=True), group["id"])["id"] == group["id"]
    with pytest.raises(faults.NotFound):
        groups.get(_ctx("p2"), group["id"])
