"""Project hierarchy and tags, implied roles, domain configuration and unified limits, through
openstacksdk and HTTP."""

from __future__ import annotations

import uuid

import openstack.exceptions as exc
import pytest


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_parents_and_subtree_on_show(admin):
    top = admin.identity.create_project(name=_name("top"), domain_id="default")
    mid = admin.identity.create_project(name=_name("mid"), domain_id="default", parent_id=top.id)
    leaf = admin.identity.create_project(name=_name("leaf"), domain_id="default", parent_id=mid.id)
    assert leaf.parent_id == mid.id and top.parent_id == "default"

    ids = admin.identity.get(f"/projects/{leaf.id}", params={"parents_as_ids": ""}).json()["project"]
    assert ids["parents"] == {mid.id: {top.id: {"default": None}}}
    tree = admin.identity.get(f"/projects/{top.id}", params={"subtree_as_ids": "1"}).json()["project"]
    assert tree["subtree"] == {mid.id: {leaf.id: None}}

    # The _as_list forms show only the projects the caller has a role on.
    member = admin.identity.find_role("member")
    admin.identity.assign_project_role_to_user(top, admin.current_user_id, member)
    listed = admin.identity.get(f"/projects/{leaf.id}", params={"parents_as_list": "1"}).json()["project"]
    assert [p["project"]["id"] for p in listed["parents"]] == [top.id]
    resp = admin.identity.get(f"/projects/{leaf.id}", params={"parents_as_list": "1", "parents_as_ids": "1"})
    assert resp.status_code == 400

    assert admin.identity.delete(f"/projects/{mid.id}").status_code == 403  # not a leaf
    resp = admin.identity.post("/projects", json={"project": {"name": "x", "parent_id": "nope"}})
    assert resp.status_code == 400
    resp = admin.identity.patch(f"/projects/{leaf.id}", json={"project": {"parent_id": top.id}})
    assert resp.status_code == 403


def test_project_tags(admin, demo):
    project = admin.identity.create_project(name=_name("p"), domain_id="default", tags=["a"])
    base = f"/projects/{project.id}/tags"
    assert admin.identity.put(f"{base}/b").status_code == 201
    assert admin.identity.get(base).json()["tags"] == ["a", "b"]
    assert admin.identity.get(f"{base}/b").status_code == 204
    assert admin.identity.get(f"{base}/zz").status_code == 404
    assert admin.identity.put(base, json={"tags": ["x", "y"]}).json()["tags"] == ["x", "y"]
    assert admin.identity.put(base, json={"tags": ["bad/tag"]}).status_code == 400
    assert admin.identity.delete(f"{base}/x").status_code == 204
    assert [p.id for p in admin.identity.projects(tags="y")] == [project.id]
    assert project.id not in {p.id for p in admin.identity.projects(**{"not-tags": "y"})}
    assert demo.identity.put(f"/projects/{demo.current_project_id}/tags/mine").status_code == 403
    assert demo.identity.get(f"/projects/{demo.current_project_id}/tags").json()["tags"] == []
    assert admin.identity.delete(base).status_code == 204
    assert admin.identity.get(base).json()["tags"] == []


def test_implied_roles(admin, demo):
    prior = admin.identity.create_role(name=_name("prior"))
    implied = admin.identity.create_role(name=_name("implied"))
    path = f"/roles/{prior.id}/implies/{implied.id}"
    made = admin.identity.put(path)
    assert made.status_code == 201
    assert made.json()["role_inference"]["implies"]["id"] == implied.id
    assert admin.identity.put(path).status_code == 409
    assert admin.identity.get(path).json()["role_inference"]["prior_role"]["id"] == prior.id
    assert admin.identity.head(path).status_code == 204
    listed = admin.identity.get(f"/roles/{prior.id}/implies").json()["role_inference"]
    assert [r["id"] for r in listed["implies"]] == [implied.id]
    rules = admin.identity.get("/role_inferences").json()["role_inferences"]
    assert any(r["prior_role"]["id"] == prior.id for r in rules)

    admin_role = admin.identity.find_role("admin")
    assert admin.identity.put(f"/roles/{prior.id}/implies/{admin_role.id}").status_code == 403  # prohibited
    assert admin.identity.put(f"/roles/{implied.id}/implies/{prior.id}").status_code == 403  # a loop
    assert demo.identity.get(path).status_code == 403

    # A user given the prior role holds the implied one too.
    project = admin.identity.create_project(name=_name("p"), domain_id="default")
    user = admin.identity.create_user(name=_name("u"), password="pw", domain_id="default")
    admin.identity.assign_project_role_to_user(project, user, prior)
    rows = admin.identity.get("/role_assignments", params={"user.id": user.id, "effective": "1"}).json()
    assert {r["role"]["id"] for r in rows["role_assignments"]} == {prior.id, implied.id}

    assert admin.identity.delete(path).status_code == 204
    assert admin.identity.get(path).status_code == 404


