"""The compute host: availability zones, hypervisors and Nova services, admin against member."""

from __future__ import annotations

import pytest
from compute_http import fault, nova


def test_availability_zones(cli, admin, demo):
    zones = cli.json("availability", "zone", "list", "--compute")
    assert zones == [{"Zone Name": "nova", "Zone Status": "available"}]
    body = nova(demo, "GET", "/os-availability-zone").json()
    assert body == {"availabilityZoneInfo": [{"zoneName": "nova", "zoneState": {"available": True}, "hosts": None}]}
    detail = nova(admin, "GET", "/os-availability-zone/detail").json()["availabilityZoneInfo"]
    by_zone = {z["zoneName"]: z for z in detail}
    assert set(by_zone["internal"]["hosts"]["stacksim"]) == {"nova-scheduler", "nova-conductor"}
    assert by_zone["nova"]["hosts"]["stacksim"]["nova-compute"]["available"] is True
    denied = nova(demo, "GET", "/os-availability-zone/detail")
    assert fault(denied, 403, "forbidden") == (
        "Policy doesn't allow os_compute_api:os-availability-zone:detail to be performed."
    )
    long = cli.json("availability", "zone", "list", "--compute", "--long", cloud="stacksim-admin")
    assert {(r["Zone Name"], r["Service Name"]) for r in long} >= {("nova", "nova-compute")}


def test_hypervisor_list_for_admin_and_403_for_member(cli):
    (row,) = cli.json("hypervisor", "list", cloud="stacksim-admin")
    assert row["Hypervisor Hostname"] == "stacksim" and row["State"] == "up" and row["Hypervisor Type"] == "fake"
    denied = cli.run("hypervisor", "list", check=False)
    assert denied.returncode != 0
    assert "Policy doesn't allow os_compute_api:os-hypervisors:list-detail to be performed." in denied.stderr
    shown = cli.json("hypervisor", "show", "stacksim", cloud="stacksim-admin")
    assert shown["id"] == row["ID"] and shown["service_host"] == "stacksim" and shown["status"] == "enabled"


def test_hypervisor_shapes_by_microversion(admin):
    old = nova(admin, "GET", "/os-hypervisors/detail").json()["hypervisors"][0]
    assert old["id"] == 1 and old["service"]["id"] == 3 and isinstance(old["cpu_info"], str)
    assert old["vcpus"] >= 1 and old["memory_mb_used"] >= 512 and old["running_vms"] >= 0
    assert old["free_ram_mb"] == old["memory_mb"] - old["memory_mb_used"]
    mid = nova(admin, "GET", "/os-hypervisors/detail", version="2.53").json()["hypervisors"][0]
    assert len(mid["id"]) == 36 and isinstance(mid["cpu_info"], dict) and "uptime" not in mid
    new = nova(admin, "GET", f"/os-hypervisors/{mid['id']}", version="2.88").json()["hypervisor"]
    assert "vcpus" not in new and "cpu_info" not in new and "running_vms" not in new
    assert " up " in new["uptime"] and new["hypervisor_hostname"] == "stacksim"
    listed = nova(admin, "GET", "/os-hypervisors?with_servers=true", version="2.75").json()["hypervisors"][0]
    assert set(listed) == {"id", "hypervisor_hostname", "state", "status", "servers"}
    stats = nova(admin, "GET", "/os-hypervisors/statistics").json()["hypervisor_statistics"]
    assert stats["count"] == 1 and stats["vcpus"] == old["vcpus"]
    assert fault(nova(admin, "GET", "/os-hypervisors/nope", version="2.53"), 400, "badRequest") == "Invalid uuid nope"
    missing = nova(admin, "GET", "/os-hypervisors/99")
    assert fault(missing, 404, "itemNotFound") == "Hypervisor with ID '99' could not be found."
    nomatch = nova(admin, "GET", "/os-hypervisors?hypervisor_hostname_pattern=zzz", version="2.53")
    fault(nomatch, 404, "itemNotFound")
    legacy = nova(admin, "GET", "/os-hypervisors/stack/search").json()["hypervisors"]
    assert [h["hypervisor_hostname"] for h in legacy] == ["stacksim"]


def test_sdk_hypervisors(admin, demo):
    (hypervisor,) = list(admin.compute.hypervisors(details=True))
    assert hypervisor.name == "stacksim" and hypervisor.hypervisor_type == "fake"
    with pytest.raises(Exception, match="os-hypervisors"):
        list(demo.compute.hypervisors())


def test_services_list_and_disable(cli, demo):
    rows = cli.json("compute", "service", "list", cloud="stacksim-admin")
    assert {(r["Binary"], r["Zone"]) for r in rows} == {
        ("nova-scheduler", "internal"),
        ("nova-conductor", "internal"),
        ("nova-compute", "nova"),
    }
    assert all(r["Host"] == "stacksim" and r["State"] == "up" and r["Status"] == "enabled" for r in rows)
    denied = nova(demo, "GET", "/os-services")
    assert fault(denied, 403, "forbidden") == "Policy doesn't allow os_compute_api:os-services:list to be performed."
    try:
        cli.run("compute", "service", "set", "--disable", "--disable-reason", "maintenance", "stacksim",
                "nova-compute", cloud="stacksim-admin")  # fmt: skip
        (compute,) = cli.json("compute", "service", "list", "--service", "nova-compute", "--long",
                              cloud="stacksim-admin")  # fmt: skip
        assert compute["Status"] == "disabled" and compute["Disabled Reason"] == "maintenance"
        zones = cli.json("availability", "zone", "list", "--compute")
        assert zones == [{"Zone Name": "nova", "Zone Status": "not available"}]
        hypervisor = cli.json("hypervisor", "list", "--long", cloud="stacksim-admin")[0]
        assert hypervisor["State"] == "up"
    finally:
        cli.run("compute", "service", "set", "--enable", "stacksim", "nova-compute", cloud="stacksim-admin")
    assert cli.json("availability", "zone", "list", "--compute")[0]["Zone Status"] == "available"


def test_service_updates_by_microversion(admin):
    legacy = nova(admin, "PUT", "/os-services/disable", json={"host": "stacksim", "binary": "nova-compute"})
    assert legacy.json() == {"service": {"host": "stacksim", "binary": "nova-compute", "status": "disabled"}}
    enabled = nova(admin, "PUT", "/os-services/enable", json={"host": "stacksim", "binary": "nova-compute"})
    assert enabled.json()["service"]["status"] == "enabled"
    missing = nova(admin, "PUT", "/os-services/enable", json={"host": "elsewhere", "binary": "nova-compute"})
    assert fault(missing, 404, "itemNotFound") == "Could not find binary nova-compute on host elsewhere."
    services = nova(admin, "GET", "/os-services", version="2.53").json()["services"]
    compute = next(s for s in services if s["binary"] == "nova-compute")
    scheduler = next(s for s in services if s["binary"] == "nova-scheduler")
    try:
        down = nova(admin, "PUT", f"/os-services/{compute['id']}", version="2.53", json={"forced_down": True})
        assert down.json()["service"]["state"] == "down" and down.json()["service"]["forced_down"] is True
    finally:
        nova(admin, "PUT", f"/os-services/{compute['id']}", version="2.53", json={"forced_down": False})
    bad = nova(admin, "PUT", f"/os-services/{scheduler['id']}", version="2.53", json={"status": "disabled"})
    assert "Only nova-compute services can be updated." in fault(bad, 400, "badRequest")
    empty = nova(admin, "PUT", f"/os-services/{compute['id']}", version="2.53", json={})
    fault(empty, 400, "badRequest")
