"""Pools and quotas: capacity is accounted as volumes come, grow and go; over-full pools and
over-quota requests fail the way Cinder fails them."""

from __future__ import annotations

import pytest
from volume_helpers import cinder, fault, make_volume, unique, wait_for, wait_gone


def _pools(admin) -> dict[str, dict]:
    body = cinder(admin, "GET", "/scheduler-stats/get_pools?detail=true").json()
    return {p["capabilities"]["pool_name"]: p["capabilities"] for p in body["pools"]}


@pytest.fixture
def pinned(admin):
    """A type that lands in ``pool-a`` (100 GiB)."""
    made = admin.block_storage.create_type(
        name=unique("pool-a"), extra_specs={"volume_backend_name": "lvm", "pool_name": "pool-a"}
    )
    yield made
    admin.block_storage.delete_type(made)


def test_pool_stats_for_admins_only(admin, demo):
    pools = _pools(admin)
    assert pools["pool-a"]["total_capacity_gb"] == 100 and pools["pool-b"]["total_capacity_gb"] == 500
    for caps in pools.values():
        assert caps["free_capacity_gb"] + caps["allocated_capacity_gb"] == caps["total_capacity_gb"]
        assert caps["volume_backend_name"] == "lvm"
    names = cinder(admin, "GET", "/scheduler-stats/get_pools").json()["pools"]
    assert {p["name"] for p in names} == {"stacksim@lvm#pool-a", "stacksim@lvm#pool-b"}
    denied = cinder(demo, "GET", "/scheduler-stats/get_pools?detail=true")
    assert fault(denied, 403, "forbidden") == (
        "Policy doesn't allow scheduler_extension:scheduler_stats:get_pools to be performed."
    )


def test_capacity_follows_create_extend_delete(admin, demo, pinned):
    before = _pools(admin)["pool-a"]["allocated_capacity_gb"]
    volume = make_volume(demo, size=7, volume_type=pinned.name)
    shown = cinder(admin, "GET", f"/volumes/{volume['id']}", project=False).json()["volume"]
    assert shown["os-vol-host-attr:host"] == "stacksim@lvm#pool-a"
    assert _pools(admin)["pool-a"]["allocated_capacity_gb"] == before + 7
    cinder(demo, "POST", f"/volumes/{volume['id']}/action", json={"os-extend": {"new_size": 10}})
    wait_for(demo, "volumes", volume["id"], ("available",))
    assert _pools(admin)["pool-a"]["allocated_capacity_gb"] == before + 10
    cinder(demo, "DELETE", f"/volumes/{volume['id']}")
    wait_gone(demo, "volumes", volume["id"])
    assert _pools(admin)["pool-a"]["allocated_capacity_gb"] == before


def test_the_emptiest_pool_wins(admin, demo):
    pools = _pools(admin)
    emptiest = max(pools, key=lambda p: pools[p]["free_capacity_gb"])
    volume = make_volume(demo, size=1)
    shown = cinder(admin, "GET", f"/volumes/{volume['id']}", project=False).json()["volume"]
    assert shown["os-vol-host-attr:host"] == f"stacksim@lvm#{emptiest}"
    cinder(demo, "DELETE", f"/volumes/{volume['id']}")


def test_a_volume_that_does_not_fit_fails_and_takes_nothing(admin, demo, pinned):
    before = _pools(admin)["pool-a"]
    response = cinder(demo, "POST", "/volumes", json={"volume": {"size": 150, "volume_type": pinned.name}})
    assert response.status_code == 202
    volume_id = response.json()["volume"]["id"]
    failed = wait_for(demo, "volumes", volume_id, ("error", "available"))
    assert failed["status"] == "error"
    assert _pools(admin)["pool-a"]["allocated_capacity_gb"] == before["allocated_capacity_gb"]
    (message,) = cinder(demo, "GET", f"/messages?resource_uuid={volume_id}", version="3.3").json()["messages"]
    assert "Could not find any available weighted backend" in message["user_message"]
    assert "Insufficient free space" in message["user_message"]
    # An error volume still counts against the quota until it is deleted, as in Cinder.
    used = cinder(demo, "GET", f"/os-quota-sets/{demo.current_project_id}?usage=true").json()["quota_set"]
    assert used["gigabytes"]["in_use"] >= 150
    cinder(demo, "DELETE", f"/volumes/{volume_id}")
    wait_gone(demo, "volumes", volume_id)


