"""Keystone v3 through openstacksdk (and raw keystoneauth where the SDK has no call)."""

from __future__ import annotations

import uuid

import openstack.exceptions as exc
import pytest
import requests


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_token_has_roles_catalog_and_implied_roles(admin, demo):
    access = demo.session.auth.get_access(demo.session)
    assert access.project_name == "demo"
    assert set(access.role_names) == {"member", "reader"}
    assert access.service_catalog.url_for(service_type="identity", interface="public").endswith("/identity")
    admin_access = admin.session.auth.get_access(admin.session)
    assert set(admin_access.role_names) == {"admin", "member", "reader"}


def test_project_crud_and_conflict(admin):
    name = _name("proj")
    project = admin.identity.create_project(name=name, description="d", domain_id="default")
    assert admin.identity.get_project(project.id).description == "d"
    with pytest.raises(exc.ConflictException, match="Duplicate"):
        admin.identity.create_project(name=name, domain_id="default")
    admin.identity.update_project(project, description="changed", enabled=False)
    assert admin.identity.get_project(project.id).is_enabled is False
    assert [p.id for p in admin.identity.projects(name=name)] == [project.id]
    admin.identity.delete_project(project)
    with pytest.raises(exc.NotFoundException):
        admin.identity.get_project(project.id)


def test_user_crud_password_hidden_and_login(admin, sim):
    import openstack

    project = admin.identity.create_project(name=_name("proj"), domain_id="default")
    user = admin.identity.create_user(
        name=_name("user"), password="pw-1", default_project_id=project.id, domain_id="default", email="u@example.org"
    )
    assert user.email == "u@example.org"
    raw = admin.identity.get(f"/users/{user.id}").json()["user"]
    assert "password" not in raw and "password_hash" not in raw
    member = admin.identity.find_role("member")
    admin.identity.assign_project_role_to_user(project, user, member)
    assert admin.identity.validate_user_has_project_role(project, user, member)

    conn = openstack.connect(
        auth_url=f"{sim.url}/identity",
        username=user.name,
        password="pw-1",
        project_id=project.id,
        user_domain_id="default",
        identity_api_version=3,
    )
    assert conn.session.auth.get_access(conn.session).project_id == project.id

    admin.identity.unassign_project_role_from_user(project, user, member)
    assert not admin.identity.validate_user_has_project_role(project, user, member)
    # The role is gone, so the token it earned carries nothing any more.
    with pytest.raises(Exception, match=r"401|no access") as raised:
        conn.identity.get_project(project.id)
    assert "no access" in str(raised.value) or "401" in str(raised.value)

    admin.identity.delete_user(user)
    admin.identity.delete_project(project)


def test_role_crud_and_effective_assignments(admin):
    role = admin.identity.create_role(name=_name("role"))
    assert admin.identity.get_role(role.id).name == role.name
    with pytest.raises(exc.ConflictException):
        admin.identity.create_role(name=role.name)
    admin.identity.delete_role(role)
    demo_user = admin.identity.find_user("demo")
    effective = list(admin.identity.role_assignments(user_id=demo_user.id, effective=True))
    role_ids = {a.role["id"] for a in effective}
    reader, member = admin.identity.find_role("reader"), admin.identity.find_role("member")
    assert {reader.id, member.id} <= role_ids


def test_domain_crud(admin):
    domain = admin.identity.create_domain(name=_name("dom"))
    project = admin.identity.create_project(name="inside", domain_id=domain.id)
    with pytest.raises(exc.HttpException) as enabled:
        admin.identity.delete_domain(domain)
    assert enabled.value.status_code == 403 and "disable it first" in str(enabled.value)
    admin.identity.update_domain(domain, is_enabled=False)
    admin.identity.delete_domain(domain)
    with pytest.raises(exc.NotFoundException):
        admin.identity.get_project(project.id)


def test_regions_services_endpoints(admin, demo):
    assert [r.id for r in demo.identity.regions()] == ["RegionOne"]
    service = next(admin.identity.services(type="identity"))
    endpoints = list(admin.identity.endpoints(service_id=service.id))
    assert {e.interface for e in endpoints} == {"public", "internal", "admin"}
    with pytest.raises(exc.ForbiddenException):
        list(demo.identity.services())


