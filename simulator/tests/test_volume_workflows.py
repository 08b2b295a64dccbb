"""Block storage workflows through Cinder's API (what the CLI tests checked, without the CLI's start-up cost):
the life of a volume, set and unset, reset-state, types, QoS and pools, type access, backups, quotas."""

from __future__ import annotations

from volume_helpers import cinder, fault, make_volume, unique, wait_for, wait_gone

DELETE_REFUSED = (
    "Invalid volume: Volume status must be available or error or error_restoring or error_extending or "
    "error_managing and must not be migrating, attached, belong to a group, have snapshots or be "
    "disassociated from snapshots after volume transfer."
)


def _post(conn, path: str, body: dict, status: int = 202, **kwargs) -> dict:
    resp = cinder(conn, "POST", path, version="3.70", json=body, **kwargs)
    assert resp.status_code == status, resp.text
    return resp.json() if resp.content else {}


def _action(conn, volume_id: str, body: dict):
    return cinder(conn, "POST", f"/volumes/{volume_id}/action", version="3.70", json=body)


def _show(conn, volume_id: str) -> dict:
    return cinder(conn, "GET", f"/volumes/{volume_id}", version="3.70").json()["volume"]


def test_volume_life(demo):
    v1 = make_volume(demo, size=2, metadata={"team": "blue"})
    assert v1["size"] == 2 and v1["volume_type"] == "__DEFAULT__" and v1["bootable"] == "false"
    assert v1["availability_zone"] == "nova" and v1["metadata"] == {"team": "blue"}

    assert _action(demo, v1["id"], {"os-extend": {"new_size": 4}}).status_code == 202
    assert wait_for(demo, "volumes", v1["id"], ("available",))["size"] == 4
    shrink = _action(demo, v1["id"], {"os-extend": {"new_size": 1}})
    assert shrink.status_code == 400

    snap = _post(demo, "/snapshots", {"snapshot": {"volume_id": v1["id"], "name": unique("s1")}})["snapshot"]
    snap = wait_for(demo, "snapshots", snap["id"], ("available",))
    assert snap["size"] == 4 and snap["volume_id"] == v1["id"]

    v2 = make_volume(demo, size=None, snapshot_id=snap["id"])
    assert v2["snapshot_id"] == snap["id"] and v2["size"] == 4
    v3 = make_volume(demo, size=None, source_volid=v1["id"])
    assert v3["source_volid"] == v1["id"] and v3["size"] == 4

    listed = cinder(demo, "GET", "/volumes").json()["volumes"]
    assert {v1["id"], v2["id"], v3["id"]} <= {v["id"] for v in listed}

    assert fault(cinder(demo, "DELETE", f"/volumes/{v1['id']}"), 400, "badRequest") == DELETE_REFUSED
    assert cinder(demo, "DELETE", f"/volumes/{v1['id']}", params={"cascade": "true"}).status_code == 202
    wait_gone(demo, "volumes", v1["id"])
    wait_gone(demo, "snapshots", snap["id"])
    for volume in (v2, v3):
        assert cinder(demo, "DELETE", f"/volumes/{volume['id']}").status_code == 202
        wait_gone(demo, "volumes", volume["id"])


def test_volume_set_and_unset(demo):
    volume = make_volume(demo)
    renamed = unique("renamed")
    body = {"volume": {"name": renamed, "description": "scratch", "metadata": {"k": "v"}}}
    assert cinder(demo, "PUT", f"/volumes/{volume['id']}", version="3.70", json=body).status_code == 200
    shown = _show(demo, volume["id"])
    assert shown["name"] == renamed and shown["description"] == "scratch" and shown["metadata"] == {"k": "v"}
    assert _action(demo, volume["id"], {"os-set_bootable": {"bootable": True}}).status_code == 200
    assert _show(demo, volume["id"])["bootable"] == "true"
    assert cinder(demo, "DELETE", f"/volumes/{volume['id']}/metadata/k").status_code == 200
    assert _show(demo, volume["id"])["metadata"] == {}
    image_meta = {"os-set_image_metadata": {"metadata": {"os_distro": "cirros"}}}
    assert _action(demo, volume["id"], image_meta).status_code == 200
    assert _show(demo, volume["id"])["volume_image_metadata"] == {"os_distro": "cirros"}
    unset = _action(demo, volume["id"], {"os-unset_image_metadata": {"key": "os_distro"}})
    assert unset.status_code == 200
    assert not _show(demo, volume["id"]).get("volume_image_metadata")
    assert cinder(demo, "DELETE", f"/volumes/{volume['id']}").status_code == 202
    wait_gone(demo, "volumes", volume["id"])


