"""Cinder's REST API as clients see it on the wire: discovery, URLs, microversions, lists, actions, errors."""

from __future__ import annotations

import requests
from volume_helpers import cinder, fault, make_volume, unique, wait_for, wait_gone

SERVER = "5f3c1b2a-1111-4222-8333-444455556666"


def test_discovery_and_catalog(sim, demo):
    root = requests.get(f"{sim.url}/volume/", timeout=10)
    assert root.status_code == 300
    (version,) = root.json()["versions"]
    assert (version["id"], version["status"], version["min_version"], version["version"]) == (
        "v3.0",
        "CURRENT",
        "3.0",
        "3.70",
    )
    v3 = requests.get(f"{sim.url}/volume/v3", timeout=10)
    assert v3.status_code == 200 and v3.json()["versions"][0]["id"] == "v3.0"
    catalog = {entry["type"]: entry for entry in demo.session.auth.get_access(demo.session).service_catalog.catalog}
    block = {e["interface"]: e["url"] for e in catalog["block-storage"]["endpoints"]}
    legacy = {e["interface"]: e["url"] for e in catalog["volumev3"]["endpoints"]}
    assert block["public"] == f"{sim.url}/volume/v3"
    assert legacy["public"] == f"{sim.url}/volume/v3/{demo.current_project_id}"


def test_microversion_negotiation(demo):
    plain = cinder(demo, "GET", "/volumes")
    assert plain.headers["OpenStack-API-Version"] == "volume 3.0"
    latest = cinder(demo, "GET", "/volumes", version="latest")
    assert latest.headers["OpenStack-API-Version"] == "volume 3.70"
    too_new = cinder(demo, "GET", "/volumes", version="3.71")
    assert too_new.status_code == 406
    assert "Version 3.71 is not supported by the API. Minimum is 3.0 and maximum is 3.70." in too_new.text
    early = cinder(demo, "GET", "/attachments", version="3.26")
    assert fault(early, 404, "itemNotFound")


def test_project_id_in_the_path(demo, admin):
    volume = make_volume(demo)
    with_project = cinder(demo, "GET", f"/volumes/{volume['id']}")
    without = cinder(demo, "GET", f"/volumes/{volume['id']}", project=False)
    assert with_project.status_code == without.status_code == 200
    assert with_project.json()["volume"]["id"] == without.json()["volume"]["id"]
    base = demo.block_storage.get_endpoint().rstrip("/")
    for conn, project in ((demo, admin.current_project_id), (admin, demo.current_project_id)):
        wrong = requests.get(f"{base}/{project}/volumes", headers={"X-Auth-Token": conn.auth_token}, timeout=10)
        assert fault(wrong, 400, "badRequest") == "Malformed request url"
    cinder(demo, "DELETE", f"/volumes/{volume['id']}")


def test_volume_views(demo, admin):
    volume = make_volume(demo, size=1, metadata={"k": "v"}, description="d")
    old = cinder(demo, "GET", f"/volumes/{volume['id']}").json()["volume"]
    assert old["bootable"] == "false" and old["metadata"] == {"k": "v"} and old["attachments"] == []
    assert old["os-vol-tenant-attr:tenant_id"] == demo.current_project_id
    assert "volume_type_id" not in old and "os-vol-host-attr:host" not in old
    new = cinder(demo, "GET", f"/volumes/{volume['id']}", version="3.70").json()["volume"]
    assert new["volume_type"] == "__DEFAULT__" and new["volume_type_id"]
    assert new["consumes_quota"] is True and new["shared_targets"] is False and new["group_id"] is None
    as_admin = cinder(admin, "GET", f"/volumes/{volume['id']}", version="3.70").json()["volume"]
    assert as_admin["os-vol-host-attr:host"].startswith("stacksim@lvm#pool-")
    summary = cinder(demo, "GET", "/volumes").json()["volumes"]
    mine = next(v for v in summary if v["id"] == volume["id"])
    assert set(mine) == {"id", "name", "links"}
    cinder(demo, "DELETE", f"/volumes/{volume['id']}")


