"""QoS policies and rules (admin-made, used by networks and ports), and trunks with subports."""

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


# -- QoS ----------------------------------------------------------------------------------------


def test_qos_policy_and_rules_lifecycle(admin, demo):
    with pytest.raises(exc.ForbiddenException):
        demo.network.create_qos_policy(name="mine")
    policy = admin.network.create_qos_policy(name=_n("qos"), description="d", shared=True)
    assert (policy.is_shared, policy.is_default, policy.rules) == (True, False, [])
    limit = admin.network.create_qos_bandwidth_limit_rule(policy, max_kbps=1500, max_burst_kbps=1100)
    assert (limit.max_kbps, limit.max_burst_kbps, limit.direction) == (1500, 1100, "egress")
    ingress = admin.network.create_qos_bandwidth_limit_rule(policy, max_kbps=100, direction="ingress")
    status, body = _call(
        admin, "POST", f"/qos/policies/{policy.id}/bandwidth_limit_rules", {"bandwidth_limit_rule": {"max_kbps": 5}}
    )
    assert status == 409 and body["NeutronError"]["type"] == "QoSRulesConflict"  # one per type and direction
    dscp = admin.network.create_qos_dscp_marking_rule(policy, dscp_mark=26)
    status, body = _call(admin, "POST", f"/qos/policies/{policy.id}/dscp_marking_rules", {"dscp_marking_rule": {}})
    assert status == 400 and "'dscp_mark' not specified" in body["NeutronError"]["message"]
    minimum = admin.network.create_qos_minimum_bandwidth_rule(policy, min_kbps=800)
    updated = admin.network.update_qos_bandwidth_limit_rule(limit, policy, max_kbps=1800)
    assert (updated.max_kbps, updated.max_burst_kbps) == (1800, 1100)
    with pytest.raises(exc.ConflictException):  # the ingress one is there already
        admin.network.update_qos_bandwidth_limit_rule(limit, policy, direction="ingress")
    shown = admin.network.get_qos_policy(policy.id)
    assert {(r["type"], r["id"]) for r in shown.rules} == {
        ("bandwidth_limit", limit.id),
        ("bandwidth_limit", ingress.id),
        ("dscp_marking", dscp.id),
        ("minimum_bandwidth", minimum.id),
    }
    assert [r.id for r in admin.network.qos_dscp_marking_rules(policy)] == [dscp.id]
    admin.network.set_tags(shown, ["gold"])  # at /policies/{id}/tags, where Neutron's tag extension puts them
    assert admin.network.get_qos_policy(policy.id).tags == ["gold"]
    # Shared: a member sees it (not its rules' changes), and may put its network and port on it.
    assert demo.network.get_qos_policy(policy.id).name == policy.name
    with pytest.raises(exc.ForbiddenException):
        demo.network.update_qos_policy(policy, name="x")
    net = demo.network.create_network(name=_n("net"), qos_policy_id=policy.id)
    port = demo.network.create_port(network_id=net.id, qos_policy_id=policy.id)
    assert (net.qos_policy_id, port.qos_policy_id, port.qos_network_policy_id) == (policy.id, policy.id, policy.id)
    status, body = _call(admin, "DELETE", f"/qos/policies/{policy.id}")
    assert status == 409 and body["NeutronError"]["type"] == "QosPolicyInUse"
    demo.network.update_port(port, qos_policy_id=None)
    demo.network.update_network(net, qos_policy_id=None)
    admin.network.delete_qos_minimum_bandwidth_rule(minimum, policy)
    admin.network.delete_qos_policy(policy)
    demo.network.delete_port(port)
    demo.network.delete_network(net)


