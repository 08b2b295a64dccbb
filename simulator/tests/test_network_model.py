"""The Networking model's Python API, as Nova and Heat will call it (no HTTP in between)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stacksim import faults
from stacksim.cloud import Cloud
from stacksim.config import Settings


@pytest.fixture
def cloud() -> Iterator[Cloud]:
    made = Cloud(Settings())
    made.start()
    yield made
    made.close()


def _project(cloud: Cloud, name: str) -> str:
    return cloud.store.first("project", name=name)["id"]


def _member(cloud: Cloud, name: str):
    """The Context a token of the bootstrap user ``name`` carries."""
    user = cloud.store.first("user", name=name)
    token, _ = cloud.identity.issue_token(user["id"], ["password"], project_id=user["default_project_id"])
    return cloud.auth.context(token)


def test_bootstrap_made_public(cloud):
    admin = _project(cloud, "admin")
    (public,) = [n for n in cloud.network.networks(None) if n["name"] == "public"]
    assert public["router:external"] and not public["shared"] and public["project_id"] == admin
    (subnet,) = cloud.network.subnets(None)
    assert subnet["name"] == "public-subnet" and subnet["cidr"] == "172.24.4.0/24"
    assert subnet["allocation_pools"] == [{"start": "172.24.4.2", "end": "172.24.4.254"}]
    assert not subnet["enable_dhcp"]
    cloud.start()  # a second start bootstraps nothing more
    assert len(cloud.network.networks(None)) == 1


def test_ports_for_a_server(cloud):
    net = cloud.network
    demo = _member(cloud, "demo")
    network = net.create_network(demo, name="n")
    subnet = net.create_subnet(demo, network_id=network["id"], ip_version=4, cidr="10.0.0.0/24")
    # Nova creates the port with the user's context ...
    port = net.create_port(demo, network_id=network["id"], device_id="server-1", device_owner="compute:nova")
    assert port["status"] == "DOWN" and port["fixed_ips"][0]["subnet_id"] == subnet["id"]
    assert port["security_groups"] == [net.security.default_group(demo.project_id)["id"]]
    # ... and binds it with the cloud's own rights.
    bound = net.bind_port(demo, port["id"], "compute-1")
    assert bound["status"] == "ACTIVE" and bound["binding:host_id"] == "compute-1"
    assert bound["revision_number"] == port["revision_number"] + 1
    with pytest.raises(faults.Forbidden):  # a member may not bind by itself
        net.update_port(demo, port["id"], {"binding:host_id": "elsewhere"})
    unbound = net.unbind_port(demo, port["id"])
    assert unbound["status"] == "DOWN" and unbound["device_id"] == "" and unbound["binding:host_id"] == ""
    net.delete_port(demo, port["id"])
    with pytest.raises(faults.NotFound) as missing:
        net.port(demo, port["id"])
    assert missing.value.kind == "PortNotFound"


def test_project_id_means_the_cloud_acting_for_it(cloud):
    net = cloud.network
    alt = _project(cloud, "alt_demo")
    network = net.create_network(alt, name="alt-net")
    assert network["project_id"] == alt
    # The alt_demo user sees it; demo does not.
    assert net.network(_member(cloud, "alt_demo"), network["id"])["name"] == "alt-net"
    with pytest.raises(faults.NotFound):
        net.network(_member(cloud, "demo"), network["id"])
    # Creating for a project gave it its default group.
    assert net.security.default_group(alt) is not None
    net.delete_network(alt, network["id"])
