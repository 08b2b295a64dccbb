"""Nova servers through the ``openstack`` CLI (Compute's smoke test) and openstacksdk, with the fake driver."""

from __future__ import annotations

import uuid

import openstack.exceptions as exc
import pytest
from compute_http import nova
from edge_helpers import call

from stacksim.services.image.bootstrap import DEFAULT_IMAGE_NAME
from stacksim.testing import Simulator, wait_until


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def net(demo):
    """A network n1 with a subnet, owned by demo."""
    name = _name("n1")
    network = demo.network.create_network(name=name)
    demo.network.create_subnet(network_id=network.id, name=f"{name}-s", cidr="10.20.0.0/24", ip_version=4)
    return name


@pytest.fixture
def key(demo):
    name = _name("k1")
    demo.compute.create_keypair(name=name)
    return name


def _wait(conn, server_id: str, status: str, timeout: float = 15):
    return wait_until(
        lambda: (server := conn.compute.get_server(server_id)).status == status and server,
        timeout,
        f"server {server_id} to be {status}",
    )


def test_cli_server_lifecycle(cli, demo, net, key):
    vm = _name("vm1")
    server = cli.json(
        "server",
        "create",
        "--image",
        DEFAULT_IMAGE_NAME,
        "--flavor",
        "m1.small",
        "--network",
        net,
        "--key-name",
        key,
        "--wait",
        vm,
        exec=True,
    )
    assert server["status"] == "ACTIVE"
    assert server["addresses"][net][0].startswith("10.20.0.")
    assert server["key_name"] == key and "m1.small" in str(server["flavor"])
    console = cli.run("console", "log", "show", vm).stdout
    assert "booting" in console and "login:" in console
    cli.run("server", "stop", vm)
    assert demo.compute.get_server(server["id"]).status == "SHUTOFF"  # on the first read

    cli.run("server", "delete", "--wait", vm)
    assert demo.compute.find_server(server["id"]) is None
    network = demo.network.find_network(net)
    assert list(demo.network.ports(network_id=network.id, device_owner="compute:nova")) == []


def test_snapshot_to_image(demo, net):
    server = demo.create_server(
        _name("snapme"), image=DEFAULT_IMAGE_NAME, flavor="m1.small", network=net, auto_ip=False, wait=True
    )
    snap = _name("snap")
    # what `openstack server image create --wait` does
    made = demo.compute.create_server_image(server, name=snap, wait=True)
    image = demo.image.get_image(made.id)
    assert image.name == snap and image.status == "active" and image.size > 0
    assert len(demo.image.download_image(image).content) == image.size


def test_sdk_create_server_wait_console_and_actions(demo, net):
    image = demo.image.find_image(DEFAULT_IMAGE_NAME)
    flavor = demo.compute.find_flavor("m1.tiny")
    network = demo.network.find_network(net)
    user_data = "#!/bin/sh\necho hello from user data\n"
    server = demo.create_server(
        _name("sdk"),
        image=image.id,
        flavor=flavor.id,
        network=network.id,
        auto_ip=False,
        userdata=user_data,
        wait=True,
        timeout=30,
    )
    assert server.status == "ACTIVE"
    assert server.addresses[net][0]["addr"].startswith("10.20.0.")
    console = demo.get_server_console(server)
    assert "hello from user data" in console
    demo.compute.pause_server(server)
    assert _wait(demo, server.id, "PAUSED").status == "PAUSED"
    demo.compute.unpause_server(server)
    assert _wait(demo, server.id, "ACTIVE").status == "ACTIVE"
    demo.compute.suspend_server(server)
    assert _wait(demo, server.id, "SUSPENDED").status == "SUSPENDED"
    demo.compute.resume_server(server)
    assert _wait(demo, server.id, "ACTIVE").status == "ACTIVE"
    with pytest.raises(exc.ConflictException, match="vm_state active"):
        demo.compute.start_server(server)
    demo.compute.stop_server(server)
    assert demo.compute.get_server(server.id).status == "SHUTOFF"
    demo.compute.start_server(server)
    assert demo.compute.get_server(server.id).status == "ACTIVE"
    demo.compute.reboot_server(server, "SOFT")
    assert demo.compute.get_server(server.id).status == "ACTIVE"
    assert [s.name for s in demo.compute.servers(name=server.name)] == [server.name]
    demo.delete_server(server.id, wait=True, timeout=30)
    assert demo.compute.find_server(server.id) is None