def test_lists_sort_page_filter(demo):
    tag = unique("page")
    made = [make_volume(demo, name=f"{tag}-{c}", metadata={"tag": tag}) for c in "cab"]
    by_name = cinder(demo, "GET", f"/volumes/detail?metadata={{'tag':'{tag}'}}&sort=name:asc").json()["volumes"]
    assert [v["name"] for v in by_name] == [f"{tag}-a", f"{tag}-b", f"{tag}-c"]
    old_style = cinder(demo, "GET", f"/volumes?name~={tag}&sort_key=name&sort_dir=desc", version="3.34").json()
    assert [v["name"] for v in old_style["volumes"]] == [f"{tag}-c", f"{tag}-b", f"{tag}-a"]
    first = cinder(demo, "GET", f"/volumes?name~={tag}&sort=name:asc&limit=2", version="3.45").json()
    assert [v["name"] for v in first["volumes"]] == [f"{tag}-a", f"{tag}-b"]
    assert "count" not in first
    (link,) = first["volumes_links"]
    assert link["rel"] == "next" and f"marker={by_name[1]['id']}" in link["href"]
    rest = requests.get(
        link["href"], headers={"X-Auth-Token": demo.auth_token, "OpenStack-API-Version": "volume 3.45"}, timeout=10
    ).json()
    assert [v["name"] for v in rest["volumes"]] == [f"{tag}-c"] and "volumes_links" not in rest
    counted = cinder(demo, "GET", f"/volumes?name~={tag}&limit=1&with_count=true", version="3.45").json()
    assert counted["count"] == 3 and len(counted["volumes"]) == 1
    offset = cinder(demo, "GET", f"/volumes?name~={tag}&sort=name:asc&offset=1&limit=1", version="3.34").json()
    assert [v["name"] for v in offset["volumes"]] == [f"{tag}-b"]
    exact = cinder(demo, "GET", f"/volumes?name={tag}-b&status=available").json()["volumes"]
    assert [v["name"] for v in exact] == [f"{tag}-b"]
    missing = cinder(demo, "GET", "/volumes?marker=00000000-0000-0000-0000-000000000000")
    assert fault(missing, 404, "itemNotFound") == "Volume 00000000-0000-0000-0000-000000000000 could not be found."
    bad = cinder(demo, "GET", "/volumes?frobnicate=1")
    assert (
        fault(bad, 400, "badRequest")
        == "Invalid input received: Invalid filters frobnicate are found in query options."
    )
    for volume in made:
        cinder(demo, "DELETE", f"/volumes/{volume['id']}")


def test_create_checks(demo):
    zero = cinder(demo, "POST", "/volumes", json={"volume": {"size": 0}})
    assert fault(zero, 400, "badRequest").startswith("Invalid input received: Invalid volume size provided")
    zone = cinder(demo, "POST", "/volumes", json={"volume": {"size": 1, "availability_zone": "mars"}})
    assert fault(zone, 400, "badRequest") == "Availability zone 'mars' is invalid."
    kind = cinder(demo, "POST", "/volumes", json={"volume": {"size": 1, "volume_type": "no-such-type"}})
    assert fault(kind, 404, "itemNotFound") == "Volume type with name no-such-type could not be found."
    strict = cinder(demo, "POST", "/volumes", version="3.53", json={"volume": {"size": 1, "colour": "red"}})
    assert "Additional properties are not allowed" in fault(strict, 400, "badRequest")
    gone = cinder(demo, "GET", "/volumes/00000000-0000-0000-0000-000000000001")
    assert fault(gone, 404, "itemNotFound") == "Volume 00000000-0000-0000-0000-000000000001 could not be found."
    snap = cinder(demo, "POST", "/volumes", json={"volume": {"snapshot_id": "nope"}})
    assert fault(snap, 404, "itemNotFound") == "Snapshot nope could not be found."


def test_unschedulable_volume_goes_to_error_with_a_message(demo, admin):
    bs = admin.block_storage
    nowhere = bs.create_type(name=unique("nowhere"), extra_specs={"volume_backend_name": "ceph"})
    try:
        response = cinder(demo, "POST", "/volumes", json={"volume": {"size": 1, "volume_type": nowhere.id}})
        volume_id = response.json()["volume"]["id"]
        failed = wait_for(demo, "volumes", volume_id, ("error", "available"))
        assert failed["status"] == "error"
        messages = cinder(demo, "GET", f"/messages?resource_uuid={volume_id}", version="3.3").json()["messages"]
        (message,) = messages
        assert message["user_message"].startswith(
            "schedule allocate volume: Could not find any available weighted backend."
        )
        assert message["resource_type"] == "VOLUME" and message["message_level"] == "ERROR"
        assert cinder(demo, "DELETE", f"/volumes/{volume_id}").status_code == 202
        wait_gone(demo, "volumes", volume_id)
    finally:
        bs.delete_type(nowhere)


