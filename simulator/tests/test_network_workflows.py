"""The networking issue's sequence and the CLI tests' cases through openstacksdk and Neutron's API."""

from __future__ import annotations

import uuid

import openstack.exceptions as exc
import pytest


def _n(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def test_issue_sequence(demo):
    net_api = demo.network
    n1, s1, r1, p1, sg1 = _n("n1"), _n("s1"), _n("r1"), _n("p1"), _n("sg1")

    net = net_api.create_network(name=n1, description="the net")
    assert net.name == n1 and net.status == "ACTIVE" and net.is_admin_state_up is True
    assert net.is_shared is False and net.is_router_external is False and net.mtu > 0
    assert net.revision_number == 0 and net.created_at.endswith("Z")

    subnet = net_api.create_subnet(name=s1, network_id=net.id, cidr="10.0.0.0/24", ip_version=4)
    assert subnet.cidr == "10.0.0.0/24" and subnet.gateway_ip == "10.0.0.1"
    assert subnet.allocation_pools == [{"start": "10.0.0.2", "end": "10.0.0.254"}]
    assert subnet.network_id == net.id and subnet.is_dhcp_enabled is True and subnet.ip_version == 4

    public = net_api.find_network("public")
    router = net_api.create_router(name=r1, external_gateway_info={"network_id": public.id})
    gateway = router.external_gateway_info
    assert gateway["network_id"] == public.id and gateway["enable_snat"] is True
    (gw_ip,) = gateway["external_fixed_ips"]
    assert gw_ip["ip_address"].startswith("172.24.4.")
    net_api.add_interface_to_router(router, subnet=subnet.id)

    port = net_api.create_port(
        name=p1, network_id=net.id, fixed_ips=[{"subnet_id": subnet.id, "ip_address": "10.0.0.10"}]
    )
    assert port.fixed_ips == [{"subnet_id": subnet.id, "ip_address": "10.0.0.10"}]
    assert port.status == "DOWN" and port.mac_address.startswith("fa:16:3e:")
    default_sg = net_api.find_security_group("default", project_id=demo.current_project_id)
    assert port.security_group_ids == [default_sg.id]

    group = net_api.create_security_group(name=sg1, description="ssh in")
    rule = net_api.create_security_group_rule(
        security_group_id=group.id, direction="ingress", protocol="tcp", port_range_min=22, port_range_max=22,
        remote_ip_prefix="0.0.0.0/0", ethertype="IPv4",
    )  # fmt: skip
    assert rule.direction == "ingress" and rule.protocol == "tcp"
    assert (rule.port_range_min, rule.port_range_max) == (22, 22)
    assert rule.remote_ip_prefix == "0.0.0.0/0" and rule.security_group_id == group.id

    fip = net_api.create_ip(floating_network_id=public.id)
    assert fip.floating_network_id == public.id and fip.status == "DOWN" and fip.port_id is None
    net_api.update_ip(fip, port_id=port.id)

    # every list and show returns what was set
    assert n1 in [n.name for n in net_api.networks()]
    assert net_api.get_network(net.id).subnet_ids == [subnet.id]
    assert net_api.get_subnet(subnet.id).cidr == "10.0.0.0/24"
    assert net_api.get_router(router.id).external_gateway_info["network_id"] == public.id
    interfaces = list(net_api.ports(device_id=router.id, device_owner="network:router_interface"))
    assert [i.fixed_ips[0]["ip_address"] for i in interfaces] == ["10.0.0.1"]
    assert interfaces[0].fixed_ips[0]["subnet_id"] == subnet.id
    ports = {p.name: p for p in net_api.ports(network_id=net.id)}
    assert ports[p1].fixed_ips == [{"subnet_id": subnet.id, "ip_address": "10.0.0.10"}]
    owners = {p.device_owner for p in net_api.ports(network_id=net.id)}
    assert {"network:router_interface", "network:dhcp", ""} <= owners
    assert net_api.get_security_group(group.id).description == "ssh in"
    rules = list(net_api.security_group_rules(security_group_id=group.id))
    assert {(r.protocol, r.port_range_min, r.port_range_max, r.direction) for r in rules} >= {
        ("tcp", 22, 22, "ingress")
    }
    shown_fip = net_api.get_ip(fip.id)
    assert shown_fip.port_id == port.id and shown_fip.fixed_ip_address == "10.0.0.10"
    assert shown_fip.router_id == router.id and shown_fip.status == "ACTIVE"
    assert [f.floating_ip_address for f in net_api.ips(port_id=port.id)] == [fip.floating_ip_address]

    # the network is in use
    with pytest.raises(exc.ConflictException) as busy:
        net_api.delete_network(net)
    assert f"Unable to complete operation on network {net.id}" in str(busy.value)
    assert "one or more ports still in use" in str(busy.value)

    # and everything deletes cleanly
    net_api.update_ip(fip, port_id=None)
    assert net_api.get_ip(fip.id).port_id is None
    net_api.delete_ip(fip)
    net_api.delete_port(port)
    net_api.remove_interface_from_router(router, subnet=subnet.id)
    net_api.delete_router(router)
    net_api.delete_security_group(group)
    net_api.delete_network(net)
    assert n1 not in [n.name for n in net_api.networks()]
    assert list(net_api.subnets(name=s1)) == []
    assert list(net_api.routers(name=r1)) == []
    assert net_api.find_ip(fip.id) is None
    with pytest.raises(exc.NotFoundException):
        net_api.get_port(port.id)


def test_network_options_and_tags(demo):
    name = _n("net")
    net = demo.network.create_network(name=name, is_admin_state_up=False, mtu=1400, is_port_security_enabled=False)
    demo.network.set_tags(net, ["red"])
    net = demo.network.get_network(net.id)
    assert net.is_admin_state_up is False and net.mtu == 1400 and net.is_port_security_enabled is False
    assert net.tags == ["red"]
    demo.network.update_network(net, name=f"{name}-x", is_admin_state_up=True)
    demo.network.add_tag(net, "blue")
    shown = demo.network.get_network(net.id)
    assert shown.name == f"{name}-x" and shown.is_admin_state_up is True and sorted(shown.tags) == ["blue", "red"]
    assert shown.revision_number > net.revision_number
    assert [n.name for n in demo.network.networks(tags="blue,red")] == [f"{name}-x"]
    demo.network.remove_tag(shown, "red")
    assert demo.network.get_network(net.id).tags == ["blue"]
    demo.network.delete_network(net)


def test_member_cannot_make_shared_network(demo):
    with pytest.raises(exc.ForbiddenException, match="create_network:shared"):
        demo.network.create_network(name=_n("shared"), is_shared=True)


def test_bad_cidr_names_the_problem(demo):
    net = demo.network.create_network(name=_n("net"))
    with pytest.raises(exc.BadRequestException) as bad:
        demo.network.create_subnet(name=_n("sub"), network_id=net.id, cidr="10.0.0.0/33", ip_version=4)
    assert "Invalid input for cidr. Reason: '10.0.0.0/33' is not a valid IP subnet." in str(bad.value)
