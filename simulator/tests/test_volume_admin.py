"""Block Storage's transfers, default types, resource filters, encryption types, quota classes,
hosts and services (freeze and thaw), and the attributes only some callers see."""

from __future__ import annotations

import pytest
from openstack import exceptions as exc
from volume_helpers import cinder, fault, make_volume, unique, wait_gone

WAIT = {"interval": 0.2, "wait": 30}


def test_a_transfer_moves_a_volume_to_the_project_that_accepts_it(demo, alt):
    volume = make_volume(demo, name=unique("gift"))
    made = cinder(
        demo,
        "POST",
        "/volume-transfers",
        version="3.57",
        json={"transfer": {"volume_id": volume["id"], "name": "gift"}},
    )
    assert made.status_code == 202
    transfer = made.json()["transfer"]
    assert len(transfer["auth_key"]) == 16 and transfer["no_snapshots"] is False and transfer["accepted"] is False
    assert cinder(demo, "GET", f"/volumes/{volume['id']}").json()["volume"]["status"] == "awaiting-transfer"
    listed = cinder(demo, "GET", "/volume-transfers/detail", version="3.55").json()["transfers"]
    assert [t["id"] for t in listed] == [transfer["id"]] and "auth_key" not in listed[0]
    assert cinder(alt, "GET", f"/volume-transfers/{transfer['id']}", version="3.55").status_code == 404
    wrong = cinder(
        alt,
        "POST",
        f"/volume-transfers/{transfer['id']}/accept",
        version="3.55",
        json={"accept": {"auth_key": "x" * 16}},
    )
    assert "invalid auth key" in fault(wrong, 400, "badRequest")
    accepted = cinder(
        alt,
        "POST",
        f"/volume-transfers/{transfer['id']}/accept",
        version="3.55",
        json={"accept": {"auth_key": transfer["auth_key"]}},
    )
    assert accepted.status_code == 202 and accepted.json()["transfer"]["volume_id"] == volume["id"]
    moved = cinder(alt, "GET", f"/volumes/{volume['id']}").json()["volume"]
    assert moved["status"] == "available" and moved["os-vol-tenant-attr:tenant_id"] == alt.current_project_id
    assert cinder(demo, "GET", f"/volumes/{volume['id']}").status_code == 404
    assert cinder(demo, "GET", "/volume-transfers", version="3.55").json()["transfers"] == []
    cinder(alt, "DELETE", f"/volumes/{volume['id']}")
    wait_gone(alt, "volumes", volume["id"])


def test_a_withdrawn_transfer_frees_the_volume(demo):
    bs = demo.block_storage
    volume = bs.wait_for_status(bs.create_volume(name=unique("kept"), size=1), "available", **WAIT)
    transfer = bs.create_transfer(volume_id=volume.id, name="kept")
    assert transfer.auth_key
    old_api = cinder(demo, "GET", f"/os-volume-transfer/{transfer.id}")
    assert old_api.status_code == 200 and "no_snapshots" not in old_api.json()["transfer"]
    busy = cinder(demo, "POST", "/volume-transfers", version="3.55", json={"transfer": {"volume_id": volume.id}})
    assert fault(busy, 400, "badRequest") == "Invalid volume: status must be available"
    bs.delete_transfer(transfer.id)
    assert bs.get_volume(volume).status == "available"
    bs.delete_volume(volume)


def test_default_types_per_project(admin, demo):
    bs = admin.block_storage
    kind = bs.create_type(name=unique("dflt"))
    project = demo.current_project_id
    path = f"/default-types/{project}"
    assert cinder(admin, "GET", path, version="3.62", project=False).status_code == 404
    denied = cinder(demo, "PUT", path, version="3.62", project=False, json={"default_type": {"volume_type": kind.name}})
    assert denied.status_code == 403
    early = cinder(admin, "PUT", path, version="3.61", project=False, json={"default_type": {"volume_type": kind.name}})
    assert early.status_code == 404
    unknown = cinder(
        admin,
        "PUT",
        "/default-types/no-such-project",
        version="3.62",
        project=False,
        json={"default_type": {"volume_type": kind.name}},
    )
    assert unknown.status_code == 404
    set_ = cinder(admin, "PUT", path, version="3.62", project=False, json={"default_type": {"volume_type": kind.name}})
    assert set_.json() == {"default_type": {"project_id": project, "volume_type_id": kind.id}}
    assert {"project_id": project, "volume_type_id": kind.id} in cinder(
        admin, "GET", "/default-types", version="3.62", project=False
    ).json()["default_types"]
    volume = make_volume(demo)
    assert cinder(demo, "GET", f"/volumes/{volume['id']}", version="3.70").json()["volume"]["volume_type_id"] == kind.id
    assert cinder(demo, "GET", "/types/default").json()["volume_type"]["id"] == kind.id
    in_use = cinder(admin, "DELETE", f"/types/{kind.id}", project=False)
    assert "is a default volume type and cannot be deleted" in fault(in_use, 400, "badRequest")
    assert cinder(admin, "DELETE", path, version="3.62", project=False).status_code == 204
    assert make_volume(demo)["volume_type"] == "__DEFAULT__"