def test_reset_state_is_for_admins(demo, admin):
    volume = make_volume(demo)
    denied = _action(demo, volume["id"], {"os-reset_status": {"status": "error"}})
    assert fault(denied, 403, "forbidden") == (
        "Policy doesn't allow volume_extension:volume_admin_actions:reset_status to be performed."
    )
    # the admin, in its own project's path, acts on the member's volume
    done = _action(admin, volume["id"], {"os-reset_status": {"status": "error"}})
    assert done.status_code == 202, done.text
    assert _show(demo, volume["id"])["status"] == "error"
    assert cinder(demo, "DELETE", f"/volumes/{volume['id']}").status_code == 202
    wait_gone(demo, "volumes", volume["id"])


def test_types_qos_and_pools(admin, demo):
    fast, qos = unique("fast"), unique("qos")
    specs = {"volume_backend_name": "lvm", "pool_name": "pool-a"}
    created = _post(admin, "/types", {"volume_type": {"name": fast, "extra_specs": specs}}, 200)["volume_type"]
    assert created["name"] == fast and created["extra_specs"] == specs
    denied = cinder(demo, "POST", "/types", json={"volume_type": {"name": unique("nope")}})
    assert fault(denied, 403, "forbidden") == "Policy doesn't allow volume_extension:type_create to be performed."

    spec = _post(
        admin, "/qos-specs", {"qos_specs": {"name": qos, "consumer": "front-end", "read_iops_sec": "500"}}, 200
    )
    qos_id = spec["qos_specs"]["id"]
    associate = cinder(admin, "GET", f"/qos-specs/{qos_id}/associate", params={"vol_type_id": created["id"]})
    assert associate.status_code == 202, associate.text
    shown = cinder(admin, "GET", f"/qos-specs/{qos_id}").json()["qos_specs"]
    assert shown["consumer"] == "front-end" and shown["specs"] == {"read_iops_sec": "500"}
    associations = cinder(admin, "GET", f"/qos-specs/{qos_id}/associations").json()["qos_associations"]
    assert [a["name"] for a in associations] == [fast]
    update = cinder(admin, "PUT", f"/qos-specs/{qos_id}", json={"qos_specs": {"write_iops_sec": "100"}})
    assert update.status_code == 200
    specs_now = cinder(admin, "GET", f"/qos-specs/{qos_id}").json()["qos_specs"]["specs"]
    assert specs_now == {"read_iops_sec": "500", "write_iops_sec": "100"}
    unset = cinder(admin, "PUT", f"/qos-specs/{qos_id}/delete_keys", json={"keys": ["write_iops_sec"]})
    assert unset.status_code == 202
    assert cinder(admin, "GET", f"/qos-specs/{qos_id}").json()["qos_specs"]["specs"] == {"read_iops_sec": "500"}
    busy = cinder(admin, "DELETE", f"/qos-specs/{qos_id}")
    assert busy.status_code == 400 and "is still associated with entities" in busy.text

    volume = make_volume(demo, volume_type=fast)
    admin_view = _show(admin, volume["id"])
    assert admin_view["os-vol-host-attr:host"] == "stacksim@lvm#pool-a" and admin_view["volume_type"] == fast
    assert _show(demo, volume["id"]).get("os-vol-host-attr:host") is None

    pools = cinder(admin, "GET", "/scheduler-stats/get_pools").json()["pools"]
    assert {p["name"] for p in pools} == {"stacksim@lvm#pool-a", "stacksim@lvm#pool-b"}

    in_use = cinder(admin, "DELETE", f"/types/{created['id']}")
    assert in_use.status_code == 400 and "deletion is not allowed with volumes present with the type" in in_use.text
    assert cinder(demo, "DELETE", f"/volumes/{volume['id']}").status_code == 202
    wait_gone(demo, "volumes", volume["id"])
    gone = cinder(admin, "GET", f"/qos-specs/{qos_id}/disassociate", params={"vol_type_id": created["id"]})
    assert gone.status_code == 202
    assert cinder(admin, "DELETE", f"/qos-specs/{qos_id}").status_code == 202
    assert cinder(admin, "DELETE", f"/types/{created['id']}").status_code == 202


