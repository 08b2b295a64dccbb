"""Block storage through the ``openstack`` CLI as shipped: the life of a volume, types, QoS, backups."""

from __future__ import annotations

import time

from volume_helpers import unique

DELETE_REFUSED = (
    "Invalid volume: Volume status must be available or error or error_restoring or error_extending or "
    "error_managing and must not be migrating, attached, belong to a group, have snapshots or be "
    "disassociated from snapshots after volume transfer."
)


def _wait(cli, kind: str, name: str, status: str = "available", cloud: str = "stacksim", timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        shown = cli.json(*kind.split(), "show", name, cloud=cloud)
        if shown["status"] == status:
            return shown
        assert shown["status"] not in ("error", "error_extending"), shown
        assert time.monotonic() < deadline, f"{kind} {name} stuck in {shown['status']}"
        time.sleep(0.2)


def _gone(cli, kind: str, name: str, cloud: str = "stacksim", timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while cli.run(*kind.split(), "show", name, cloud=cloud, check=False).returncode == 0:
        assert time.monotonic() < deadline, f"{kind} {name} was not deleted"
        time.sleep(0.2)


def test_cli_volume_life(cli):
    v1, v2, v3, s1 = unique("v1"), unique("v2"), unique("v3"), unique("s1")
    created = cli.json("volume", "create", "--size", "2", "--property", "team=blue", v1)
    assert created["size"] == 2 and created["name"] == v1
    shown = _wait(cli, "volume", v1)
    assert shown["type"] == "__DEFAULT__" and shown["bootable"] is False
    assert shown["availability_zone"] == "nova" and shown["properties"] == {"team": "blue"}

    cli.run("volume", "set", "--size", "4", v1)
    assert _wait(cli, "volume", v1)["size"] == 4
    shrink = cli.run("volume", "set", "--size", "1", v1, check=False)
    assert shrink.returncode != 0

    cli.json("volume", "snapshot", "create", "--volume", v1, s1)
    snap = _wait(cli, "volume snapshot", s1)
    assert snap["size"] == 4 and snap["volume_id"] == shown["id"]

    cli.json("volume", "create", "--snapshot", s1, v2)
    from_snap = _wait(cli, "volume", v2)
    assert from_snap["snapshot_id"] == snap["id"] and from_snap["size"] == 4
    cli.json("volume", "create", "--source", v1, v3)
    clone = _wait(cli, "volume", v3)
    assert clone["source_volid"] == shown["id"] and clone["size"] == 4

    names = {v["Name"] for v in cli.json("volume", "list")}
    assert {v1, v2, v3} <= names

    refused = cli.run("volume", "delete", v1, check=False)
    assert refused.returncode != 0
    assert DELETE_REFUSED in refused.stderr

    cli.run("volume", "delete", "--cascade", v1)
    _gone(cli, "volume", v1)
    _gone(cli, "volume snapshot", s1)
    cli.run("volume", "delete", v2, v3)
    _gone(cli, "volume", v2)
    _gone(cli, "volume", v3)


def test_cli_volume_set_and_unset(cli):
    name = unique("vol")
    cli.json("volume", "create", "--size", "1", name)
    _wait(cli, "volume", name)
    renamed = unique("renamed")
    cli.run("volume", "set", "--name", renamed, "--description", "scratch", "--property", "k=v", name)
    shown = cli.json("volume", "show", renamed)
    assert shown["description"] == "scratch" and shown["properties"] == {"k": "v"}
    cli.run("volume", "set", "--bootable", renamed)
    assert cli.json("volume", "show", renamed)["bootable"] is True
    cli.run("volume", "unset", "--property", "k", renamed)
    assert cli.json("volume", "show", renamed)["properties"] == {}
    cli.run("volume", "set", "--image-property", "os_distro=cirros", renamed)
    assert cli.json("volume", "show", renamed)["volume_image_metadata"] == {"os_distro": "cirros"}
    cli.run("volume", "unset", "--image-property", "os_distro", renamed)
    cli.run("volume", "delete", renamed)
    _gone(cli, "volume", renamed)


def test_cli_reset_state_is_for_admins(cli):
    name = unique("vol")
    cli.json("volume", "create", "--size", "1", name)
    _wait(cli, "volume", name)
    denied = cli.run("volume", "set", "--state", "error", name, check=False)
    assert denied.returncode != 0
    assert "Policy doesn't allow volume_extension:volume_admin_actions:reset_status to be performed." in denied.stderr
    volume_id = cli.json("volume", "show", name)["id"]
    cli.run("volume", "set", "--state", "error", volume_id, cloud="stacksim-admin")
    assert cli.json("volume", "show", name)["status"] == "error"
    cli.run("volume", "delete", name)
    _gone(cli, "volume", name)


def test_cli_types_qos_and_pools(cli):
    fast, qos = unique("fast"), unique("qos")
    created = cli.json(
        "volume",
        "type",
        "create",
        "--property",
        "volume_backend_name=lvm",
        "--property",
        "pool_name=pool-a",
        fast,
        cloud="stacksim-admin",
    )
    assert created["name"] == fast
    assert created["properties"] == {"volume_backend_name": "lvm", "pool_name": "pool-a"}
    denied = cli.run("volume", "type", "create", unique("nope"), check=False)
    assert "Policy doesn't allow volume_extension:type_create to be performed." in denied.stderr

    cli.json(
        "volume",
        "qos",
        "create",
        "--consumer",
        "front-end",
        "--property",
        "read_iops_sec=500",
        qos,
        cloud="stacksim-admin",
    )
    cli.run("volume", "qos", "associate", qos, fast, cloud="stacksim-admin")
    shown = cli.json("volume", "qos", "show", qos, cloud="stacksim-admin")
    assert shown["consumer"] == "front-end" and shown["properties"] == {"read_iops_sec": "500"}
    assert shown["associations"] == [fast]
    cli.run("volume", "qos", "set", "--property", "write_iops_sec=100", qos, cloud="stacksim-admin")
    assert cli.json("volume", "qos", "show", qos, cloud="stacksim-admin")["properties"] == {
        "read_iops_sec": "500",
        "write_iops_sec": "100",
    }
    cli.run("volume", "qos", "unset", "--property", "write_iops_sec", qos, cloud="stacksim-admin")
    assert cli.json("volume", "qos", "show", qos, cloud="stacksim-admin")["properties"] == {"read_iops_sec": "500"}
    busy = cli.run("volume", "qos", "delete", qos, cloud="stacksim-admin", check=False)
    assert busy.returncode != 0 and "is still associated with entities" in busy.stderr

    vol = unique("fastvol")
    cli.json("volume", "create", "--size", "1", "--type", fast, vol)
    volume_id = _wait(cli, "volume", vol)["id"]
    admin_view = cli.json("volume", "show", volume_id, cloud="stacksim-admin")
    assert admin_view["os-vol-host-attr:host"] == "stacksim@lvm#pool-a"
    assert admin_view["type"] == fast
    assert cli.json("volume", "show", vol).get("os-vol-host-attr:host") is None

    pools = {p["Name"] for p in cli.json("volume", "backend", "pool", "list", cloud="stacksim-admin")}
    assert pools == {"stacksim@lvm#pool-a", "stacksim@lvm#pool-b"}

    in_use = cli.run("volume", "type", "delete", fast, cloud="stacksim-admin", check=False)
    assert in_use.returncode != 0 and "deletion is not allowed with volumes present with the type" in in_use.stderr
    cli.run("volume", "delete", vol)
    _gone(cli, "volume", vol)
    cli.run("volume", "qos", "disassociate", "--volume-type", fast, qos, cloud="stacksim-admin")
    cli.run("volume", "qos", "delete", qos, cloud="stacksim-admin")
    cli.run("volume", "type", "delete", fast, cloud="stacksim-admin")


def test_cli_private_type_access(cli, connect):
    private = unique("private")
    alt = connect("stacksim-alt")
    cli.run("volume", "type", "create", "--private", private, cloud="stacksim-admin")
    try:
        assert private not in {t["Name"] for t in cli.json("volume", "type", "list", cloud="stacksim-alt")}
        cli.run("volume", "type", "set", "--project", alt.current_project_id, private, cloud="stacksim-admin")
        assert private in {t["Name"] for t in cli.json("volume", "type", "list", cloud="stacksim-alt")}
        shown = cli.json("volume", "type", "show", private, cloud="stacksim-admin")
        assert alt.current_project_id in str(shown["access_project_ids"])
        cli.run("volume", "type", "unset", "--project", alt.current_project_id, private, cloud="stacksim-admin")
        assert private not in {t["Name"] for t in cli.json("volume", "type", "list", cloud="stacksim-alt")}
    finally:
        cli.run("volume", "type", "delete", private, cloud="stacksim-admin")


def test_cli_backup_and_restore(cli):
    vol, backup, restored = unique("vol"), unique("bk"), unique("restored")
    cli.json("volume", "create", "--size", "1", vol)
    _wait(cli, "volume", vol)
    cli.json("volume", "backup", "create", "--name", backup, vol)
    shown = _wait(cli, "volume backup", backup)
    assert shown["size"] == 1 and shown["container"] == "volumebackups"
    assert _wait(cli, "volume", vol)["status"] == "available"
    assert backup in {b["Name"] for b in cli.json("volume", "backup", "list")}

    result = cli.json("volume", "backup", "restore", backup, restored)
    assert result["volume_name"] == restored
    assert _wait(cli, "volume", restored)["size"] == 1
    assert _wait(cli, "volume backup", backup)["status"] == "available"

    cli.run("volume", "backup", "delete", backup)
    _gone(cli, "volume backup", backup)
    cli.run("volume", "delete", vol, restored)
    _gone(cli, "volume", vol)
    _gone(cli, "volume", restored)


def test_cli_quota_and_limits(cli, connect):
    alt = connect("stacksim-alt")
    rows = {r["Resource"]: r["Limit"] for r in cli.json("quota", "show", "--volume", cloud="stacksim-alt")}
    assert rows["volumes"] == 10 and rows["gigabytes"] == 1000 and rows["snapshots"] == 10
    try:
        cli.run("quota", "set", "--volumes", "3", "--gigabytes", "5", "alt_demo", cloud="stacksim-admin")
        rows = {r["Resource"]: r["Limit"] for r in cli.json("quota", "show", "--volume", cloud="stacksim-alt")}
        assert rows["volumes"] == 3 and rows["gigabytes"] == 5
        big = cli.run("volume", "create", "--size", "6", unique("big"), cloud="stacksim-alt", check=False)
        assert big.returncode != 0
        assert (
            "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. "
            "Requested 6G, quota is 5G and 0G has been consumed."
        ) in big.stderr
        denied = cli.run("quota", "set", "--volumes", "50", alt.current_project_id, cloud="stacksim-alt", check=False)
        assert "Policy doesn't allow volume_extension:quotas:update to be performed." in denied.stderr
    finally:
        cli.run("quota", "delete", "--volume", "alt_demo", cloud="stacksim-admin")
    limits = {r["Name"]: r["Value"] for r in cli.json("limits", "show", "--absolute", cloud="stacksim-alt")}
    assert limits["max_total_volumes"] == 10 and limits["max_total_volume_gigabytes"] == 1000  # openstacksdk's names
    assert limits["max_total_snapshots"] == 10 and limits["max_total_backups"] == 10
    assert {"total_volumes_used", "total_gigabytes_used", "total_snapshots_used"} <= set(limits)
