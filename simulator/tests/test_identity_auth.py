"""``POST /v3/auth/tokens`` with bodies Keystone refuses: a 400 in Keystone's format that names the
field, or Keystone's 401, never a 500."""

from __future__ import annotations

import pytest
import requests

from stacksim.config import DEFAULT_PASSWORD

USER = {"name": "demo", "domain": {"id": "default"}, "password": DEFAULT_PASSWORD}


def _password(user: object = USER, scope: object = None) -> dict:
    auth: dict = {"identity": {"methods": ["password"], "password": {"user": user}}}
    if scope is not None:
        auth["scope"] = scope
    return {"auth": auth}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_password(dict(USER, name=["demo"])), "auth/identity/password/user/name"),
        (_password(dict(USER, domain=["x"])), "auth/identity/password/user/domain"),
        (_password({"password": "x"}), "auth/identity/password/user"),
        (_password(scope={"project": "demo"}), "auth/scope/project"),
        (_password(scope={"domain": {}}), "auth/scope/domain"),
        (_password(scope="everything"), "auth/scope"),
        # (a longer list is over the 114688-byte body limit: 413, as keystone's sizelimit answers)
        ({"auth": {"identity": {"methods": [1, 1] * 5_000}}}, "auth/identity/methods"),
        ({"auth": {"identity": {"methods": "password"}}}, "auth/identity/methods"),
        ({"auth": {"identity": {"methods": []}}}, "auth/identity/methods"),
        ({"auth": {"identity": {"methods": ["token"], "token": {"id": 5}}}}, "auth/identity/token/id"),
        ({"auth": {"identity": {}}}, "auth/identity/methods"),
        ({"auth": []}, "auth"),
    ],
)
def test_malformed_auth_bodies_are_400_naming_the_field(sim, body, field):
    resp = requests.post(f"{sim.url}/identity/v3/auth/tokens", json=body, timeout=30)
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert error["code"] == 400 and f"'{field}" in error["message"]


def test_a_method_listed_without_its_data_is_400(sim):
    body = {"auth": {"identity": {"methods": ["password"]}}}
    resp = requests.post(f"{sim.url}/identity/v3/auth/tokens", json=body, timeout=30)
    assert resp.status_code == 400 and "password" in resp.json()["error"]["message"]


def test_an_unsupported_method_is_401(sim):
    body = {"auth": {"identity": {"methods": ["totp"], "totp": {}}}}
    resp = requests.post(f"{sim.url}/identity/v3/auth/tokens", json=body, timeout=30)
    assert resp.status_code == 401 and "unsupported method" in resp.json()["error"]["message"]


def test_empty_and_unscoped_scopes(sim):
    for scope, project in (({}, "demo"), ("unscoped", None), ({"unscoped": {}}, None)):
        resp = requests.post(f"{sim.url}/identity/v3/auth/tokens", json=_password(scope=scope), timeout=30)
        assert resp.status_code == 201
        assert resp.json()["token"].get("project", {}).get("name") == project
