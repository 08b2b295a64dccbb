"""Block storage through openstacksdk: the cloud layer and the block-storage proxy."""

from __future__ import annotations

import openstack.exceptions as exc
import pytest
from volume_helpers import unique


def test_cloud_layer_volume_and_snapshot(demo):
    volume = demo.create_volume(size=1, name=unique("sdk"), wait=True, timeout=30)
    assert volume.status == "available" and volume.size == 1 and not volume.is_bootable
    assert demo.get_volume(volume.name).id == volume.id
    snap = demo.create_volume_snapshot(volume.id, name=unique("snap"), wait=True, timeout=30)
    assert snap.status == "available" and snap.volume_id == volume.id and snap.size == 1
    assert demo.get_volume_snapshot(snap.name).id == snap.id
    assert snap.id in {s.id for s in demo.list_volume_snapshots()}
    with pytest.raises(exc.BadRequestException, match="have snapshots"):
        demo.delete_volume(volume.id, wait=True)
    assert demo.delete_volume_snapshot(snap.id, wait=True, timeout=30)
    assert demo.delete_volume(volume.id, wait=True, timeout=30)
    assert demo.get_volume(volume.id) is None


def test_cloud_layer_backup_and_limits(demo):
    volume = demo.create_volume(size=1, name=unique("bk-src"), wait=True, timeout=30)
    backup = demo.create_volume_backup(volume.id, name=unique("bk"), wait=True, timeout=30)
    assert backup.status == "available" and backup.volume_id == volume.id and backup.size == 1
    limits = demo.get_volume_limits()
    assert limits.absolute.max_total_volumes == 10
    assert limits.absolute.total_volumes_used >= 1 and limits.absolute.total_backups_used >= 1
    assert demo.delete_volume_backup(backup.id, wait=True, timeout=30)
    assert demo.delete_volume(volume.id, wait=True, timeout=30)


def test_proxy_extend_update_metadata(demo):
    bs = demo.block_storage
    volume = bs.create_volume(size=1, name=unique("px"), metadata={"a": "1"})
    volume = bs.wait_for_status(volume, "available", interval=0.2, wait=30)
    bs.extend_volume(volume, 3)
    volume = bs.wait_for_status(bs.get_volume(volume), "available", interval=0.2, wait=30)
    assert volume.size == 3
    with pytest.raises(exc.BadRequestException, match=r"New size for extend must be greater than current size"):
        bs.extend_volume(volume, 2)
    bs.update_volume(volume, description="grown")
    bs.set_volume_metadata(volume, b="2")
    found = bs.get_volume(volume)
    assert found.description == "grown" and found.metadata == {"a": "1", "b": "2"}
    bs.delete_volume_metadata(volume, keys=["a"])
    assert bs.get_volume(volume).metadata == {"b": "2"}
    bs.set_volume_bootable_status(volume, True)
    assert bs.get_volume(volume).is_bootable
    bs.delete_volume(volume)
    bs.wait_for_delete(volume, interval=0.2, wait=30)


def test_proxy_types_extra_specs_and_access(admin, connect):
    alt = connect("stacksim-alt")
    bs = admin.block_storage
    vtype = bs.create_type(name=unique("gold"), extra_specs={"volume_backend_name": "lvm"}, is_public=False)
    try:
        assert bs.get_type(vtype).extra_specs == {"volume_backend_name": "lvm"}
        bs.update_type_extra_specs(vtype, pool_name="pool-b", multiattach="<is> True")
        assert bs.get_type(vtype).extra_specs["pool_name"] == "pool-b"
        bs.delete_type_extra_specs(vtype, ["pool_name"])
        assert "pool_name" not in bs.get_type(vtype).extra_specs
        with pytest.raises(exc.NotFoundException):
            alt.block_storage.get_type(vtype.id)
        bs.add_type_access(vtype, alt.current_project_id)
        assert bs.get_type_access(vtype) == [{"volume_type_id": vtype.id, "project_id": alt.current_project_id}]
        seen = alt.block_storage.get_type(vtype.id)
        assert seen.extra_specs == {"multiattach": "<is> True"}  # non-admins see only user-visible specs
        bs.remove_type_access(vtype, alt.current_project_id)
        with pytest.raises(exc.ForbiddenException):
            alt.block_storage.update_type_extra_specs(seen, pool_name="pool-a")
    finally:
        bs.delete_type(vtype)


def test_proxy_default_type(demo):
    default = demo.block_storage.get_type("default")
    assert default.name == "__DEFAULT__" and default.description == "Default Volume Type"
    assert "__DEFAULT__" in {t.name for t in demo.block_storage.types()}


def test_proxy_qos(admin):
    bs = admin.block_storage
    qos = bs.create_qos_spec(name=unique("qos"), consumer="back-end", total_iops_sec="800")
    vtype = bs.create_type(name=unique("qostype"))
    try:
        assert bs.get_qos_spec(qos).specs == {"total_iops_sec": "800"}
        bs.associate_qos_spec(qos, vtype.id)
        (assoc,) = bs.qos_spec_associations(qos)
        assert (assoc.id, assoc.name, assoc.association_type) == (vtype.id, vtype.name, "volume_type")
        bs.disassociate_all_qos_spec(qos)
        assert list(bs.qos_spec_associations(qos)) == []
    finally:
        bs.delete_qos_spec(qos)
        bs.delete_type(vtype)


