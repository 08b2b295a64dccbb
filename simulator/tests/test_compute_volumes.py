"""Volumes through Nova: ``server add/remove volume``, the SDK's attach/detach, boot from volume."""

from __future__ import annotations

import uuid

import pytest
from compute_http import nova
from edge_helpers import call
from volume_helpers import cinder

from stacksim.services.image.bootstrap import DEFAULT_IMAGE_NAME
from stacksim.testing import wait_until


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def _build_result(conn, server_id: str) -> str | None:
    """The result of the build event of the server's create action (its only action)."""
    (action,) = nova(conn, "GET", f"/servers/{server_id}/os-instance-actions").json()["instanceActions"]
    assert action["action"] == "create"
    shown = nova(conn, "GET", f"/servers/{server_id}/os-instance-actions/{action['request_id']}", "2.51").json()
    (event,) = shown["instanceAction"]["events"]
    assert event["event"] == "compute__do_build_and_run_instance" and event["finish_time"]
    return event["result"]


@pytest.fixture
def vm(demo):
    image = demo.image.find_image(DEFAULT_IMAGE_NAME)
    server = demo.compute.create_server(name=_name("vm"), image_id=image.id, flavor_id="1", networks="none")
    return demo.compute.wait_for_server(server, wait=30)


def test_add_and_remove_volume_through_nova(demo, vm):
    # what `openstack server add volume` / `remove volume` call
    volume = demo.block_storage.create_volume(size=1, name=_name("v1"))
    assert demo.block_storage.get_volume(volume.id).status == "available"
    resp = demo.compute.post(
        f"/servers/{vm.id}/os-volume_attachments", json={"volumeAttachment": {"volumeId": volume.id}}
    )
    assert resp.status_code == 200, resp.text
    shown = demo.block_storage.get_volume(volume.id)
    assert shown.status == "in-use"
    (attachment,) = shown.attachments
    assert attachment["server_id"] == vm.id and attachment["device"] == "/dev/vdb"
    assert volume.id in str(demo.compute.get_server(vm.id).attached_volumes)
    busy = demo.block_storage.delete(f"/volumes/{volume.id}", raise_exc=False)
    assert busy.status_code == 400
    resp = demo.compute.delete(f"/servers/{vm.id}/os-volume_attachments/{volume.id}")
    assert resp.status_code == 202, resp.text
    assert demo.block_storage.get_volume(volume.id).status == "available"
    demo.block_storage.delete_volume(volume)


def test_sdk_attach_detach_and_console(demo, vm):
    volume = demo.create_volume(size=1, name=_name("sdkv"), wait=True)
    demo.attach_volume(vm, volume, wait=True)
    attached = demo.block_storage.get_volume(volume.id)
    assert attached.status == "in-use" and attached.attachments[0]["server_id"] == vm.id
    attachments = list(demo.compute.volume_attachments(vm))
    assert [a.volume_id for a in attachments] == [volume.id]
    assert "virtio_blk" in demo.get_server_console(vm)
    demo.detach_volume(vm, volume, wait=True)
    assert demo.block_storage.get_volume(volume.id).status == "available"
    demo.delete_volume(volume.id, wait=True)


def test_attach_to_an_in_use_volume_is_refused(demo, vm):
    volume = demo.create_volume(size=1, name=_name("twice"), wait=True)
    demo.attach_volume(vm, volume, wait=True)
    resp = demo.compute.post(
        f"/servers/{vm.id}/os-volume_attachments", json={"volumeAttachment": {"volumeId": volume.id}}
    )
    assert resp.status_code == 400 and "badRequest" in resp.json()
    demo.detach_volume(vm, volume, wait=True)
    demo.delete_volume(volume.id, wait=True)


def test_boot_from_volume_made_from_an_image(demo):
    image = demo.image.find_image(DEFAULT_IMAGE_NAME)
    bdm = [
        {
            "boot_index": 0,
            "uuid": image.id,
            "source_type": "image",
            "destination_type": "volume",
            "volume_size": 1,
            "delete_on_termination": True,
        }
    ]
    server = demo.compute.create_server(name=_name("bfv"), flavor_id="1", networks="none", block_device_mapping_v2=bdm)
    server = demo.compute.wait_for_server(server, wait=30)
    assert server.status == "ACTIVE" and not server.image.get("id")
    assert _build_result(demo, server.id) == "Success"
    (attachment,) = demo.compute.volume_attachments(server)
    assert attachment.device == "/dev/vda"
    root = demo.block_storage.get_volume(attachment.volume_id)
    assert root.status == "in-use" and root.is_bootable
    resp = demo.compute.delete(f"/servers/{server.id}/os-volume_attachments/{root.id}")
    assert resp.status_code == 400 and "root device" in resp.json()["badRequest"]["message"]
    demo.delete_server(server.id, wait=True)
    assert wait_until(lambda: demo.block_storage.find_volume(root.id) is None)  # delete_on_termination