def test_resize_confirm_and_revert(demo, net):
    server = demo.create_server(
        _name("rs"), image=DEFAULT_IMAGE_NAME, flavor="m1.tiny", network=net, auto_ip=False, wait=True
    )
    small = demo.compute.find_flavor("m1.small")
    demo.compute.resize_server(server, small.id)
    resized = _wait(demo, server.id, "VERIFY_RESIZE")
    assert resized.flavor["original_name"] == "m1.small"
    demo.compute.revert_server_resize(server)
    reverted = _wait(demo, server.id, "ACTIVE")
    assert reverted.flavor["original_name"] == "m1.tiny"
    demo.compute.resize_server(server, small.id)
    _wait(demo, server.id, "VERIFY_RESIZE")
    demo.compute.confirm_server_resize(server)
    assert _wait(demo, server.id, "ACTIVE").flavor["original_name"] == "m1.small"
    demo.delete_server(server.id, wait=True)


def test_cloud_config_poweroff_brings_server_to_shutoff(demo, net):
    user_data = "#cloud-config\npower_state:\n  mode: poweroff\n"
    server = demo.create_server(
        _name("po"), image=DEFAULT_IMAGE_NAME, flavor="m1.tiny", network=net, auto_ip=False, userdata=user_data
    )
    assert _wait(demo, server.id, "SHUTOFF").status == "SHUTOFF"
    demo.delete_server(server.id, wait=True)


def test_bad_requests_get_nova_errors(demo, net):
    image = demo.image.find_image(DEFAULT_IMAGE_NAME)
    network = demo.network.find_network(net)
    body = {"server": {"name": "x", "imageRef": image.id, "flavorRef": "nope", "networks": [{"uuid": network.id}]}}
    resp = demo.compute.post("/servers", json=body)
    assert resp.status_code == 400
    assert resp.json() == {"badRequest": {"code": 400, "message": "Flavor nope could not be found."}}
    body["server"].update(flavorRef="1", imageRef=str(uuid.uuid4()))
    resp = demo.compute.post("/servers", json=body)
    assert resp.status_code == 400 and "could not be found" in resp.json()["badRequest"]["message"]
    resp = demo.compute.get(f"/servers/{uuid.uuid4()}")
    assert resp.status_code == 404 and "itemNotFound" in resp.json()
    resp = demo.compute.get("/servers", headers={"OpenStack-API-Version": "compute 2.500"})
    assert resp.status_code == 406
    assert "not supported by the API" in resp.json()["computeFault"]["message"]


def test_quota_overrun_is_403_and_leaves_nothing(admin, demo, net):
    project = demo.current_project_id
    admin.set_compute_quotas(project, instances=1)
    try:
        first = demo.create_server(_name("q"), image=DEFAULT_IMAGE_NAME, flavor="m1.tiny", network=net)
        with pytest.raises(exc.HttpException) as raised:
            demo.create_server(_name("q"), image=DEFAULT_IMAGE_NAME, flavor="m1.tiny", network=net)
        assert raised.value.status_code == 403
        assert "Quota exceeded for instances" in str(raised.value)
        demo.delete_server(first.id, wait=True)
    finally:
        admin.set_compute_quotas(project, instances=10)


def test_failed_port_leaves_no_server_or_port(demo, cli, net):
    network = demo.network.find_network(net)
    taken = demo.network.create_port(network_id=network.id)
    address = taken.fixed_ips[0]["ip_address"]
    before = {p.id for p in demo.network.ports(network_id=network.id)}
    body = {
        "server": {
            "name": _name("clash"),
            "imageRef": demo.image.find_image(DEFAULT_IMAGE_NAME).id,
            "flavorRef": "1",
            "networks": [{"uuid": network.id}, {"uuid": network.id, "fixed_ip": address}],
        }
    }
    resp = demo.compute.post("/servers", json=body)
    assert resp.status_code == 409, resp.text
    assert {p.id for p in demo.network.ports(network_id=network.id)} == before
    assert demo.compute.find_server(body["server"]["name"]) is None
    demo.network.delete_port(taken)


def test_boot_fault_goes_to_error_with_a_fault(admin, demo, net):
    flavor = admin.compute.create_flavor(name=_name("broken"), ram=64, vcpus=1, disk=1)
    admin.compute.create_flavor_extra_specs(flavor, {"stacksim:boot_fault": "no valid host was found"})
    name = _name("err")
    # The build has failed by the time the SDK reads the server back after creating it.
    with pytest.raises(exc.SDKException, match="no valid host was found"):
        demo.create_server(name, image=DEFAULT_IMAGE_NAME, flavor=flavor.id, network=net)
    failed = demo.compute.find_server(name)
    assert failed.status == "ERROR"
    assert "no valid host was found" in failed.fault["message"]
    demo.delete_server(failed.id, wait=True)
    admin.compute.delete_flavor(flavor)


