"""Server actions and views beyond the basics: rescue, shelve, instance actions, diagnostics,
remote consoles, interfaces and fixed IPs, ``ips/{network}``, and lists of deleted servers."""

from __future__ import annotations

import time
import uuid

import pytest
import requests
from compute_http import fault, nova

from stacksim.services.image.bootstrap import DEFAULT_IMAGE_NAME


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def net(demo):
    network = demo.network.create_network(name=_name("n"))
    demo.network.create_subnet(network_id=network.id, cidr="10.31.0.0/24", ip_version=4)
    return network


@pytest.fixture
def vm(demo, net):
    image = demo.image.find_image(DEFAULT_IMAGE_NAME)
    server = demo.compute.create_server(name=_name("vm"), image_id=image.id, flavor_id="1", networks=[{"uuid": net.id}])
    return demo.compute.wait_for_server(server, wait=30)


def _act(conn, server_id: str, body: dict, version: str | None = None) -> requests.Response:
    return nova(conn, "POST", f"/servers/{server_id}/action", version, json=body)


def test_rescue_and_unrescue(demo, vm):
    resp = _act(demo, vm.id, {"rescue": {"adminPass": "s3cret"}})
    assert resp.status_code == 200 and resp.json() == {"adminPass": "s3cret"}
    assert demo.compute.get_server(vm.id).status == "RESCUE"
    assert "rescue: booting from" in demo.compute.get_server_console_output(vm)["output"]
    fault(_act(demo, vm.id, {"rescue": None}), 409, "conflictingRequest")
    assert _act(demo, vm.id, {"unrescue": None}).status_code == 202
    assert demo.compute.get_server(vm.id).status == "ACTIVE"
    missing = _act(demo, vm.id, {"rescue": {"rescue_image_ref": str(uuid.uuid4())}})
    assert "is not supported" in fault(missing, 400, "badRequest")


def test_shelve_offloads_and_unshelve_boots_from_the_snapshot(admin, demo, vm):
    demo.compute.shelve_server(vm)
    shelved = demo.compute.get_server(vm.id)
    assert shelved.status == "SHELVED_OFFLOADED" and shelved.power_state == 0
    (snapshot,) = [i for i in demo.image.images() if i.name == f"{vm.name}-shelved"]
    assert snapshot.status == "active"
    assert vm.id not in [
        s["uuid"]
        for s in nova(admin, "GET", "/os-hypervisors/detail?with_servers=1", "2.53")
        .json()["hypervisors"][0]
        .get("servers", [])
    ]
    offload = _act(admin, vm.id, {"shelveOffload": None})
    assert "vm_state shelved_offloaded" in fault(offload, 409, "conflictingRequest")
    fault(_act(demo, vm.id, {"shelveOffload": None}), 403, "forbidden")  # admins only
    demo.compute.unshelve_server(vm)
    assert demo.compute.get_server(vm.id).status == "ACTIVE"
    assert [i for i in demo.image.images() if i.name == f"{vm.name}-shelved"] == []
    zone = _act(demo, vm.id, {"unshelve": {"availability_zone": "nova"}}, "2.77")
    assert fault(zone, 409, "conflictingRequest")


def test_instance_actions_name_their_requests(admin, demo, vm):
    stop = _act(demo, vm.id, {"os-stop": None})
    request_id = stop.headers["x-openstack-request-id"]
    actions = nova(demo, "GET", f"/servers/{vm.id}/os-instance-actions").json()["instanceActions"]
    assert [a["action"] for a in actions][:2] == ["stop", "create"]
    assert actions[0]["request_id"] == request_id and actions[0]["user_id"] == demo.current_user_id
    mine = nova(demo, "GET", f"/servers/{vm.id}/os-instance-actions/{request_id}", "2.51").json()["instanceAction"]
    (event,) = mine["events"]
    assert event["event"] == "compute_stop_instance" and event["result"] == "Success" and "traceback" not in event
    old = nova(demo, "GET", f"/servers/{vm.id}/os-instance-actions/{request_id}", "2.50").json()["instanceAction"]
    assert "events" not in old
    full = nova(admin, "GET", f"/servers/{vm.id}/os-instance-actions/{request_id}", "2.84").json()["instanceAction"]
    assert full["events"][0]["host"] == "stacksim" and "details" in full["events"][0]
    paged = nova(demo, "GET", f"/servers/{vm.id}/os-instance-actions?limit=1", "2.58").json()
    assert len(paged["instanceActions"]) == 1 and paged["links"][0]["rel"] == "next"
    fault(nova(demo, "GET", f"/servers/{vm.id}/os-instance-actions/req-nope"), 404, "itemNotFound")
    demo.compute.delete_server(vm.id)
    demo.compute.wait_for_delete(vm, wait=30)
    fault(nova(demo, "GET", f"/servers/{vm.id}/os-instance-actions", "2.20"), 404, "itemNotFound")
    after = nova(demo, "GET", f"/servers/{vm.id}/os-instance-actions", "2.21").json()["instanceActions"]
    assert after[0]["action"] == "delete"


