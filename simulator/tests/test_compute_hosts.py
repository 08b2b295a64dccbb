"""The compute host: availability zones, hypervisors and Nova services, admin against member."""

from __future__ import annotations

import pytest
from compute_http import fault, nova


def test_availability_zones(admin, demo):
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
    assert "nova-compute" in by_zone["nova"]["hosts"]["stacksim"]  # what `zone list --compute --long` shows


def test_hypervisor_list_for_admin_and_403_for_member(admin, demo):
    (row,) = nova(admin, "GET", "/os-hypervisors/detail", version="2.88").json()["hypervisors"]
    assert row["hypervisor_hostname"] == "stacksim" and row["state"] == "up" and row["hypervisor_type"] == "fake"
    denied = nova(demo, "GET", "/os-hypervisors/detail", version="2.88")
    assert fault(denied, 403, "forbidden") == (
        "Policy doesn't allow os_compute_api:os-hypervisors:list-detail to be performed."
    )
    shown = nova(admin, "GET", f"/os-hypervisors/{row['id']}", version="2.88").json()["hypervisor"]
    assert shown["id"] == row["id"] and shown["service"]["host"] == "stacksim" and shown["status"] == "enabled"


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


def test_services_list_and_disable(admin, demo):
    def services(**params) -> list[dict]:
        return nova(admin, "GET", "/os-services", version="2.53", params=params).json()["services"]

    def zone_state() -> bool:
        (zone,) = nova(demo, "GET", "/os-availability-zone").json()["availabilityZoneInfo"]
        return zone["zoneState"]["available"]

    rows = services()
    assert {(r["binary"], r["zone"]) for r in rows} == {
        ("nova-scheduler", "internal"),
        ("nova-conductor", "internal"),
        ("nova-compute", "nova"),
    }
    assert all(r["host"] == "stacksim" and r["state"] == "up" and r["status"] == "enabled" for r in rows)
    denied = nova(demo, "GET", "/os-services")
    assert fault(denied, 403, "forbidden") == "Policy doesn't allow os_compute_api:os-services:list to be performed."
    (compute,) = services(binary="nova-compute")
    body = {"status": "disabled", "disabled_reason": "maintenance"}
    assert nova(admin, "PUT", f"/os-services/{compute['id']}", version="2.53", json=body).status_code == 200
    (compute,) = services(binary="nova-compute")
    assert compute["status"] == "disabled" and compute["disabled_reason"] == "maintenance"
    assert zone_state() is False
    (hypervisor,) = nova(admin, "GET", "/os-hypervisors/detail", version="2.88").json()["hypervisors"]
    assert hypervisor["state"] == "up"
    enable = {"status": "enabled"}
    assert nova(admin, "PUT", f"/os-services/{compute['id']}", version="2.53", json=enable).status_code == 200
    assert zone_state() is True


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


def test_creates_see_the_hosts_service_and_zone_as_they_are_now(admin, demo):
    """What a create reads of the host (kept between creates) follows every change of the compute
    service and of the aggregates."""
    from stacksim.services.image.bootstrap import DEFAULT_IMAGE_NAME

    image = demo.image.find_image(DEFAULT_IMAGE_NAME).id

    def create(name: str) -> dict:
        server = demo.compute.create_server(name=name, image_id=image, flavor_id="1", networks="none")
        return nova(demo, "GET", f"/servers/{server.id}").json()["server"]

    def gone() -> None:
        for server in demo.compute.servers(name="host-cache"):
            demo.compute.delete_server(server.id)
            demo.compute.wait_for_delete(server, wait=30)

    first = create("host-cache-1")  # the host's answers read (and kept)
    assert first["status"] == "ACTIVE" and first["OS-EXT-AZ:availability_zone"] == "nova"
    services = nova(admin, "GET", "/os-services", version="2.53", params={"binary": "nova-compute"}).json()
    compute_id = services["services"][0]["id"]
    body = {"status": "disabled", "disabled_reason": "cache test"}
    assert nova(admin, "PUT", f"/os-services/{compute_id}", version="2.53", json=body).status_code == 200
    refused = create("host-cache-2")
    assert refused["status"] == "ERROR" and "No valid host was found" in refused["fault"]["message"]
    enable = {"status": "enabled"}
    assert nova(admin, "PUT", f"/os-services/{compute_id}", version="2.53", json=enable).status_code == 200
    assert create("host-cache-3")["status"] == "ACTIVE"
    gone()  # (a host with servers joins no zone)
    aggregate = admin.compute.create_aggregate(name="host-cache-agg", availability_zone="az-cache")
    admin.compute.add_host_to_aggregate(aggregate, "stacksim")
    assert create("host-cache-4")["OS-EXT-AZ:availability_zone"] == "az-cache"
    gone()
    admin.compute.remove_host_from_aggregate(aggregate, "stacksim")
    admin.compute.delete_aggregate(aggregate)
    assert create("host-cache-5")["OS-EXT-AZ:availability_zone"] == "nova"
