"""Application credentials (expiry, access rules), credentials and EC2 credentials, through
openstacksdk and HTTP."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import openstack
import pytest
import requests

from stacksim.testing import wait_until


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")


def _cred_token(sim, cred_id: str, secret: str) -> requests.Response:
    body = {
        "auth": {
            "identity": {
                "methods": ["application_credential"],
                "application_credential": {"id": cred_id, "secret": secret},
            }
        }
    }
    return requests.post(f"{sim.url}/identity/v3/auth/tokens", json=body, timeout=30)


def test_a_credential_expiring_in_the_past_is_refused(demo):
    path = f"/users/{demo.current_user_id}/application_credentials"
    for expires, problem in (("2000-01-01T00:00:00", "must not be before now"), ("soon", "Timestamp")):
        body = {"application_credential": {"name": _name("cred"), "expires_at": expires}}
        resp = demo.identity.post(path, json=body)
        assert resp.status_code == 400 and problem in resp.json()["error"]["message"]
    assert list(demo.identity.application_credentials(user=demo.current_user_id)) == []


def test_a_credentials_token_never_outlives_it(demo, sim):
    # Long enough to get a token from it on a loaded machine; the test then waits that long.
    expires = datetime.now(UTC) + timedelta(seconds=3)
    cred = demo.identity.create_application_credential(demo.current_user_id, _name("cred"), expires_at=_iso(expires))
    resp = _cred_token(sim, cred.id, cred.secret)
    assert resp.status_code == 201
    token_expiry = datetime.fromisoformat(resp.json()["token"]["expires_at"].replace("Z", "+00:00"))
    assert token_expiry <= expires
    token = resp.headers["X-Subject-Token"]

    def refused() -> bool:
        got = requests.get(f"{sim.url}/identity/v3/auth/projects", headers={"X-Auth-Token": token}, timeout=30)
        return got.status_code == 401

    wait_until(refused, timeout=15, what="the token to expire with its credential")
    assert _cred_token(sim, cred.id, cred.secret).status_code == 401


def test_access_rules_have_ids_are_shared_and_listed(demo, sim):
    rules = [{"service": "compute", "method": "GET", "path": "/v2.1/servers"}]
    first = demo.identity.create_application_credential(demo.current_user_id, _name("a"), access_rules=rules)
    (rule,) = first.access_rules
    assert rule["id"] and {k: rule[k] for k in ("service", "method", "path")} == rules[0]
    second = demo.identity.create_application_credential(demo.current_user_id, _name("b"), access_rules=rules)
    assert [r["id"] for r in second.access_rules] == [rule["id"]]  # the same rule again

    listed = list(demo.identity.access_rules(user=demo.current_user_id))
    assert [r.id for r in listed] == [rule["id"]]
    assert demo.identity.get_access_rule(demo.current_user_id, rule["id"]).path == "/v2.1/servers"

    # The token carries the rules for the services to enforce.
    token = _cred_token(sim, first.id, first.secret).json()["token"]
    assert [r["id"] for r in token["application_credential"]["access_rules"]] == [rule["id"]]

    path = f"/users/{demo.current_user_id}/access_rules/{rule['id']}"
    assert demo.identity.delete(path).status_code == 403  # still used
    demo.identity.delete_application_credential(demo.current_user_id, first.id)
    demo.identity.delete_application_credential(demo.current_user_id, second.id)
    assert demo.identity.delete(path).status_code == 204
    assert demo.identity.get(path).status_code == 404


def test_access_rules_are_their_users_own(demo, alt):
    demo.identity.create_application_credential(
        demo.current_user_id, _name("a"), access_rules=[{"service": "image", "method": "GET", "path": "/v2/images"}]
    )
    resp = alt.identity.get(f"/users/{demo.current_user_id}/access_rules")
    assert resp.status_code == 403 and "identity:list_access_rules" in resp.json()["error"]["message"]


def test_an_application_credential_may_not_ask_for_a_role_it_lacks(demo):
    path = f"/users/{demo.current_user_id}/application_credentials"
    resp = demo.identity.post(path, json={"application_credential": {"name": "x", "roles": [{"name": "admin"}]}})
    assert resp.status_code == 400 and "unassigned role" in resp.json()["error"]["message"]


def test_credentials_crud_and_ownership(demo, alt, admin):
    blob = json.dumps({"access": uuid.uuid4().hex, "secret": "s"})
    cred = demo.identity.create_credential(
        type="ec2", blob=blob, user_id=demo.current_user_id, project_id=demo.current_project_id
    )
    assert cred.type == "ec2" and cred.blob == blob
    assert [c.id for c in demo.identity.credentials()] == [cred.id]
    assert list(alt.identity.credentials()) == []  # only one's own
    assert alt.identity.get(f"/credentials/{cred.id}").status_code == 403
    assert {c.id for c in admin.identity.credentials(user_id=demo.current_user_id)} == {cred.id}

    other = demo.identity.create_credential(type="cert", blob="opaque", user_id=demo.current_user_id)
    demo.identity.update_credential(other, blob="changed")
    assert demo.identity.get_credential(other.id).blob == "changed"
    resp = demo.identity.post(
        "/credentials", json={"credential": {"type": "ec2", "blob": "not json", "user_id": demo.current_user_id}}
    )
    assert resp.status_code == 400
    resp = demo.identity.post("/credentials", json={"credential": {"type": "x", "blob": "b", "user_id": "someone"}})
    assert resp.status_code == 403
    demo.identity.delete_credential(cred)
    demo.identity.delete_credential(other)
    assert list(demo.identity.credentials()) == []


def test_ec2_credentials(demo, alt):
    base = f"/users/{demo.current_user_id}/credentials/OS-EC2"
    made = demo.identity.post(base, json={"tenant_id": demo.current_project_id})
    assert made.status_code == 201
    ec2 = made.json()["credential"]
    assert ec2["tenant_id"] == demo.current_project_id and ec2["access"] and ec2["secret"]
    assert [c["access"] for c in demo.identity.get(base).json()["credentials"]] == [ec2["access"]]
    assert demo.identity.get(f"{base}/{ec2['access']}").json()["credential"]["secret"] == ec2["secret"]
    # It is a credential of type ec2 as well, its id the SHA-256 of its access key.
    (cred,) = demo.identity.credentials(type="ec2")
    assert json.loads(cred.blob)["access"] == ec2["access"]

    assert alt.identity.get(base).status_code == 403
    assert demo.identity.post(base, json={"tenant_id": "nope"}).status_code == 400
    assert demo.identity.delete(f"{base}/{ec2['access']}").status_code == 204
    assert demo.identity.get(f"{base}/{ec2['access']}").status_code == 401  # as Keystone: unknown access key


@pytest.mark.parametrize("restricted", [True, False])
def test_restricted_credentials_may_not_make_ec2_credentials(demo, sim, restricted):
    cred = demo.identity.create_application_credential(demo.current_user_id, _name("c"), unrestricted=not restricted)
    conn = openstack.connect(
        auth_url=f"{sim.url}/identity",
        auth_type="v3applicationcredential",
        application_credential_id=cred.id,
        application_credential_secret=cred.secret,
    )
    resp = conn.identity.post(
        f"/users/{demo.current_user_id}/credentials/OS-EC2", json={"tenant_id": demo.current_project_id}
    )
    assert resp.status_code == (403 if restricted else 201)
