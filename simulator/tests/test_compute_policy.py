"""Nova's default policy, as Compute enforces it: admin, member, reader (an application credential
with only ``reader``), another project's member; and hostile input that must be a 400, not a 500."""

from __future__ import annotations

import json
import uuid

import openstack
import openstack.exceptions
import pytest
from compute_http import fault, nova

from stacksim.services.image.bootstrap import DEFAULT_IMAGE_NAME


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def reader(demo, sim):
    """The demo user through an application credential that holds only ``reader``."""
    cred = demo.identity.create_application_credential(demo.current_user_id, _name("r"), roles=[{"name": "reader"}])
    conn = openstack.connect(
        auth_url=f"{sim.url}/identity",
        auth_type="v3applicationcredential",
        application_credential_id=cred.id,
        application_credential_secret=cred.secret,
    )
    yield conn
    demo.identity.delete_application_credential(demo.current_user_id, cred.id)


@pytest.fixture
def vm(demo):
    image = demo.image.find_image(DEFAULT_IMAGE_NAME)
    server = demo.compute.create_server(name=_name("vm"), image_id=image.id, flavor_id="1", networks="none")
    return demo.compute.wait_for_server(server, wait=30)


def test_reader_reads_but_cannot_write(reader, demo, vm):
    assert reader.compute.get_server(vm.id).id == vm.id
    assert vm.id in [s.id for s in reader.compute.servers()]
    assert nova(reader, "GET", f"/servers/{vm.id}/os-instance-actions").status_code == 200
    image = demo.image.find_image(DEFAULT_IMAGE_NAME)
    body = {"server": {"name": "no", "imageRef": image.id, "flavorRef": "1", "networks": "none"}}
    message = fault(nova(reader, "POST", "/servers", "2.37", json=body), 403, "forbidden")
    assert message == "Policy doesn't allow os_compute_api:servers:create to be performed."
    fault(nova(reader, "POST", f"/servers/{vm.id}/action", json={"os-stop": None}), 403, "forbidden")
    fault(nova(reader, "PUT", f"/servers/{vm.id}", json={"server": {"name": "x"}}), 403, "forbidden")
    fault(nova(reader, "POST", f"/servers/{vm.id}/metadata", json={"metadata": {"a": "b"}}), 403, "forbidden")
    fault(nova(reader, "DELETE", f"/servers/{vm.id}"), 403, "forbidden")
    fault(
        nova(reader, "POST", "/os-server-groups", json={"server_group": {"name": "g", "policies": ["affinity"]}}),
        403,
        "forbidden",
    )
    assert demo.compute.get_server(vm.id).name == vm.name and demo.compute.get_server(vm.id).status == "ACTIVE"


def test_key_pairs_are_the_users_own_even_for_a_reader(reader):
    # Nova's key pair policy is "admin or the key's own user", whatever the roles.
    name = _name("rk")
    created = nova(reader, "POST", "/os-keypairs", "2.2", json={"keypair": {"name": name}})
    assert created.status_code == 201
    nova(reader, "DELETE", f"/os-keypairs/{name}", "2.2")


def test_other_projects_servers_are_404_and_all_tenants_is_403(alt, admin, demo, vm):
    fault(nova(alt, "GET", f"/servers/{vm.id}"), 404, "itemNotFound")
    fault(nova(alt, "POST", f"/servers/{vm.id}/action", json={"os-stop": None}), 404, "itemNotFound")
    message = fault(nova(demo, "GET", "/servers?all_tenants=1"), 403, "forbidden")
    assert message == "Policy doesn't allow os_compute_api:servers:index:get_all_tenants to be performed."
    fault(nova(demo, "GET", "/servers/detail?all_tenants=true"), 403, "forbidden")
    assert vm.id in [s["id"] for s in nova(admin, "GET", "/servers?all_tenants=1").json()["servers"]]