def test_a_flavor_changed_after_a_create_is_what_the_next_create_reads(admin, demo, net):
    # (a create keeps the flavor it read until a flavor is written: each change below is one)
    flavor = admin.compute.create_flavor(name=_name("kept"), ram=64, vcpus=1, disk=1, is_public=False)
    project = demo.current_project_id
    admin.compute.flavor_add_tenant_access(flavor, project)
    first = demo.create_server(_name("kept"), image=DEFAULT_IMAGE_NAME, flavor=flavor.id, network=net)
    assert first.status == "ACTIVE"
    admin.compute.create_flavor_extra_specs(flavor, {"stacksim:boot_fault": "flavor changed"})
    name = _name("kept")
    with pytest.raises(exc.SDKException, match="flavor changed"):
        demo.create_server(name, image=DEFAULT_IMAGE_NAME, flavor=flavor.id, network=net)
    failed = demo.compute.find_server(name)
    assert failed.flavor["extra_specs"] == {"stacksim:boot_fault": "flavor changed"}
    admin.compute.flavor_remove_tenant_access(flavor, project)
    image = demo.image.find_image(DEFAULT_IMAGE_NAME)
    body = {"server": {"name": _name("kept"), "imageRef": image.id, "flavorRef": flavor.id, "networks": "none"}}
    resp = demo.compute.post("/servers", json=body)
    assert resp.status_code == 400 and f"Flavor {flavor.id} could not be found" in resp.text, resp.text
    for server in (first, failed):
        demo.delete_server(server.id, wait=True)
    admin.compute.delete_flavor(flavor)


def test_a_network_changed_after_a_create_is_what_the_next_create_reads(demo, net):
    # (a create keeps the network it read until a network is written)
    network = demo.network.find_network(net)
    first = demo.create_server(_name("kept"), image=DEFAULT_IMAGE_NAME, flavor="m1.tiny", network=net)
    (port,) = demo.network.ports(device_id=first.id)
    assert port.security_group_ids and port.is_port_security_enabled
    demo.network.update_network(network, port_security_enabled=False)
    second = demo.create_server(_name("kept"), image=DEFAULT_IMAGE_NAME, flavor="m1.tiny", network=net)
    (port,) = demo.network.ports(device_id=second.id)
    assert not port.security_group_ids and not port.is_port_security_enabled
    for server in (first, second):
        demo.delete_server(server.id, wait=True)


def test_boot_delay_keeps_servers_in_build(admin, demo, net):
    flavor = admin.compute.create_flavor(name=_name("slow"), ram=64, vcpus=1, disk=1)
    admin.compute.create_flavor_extra_specs(flavor, {"stacksim:boot_delay": "600"})
    server = demo.create_server(_name("slow"), image=DEFAULT_IMAGE_NAME, flavor=flavor.id, network=net)
    quick = demo.create_server(_name("quick"), image=DEFAULT_IMAGE_NAME, flavor="m1.tiny", network=net)
    assert _wait(demo, quick.id, "ACTIVE").status == "ACTIVE"
    assert demo.compute.get_server(server.id).status == "BUILD"
    demo.delete_server(quick.id)
    # Deleting it while it builds cancels the build.
    demo.delete_server(server.id, wait=True, timeout=15)
    assert demo.compute.find_server(server.id) is None
    admin.compute.delete_flavor(flavor)


def test_member_cannot_see_other_projects_servers(connect, demo, net):
    server = demo.create_server(_name("mine"), image=DEFAULT_IMAGE_NAME, flavor="m1.tiny", network=net)
    alt = connect("stacksim-alt")
    assert alt.compute.find_server(server.id) is None
    resp = alt.compute.get(f"/servers/{server.id}")
    assert resp.status_code == 404
    demo.delete_server(server.id, wait=True)


def test_metadata_tags_and_microversion_views(demo, net):
    server = demo.create_server(
        _name("meta"),
        image=DEFAULT_IMAGE_NAME,
        flavor="m1.tiny",
        network=net,
        auto_ip=False,
        meta={"role": "web"},
        wait=True,
    )
    demo.compute.set_server_metadata(server, tier="front")
    assert demo.compute.get_server_metadata(server).metadata == {"role": "web", "tier": "front"}
    resp = demo.compute.put(f"/servers/{server.id}/tags/blue", headers={"OpenStack-API-Version": "compute 2.26"})
    assert resp.status_code in (201, 204)
    old = demo.compute.get(f"/servers/{server.id}", headers={"OpenStack-API-Version": "compute 2.1"}).json()
    assert set(old["server"]["flavor"]) == {"id", "links"} and "tags" not in old["server"]
    new = demo.compute.get(f"/servers/{server.id}", headers={"OpenStack-API-Version": "compute 2.96"})
    assert new.headers["OpenStack-API-Version"] == "compute 2.96"
    body = new.json()["server"]
    assert body["flavor"]["original_name"] == "m1.tiny" and body["tags"] == ["blue"]
    assert body["locked"] is False and "pinned_availability_zone" in body
    demo.delete_server(server.id, wait=True)


