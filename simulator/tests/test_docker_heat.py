"""The multi-tier Heat stack with real containers, its wait condition signalled from inside an instance."""

from __future__ import annotations

import subprocess

import pytest
import yaml
from docker_helpers import SSH_OPTIONS, connect, containers_of, docker_cloud, private_key, ssh, unique, wait_ssh
from heat_helpers import MULTI_TIER

pytestmark = pytest.mark.requires_docker

#: seconds the wait condition waits for the web server's signal (it comes within seconds of the boot)
WAIT_TIMEOUT = 120

SIGNAL = """#!/bin/sh
echo web > /tmp/role
WC_NOTIFY --data-binary '{"status": "SUCCESS", "reason": "web is up", "data": "'"$(hostname)"'"}'
"""


def _template_with_wait_condition() -> dict:
    """The demo's multi-tier template, its web server signalling a wait condition once it has booted."""
    with open(MULTI_TIER) as fh:
        template = yaml.safe_load(fh)
    resources = template["resources"]
    resources["web_ready"] = {"type": "OS::Heat::WaitConditionHandle"}
    resources["web_wait"] = {
        "type": "OS::Heat::WaitCondition",
        "properties": {"handle": {"get_resource": "web_ready"}, "timeout": WAIT_TIMEOUT},
    }
    resources["web_server"]["properties"]["user_data"] = {
        "str_replace": {"template": SIGNAL, "params": {"WC_NOTIFY": {"get_attr": ["web_ready", "curl_cli"]}}}
    }
    template["outputs"]["web_ready_data"] = {"value": {"get_attr": ["web_wait", "data"]}}
    return template


def _consoles(conn, stack_name: str) -> str:
    """What the stack's servers printed while they booted (why a signal did not come)."""
    out = []
    for server in conn.compute.servers(name=f"^{stack_name}-"):
        try:
            console = conn.compute.get_server_console_output(server)["output"]
        except Exception as exc:  # the server may be gone with the rollback
            console = f"(no console: {exc})"
        out.append(f"--- {server.name} ({server.status}):\n{console}")
    return "\n".join(out) or "(no servers left)"


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    with docker_cloud(tmp_path_factory.mktemp("docker-heat")) as running:
        yield running


def test_multi_tier_stack_runs_real_containers_and_an_instance_signals_its_wait_condition(sim, tmp_path):
    conn = connect(sim)
    key_name = unique("key")
    key = private_key(conn, tmp_path, key_name)
    path = tmp_path / "multi_tier_wait.yaml"
    path.write_text(yaml.safe_dump(_template_with_wait_condition()))
    name = unique("tiers")
    # No rollback: a failed create keeps its servers, whose consoles say why
    stack = conn.create_stack(name, template_file=str(path), wait=True, timeout=600, rollback=False, key_name=key_name)
    assert stack.status == "CREATE_COMPLETE", f"{stack.status_reason}\n{_consoles(conn, name)}"
    outputs = {o["output_key"]: o["output_value"] for o in stack.outputs}
    assert f"{name}-web" in outputs["web_ready_data"]  # the hostname the instance sent
    assert len(containers_of(sim)) == 5  # web, app, db and two workers

    web = outputs["web_public_ip"]
    assert wait_ssh(key, web, "cat /tmp/role && hostname -I") == "web\n10.10.1.10 \n"
    db = conn.compute.find_server(f"{name}-db")
    volume = outputs["db_volume"]
    assert conn.block_storage.get_volume(volume).attachments[0]["server_id"] == db.id
    # The database server has its volume as a block device (reached through the host, which routes).
    assert wait_ssh(key, "10.10.2.30", "test -b /dev/vdb && echo disk") == "disk\n"
    # The router joins the web and app networks: through the web server (a jump host), the
    # database server is reached, and sees the web server's own address (no masquerade).
    jump = " ".join(["ssh", "-i", str(key), *SSH_OPTIONS, "-W", "%h:%p", f"cirros@{web}"])
    via_web = ssh(key, "10.10.2.30", "echo $SSH_CLIENT", options=["-o", f"ProxyCommand={jump}"])
    assert via_web.stdout.split()[0] == "10.10.1.10", via_web.stderr

    conn.delete_stack(name, wait=True)
    assert not containers_of(sim)
    leftovers = subprocess.run(["docker", "ps", "-a", "-q", "--filter", f"name={name}"], capture_output=True)
    assert not leftovers.stdout.strip()
