"""Security groups (the ``default`` group, rules, duplicates) and quotas (defaults, updates, enforcement)."""

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


def _rule_key(rule) -> tuple:
    return (rule.direction, rule.ether_type, rule.protocol, rule.remote_ip_prefix, rule.remote_group_id)


def test_default_group_made_on_first_call_with_real_rules(admin, connect, sim):
    import openstack

    # A fresh project with a member: its first networking call makes its default group.
    project = admin.identity.create_project(name=_n("fresh"), domain_id="default")
    user = admin.identity.create_user(
        name=_n("user"), password="pw", default_project_id=project.id, domain_id="default"
    )
    admin.identity.assign_project_role_to_user(project, user, admin.identity.find_role("member"))
    assert list(admin.network.security_groups(project_id=project.id)) == []
    member = openstack.connect(
        auth_url=f"{sim.url}/identity",
        username=user.name,
        password="pw",
        project_id=project.id,
        user_domain_id="default",
        identity_api_version=3,
    )
    (group,) = list(member.network.security_groups())
    assert group.name == "default" and group.description == "Default security group"
    rules = {_rule_key(r) for r in member.network.security_group_rules(security_group_id=group.id)}
    assert rules == {
        ("ingress", "IPv4", None, None, group.id),
        ("ingress", "IPv6", None, None, group.id),
        ("egress", "IPv4", None, None, None),
        ("egress", "IPv6", None, None, None),
    }
    assert len(group.security_group_rules) == 4
    # It is what a new port gets, and a member cannot delete it.
    net = member.network.create_network(name=_n("net"))
    port = member.network.create_port(network_id=net.id)
    assert port.security_group_ids == [group.id]
    status, body = _call(member, "DELETE", f"/security-groups/{group.id}")
    assert status == 409 and body["NeutronError"]["type"] == "SecurityGroupCannotRemoveDefault"
    assert body["NeutronError"]["message"] == "Insufficient rights for removing default security group."
    status, body = _call(member, "POST", "/security-groups", {"security_group": {"name": "default"}})
    assert status == 409 and body["NeutronError"]["message"] == "Default security group already exists."
    status, body = _call(member, "PUT", f"/security-groups/{group.id}", {"security_group": {"name": "other"}})
    assert status == 409 and "Updating default security group not allowed" in body["NeutronError"]["message"]
    member.network.delete_port(port)
    member.network.delete_network(net)
    for group in admin.network.security_groups(project_id=project.id):
        admin.network.delete_security_group(group)
    admin.identity.delete_project(project)


def test_new_group_gets_egress_rules_and_rules_work(demo):
    group = demo.network.create_security_group(name=_n("web"), description="web servers")
    assert {_rule_key(r) for r in demo.network.security_group_rules(security_group_id=group.id)} == {
        ("egress", "IPv4", None, None, None),
        ("egress", "IPv6", None, None, None),
    }
    http = demo.network.create_security_group_rule(
        security_group_id=group.id,
        direction="ingress",
        protocol="tcp",
        port_range_min=80,
        port_range_max=443,
        remote_ip_prefix="10.0.0.0/8",
    )
    assert (http.port_range_min, http.port_range_max, http.remote_ip_prefix) == (80, 443, "10.0.0.0/8")
    icmp = demo.network.create_security_group_rule(
        security_group_id=group.id, direction="ingress", protocol="icmp", port_range_min=8, port_range_max=0
    )
    assert icmp.protocol == "icmp" and icmp.ether_type == "IPv4"
    v6 = demo.network.create_security_group_rule(
        security_group_id=group.id, direction="ingress", ethertype="IPv6", protocol="udp", remote_ip_prefix="::/0"
    )
    assert v6.remote_ip_prefix == "::/0"
    peers = demo.network.create_security_group_rule(
        security_group_id=group.id, direction="ingress", protocol="58", ethertype="IPv6", remote_group_id=group.id
    )
    assert peers.remote_group_id == group.id and peers.protocol == "58"
    # The group shows its rules and its revision moved on.
    shown = demo.network.get_security_group(group.id)
    assert len(shown.security_group_rules) == 6 and shown.revision_number > group.revision_number
    # Duplicates are refused.
    with pytest.raises(exc.ConflictException, match=f"Security group rule already exists. Rule id is {http.id}."):
        demo.network.create_security_group_rule(
            security_group_id=group.id,
            direction="ingress",
            protocol="tcp",
            port_range_min=80,
            port_range_max=443,
            remote_ip_prefix="10.0.0.0/8",
        )
    # An egress rule to anywhere is the one every group already has ("0.0.0.0/0" is "any").
    status, body = _call(
        demo,
        "POST",
        "/security-group-rules",
        {
            "security_group_rule": {
                "security_group_id": group.id,
                "direction": "egress",
                "remote_ip_prefix": "0.0.0.0/0",
            }
        },
    )
    assert status == 409 and body["NeutronError"]["type"] == "SecurityGroupRuleExists"
    demo.network.delete_security_group_rule(http)
    demo.network.delete_security_group(group)
    with pytest.raises(exc.NotFoundException):
        demo.network.get_security_group_rule(icmp.id)