def test_metadata_and_image_metadata(demo):
    volume = make_volume(demo, metadata={"a": "1"})
    path = f"/volumes/{volume['id']}"
    assert cinder(demo, "POST", f"{path}/metadata", json={"metadata": {"b": "2"}}).json() == {
        "metadata": {"a": "1", "b": "2"}
    }
    assert cinder(demo, "PUT", f"{path}/metadata", json={"metadata": {"c": "3"}}).json() == {"metadata": {"c": "3"}}
    assert cinder(demo, "GET", f"{path}/metadata/c").json() == {"meta": {"c": "3"}}
    mismatch = cinder(demo, "PUT", f"{path}/metadata/c", json={"meta": {"d": "4"}})
    assert fault(mismatch, 400, "badRequest") == "Request body and URI mismatch"
    assert cinder(demo, "DELETE", f"{path}/metadata/c").status_code == 200
    missing = cinder(demo, "GET", f"{path}/metadata/c")
    assert fault(missing, 404, "itemNotFound") == f"Volume {volume['id']} has no metadata with key c."

    action = f"{path}/action"
    shown = cinder(demo, "POST", action, json={"os-set_image_metadata": {"metadata": {"hw_disk_bus": "scsi"}}})
    assert shown.json() == {"metadata": {"hw_disk_bus": "scsi"}}
    assert cinder(demo, "POST", action, json={"os-show_image_metadata": None}).json() == {
        "metadata": {"hw_disk_bus": "scsi"}
    }
    assert cinder(demo, "POST", action, json={"os-unset_image_metadata": {"key": "hw_disk_bus"}}).status_code == 200
    assert cinder(demo, "POST", action, json={"os-show_image_metadata": None}).json() == {"metadata": {}}
    unknown = cinder(demo, "POST", action, json={"os-frobnicate": {}})
    assert fault(unknown, 400, "badRequest") == "There is no such action: os-frobnicate"
    cinder(demo, "DELETE", path)


def test_admin_actions(demo, admin):
    volume = make_volume(demo)
    action = f"/volumes/{volume['id']}/action"
    denied = cinder(demo, "POST", action, json={"os-reset_status": {"status": "error"}})
    assert fault(denied, 403, "forbidden") == (
        "Policy doesn't allow volume_extension:volume_admin_actions:reset_status to be performed."
    )
    bad = cinder(
        admin,
        "POST",
        f"/volumes/{volume['id']}/action",
        project=False,
        json={"os-reset_status": {"status": "sideways"}},
    )
    assert fault(bad, 400, "badRequest") == "Must specify a valid status"
    ok = cinder(
        admin,
        "POST",
        f"/volumes/{volume['id']}/action",
        project=False,
        json={"os-reset_status": {"status": "maintenance"}},
    )
    assert ok.status_code == 202
    refused = cinder(demo, "DELETE", f"/volumes/{volume['id']}")
    assert "Volume status must be available or error" in fault(refused, 400, "badRequest")
    forced = cinder(admin, "POST", f"/volumes/{volume['id']}/action", project=False, json={"os-force_delete": None})
    assert forced.status_code == 202
    wait_gone(demo, "volumes", volume["id"])


def test_legacy_attach_actions(demo):
    volume = make_volume(demo)
    action = f"/volumes/{volume['id']}/action"

    def status() -> str:
        return cinder(demo, "GET", f"/volumes/{volume['id']}").json()["volume"]["status"]

    assert cinder(demo, "POST", action, json={"os-reserve": None}).status_code == 202
    assert status() == "attaching"
    assert cinder(demo, "POST", action, json={"os-unreserve": None}).status_code == 202
    assert status() == "available"
    connector = {"host": "compute-1", "initiator": "iqn.example:1"}
    info = cinder(demo, "POST", action, json={"os-initialize_connection": {"connector": connector}}).json()
    assert info["connection_info"]["driver_volume_type"] == "local"
    assert info["connection_info"]["data"]["access_mode"] == "rw"
    cinder(demo, "POST", action, json={"os-reserve": None})
    attach = {"os-attach": {"instance_uuid": SERVER, "mountpoint": "/dev/vdc", "mode": "rw"}}
    assert cinder(demo, "POST", action, json=attach).status_code == 202
    shown = cinder(demo, "GET", f"/volumes/{volume['id']}").json()["volume"]
    assert shown["status"] == "in-use"
    (attachment,) = shown["attachments"]
    assert attachment["server_id"] == SERVER and attachment["device"] == "/dev/vdc"
    again = cinder(demo, "POST", action, json={"os-reserve": None})
    assert fault(again, 400, "badRequest") == (
        "Invalid volume: Volume status must be available to reserve, but the status is in-use."
    )
    in_use = cinder(demo, "DELETE", f"/volumes/{volume['id']}")
    assert fault(in_use, 400, "badRequest") == (
        "Invalid volume: Volume status must be available or error or error_restoring or error_extending or "
        "error_managing and must not be migrating, attached, belong to a group, have snapshots or be "
        "disassociated from snapshots after volume transfer."
    )
    plain = cinder(demo, "POST", "/snapshots", json={"snapshot": {"volume_id": volume["id"]}})
    assert fault(plain, 400, "badRequest") == (
        f"Invalid volume: Volume {volume['id']} status must be available, but current status is: in-use."
    )
    forced = cinder(demo, "POST", "/snapshots", json={"snapshot": {"volume_id": volume["id"], "force": True}})
    assert forced.status_code == 202
    snap_id = forced.json()["snapshot"]["id"]
    wait_for(demo, "snapshots", snap_id, ("available",))
    no_force = cinder(
        demo, "POST", "/snapshots", version="3.66", json={"snapshot": {"volume_id": volume["id"], "force": False}}
    )
    assert "the 'force' flag is invalid" in fault(no_force, 400, "badRequest")
    assert cinder(demo, "POST", action, json={"os-begin_detaching": None}).status_code == 202
    assert status() == "detaching"
    assert cinder(demo, "POST", action, json={"os-roll_detaching": None}).status_code == 202
    assert status() == "in-use"
    cinder(demo, "POST", action, json={"os-begin_detaching": None})
    detach = {"os-detach": {"attachment_id": attachment["attachment_id"]}}
    assert cinder(demo, "POST", action, json=detach).status_code == 202
    assert status() == "available"
    cinder(demo, "POST", action, json={"os-terminate_connection": {"connector": connector}})
    cinder(demo, "DELETE", f"/snapshots/{snap_id}")
    wait_gone(demo, "snapshots", snap_id)
    cinder(demo, "DELETE", f"/volumes/{volume['id']}")


