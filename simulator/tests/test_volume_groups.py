"""Group types, generic volume groups and group snapshots, through openstacksdk and HTTP."""

from __future__ import annotations

import pytest
from openstack import exceptions as exc
from volume_helpers import cinder, fault, unique

WAIT = {"interval": 0.2, "wait": 30}


@pytest.fixture
def setup(admin, demo):
    """A group type and a group of demo's holding volumes of the default type."""
    bs = admin.block_storage
    group_type = bs.create_group_type(name=unique("gt"), group_specs={"consistent_group_snapshot_enabled": "<is> True"})
    volume_type = demo.block_storage.get_type("default")
    group = demo.block_storage.create_group(name=unique("grp"), group_type=group_type.id, volume_types=[volume_type.id])
    demo.block_storage.wait_for_status(demo.block_storage.get_group(group), "available", **WAIT)
    return group_type, volume_type, group


def test_group_types_are_admins_to_manage(admin, demo):
    bs = admin.block_storage
    names = {t.name for t in bs.group_types()}
    assert "default_cgsnapshot_type" in names  # as Cinder's database makes it
    made = bs.create_group_type(name=unique("gt"), description="d")
    with pytest.raises(exc.ForbiddenException):
        demo.block_storage.create_group_type(name=unique("gt"))
    seen = demo.block_storage.get_group_type(made.id)
    assert seen.name == made.name and not seen.group_specs  # specs are for admins to see
    bs.create_group_type_group_specs(made, {"foo": "bar", "acme": "buzz"})
    assert bs.get_group_type_group_specs_property(made, "foo") == "bar"
    assert bs.update_group_type_group_specs_property(made, "foo", "baz") == "baz"
    bs.delete_group_type_group_specs_property(made, "acme")
    assert bs.get_group_type(made.id).group_specs == {"foo": "baz"}
    with pytest.raises(exc.ForbiddenException):
        demo.block_storage.get_group_type_group_specs_property(made, "foo")
    bs.update_group_type(made.id, name=f"{made.name}-x", description="e")
    assert bs.find_group_type(f"{made.name}-x").description == "e"
    duplicate = cinder(admin, "POST", "/group_types", version="3.11", json={"group_type": {"name": f"{made.name}-x"}})
    assert fault(duplicate, 409, "conflictingRequest") == f"Group Type {made.name}-x already exists."
    early = cinder(admin, "GET", "/group_types", version="3.10")
    assert early.status_code == 404
    missing = cinder(admin, "GET", "/group_types/default", version="3.11")
    assert fault(missing, 404, "itemNotFound") == "Default group type can not be found."
    bs.delete_group_type(made)
    with pytest.raises(exc.NotFoundException):
        bs.get_group_type(made.id)


def test_a_group_holds_volumes_of_its_types(demo, alt, setup):
    group_type, volume_type, group = setup
    bs = demo.block_storage
    shown = bs.get_group(group.id)
    assert shown.group_type == group_type.id and shown.volume_types == [volume_type.id]
    assert group.id in {g.id for g in bs.groups()}
    with pytest.raises(exc.NotFoundException):
        alt.block_storage.get_group(group.id)
    member = bs.create_volume(name=unique("member"), size=1, group_id=group.id, volume_type=volume_type.id)
    member = bs.wait_for_status(member, "available", **WAIT)
    assert bs.get_volume(member).group_id == group.id
    listed = cinder(demo, "GET", f"/groups/{group.id}?list_volume=true", version="3.25").json()["group"]
    assert listed["volumes"] == [member.id]
    alone = cinder(demo, "DELETE", f"/volumes/{member.id}")
    assert "belong to a group" in fault(alone, 400, "badRequest")
    loose = bs.wait_for_status(bs.create_volume(name=unique("loose"), size=1), "available", **WAIT)
    bs.update_group(group.id, name="renamed", add_volumes=loose.id)
    assert bs.get_volume(loose).group_id == group.id and bs.get_group(group.id).name == "renamed"
    bs.update_group(group.id, remove_volumes=loose.id)
    assert bs.get_volume(loose).group_id is None
    refused = cinder(demo, "POST", f"/groups/{group.id}/action", version="3.13", json={"delete": {}})
    assert "The delete-volumes flag is required" in fault(refused, 400, "badRequest")
    bs.delete_group(group, delete_volumes=True)
    bs.wait_for_delete(group, **WAIT)
    bs.wait_for_delete(member, **WAIT)
    assert bs.get_volume(loose).status == "available"
    bs.delete_volume(loose)


