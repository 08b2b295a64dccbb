"""The Block Storage model's Python API, as Nova calls it (no HTTP in between)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from stacksim import faults
from stacksim.cloud import Cloud
from stacksim.config import Settings

SERVER_A = "aaaaaaaa-0000-4000-8000-000000000001"
SERVER_B = "bbbbbbbb-0000-4000-8000-000000000002"


@pytest.fixture
def cloud() -> Iterator[Cloud]:
    made = Cloud(Settings(delay=0.01))
    made.start()
    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_forever, daemon=True)
    runner.start()
    made.lifecycle.start(loop)
    yield made
    made.close()
    loop.call_soon_threadsafe(loop.stop)
    runner.join(timeout=5)


def _ctx(cloud: Cloud, name: str):
    user = cloud.store.first("user", name=name)
    token, _ = cloud.identity.issue_token(user["id"], ["password"], project_id=user["default_project_id"])
    return cloud.auth.context(token)


def test_attach_detach_for_nova(cloud):
    demo = _ctx(cloud, "demo")
    bs = cloud.volume
    volume = bs.create(demo, size=1, name="data")
    assert volume["status"] == "creating"
    volume = bs.wait(volume["id"])
    assert bs.path(volume["id"]).stat().st_size == 1 << 30

    attachment = bs.attach(demo, volume["id"], SERVER_A, "/dev/vdb")
    assert attachment["instance_uuid"] == SERVER_A and attachment["mountpoint"] == "/dev/vdb"
    assert attachment["attach_status"] == "attached" and attachment["attach_mode"] == "rw"
    assert attachment["connection_info"]["data"]["device_path"] == str(bs.path(volume["id"]))
    record = bs.get(demo, volume["id"])
    assert (record["status"], record["attach_status"]) == ("in-use", "attached")
    assert [a["id"] for a in bs.attachments_of_server(SERVER_A)] == [attachment["id"]]

    with pytest.raises(faults.BadRequest, match="is already attached to server"):
        bs.attach(demo, volume["id"], SERVER_A, "/dev/vdc")
    with pytest.raises(faults.BadRequest) as busy:
        bs.attach(demo, volume["id"], SERVER_B, "/dev/vdb")
    assert busy.value.message == f"Invalid volume: Volume {volume['id']} status must be available or downloading"

    bs.detach(demo, volume["id"], SERVER_A)
    record = bs.get(demo, volume["id"])
    assert (record["status"], record["attach_status"]) == ("available", "detached")
    assert bs.attachments_of_server(SERVER_A) == []
    with pytest.raises(faults.NotFound, match="is not attached to server"):
        bs.detach(demo, volume["id"], SERVER_A)


def test_other_projects_volumes_are_not_found(cloud):
    demo, alt = _ctx(cloud, "demo"), _ctx(cloud, "alt_demo")
    volume = cloud.volume.wait(cloud.volume.create(demo, size=1)["id"])
    with pytest.raises(faults.NotFound) as missing:
        cloud.volume.attach(alt, volume["id"], SERVER_A, "/dev/vdb")
    assert missing.value.message == f"Volume {volume['id']} could not be found."


def test_multiattach_type_allows_two_servers(cloud):
    demo = _ctx(cloud, "demo")
    shared = cloud.volume.types.create("shared", specs={"multiattach": "<is> True"})
    volume = cloud.volume.wait(cloud.volume.create(demo, size=1, volume_type=shared["name"])["id"])
    cloud.volume.attach(demo, volume["id"], SERVER_A, "/dev/vdb")
    cloud.volume.attach(demo, volume["id"], SERVER_B, "/dev/vdb")
    assert len(cloud.volume.attachments.attached(volume["id"])) == 2
    cloud.volume.detach(demo, volume["id"], SERVER_A)
    assert cloud.volume.get(demo, volume["id"])["status"] == "in-use"
    cloud.volume.detach(demo, volume["id"], SERVER_B)
    assert cloud.volume.get(demo, volume["id"])["status"] == "available"


def test_boot_from_volume_steps(cloud):
    """What Nova does for a ``block_device_mapping_v2`` with ``source_type: image``."""
    demo = _ctx(cloud, "demo")
    image = next(i for i in cloud.store.find("image") if i["status"] == "active")
    volume = cloud.volume.create(demo, size=1, image_ref=image["id"])
    volume = cloud.volume.wait(volume["id"])
    assert volume["bootable"] and volume["image_metadata"]["image_id"] == image["id"]
    with open(cloud.volume.path(volume["id"]), "rb") as fh:
        assert fh.read(4) == b"QFI\xfb"  # the image's bytes
    cloud.volume.attach(demo, volume["id"], SERVER_A, "/dev/vda")
    cloud.volume.detach(demo, volume["id"], SERVER_A)
    cloud.volume.delete(demo, volume["id"])
    cloud.lifecycle.wait_idle(10)
    assert cloud.volume.volumes.record(volume["id"]) is None
    assert not cloud.volume.path(volume["id"]).exists()


def test_wait_reports_the_reason_of_an_error(cloud):
    demo = _ctx(cloud, "demo")
    nowhere = cloud.volume.types.create("nowhere", specs={"volume_backend_name": "ceph"})
    volume = cloud.volume.create(demo, size=1, volume_type=nowhere["id"])
    with pytest.raises(faults.BadRequest, match="Could not find any available weighted backend"):
        cloud.volume.wait(volume["id"])