def test_multiattach_needs_the_type(demo, admin):
    shared = admin.block_storage.create_type(name=unique("shared"), extra_specs={"multiattach": "<is> True"})
    try:
        volume = make_volume(demo, volume_type=shared.name)
        assert cinder(demo, "GET", f"/volumes/{volume['id']}").json()["volume"]["multiattach"] is True
        ids = []
        for n in (1, 2):
            body = {
                "attachment": {
                    "volume_uuid": volume["id"],
                    "instance_uuid": f"{SERVER[:-1]}{n}",
                    "connector": {"host": f"compute-{n}"},
                }
            }
            made = cinder(demo, "POST", "/attachments", version="3.54", json=body).json()["attachment"]
            assert made["status"] == "attaching" and made["connection_info"]["driver_volume_type"] == "local"
            assert (
                cinder(
                    demo, "POST", f"/attachments/{made['id']}/action", version="3.54", json={"os-complete": made["id"]}
                ).status_code
                == 204
            )
            ids.append(made["id"])
        shown = cinder(demo, "GET", f"/volumes/{volume['id']}").json()["volume"]
        assert shown["status"] == "in-use" and len(shown["attachments"]) == 2
        listed = cinder(demo, "GET", f"/attachments?volume_id={volume['id']}", version="3.54").json()["attachments"]
        assert {a["id"] for a in listed} == set(ids)
        left = cinder(demo, "DELETE", f"/attachments/{ids[0]}", version="3.54").json()["attachments"]
        assert [a["id"] for a in left] == [ids[1]]
        assert cinder(demo, "GET", f"/volumes/{volume['id']}").json()["volume"]["status"] == "in-use"
        cinder(demo, "DELETE", f"/attachments/{ids[1]}", version="3.54")
        assert cinder(demo, "GET", f"/volumes/{volume['id']}").json()["volume"]["status"] == "available"
        gone = cinder(demo, "GET", f"/attachments/{ids[1]}", version="3.54")
        assert fault(gone, 404, "itemNotFound") == (
            f"Volume attachment could not be found with filter: attachment_id = {ids[1]}."
        )
        cinder(demo, "DELETE", f"/volumes/{volume['id']}")
        wait_gone(demo, "volumes", volume["id"])
    finally:
        admin.block_storage.delete_type(shared)


def test_snapshot_metadata_and_update(demo):
    volume = make_volume(demo)
    made = cinder(
        demo, "POST", "/snapshots", json={"snapshot": {"volume_id": volume["id"], "name": "s", "metadata": {"x": "1"}}}
    )
    snap = wait_for(demo, "snapshots", made.json()["snapshot"]["id"], ("available",))
    assert snap["os-extended-snapshot-attributes:progress"] == "100%" and snap["user_id"]
    path = f"/snapshots/{snap['id']}"
    renamed = cinder(demo, "PUT", path, json={"snapshot": {"name": "renamed"}}).json()["snapshot"]
    assert renamed["name"] == "renamed"
    assert cinder(demo, "POST", f"{path}/metadata", json={"metadata": {"y": "2"}}).json() == {
        "metadata": {"x": "1", "y": "2"}
    }
    listed = cinder(demo, "GET", f"/snapshots/detail?volume_id={volume['id']}").json()["snapshots"]
    assert [s["id"] for s in listed] == [snap["id"]]
    cinder(demo, "DELETE", path)
    wait_gone(demo, "snapshots", snap["id"])
    cinder(demo, "DELETE", f"/volumes/{volume['id']}")
