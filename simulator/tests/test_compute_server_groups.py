"""Server groups: policies before and after microversion 2.64, ownership and quota."""

from __future__ import annotations

import uuid

import openstack.exceptions as exc
import pytest
from compute_http import fault, nova


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def test_create_show_list_delete(demo):
    name = _name("g")
    made = demo.compute.create_server_group(name=name, policy="anti-affinity")
    assert made.name == name and made.policy == "anti-affinity" and made.member_ids == []
    shown = demo.compute.find_server_group(name)
    assert shown.id == made.id and shown.project_id == made.project_id
    assert name in [g.name for g in demo.compute.server_groups()]
    body = {"server_group": {"name": _name("g"), "policy": "anti-affinity", "rules": {"max_server_per_host": 2}}}
    ruled = nova(demo, "POST", "/os-server-groups", version="2.64", json=body).json()["server_group"]
    assert ruled["rules"] == {"max_server_per_host": 2}
    body = {"server_group": {"name": _name("g"), "policy": "affinity", "rules": {"max_server_per_host": 2}}}
    wrong = nova(demo, "POST", "/os-server-groups", version="2.64", json=body)
    assert "Only anti-affinity policy supports rules." in fault(wrong, 400, "badRequest")
    demo.compute.delete_server_group(made)
    demo.compute.delete_server_group(ruled["id"])
    assert name not in [g.name for g in demo.compute.server_groups()]


def test_groups_are_the_projects_own(demo, admin, connect):
    alt = connect("stacksim-alt")
    group = demo.compute.create_server_group(name=_name("mine"), policy="affinity")
    try:
        assert group.id not in [g.id for g in alt.compute.server_groups()]
        other = nova(alt, "GET", f"/os-server-groups/{group.id}")
        assert (
            fault(other, 403, "forbidden")
            == "Policy doesn't allow os_compute_api:os-server-groups:show to be performed."
        )
        assert group.id not in [g.id for g in admin.compute.server_groups()]
        assert group.id in [g.id for g in admin.compute.server_groups(all_projects=True)]
        assert admin.compute.get_server_group(group.id).name == group.name
    finally:
        demo.compute.delete_server_group(group)
    with pytest.raises(exc.NotFoundException, match=f"Instance group {group.id} could not be found."):
        demo.compute.get_server_group(group.id)


def test_policies_before_264(demo):
    made = nova(
        demo, "POST", "/os-server-groups", json={"server_group": {"name": _name("old"), "policies": ["affinity"]}}
    )
    body = made.json()["server_group"]
    assert made.status_code == 200
    assert body["policies"] == ["affinity"] and body["metadata"] == {} and body["members"] == []
    assert "project_id" not in body and "policy" not in body
    with_ids = nova(demo, "GET", f"/os-server-groups/{body['id']}", version="2.13").json()["server_group"]
    assert with_ids["project_id"] == demo.current_project_id and with_ids["user_id"] == demo.current_user_id
    assert nova(demo, "DELETE", f"/os-server-groups/{body['id']}").status_code == 204
    soft = {"server_group": {"name": _name("soft"), "policies": ["soft-affinity"]}}
    assert "is not one of" in fault(nova(demo, "POST", "/os-server-groups", json=soft), 400, "badRequest")
    made = nova(demo, "POST", "/os-server-groups", version="2.15", json=soft).json()["server_group"]
    nova(demo, "DELETE", f"/os-server-groups/{made['id']}")
    new_style = {"server_group": {"name": _name("x"), "policy": "affinity"}}
    assert "'policy' was unexpected" in fault(
        nova(demo, "POST", "/os-server-groups", json=new_style), 400, "badRequest"
    )
    old_style = {"server_group": {"name": _name("x"), "policies": ["affinity"]}}
    late = nova(demo, "POST", "/os-server-groups", version="2.64", json=old_style)
    assert "'policies' was unexpected" in fault(late, 400, "badRequest")


def test_server_groups_quota(admin, connect):
    alt = connect("stacksim-alt")
    project = alt.current_project_id
    existing = len(list(alt.compute.server_groups()))
    admin.set_compute_quotas(project, server_groups=existing + 1)
    made = alt.compute.create_server_group(name=_name("q"), policy="anti-affinity")
    try:
        over = nova(alt, "POST", "/os-server-groups", json={"server_group": {"name": "q2", "policies": ["affinity"]}})
        assert fault(over, 403, "forbidden") == "Quota exceeded, too many server groups."
        limits = nova(alt, "GET", "/limits").json()["limits"]["absolute"]
        assert limits["totalServerGroupsUsed"] == existing + 1 and limits["maxServerGroups"] == existing + 1
    finally:
        alt.compute.delete_server_group(made)
        admin.delete_compute_quotas(project)