def test_private_type_access(admin, alt):
    private = _post(
        admin, "/types", {"volume_type": {"name": unique("private"), "os-volume-type-access:is_public": False}}, 200
    )
    type_id = private["volume_type"]["id"]

    def visible_to_alt() -> bool:
        return type_id in {t["id"] for t in cinder(alt, "GET", "/types").json()["volume_types"]}

    assert not visible_to_alt()
    add = {"addProjectAccess": {"project": alt.current_project_id}}
    assert cinder(admin, "POST", f"/types/{type_id}/action", json=add).status_code == 202
    assert visible_to_alt()
    access = cinder(admin, "GET", f"/types/{type_id}/os-volume-type-access").json()["volume_type_access"]
    assert [a["project_id"] for a in access] == [alt.current_project_id]
    remove = {"removeProjectAccess": {"project": alt.current_project_id}}
    assert cinder(admin, "POST", f"/types/{type_id}/action", json=remove).status_code == 202
    assert not visible_to_alt()


def test_backup_and_restore(demo):
    volume = make_volume(demo)
    backup = _post(demo, "/backups", {"backup": {"volume_id": volume["id"], "name": unique("bk")}})["backup"]
    shown = wait_for(demo, "backups", backup["id"], ("available",))
    assert shown["size"] == 1 and shown["container"] == "volumebackups"
    assert _show(demo, volume["id"])["status"] == "available"
    assert backup["id"] in {b["id"] for b in cinder(demo, "GET", "/backups").json()["backups"]}

    restored_name = unique("restored")
    result = _post(demo, f"/backups/{backup['id']}/restore", {"restore": {"name": restored_name}})["restore"]
    assert result["volume_name"] == restored_name
    assert wait_for(demo, "volumes", result["volume_id"], ("available",))["size"] == 1
    assert wait_for(demo, "backups", backup["id"], ("available",))["status"] == "available"

    assert cinder(demo, "DELETE", f"/backups/{backup['id']}").status_code == 202
    wait_gone(demo, "backups", backup["id"])
    for volume_id in (volume["id"], result["volume_id"]):
        assert cinder(demo, "DELETE", f"/volumes/{volume_id}").status_code == 202
        wait_gone(demo, "volumes", volume_id)


def test_quota_and_limits(admin, alt):
    project = alt.current_project_id
    quotas = cinder(alt, "GET", f"/os-quota-sets/{project}").json()["quota_set"]
    assert quotas["volumes"] == 10 and quotas["gigabytes"] == 1000 and quotas["snapshots"] == 10
    body = {"quota_set": {"volumes": 3, "gigabytes": 5}}
    assert cinder(admin, "PUT", f"/os-quota-sets/{project}", json=body).status_code == 200
    quotas = cinder(alt, "GET", f"/os-quota-sets/{project}").json()["quota_set"]
    assert quotas["volumes"] == 3 and quotas["gigabytes"] == 5
    big = cinder(alt, "POST", "/volumes", json={"volume": {"size": 6, "name": unique("big")}})
    assert fault(big, 413, "overLimit") == (
        "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. "
        "Requested 6G, quota is 5G and 0G has been consumed."
    )
    denied = cinder(alt, "PUT", f"/os-quota-sets/{project}", json={"quota_set": {"volumes": 50}})
    assert fault(denied, 403, "forbidden") == "Policy doesn't allow volume_extension:quotas:update to be performed."
    assert cinder(admin, "DELETE", f"/os-quota-sets/{project}").status_code == 200
    limits = cinder(alt, "GET", "/limits").json()["limits"]["absolute"]
    assert limits["maxTotalVolumes"] == 10 and limits["maxTotalVolumeGigabytes"] == 1000
    assert limits["maxTotalSnapshots"] == 10 and limits["maxTotalBackups"] == 10
    assert {"totalVolumesUsed", "totalGigabytesUsed", "totalSnapshotsUsed"} <= set(limits)
