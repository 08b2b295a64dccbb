"""The cached token contexts (``Tokens.context``) never outlive what they were read from: a revoked
token, a removed role (directly or through a group), a disabled user, project or domain, and an
expired application credential take effect on the very next request, after the token has been
used (and its context cached) once."""

from __future__ import annotations

import datetime
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests

PASSWORD = "cache-test-password"


def _headers(token: str) -> dict[str, str]:
    return {"X-Auth-Token": token}


def _servers(sim: Any, token: str) -> int:
    return requests.get(f"{sim.url}/compute/v2.1/servers", headers=_headers(token), timeout=30).status_code


def _users(sim: Any, token: str) -> int:
    """An admin-only call: ``GET /v3/users``."""
    return requests.get(f"{sim.url}/identity/v3/users", headers=_headers(token), timeout=30).status_code


def _token(sim: Any, user: str, project: str) -> str:
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": user, "domain": {"id": "default"}, "password": PASSWORD}},
            },
            "scope": {"project": {"name": project, "domain": {"id": "default"}}},
        }
    }
    resp = requests.post(f"{sim.url}/identity/v3/auth/tokens", json=body, timeout=30)
    assert resp.status_code == 201, resp.text
    return resp.headers["X-Subject-Token"]


@pytest.fixture
def member(admin: Any) -> dict[str, Any]:
    """A new user with ``member`` on a new project, and a token of it already used once."""
    name = f"cache-{uuid.uuid4().hex[:8]}"
    project = admin.identity.create_project(name=name, domain_id="default")
    user = admin.identity.create_user(name=name, password=PASSWORD, domain_id="default")
    role = admin.identity.find_role("member")
    admin.identity.assign_project_role_to_user(project, user, role)
    return {"name": name, "project": project, "user": user, "role": role}


def _used_token(sim: Any, member: dict[str, Any]) -> str:
    token = _token(sim, member["name"], member["name"])
    for _ in range(2):  # the first use works the context out, the second is served from the cache
        assert _servers(sim, token) == 200
    return token


def test_a_revoked_token_is_refused_at_once(sim, admin, member):
    token = _used_token(sim, member)
    resp = requests.delete(
        f"{sim.url}/identity/v3/auth/tokens",
        headers={"X-Auth-Token": admin.auth_token, "X-Subject-Token": token},
        timeout=30,
    )
    assert resp.status_code == 204, resp.text
    assert _servers(sim, token) == 401


def test_a_removed_role_is_refused_at_once(sim, admin, member):
    token = _used_token(sim, member)
    admin.identity.unassign_project_role_from_user(member["project"], member["user"], member["role"])
    assert _servers(sim, token) == 401


def test_a_removed_admin_role_stops_admin_calls_at_once(sim, admin, member):
    role = admin.identity.find_role("admin")
    admin.identity.assign_project_role_to_user(member["project"], member["user"], role)
    token = _used_token(sim, member)
    assert _users(sim, token) == 200
    assert _users(sim, token) == 200
    admin.identity.unassign_project_role_from_user(member["project"], member["user"], role)
    assert _users(sim, token) == 403
    assert _servers(sim, token) == 200  # still a member


def test_a_role_granted_later_counts_at_once(sim, admin, member):
    token = _used_token(sim, member)
    assert _users(sim, token) == 403
    admin.identity.assign_project_role_to_user(member["project"], member["user"], admin.identity.find_role("admin"))
    assert _users(sim, token) == 200


def test_leaving_the_group_that_gave_the_role_is_refused_at_once(sim, admin, member):
    admin.identity.unassign_project_role_from_user(member["project"], member["user"], member["role"])
    group = admin.identity.create_group(name=member["name"], domain_id="default")
    admin.identity.add_user_to_group(member["user"], group)
    admin.identity.assign_project_role_to_group(member["project"], group, member["role"])
    token = _used_token(sim, member)
    admin.identity.remove_user_from_group(member["user"], group)
    assert _servers(sim, token) == 401


