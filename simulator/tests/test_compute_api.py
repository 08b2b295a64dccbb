"""Nova's API as a whole: catalog, discovery, microversion negotiation and the fault format."""

from __future__ import annotations

import requests
from compute_http import fault, nova


def test_catalog_has_compute_at_v21(demo, sim):
    endpoint = demo.compute.get_endpoint()
    assert endpoint == f"{sim.url}/compute/v2.1"
    root = requests.get(f"{sim.url}/compute", timeout=10).json()
    current = next(v for v in root["versions"] if v["id"] == "v2.1")
    assert (current["min_version"], current["version"]) == ("2.1", "2.96")


def test_no_header_is_the_minimum_and_latest_is_the_maximum(demo):
    response = nova(demo, "GET", "/flavors")
    assert response.status_code == 200
    assert response.headers["OpenStack-API-Version"] == "compute 2.1"
    assert response.headers["X-OpenStack-Nova-API-Version"] == "2.1"
    latest = nova(demo, "GET", "/flavors", version="latest")
    assert latest.headers["OpenStack-API-Version"] == "compute 2.96"
    assert latest.headers["X-OpenStack-Nova-API-Version"] == "2.96"
    assert "OpenStack-API-Version" in latest.headers["Vary"]
    # what the version changes: descriptions from 2.55
    assert "description" not in response.json()["flavors"][0]
    assert "description" in latest.json()["flavors"][0]


def test_legacy_header_is_honoured(demo):
    response = nova(demo, "GET", "/flavors", headers={"X-OpenStack-Nova-API-Version": "2.55"})
    assert response.headers["X-OpenStack-Nova-API-Version"] == "2.55"
    assert response.headers["OpenStack-API-Version"] == "compute 2.55"


def test_unsupported_version_is_406_with_novas_message(demo):
    message = fault(nova(demo, "GET", "/flavors", version="2.200"), 406, "computeFault")
    assert message == "Version 2.200 is not supported by the API. Minimum is 2.1 and maximum is 2.96."
    fault(nova(demo, "GET", "/flavors", version="1.9"), 406, "computeFault")


def test_malformed_version_is_400(demo):
    message = fault(nova(demo, "GET", "/flavors", version="2.x"), 400, "badRequest")
    assert "invalid format" in message


def test_fault_bodies_and_statuses(demo):
    message = fault(nova(demo, "GET", "/flavors/nope"), 404, "itemNotFound")
    assert message == "Flavor nope could not be found."
    message = fault(nova(demo, "GET", "/os-hypervisors"), 403, "forbidden")
    assert message == "Policy doesn't allow os_compute_api:os-hypervisors:list to be performed."
    fault(nova(demo, "POST", "/os-keypairs", json={"keypair": {}}), 400, "badRequest")
    fault(nova(demo, "GET", "/no-such-thing"), 404, "itemNotFound")
    fault(nova(demo, "PATCH", "/flavors"), 405, "badMethod")
    response = requests.get(demo.compute.get_endpoint() + "/flavors", timeout=10)
    fault(response, 401, "unauthorized")


def test_a_method_newer_than_the_request_is_404(admin):
    # PUT /flavors/{id} (description) exists from 2.55 only
    response = nova(admin, "PUT", "/flavors/1", version="2.54", json={"flavor": {"description": "x"}})
    fault(response, 404, "itemNotFound")
    # GET /os-hypervisors/statistics is gone from 2.88
    assert nova(admin, "GET", "/os-hypervisors/statistics", version="2.87").status_code == 200
    fault(nova(admin, "GET", "/os-hypervisors/statistics", version="2.88"), 404, "itemNotFound")
