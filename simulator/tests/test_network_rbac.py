"""RBAC policies: sharing a network (and other objects) with one project, or with all; visibility follows."""

from __future__ import annotations

import uuid
from typing import Any

import openstack.exceptions as exc
import pytest


def _n(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def _call(conn, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    resp = conn.network.request(path, method, json=body)
    return resp.status_code, (resp.json() if resp.content else None)


def _policy(object_id: str, target: str, object_type: str = "network", action: str = "access_as_shared") -> dict:
    return {
        "rbac_policy": {
            "object_type": object_type,
            "object_id": object_id,
            "action": action,
            "target_tenant": target,
        }
    }


def test_sharing_a_network_with_one_project(admin, demo, alt):
    net = demo.network.create_network(name=_n("shared"))
    subnet = demo.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.90.0.0/24")
    alt_project = alt.current_project_id
    with pytest.raises(exc.NotFoundException):
        alt.network.get_network(net.id)
    policy = demo.network.create_rbac_policy(
        object_type="network", object_id=net.id, action="access_as_shared", target_tenant=alt_project
    )
    assert (policy.project_id, policy.target_project_id) == (demo.current_project_id, alt_project)
    # alt now sees the network (shared, for it) and its subnet, and may plug a port into it.
    seen = alt.network.get_network(net.id)
    assert seen.is_shared is True and seen.name == net.name
    assert net.id in {n.id for n in alt.network.networks()}
    assert subnet.id in {s.id for s in alt.network.subnets()}
    port = alt.network.create_port(network_id=net.id)
    assert port.project_id == alt_project
    # The owner still sees it as its own, unshared with everyone; the policy is the owner's alone.
    assert demo.network.get_network(net.id).is_shared is False
    assert policy.id not in {p.id for p in alt.network.rbac_policies()}
    # While alt uses the network, the sharing cannot be withdrawn, nor moved elsewhere.
    status, body = _call(demo, "DELETE", f"/rbac-policies/{policy.id}")
    assert status == 409 and body["NeutronError"]["type"] == "RbacPolicyInUse"
    status, body = _call(demo, "PUT", f"/rbac-policies/{policy.id}", {"rbac_policy": {"target_tenant": "other"}})
    assert status == 409
    alt.network.delete_port(port)
    demo.network.delete_rbac_policy(policy)
    with pytest.raises(exc.NotFoundException):
        alt.network.get_network(net.id)
    demo.network.delete_subnet(subnet)
    demo.network.delete_network(net)


def test_policy_rules(admin, demo, alt):
    net = demo.network.create_network(name=_n("net"))
    status, body = _call(demo, "POST", "/rbac-policies", _policy(net.id, "*"))
    assert status == 403 and body["NeutronError"]["type"] == "PolicyNotAuthorized"  # only an admin shares with all
    status, body = _call(alt, "POST", "/rbac-policies", _policy(net.id, alt.current_project_id))
    assert status == 404  # alt cannot see the network, so cannot share it
    status, body = _call(demo, "POST", "/rbac-policies", _policy(net.id, "x", action="access_as_nothing"))
    assert status == 400 and "Invalid action 'access_as_nothing' for object type 'network'" in str(body)
    status, body = _call(demo, "POST", "/rbac-policies", _policy(net.id, "x", object_type="widget"))
    assert status == 400
    first = _call(demo, "POST", "/rbac-policies", _policy(net.id, alt.current_project_id))
    assert first[0] == 201
    status, body = _call(demo, "POST", "/rbac-policies", _policy(net.id, alt.current_project_id))
    assert status == 409 and body["NeutronError"]["type"] == "DuplicateRbacPolicy"
    demo.network.delete_rbac_policy(first[1]["rbac_policy"]["id"])
    demo.network.delete_network(net)


def test_shared_flag_is_a_wildcard_policy(admin, demo, alt):
    net = demo.network.create_network(name=_n("net"))
    wildcard = admin.network.create_rbac_policy(
        object_type="network", object_id=net.id, action="access_as_shared", target_tenant="*"
    )
    assert demo.network.get_network(net.id).is_shared is True
    assert alt.network.get_network(net.id).is_shared is True
    admin.network.delete_rbac_policy(wildcard)
    assert demo.network.get_network(net.id).is_shared is False
    # And the other way round: an admin's shared=True makes the policy, shared=False removes it.
    admin.network.update_network(net, shared=True)
    (made,) = [p for p in admin.network.rbac_policies(object_id=net.id)]
    assert (made.target_project_id, made.action, made.project_id) == ("*", "access_as_shared", net.project_id)
    admin.network.update_network(net, shared=False)
    assert list(admin.network.rbac_policies(object_id=net.id)) == []
    # access_as_external for one project: it may use the network as an external one.
    public_like = admin.network.create_network(name=_n("ext"), project_id=admin.current_project_id)
    admin.network.create_subnet(network_id=public_like.id, ip_version=4, cidr="192.0.2.0/24")
    admin.network.create_rbac_policy(
        object_type="network",
        object_id=public_like.id,
        action="access_as_external",
        target_tenant=alt.current_project_id,
    )
    assert alt.network.get_network(public_like.id).is_router_external is True
    with pytest.raises(exc.NotFoundException):
        demo.network.get_network(public_like.id)
    fip = alt.network.create_ip(floating_network_id=public_like.id)
    assert fip.floating_ip_address.startswith("192.0.2.")
    alt.network.delete_ip(fip)
    admin.network.delete_network(public_like)
    demo.network.delete_network(net)


def test_sharing_other_objects(admin, demo, alt):
    group = demo.network.create_security_group(name=_n("sg"))
    demo.network.create_rbac_policy(
        object_type="security_group",
        object_id=group.id,
        action="access_as_shared",
        target_tenant=alt.current_project_id,
    )
    assert alt.network.get_security_group(group.id).name == group.name
    net = alt.network.create_network(name=_n("net"))
    port = alt.network.create_port(network_id=net.id, security_group_ids=[group.id])
    assert port.security_group_ids == [group.id]
    with pytest.raises(exc.ForbiddenException):
        alt.network.update_security_group(group, name="mine now")
    policy = admin.network.create_qos_policy(name=_n("qos"))
    with pytest.raises(exc.NotFoundException):
        alt.network.get_qos_policy(policy.id)
    admin.network.create_rbac_policy(
        object_type="qos_policy", object_id=policy.id, action="access_as_shared", target_tenant=alt.current_project_id
    )
    assert alt.network.get_qos_policy(policy.id).id == policy.id
    alt.network.delete_port(port)
    alt.network.delete_network(net)
    demo.network.delete_security_group(group)  # its policies go with it
    admin.network.delete_qos_policy(policy)
    assert [p for p in admin.network.rbac_policies() if p.object_id in (group.id, policy.id)] == []