def test_group_snapshots_and_a_group_made_from_one(demo, admin, setup):
    _, volume_type, group = setup
    bs = demo.block_storage
    volumes = [
        bs.wait_for_status(
            bs.create_volume(name=unique("m"), size=1, group_id=group.id, volume_type=volume_type.id),
            "available",
            **WAIT,
        )
        for _ in range(2)
    ]
    snap = bs.create_group_snapshot(name=unique("gs"), group_id=group.id)
    snap = bs.wait_for_status(bs.get_group_snapshot(snap.id), "available", **WAIT)
    members = cinder(demo, "GET", "/snapshots/detail", version="3.14").json()
    mine = [s for s in members["snapshots"] if s["group_snapshot_id"] == snap.id]
    assert {s["volume_id"] for s in mine} == {v.id for v in volumes} and all(s["status"] == "available" for s in mine)
    single = cinder(demo, "DELETE", f"/snapshots/{mine[0]['id']}")
    assert "must not be part of a group" in fault(single, 400, "badRequest")
    busy = cinder(demo, "POST", f"/groups/{group.id}/action", version="3.13", json={"delete": {"delete-volumes": True}})
    assert fault(busy, 400, "badRequest") == "Invalid Group: Group has existing snapshots."
    copy = bs.create_group_from_source(group_snapshot_id=snap.id, source_group_id=None, name=unique("copy"))
    copy = bs.wait_for_status(bs.get_group(copy.id), "available", **WAIT)
    copies = [v for v in bs.volumes() if v.group_id == copy.id]
    assert len(copies) == 2
    for volume in copies:
        bs.wait_for_status(volume, "available", **WAIT)
    denied = cinder(
        demo, "POST", f"/group_snapshots/{snap.id}/action", version="3.19", json={"reset_status": {"status": "error"}}
    )
    assert denied.status_code == 403
    reset = cinder(
        admin,
        "POST",
        f"/group_snapshots/{snap.id}/action",
        project=False,
        version="3.19",
        json={"reset_status": {"status": "error"}},
    )
    assert reset.status_code == 202 and bs.get_group_snapshot(snap.id).status == "error"
    bs.delete_group_snapshot(snap)
    bs.wait_for_delete(snap, **WAIT)
    assert not [s for s in bs.snapshots() if s.id in {m["id"] for m in mine}]
    for made in (copy, group):
        bs.delete_group(made, delete_volumes=True)
        bs.wait_for_delete(made, **WAIT)


def test_group_checks(demo, setup):
    _, _, group = setup
    other = cinder(
        demo,
        "POST",
        "/groups",
        version="3.13",
        json={"group": {"group_type": "default_cgsnapshot_type", "volume_types": ["__DEFAULT__"]}},
    )
    assert "reserved for migrating CGs" in fault(other, 400, "badRequest")
    no_types = cinder(demo, "POST", "/groups", version="3.13", json={"group": {"group_type": "x"}})
    assert fault(no_types, 400, "badRequest").endswith("'volume_types' is a required property")
    early = cinder(demo, "GET", "/groups", version="3.12")
    assert early.status_code == 404
    wrong_type = cinder(
        demo,
        "POST",
        "/volumes",
        version="3.13",
        json={"volume": {"size": 1, "group_id": group.id, "volume_type": "nope"}},
    )
    assert wrong_type.status_code == 404