def test_resource_filters_are_what_members_may_filter_by(demo):
    listed = {f.resource: f.filters for f in demo.block_storage.resource_filters()}
    assert "name" in listed["volume"] and listed["backup"] == ["name", "status", "volume_id"]
    only = cinder(demo, "GET", "/resource_filters?resource=snapshot", version="3.33").json()["resource_filters"]
    assert [f["resource"] for f in only] == ["snapshot"]
    assert cinder(demo, "GET", "/resource_filters", version="3.32").status_code == 404


def test_encryption_types(admin, demo):
    bs = admin.block_storage
    kind = bs.create_type(name=unique("enc"))
    assert cinder(admin, "GET", f"/types/{kind.id}/encryption", project=False).json() == {}
    spec = {"provider": "luks", "cipher": "aes-xts-plain64", "key_size": 256, "control_location": "front-end"}
    made = bs.create_type_encryption(kind, **spec)
    assert made.provider == "luks" and made.key_size == 256
    shown = cinder(admin, "GET", f"/types/{kind.id}/encryption", project=False).json()
    assert shown["volume_type_id"] == kind.id and shown["encryption_id"] and shown["cipher"] == "aes-xts-plain64"
    assert cinder(admin, "GET", f"/types/{kind.id}/encryption/cipher", project=False).json() == {
        "cipher": "aes-xts-plain64"
    }
    twice = cinder(admin, "POST", f"/types/{kind.id}/encryption", project=False, json={"encryption": spec})
    assert fault(twice, 400, "badRequest") == f"Volume type encryption for type {kind.id} already exists."
    assert cinder(demo, "GET", f"/types/{kind.id}/encryption").status_code == 403
    volume = make_volume(demo, volume_type=kind.name)
    shown_volume = cinder(demo, "GET", f"/volumes/{volume['id']}", version="3.64").json()["volume"]
    assert shown_volume["encrypted"] is True and shown_volume["encryption_key_id"]
    in_use = cinder(admin, "DELETE", f"/types/{kind.id}/encryption/{shown['encryption_id']}", project=False)
    assert fault(in_use, 400, "badRequest") == "Cannot delete encryption specs. Volume type in use."
    cinder(demo, "DELETE", f"/volumes/{volume['id']}")
    wait_gone(demo, "volumes", volume["id"])
    bs.update_type_encryption(encryption=bs.get_type_encryption(kind), key_size=512)
    assert bs.get_type_encryption(kind).key_size == 512
    bs.delete_type_encryption(encryption=bs.get_type_encryption(kind))
    assert cinder(admin, "GET", f"/types/{kind.id}/encryption", project=False).json() == {}


def test_quota_classes_set_the_defaults(admin, demo):
    bs = admin.block_storage
    assert bs.get_quota_class_set("default").volumes == 10
    bs.update_quota_class_set("default", volumes=3)
    try:
        assert bs.get_quota_class_set("default").volumes == 3
        limits = cinder(demo, "GET", f"/os-quota-sets/{demo.current_project_id}").json()["quota_set"]
        assert limits["volumes"] == 3
        assert cinder(demo, "GET", "/os-quota-class-sets/default").status_code == 403
        bad = cinder(
            admin, "PUT", "/os-quota-class-sets/default", project=False, json={"quota_class_set": {"frobs": 1}}
        )
        assert fault(bad, 400, "badRequest") == "Bad key(s) in quota set: frobs"
    finally:
        bs.update_quota_class_set("default", volumes=10)


