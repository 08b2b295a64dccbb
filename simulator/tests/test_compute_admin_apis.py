"""Host aggregates and zones, migrations, usage reports, the extension list, and Nova's image and
floating-IP-pool proxies, through openstacksdk and raw calls."""

from __future__ import annotations

import datetime
import time
import uuid

from compute_http import fault, nova

from stacksim.services.image.bootstrap import DEFAULT_IMAGE_NAME


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def test_aggregates_and_their_zone(admin, demo):
    name = _name("agg")
    aggregate = admin.compute.create_aggregate(name=name, availability_zone="az-x")
    assert aggregate.availability_zone == "az-x"
    fault(nova(admin, "POST", "/os-aggregates", json={"aggregate": {"name": name}}), 409, "conflictingRequest")
    admin.compute.add_host_to_aggregate(aggregate, "stacksim")
    conflict = nova(admin, "POST", f"/os-aggregates/{aggregate.id}/action", json={"add_host": {"host": "stacksim"}})
    fault(conflict, 409, "conflictingRequest")
    unknown = nova(admin, "POST", f"/os-aggregates/{aggregate.id}/action", json={"add_host": {"host": "elsewhere"}})
    fault(unknown, 404, "itemNotFound")
    zones = [z["zoneName"] for z in nova(demo, "GET", "/os-availability-zone").json()["availabilityZoneInfo"]]
    assert zones == ["az-x"]
    server = demo.compute.create_server(
        name=_name("z"),
        image_id=demo.image.find_image(DEFAULT_IMAGE_NAME).id,
        flavor_id="1",
        networks="none",
        availability_zone="az-x",
    )
    assert demo.compute.get_server(server.id).availability_zone == "az-x"
    shown = nova(admin, "GET", f"/os-aggregates/{aggregate.id}", "2.41").json()["aggregate"]
    assert shown["hosts"] == ["stacksim"] and shown["metadata"] == {"availability_zone": "az-x"} and shown["uuid"]
    admin.compute.set_aggregate_metadata(aggregate, {"ssd": "true"})
    admin.compute.set_aggregate_metadata(aggregate, {"ssd": None})
    assert admin.compute.get_aggregate(aggregate.id).metadata == {"availability_zone": "az-x"}
    fault(nova(admin, "DELETE", f"/os-aggregates/{aggregate.id}"), 400, "badRequest")  # not empty
    demo.compute.delete_server(server.id)
    demo.compute.wait_for_delete(server, wait=30)
    admin.compute.remove_host_from_aggregate(aggregate, "stacksim")
    admin.compute.delete_aggregate(aggregate)
    fault(nova(admin, "GET", f"/os-aggregates/{aggregate.id}"), 404, "itemNotFound")
    fault(nova(admin, "GET", "/os-aggregates/x"), 400, "badRequest")
    fault(nova(demo, "GET", "/os-aggregates"), 403, "forbidden")


def test_migrations_are_none(admin, demo):
    assert nova(admin, "GET", "/os-migrations").json() == {"migrations": []}
    assert nova(admin, "GET", "/os-migrations?limit=1", "2.59").json() == {"migrations": []}
    fault(nova(admin, "GET", "/os-migrations?changes-since=no", "2.59"), 400, "badRequest")
    fault(nova(demo, "GET", "/os-migrations"), 403, "forbidden")


def test_usage_counts_live_and_deleted_servers(admin, demo, alt):
    image = demo.image.find_image(DEFAULT_IMAGE_NAME)
    start = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 3600))
    kept = demo.compute.create_server(name=_name("u1"), image_id=image.id, flavor_id="1", networks="none")
    gone = demo.compute.create_server(name=_name("u2"), image_id=image.id, flavor_id="2", networks="none")
    demo.compute.wait_for_server(kept, wait=30)
    demo.compute.delete_server(gone.id)
    demo.compute.wait_for_delete(gone, wait=30)
    project = demo.current_project_id
    usage = nova(demo, "GET", f"/os-simple-tenant-usage/{project}?start={start}").json()["tenant_usage"]
    by_id = {u["instance_id"]: u for u in usage["server_usages"]}
    assert by_id[kept.id]["state"] == "active" and by_id[kept.id]["ended_at"] is None
    assert by_id[gone.id]["state"] == "terminated" and by_id[gone.id]["flavor"] == "m1.small"
    assert usage["tenant_id"] == project and usage["total_hours"] > 0
    sdk = demo.get_compute_usage(project, datetime.datetime.utcnow() - datetime.timedelta(hours=1))
    assert sdk.project_id == project and sdk.total_hours > 0  # what `openstack usage show` calls
    fault(nova(demo, "GET", "/os-simple-tenant-usage"), 403, "forbidden")
    listed = nova(admin, "GET", f"/os-simple-tenant-usage?start={start}&detailed=1").json()["tenant_usages"]
    assert project in [u["tenant_id"] for u in listed]
    fault(nova(alt, "GET", f"/os-simple-tenant-usage/{project}"), 403, "forbidden")
    backwards = f"/os-simple-tenant-usage/{project}?start=2030-01-01T00:00:00&end=2020-01-01T00:00:00"
    fault(nova(demo, "GET", backwards), 400, "badRequest")
    fault(nova(demo, "GET", f"/os-simple-tenant-usage/{project}?start=yesterday"), 400, "badRequest")


def test_extensions(demo):
    extensions = {e.alias: e for e in demo.compute.extensions()}
    assert {"os-shelve", "os-rescue", "os-aggregates", "os-instance-actions"} <= set(extensions)
    shown = nova(demo, "GET", "/extensions/os-shelve").json()["extension"]
    assert shown["name"] == "Shelve"
    fault(nova(demo, "GET", "/extensions/os-nothing"), 404, "itemNotFound")


def test_image_proxy_until_2_35(demo):
    image = demo.image.find_image(DEFAULT_IMAGE_NAME)
    listed = nova(demo, "GET", "/images/detail").json()["images"]
    mine = next(i for i in listed if i["id"] == image.id)
    assert mine["status"] == "ACTIVE" and mine["progress"] == 100 and mine["OS-EXT-IMG-SIZE:size"] == image.size
    assert [i["id"] for i in nova(demo, "GET", f"/images?name={image.name}").json()["images"]] == [image.id]
    fault(nova(demo, "GET", "/images", "2.36"), 404, "itemNotFound")
    own = demo.image.create_image(name=_name("own"), disk_format="raw", container_format="bare", data=b"x")
    path = f"/images/{own.id}/metadata"
    assert nova(demo, "POST", path, json={"metadata": {"color": "red"}}).json()["metadata"]["color"] == "red"
    assert nova(demo, "GET", f"{path}/color").json() == {"meta": {"color": "red"}}
    assert nova(demo, "DELETE", f"{path}/color").status_code == 204
    fault(nova(demo, "GET", f"{path}/color"), 404, "itemNotFound")
    assert nova(demo, "DELETE", f"/images/{own.id}").status_code == 204
    fault(nova(demo, "GET", f"/images/{own.id}"), 404, "itemNotFound")


def test_floating_ip_pools(demo):
    pools = nova(demo, "GET", "/os-floating-ip-pools").json()["floating_ip_pools"]
    assert {"name": "public"} in pools
    assert [p["name"] for p in demo.list_floating_ip_pools()] == [p["name"] for p in pools]
    fault(nova(demo, "GET", "/os-floating-ip-pools", "2.36"), 404, "itemNotFound")
