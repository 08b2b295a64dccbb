"""A volume's data is real bytes in sparse files under the state dir: snapshots, clones, backups,
restores, images and extends copy or grow them, and they survive a restart."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import openstack
import pytest
from volume_helpers import cinder, make_volume, unique, wait_for, wait_gone

from stacksim.testing import Simulator

GiB = 1 << 30
HEAD = b"stacksim volume data " * 100
FAR = 700 * (1 << 20)  # an offset well inside a 1 GiB volume
TAIL = b"\x01\x02 far away \x03\x04"


def _connect(url: str, user: str) -> openstack.connection.Connection:
    return openstack.connect(
        auth_url=f"{url}/identity",
        username=user,
        password="stacksim",
        project_name=user,
        user_domain_id="default",
        project_domain_id="default",
    )


@pytest.fixture(scope="module")
def state(tmp_path_factory) -> Iterator[tuple[Simulator, Path]]:
    folder = tmp_path_factory.mktemp("volume-state")
    with Simulator(state_dir=folder) as running:
        yield running, folder / "data"


@pytest.fixture(scope="module")
def user(state):
    return _connect(state[0].url, "demo")


@pytest.fixture(autouse=True)
def _bootstrap_state(state) -> None:
    """This module's own simulator (it keeps its state on disk) starts each test from its bootstrap state."""
    state[0].reset()


def _file(data: Path, kind: str, item_id: str) -> Path:
    return data / kind / item_id


def _write(path: Path) -> None:
    with open(path, "r+b") as fh:
        fh.write(HEAD)
        fh.seek(FAR)
        fh.write(TAIL)


