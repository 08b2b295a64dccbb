"""Bad input gets Neutron's status codes and a message that names the problem; IPAM rules hold."""

from __future__ import annotations

import ipaddress
import uuid
from typing import Any

import pytest


def _n(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def _call(conn, method: str, path: str, body: Any = None, headers: dict | None = None) -> tuple[int, Any]:
    resp = conn.network.request(path, method, json=body, headers=headers or {})
    return resp.status_code, (resp.json() if resp.content else None)


def _error(conn, method: str, path: str, body: Any = None) -> tuple[int, str, str]:
    status, data = _call(conn, method, path, body)
    assert set(data) == {"NeutronError"}, data
    err = data["NeutronError"]
    assert set(err) == {"type", "message", "detail"}
    return status, err["type"], err["message"]


@pytest.fixture
def network(demo):
    net = demo.network.create_network(name=_n("val"))
    yield net
    for port in demo.network.ports(network_id=net.id):
        if port.device_owner in ("", "compute:nova"):
            demo.network.delete_port(port)
    demo.network.delete_network(net, ignore_missing=True)


def _subnet(demo, network, **body) -> tuple[int, str, str]:
    return _error(demo, "POST", "/subnets", {"subnet": {"network_id": network.id, "ip_version": 4, **body}})


def test_malformed_cidr(demo, network):
    assert _subnet(demo, network, cidr="10.0.0.0/33") == (
        400,
        "HTTPBadRequest",
        "Invalid input for cidr. Reason: '10.0.0.0/33' is not a valid IP subnet.",
    )
    status, _, message = _subnet(demo, network, cidr="banana")
    assert status == 400 and "'banana' is not a valid IP subnet" in message
    status, _, message = _subnet(demo, network, cidr="10.0.0.0")
    assert status == 400 and "'10.0.0.0' isn't a recognized IP subnet cidr, '10.0.0.0/32' is recommended" in message
    status, _, message = _subnet(demo, network, cidr="2001:db8::/64")
    assert status == 400 and "does not match the ip_version '4'" in message


def test_host_bits_are_dropped_as_neutron_does(demo, network):
    subnet = demo.network.create_subnet(network_id=network.id, ip_version=4, cidr="10.1.2.3/24")
    assert subnet.cidr == "10.1.2.0/24" and subnet.gateway_ip == "10.1.2.1"


def test_gateway_outside_subnet_and_in_pool(demo, network):
    # Neutron takes a gateway outside the subnet (an on-link router it does not manage);
    # the pools then keep every address.
    outside = demo.network.create_subnet(
        network_id=network.id, ip_version=4, cidr="10.2.0.0/24", gateway_ip="192.168.1.1"
    )
    assert outside.gateway_ip == "192.168.1.1"
    assert outside.allocation_pools == [{"start": "10.2.0.1", "end": "10.2.0.254"}]
    demo.network.delete_subnet(outside)
    status, kind, message = _subnet(demo, network, cidr="10.2.0.0/24", gateway_ip="10.2.0.255")
    assert (status, kind) == (400, "InvalidInput")
    assert message == "Invalid input for operation: Gateway is not valid on subnet."
    status, _, message = _subnet(demo, network, cidr="10.2.0.0/24", gateway_ip="2001:db8::1")
    assert status == 400 and "does not match the ip_version '4'" in message
    status, kind, message = _subnet(
        demo,
        network,
        cidr="10.2.0.0/24",
        gateway_ip="10.2.0.50",
        allocation_pools=[{"start": "10.2.0.10", "end": "10.2.0.100"}],
    )
    assert (status, kind) == (409, "GatewayConflictWithAllocationPools")
    assert message == "Gateway ip 10.2.0.50 conflicts with allocation pool 10.2.0.10-10.2.0.100."


def test_allocation_pools_checked(demo, network):
    status, kind, message = _subnet(
        demo, network, cidr="10.3.0.0/24", allocation_pools=[{"start": "10.3.0.10", "end": "10.4.0.5"}]
    )
    assert (status, kind) == (400, "OutOfBoundsAllocationPool")
    assert "spans beyond the subnet cidr 10.3.0.0/24" in message
    status, kind, _ = _subnet(
        demo,
        network,
        cidr="10.3.0.0/24",
        allocation_pools=[{"start": "10.3.0.10", "end": "10.3.0.20"}, {"start": "10.3.0.15", "end": "10.3.0.30"}],
    )
    assert (status, kind) == (400, "OverlappingAllocationPools")
    status, kind, _ = _subnet(
        demo, network, cidr="10.3.0.0/24", allocation_pools=[{"start": "10.3.0.20", "end": "10.3.0.10"}]
    )
    assert (status, kind) == (400, "InvalidAllocationPool")
    status, _, message = _subnet(demo, network, cidr="10.3.0.0/24", allocation_pools=[{"start": "10.3.0.20"}])
    assert status == 400 and "allocation_pools" in message


def test_gateway_none_and_default_pools(demo, network):
    subnet = demo.network.create_subnet(network_id=network.id, ip_version=4, cidr="10.5.0.0/28", gateway_ip=None)
    assert subnet.gateway_ip is None
    assert subnet.allocation_pools == [{"start": "10.5.0.1", "end": "10.5.0.14"}]
    middle = demo.network.create_subnet(
        network_id=network.id, ip_version=4, cidr="10.5.1.0/28", gateway_ip="10.5.1.7", enable_dhcp=False
    )
    assert middle.allocation_pools == [
        {"start": "10.5.1.1", "end": "10.5.1.6"},
        {"start": "10.5.1.8", "end": "10.5.1.14"},
    ]


def test_overlapping_cidrs_on_one_network(demo, network):
    demo.network.create_subnet(network_id=network.id, ip_version=4, cidr="10.6.0.0/16")
    status, kind, message = _subnet(demo, network, cidr="10.6.5.0/24")
    assert (status, kind) == (400, "InvalidInput")
    assert f"Requested subnet with cidr: 10.6.5.0/24 for network: {network.id} overlaps with another subnet" in message
    # Another network may reuse the range.
    other = demo.network.create_network(name=_n("other"))
    demo.network.create_subnet(network_id=other.id, ip_version=4, cidr="10.6.5.0/24")
    demo.network.delete_network(other)


def test_ipv6_subnets(demo, network):
    slaac = demo.network.create_subnet(
        network_id=network.id, ip_version=6, cidr="2001:db8:1::/64", ipv6_ra_mode="slaac", ipv6_address_mode="slaac"
    )
    assert slaac.gateway_ip == "2001:db8:1::1"
    assert slaac.allocation_pools == [{"start": "2001:db8:1::2", "end": "2001:db8:1:0:ffff:ffff:ffff:ffff"}]
    v4 = demo.network.create_subnet(network_id=network.id, ip_version=4, cidr="10.7.0.0/24")
    port = demo.network.create_port(network_id=network.id)
    by_subnet = {ip["subnet_id"]: ip["ip_address"] for ip in port.fixed_ips}
    mac = port.mac_address.split(":")
    eui = f"2001:db8:1::{int(mac[0], 16) ^ 2:x}{mac[1]}:{mac[2]}ff:fe{mac[3]}:{mac[4]}{mac[5]}"
    assert by_subnet[slaac.id] == str(ipaddress.ip_address(eui))
    assert by_subnet[v4.id].startswith("10.7.0.")
    status, _, message = _error(
        demo,
        "POST",
        "/subnets",
        {
            "subnet": {
                "network_id": network.id,
                "ip_version": 6,
                "cidr": "2001:db8:2::/80",
                "ipv6_address_mode": "slaac",
            }
        },
    )
    assert status == 400 and "requires the prefix to be /64" in message


def test_unknown_attribute_and_bad_values(demo, network):
    assert _error(demo, "POST", "/networks", {"network": {"name": "x", "colour": "blue"}}) == (
        400,
        "HTTPBadRequest",
        "Unrecognized attribute(s) 'colour'",
    )
    status, _, message = _error(demo, "POST", "/networks", {"network": {"admin_state_up": "maybe"}})
    assert (
        status == 400 and message == "Invalid input for admin_state_up. Reason: 'maybe' is not a valid boolean value."
    )
    status, _, message = _error(demo, "POST", "/networks", {"network": {"mtu": "big"}})
    assert status == 400 and message == "Invalid input for mtu. Reason: 'big' is not an integer."
    status, _, message = _subnet(demo, network, ip_version=5, cidr="10.8.0.0/24")
    assert status == 400 and message == "Invalid input for ip_version. Reason: 5 is not in [4, 6]."
    status, _, message = _error(demo, "POST", "/subnets", {"subnet": {"network_id": network.id, "cidr": "10.8.0.0/24"}})
    assert status == 400 and message == "Failed to parse request. Required attribute 'ip_version' not specified"
    status, _, message = _error(demo, "POST", "/networks", {"network": {"status": "DOWN"}})
    assert status == 400 and message == "Attribute 'status' not allowed in POST"
    status, _, message = _error(demo, "PUT", f"/networks/{network.id}", {"network": {"id": "x"}})
    assert status == 400 and message == "Cannot update read-only attribute id"
    status, _, message = _error(demo, "POST", "/networks", {"net": {}})
    assert status == 400 and "Unable to find 'network' in request body" in message
    status, _, message = _error(demo, "POST", "/networks", {"network": {"mtu": 9000}})
    assert status == 400 and "Requested MTU is too big, maximum is 1442" in message


def test_fixed_ips_requested_and_conflicts(demo, network):
    subnet = demo.network.create_subnet(network_id=network.id, ip_version=4, cidr="10.9.0.0/29", enable_dhcp=False)
    port = demo.network.create_port(network_id=network.id, fixed_ips=[{"ip_address": "10.9.0.5"}])
    assert port.fixed_ips == [{"subnet_id": subnet.id, "ip_address": "10.9.0.5"}]
    body = {"port": {"network_id": network.id, "fixed_ips": [{"subnet_id": subnet.id, "ip_address": "10.9.0.5"}]}}
    assert _error(demo, "POST", "/ports", body) == (
        409,
        "IpAddressAlreadyAllocated",
        f"IP address 10.9.0.5 already allocated in subnet {subnet.id}",
    )
    body["port"]["fixed_ips"] = [{"ip_address": "10.99.0.5"}]
    status, kind, message = _error(demo, "POST", "/ports", body)
    assert (status, kind) == (400, "InvalidIpForNetwork") and "10.99.0.5" in message
    body["port"]["fixed_ips"] = [{"subnet_id": subnet.id, "ip_address": "10.9.0.7"}]
    status, kind, _ = _error(demo, "POST", "/ports", body)  # the broadcast address
    assert (status, kind) == (400, "InvalidIpForSubnet")
    body["port"]["fixed_ips"] = [{"subnet_id": subnet.id, "ip_address": "10.9.0.300"}]
    status, _, message = _error(demo, "POST", "/ports", body)
    assert status == 400 and "'10.9.0.300' is not a valid IP address" in message
    # A /29 has .2-.6 in its pool: .5 is taken, so three more ports fill it.
    made = [demo.network.create_port(network_id=network.id) for _ in range(4)]
    assert [p.fixed_ips[0]["ip_address"] for p in made] == ["10.9.0.2", "10.9.0.3", "10.9.0.4", "10.9.0.6"]
    status, kind, message = _error(demo, "POST", "/ports", {"port": {"network_id": network.id}})
    assert (status, kind) == (409, "IpAddressGenerationFailure")
    assert message == f"No more IP addresses available on network {network.id}."
    # Updating a port's addresses frees the old one.
    moved = demo.network.update_port(port, fixed_ips=[{"subnet_id": subnet.id, "ip_address": "10.9.0.1"}])
    assert moved.fixed_ips == [{"subnet_id": subnet.id, "ip_address": "10.9.0.1"}]
    assert demo.network.create_port(network_id=network.id).fixed_ips[0]["ip_address"] == "10.9.0.5"


def test_mac_addresses(admin, demo, network):
    port = demo.network.create_port(network_id=network.id, mac_address="fa:16:3e:00:00:01")
    assert port.mac_address == "fa:16:3e:00:00:01"
    status, kind, message = _error(
        demo, "POST", "/ports", {"port": {"network_id": network.id, "mac_address": "fa:16:3e:00:00:01"}}
    )
    assert (status, kind) == (409, "MacAddressInUse") and "The mac address fa:16:3e:00:00:01 is in use" in message
    status, _, message = _error(demo, "POST", "/ports", {"port": {"network_id": network.id, "mac_address": "zz"}})
    assert status == 400 and "'zz' is not a valid MAC address" in message
    macs = {p.mac_address for p in admin.network.ports()}
    assert len(macs) == len(list(admin.network.ports()))


def test_port_security_and_address_pairs(demo, network):
    demo.network.create_subnet(network_id=network.id, ip_version=4, cidr="10.10.0.0/24")
    port = demo.network.create_port(
        network_id=network.id, allowed_address_pairs=[{"ip_address": "10.10.0.200"}, {"ip_address": "10.11.0.0/24"}]
    )
    assert port.allowed_address_pairs == [
        {"ip_address": "10.10.0.200", "mac_address": port.mac_address},
        {"ip_address": "10.11.0.0/24", "mac_address": port.mac_address},
    ]
    status, kind, _ = _error(
        demo, "PUT", f"/ports/{port.id}", {"port": {"port_security_enabled": False, "security_groups": []}}
    )
    assert (status, kind) == (409, "AddressPairAndPortSecurityRequired")
    status, kind, _ = _error(demo, "PUT", f"/ports/{port.id}", {"port": {"port_security_enabled": False}})
    assert (status, kind) == (409, "PortSecurityPortHasSecurityGroup")
    open_port = demo.network.update_port(
        port, port_security_enabled=False, security_group_ids=[], allowed_address_pairs=[]
    )
    assert open_port.is_port_security_enabled is False and open_port.security_group_ids == []
    insecure = demo.network.create_port(network_id=network.id, port_security_enabled=False)
    assert insecure.security_group_ids == []
    status, _, message = _error(
        demo, "POST", "/ports", {"port": {"network_id": network.id, "security_groups": [str(uuid.uuid4())]}}
    )
    assert status == 404 and "does not exist" in message


def test_binding_and_status(admin, demo, network):
    port = demo.network.create_port(network_id=network.id, device_owner="compute:nova", device_id="server-1")
    assert port.status == "DOWN" and port.binding_vif_type is None  # members do not see binding details
    status, kind, _ = _error(demo, "PUT", f"/ports/{port.id}", {"port": {"binding:host_id": "node-1"}})
    assert (status, kind) == (403, "PolicyNotAuthorized")
    bound = admin.network.update_port(port, binding_host_id="node-1")
    assert bound.status == "ACTIVE" and bound.binding_vif_type == "ovs" and bound.binding_host_id == "node-1"
    assert demo.network.get_port(port.id).status == "ACTIVE"
    unbound = admin.network.update_port(port, binding_host_id="")
    assert unbound.status == "DOWN" and unbound.binding_vif_type == "unbound"


def test_dhcp_port_follows_subnets(demo, network):
    subnet = demo.network.create_subnet(network_id=network.id, ip_version=4, cidr="10.12.0.0/24")
    (dhcp,) = demo.network.ports(network_id=network.id, device_owner="network:dhcp")
    assert dhcp.fixed_ips == [{"subnet_id": subnet.id, "ip_address": "10.12.0.2"}] and dhcp.status == "ACTIVE"
    demo.network.update_subnet(subnet, is_dhcp_enabled=False)
    assert list(demo.network.ports(network_id=network.id, device_owner="network:dhcp")) == []
    demo.network.update_subnet(subnet, is_dhcp_enabled=True)
    port = demo.network.create_port(network_id=network.id)
    status, kind, message = _error(demo, "DELETE", f"/subnets/{subnet.id}")
    assert (status, kind) == (409, "SubnetInUse")
    assert "One or more ports have an IP allocation from this subnet" in message
    demo.network.delete_port(port)
    demo.network.delete_subnet(subnet)
    assert list(demo.network.ports(network_id=network.id)) == []


def test_subnet_updates(demo, network):
    subnet = demo.network.create_subnet(network_id=network.id, ip_version=4, cidr="10.13.0.0/24")
    revision = subnet.revision_number
    updated = demo.network.update_subnet(
        subnet,
        name="renamed",
        dns_nameservers=["9.9.9.9"],
        allocation_pools=[{"start": "10.13.0.100", "end": "10.13.0.200"}],
    )
    assert updated.name == "renamed" and updated.dns_nameservers == ["9.9.9.9"]
    assert updated.allocation_pools == [{"start": "10.13.0.100", "end": "10.13.0.200"}]
    assert updated.revision_number == revision + 1
    status, _, message = _error(demo, "PUT", f"/subnets/{subnet.id}", {"subnet": {"cidr": "10.14.0.0/24"}})
    assert status == 400 and message == "Cannot update read-only attribute cidr"
    status, _, message = _error(
        demo, "PUT", f"/subnets/{subnet.id}", {"subnet": {"dns_nameservers": ["1.1.1.1", "1.1.1.1"]}}
    )
    assert status == 400 and "Duplicate nameserver '1.1.1.1'" in message
    router = demo.network.create_router(name=_n("gw"))
    demo.network.add_interface_to_router(router, subnet=subnet.id)
    status, kind, _ = _error(demo, "PUT", f"/subnets/{subnet.id}", {"subnet": {"gateway_ip": "10.13.0.2"}})
    assert (status, kind) == (409, "GatewayIpInUse")
    status, kind, message = _error(demo, "PUT", f"/routers/{router.id}/add_router_interface", {"subnet_id": subnet.id})
    assert status == 400 and f"Router already has a port on subnet {subnet.id}" in message
    demo.network.remove_interface_from_router(router, subnet=subnet.id)
    demo.network.delete_router(router)
