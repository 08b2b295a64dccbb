"""The Networking model's Python API, as Nova and Heat will call it (no HTTP in between)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stacksim import faults
from stacksim.cloud import Cloud
from stacksim.config import Settings
from stacksim.services.network.ports import DevicePort


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


def test_typed_requests_and_their_errors(cloud):
    from stacksim.services.network.model import NetworkCreate, NetworkUpdate, PortCreate, SubnetCreate

    net = cloud.network
    demo = _member(cloud, "demo")
    network = net.create_network(demo, NetworkCreate(name="typed", port_security_enabled=False))
    assert (network["name"], network["port_security_enabled"]) == ("typed", False)
    # None is not "unset": gateway_ip=None makes a subnet without a gateway, unset gives the first address.
    bare = net.create_subnet(
        demo, SubnetCreate(network_id=network["id"], ip_version=4, cidr="10.1.0.0/24", gateway_ip=None)
    )
    assert bare["gateway_ip"] is None
    # An update changes only what it names.
    renamed = net.update_network(demo, network["id"], NetworkUpdate(name="renamed"))
    assert (renamed["name"], renamed["port_security_enabled"]) == ("renamed", False)
    # Bad values are Neutron's 400 whether built in Python or sent over the wire.
    with pytest.raises(faults.BadRequest) as bad:
        NetworkCreate(name=5)
    assert str(bad.value) == "Invalid input for name. Reason: '5' is not a valid string."
    with pytest.raises(faults.BadRequest) as bad:
        NetworkCreate(name="a\ud800b")
    assert "surrogate" in str(bad.value)
    with pytest.raises(faults.BadRequest, match="Required attribute 'network_id' not specified"):
        PortCreate()
    # Callers from before the typed interface may still pass Neutron's attribute names.
    port = net.create_port(demo, network_id=network["id"], **{"binding:vnic_type": "normal"})
    assert port["binding:vnic_type"] == "normal"
    net.delete_port(demo, port["id"])
    net.delete_subnet(demo, bare["id"])
    net.delete_network(demo, network["id"])


def test_hooks_are_told_once_the_change_is_committed(cloud):
    from stacksim.drivers.base import NetworkHooks
    from stacksim.services.network.model import PortUpdate

    told: list[tuple[str, str]] = []

    class Recorder(NetworkHooks):
        def port_updated(self, port):
            told.append(("port", cloud.store.get("port", port["id"])["security_groups"] == port["security_groups"]))

        def network_deleted(self, network_id):
            told.append(("network", cloud.store.get("network", network_id) is None))

    net = cloud.network
    net.hooks = Recorder()
    demo = _member(cloud, "demo")
    network = net.create_network(demo, name="hooked")
    port = net.create_port(demo, network_id=network["id"])
    with pytest.raises(RuntimeError), cloud.store.transaction():
        net.update_port(demo, port["id"], PortUpdate(security_groups=[]))
        raise RuntimeError("rolled back")
    assert told == []  # a change that never happened is never told
    net.update_port(demo, port["id"], PortUpdate(security_groups=[]))
    net.delete_port(demo, port["id"])
    net.delete_network(demo, network["id"])
    assert told == [("port", True), ("network", True)]  # each seen as committed


def test_a_device_port_uses_the_records_its_maker_read_while_they_are_current(cloud):
    net = cloud.network
    demo = _member(cloud, "demo")
    network = net.create_network(demo, name="n")
    net.create_subnet(demo, network_id=network["id"], ip_version=4, cidr="10.0.0.0/24")
    default = net.security.ensure_default(demo.project_id)

    def request(**fields):
        mark = cloud.store.writes(DevicePort.READS)
        fields = {"security_groups": (default,), **fields}
        return DevicePort(
            network=network,
            project_id=demo.project_id,
            device_id="server-1",
            device_owner="compute:nova",
            read_at=mark,
            **fields,
        )

    made = request(fixed_ip="10.0.0.7")
    statements: list[str] = []
    cloud.store._db.set_trace_callback(statements.append)
    port = net.create_device_port(demo, made)
    cloud.store._db.set_trace_callback(None)
    assert port["fixed_ips"][0]["ip_address"] == "10.0.0.7" and port["security_groups"] == [default["id"]]
    assert (port["device_id"], port["device_owner"], port["project_id"]) == (
        "server-1",
        "compute:nova",
        demo.project_id,
    )
    # neither the network nor the group was read again
    assert not [s for s in statements if "'network'" in s or "'security_group'" in s]

    # a network written since the records were read: read again, and its answer holds
    stale = request()
    net.delete_network(demo, net.create_network(demo, name="other")["id"])  # any network write
    assert net.create_device_port(demo, stale)["network_id"] == network["id"]
    gone = request()
    net.delete_port(demo, port["id"])
    for p in net.ports(demo):
        if p["network_id"] == network["id"]:
            net.delete_port(None, p["id"])
    net.delete_network(demo, network["id"])
    with pytest.raises(faults.NotFound):
        net.create_device_port(demo, gone)
    # a group deleted since: read again, and refused as an unknown group
    other = net.create_network(demo, name="m")
    net.create_subnet(demo, network_id=other["id"], ip_version=4, cidr="10.1.0.0/24")
    group = net.create_security_group(demo, {"name": "g"})
    made = DevicePort(
        network=other,
        project_id=demo.project_id,
        device_id="server-2",
        device_owner="compute:nova",
        read_at=cloud.store.writes(DevicePort.READS),
        security_groups=(group,),
    )
    net.delete_security_group(demo, group["id"])
    with pytest.raises(faults.NotFound):
        net.create_device_port(demo, made)
    assert not [p for p in net.ports(demo) if p["device_id"] == "server-2"]  # nothing half-made


def test_kept_subnets_and_default_groups_last_only_until_they_are_written(cloud):
    # A port's subnets and the project's default group are kept between ports (every server's
    # port reads them): a subnet or group written since is seen by the next port.
    net = cloud.network
    demo = _member(cloud, "demo")
    network = net.create_network(demo, name="n")
    net.create_subnet(demo, network_id=network["id"], ip_version=4, cidr="10.0.0.0/24")
    first = net.create_port(demo, network_id=network["id"])
    statements: list[str] = []
    cloud.store._db.set_trace_callback(statements.append)
    second = net.create_port(demo, network_id=network["id"])
    cloud.store._db.set_trace_callback(None)
    assert not [s for s in statements if "'subnet'" in s or "'security_group'" in s]
    assert second["security_groups"] == first["security_groups"]
    v6 = net.create_subnet(demo, network_id=network["id"], ip_version=6, cidr="fd00::/64")
    third = net.create_port(demo, network_id=network["id"])
    assert {ip["subnet_id"] for ip in third["fixed_ips"]} == {first["fixed_ips"][0]["subnet_id"], v6["id"]}
    for port in (first, second, third):
        net.delete_port(demo, port["id"])
    net.delete_security_group(None, first["security_groups"][0])  # (an admin may)
    again = net.create_port(demo, network_id=network["id"])
    assert again["security_groups"] and again["security_groups"] != first["security_groups"]  # made anew
    assert net.security.ensure_default(demo.project_id)["id"] == again["security_groups"][0]
