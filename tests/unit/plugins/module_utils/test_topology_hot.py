# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rendering a topology to HOT: the layout, the names, and a byte-identical result."""

from __future__ import annotations

from typing import Any

import yaml

from ansible_collections.opensandbox.cloud.plugins.module_utils._topology import load_topology
from ansible_collections.opensandbox.cloud.plugins.module_utils._topology_hot import (
    ManagementBox,
    SandboxOptions,
    dump_template,
    render_template,
)
from ansible_collections.opensandbox.cloud.tests.unit.plugins.module_utils.topology_samples import (
    CURRENT,
    example,
    parsed,
)

OPTIONS = SandboxOptions(resource_prefix="lab1-")


def render(data: dict[str, Any], options: SandboxOptions = OPTIONS) -> dict[str, Any]:
    topology, problems, _warnings = load_topology(data)
    assert problems == []
    return render_template(topology, options)


def props(template: dict[str, Any], key: str) -> dict[str, Any]:
    return template["resources"][key]["properties"]


def of_type(template: dict[str, Any], kind: str) -> list[str]:
    return [k for k, v in template["resources"].items() if v["type"] == kind]


def ports_of(template: dict[str, Any], server: str) -> list[str]:
    return [n["port"]["get_resource"] for n in props(template, f"server_{server}")["networks"]]


def test_the_same_topology_renders_byte_identical():
    first = dump_template(render(example("sandbox.yaml")))
    second = dump_template(render(example("sandbox.yaml")))
    assert first == second
    assert yaml.safe_load(first) == render(example("sandbox.yaml"))


def test_user_networks_have_the_router_host_as_gateway_and_no_dhcp():
    template = render(example("sandbox.yaml"))
    client = props(template, "subnet_client-switch")
    assert client["cidr"] == "10.10.30.0/24"
    assert client["gateway_ip"] == "10.10.30.1"
    assert client["enable_dhcp"] is False
    assert client["network"] == {"get_resource": "net_client-switch"}
    assert props(template, "subnet_internet")["gateway_ip"] == "100.100.100.1"  # man, on the WAN
    assert props(template, "subnet_man-network")["gateway_ip"] == ""  # no default route via management


def test_a_network_without_a_router_host_has_no_gateway():
    data = parsed(CURRENT)
    data["router_mappings"] = data["router_mappings"][:1]
    template = render(data)
    assert props(template, "subnet_attacker-switch")["gateway_ip"] == ""


def test_the_wan_routes_each_topology_network_to_its_router_host():
    template = render(example("sandbox.yaml"))
    # man has the WAN's first address; the router hosts the next ones, in the topology's order.
    assert props(template, "port_edge-router_internet")["fixed_ips"][0]["ip_address"] == "100.100.100.2"
    assert props(template, "port_core-router_internet")["fixed_ips"][0]["ip_address"] == "100.100.100.3"
    # Those addresses are the next hops of the WAN's host routes, so man and every router host
    # (all on the WAN) reach every routed network, as cloud-init sets routes up on a real cloud.
    assert props(template, "subnet_internet")["host_routes"] == [
        {"destination": "10.10.10.0/24", "nexthop": "100.100.100.2"},
        {"destination": "10.10.20.0/24", "nexthop": "100.100.100.3"},
        {"destination": "10.10.30.0/24", "nexthop": "100.100.100.3"},
    ]
    for network in ("attacker-switch", "server-switch", "client-switch", "man-network", "uplink"):
        assert "host_routes" not in props(template, f"subnet_{network}")


def test_a_network_without_a_router_host_gets_no_route():
    data = parsed(CURRENT)
    data["router_mappings"] = data["router_mappings"][:1]
    routes = props(render(data), f"subnet_{data['wan']['name']}")["host_routes"]
    assert [r["destination"] for r in routes] == [data["networks"][0]["cidr"]]


def test_ports_carry_the_fixed_ips_and_router_hosts_may_forward():
    template = render(example("sandbox.yaml"))
    web = props(template, "port_web_server-switch")
    assert web["fixed_ips"] == [{"subnet": {"get_resource": "subnet_server-switch"}, "ip_address": "10.10.20.11"}]
    assert "allowed_address_pairs" not in web
    core = props(template, "port_core-router_client-switch")
    assert core["fixed_ips"][0]["ip_address"] == "10.10.30.1"
    assert core["allowed_address_pairs"] == [{"ip_address": "0.0.0.0/0"}]
    assert props(template, "port_core-router_internet")["allowed_address_pairs"] == [{"ip_address": "0.0.0.0/0"}]
    assert props(template, "port_man_internet")["fixed_ips"][0]["ip_address"] == "100.100.100.1"
    assert props(template, "port_man_internet")["allowed_address_pairs"] == [{"ip_address": "0.0.0.0/0"}]
    forwarding = sorted(
        k for k in of_type(template, "OS::Neutron::Port") if "allowed_address_pairs" in props(template, k)
    )
    assert forwarding == [
        "port_core-router_client-switch",
        "port_core-router_internet",
        "port_core-router_server-switch",
        "port_edge-router_attacker-switch",
        "port_edge-router_internet",
        "port_man_internet",
    ]
    for key in of_type(template, "OS::Neutron::Port"):
        groups = props(template, key)["security_groups"]
        assert groups == [{"get_resource": "sg_uplink" if key == "port_man_uplink" else "sg_internal"}]


