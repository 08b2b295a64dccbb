"""The orchestration issue's check, with the ``openstack`` CLI as shipped (``--os-cloud stacksim``)."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
from heat_helpers import MULTI_TIER

TEMPLATES = Path(__file__).parent / "templates"


pytestmark = pytest.mark.usefixtures("roomy_demo_quota")


def _n(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def waited(cli, *args: str) -> dict:
    """Run a ``--wait`` command with ``-f json``: the events it prints come before the JSON."""
    out = cli.run(*args, "-f", "json").stdout
    start = 0 if out.startswith("{") else out.rindex("\n{") + 1
    return json.loads(out[start:])


def wait_for(cli, stack: str, wanted: set[str], timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        shown = cli.json("stack", "show", stack)
        if shown["stack_status"] in wanted:
            return shown
        assert time.monotonic() < deadline, f"{stack} stayed {shown['stack_status']}: {shown['stack_status_reason']}"
        time.sleep(0.3)


def servers_of(cli, prefix: str) -> dict[str, dict]:
    return {s["Name"]: s for s in cli.json("server", "list") if s["Name"].startswith(prefix)}


def test_multi_tier_stack_through_its_life(cli, key_name):
    name = _n("sb")
    created = waited(
        cli, "stack", "create", "-t", MULTI_TIER, "--parameter", f"key_name={key_name}", "--wait", "--poll", "1", name
    )
    assert created["stack_status"] == "CREATE_COMPLETE"
    assert created["stack_status_reason"] == "Stack CREATE completed successfully"

    outputs = {o["output_key"]: o["output_value"] for o in cli.json("stack", "output", "show", name, "--all").values()}
    assert outputs["web_private_ip"] == "10.10.1.10"
    assert outputs["app_ip"] == "10.10.2.20"
    assert outputs["db_ip"] == "10.10.2.30"
    assert outputs["web_public_ip"].startswith("172.24.4.")
    assert outputs["ssh_web"] == f"ssh cirros@{outputs['web_public_ip']}"
    assert outputs["worker_names"] == [f"{name}-worker-0", f"{name}-worker-1"]
    shown = cli.json("stack", "show", name)
    assert {o["output_key"] for o in shown["outputs"]} == set(outputs)
    assert shown["parameters"]["key_name"] == key_name and shown["parameters"]["OS::stack_name"] == name

    # the stack's resources are real records of the other services
    servers = servers_of(cli, name)
    assert set(servers) == {f"{name}-{s}" for s in ("web", "app", "db", "worker-0", "worker-1")}
    assert all(s["Status"] == "ACTIVE" for s in servers.values())
    assert servers[f"{name}-web"]["Networks"] == {f"{name}-web": ["10.10.1.10", outputs["web_public_ip"]]}
    assert {n["Name"] for n in cli.json("network", "list")} >= {f"{name}-web", f"{name}-app"}
    volume = cli.json("volume", "show", outputs["db_volume"])
    assert volume["name"] == f"{name}-db-data" and volume["status"] == "in-use"
    assert volume["attachments"][0]["server_id"] == servers[f"{name}-db"]["ID"]
    assert volume["attachments"][0]["device"] == "/dev/vdb"
    resources = {r["resource_name"]: r for r in cli.json("stack", "resource", "list", name)}
    assert len(resources) == 17 and all(r["resource_status"] == "CREATE_COMPLETE" for r in resources.values())
    nested = cli.json("stack", "resource", "list", name, "--nested-depth", "1")
    assert {r["resource_name"] for r in nested} >= {"0", "1"}
    web = cli.json("server", "show", f"{name}-web")
    assert resources["web_server"]["physical_resource_id"] == web["id"]
    events = cli.json("stack", "event", "list", name)
    assert events[0]["resource_status_reason"] == "Stack CREATE started"
    assert events[-1]["resource_status"] == "CREATE_COMPLETE" and events[-1]["resource_name"] == name
    # independent resources are made side by side: all three servers start before any is done
    order = [(e["resource_name"], e["resource_status"]) for e in events]
    tiers = ("web_server", "app_server", "db_server")
    first_done = min(order.index((s, "CREATE_COMPLETE")) for s in tiers)
    assert all(order.index((s, "CREATE_IN_PROGRESS")) < first_done for s in tiers)

    # changing the database flavor resizes that server and only that one
    before = {n: s["ID"] for n, s in servers.items()}
    updated = waited(cli, "stack", "update", "--existing", "--parameter", "db_flavor=m1.small", "--wait", name)
    assert updated["stack_status"] == "UPDATE_COMPLETE"
    after = servers_of(cli, name)
    assert {n: s["ID"] for n, s in after.items()} == before
    assert cli.json("server", "show", f"{name}-db")["flavor"]["name"] == "m1.small"
    assert cli.json("server", "show", f"{name}-app")["flavor"]["name"] == "m1.tiny"
    changed = [
        e["resource_name"]
        for e in cli.json("stack", "event", "list", name)
        if e["resource_status"].startswith("UPDATE_") and e["resource_name"] != name
    ]
    assert set(changed) == {"db_server"}

    cli.run("stack", "suspend", name)
    wait_for(cli, name, {"SUSPEND_COMPLETE"})
    assert {s["Status"] for s in servers_of(cli, name).values()} == {"SUSPENDED"}
    cli.run("stack", "resume", name)
    wait_for(cli, name, {"RESUME_COMPLETE"})
    assert {s["Status"] for s in servers_of(cli, name).values()} == {"ACTIVE"}

    cli.run("stack", "delete", "--yes", "--wait", name)
    assert name not in [s["Stack Name"] for s in cli.json("stack", "list")]
    assert servers_of(cli, name) == {}
    assert not {f"{name}-web", f"{name}-app"} & {n["Name"] for n in cli.json("network", "list")}
    assert not [r for r in cli.json("router", "list") if r["Name"].startswith(name)]
    assert not [f for f in cli.json("floating", "ip", "list") if f["Floating IP Address"] == outputs["web_public_ip"]]
    assert not [v for v in cli.json("volume", "list") if v["ID"] == outputs["db_volume"]]
    gone = cli.run("stack", "show", name, check=False)
    assert gone.returncode != 0 and f"Stack not found: {name}" in gone.stderr


def test_a_missing_image_fails_and_rolls_back(cli, key_name):
    name = _n("bad")
    proc = cli.run(
        "stack",
        "create",
        "-t",
        str(TEMPLATES / "missing_image.yaml"),
        "--parameter",
        f"key_name={key_name}",
        "--enable-rollback",
        "--wait",
        "--poll",
        "1",
        name,
        check=False,
    )
    assert proc.returncode != 0 and f"Stack {name} CREATE_FAILED" in proc.stderr
    shown = wait_for(cli, name, {"ROLLBACK_COMPLETE", "ROLLBACK_FAILED"})
    assert shown["stack_status"] == "ROLLBACK_COMPLETE"
    assert "The Image (no-such-image) could not be found." in shown["stack_status_reason"]
    failed = [e for e in cli.json("stack", "event", "list", name) if e["resource_status"] == "CREATE_FAILED"]
    assert failed[0]["resource_name"] == "third"
    assert servers_of(cli, name) == {}
    assert not [n for n in cli.json("network", "list") if n["Name"].startswith(name)]
    assert cli.json("stack", "resource", "list", name) == []
    cli.run("stack", "delete", "--yes", "--wait", name)


def test_bad_templates_get_heats_messages(cli, tmp_path):
    bad_attr = tmp_path / "bad_attr.yaml"
    bad_attr.write_text(
        "heat_template_version: 2018-08-31\n"
        "resources:\n"
        "  net: {type: OS::Neutron::Net}\n"
        "  other: {type: OS::Heat::Value, properties: {value: {get_attr: [net, no_such_attribute]}}}\n"
    )
    proc = cli.run("orchestration", "template", "validate", "-t", str(bad_attr), check=False)
    assert proc.returncode != 0
    assert proc.stderr.strip() == (
        "ERROR: resources.other.properties.value.get_attr: "
        "The Referenced Attribute (net no_such_attribute) is incorrect."
    )

    bad_type = tmp_path / "bad_type.yaml"
    bad_type.write_text("heat_template_version: 2018-08-31\nresources:\n  thing: {type: OS::Foo::Bar}\n")
    proc = cli.run("stack", "create", "-t", str(bad_type), _n("x"), check=False)
    assert proc.returncode != 0
    assert proc.stderr.strip() == "ERROR: The Resource Type (OS::Foo::Bar) could not be found."

    proc = cli.run("stack", "create", "-t", MULTI_TIER, _n("x"), check=False)
    assert proc.stderr.strip() == "ERROR: The Parameter (key_name) was not provided."
    proc = cli.run("stack", "create", "-t", MULTI_TIER, "--parameter", "key_name=nokey", _n("x"), check=False)
    assert proc.stderr.strip() == (
        "ERROR: Parameter 'key_name' is invalid: Error validating value 'nokey': The Key (nokey) could not be found."
    )
    cycle = tmp_path / "cycle.yaml"
    cycle.write_text(
        "heat_template_version: 2018-08-31\n"
        "resources:\n"
        "  a: {type: OS::Heat::Value, properties: {value: {get_attr: [b, value]}}}\n"
        "  b: {type: OS::Heat::Value, properties: {value: {get_attr: [a, value]}}}\n"
    )
    proc = cli.run("stack", "create", "-t", str(cycle), _n("x"), check=False)
    assert proc.stderr.strip() == 'ERROR: Circular Dependency Found: {Value "a": {Value "b"}, Value "b": {Value "a"}}'


def test_validate_reports_parameters(cli):
    result = cli.json("orchestration", "template", "validate", "-t", MULTI_TIER)
    key = result["Parameters"]["key_name"]
    assert key["Type"] == "String" and key["Label"] == "Key pair" and key["CustomConstraint"] == "nova.keypair"
    assert key["Description"] == "Name of the key pair every server gets" and "Default" not in key
    count = result["Parameters"]["worker_count"]
    assert count == {**count, "Type": "Number", "Default": 2, "MinValue": 0, "MaxValue": 5}
    assert result["ParameterGroups"][0]["label"] == "Access"
    assert result["Description"].startswith("A multi-tier sandbox")


def test_dry_run_previews_the_resources(cli, key_name):
    preview = cli.json("stack", "create", "-t", MULTI_TIER, "--parameter", f"key_name={key_name}", "--dry-run", _n("p"))
    names = {r["resource_name"] for r in preview["resources"]}
    assert {"web_server", "app_server", "db_server", "workers", "router"} <= names
    assert all(r["resource_action"] == "INIT" for r in preview["resources"])


def test_catalog_and_type_commands(cli):
    types = {t["Resource Type"] for t in cli.json("orchestration", "resource", "type", "list")}
    assert {"OS::Nova::Server", "OS::Neutron::Net", "OS::Heat::ResourceGroup", "OS::Heat::WaitCondition"} <= types
    server = cli.json("orchestration", "resource", "type", "show", "OS::Nova::Server")
    assert server["properties"]["flavor"]["required"] is True
    assert server["properties"]["flavor"]["update_allowed"] is True
    assert server["properties"]["user_data_format"]["default"] == "HEAT_CFNTOOLS"
    assert "networks" in server["attributes"] and "show" in server["attributes"]
    missing = cli.run("orchestration", "resource", "type", "show", "OS::Foo::Bar", check=False)
    assert missing.returncode != 0 and "Resource type not found: OS::Foo::Bar" in missing.stderr
    versions = {v["Version"]: v["Aliases"] for v in cli.json("orchestration", "template", "version", "list")}
    assert versions["heat_template_version.2021-04-16"] == ["heat_template_version.wallaby"]
    functions = {
        f["Functions"]
        for f in cli.json("orchestration", "template", "function", "list", "heat_template_version.2016-10-14")
    }
    assert {"get_attr", "map_replace", "if", "str_split"} <= functions and "list_concat" not in functions
    info = cli.json("orchestration", "build", "info")
    assert set(info) == {"api", "engine"}
