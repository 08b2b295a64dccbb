"""``OS::Neutron::*`` types made by Heat through the Networking facade: what a stack makes is what Neutron shows."""

from __future__ import annotations

import uuid

import yaml


def _n(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def _template(resources: dict, outputs: dict | None = None) -> str:
    body: dict = {"heat_template_version": "2018-08-31", "resources": resources}
    if outputs:
        body["outputs"] = {k: {"value": v} for k, v in outputs.items()}
    return yaml.safe_dump(body)


def _stack(conn, name: str, template: str, tmp_path, **params):
    path = tmp_path / f"{name}.yaml"
    path.write_text(template)
    return conn.create_stack(name, template_file=str(path), wait=True, **params)


def _outputs(conn, stack) -> dict:
    shown = conn.orchestration.get_stack(stack.id)
    return {o["output_key"]: o["output_value"] for o in shown.outputs}


def test_network_types_with_value_specs_and_updates(demo, tmp_path):
    name = _n("net")
    resources = {
        "net": {
            "type": "OS::Neutron::Net",
            "properties": {"value_specs": {"mtu": 1400, "not_a_network_attribute": 1}, "tags": ["a"]},
        },
        "subnet": {
            "type": "OS::Neutron::Subnet",
            "properties": {"network": {"get_resource": "net"}, "cidr": "10.55.0.0/24", "gateway_ip": ""},
        },
        "port": {
            "type": "OS::Neutron::Port",
            "properties": {
                "network": {"get_resource": "net"},
                "fixed_ips": [{"subnet": {"get_resource": "subnet"}, "ip_address": "10.55.0.20"}],
                "security_groups": ["default"],
            },
        },
    }
    outputs = {
        "subnets": {"get_attr": ["net", "subnets"]},
        "mtu": {"get_attr": ["net", "mtu"]},
        "gateway": {"get_attr": ["subnet", "gateway_ip"]},
        "port_subnet": {"get_attr": ["port", "subnets", 0, "cidr"]},
        "port_network": {"get_attr": ["port", "network", "name"]},
    }
    stack = _stack(demo, name, _template(resources, outputs), tmp_path)
    assert stack.status == "CREATE_COMPLETE", stack.status_reason
    out = _outputs(demo, stack)
    (net,) = [n for n in demo.network.networks() if n.name.startswith(f"{name}-net-")]
    assert (out["mtu"], net.mtu, net.tags) == (1400, 1400, ["a"])
    assert out["gateway"] is None  # "" asks for a subnet without a gateway, as in Heat
    assert (out["port_subnet"], out["port_network"]) == ("10.55.0.0/24", net.name)
    assert len(out["subnets"]) == 1
    # An update changes what changed: a new name and tags on the network, name servers on the subnet.
    resources["net"]["properties"].update(name="renamed", tags=["b"])
    resources["subnet"]["properties"]["dns_nameservers"] = ["10.55.0.53"]
    path = tmp_path / "updated.yaml"
    path.write_text(_template(resources, outputs))
    updated = demo.update_stack(stack.id, template_file=str(path), wait=True)
    assert updated.status == "UPDATE_COMPLETE", updated.status_reason
    assert demo.network.get_network(net.id).name == "renamed"
    assert demo.network.get_network(net.id).tags == ["b"]
    assert demo.network.get_subnet(out["subnets"][0]).dns_nameservers == ["10.55.0.53"]
    assert _outputs(demo, stack)["gateway"] is None
    demo.delete_stack(stack.id, wait=True)
    assert list(demo.network.networks(name="renamed")) == []


def test_pools_scopes_qos_rbac_and_trunks(admin, alt, tmp_path):
    resources = {
        "scope": {"type": "OS::Neutron::AddressScope", "properties": {"ip_version": 4}},
        "pool": {
            "type": "OS::Neutron::SubnetPool",
            "properties": {
                "prefixes": ["10.77.0.0/16"],
                "default_prefixlen": 24,
                "address_scope": {"get_resource": "scope"},
            },
        },
        "net": {"type": "OS::Neutron::Net"},
        "subnet": {
            "type": "OS::Neutron::Subnet",
            "properties": {"network": {"get_resource": "net"}, "subnetpool": {"get_resource": "pool"}},
        },
        "share": {
            "type": "OS::Neutron::RBACPolicy",
            "properties": {
                "object_type": "network",
                "object_id": {"get_resource": "net"},
                "action": "access_as_shared",
                "target_tenant": alt.current_project_id,
            },
        },
        "qos": {"type": "OS::Neutron::QoSPolicy", "properties": {"description": "gold"}},
        "limit": {
            "type": "OS::Neutron::QoSBandwidthLimitRule",
            "properties": {"policy": {"get_resource": "qos"}, "max_kbps": 1000},
        },
        "dscp": {
            "type": "OS::Neutron::QoSDscpMarkingRule",
            "properties": {"policy": {"get_resource": "qos"}, "dscp_mark": 26},
        },
        "parent": {
            "type": "OS::Neutron::Port",
            "properties": {"network": {"get_resource": "net"}, "qos_policy": {"get_resource": "qos"}},
        },
        "child": {"type": "OS::Neutron::Port", "properties": {"network": {"get_resource": "net"}}},
        "trunk": {
            "type": "OS::Neutron::Trunk",
            "properties": {
                "port": {"get_resource": "parent"},
                "sub_ports": [{"port": {"get_resource": "child"}, "segmentation_id": 42}],
            },
        },
    }
    outputs = {
        "cidr": {"get_attr": ["subnet", "cidr"]},
        "rules": {"get_attr": ["qos", "rules"]},
        "trunk_status": {"get_attr": ["trunk", "status"]},
        "sub_ports": {"get_attr": ["trunk", "sub_ports"]},
    }
    stack = _stack(admin, _n("pools"), _template(resources, outputs), tmp_path)
    assert stack.status == "CREATE_COMPLETE", stack.status_reason
    out = _outputs(admin, stack)
    assert out["cidr"] == "10.77.0.0/24"
    assert {r["type"] for r in out["rules"]} == {"bandwidth_limit", "dscp_marking"}
    assert out["trunk_status"] == "DOWN" and out["sub_ports"][0]["segmentation_id"] == 42
    (net,) = [n for n in admin.network.networks() if n.name.startswith(f"{stack.name}-net-")]
    assert alt.network.get_network(net.id).is_shared is True  # the RBAC policy shares it with alt
    assert net.ipv4_address_scope_id is not None
    admin.delete_stack(stack.id, wait=True)
    assert [p for p in admin.network.subnet_pools() if p.name.startswith(f"{stack.name}-")] == []
    assert [p for p in admin.network.qos_policies() if p.name.startswith(f"{stack.name}-")] == []
