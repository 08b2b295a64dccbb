"""Groups, membership and grants to groups (on projects, domains and the system) through openstacksdk,
and what they do to tokens and effective role assignments."""

from __future__ import annotations

import uuid

import openstack
import openstack.exceptions as exc
import pytest


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def member_user(admin):
    """A user with no role anywhere (so every role it gets comes from a group)."""
    password = "pw-" + uuid.uuid4().hex[:6]
    user = admin.identity.create_user(name=_name("user"), password=password, domain_id="default")
    return user, password


def _login(sim, user, password, **scope):
    return openstack.connect(
        auth_url=f"{sim.url}/identity", username=user.name, password=password, user_domain_id="default", **scope
    )


def test_group_crud_unique_name_and_membership(admin, member_user):
    user, _ = member_user
    group = admin.identity.create_group(name=_name("grp"), description="d", domain_id="default")
    assert admin.identity.get_group(group.id).description == "d"
    with pytest.raises(exc.ConflictException):
        admin.identity.create_group(name=group.name, domain_id="default")
    admin.identity.update_group(group, description="changed")
    assert [g.id for g in admin.identity.groups(name=group.name)] == [group.id]

    admin.identity.add_user_to_group(user, group)
    assert admin.identity.check_user_in_group(user, group)
    assert [u.id for u in admin.identity.group_users(group)] == [user.id]
    assert [g.id for g in admin.identity.user_groups(user)] == [group.id]
    admin.identity.remove_user_from_group(user, group)
    assert not admin.identity.check_user_in_group(user, group)

    admin.identity.delete_group(group)
    with pytest.raises(exc.NotFoundException):
        admin.identity.get_group(group.id)


def test_member_may_not_manage_groups(demo, admin):
    resp = demo.identity.post("/groups", json={"group": {"name": _name("grp")}})
    assert resp.status_code == 403 and "identity:create_group" in resp.json()["error"]["message"]
    assert demo.identity.get("/groups").status_code == 403
    # but a user may list its own groups
    assert demo.identity.get(f"/users/{demo.current_user_id}/groups").json()["groups"] == []


def test_a_project_grant_to_a_group_reaches_its_members_tokens(admin, sim, member_user):
    user, password = member_user
    project = admin.identity.create_project(name=_name("proj"), domain_id="default")
    group = admin.identity.create_group(name=_name("grp"), domain_id="default")
    member = admin.identity.find_role("member")
    admin.identity.assign_project_role_to_group(project, group, member)
    assert admin.identity.validate_group_has_project_role(project, group, member)

    with pytest.raises(exc.SDKException, match="401"):
        _login(sim, user, password, project_id=project.id).authorize()
    admin.identity.add_user_to_group(user, group)
    conn = _login(sim, user, password, project_id=project.id)
    assert set(conn.session.auth.get_access(conn.session).role_names) == {"member", "reader"}
    assert [p.id for p in conn.identity.user_projects(user.id)] == [project.id]

    # Leaving the group takes the roles away from the token already issued (and the client's
    # new try to log in fails as well).
    admin.identity.remove_user_from_group(user, group)
    with pytest.raises(Exception, match="401"):
        conn.identity.get_project(project.id)


def test_domain_and_system_grants_to_groups(admin, sim, member_user):
    user, password = member_user
    group = admin.identity.create_group(name=_name("grp"), domain_id="default")
    admin.identity.add_user_to_group(user, group)
    reader = admin.identity.find_role("reader")
    domain = admin.identity.get_domain("default")

    admin.identity.assign_domain_role_to_group(domain, group, reader)
    assert admin.identity.validate_group_has_domain_role(domain, group, reader)
    conn = _login(sim, user, password, domain_id="default")
    assert conn.session.auth.get_access(conn.session).domain_id == "default"
    admin.identity.unassign_domain_role_from_group(domain, group, reader)
    assert not admin.identity.validate_group_has_domain_role(domain, group, reader)

    admin.identity.assign_system_role_to_group(group, reader, "all")
    assert admin.identity.validate_group_has_system_role(group, reader, "all")
    conn = _login(sim, user, password, system_scope="all")
    assert conn.session.auth.get_access(conn.session).system == {"all": True}
    admin.identity.unassign_system_role_from_group(group, reader, "all")
    assert not admin.identity.validate_group_has_system_role(group, reader, "all")


def test_effective_assignments_expand_groups_and_implied_roles(admin, member_user):
    user, _ = member_user
    project = admin.identity.create_project(name=_name("proj"), domain_id="default")
    group = admin.identity.create_group(name=_name("grp"), domain_id="default")
    admin.identity.add_user_to_group(user, group)
    member = admin.identity.find_role("member")
    admin.identity.assign_project_role_to_group(project, group, member)

    direct = admin.identity.get("/role_assignments", params={"scope.project.id": project.id}).json()
    assert [(a["group"]["id"], a["role"]["id"]) for a in direct["role_assignments"]] == [(group.id, member.id)]

    rows = admin.identity.get(
        "/role_assignments", params={"user.id": user.id, "effective": "1", "include_names": "1"}
    ).json()["role_assignments"]
    assert {r["role"]["name"] for r in rows} == {"member", "reader"}
    assert all(r["user"]["id"] == user.id and r["scope"]["project"]["id"] == project.id for r in rows)
    assert all(r["links"]["membership"].endswith(f"/groups/{group.id}/users/{user.id}") for r in rows)
    implied = next(r for r in rows if r["role"]["name"] == "reader")
    assert implied["links"]["prior_role"].endswith(f"/prior_role/{member.id}/implies/{implied['role']['id']}")

    resp = admin.identity.get("/role_assignments", params={"group.id": group.id, "effective": "1"})
    assert resp.status_code == 400


def test_role_assignments_are_for_admins_and_readers(demo):
    resp = demo.identity.get("/role_assignments", params={"user.id": demo.current_user_id})
    assert resp.status_code == 403 and "identity:list_role_assignments" in resp.json()["error"]["message"]


def test_deleting_a_group_removes_its_grants(admin, member_user):
    user, _ = member_user
    project = admin.identity.create_project(name=_name("proj"), domain_id="default")
    group = admin.identity.create_group(name=_name("grp"), domain_id="default")
    admin.identity.add_user_to_group(user, group)
    admin.identity.assign_project_role_to_group(project, group, admin.identity.find_role("member"))
    admin.identity.delete_group(group)
    rows = admin.identity.get("/role_assignments", params={"scope.project.id": project.id}).json()
    assert rows["role_assignments"] == []
    assert list(admin.identity.user_groups(user)) == []
