"""Keystone workflows through openstacksdk (what the CLI tests checked, without the CLI's start-up cost)."""

from __future__ import annotations

import uuid

import openstack
import openstack.exceptions as exc
import pytest
import requests


def _connect(sim, **auth):
    return openstack.connect(auth_url=f"{sim.url}/identity", user_domain_id="default", **auth)


def test_project_user_role_and_app_credential(admin, sim):
    p, u = f"p1-{uuid.uuid4().hex[:6]}", f"u1-{uuid.uuid4().hex[:6]}"
    project = admin.identity.create_project(name=p, domain_id="default")
    assert project.name == p and project.domain_id == "default"
    user = admin.identity.create_user(name=u, password="s3cret", default_project_id=project.id)
    assert user.default_project_id == project.id
    assert "password" not in admin.identity.get(f"/users/{user.id}").json()["user"]
    admin.identity.assign_project_role_to_user(project, user, admin.identity.find_role("member"))
    rows = admin.identity.get(
        "/role_assignments", params={"user.id": user.id, "scope.project.id": project.id, "include_names": "1"}
    ).json()["role_assignments"]
    assert [r["role"]["name"] for r in rows] == ["member"]

    # The new user can log in with its password, scoped to its project.
    member = _connect(sim, username=u, password="s3cret", project_name=p, project_domain_id="default")
    assert member.current_project_id == project.id

    cred = member.identity.create_application_credential(user=user.id, name=f"ac1-{u}")
    assert cred.secret and cred.project_id == project.id
    via_cred = openstack.connect(
        auth_url=f"{sim.url}/identity",
        auth_type="v3applicationcredential",
        application_credential_id=cred.id,
        application_credential_secret=cred.secret,
    )
    assert via_cred.current_project_id == project.id
    assert cred.id in [c.id for c in member.identity.application_credentials(user=user.id)]
    member.identity.delete_application_credential(user.id, cred.id)
    again = openstack.connect(
        auth_url=f"{sim.url}/identity",
        auth_type="v3applicationcredential",
        application_credential_id=cred.id,
        application_credential_secret=cred.secret,
    )
    with pytest.raises(exc.SDKException, match=r"HTTP 401"):
        again.authorize()


def test_wrong_password_is_401(sim):
    wrong = _connect(sim, username="demo", password="wrong", project_name="demo", project_domain_id="default")
    with pytest.raises(exc.SDKException, match=r"requires authentication.*HTTP 401"):
        wrong.authorize()


def test_member_cannot_create_project(demo):
    resp = demo.identity.post("/projects", json={"project": {"name": "x"}})
    assert resp.status_code == 403
    assert "identity:create_project" in resp.json()["error"]["message"]


def test_revoked_token_is_401(sim, demo):
    token = demo.identity.post(
        "/auth/tokens", json={"auth": {"identity": {"methods": ["token"], "token": {"id": demo.auth_token}}}}
    ).headers["X-Subject-Token"]
    revoke = demo.identity.delete("/auth/tokens", headers={"X-Subject-Token": token})
    assert revoke.status_code == 204
    refused = requests.get(f"{sim.url}/identity/v3/auth/projects", headers={"X-Auth-Token": token}, timeout=30)
    assert refused.status_code == 401


def test_admin_lists_and_member_shows_own_project(admin, demo):
    assert {"admin", "demo", "alt_demo"} <= {p.name for p in admin.identity.projects()}
    assert demo.identity.get_project(demo.current_project_id).name == "demo"
    assert demo.identity.get("/projects", raise_exc=False).status_code == 403  # the CLI then falls back to:
    mine = demo.identity.get(f"/users/{demo.current_user_id}/projects").json()["projects"]
    assert [p["name"] for p in mine] == ["demo"]