def test_extended_attributes_only_for_admins(admin, demo, vm):
    mine = nova(demo, "GET", f"/servers/{vm.id}", "2.96").json()["server"]
    assert not [k for k in mine if k.startswith("OS-EXT-SRV-ATTR:") and k != "OS-EXT-SRV-ATTR:hostname"]
    assert "host_status" not in mine and mine["OS-EXT-SRV-ATTR:hostname"]  # hostname for all from 2.90
    theirs = nova(admin, "GET", f"/servers/{vm.id}", "2.96").json()["server"]
    assert theirs["OS-EXT-SRV-ATTR:host"] == "stacksim" and theirs["host_status"] == "UP"
    assert theirs["OS-EXT-SRV-ATTR:user_data"] is None and "OS-EXT-SRV-ATTR:reservation_id" in theirs
    old = nova(admin, "GET", f"/servers/{vm.id}", "2.1").json()["server"]
    assert "OS-EXT-SRV-ATTR:reservation_id" not in old and "OS-EXT-SRV-ATTR:instance_name" in old
    assert "fault" not in mine and "progress" in mine  # ACTIVE has a progress, only ERROR a fault
    assert "security_groups" not in mine  # no ports, no groups: Nova leaves the key out
    listed = nova(demo, "GET", "/servers/detail", "2.96").json()["servers"]
    assert "server_groups" not in listed[0] and "server_groups" in mine


def test_bad_times_in_a_server_list_are_novas_400(demo):
    message = fault(nova(demo, "GET", "/servers?changes-since=garbage"), 400, "badRequest")
    assert message == "Invalid input for query parameters changes-since. Value: garbage. 'garbage' is not a 'date-time'"
    fault(nova(demo, "GET", "/servers/detail?changes-before=nope", "2.66"), 400, "badRequest")
    backwards = "/servers?changes-since=2030-01-01T00:00:00Z&changes-before=2020-01-01T00:00:00Z"
    assert "changes-since must be less" in fault(nova(demo, "GET", backwards, "2.66"), 400, "badRequest")
    fault(nova(demo, "GET", "/servers?status=NOPE", "2.38"), 400, "badRequest")


def test_a_lone_surrogate_is_refused_and_nothing_is_stored(demo):
    raw = '{"keypair": {"name": "\\ud800"}}'  # valid JSON, text UTF-8 cannot carry
    resp = nova(demo, "POST", "/os-keypairs", data=raw, headers={"Content-Type": "application/json"})
    assert resp.status_code == 400 and resp.json()["badRequest"]["code"] == 400
    assert "\\ud800" in resp.json()["badRequest"]["message"]
    assert nova(demo, "GET", "/os-keypairs").status_code == 200
    server = json.dumps({"server": {"name": "ok", "flavorRef": "1", "metadata": {"k": "\ud800"}}})
    resp = nova(demo, "POST", "/servers", data=server, headers={"Content-Type": "application/json"})
    assert resp.status_code == 400
    assert nova(demo, "GET", "/servers/detail").status_code == 200


def test_the_model_refuses_a_lone_surrogate_from_heat_too(demo):
    template = {
        "heat_template_version": "2018-08-31",
        "resources": {
            "vm": {
                "type": "OS::Nova::Server",
                "properties": {
                    "name": "\ud800",
                    "flavor": "1",
                    "image": DEFAULT_IMAGE_NAME,
                    "networks": [{"allocate_network": "none"}],
                },
            }
        },
    }
    try:
        stack = demo.orchestration.create_stack(name=_name("s"), template=template)
    except openstack.exceptions.BadRequestException:
        pass  # Heat refused the template itself: nothing reached Compute
    else:
        failed = demo.orchestration.wait_for_status(stack, "CREATE_FAILED", failures=["CREATE_COMPLETE"], wait=30)
        assert "Not valid Unicode text" in failed.status_reason
    assert nova(demo, "GET", "/servers/detail").status_code == 200