def test_domain_config(admin, demo):
    domain = admin.identity.create_domain(name=_name("dom"))
    config = admin.identity.create_domain_config(domain, identity={"driver": "ldap"}, ldap={"url": "ldap://a"})
    assert config.ldap.url == "ldap://a"
    admin.identity.update_domain_config(domain, ldap={"url": "ldap://b"})
    assert admin.identity.get_domain_config(domain).ldap.url == "ldap://b"
    base = f"/domains/{domain.id}/config"
    assert admin.identity.get(f"{base}/ldap/url").json() == {"config": {"url": "ldap://b"}}
    assert admin.identity.patch(f"{base}/ldap", json={"config": {"ldap": {"user": "cn=x"}}}).status_code == 200
    assert admin.identity.put(base, json={"config": {"nova": {"x": "y"}}}).status_code == 403
    assert admin.identity.get(f"{base}/ldap/password").status_code == 404
    assert demo.identity.get(base).status_code == 403
    assert admin.identity.get("/domains/config/default").json()["config"]["identity"]["driver"] == "sql"

    admin.identity.delete_domain_config(domain, ignore_missing=False)
    assert admin.identity.get(base).status_code == 404
    admin.identity.update_domain(domain, is_enabled=False)
    admin.identity.delete_domain(domain)


def test_registered_limits_and_limits(admin, demo, alt):
    service = admin.identity.create_service(name=_name("svc"), type=_name("type"))
    registered = admin.identity.create_registered_limit(
        service_id=service.id, resource_name="widgets", default_limit=10, region_id="RegionOne"
    )
    assert registered.default_limit == 10 and registered.description is None
    with pytest.raises(exc.ConflictException):
        admin.identity.create_registered_limit(
            service_id=service.id, resource_name="widgets", default_limit=5, region_id="RegionOne"
        )
    assert [r.id for r in demo.identity.registered_limits(service_id=service.id)] == [registered.id]

    limit = admin.identity.create_limit(
        service_id=service.id,
        resource_name="widgets",
        region_id="RegionOne",
        project_id=demo.current_project_id,
        resource_limit=50,
    )
    assert limit.resource_limit == 50 and limit.project_id == demo.current_project_id
    admin.identity.update_limit(limit, description="more widgets")
    assert admin.identity.get_limit(limit.id).description == "more widgets"
    assert [x.id for x in demo.identity.limits()] == [limit.id]  # its own project's
    assert list(alt.identity.limits()) == []
    assert alt.identity.get(f"/limits/{limit.id}").status_code == 403
    assert admin.identity.get("/limits/model").json()["model"]["name"] == "flat"

    no_registered = {"service_id": service.id, "resource_name": "gadgets", "resource_limit": 1}
    resp = admin.identity.post("/limits", json={"limits": [dict(no_registered, project_id=demo.current_project_id)]})
    assert resp.status_code == 403
    assert admin.identity.delete(f"/registered_limits/{registered.id}").status_code == 403  # a limit uses it
    assert demo.identity.post("/registered_limits", json={"registered_limits": []}).status_code == 403
    admin.identity.delete_limit(limit)
    admin.identity.delete_registered_limit(registered)