def test_user_data_must_be_base64(demo, net):
    network = demo.network.find_network(net)
    body = {
        "server": {
            "name": "bad-ud",
            "imageRef": demo.image.find_image(DEFAULT_IMAGE_NAME).id,
            "flavorRef": "1",
            "networks": [{"uuid": network.id}],
            "user_data": "not base64!",
        }
    }
    resp = demo.compute.post("/servers", json=body)
    assert resp.status_code == 400 and "base 64" in resp.json()["badRequest"]["message"]


def test_restart_mid_build_finishes_the_build(tmp_path):

    state = tmp_path / "state"
    first = Simulator(state_dir=state, extra_args=["--delay", "3"]).start()
    try:
        conn = first.connect()
        image = conn.image.find_image(DEFAULT_IMAGE_NAME)
        server = conn.compute.create_server(name="mid-build", image_id=image.id, flavor_id="1", networks="none")
        assert conn.compute.get_server(server.id).status == "BUILD"
    finally:
        first.stop(kill=True)
    with Simulator(state_dir=state, port=first.port, extra_args=["--delay", "0.1"]) as second:
        conn = second.connect()
        assert _wait(conn, server.id, "ACTIVE", timeout=10).status == "ACTIVE"


def test_anti_affinity_beyond_one_host_fails_the_build(demo, net):
    group = demo.compute.create_server_group(name=_name("aa"), policy="anti-affinity")
    image = demo.image.find_image(DEFAULT_IMAGE_NAME)
    network = demo.network.find_network(net)
    first = demo.create_server(
        _name("aa1"), image=image.id, flavor="m1.tiny", network=network.id, auto_ip=False, group=group.id, wait=True
    )
    assert first.status == "ACTIVE"
    name = _name("aa2")
    with pytest.raises(exc.SDKException, match="No valid host was found"):
        demo.create_server(name, image=image.id, flavor="m1.tiny", network=network.id, auto_ip=False, group=group.id)
    second = demo.compute.find_server(name)
    assert second.status == "ERROR" and "No valid host was found" in second.fault["message"]
    (action,) = nova(demo, "GET", f"/servers/{second.id}/os-instance-actions").json()["instanceActions"]
    shown = nova(demo, "GET", f"/servers/{second.id}/os-instance-actions/{action['request_id']}", "2.51").json()
    (event,) = shown["instanceAction"]["events"]
    assert event["event"] == "compute__do_build_and_run_instance" and event["result"] == "Error"
    assert event["finish_time"] and action["action"] == "create"
    for server in (first, second):
        demo.delete_server(server.id, wait=True)
    demo.compute.delete_server_group(group)


def test_a_creates_action_is_there_while_its_build_is_held_and_finished_by_it(sim, admin, demo):
    """(A build in its create's transaction writes the create action once, finished; one held past
    the commit finds it written as it began.) Three servers in one create, the hold catches one."""
    hold = call(sim.url, "POST", "/_stacksim/faults", admin.auth_token, json={"fault": {"job": "server.build"}})
    assert hold.status_code == 201, hold.text
    image = demo.image.find_image(DEFAULT_IMAGE_NAME)
    body = {"name": _name("held"), "imageRef": image.id, "flavorRef": "1", "min_count": 3, "networks": "none"}
    reservation = nova(demo, "POST", "/servers", "2.37", json={"server": {**body, "return_reservation_id": True}})
    assert reservation.status_code == 202, reservation.text
    servers = list(demo.compute.servers(reservation_id=reservation.json()["reservation_id"]))
    assert sorted(s.status for s in servers) == ["ACTIVE", "ACTIVE", "BUILD"]

    def build_event(server_id: str) -> dict:
        (action,) = nova(demo, "GET", f"/servers/{server_id}/os-instance-actions").json()["instanceActions"]
        assert action["action"] == "create"
        url = f"/servers/{server_id}/os-instance-actions/{action['request_id']}"
        (event,) = nova(demo, "GET", url, "2.51").json()["instanceAction"]["events"]
        assert event["event"] == "compute__do_build_and_run_instance" and event["start_time"]
        return event

    (held,) = [s for s in servers if s.status == "BUILD"]
    event = build_event(held.id)
    assert event["finish_time"] is None and event["result"] is None
    fault_id = hold.json()["fault"]["id"]
    assert call(sim.url, "DELETE", f"/_stacksim/faults/{fault_id}", admin.auth_token).status_code == 204
    for server in servers:
        built = demo.compute.wait_for_server(server, wait=30)
        event = build_event(built.id)
        assert event["result"] == "Success" and event["finish_time"][:19] == built.launched_at[:19]
    for server in servers:
        demo.compute.delete_server(server)
    for server in servers:
        demo.compute.wait_for_delete(server, wait=30)


