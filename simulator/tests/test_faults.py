"""Fault injection (issue 14): ``/_stacksim/faults`` and ``stacksim faults``."""

from __future__ import annotations

import subprocess
import sys
import time

import openstack.exceptions
import pytest
import requests
from edge_helpers import call, service_error

from stacksim.testing import wait_until

FAULTS = "/_stacksim/faults"
EMPTY_TEMPLATE = {"heat_template_version": "2018-08-31", "resources": {}}


def _add(sim, admin, **spec) -> dict:
    response = call(sim.url, "POST", FAULTS, admin.auth_token, json={"fault": spec})
    assert response.status_code == 201, response.text
    return response.json()["fault"]


def _faults(sim, admin) -> list[dict]:
    return call(sim.url, "GET", FAULTS, admin.auth_token).json()["faults"]


def test_faults_are_for_admins_only(sim, demo):
    assert call(sim.url, "GET", FAULTS).status_code == 401
    response = call(sim.url, "POST", FAULTS, demo.auth_token, json={"fault": {"status": 500}})
    assert response.status_code == 403 and "inject faults" in response.json()["error"]["message"]


def test_a_500_during_a_stack_create(sim, admin, demo):
    """The README's example: the next stack create fails with Heat's 500, the one after works."""
    fault = _add(sim, admin, service="orchestration", method="POST", path="/v1/*/stacks", status=500)
    assert fault["kind"] == "error" and fault["left"] == 1
    with pytest.raises(openstack.exceptions.HttpException) as failed:
        demo.orchestration.create_stack(name="s1", template=EMPTY_TEMPLATE)
    assert failed.value.status_code == 500 and fault["id"] in str(failed.value)
    assert _faults(sim, admin) == []  # used up
    assert demo.orchestration.create_stack(name="s1", template=EMPTY_TEMPLATE).id
    assert [s.name for s in demo.orchestration.stacks()] == ["s1"]  # nothing was made by the failed call


def test_an_error_in_the_services_format_or_as_given(sim, admin, demo):
    _add(sim, admin, service="network", path="/v2.0/networks", status=503, message="Neutron is down", count=2)
    for _ in range(2):
        response = call(sim.url, "GET", "/network/v2.0/networks", demo.auth_token)
        assert service_error("network", response, 503) == "Neutron is down"
    assert call(sim.url, "GET", "/network/v2.0/networks", demo.auth_token).status_code == 200
    body = {"conflictingRequest": {"code": 409, "message": "as given"}}
    _add(sim, admin, service="compute", method="DELETE", path="/v2.1/servers/*", status=409, body=body)
    response = call(sim.url, "DELETE", "/compute/v2.1/servers/nothing", demo.auth_token)
    assert response.status_code == 409 and response.json() == body


def test_the_method_and_path_must_match(sim, admin, demo):
    _add(sim, admin, service="volume", method="POST", path="/v3/*/volumes", status=500, count=None)
    assert call(sim.url, "GET", f"/volume/v3/{demo.current_project_id}/volumes", demo.auth_token).status_code == 200
    assert call(sim.url, "POST", "/volume/v3/volumes", demo.auth_token, json={"volume": {"size": 1}}).status_code == 202
    response = call(sim.url, "POST", f"/volume/v3/{demo.current_project_id}/volumes", demo.auth_token, json={})
    service_error("block-storage", response, 500)
    (fault,) = _faults(sim, admin)
    assert fault["service"] == "block-storage" and fault["left"] is None and fault["caught"] == 1


def test_latency(sim, admin, demo):
    _add(sim, admin, service="image", latency=0.5)
    start = time.monotonic()
    assert call(sim.url, "GET", "/image/v2/images", demo.auth_token).status_code == 200
    assert time.monotonic() - start >= 0.45
    assert requests.get(f"{sim.url}/health", timeout=5).status_code == 200


def test_a_hold_keeps_a_server_building_until_it_is_removed(sim, admin, demo):
    hold = _add(sim, admin, job="server.build", count=None)
    image = next(demo.image.images())
    flavor = next(f for f in demo.compute.flavors() if f.vcpus == 1)
    server = demo.compute.create_server(name="held", image_id=image.id, flavor_id=flavor.id, networks="none")
    assert demo.compute.get_server(server.id).status == "BUILD"
    assert demo.compute.get_server(server.id).status == "BUILD"  # still, whoever looks
    assert _faults(sim, admin)[0]["caught"] == 1
    assert call(sim.url, "DELETE", f"{FAULTS}/{hold['id']}", admin.auth_token).status_code == 204
    wait_until(lambda: demo.compute.get_server(server.id).status == "ACTIVE", what="the released build")


def test_a_hold_on_one_volume_and_for_a_while(sim, admin, demo):
    _add(sim, admin, job="volume.*", count=1, seconds=1.5)
    volume = demo.block_storage.create_volume(size=1, name="held")
    other = demo.block_storage.create_volume(size=1, name="free")  # the hold caught one job only
    assert demo.block_storage.get_volume(volume.id).status == "creating"
    assert demo.block_storage.get_volume(other.id).status == "available"
    wait_until(lambda: demo.block_storage.get_volume(volume.id).status == "available", what="the hold to expire")
    assert _faults(sim, admin) == []


def test_bad_faults_are_refused(sim, admin):
    for spec, field in (
        ({"status": 200}, "fault/status"),
        ({"service": "dns", "status": 500}, "service"),
        ({"job": "nothing.*"}, "job"),
        ({"job": "server.build", "status": 500}, "a hold"),
        ({}, "needs a 'status'"),
        ({"status": 500, "colour": "red"}, "fault/colour"),
    ):
        response = call(sim.url, "POST", FAULTS, admin.auth_token, json={"fault": spec})
        assert field in service_error("identity", response, 400), spec


def test_a_reset_clears_the_faults(sim, admin):
    _add(sim, admin, status=500, service="compute", count=None)
    sim.reset()
    assert _faults(sim, admin) == []


def test_stacksim_faults_command(sim, admin, demo):
    def stacksim(*args: str) -> str:
        proc = subprocess.run(
            [sys.executable, "-m", "stacksim", "faults", *args, "--url", sim.url],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    fault_id = stacksim("add", "--service", "compute", "--path", "/v2.1/servers", "--status", "500", "--always").strip()
    hold_id = stacksim("hold", "--job", "orchestration.run").strip()
    listing = stacksim("list")
    assert fault_id in listing and hold_id in listing and "every call" in listing
    assert call(sim.url, "GET", "/compute/v2.1/servers", demo.auth_token).status_code == 500
    assert call(sim.url, "GET", "/compute/v2.1/servers", demo.auth_token).status_code == 500
    assert f"removed {fault_id}" in stacksim("delete", fault_id)
    assert call(sim.url, "GET", "/compute/v2.1/servers", demo.auth_token).status_code == 200
    assert "removed 1 fault(s)" in stacksim("clear")
    assert "no faults" in stacksim("list")