def test_man_is_on_the_management_network_the_wan_and_the_uplink():
    template = render(example("sandbox.yaml"))
    assert ports_of(template, "man") == ["port_man_man-network", "port_man_internet", "port_man_uplink"]
    for node in ("attacker", "server", "web", "client", "edge-router", "core-router", "uan"):
        assert ports_of(template, node)[0] == f"port_{node}_man-network"
    assert ports_of(template, "core-router") == [
        "port_core-router_man-network",
        "port_core-router_internet",
        "port_core-router_server-switch",
        "port_core-router_client-switch",
    ]
    assert props(template, "uplink_router")["external_gateway_info"] == {"network": "public"}
    fip = template["resources"]["man_floating_ip"]
    assert fip["properties"] == {"floating_network": "public", "port_id": {"get_resource": "port_man_uplink"}}
    assert fip["depends_on"] == ["uplink_router_interface"]


def test_user_access_joins_only_accessible_networks_at_the_highest_free_address():
    template = render(example("sandbox.yaml"))
    assert ports_of(template, "uan") == ["port_uan_man-network", "port_uan_attacker-switch", "port_uan_client-switch"]
    assert props(template, "port_uan_client-switch")["fixed_ips"][0]["ip_address"] == "10.10.30.254"
    data = example("small-sandbox.yaml")
    data["net_mappings"][0]["ip"] = "10.10.20.254"
    assert props(render(data), "port_uan_server-switch")["fixed_ips"][0]["ip_address"] == "10.10.20.253"


def test_user_access_can_be_left_out_by_the_topology_or_the_options():
    data = example("small-sandbox.yaml")
    data["user_access"] = False
    assert "server_uan" not in render(data)["resources"]
    assert "server_uan" in render(data, SandboxOptions(user_access=True))["resources"]
    assert "server_uan" not in render(example("small-sandbox.yaml"), SandboxOptions(user_access=False))["resources"]


def test_every_server_has_a_config_drive_and_volumes_mean_boot_from_volume():
    template = render(example("sandbox.yaml"))
    for key in of_type(template, "OS::Nova::Server"):
        assert props(template, key)["config_drive"] is True
        assert props(template, key)["user_data_format"] == "RAW"
    web = props(template, "server_web")
    assert "image" not in web
    assert web["block_device_mapping_v2"] == [
        {"volume_id": {"get_resource": "volume_web_0"}, "boot_index": 0, "delete_on_termination": False},
        {"volume_id": {"get_resource": "volume_web_1"}, "boot_index": -1, "delete_on_termination": False},
    ]
    assert props(template, "volume_web_0") == {"name": "lab1-web-disk0", "size": 1, "image": "cirros-0.6.2-x86_64-disk"}
    assert props(template, "volume_web_1") == {"name": "lab1-web-disk1", "size": 1}
    assert props(template, "server_attacker")["image"] == "cirros-0.6.2-x86_64-disk"


def test_a_data_volume_may_come_from_an_image():
    template = render(parsed(CURRENT))
    assert props(template, "volume_server_1") == {"name": "lab1-server-disk1", "size": 30, "image": "data-disk"}


def test_every_openstack_name_has_the_prefix():
    template = render(example("sandbox.yaml"))
    named = [v["properties"]["name"] for v in template["resources"].values() if "name" in v.get("properties", {})]
    assert named and all(name.startswith("lab1-") for name in named)
    assert props(template, "server_core-router")["name"] == "lab1-core-router"
    assert props(template, "net_attacker-switch")["name"] == "lab1-attacker-switch"
    assert props(template, "port_web_server-switch")["name"] == "lab1-web-server-switch"


def test_management_box_defaults_to_the_first_router_and_may_be_given():
    template = render(parsed(CURRENT))
    man = props(template, "server_man")
    assert (man["image"], man["flavor"]) == ("debian-12", "standard.small")
    options = SandboxOptions(management=ManagementBox("mgmt", "m1.small", "ubuntu"), key_name="me")
    man = props(render(parsed(CURRENT), options), "server_man")
    assert (man["image"], man["flavor"], man["key_name"]) == ("mgmt", "m1.small", "me")


def test_an_existing_uplink_network_and_no_floating_ip():
    options = SandboxOptions(uplink_network="base-net", external_network=None)
    template = render(example("small-sandbox.yaml"), options)
    assert not {"net_uplink", "subnet_uplink", "uplink_router", "man_floating_ip"} & set(template["resources"])
    port = props(template, "port_man_uplink")
    assert port["network"] == "base-net" and "fixed_ips" not in port
    assert "floating_ip" not in template["outputs"]["nodes"]["value"]["man"]


def test_the_nodes_output_names_every_address():
    template = render(example("small-sandbox.yaml"))
    nodes = template["outputs"]["nodes"]["value"]
    assert list(nodes) == ["man", "uan", "server", "router"]
    assert nodes["router"]["server_id"] == {"get_resource": "server_router"}
    assert [n["role"] for n in nodes.values()] == ["management", "user-access", "host", "router"]
    assert nodes["router"]["server_name"] == "lab1-router"
    assert nodes["router"]["addresses"]["server-switch"] == {
        "get_attr": ["port_router_server-switch", "fixed_ips", 0, "ip_address"]
    }
    assert nodes["man"]["floating_ip"] == {"get_attr": ["man_floating_ip", "floating_ip_address"]}