def test_a_boot_volume_still_creating_when_the_build_starts_is_waited_for(admin, demo):
    """The build waits for the root volume it made, also when it is run a second time after that
    (a fake server's build starts in its create call and goes back to the job threads to wait):
    the second run must not attach the volume while it is still being made."""
    project = demo.current_project_id
    vtype = admin.block_storage.create_type(name=_name("slow"), extra_specs={"stacksim:create_delay": "0.5"})
    default = f"/default-types/{project}"
    body = {"default_type": {"volume_type": vtype.name}}
    assert admin.block_storage.put(default, json=body, microversion="3.62").status_code == 200
    try:
        image = demo.image.find_image(DEFAULT_IMAGE_NAME)
        bdm = [{"boot_index": 0, "uuid": image.id, "source_type": "image", "destination_type": "volume"}]
        bdm[0] |= {"volume_size": 1, "delete_on_termination": True}
        server = demo.compute.create_server(
            name=_name("bfv-slow"), flavor_id="1", networks="none", block_device_mapping_v2=bdm
        )
        server = demo.compute.wait_for_server(server, wait=30)
        assert server.status == "ACTIVE" and _build_result(demo, server.id) == "Success"
        (attachment,) = demo.compute.volume_attachments(server)
        root = demo.block_storage.get_volume(attachment.volume_id)
        assert root.status == "in-use" and root.volume_type == vtype.name
        demo.delete_server(server.id, wait=True)
        assert wait_until(lambda: demo.block_storage.find_volume(root.id) is None)
    finally:
        assert admin.block_storage.delete(default, microversion="3.62").status_code in (200, 204)
    admin.block_storage.delete_type(vtype)


def test_boot_from_an_existing_volume_keeps_it(demo):
    image = demo.image.find_image(DEFAULT_IMAGE_NAME)
    volume = demo.create_volume(size=1, image=image.id, name=_name("root"), wait=True)
    bdm = [{"boot_index": 0, "uuid": volume.id, "source_type": "volume", "destination_type": "volume"}]
    server = demo.compute.create_server(name=_name("bfv2"), flavor_id="1", networks="none", block_device_mapping_v2=bdm)
    server = demo.compute.wait_for_server(server, wait=30)
    assert demo.block_storage.get_volume(volume.id).status == "in-use"
    demo.delete_server(server.id, wait=True)
    assert wait_until(lambda: demo.block_storage.get_volume(volume.id).status == "available")
    demo.delete_volume(volume.id, wait=True)


def test_a_volume_cinder_attaches_while_a_server_builds_is_plugged_by_the_build(sim, admin, demo):
    """(A build in its create's own transaction skips that look-up: nothing can be attached yet.)"""
    hold = call(sim.url, "POST", "/_stacksim/faults", admin.auth_token, json={"fault": {"job": "server.build"}})
    assert hold.status_code == 201, hold.text
    image = demo.image.find_image(DEFAULT_IMAGE_NAME)
    server = demo.compute.create_server(name=_name("held"), image_id=image.id, flavor_id="1", networks="none")
    volume = demo.block_storage.wait_for_status(demo.block_storage.create_volume(size=1, name=_name("v")))
    attach = {"os-attach": {"instance_uuid": server.id, "mountpoint": "/dev/vdb", "mode": "rw"}}
    assert cinder(demo, "POST", f"/volumes/{volume.id}/action", json=attach).status_code == 202
    assert demo.compute.get_server(server.id).status == "BUILD"
    fault_id = hold.json()["fault"]["id"]
    assert call(sim.url, "DELETE", f"/_stacksim/faults/{fault_id}", admin.auth_token).status_code == 204
    built = demo.compute.wait_for_server(server, wait=30)
    console = demo.compute.get_server_console_output(built)["output"]
    assert f"virtio_blk: /dev/vdb attached (volume {volume.id})" in console
    demo.compute.delete_server(built)
    demo.compute.wait_for_delete(built, wait=30)
