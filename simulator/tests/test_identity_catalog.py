"""The catalog through openstacksdk: regions, services and endpoints made, changed and deleted by
admins (the tokens' catalog following), endpoint groups and the project endpoint filter."""

from __future__ import annotations

import uuid

import openstack.exceptions as exc
import pytest


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _catalog(conn) -> list[dict]:
    return conn.identity.get("/auth/catalog").json()["catalog"]


def test_service_and_endpoints_show_in_the_catalog_until_deleted(admin, demo):
    service = admin.identity.create_service(name=_name("svc"), type="metering", description="d")
    endpoint = admin.identity.create_endpoint(
        service_id=service.id, interface="public", url="http://meter.example/v1", region_id="RegionOne"
    )
    assert endpoint.region_id == "RegionOne"
    raw = admin.identity.get(f"/endpoints/{endpoint.id}").json()["endpoint"]
    assert raw["region"] == "RegionOne" and raw["url"] == "http://meter.example/v1"
    entry = next(s for s in _catalog(demo) if s["id"] == service.id)
    assert [e["url"] for e in entry["endpoints"]] == ["http://meter.example/v1"]

    admin.identity.update_endpoint(endpoint, url="http://meter.example/v2", enabled=False)
    assert next(s for s in _catalog(demo) if s["id"] == service.id)["endpoints"] == []
    admin.identity.update_service(service, name="renamed")
    assert admin.identity.get_service(service.id).name == "renamed"

    admin.identity.delete_service(service)
    assert service.id not in {s["id"] for s in _catalog(demo)}
    with pytest.raises(exc.NotFoundException):
        admin.identity.get_endpoint(endpoint.id)  # it went with its service


def test_endpoint_checks_its_service_region_and_interface(admin):
    service = admin.identity.create_service(name=_name("svc"), type="metering")
    for body, field in (
        ({"service_id": "nope", "interface": "public", "url": "http://x"}, "service_id"),
        ({"service_id": service.id, "interface": "public", "url": "http://x", "region_id": "nope"}, "region_id"),
        ({"service_id": service.id, "interface": "sideways", "url": "http://x"}, "interface"),
    ):
        resp = admin.identity.post("/endpoints", json={"endpoint": body})
        assert resp.status_code == 400 and field in resp.json()["error"]["message"]


def test_regions_with_chosen_ids_parents_and_deletion(admin, demo):
    region = admin.identity.create_region(description="made by the SDK")
    assert region.id and region.description == "made by the SDK"
    child = admin.identity.put(f"/regions/{_name('child')}", json={"region": {"parent_region_id": region.id}})
    assert child.status_code == 201
    child_id = child.json()["region"]["id"]
    assert admin.identity.post("/regions", json={"region": {"id": child_id}}).status_code == 409
    assert {r.id for r in demo.identity.regions()} >= {"RegionOne", region.id, child_id}  # anyone may read

    service = admin.identity.create_service(name=_name("svc"), type="metering")
    endpoint = admin.identity.create_endpoint(
        service_id=service.id, interface="public", url="http://x", region_id=child_id
    )
    assert admin.identity.delete(f"/regions/{region.id}").status_code == 403  # a child has an endpoint
    admin.identity.delete_endpoint(endpoint)
    admin.identity.delete_region(region)
    assert admin.identity.get(f"/regions/{child_id}").status_code == 404  # the children go too
    assert demo.identity.post("/regions", json={"region": {}}).status_code == 403


def test_members_may_not_read_or_change_services(demo):
    assert demo.identity.get("/services").status_code == 403
    assert demo.identity.post("/services", json={"service": {"type": "x"}}).status_code == 403
    assert demo.identity.get("/endpoints").status_code == 403


def test_endpoint_groups_filter_a_projects_catalog(admin, demo):
    service = admin.identity.create_service(name=_name("svc"), type="metering")
    public = admin.identity.create_endpoint(service_id=service.id, interface="public", url="http://public")
    admin.identity.create_endpoint(service_id=service.id, interface="internal", url="http://internal")
    group = admin.identity.create_endpoint_group(name=_name("eg"), filters={"interface": "public"})
    assert group.description is None and group.filters == {"interface": "public"}
    admin.identity.update_endpoint_group(group, filters={"interface": "public", "service_id": service.id})
    assert [e.id for e in admin.identity.endpoint_group_endpoints(group)] == [public.id]
    assert (
        admin.identity.post(
            "/OS-EP-FILTER/endpoint_groups", json={"endpoint_group": {"name": "bad", "filters": {"url": "x"}}}
        ).status_code
        == 400
    )

    project = demo.current_project_id
    admin.identity.associate_project_with_endpoint_group(group, project)
    assert [g.id for g in admin.identity.project_endpoint_groups(project)] == [group.id]
    # The demo project now sees only the endpoints of its endpoint groups.
    catalog = _catalog(demo)
    assert [e["id"] for s in catalog for e in s["endpoints"]] == [public.id]
    admin.identity.disassociate_project_from_endpoint_group(group, project)
    assert len([e for s in _catalog(demo) for e in s["endpoints"]]) > 1

    admin.identity.delete_endpoint_group(group)
    with pytest.raises(exc.NotFoundException):
        admin.identity.get_endpoint_group(group.id)


def test_a_project_endpoint_association_filters_too(admin, demo):
    identity = next(admin.identity.services(type="identity"))
    endpoint = next(e for e in admin.identity.endpoints(service_id=identity.id) if e.interface == "public")
    path = f"/OS-EP-FILTER/projects/{demo.current_project_id}/endpoints/{endpoint.id}"
    assert admin.identity.get(path).status_code == 404
    assert admin.identity.put(path).status_code == 204
    assert admin.identity.get(path).status_code == 204
    assert [e["id"] for s in _catalog(demo) for e in s["endpoints"]] == [endpoint.id]
    projects = admin.identity.get(f"/OS-EP-FILTER/endpoints/{endpoint.id}/projects").json()["projects"]
    assert [p["id"] for p in projects] == [demo.current_project_id]
    assert admin.identity.delete(path).status_code == 204
