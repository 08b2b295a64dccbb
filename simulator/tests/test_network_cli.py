"""The networking issue's check, with the ``openstack`` CLI as shipped (``--os-cloud stacksim``)."""

from __future__ import annotations

import uuid


def _n(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def test_issue_sequence(cli):
    n1, s1, r1, p1, sg1 = _n("n1"), _n("s1"), _n("r1"), _n("p1"), _n("sg1")

    net = cli.json("network", "create", n1, "--description", "the net")
    assert net["name"] == n1 and net["status"] == "ACTIVE" and net["admin_state_up"] is True
    assert net["shared"] is False and net["router:external"] is False and net["mtu"] > 0
    assert net["revision_number"] == 0 and net["created_at"].endswith("Z")

    subnet = cli.json("subnet", "create", s1, "--network", n1, "--subnet-range", "10.0.0.0/24")
    assert subnet["cidr"] == "10.0.0.0/24" and subnet["gateway_ip"] == "10.0.0.1"
    assert subnet["allocation_pools"] == [{"start": "10.0.0.2", "end": "10.0.0.254"}]
    assert subnet["network_id"] == net["id"] and subnet["enable_dhcp"] is True and subnet["ip_version"] == 4

    router = cli.json("router", "create", r1, "--external-gateway", "public")
    gateway = router["external_gateway_info"]
    public = cli.json("network", "show", "public")
    assert gateway["network_id"] == public["id"] and gateway["enable_snat"] is True
    (gw_ip,) = gateway["external_fixed_ips"]
    assert gw_ip["ip_address"].startswith("172.24.4.")
    cli.run("router", "add", "subnet", r1, s1)

    port = cli.json("port", "create", p1, "--network", n1, "--fixed-ip", f"subnet={s1},ip-address=10.0.0.10")
    assert port["fixed_ips"] == [{"subnet_id": subnet["id"], "ip_address": "10.0.0.10"}]
    assert port["status"] == "DOWN" and port["mac_address"].startswith("fa:16:3e:")
    default_sg = cli.json("security", "group", "show", "default")
    assert port["security_group_ids"] == [default_sg["id"]]

    group = cli.json("security", "group", "create", sg1, "--description", "ssh in")
    rule = cli.json("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22", sg1)
    assert rule["direction"] == "ingress" and rule["protocol"] == "tcp"
    assert (rule["port_range_min"], rule["port_range_max"]) == (22, 22)
    assert rule["remote_ip_prefix"] == "0.0.0.0/0" and rule["security_group_id"] == group["id"]

    fip = cli.json("floating", "ip", "create", "public")
    assert fip["floating_network_id"] == public["id"] and fip["status"] == "DOWN" and fip["port_id"] is None
    cli.run("floating", "ip", "set", "--port", p1, fip["floating_ip_address"])

    # every list and show returns what was set
    assert n1 in [n["Name"] for n in cli.json("network", "list")]
    assert cli.json("network", "show", n1)["subnets"] == [subnet["id"]]
    assert cli.json("subnet", "show", s1)["cidr"] == "10.0.0.0/24"
    shown_router = cli.json("router", "show", r1)
    assert shown_router["external_gateway_info"]["network_id"] == public["id"]
    interfaces = shown_router["interfaces_info"]
    assert [i["ip_address"] for i in interfaces] == ["10.0.0.1"] and interfaces[0]["subnet_id"] == subnet["id"]
    ports = {p["Name"]: p for p in cli.json("port", "list", "--network", n1)}
    assert ports[p1]["Fixed IP Addresses"] == [{"subnet_id": subnet["id"], "ip_address": "10.0.0.10"}]
    owners = {p["Device Owner"] for p in cli.json("port", "list", "--network", n1, "--long")}
    assert {"network:router_interface", "network:dhcp", ""} <= owners
    assert cli.json("security", "group", "show", sg1)["description"] == "ssh in"
    rules = cli.json("security", "group", "rule", "list", sg1)
    assert {(r["IP Protocol"], r["Port Range"], r["Direction"]) for r in rules} >= {("tcp", "22:22", "ingress")}
    shown_fip = cli.json("floating", "ip", "show", fip["floating_ip_address"])
    assert shown_fip["port_id"] == port["id"] and shown_fip["fixed_ip_address"] == "10.0.0.10"
    assert shown_fip["router_id"] == router["id"] and shown_fip["status"] == "ACTIVE"
    listed = cli.json("floating", "ip", "list", "--port", p1)
    assert [f["Floating IP Address"] for f in listed] == [fip["floating_ip_address"]]

    # the network is in use
    busy = cli.run("network", "delete", n1, check=False)
    assert busy.returncode != 0
    assert "409" in busy.stderr and f"Unable to complete operation on network {net['id']}" in busy.stderr
    assert "one or more ports still in use" in busy.stderr

    # and everything deletes cleanly
    cli.run("floating", "ip", "unset", "--port", fip["floating_ip_address"])
    assert cli.json("floating", "ip", "show", fip["floating_ip_address"])["port_id"] is None
    cli.run("floating", "ip", "delete", fip["floating_ip_address"])
    cli.run("port", "delete", p1)
    cli.run("router", "remove", "subnet", r1, s1)
    cli.run("router", "delete", r1)
    cli.run("security", "group", "delete", sg1)
    cli.run("network", "delete", n1)
    assert n1 not in [n["Name"] for n in cli.json("network", "list")]
    assert cli.json("subnet", "list", "--name", s1) == []
    assert cli.json("router", "list", "--name", r1) == []
    assert cli.run("floating", "ip", "show", fip["floating_ip_address"], check=False).returncode != 0
    gone = cli.run("port", "show", port["id"], check=False)
    assert gone.returncode != 0 and f"No Port found for {port['id']}" in gone.stderr


def test_cli_network_options_and_tags(cli):
    name = _n("net")
    net = cli.json("network", "create", name, "--disable", "--mtu", "1400", "--disable-port-security", "--tag", "red")
    assert net["admin_state_up"] is False and net["mtu"] == 1400 and net["port_security_enabled"] is False
    assert net["tags"] == ["red"]
    cli.run("network", "set", name, "--name", f"{name}-x", "--enable", "--tag", "blue")
    shown = cli.json("network", "show", f"{name}-x")
    assert shown["admin_state_up"] is True and sorted(shown["tags"]) == ["blue", "red"]
    assert shown["revision_number"] > net["revision_number"]
    tagged = cli.json("network", "list", "--tags", "blue,red")
    assert [n["Name"] for n in tagged] == [f"{name}-x"]
    cli.run("network", "unset", "--tag", "red", f"{name}-x")
    assert cli.json("network", "show", f"{name}-x")["tags"] == ["blue"]
    cli.run("network", "delete", f"{name}-x")


def test_cli_member_cannot_make_shared_network(cli):
    proc = cli.run("network", "create", _n("shared"), "--share", check=False)
    assert proc.returncode != 0 and "403" in proc.stderr and "create_network:shared" in proc.stderr


def test_cli_bad_cidr_names_the_problem(cli):
    name = _n("net")
    cli.run("network", "create", name)
    proc = cli.run("subnet", "create", _n("sub"), "--network", name, "--subnet-range", "10.0.0.0/33", check=False)
    assert proc.returncode != 0 and "400" in proc.stderr
    assert "Invalid input for cidr. Reason: '10.0.0.0/33' is not a valid IP subnet." in proc.stderr
    cli.run("network", "delete", name)