def test_a_create_and_its_build_each_stamp_one_instant(demo, vm):
    """The create's ``created`` is its action's start; the build's ``launched_at`` is the server's
    ``updated`` and the build event's end (each read once from the clock, written in two forms)."""
    server = nova(demo, "GET", f"/servers/{vm.id}", "2.51").json()["server"]
    (create,) = [
        a
        for a in nova(demo, "GET", f"/servers/{vm.id}/os-instance-actions").json()["instanceActions"]
        if a["action"] == "create"
    ]
    detail = nova(demo, "GET", f"/servers/{vm.id}/os-instance-actions/{create['request_id']}", "2.51").json()
    (event,) = detail["instanceAction"]["events"]
    launched = server["OS-SRV-USG:launched_at"]
    assert event["event"] == "compute__do_build_and_run_instance" and event["result"] == "Success"
    assert server["created"] == create["start_time"][:19] + "Z" == event["start_time"][:19] + "Z"
    assert server["updated"] == launched[:19] + "Z" and event["finish_time"][:26] == launched[:26]


def test_diagnostics_for_admins(admin, demo, vm):
    fault(nova(demo, "GET", f"/servers/{vm.id}/diagnostics"), 403, "forbidden")
    standard = nova(admin, "GET", f"/servers/{vm.id}/diagnostics", "2.48").json()
    assert standard["state"] == "running" and standard["num_cpus"] == 1 and standard["num_nics"] == 1
    assert standard["memory_details"]["maximum"] == 512 and len(standard["nic_details"]) == 1
    legacy = nova(admin, "GET", f"/servers/{vm.id}/diagnostics").json()
    assert legacy["memory"] == 512 * 1024 and "vda_read" in legacy
    demo.compute.stop_server(vm)
    fault(nova(admin, "GET", f"/servers/{vm.id}/diagnostics"), 409, "conflictingRequest")


def test_remote_console_url_and_its_token(admin, demo, vm):
    body = {"remote_console": {"protocol": "vnc", "type": "novnc"}}
    console = nova(demo, "POST", f"/servers/{vm.id}/remote-consoles", "2.6", json=body).json()["remote_console"]
    assert (console["protocol"], console["type"]) == ("vnc", "novnc")
    page = requests.get(console["url"], timeout=10)
    assert page.status_code == 200 and f"booting {vm.name}" in page.text
    token = console["url"].split("token%3D", 1)[1]
    shown = nova(admin, "GET", f"/os-console-auth-tokens/{token}", "2.31").json()["console"]
    assert shown["instance_uuid"] == vm.id and shown["port"] == 5900
    fault(nova(demo, "GET", f"/os-console-auth-tokens/{token}", "2.31"), 403, "forbidden")
    spice = {"remote_console": {"protocol": "spice", "type": "spice-html5"}}
    assert "Unavailable console type" in fault(
        nova(demo, "POST", f"/servers/{vm.id}/remote-consoles", "2.6", json=spice), 400, "badRequest"
    )
    fault(nova(demo, "POST", f"/servers/{vm.id}/remote-consoles", "2.5", json=body), 404, "itemNotFound")
    legacy = _act(demo, vm.id, {"os-getVNCConsole": {"type": "novnc"}}, "2.5").json()["console"]
    assert legacy["type"] == "novnc" and legacy["url"].startswith("http")


def test_interfaces_attach_and_detach(demo, vm, net):
    other = demo.network.create_network(name=_name("n2"))
    demo.network.create_subnet(network_id=other.id, cidr="10.32.0.0/24", ip_version=4)
    made = demo.compute.create_server_interface(vm, net_id=other.id)
    assert made.net_id == other.id and made.port_state == "ACTIVE" and made.fixed_ips
    assert {i.net_id for i in demo.compute.server_interfaces(vm)} == {net.id, other.id}
    assert other.name in demo.compute.get_server(vm.id).addresses
    assert "hotplug: new interface" in demo.compute.get_server_console_output(vm)["output"]
    demo.compute.delete_server_interface(made, server=vm)
    assert [i.net_id for i in demo.compute.server_interfaces(vm)] == [net.id]
    assert demo.network.find_port(made.port_id) is None  # Nova made it, so Nova deletes it
    port = demo.network.create_port(network_id=other.id)
    nova(demo, "POST", f"/servers/{vm.id}/os-interface", json={"interfaceAttachment": {"port_id": port.id}})
    taken = nova(demo, "POST", f"/servers/{vm.id}/os-interface", json={"interfaceAttachment": {"port_id": port.id}})
    fault(taken, 409, "conflictingRequest")
    assert nova(demo, "DELETE", f"/servers/{vm.id}/os-interface/{port.id}").status_code == 202
    assert demo.network.get_port(port.id).device_id == ""  # handed over, so only unbound
    both = {"interfaceAttachment": {"port_id": port.id, "net_id": other.id}}
    fault(nova(demo, "POST", f"/servers/{vm.id}/os-interface", json=both), 400, "badRequest")
    fault(nova(demo, "DELETE", f"/servers/{vm.id}/os-interface/{port.id}"), 404, "itemNotFound")


