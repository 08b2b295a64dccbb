"""Networking's smoke test with the ``openstack`` CLI as shipped (``--os-cloud stacksim``): its commands,
options and error output work. The networking issue's full sequence is in test_network_workflows.py."""

from __future__ import annotations

import uuid


def _n(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def test_cli_network_smoke(cli):
    n1, s1, p1 = _n("n1"), _n("s1"), _n("p1")
    net = cli.json("network", "create", n1, "--description", "the net", "--tag", "red", exec=True)
    assert net["name"] == n1 and net["status"] == "ACTIVE" and net["tags"] == ["red"]
    subnet = cli.json("subnet", "create", s1, "--network", n1, "--subnet-range", "10.0.0.0/24")
    assert subnet["cidr"] == "10.0.0.0/24" and subnet["gateway_ip"] == "10.0.0.1"
    port = cli.json("port", "create", p1, "--network", n1, "--fixed-ip", f"subnet={s1},ip-address=10.0.0.10")
    assert port["fixed_ips"] == [{"subnet_id": subnet["id"], "ip_address": "10.0.0.10"}]
    busy = cli.run("network", "delete", n1, check=False)
    assert busy.returncode != 0
    assert "409" in busy.stderr and f"Unable to complete operation on network {net['id']}" in busy.stderr
    cli.run("port", "delete", p1)
    gone = cli.run("port", "show", port["id"], check=False)
    assert gone.returncode != 0 and f"No Port found for {port['id']}" in gone.stderr
