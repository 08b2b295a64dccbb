"""Neutron v2.0 through openstacksdk: the network proxy, the cloud layer, and who sees what."""

from __future__ import annotations

import uuid

import openstack.exceptions as exc
import pytest


def _n(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def test_version_discovery_and_catalog(demo, sim):
    assert demo.network.get_endpoint().rstrip("/") == f"{sim.url}/network/v2.0"
    root = demo.session.get(f"{sim.url}/network", authenticated=False).json()
    (version,) = root["versions"]
    assert version["id"] == "v2.0" and version["status"] == "CURRENT"
    assert version["links"][0]["href"] == f"{sim.url}/network/v2.0/"
    resources = demo.session.get(f"{sim.url}/network/v2.0").json()["resources"]
    assert {"networks", "subnets", "ports", "routers", "floatingips", "security_groups"} <= {
        r["collection"] for r in resources
    }
    catalog = demo.session.auth.get_access(demo.session).service_catalog
    assert catalog.url_for(service_type="network", interface="public") == f"{sim.url}/network"


def test_extensions_listed_and_shown(demo):
    aliases = {e.alias for e in demo.network.extensions()}
    for alias in (
        "standard-attr-tag",
        "router",
        "external-net",
        "security-group",
        "quotas",
        "allowed-address-pairs",
        "port-security",
        "binding",
        "extraroute",
        "standard-attr-description",
        "standard-attr-revisions",
        "standard-attr-timestamp",
        "project-id",
        "net-mtu",
        "provider",
        "qos",
        "trunk",
        "rbac-policies",
        "subnet_allocation",
        "address-scope",
        "auto-allocated-topology",
        "tag-creation",
        "l3-ha",
        "dvr",
        "extra_dhcp_opt",
        "service-type",
        "availability_zone",
    ):
        assert alias in aliases
    # Only what works is advertised: clients switch features on these.
    for missing in ("dns-integration", "segment", "qos-pps", "port_forwarding", "network-ip-availability"):
        assert missing not in aliases
    assert demo.network.find_extension("router").name == "Neutron L3 Router"
    assert demo.network.find_extension("segment") is None


def test_proxy_sequence(demo):
    public = demo.network.find_network("public", ignore_missing=False)
    assert public.is_router_external and not public.is_shared
    net = demo.network.create_network(name=_n("net"), description="d", tags=["t1"])
    assert net.description == "d" and net.tags == ["t1"] and net.status == "ACTIVE"
    subnet = demo.network.create_subnet(
        network_id=net.id,
        ip_version=4,
        cidr="192.168.10.0/24",
        name=_n("sub"),
        allocation_pools=[{"start": "192.168.10.100", "end": "192.168.10.150"}],
        dns_nameservers=["8.8.8.8", "1.1.1.1"],
        host_routes=[{"destination": "10.20.0.0/16", "nexthop": "192.168.10.254"}],
    )
    assert subnet.gateway_ip == "192.168.10.1"
    assert subnet.allocation_pools == [{"start": "192.168.10.100", "end": "192.168.10.150"}]
    assert subnet.dns_nameservers == ["8.8.8.8", "1.1.1.1"]
    assert subnet.host_routes == [{"destination": "10.20.0.0/16", "nexthop": "192.168.10.254"}]
    # The network's DHCP port takes the first address of the pool, as in Neutron.
    (dhcp,) = demo.network.ports(network_id=net.id, device_owner="network:dhcp")
    assert dhcp.fixed_ips == [{"subnet_id": subnet.id, "ip_address": "192.168.10.100"}]

    router = demo.network.create_router(name=_n("rtr"), external_gateway_info={"network_id": public.id})
    assert router.external_gateway_info["external_fixed_ips"][0]["ip_address"].startswith("172.24.4.")
    info = demo.network.add_interface_to_router(router, subnet=subnet.id)
    assert info["subnet_id"] == subnet.id and info["network_id"] == net.id
    interface = demo.network.get_port(info["port_id"])
    assert interface.device_owner == "network:router_interface" and interface.device_id == router.id
    assert interface.fixed_ips == [{"subnet_id": subnet.id, "ip_address": "192.168.10.1"}]

    port = demo.network.create_port(network_id=net.id, name=_n("port"))
    assert port.fixed_ips == [{"subnet_id": subnet.id, "ip_address": "192.168.10.101"}]
    assert port.status == "DOWN" and port.is_port_security_enabled

    fip = demo.network.create_ip(floating_network_id=public.id, port_id=port.id)
    assert fip.fixed_ip_address == "192.168.10.101" and fip.router_id == router.id and fip.status == "ACTIVE"
    assert fip.port_details["mac_address"] == port.mac_address
    fip = demo.network.update_ip(fip, port_id=None)
    assert fip.port_id is None and fip.fixed_ip_address is None and fip.status == "DOWN"
    fip = demo.network.update_ip(fip, port_id=port.id)
    assert fip.port_id == port.id

    # Deleting the port lets go of the floating IP, which stays.
    demo.network.delete_port(port)
    assert demo.network.get_ip(fip.id).port_id is None
    demo.network.delete_ip(fip)
    demo.network.remove_interface_from_router(router, subnet=subnet.id)
    with pytest.raises(exc.NotFoundException):
        demo.network.get_port(interface.id)
    demo.network.delete_router(router)
    # Only the DHCP port is left: the network deletes, and its subnet and DHCP port with it.
    demo.network.delete_network(net)
    with pytest.raises(exc.NotFoundException):
        demo.network.get_subnet(subnet.id)
    with pytest.raises(exc.NotFoundException):
        demo.network.get_port(dhcp.id)


def test_cloud_layer(demo):
    net = demo.create_network(_n("cnet"))
    assert net.name and net.is_admin_state_up
    subnet = demo.create_subnet(net.id, cidr="10.30.0.0/24", subnet_name=_n("csub"), enable_dhcp=False)
    assert subnet.cidr == "10.30.0.0/24" and subnet.is_dhcp_enabled is False
    public = demo.get_network("public")
    router = demo.create_router(name=_n("crtr"), ext_gateway_net_id=public.id)
    assert router.external_gateway_info["network_id"] == public.id
    demo.add_router_interface(router, subnet_id=subnet.id)
    assert [p.device_owner for p in demo.list_router_interfaces(router)] == ["network:router_interface"]
    port = demo.create_port(net.id, name=_n("cport"))
    fip = demo.create_floating_ip(network="public", port=port.id, wait=True)
    assert fip.floating_network_id == public.id and fip.port_id == port.id and fip.status == "ACTIVE"
    assert demo.get_floating_ip(fip.id).fixed_ip_address == port.fixed_ips[0]["ip_address"]
    updated = demo.update_router(router.id, routes=[{"destination": "10.99.0.0/16", "nexthop": "10.30.0.50"}])
    assert updated.routes == [{"destination": "10.99.0.0/16", "nexthop": "10.30.0.50"}]
    demo.update_router(router.id, routes=[])

    anywhere = demo.create_floating_ip()  # the cloud layer finds the external network itself
    assert anywhere.floating_network_id == public.id and anywhere.port_id is None
    assert demo.delete_floating_ip(anywhere.id)
    assert demo.delete_floating_ip(fip.id)
    assert demo.delete_port(port.id)
    demo.remove_router_interface(router, subnet_id=subnet.id)
    assert demo.delete_router(router.id)
    assert demo.delete_network(net.id)
    assert demo.get_network(net.id) is None


def test_floating_ip_needs_a_router_to_reach_the_port(demo):
    net = demo.network.create_network(name=_n("island"))
    subnet = demo.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.40.0.0/24")
    port = demo.network.create_port(network_id=net.id)
    public = demo.network.find_network("public")
    with pytest.raises(exc.NotFoundException) as err:
        demo.network.create_ip(floating_network_id=public.id, port_id=port.id)
    assert f"External network {public.id} is not reachable from subnet {subnet.id}" in str(err.value)
    # A router without a gateway does not help either.
    router = demo.network.create_router(name=_n("nogw"))
    demo.network.add_interface_to_router(router, subnet=subnet.id)
    fip = demo.network.create_ip(floating_network_id=public.id)
    with pytest.raises(exc.NotFoundException):
        demo.network.update_ip(fip, port_id=port.id)
    demo.network.update_router(router, external_gateway_info={"network_id": public.id})
    fip = demo.network.update_ip(fip, port_id=port.id)
    assert fip.router_id == router.id
    # The gateway and the interface cannot go while the floating IP needs them.
    with pytest.raises(exc.ConflictException, match="required by one or more floating IPs"):
        demo.network.remove_interface_from_router(router, subnet=subnet.id)
    with pytest.raises(exc.ConflictException, match="is required by one or more floating IPs"):
        demo.network.update_router(router, external_gateway_info={})
    with pytest.raises(exc.ConflictException, match="still has ports"):
        demo.network.delete_router(router)
    interface = next(demo.network.ports(device_id=router.id, device_owner="network:router_interface"))
    with pytest.raises(exc.ConflictException, match="cannot be deleted directly via the port API"):
        demo.network.delete_port(interface)
    demo.network.delete_ip(fip)
    demo.network.remove_interface_from_router(router, subnet=subnet.id)
    demo.network.delete_router(router)
    demo.network.delete_port(port)
    demo.network.delete_network(net)


def test_demo_cannot_see_or_change_admin_private_networks(admin, demo):
    private = admin.network.create_network(name=_n("admin-private"))
    shared = admin.network.create_network(name=_n("admin-shared"), is_shared=True)
    visible = {n.id for n in demo.network.networks()}
    assert private.id not in visible and shared.id in visible
    assert demo.network.find_network("public").id in visible
    with pytest.raises(exc.NotFoundException, match=f"Network {private.id} could not be found"):
        demo.network.get_network(private.id)
    with pytest.raises(exc.NotFoundException):
        demo.network.update_network(private.id, name="mine")
    with pytest.raises(exc.NotFoundException):
        demo.network.delete_network(private.id, ignore_missing=False)
    with pytest.raises(exc.NotFoundException):
        demo.network.create_port(network_id=private.id)
    # A shared network: visible, ports allowed, but not the owner's to change.
    with pytest.raises(exc.ForbiddenException, match="disallowed by policy"):
        demo.network.update_network(shared.id, name="mine")
    with pytest.raises(exc.ForbiddenException, match="not allowed to create subnet on this network"):
        demo.network.create_subnet(network_id=shared.id, ip_version=4, cidr="10.50.0.0/24")
    admin.network.create_subnet(network_id=shared.id, ip_version=4, cidr="10.50.0.0/24")
    port = demo.network.create_port(network_id=shared.id)
    assert port.project_id == demo.current_project_id
    # The owner of the network sees the demo port on it; admin sees everything.
    assert port.id in {p.id for p in admin.network.ports(network_id=shared.id)}
    assert private.id in {n.id for n in admin.network.networks()}
    # A member does not see the admin's subnets of a shared network's neighbours, nor provider attributes.
    raw = demo.network.get(f"/networks/{shared.id}").json()["network"]
    assert "provider:network_type" not in raw
    raw = admin.network.get(f"/networks/{shared.id}").json()["network"]
    assert raw["provider:network_type"] == "geneve"
    demo.network.delete_port(port)
    admin.network.delete_network(shared)
    admin.network.delete_network(private)


def test_admin_acts_for_other_projects(admin, demo):
    demo_project = demo.current_project_id
    net = admin.network.create_network(name=_n("for-demo"), project_id=demo_project)
    assert net.project_id == demo_project
    assert demo.network.get_network(net.id).name == net.name
    demo.network.delete_network(net)
    with pytest.raises(exc.BadRequestException, match="requires admin"):
        demo.network.create_network(name=_n("x"), project_id=admin.current_project_id)


def test_external_network_and_gateway_rules(admin, demo):
    ext = admin.network.create_network(name=_n("ext"), is_router_external=True)
    assert ext.provider_network_type == "flat" and ext.mtu == 1500
    admin.network.create_subnet(network_id=ext.id, ip_version=4, cidr="198.51.100.0/29", enable_dhcp=False)
    assert ext.id in {n.id for n in demo.network.networks(is_router_external=True)}
    internal = demo.network.create_network(name=_n("int"))
    with pytest.raises(exc.BadRequestException, match=f"Network {internal.id} is not an external network"):
        demo.network.create_router(external_gateway_info={"network_id": internal.id})
    with pytest.raises(exc.BadRequestException, match="is not a valid external network"):
        demo.network.create_ip(floating_network_id=internal.id)
    with pytest.raises(exc.ForbiddenException):
        demo.network.create_ip(floating_network_id=ext.id, floating_ip_address="198.51.100.3")
    # /29: .1 is the gateway, .2-.6 the pool.
    made = [admin.network.create_ip(floating_network_id=ext.id) for _ in range(5)]
    assert sorted(f.floating_ip_address for f in made) == [f"198.51.100.{i}" for i in range(2, 7)]
    with pytest.raises(exc.ConflictException, match="No more IP addresses available"):
        admin.network.create_ip(floating_network_id=ext.id)
    with pytest.raises(exc.ConflictException, match="There are one or more ports still in use"):
        admin.network.delete_network(ext)
    for fip in made:
        admin.network.delete_ip(fip)
    admin.network.delete_network(ext)
    demo.network.delete_network(internal)