@pytest.mark.parametrize(
    ("rule", "status", "text"),
    [
        (
            {"direction": "sideways"},
            400,
            "Invalid input for direction. Reason: sideways is not in ['ingress', 'egress'].",
        ),
        (
            {"direction": "ingress", "protocol": "tcp", "port_range_min": 100, "port_range_max": 10},
            400,
            "port_range_min must be <= port_range_max",
        ),
        ({"direction": "ingress", "protocol": "tcp", "port_range_min": 0}, 400, "Invalid value for port 0"),
        ({"direction": "ingress", "port_range_min": 22}, 400, "Must also specify protocol if port range is given"),
        ({"direction": "ingress", "protocol": "bogus"}, 400, "Security group rule protocol bogus not supported"),
        ({"direction": "ingress", "protocol": "gre", "port_range_min": 1}, 400, "Invalid protocol gre for port range"),
        (
            {"direction": "ingress", "ethertype": "IPv6", "remote_ip_prefix": "10.0.0.0/8"},
            400,
            "Conflicting value ethertype IPv6 for CIDR 10.0.0.0/8",
        ),
        (
            {"direction": "ingress", "remote_ip_prefix": "10.0.0.0/8", "remote_group_id": "x"},
            400,
            "Only remote_ip_prefix or remote_group_id may be provided",
        ),
        (
            {"direction": "ingress", "remote_group_id": "00000000-0000-0000-0000-000000000000"},
            404,
            "Security group 00000000-0000-0000-0000-000000000000 does not exist",
        ),
        ({"protocol": "tcp"}, 400, "Failed to parse request. Required attribute 'direction' not specified"),
    ],
)
def test_bad_rules(demo, rule, status, text):
    group = next(g for g in demo.network.security_groups(name="default"))
    got, body = _call(
        demo, "POST", "/security-group-rules", {"security_group_rule": {"security_group_id": group.id, **rule}}
    )
    assert got == status and text in body["NeutronError"]["message"]


def test_group_in_use_cannot_go(demo):
    group = demo.network.create_security_group(name=_n("used"))
    net = demo.network.create_network(name=_n("net"))
    port = demo.network.create_port(network_id=net.id, security_group_ids=[group.id])
    assert port.security_group_ids == [group.id]
    status, body = _call(demo, "DELETE", f"/security-groups/{group.id}")
    assert status == 409 and body["NeutronError"]["message"] == f"Security Group {group.id} in use."
    demo.network.delete_port(port)
    demo.network.delete_security_group(group)
    demo.network.delete_network(net)


# -- quotas ---------------------------------------------------------------------------------


def test_quota_defaults_and_member_access(admin, demo):
    project = demo.current_project_id
    quota = demo.network.get_quota(project)
    assert (quota.networks, quota.subnets, quota.ports, quota.routers) == (100, 100, 500, 10)
    assert (quota.floating_ips, quota.security_groups, quota.security_group_rules) == (50, 10, 100)
    defaults = admin.network.get_quota_default(project)
    assert defaults.networks == 100
    details = demo.network.get_quota(project, details=True)
    assert details.networks["limit"] == 100 and details.networks["used"] >= 0
    assert details.security_groups["used"] >= 1  # the default group
    status, body = _call(demo, "GET", f"/quotas/{admin.current_project_id}")
    assert status == 403 and "Only admin is authorized to access quotas for another tenant" in str(body)
    status, body = _call(demo, "PUT", f"/quotas/{project}", {"quota": {"network": 1000}})
    assert status == 403 and "update_quota" in body["NeutronError"]["message"]
    status, body = _call(demo, "GET", f"/quotas/{project}/details.json")
    assert status == 200 and body["quota"]["port"]["limit"] == 500


def test_quota_enforced(admin):
    project = admin.identity.create_project(name=_n("quota"), domain_id="default")
    updated = admin.network.update_quota(project.id, networks=2, security_group_rules=5)
    assert updated.networks == 2 and updated.subnets == 100
    assert project.id in [q.project_id for q in admin.network.quotas()]
    for _ in range(2):
        admin.network.create_network(name=_n("q"), project_id=project.id)
    status, body = _call(admin, "POST", "/networks", {"network": {"name": "third", "project_id": project.id}})
    assert status == 409 and body["NeutronError"] == {
        "type": "OverQuota",
        "message": "Quota exceeded for resources: ['network'].",
        "detail": "",
    }
    # The project's default group brought 4 rules and a new group 2 more (Neutron makes those
    # whatever the quota): the next rule asked for is over a limit of 5.
    status, body = _call(admin, "POST", "/security-groups", {"security_group": {"name": "g", "project_id": project.id}})
    assert status == 201
    rule = {"security_group_id": body["security_group"]["id"], "direction": "ingress", "protocol": "tcp"}
    status, body = _call(admin, "POST", "/security-group-rules", {"security_group_rule": rule})
    assert status == 409 and body["NeutronError"]["message"] == "Quota exceeded for resources: ['security_group_rule']."
    details = admin.network.get_quota(project.id, details=True)
    assert details.networks == {"limit": 2, "used": 2, "reserved": 0}
    status, body = _call(admin, "PUT", f"/quotas/{project.id}", {"quota": {"network": 1, "check_limit": True}})
    assert status == 400 and "must be greater than or equal to already used and reserved 2" in str(body)
    status, body = _call(admin, "PUT", f"/quotas/{project.id}", {"quota": {"network": -5}})
    assert status == 400 and "must be at least '-1'" in body["NeutronError"]["message"]
    status, body = _call(admin, "PUT", f"/quotas/{project.id}", {"quota": {"widgets": 5}})
    assert status == 400 and body["NeutronError"]["message"] == "Unrecognized attribute(s) 'widgets'"
    admin.network.delete_quota(project.id)
    assert admin.network.get_quota(project.id).networks == 100
    admin.network.create_network(name=_n("q"), project_id=project.id)
    for net in admin.network.networks(project_id=project.id):
        admin.network.delete_network(net)
    for group in admin.network.security_groups(project_id=project.id):
        admin.network.delete_security_group(group)
    admin.identity.delete_project(project)