def test_hosts_and_services(admin, demo):
    volume = make_volume(demo)
    hosts = cinder(admin, "GET", "/os-hosts", project=False).json()["hosts"]
    assert {h["host_name"] for h in hosts} == {"stacksim", "stacksim@lvm"}
    usage = cinder(admin, "GET", "/os-hosts/stacksim@lvm", project=False).json()["host"]
    total = usage[0]["resource"]
    assert total["project"] == "(total)" and int(total["volume_count"]) >= 1
    assert any(r["resource"]["project"] == demo.current_project_id for r in usage[1:])
    assert cinder(demo, "GET", "/os-hosts").status_code == 403
    assert cinder(admin, "GET", "/os-hosts/nowhere", project=False).status_code == 404
    bs = admin.block_storage
    service = next(s for s in bs.services() if s.binary == "cinder-volume")
    bs.freeze_service(service)
    try:
        frozen = next(s for s in bs.services() if s.binary == "cinder-volume")
        assert frozen.is_frozen is True
        refused = cinder(demo, "DELETE", f"/volumes/{volume['id']}")
        assert fault(refused, 400, "badRequest") == (
            "Invalid input received: Modification operations are not allowed on frozen storage backends."
        )
        stuck = cinder(demo, "POST", "/volumes", json={"volume": {"size": 1}}).json()["volume"]
        assert demo.block_storage.wait_for_status(demo.block_storage.get_volume(stuck["id"]), "error", **WAIT)
        again = cinder(admin, "PUT", "/os-services/freeze", project=False, json={"host": "stacksim@lvm"})
        assert again.status_code == 400
        cinder(demo, "DELETE", f"/volumes/{stuck['id']}")
    finally:
        bs.thaw_service(service)
    assert next(s for s in bs.services() if s.binary == "cinder-volume").is_frozen is False
    disabled = cinder(
        admin,
        "PUT",
        "/os-services/disable-log-reason",
        project=False,
        json={"binary": "cinder-backup", "host": "stacksim", "disabled_reason": "maintenance"},
    )
    assert disabled.json()["disabled_reason"] == "maintenance"
    backup = next(s for s in bs.services() if s.binary == "cinder-backup")
    assert backup.status == "disabled" and backup.disabled_reason == "maintenance"
    cinder(admin, "PUT", "/os-services/enable", project=False, json={"binary": "cinder-backup", "host": "stacksim"})
    with pytest.raises(exc.ForbiddenException):
        demo.block_storage.freeze_service(service)
    cinder(demo, "DELETE", f"/volumes/{volume['id']}")


def test_who_sees_which_attributes(admin, demo, connect):
    volume = make_volume(demo)
    created = cinder(demo, "POST", "/volumes", json={"volume": {"size": 1}}).json()["volume"]
    assert "os-vol-tenant-attr:tenant_id" not in created  # a create's answer is not a show
    updated = cinder(demo, "PUT", f"/volumes/{volume['id']}", json={"volume": {"name": "n"}}).json()["volume"]
    assert "os-vol-tenant-attr:tenant_id" not in updated
    shown = cinder(demo, "GET", f"/volumes/{volume['id']}").json()["volume"]
    assert shown["os-vol-tenant-attr:tenant_id"] == demo.current_project_id
    assert "os-vol-host-attr:host" not in shown and "migration_status" not in shown
    as_admin = cinder(admin, "GET", f"/volumes/{volume['id']}", project=False).json()["volume"]
    assert as_admin["os-vol-host-attr:host"].startswith("stacksim@lvm#") and "migration_status" in as_admin
    kind = cinder(demo, "GET", "/types/default").json()["volume_type"]
    assert "qos_specs_id" not in kind and kind["os-volume-type-access:is_public"] is True
    assert "qos_specs_id" in cinder(admin, "GET", "/types/default", project=False).json()["volume_type"]
    for made in (volume, created):
        demo.block_storage.wait_for_status(demo.block_storage.get_volume(made["id"]), "available", **WAIT)
        cinder(demo, "DELETE", f"/volumes/{made['id']}")


def test_a_reader_only_looks_at_the_new_resources(demo, sim):
    """Cinder's default policy: a reader lists and shows groups and transfers but makes none."""
    import openstack

    cred = demo.identity.create_application_credential(demo.current_user_id, unique("ro"), roles=[{"name": "reader"}])
    reader = openstack.connect(
        auth_url=f"{sim.url}/identity",
        auth_type="v3applicationcredential",
        application_credential_id=cred.id,
        application_credential_secret=cred.secret,
    )
    volume = make_volume(demo)
    writes = [
        ("/volume-transfers", {"transfer": {"volume_id": volume["id"]}}, "volume:create_transfer"),
        ("/groups", {"group": {"group_type": "x", "volume_types": ["y"]}}, "group:create"),
        ("/group_snapshots", {"group_snapshot": {"group_id": "x"}}, "group:create_group_snapshot"),
    ]
    for path, body, rule in writes:
        refused = cinder(reader, "POST", path, version="3.70", json=body)
        assert fault(refused, 403, "forbidden") == f"Policy doesn't allow {rule} to be performed.", path
    for path in ("/volume-transfers", "/groups", "/group_snapshots", "/volumes/detail"):
        assert cinder(reader, "GET", path, version="3.70").status_code == 200, path
    cinder(demo, "DELETE", f"/volumes/{volume['id']}")