def test_a_build_boots_the_image_as_it_is_now(demo):
    """The build's read of its image (kept between builds) follows the image's changes."""
    image = demo.image.create_image(
        name=_name("boot-a"), data=b"\0" * 512, disk_format="raw", container_format="bare", visibility="private"
    )
    first = demo.compute.create_server(name=_name("img1"), image_id=image.id, flavor_id="1", networks="none")
    assert f"from {image.name}" in demo.compute.get_server_console_output(first.id)["output"]
    renamed = demo.image.update_image(image, name=_name("boot-b"))
    second = demo.compute.create_server(name=_name("img2"), image_id=image.id, flavor_id="1", networks="none")
    assert f"from {renamed.name}" in demo.compute.get_server_console_output(second.id)["output"]
    for server in (first, second):
        demo.compute.delete_server(server.id)
        demo.compute.wait_for_delete(server, wait=30)
    demo.image.delete_image(image)


def test_a_creates_kept_image_is_checked_for_each_caller_and_change(demo, alt):
    """The create's image comes from a cache (until an image is written): who may see it is still
    decided on every create (sharing is read as it is now), and a change of the image is seen."""
    image = demo.image.create_image(
        name=_name("kept"), data=b"\0" * 512, disk_format="raw", container_format="bare", visibility="shared"
    )

    def create(conn) -> tuple[int, dict]:
        body = {"server": {"name": _name("k"), "imageRef": image.id, "flavorRef": "1"}}
        resp = conn.compute.post("/servers", json=body)
        return resp.status_code, resp.json()

    unseen = (400, {"badRequest": {"code": 400, "message": f"Image {image.id} could not be found."}})
    made = []
    status, body = create(demo)  # read and kept
    assert status == 202
    made.append((demo, body["server"]["id"]))
    assert create(alt) == unseen
    member = demo.image.add_member(image, member_id=alt.current_project_id)  # no write of the image
    status, body = create(alt)
    assert status == 202
    made.append((alt, body["server"]["id"]))
    demo.image.remove_member(member, image)
    assert create(alt) == unseen
    demo.image.deactivate_image(image)
    assert create(demo) == (400, {"badRequest": {"code": 400, "message": f"Image {image.id} is not active."}})
    for conn, server_id in made:
        server = conn.compute.get_server(server_id)
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, wait=30)
    demo.image.reactivate_image(image)
    demo.image.delete_image(image)


def test_a_build_that_fails_in_the_driver_keeps_its_steps_before_the_failure(admin, demo, net):
    """(The fake driver's build is one transaction: a handled failure still commits the ports it
    bound and the failed state and event, as when each step committed alone.)"""
    flavor = admin.compute.create_flavor(name=_name("broken"), ram=64, vcpus=1, disk=1)
    admin.compute.create_flavor_extra_specs(flavor, {"stacksim:boot_fault": "disk on fire"})
    network = demo.network.find_network(net)
    body = {"name": _name("fail"), "imageRef": demo.image.find_image(DEFAULT_IMAGE_NAME).id}
    body |= {"flavorRef": flavor.id, "networks": [{"uuid": network.id}]}
    server_id = demo.compute.post("/servers", json={"server": body}).json()["server"]["id"]
    failed = demo.compute.get_server(server_id)
    assert failed.status == "ERROR" and "disk on fire" in failed.fault["message"]
    (port,) = demo.network.ports(device_id=server_id)
    port = admin.network.get_port(port.id)  # (the binding is the admin's to see)
    assert port.binding_host_id == "stacksim" and port.status == "ACTIVE"
    (action,) = nova(admin, "GET", f"/servers/{server_id}/os-instance-actions").json()["instanceActions"]
    shown = nova(admin, "GET", f"/servers/{server_id}/os-instance-actions/{action['request_id']}").json()
    (event,) = shown["instanceAction"]["events"]
    assert event["result"] == "Error" and event["finish_time"]
    demo.delete_server(server_id, wait=True)
    admin.compute.delete_flavor(flavor)