def _has_data(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(len(HEAD))
        fh.seek(FAR)
        tail = fh.read(len(TAIL))
    return head == HEAD and tail == TAIL


def test_volume_is_a_sparse_file_of_its_size(state, user):
    _, data = state
    volume = make_volume(user, size=1)
    path = _file(data, "volumes", volume["id"])
    assert path.stat().st_size == GiB
    assert path.stat().st_blocks * 512 < 1 << 20  # a hole, not a gigabyte of zeros
    info = cinder(
        user, "POST", f"/volumes/{volume['id']}/action", json={"os-initialize_connection": {"connector": {"host": "h"}}}
    ).json()
    assert info["connection_info"]["data"]["device_path"] == str(path)
    cinder(user, "DELETE", f"/volumes/{volume['id']}")
    wait_gone(user, "volumes", volume["id"])
    assert not path.exists()


def test_snapshot_clone_and_volume_from_snapshot_copy_the_bytes(state, user):
    _, data = state
    volume = make_volume(user, size=1)
    _write(_file(data, "volumes", volume["id"]))

    made = cinder(user, "POST", "/snapshots", json={"snapshot": {"volume_id": volume["id"], "name": unique("s")}})
    snap = wait_for(user, "snapshots", made.json()["snapshot"]["id"], ("available",))
    assert _has_data(_file(data, "snapshots", snap["id"]))

    # Later writes to the volume do not reach the snapshot.
    with open(_file(data, "volumes", volume["id"]), "r+b") as fh:
        fh.write(b"CHANGED")
    with open(_file(data, "snapshots", snap["id"]), "rb") as fh:
        assert fh.read(7) == HEAD[:7]

    from_snap = make_volume(user, size=2, snapshot_id=snap["id"])
    path = _file(data, "volumes", from_snap["id"])
    assert path.stat().st_size == 2 * GiB and _has_data(path)

    clone = make_volume(user, source_volid=volume["id"])
    with open(_file(data, "volumes", clone["id"]), "rb") as fh:
        assert fh.read(7) == b"CHANGED"
        fh.seek(FAR)
        assert fh.read(len(TAIL)) == TAIL

    for item in (from_snap, clone):
        cinder(user, "DELETE", f"/volumes/{item['id']}")
    cinder(user, "DELETE", f"/volumes/{volume['id']}?cascade=true")
    wait_gone(user, "volumes", volume["id"])
    wait_gone(user, "snapshots", snap["id"])
    assert not _file(data, "snapshots", snap["id"]).exists()


def test_backup_and_restores_copy_the_bytes(state, user):
    _, data = state
    volume = make_volume(user, size=1)
    _write(_file(data, "volumes", volume["id"]))
    made = cinder(user, "POST", "/backups", json={"backup": {"volume_id": volume["id"], "name": unique("b")}})
    backup = wait_for(user, "backups", made.json()["backup"]["id"], ("available",))
    assert backup["object_count"] >= 1 and _has_data(_file(data, "backups", backup["id"]))
    assert backup["status"] == "available"

    restored = cinder(user, "POST", f"/backups/{backup['id']}/restore", json={"restore": {"name": unique("r")}})
    assert restored.status_code == 202
    new_id = restored.json()["restore"]["volume_id"]
    wait_for(user, "volumes", new_id, ("available",))
    assert _has_data(_file(data, "volumes", new_id))

    target = make_volume(user, size=2)
    into = cinder(user, "POST", f"/backups/{backup['id']}/restore", json={"restore": {"volume_id": target["id"]}})
    assert into.json()["restore"]["volume_id"] == target["id"]
    wait_for(user, "volumes", target["id"], ("available",))
    path = _file(data, "volumes", target["id"])
    assert _has_data(path) and path.stat().st_size == 2 * GiB
    assert wait_for(user, "backups", backup["id"], ("available",))

    small = make_volume(user, size=1)
    cinder(user, "POST", f"/volumes/{small['id']}/action", json={"os-extend": {"new_size": 2}})
    wait_for(user, "volumes", small["id"], ("available",))
    assert _file(data, "volumes", small["id"]).stat().st_size == 2 * GiB

    cinder(user, "DELETE", f"/backups/{backup['id']}")
    wait_gone(user, "backups", backup["id"])
    assert not _file(data, "backups", backup["id"]).exists()
    for item_id in (volume["id"], new_id, target["id"], small["id"]):
        cinder(user, "DELETE", f"/volumes/{item_id}")


def test_upload_to_image_and_back(state, user):
    _, data = state
    volume = make_volume(user, size=1)
    _write(_file(data, "volumes", volume["id"]))
    upload = cinder(
        user,
        "POST",
        f"/volumes/{volume['id']}/action",
        version="3.1",
        json={"os-volume_upload_image": {"image_name": unique("img"), "visibility": "private"}},
    )
    assert upload.status_code == 202
    image_id = upload.json()["os-volume_upload_image"]["image_id"]
    image = user.image.wait_for_status(user.image.get_image(image_id), "active", interval=0.2, wait=60)
    assert image.size == GiB and image.visibility == "private"
    assert _has_data(data / "images" / image_id)
    assert (data / "images" / image_id).stat().st_blocks * 512 < 8 << 20  # its holes stayed holes
    from_image = make_volume(user, size=1, imageRef=image_id)
    assert from_image["bootable"] == "true" and from_image["volume_image_metadata"]["image_id"] == image_id
    assert _has_data(_file(data, "volumes", from_image["id"]))
    assert _file(data, "volumes", from_image["id"]).stat().st_blocks * 512 < 8 << 20
    for item_id in (volume["id"], from_image["id"]):
        cinder(user, "DELETE", f"/volumes/{item_id}")
    user.image.delete_image(image_id)


def test_volumes_and_their_data_survive_a_restart(tmp_path):
    folder = tmp_path / "state"
    first = Simulator(state_dir=folder).start()
    try:
        conn = _connect(first.url, "demo")
        volume = make_volume(conn, size=1, name="survivor")
        _write(folder / "data" / "volumes" / volume["id"])
    finally:
        first.stop()
    with Simulator(state_dir=folder, port=first.port) as second:
        conn = _connect(second.url, "demo")
        found = cinder(conn, "GET", f"/volumes/{volume['id']}").json()["volume"]
        assert found["status"] == "available" and found["name"] == "survivor"
        assert _has_data(folder / "data" / "volumes" / volume["id"])
        # The default type is not made twice.
        names = [t["name"] for t in cinder(conn, "GET", "/types").json()["volume_types"]]
        assert names.count("__DEFAULT__") == 1
    assert os.path.exists(folder / "data" / "volumes" / volume["id"])