def test_member_is_kept_to_its_own_project(demo, admin):
    own = demo.current_project_id
    assert demo.identity.get_project(own).name == "demo"
    alt = admin.identity.find_project("alt_demo")
    with pytest.raises(exc.ForbiddenException, match="identity:get_project"):
        demo.identity.get_project(alt.id)
    with pytest.raises(exc.ForbiddenException):
        list(demo.identity.projects())
    with pytest.raises(exc.ForbiddenException):
        demo.identity.create_user(name="nope", password="x")
    assert [p.name for p in demo.identity.user_projects(demo.current_user_id)] == ["demo"]


def test_error_bodies_are_keystone_format(demo):
    resp = demo.identity.get("/projects/does-not-exist")
    assert resp.status_code == 404
    assert resp.json() == {
        "error": {"code": 404, "title": "Not Found", "message": "Could not find project: does-not-exist."}
    }
    resp = demo.identity.post("/users", json={"user": {"name": ""}})
    assert resp.status_code == 403  # policy comes before validation, as in Keystone


def test_bad_input_names_the_field(admin):
    resp = admin.identity.post("/projects", json={"project": {"name": ""}})
    assert resp.status_code == 400
    assert "project/name" in resp.json()["error"]["message"]
    resp = admin.identity.post("/projects", json={"nothing": {}})
    assert resp.status_code == 400 and "'project'" in resp.json()["error"]["message"]


def test_app_credential_roles_and_restriction(demo, sim):
    import openstack

    name = _name("cred")
    cred = demo.identity.create_application_credential(demo.current_user_id, name, roles=[{"name": "reader"}])
    assert [r["name"] for r in cred.roles] == ["reader"]
    conn = openstack.connect(
        auth_url=f"{sim.url}/identity",
        auth_type="v3applicationcredential",
        application_credential_id=cred.id,
        application_credential_secret=cred.secret,
    )
    access = conn.session.auth.get_access(conn.session)
    assert access.role_names == ["reader"]
    resp = conn.identity.post(
        f"/users/{demo.current_user_id}/application_credentials",
        json={"application_credential": {"name": _name("nested")}},
    )
    assert resp.status_code == 403
    demo.identity.delete_application_credential(demo.current_user_id, cred.id)


def test_token_ids_begin_as_fernet_tokens_and_never_with_a_dash(sim, demo):
    # A token id that begins with "-" is taken for an option by `openstack token revoke <id>`.
    body = {"auth": {"identity": {"methods": ["token"], "token": {"id": demo.auth_token}}}}
    for _ in range(20):  # random ids began with "-" one time in 64
        resp = requests.post(f"{sim.url}/identity/v3/auth/tokens", json=body, timeout=30)
        assert resp.status_code == 201
        assert resp.headers["X-Subject-Token"].startswith("gAAAAA")


def test_private_attributes_and_ids_cannot_be_set(admin):
    user = admin.identity.create_user(name=_name("user"), password="pw", domain_id="default")
    resp = admin.identity.patch(f"/users/{user.id}", json={"user": {"password_hash": "x"}})
    assert resp.status_code == 400 and "password_hash" in resp.json()["error"]["message"]
    resp = admin.identity.patch(f"/users/{user.id}", json={"user": {"id": "another"}})
    assert resp.status_code == 400
    resp = admin.identity.patch(f"/users/{user.id}", json={"user": {"domain_id": "elsewhere"}})
    assert resp.status_code == 400 and "Domain ID" in resp.json()["error"]["message"]
    service = admin.identity.create_service(name=_name("svc"), type="x")
    body = {"endpoint": {"service_id": service.id, "interface": "public", "url": "http://x", "path": "/evil"}}
    assert admin.identity.post("/endpoints", json=body).status_code == 400
    # An id given at creation is not Keystone's to keep: it makes its own.
    project = admin.identity.post("/projects", json={"project": {"name": _name("p"), "id": "mine"}}).json()
    assert project["project"]["id"] != "mine"
