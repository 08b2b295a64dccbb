"""The orchestration issue's check through openstacksdk and Heat's API (what the CLI tests checked, without
the CLI's start-up cost): the multi-tier stack's life, a rollback, Heat's messages, validate, preview, types."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from heat_helpers import MULTI_TIER

from stacksim.testing import wait_until

pytestmark = pytest.mark.usefixtures("roomy_demo_quota")

TEMPLATES = Path(__file__).parent / "templates"


def _n(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def _get(conn, path: str) -> dict:
    resp = conn.orchestration.get(path)
    assert resp.status_code == 200, resp.text
    return resp.json()


def _servers(conn, prefix: str) -> dict:
    return {s.name: s for s in conn.compute.servers() if s.name.startswith(prefix)}


def _events(conn, name: str, stack_id: str) -> list[dict]:
    return _get(conn, f"/stacks/{name}/{stack_id}/events?sort_dir=asc")["events"]


def _error(resp) -> str:
    assert resp.status_code >= 400, resp.text
    return resp.json()["error"]["message"]


def test_multi_tier_stack_through_its_life(demo, key_name):
    name = _n("sb")
    stack = demo.create_stack(name, template_file=MULTI_TIER, wait=True, key_name=key_name)
    assert stack.status == "CREATE_COMPLETE"
    assert stack.status_reason == "Stack CREATE completed successfully"
    base = f"/stacks/{name}/{stack.id}"

    keys = [o["output_key"] for o in _get(demo, f"{base}/outputs")["outputs"]]
    outputs = {k: _get(demo, f"{base}/outputs/{k}")["output"]["output_value"] for k in keys}
    assert outputs["web_private_ip"] == "10.10.1.10"
    assert outputs["app_ip"] == "10.10.2.20"
    assert outputs["db_ip"] == "10.10.2.30"
    assert outputs["web_public_ip"].startswith("172.24.4.")
    assert outputs["ssh_web"] == f"ssh cirros@{outputs['web_public_ip']}"
    assert outputs["worker_names"] == [f"{name}-worker-0", f"{name}-worker-1"]
    shown = _get(demo, base)["stack"]
    assert {o["output_key"] for o in shown["outputs"]} == set(outputs)
    assert shown["parameters"]["key_name"] == key_name and shown["parameters"]["OS::stack_name"] == name

    # the stack's resources are real records of the other services
    servers = _servers(demo, name)
    assert set(servers) == {f"{name}-{s}" for s in ("web", "app", "db", "worker-0", "worker-1")}
    assert all(s.status == "ACTIVE" for s in servers.values())
    web_addresses = servers[f"{name}-web"].addresses
    assert list(web_addresses) == [f"{name}-web"]
    assert [a["addr"] for a in web_addresses[f"{name}-web"]] == ["10.10.1.10", outputs["web_public_ip"]]
    assert {n.name for n in demo.network.networks()} >= {f"{name}-web", f"{name}-app"}
    volume = demo.block_storage.get_volume(outputs["db_volume"])
    assert volume.name == f"{name}-db-data" and volume.status == "in-use"
    assert volume.attachments[0]["server_id"] == servers[f"{name}-db"].id
    assert volume.attachments[0]["device"] == "/dev/vdb"
    resources = {r["resource_name"]: r for r in _get(demo, f"{base}/resources")["resources"]}
    assert len(resources) == 17 and all(r["resource_status"] == "CREATE_COMPLETE" for r in resources.values())
    nested = _get(demo, f"{base}/resources?nested_depth=1")["resources"]
    assert {r["resource_name"] for r in nested} >= {"0", "1"}
    assert resources["web_server"]["physical_resource_id"] == servers[f"{name}-web"].id
    events = _events(demo, name, stack.id)
    assert events[0]["resource_status_reason"] == "Stack CREATE started"
    assert events[-1]["resource_status"] == "CREATE_COMPLETE" and events[-1]["resource_name"] == name

    # changing the database flavor resizes that server and only that one
    before = {n: s.id for n, s in servers.items()}
    seen = len(events)
    demo.update_stack(name, wait=True, db_flavor="m1.small", template_file=MULTI_TIER, key_name=key_name)
    assert demo.orchestration.get_stack(stack.id).status == "UPDATE_COMPLETE"
    after = _servers(demo, name)
    assert {n: s.id for n, s in after.items()} == before
    assert after[f"{name}-db"].flavor["original_name"] == "m1.small"
    assert after[f"{name}-app"].flavor["original_name"] == "m1.tiny"
    changed = [
        e["resource_name"]
        for e in _events(demo, name, stack.id)[seen:]
        if e["resource_status"].startswith("UPDATE_") and e["resource_name"] != name
    ]
    assert set(changed) == {"db_server"}

    demo.orchestration.suspend_stack(stack.id)
    assert demo.orchestration.get_stack(stack.id).status == "SUSPEND_COMPLETE"
    assert {s.status for s in _servers(demo, name).values()} == {"SUSPENDED"}
    demo.orchestration.resume_stack(stack.id)
    assert demo.orchestration.get_stack(stack.id).status == "RESUME_COMPLETE"
    assert {s.status for s in _servers(demo, name).values()} == {"ACTIVE"}

    assert demo.delete_stack(name, wait=True)
    assert name not in [s.name for s in demo.orchestration.stacks()]
    assert _servers(demo, name) == {}
    assert not {f"{name}-web", f"{name}-app"} & {n.name for n in demo.network.networks()}
    assert not [r for r in demo.network.routers() if r.name.startswith(name)]
    assert not [f for f in demo.network.ips() if f.floating_ip_address == outputs["web_public_ip"]]
    assert demo.block_storage.find_volume(outputs["db_volume"]) is None
    gone = demo.orchestration.get(f"/stacks/{name}", raise_exc=False)
    assert gone.status_code == 404 and _error(gone) == f"The Stack ({name}) could not be found."


def test_independent_servers_are_built_side_by_side(admin, demo, key_name):
    # Builds are instant by default; a held flavor makes the overlap visible.
    flavor = admin.compute.create_flavor(name=_n("held"), ram=512, vcpus=1, disk=1)
    admin.compute.create_flavor_extra_specs(flavor, {"stacksim:boot_delay": "2"})
    name = _n("side")
    params = {"key_name": key_name, "flavor": flavor.name, "db_flavor": flavor.name, "worker_count": 0}
    body = {"stack_name": name, "template": Path(MULTI_TIER).read_text(), "parameters": params}
    stack_id = demo.orchestration.post("/stacks", json=body).json()["stack"]["id"]
    done = wait_until(lambda: (s := demo.orchestration.get_stack(stack_id)).status != "CREATE_IN_PROGRESS" and s)
    assert done.status == "CREATE_COMPLETE", done.status_reason
    order = [(e["resource_name"], e["resource_status"]) for e in _events(demo, name, stack_id)]
    tiers = ("web_server", "app_server", "db_server")
    first_done = min(order.index((s, "CREATE_COMPLETE")) for s in tiers)
    assert all(order.index((s, "CREATE_IN_PROGRESS")) < first_done for s in tiers)


def test_a_missing_image_fails_and_rolls_back(demo, key_name):
    name = _n("bad")
    body = {
        "stack_name": name,
        "template": (TEMPLATES / "missing_image.yaml").read_text(),
        "parameters": {"key_name": key_name},
        "disable_rollback": False,
    }
    stack_id = demo.orchestration.post("/stacks", json=body).json()["stack"]["id"]
    shown = _get(demo, f"/stacks/{name}/{stack_id}")["stack"]  # the rollback is done by the first read
    assert shown["stack_status"] == "ROLLBACK_COMPLETE"
    assert "The Image (no-such-image) could not be found." in shown["stack_status_reason"]
    events = _events(demo, name, stack_id)
    assert (name, "CREATE_FAILED") in [(e["resource_name"], e["resource_status"]) for e in events]
    failed = [e for e in events if e["resource_status"] == "CREATE_FAILED"]
    assert failed[0]["resource_name"] == "third"
    assert _servers(demo, name) == {}
    assert not [n for n in demo.network.networks() if n.name.startswith(name)]
    assert _get(demo, f"/stacks/{name}/{stack_id}/resources")["resources"] == []
    demo.delete_stack(name, wait=True)


def test_bad_templates_get_heats_messages(demo):
    bad_attr = (
        "heat_template_version: 2018-08-31\n"
        "resources:\n"
        "  net: {type: OS::Neutron::Net}\n"
        "  other: {type: OS::Heat::Value, properties: {value: {get_attr: [net, no_such_attribute]}}}\n"
    )
    resp = demo.orchestration.post("/validate", json={"template": bad_attr}, raise_exc=False)
    assert _error(resp) == (
        "resources.other.properties.value.get_attr: The Referenced Attribute (net no_such_attribute) is incorrect."
    )

    def create(template: str, **parameters) -> str:
        body = {"stack_name": _n("x"), "template": template, "parameters": parameters}
        return _error(demo.orchestration.post("/stacks", json=body, raise_exc=False))

    bad_type = "heat_template_version: 2018-08-31\nresources:\n  thing: {type: OS::Foo::Bar}\n"
    assert create(bad_type) == "The Resource Type (OS::Foo::Bar) could not be found."
    multi_tier = Path(MULTI_TIER).read_text()
    assert create(multi_tier) == "The Parameter (key_name) was not provided."
    assert create(multi_tier, key_name="nokey") == (
        "Parameter 'key_name' is invalid: Error validating value 'nokey': The Key (nokey) could not be found."
    )
    cycle = (
        "heat_template_version: 2018-08-31\n"
        "resources:\n"
        "  a: {type: OS::Heat::Value, properties: {value: {get_attr: [b, value]}}}\n"
        "  b: {type: OS::Heat::Value, properties: {value: {get_attr: [a, value]}}}\n"
    )
    assert create(cycle) == 'Circular Dependency Found: {Value "a": {Value "b"}, Value "b": {Value "a"}}'


def test_validate_reports_parameters(demo):
    result = demo.orchestration.post("/validate", json={"template": Path(MULTI_TIER).read_text()}).json()
    key = result["Parameters"]["key_name"]
    assert key["Type"] == "String" and key["Label"] == "Key pair" and key["CustomConstraint"] == "nova.keypair"
    assert key["Description"] == "Name of the key pair every server gets" and "Default" not in key
    count = result["Parameters"]["worker_count"]
    assert count == {**count, "Type": "Number", "Default": 2, "MinValue": 0, "MaxValue": 5}
    assert result["ParameterGroups"][0]["label"] == "Access"
    assert result["Description"].startswith("A multi-tier sandbox")


def test_dry_run_previews_the_resources(demo, key_name):
    body = {"stack_name": _n("p"), "template": Path(MULTI_TIER).read_text(), "parameters": {"key_name": key_name}}
    preview = demo.orchestration.post("/stacks/preview", json=body).json()["stack"]
    names = {r["resource_name"] for r in preview["resources"]}
    assert {"web_server", "app_server", "db_server", "workers", "router"} <= names
    assert all(r["resource_action"] == "INIT" for r in preview["resources"])


def test_catalog_and_type_calls(demo):
    types = {t["resource_type"] for t in _get(demo, "/resource_types?with_description=true")["resource_types"]}
    assert {"OS::Nova::Server", "OS::Neutron::Net", "OS::Heat::ResourceGroup", "OS::Heat::WaitCondition"} <= types
    server = _get(demo, "/resource_types/OS::Nova::Server")
    assert server["properties"]["flavor"]["required"] is True
    assert server["properties"]["flavor"]["update_allowed"] is True
    assert server["properties"]["user_data_format"]["default"] == "HEAT_CFNTOOLS"
    assert "networks" in server["attributes"] and "show" in server["attributes"]
    missing = demo.orchestration.get("/resource_types/OS::Foo::Bar", raise_exc=False)
    assert missing.status_code == 404 and _error(missing) == "The Resource Type (OS::Foo::Bar) could not be found."
    versions = {v["version"]: v["aliases"] for v in _get(demo, "/template_versions")["template_versions"]}
    assert versions["heat_template_version.2021-04-16"] == ["heat_template_version.wallaby"]
    functions = _get(demo, "/template_versions/heat_template_version.2016-10-14/functions")["template_functions"]
    names = {f["functions"] for f in functions}
    assert {"get_attr", "map_replace", "if", "str_split"} <= names and "list_concat" not in names
    assert set(_get(demo, "/build_info")) == {"api", "engine"}