def test_quota_enforcement(admin, connect):
    alt = connect("stacksim-alt")
    project = alt.current_project_id
    quota = f"/os-quota-sets/{project}"
    try:
        update = {"quota_set": {"volumes": 2, "gigabytes": 3, "snapshots": 1, "backups": 1, "backup_gigabytes": 1}}
        assert cinder(admin, "PUT", quota, project=False, json=update).status_code == 200
        first = make_volume(alt, size=1)
        too_big = cinder(alt, "POST", "/volumes", json={"volume": {"size": 3}})
        assert fault(too_big, 413, "overLimit") == (
            "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. "
            "Requested 3G, quota is 3G and 1G has been consumed."
        )
        second = make_volume(alt, size=1)
        third = cinder(alt, "POST", "/volumes", json={"volume": {"size": 1}})
        assert fault(third, 413, "overLimit") == (
            "VolumeLimitExceeded: Maximum number of volumes allowed (2) exceeded for quota 'volumes'."
        )
        grow = cinder(alt, "POST", f"/volumes/{first['id']}/action", json={"os-extend": {"new_size": 3}})
        assert fault(grow, 413, "overLimit").startswith(
            "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. "
            "Requested 2G, quota is 3G and 2G has been consumed."
        )
        snap = cinder(alt, "POST", "/snapshots", json={"snapshot": {"volume_id": first["id"]}})
        assert snap.status_code == 202
        wait_for(alt, "snapshots", snap.json()["snapshot"]["id"], ("available",))
        another = cinder(alt, "POST", "/snapshots", json={"snapshot": {"volume_id": second["id"]}})
        assert fault(another, 413, "overLimit") == (
            "SnapshotLimitExceeded: Maximum number of snapshots allowed (1) exceeded"
        )
        backup = cinder(alt, "POST", "/backups", json={"backup": {"volume_id": second["id"]}})
        assert backup.status_code == 202
        wait_for(alt, "backups", backup.json()["backup"]["id"], ("available",))
        more = cinder(alt, "POST", "/backups", json={"backup": {"volume_id": first["id"]}})
        assert fault(more, 413, "overLimit") == "BackupLimitExceeded: Maximum number of backups allowed (1) exceeded"

        usage = cinder(alt, "GET", f"{quota}?usage=true").json()["quota_set"]
        assert usage["volumes"] == {"limit": 2, "in_use": 2, "reserved": 0, "allocated": 0}
        assert usage["gigabytes"]["in_use"] == 3  # two 1 GiB volumes and a 1 GiB snapshot
        assert usage["backups"]["in_use"] == 1 and usage["backup_gigabytes"]["in_use"] == 1
        limits = cinder(alt, "GET", "/limits").json()["limits"]["absolute"]
        assert limits["maxTotalVolumes"] == 2 and limits["totalVolumesUsed"] == 2
        assert limits["totalGigabytesUsed"] == 3 and limits["totalSnapshotsUsed"] == 1
        assert limits["totalBackupsUsed"] == 1 and limits["maxTotalBackupGigabytes"] == 1

        below = cinder(admin, "PUT", quota, project=False, json={"quota_set": {"volumes": 1}})
        assert "must be equal or greater than existing resources" in fault(below, 400, "badRequest")
        denied = cinder(alt, "PUT", quota, json={"quota_set": {"volumes": 5}})
        assert fault(denied, 403, "forbidden") == "Policy doesn't allow volume_extension:quotas:update to be performed."
        other = cinder(alt, "GET", f"/os-quota-sets/{admin.current_project_id}")
        assert fault(other, 403, "forbidden") == "Policy doesn't allow volume_extension:quotas:show to be performed."

        cinder(alt, "DELETE", f"/backups/{backup.json()['backup']['id']}")
        wait_gone(alt, "backups", backup.json()["backup"]["id"])
        cinder(alt, "DELETE", f"/volumes/{first['id']}?cascade=true")
        cinder(alt, "DELETE", f"/volumes/{second['id']}")
        wait_gone(alt, "volumes", first["id"])
        wait_gone(alt, "volumes", second["id"])
    finally:
        assert cinder(admin, "DELETE", quota, project=False).status_code == 200
    defaults = cinder(alt, "GET", f"{quota}/defaults").json()["quota_set"]
    assert (defaults["volumes"], defaults["gigabytes"], defaults["snapshots"]) == (10, 1000, 10)
    assert defaults["volumes___DEFAULT__"] == -1
    assert cinder(alt, "GET", quota).json()["quota_set"]["volumes"] == 10


def test_sdk_quota_calls(admin, connect):
    alt = connect("stacksim-alt")
    quotas = admin.get_volume_quotas(alt.current_project_id)
    assert (quotas.volumes, quotas.gigabytes, quotas.snapshots, quotas.backups) == (10, 1000, 10, 10)
    try:
        admin.set_volume_quotas(alt.current_project_id, volumes=4)
        assert alt.block_storage.get_quota_set(alt.current_project_id).volumes == 4
        with_usage = alt.block_storage.get_quota_set(alt.current_project_id, usage=True)
        assert with_usage.usage["volumes"] == 0
    finally:
        admin.delete_volume_quotas(alt.current_project_id)
    assert admin.get_volume_quotas(alt.current_project_id).volumes == 10