def test_qos_defaults_types_and_visibility(admin, demo, alt):
    private = admin.network.create_qos_policy(name=_n("private"), project_id=demo.current_project_id)
    assert demo.network.get_qos_policy(private.id).project_id == demo.current_project_id
    status, body = _call(alt, "POST", "/networks", {"network": {"name": "n", "qos_policy_id": private.id}})
    assert status == 404 and body["NeutronError"]["type"] == "QosPolicyNotFound"
    default = admin.network.create_qos_policy(name=_n("default"), project_id=demo.current_project_id, is_default=True)
    status, body = _call(
        admin,
        "POST",
        "/qos/policies",
        {"policy": {"name": "again", "project_id": demo.current_project_id, "is_default": True}},
    )
    assert status == 409 and body["NeutronError"]["type"] == "QoSPolicyDefaultAlreadyExists"
    net = demo.network.create_network(name=_n("net"))
    assert net.qos_policy_id == default.id  # the project's default applies to its new networks
    types = {t.type for t in demo.network.qos_rule_types()}
    assert types == {"bandwidth_limit", "dscp_marking", "minimum_bandwidth"}
    detail = demo.network.get_qos_rule_type("bandwidth_limit")
    params = {p["parameter_name"] for p in detail.drivers[0]["supported_parameters"]}
    assert params == {"max_kbps", "max_burst_kbps", "direction"}
    demo.network.delete_network(net)
    admin.network.delete_qos_policy(default)
    admin.network.delete_qos_policy(private)


# -- trunks -------------------------------------------------------------------------------------


def test_trunk_with_subports(demo, alt):
    net = demo.network.create_network(name=_n("net"))
    demo.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.95.0.0/24")
    parent = demo.network.create_port(network_id=net.id)
    child = demo.network.create_port(network_id=net.id)
    other = demo.network.create_port(network_id=net.id)
    trunk = demo.network.create_trunk(name=_n("trunk"), port_id=parent.id)
    assert (trunk.status, trunk.is_admin_state_up, trunk.sub_ports) == ("DOWN", True, [])
    sub = {"port_id": child.id, "segmentation_type": "vlan", "segmentation_id": 111}
    demo.network.add_trunk_subports(trunk, [sub])
    assert demo.network.get_trunk_subports(trunk) == {"sub_ports": [sub]}
    held = demo.network.get_port(child.id)
    assert (held.device_owner, held.device_id) == ("trunk:subport", trunk.id)
    details = demo.network.get_port(parent.id).trunk_details
    assert details["trunk_id"] == trunk.id and details["sub_ports"][0]["mac_address"] == child.mac_address
    status, body = _call(
        demo,
        "PUT",
        f"/trunks/{trunk.id}/add_subports",
        {"sub_ports": [{"port_id": other.id, "segmentation_type": "vlan", "segmentation_id": 111}]},
    )
    assert status == 400 and body["NeutronError"]["type"] == "DuplicateSubPort"
    status, body = _call(demo, "POST", "/trunks", {"trunk": {"port_id": parent.id}})
    assert status == 409 and body["NeutronError"]["type"] == "TrunkPortInUse"
    status, body = _call(demo, "POST", "/trunks", {"trunk": {"port_id": child.id}})
    assert status == 409 and body["NeutronError"]["type"] == "ParentPortInUse"
    for port, kind in ((parent, "PortInUseAsTrunkParent"), (child, "PortInUseAsSubPort")):
        status, body = _call(demo, "DELETE", f"/ports/{port.id}")
        assert status == 409 and body["NeutronError"]["type"] == kind
    with pytest.raises(exc.NotFoundException):
        alt.network.get_trunk(trunk.id)
    demo.network.update_trunk(trunk, is_admin_state_up=False)
    status, body = _call(demo, "PUT", f"/trunks/{trunk.id}/remove_subports", {"sub_ports": [{"port_id": child.id}]})
    assert status == 409 and body["NeutronError"]["type"] == "TrunkDisabled"
    demo.network.update_trunk(trunk, is_admin_state_up=True, name="renamed")
    demo.network.delete_trunk_subports(trunk, [{"port_id": child.id}])
    assert demo.network.get_trunk_subports(trunk) == {"sub_ports": []}
    assert demo.network.get_port(child.id).device_owner == ""
    demo.network.delete_trunk(trunk)
    for port in (parent, child, other):
        demo.network.delete_port(port)
