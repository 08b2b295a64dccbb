"""Nova's answers when Neutron's port quota runs out, as real Nova gives them.

A multiple create is measured against the port quota before anything is built
(``nova.network.neutron.API.validate_networks``): Nova makes as many servers
as the free ports allow if ``min_count`` fit, else refuses with 403
PortLimitExceeded. An interface attach whose port Neutron's quota refuses is
the same 403 (``attach_interfaces.py``). Neither leaves a server or port behind.
The single create refused at its port is in ``test_concurrency.py``.
"""

from __future__ import annotations

import uuid

import pytest
from compute_http import fault, nova

from stacksim.services.image.bootstrap import DEFAULT_IMAGE_NAME

PORTS_EXCEEDED = "Maximum number of ports exceeded"


def _network(demo, cidr: str):
    network = demo.network.create_network(name=f"n-{uuid.uuid4().hex[:6]}")
    demo.network.create_subnet(network_id=network.id, cidr=cidr, ip_version=4)
    return network


@pytest.fixture
def nets(demo):
    return _network(demo, "10.41.0.0/24"), _network(demo, "10.42.0.0/24")


def _ports_used(admin, demo) -> int:
    return admin.network.get_quota(demo.current_project_id, details=True).ports["used"]


def _limit_ports(admin, demo, room: int) -> int:
    """Leave the demo project ``room`` more ports (negative: that many over); the new limit."""
    limit = _ports_used(admin, demo) + room
    admin.network.update_quota(demo.current_project_id, ports=limit)
    return limit


def _create(demo, name: str, networks, min_count: int = 1, max_count: int = 1):
    image = demo.image.find_image(DEFAULT_IMAGE_NAME)
    body = {
        "server": {
            "name": name,
            "imageRef": image.id,
            "flavorRef": "1",
            "networks": networks,
            "min_count": min_count,
            "max_count": max_count,
        }
    }
    return nova(demo, "POST", "/servers", "2.37", json=body)


def _servers(demo, name: str) -> list[str]:
    return sorted(s.name for s in demo.compute.servers(name=f"^{name}"))


def test_multi_create_makes_as_many_servers_as_the_free_ports_allow(admin, demo, nets):
    """5 free ports, 2 per server: of min 1, max 4, Nova lowers max_count to 2 and makes those."""
    limit = _limit_ports(admin, demo, 5)
    made = _create(demo, "fits", [{"uuid": n.id} for n in nets], min_count=1, max_count=4)
    assert made.status_code == 202, made.text
    assert _servers(demo, "fits") == ["fits-1", "fits-2"]
    assert _ports_used(admin, demo) == limit - 1


def test_multi_create_refused_when_min_count_does_not_fit(admin, demo, nets):
    """3 free ports, 2 per server: min 2 does not fit, so nothing is made (the 403 of
    PortLimitExceeded); one server would not fit in 1 free port either."""
    networks = [{"uuid": n.id} for n in nets]
    _limit_ports(admin, demo, 3)
    used = _ports_used(admin, demo)
    refused = _create(demo, "short", networks, min_count=2, max_count=3)
    assert fault(refused, 403, "forbidden") == PORTS_EXCEEDED
    assert (_servers(demo, "short"), _ports_used(admin, demo)) == ([], used)
    _limit_ports(admin, demo, 1)
    assert fault(_create(demo, "short", networks), 403, "forbidden") == PORTS_EXCEEDED
    assert (_servers(demo, "short"), _ports_used(admin, demo)) == ([], used)
    # handed-over ports and no networks need no room
    assert _create(demo, "none", "none", max_count=2).status_code == 202
    assert _servers(demo, "none") == ["none-1", "none-2"]


def test_create_when_the_ports_are_already_over_the_limit(admin, demo, nets):
    """A quota lowered below the ports in use: Nova's own message for it, still a 403."""
    extra = demo.network.create_port(network_id=nets[0].id)
    used = _ports_used(admin, demo)
    limit = _limit_ports(admin, demo, -1)
    refused = _create(demo, "over", [{"uuid": nets[0].id}])
    assert fault(refused, 403, "forbidden") == f"The number of defined ports: {used} is over the limit: {limit}"
    assert (_servers(demo, "over"), _ports_used(admin, demo)) == ([], used)
    demo.network.delete_port(extra)
    assert _ports_used(admin, demo) == limit  # at the limit now, no longer over it
    assert fault(_create(demo, "over", [{"uuid": nets[0].id}]), 403, "forbidden") == PORTS_EXCEEDED


def test_attach_interface_refused_by_the_port_quota(admin, demo, nets):
    """Attaching a new port on a network with no port left: 403 PortLimitExceeded, as Nova's
    attach_interfaces API answers it (not Neutron's 409); the server keeps its interfaces."""
    first, second = nets
    image = demo.image.find_image(DEFAULT_IMAGE_NAME)
    vm = demo.compute.create_server(name="vm", image_id=image.id, flavor_id="1", networks=[{"uuid": first.id}])
    vm = demo.compute.wait_for_server(vm, wait=30)
    spare = demo.network.create_port(network_id=second.id)
    _limit_ports(admin, demo, 0)
    used = _ports_used(admin, demo)
    attach = {"interfaceAttachment": {"net_id": second.id}}
    refused = nova(demo, "POST", f"/servers/{vm.id}/os-interface", json=attach)
    assert fault(refused, 403, "forbidden") == PORTS_EXCEEDED
    assert [i.net_id for i in demo.compute.server_interfaces(vm)] == [first.id]
    assert _ports_used(admin, demo) == used
    assert second.name not in demo.compute.get_server(vm.id).addresses
    # a port of its own needs no room
    handed = nova(demo, "POST", f"/servers/{vm.id}/os-interface", json={"interfaceAttachment": {"port_id": spare.id}})
    assert handed.status_code == 200, handed.text
    assert sorted(i.net_id for i in demo.compute.server_interfaces(vm)) == sorted([first.id, second.id])