@pytest.mark.parametrize(
    "disable",
    [
        lambda admin, m: admin.identity.update_user(m["user"], is_enabled=False),
        lambda admin, m: admin.identity.update_project(m["project"], is_enabled=False),
        lambda admin, m: admin.identity.delete_user(m["user"]),
        lambda admin, m: admin.identity.delete_project(m["project"]),
    ],
    ids=["user disabled", "project disabled", "user deleted", "project deleted"],
)
def test_a_disabled_or_deleted_user_or_project_is_refused_at_once(
    sim, admin, member, disable: Callable[[Any, dict[str, Any]], Any]
):
    token = _used_token(sim, member)
    disable(admin, member)
    assert _servers(sim, token) == 401


def test_a_disabled_domain_is_refused_at_once(sim, admin):
    name = f"cache-{uuid.uuid4().hex[:8]}"
    domain = admin.identity.create_domain(name=name)
    project = admin.identity.create_project(name=name, domain_id=domain.id)
    user = admin.identity.create_user(name=name, password=PASSWORD, domain_id=domain.id)
    admin.identity.assign_project_role_to_user(project, user, admin.identity.find_role("member"))
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": name, "domain": {"id": domain.id}, "password": PASSWORD}},
            },
            "scope": {"project": {"name": name, "domain": {"id": domain.id}}},
        }
    }
    resp = requests.post(f"{sim.url}/identity/v3/auth/tokens", json=body, timeout=30)
    assert resp.status_code == 201, resp.text
    token = resp.headers["X-Subject-Token"]
    assert _servers(sim, token) == 200
    assert _servers(sim, token) == 200
    admin.identity.update_domain(domain, is_enabled=False)
    assert _servers(sim, token) == 401


def _credential_token(sim, token: str, user_id: str, **fields) -> tuple[dict, str]:
    """An application credential of the user (``fields`` besides its name), and a token of it."""
    resp = requests.post(
        f"{sim.url}/identity/v3/users/{user_id}/application_credentials",
        headers=_headers(token),
        json={"application_credential": {"name": "cred", **fields}},
        timeout=30,
    )
    assert resp.status_code == 201, resp.text
    cred = resp.json()["application_credential"]
    method = {"id": cred["id"], "secret": cred["secret"]}
    auth = {"auth": {"identity": {"methods": ["application_credential"], "application_credential": method}}}
    resp = requests.post(f"{sim.url}/identity/v3/auth/tokens", json=auth, timeout=30)
    assert resp.status_code == 201, resp.text
    return cred, resp.headers["X-Subject-Token"]


def test_an_application_credential_token_stops_when_the_credential_expires(sim, admin, member):
    token = _token(sim, member["name"], member["name"])
    expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=2)
    _, cred_token = _credential_token(
        sim, token, member["user"].id, expires_at=expires.strftime("%Y-%m-%dT%H:%M:%S.%f")
    )
    assert _servers(sim, cred_token) == 200
    assert _servers(sim, cred_token) == 200  # the context is cached now
    deadline = time.monotonic() + 30
    while datetime.datetime.now(datetime.UTC) < expires + datetime.timedelta(milliseconds=50):
        assert time.monotonic() < deadline
        time.sleep(0.05)  # the wall clock has to pass the expiry; nothing to poll for
    assert _servers(sim, cred_token) == 401


def test_a_deleted_application_credential_is_refused_at_once(sim, admin, member):
    token = _token(sim, member["name"], member["name"])
    cred, cred_token = _credential_token(sim, token, member["user"].id)
    assert _servers(sim, cred_token) == 200
    assert _servers(sim, cred_token) == 200
    base = f"{sim.url}/identity/v3/users/{member['user'].id}/application_credentials"
    resp = requests.delete(f"{base}/{cred['id']}", headers=_headers(token), timeout=30)
    assert resp.status_code == 204, resp.text
    assert _servers(sim, cred_token) == 401