def test_fixed_ips_before_2_44(demo, vm, net):
    assert _act(demo, vm.id, {"addFixedIp": {"networkId": net.id}}).status_code == 202
    (port,) = demo.network.ports(device_id=vm.id)
    assert len(port.fixed_ips) == 2
    extra = port.fixed_ips[1]["ip_address"]
    assert _act(demo, vm.id, {"removeFixedIp": {"address": extra}}).status_code == 202
    assert len(demo.network.get_port(port.id).fixed_ips) == 1
    fault(_act(demo, vm.id, {"removeFixedIp": {"address": extra}}), 400, "badRequest")
    fault(_act(demo, vm.id, {"addFixedIp": {"networkId": net.id}}, "2.44"), 404, "itemNotFound")


def test_ips_of_one_network(demo, vm, net):
    (address,) = nova(demo, "GET", f"/servers/{vm.id}/ips/{net.name}").json()[net.name]
    assert address["version"] == 4 and address["addr"].startswith("10.31.0.") and len(address) == 2
    assert nova(demo, "GET", f"/servers/{vm.id}/ips").json()["addresses"] == {net.name: [address]}
    fault(nova(demo, "GET", f"/servers/{vm.id}/ips/nowhere"), 404, "itemNotFound")


def test_deleted_servers_show_in_changes_since_and_to_admins(admin, demo, vm):
    before = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
    keep = demo.compute.create_server(name=_name("keep"), image_id=vm.image.id, flavor_id="1", networks="none")
    demo.compute.delete_server(vm.id)
    demo.compute.wait_for_delete(vm, wait=30)
    assert vm.id not in [s.id for s in demo.compute.servers()]
    changed = nova(demo, "GET", f"/servers/detail?changes-since={before}").json()["servers"]
    gone = next(s for s in changed if s["id"] == vm.id)
    assert gone["status"] == "DELETED" and gone["OS-SRV-USG:terminated_at"]
    assert keep.id in [s["id"] for s in changed]
    deleted = nova(admin, "GET", "/servers?deleted=true&all_tenants=1").json()["servers"]
    assert [s["id"] for s in deleted] == [vm.id]
    assert keep.id in [s["id"] for s in nova(demo, "GET", "/servers?deleted=true").json()["servers"]]  # ignored
    after_gone = nova(demo, "GET", f"/servers?marker={vm.id}").json()["servers"]
    assert all(s["id"] != vm.id for s in after_gone)
    fault(nova(demo, "GET", f"/servers?marker={uuid.uuid4()}"), 400, "badRequest")
    fault(nova(demo, "GET", f"/servers/{vm.id}"), 404, "itemNotFound")


def test_volume_attachment_update_from_2_85(demo, vm):
    volume = demo.create_volume(size=1, name=_name("v"), wait=True)
    demo.attach_volume(vm, volume, wait=True)
    path = f"/servers/{vm.id}/os-volume_attachments/{volume.id}"
    body = {"volumeAttachment": {"volumeId": volume.id, "delete_on_termination": True}}
    assert nova(demo, "PUT", path, "2.85", json=body).status_code == 202
    shown = nova(demo, "GET", path, "2.85").json()["volumeAttachment"]
    assert shown["delete_on_termination"] is True
    moved = {"volumeAttachment": {"volumeId": volume.id, "device": "/dev/vdz"}}
    assert "not mutable" in fault(nova(demo, "PUT", path, "2.85", json=moved), 400, "badRequest")
    swap = {"volumeAttachment": {"volumeId": str(uuid.uuid4())}}
    fault(nova(demo, "PUT", path, "2.85", json=swap), 403, "forbidden")  # a swap is the service's
    demo.compute.delete_server(vm.id)
    demo.compute.wait_for_delete(vm, wait=30)
    assert demo.block_storage.find_volume(volume.id) is None  # deleted with the server, as now asked


def test_create_reply_names_the_ports_security_groups(demo, net):
    """The 202's ``security_groups``: those on the ports the create made or took, by name, in order."""
    image = demo.image.find_image(DEFAULT_IMAGE_NAME).id
    web = demo.network.create_security_group(name=_name("web"))
    own = demo.network.create_security_group(name=_name("own"))
    bare = demo.network.create_network(name=_name("bare"), port_security_enabled=False)
    demo.network.create_subnet(network_id=bare.id, cidr="10.32.0.0/24", ip_version=4)
    handed = demo.network.create_port(network_id=net.id, security_group_ids=[own.id])

    def reply(**server) -> dict:
        body = {"server": {"name": _name("sg"), "imageRef": image, "flavorRef": "1", **server}}
        resp = nova(demo, "POST", "/servers", None, json=body)
        assert resp.status_code == 202, resp.text
        return resp.json()["server"]

    assert reply(networks=[{"uuid": net.id}])["security_groups"] == [{"name": "default"}]
    named = reply(networks=[{"uuid": net.id}], security_groups=[{"name": web.name}, {"name": "default"}])
    assert named["security_groups"] == [{"name": web.name}, {"name": "default"}]
    assert "security_groups" not in reply(networks=[{"uuid": bare.id}])
    assert reply(networks=[{"port": handed.id}])["security_groups"] == [{"name": own.name}]
