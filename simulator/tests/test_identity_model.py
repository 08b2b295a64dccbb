"""The Identity facade's Python API, as the auth layer and the other services call it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stacksim.auth import AccessRule
from stacksim.cloud import Cloud
from stacksim.config import Settings
from stacksim.services.identity.specs import AccessRuleSpec, AppCredSpec


@pytest.fixture
def cloud() -> Iterator[Cloud]:
    made = Cloud(Settings())
    made.start()
    yield made
    made.close()


def _demo(cloud: Cloud) -> dict:
    return cloud.store.first("user", name="demo")


def test_access_rule_patterns_match_as_keystonemiddleware_does():
    one = AccessRule("compute", "GET", "/v2.1/servers/*")
    assert one.allows("compute", "GET", "/v2.1/servers/abc")
    assert one.allows("compute", "get", "/v2.1/servers/abc")
    assert not one.allows("compute", "GET", "/v2.1/servers/abc/ips")
    assert not one.allows("compute", "POST", "/v2.1/servers/abc")
    assert not one.allows("network", "GET", "/v2.1/servers/abc")
    assert AccessRule("compute", "GET", "/v2.1/**").allows("compute", "GET", "/v2.1/servers/abc/ips")
    assert AccessRule("compute", "GET", "/v2.1/servers/{id}/ips").allows("compute", "GET", "/v2.1/servers/a/ips")
    assert not AccessRule("compute", "GET", "/v2.1/servers").allows("compute", "GET", "/v2.1/servers/a")


def test_token_context_carries_the_credentials_access_rules(cloud):
    user = _demo(cloud)
    rules = [AccessRuleSpec(service="compute", method="GET", path="/v2.1/servers")]
    cred, _ = cloud.identity.app_creds.create(
        user["id"], user["default_project_id"], AppCredSpec("limited", access_rules=rules)
    )
    token, _ = cloud.identity.issue_token(
        user["id"], ["application_credential"], project_id=cred["project_id"], app_cred_id=cred["id"]
    )
    ctx = cloud.auth.context(token)
    assert ctx.access_rules == (AccessRule("compute", "GET", "/v2.1/servers"),)
    assert ctx.permits("compute", "GET", "/v2.1/servers")
    assert not ctx.permits("network", "POST", "/v2.0/networks")
    assert not ctx.permits("volume", "GET", "/v3/volumes")
    assert ctx.permits("identity", "GET", "/v3/auth/tokens")  # a token may always validate itself


def test_a_credential_without_rules_or_a_password_token_is_not_limited(cloud):
    user = _demo(cloud)
    cred, _ = cloud.identity.app_creds.create(user["id"], user["default_project_id"], AppCredSpec("open"))
    token, _ = cloud.identity.issue_token(
        user["id"], ["application_credential"], project_id=cred["project_id"], app_cred_id=cred["id"]
    )
    assert cloud.auth.context(token).access_rules is None
    token, _ = cloud.identity.issue_token(user["id"], ["password"], project_id=user["default_project_id"])
    ctx = cloud.auth.context(token)
    assert ctx.access_rules is None and ctx.permits("network", "POST", "/v2.0/networks")