def test_proxy_pools_for_admins_only(admin, demo):
    pools = {p.name: p.capabilities for p in admin.block_storage.backend_pools()}
    assert set(pools) == {"stacksim@lvm#pool-a", "stacksim@lvm#pool-b"}
    assert pools["stacksim@lvm#pool-a"]["total_capacity_gb"] == 100
    assert pools["stacksim@lvm#pool-b"]["total_capacity_gb"] == 500
    assert pools["stacksim@lvm#pool-a"]["volume_backend_name"] == "lvm"
    with pytest.raises(exc.ForbiddenException):
        list(demo.block_storage.backend_pools())


def test_proxy_attachments_round_trip(demo, admin):
    bs = demo.block_storage
    volume = bs.wait_for_status(bs.create_volume(size=1, name=unique("att")), "available", interval=0.2, wait=30)
    server_id = "9b1f1a7e-0000-4000-8000-000000000001"
    attachment = bs.create_attachment(volume, instance=server_id)
    assert attachment.status == "reserved" and attachment.instance == server_id
    assert bs.get_volume(volume).status == "reserved"
    connector = {"host": "compute-1", "initiator": "iqn.1994-05.com.redhat:abc", "mountpoint": "/dev/vdb"}
    updated = bs.update_attachment(attachment, connector=connector)
    info = updated.connection_info
    assert info["driver_volume_type"] == "local" and info["data"]["volume_id"] == volume.id
    assert info["data"]["device_path"].endswith(volume.id)
    assert bs.get_volume(volume).status == "attaching"
    bs.complete_attachment(attachment)
    found = bs.get_volume(volume)
    assert found.status == "in-use"
    (shown,) = found.attachments
    assert shown["server_id"] == server_id and shown["attachment_id"] == attachment.id
    assert shown["volume_id"] == volume.id and shown["device"] == "/dev/vdb"
    assert shown["attached_at"]
    # The attachment's host is Cinder's to show to admins (and the service role) only.
    assert shown["host_name"] is None
    (as_admin,) = admin.block_storage.get_volume(volume).attachments
    assert as_admin["host_name"] == "compute-1"
    with pytest.raises(exc.BadRequestException, match="must be available or downloading"):
        bs.create_attachment(volume, instance="9b1f1a7e-0000-4000-8000-000000000002")
    with pytest.raises(exc.BadRequestException, match="attached"):
        bs.delete_volume(volume)
    bs.delete_attachment(attachment)
    assert bs.get_volume(volume).status == "available"
    assert bs.get_volume(volume).attachments == []
    bs.delete_volume(volume)
    bs.wait_for_delete(volume, interval=0.2, wait=30)


def test_members_see_only_their_own(demo, connect, admin):
    alt = connect("stacksim-alt")
    volume = demo.create_volume(size=1, name=unique("mine"), wait=True, timeout=30)
    try:
        with pytest.raises(exc.NotFoundException):
            alt.block_storage.get_volume(volume.id)
        assert volume.id not in {v.id for v in alt.block_storage.volumes()}
        assert volume.id not in {v.id for v in admin.block_storage.volumes()}
        assert volume.id in {v.id for v in admin.block_storage.volumes(all_projects=True)}
        assert admin.block_storage.get_volume(volume.id).project_id == demo.current_project_id
    finally:
        demo.delete_volume(volume.id, wait=True, timeout=30)


def test_upload_to_image(demo):
    bs = demo.block_storage
    volume = bs.wait_for_status(bs.create_volume(size=1, name=unique("up")), "available", interval=0.2, wait=30)
    result = bs.upload_volume_to_image(volume, unique("img"), disk_format="raw", container_format="bare")
    image_id = result["image_id"]
    assert result["status"] == "uploading" and result["volume_type"]["name"] == "__DEFAULT__"
    image = demo.image.wait_for_status(demo.image.get_image(image_id), "active", interval=0.2, wait=60)
    assert image.size == 1 << 30 and image.disk_format == "raw"
    assert bs.wait_for_status(bs.get_volume(volume), "available", interval=0.2, wait=30).status == "available"
    from_image = bs.wait_for_status(
        bs.create_volume(size=1, image_id=image_id, name=unique("boot")), "available", interval=0.2, wait=60
    )
    assert from_image.is_bootable
    assert from_image.volume_image_metadata["image_id"] == image_id
    assert from_image.volume_image_metadata["disk_format"] == "raw"
    for item in (from_image, volume):
        bs.delete_volume(item)
        bs.wait_for_delete(item, interval=0.2, wait=30)
    demo.image.delete_image(image_id)


def test_retype(admin, demo):
    bs = demo.block_storage
    pinned = admin.block_storage.create_type(name=unique("pinned"), extra_specs={"pool_name": "pool-a"})
    other = admin.block_storage.create_type(name=unique("other"), extra_specs={"pool_name": "pool-b"})
    try:
        volume = bs.wait_for_status(
            bs.create_volume(size=1, volume_type=pinned.name), "available", interval=0.2, wait=30
        )
        assert admin.block_storage.get_volume(volume.id).host == "stacksim@lvm#pool-a"
        bs.retype_volume(volume, other.name)  # needs a migration: refused with the default policy
        volume = bs.wait_for_status(bs.get_volume(volume), "available", interval=0.2, wait=30)
        assert volume.volume_type == pinned.name
        bs.retype_volume(volume, other.name, migration_policy="on-demand")
        volume = bs.wait_for_status(bs.get_volume(volume), "available", interval=0.2, wait=30)
        assert volume.volume_type == other.name
        assert admin.block_storage.get_volume(volume.id).host == "stacksim@lvm#pool-b"
        bs.delete_volume(volume)
        bs.wait_for_delete(volume, interval=0.2, wait=30)
    finally:
        admin.block_storage.delete_type(pinned)
        admin.block_storage.delete_type(other)
