# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Topology pictures: valid SVG that names every node and network, escaped, fitted and byte-identical."""

from __future__ import annotations

import copy
import itertools
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.opensandbox.cloud.plugins.module_utils._diagram import (
    Diagram,
    DiagramNetwork,
    DiagramNode,
    Link,
    render_svg,
    text_box,
)
from ansible_collections.opensandbox.cloud.plugins.module_utils._sandbox_diagram import (
    deployed_diagram,
    topology_diagram,
)
from ansible_collections.opensandbox.cloud.plugins.module_utils._topology import load_topology
from ansible_collections.opensandbox.cloud.plugins.module_utils._topology_hot import SandboxOptions
from ansible_collections.opensandbox.cloud.tests.unit.plugins.module_utils.topology_samples import (
    CURRENT,
    LEGACY,
    example,
    parsed,
)

SVG = "{http://www.w3.org/2000/svg}"
#: where the browser test leaves its screenshot for a person to look at
SHOTS = Path(__file__).resolve().parents[4] / "build" / "test-output" / "diagram"


def picture(data: dict[str, Any], options: SandboxOptions | None = None) -> str:
    topology, problems, _warnings = load_topology(data)
    assert problems == []
    return render_svg(topology_diagram(topology, options or SandboxOptions()))


def elements(svg: str, css_class: str) -> list[ET.Element]:
    root = ET.fromstring(svg.encode("utf-8"))
    return [e for e in root.iter(f"{SVG}g") if css_class in (e.get("class") or "").split()]


def texts(element: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in element.iter(f"{SVG}text")]


def title(element: ET.Element) -> str:
    return element.find(f"{SVG}title").text


def by_name(svg: str, css_class: str) -> dict[str, ET.Element]:
    return {e.get("data-name"): e for e in elements(svg, css_class)}


def box(element: ET.Element) -> tuple[float, float, float, float]:
    rect = element.find(f"{SVG}rect")
    return tuple(float(rect.get(k)) for k in ("x", "y", "width", "height"))


def test_small_sandbox_names_its_host_router_host_and_network() -> None:
    svg = picture(example("small-sandbox.yaml"))
    root = ET.fromstring(svg.encode("utf-8"))
    assert root.tag == f"{SVG}svg"
    assert title(root) == "Sandbox small-sandbox"
    servers = by_name(svg, "os-server")
    assert set(servers) == {"server", "man", "uan"}
    assert texts(servers["server"]) == ["server"]
    assert title(servers["server"]) == "host server: server-switch 10.10.20.5"
    routers = by_name(svg, "os-router")
    assert list(routers) == ["router"]
    assert title(routers["router"]) == "router host router: wan 100.100.100.2, server-switch 10.10.20.1"
    networks = by_name(svg, "os-network")
    assert list(networks) == ["wan", "server-switch"]
    assert texts(networks["server-switch"]) == ["server-switch 10.10.20.0/24"]
    links = {(e.get("data-node"), e.get("data-network")): texts(e) for e in elements(svg, "os-link")}
    assert links[("server", "server-switch")] == ["10.10.20.5"]
    assert links[("router", "server-switch")] == ["10.10.20.1"]
    assert links[("man", "wan")] == ["100.100.100.1"]
    assert "192.168.128.0/17" in svg  # the management network, as a note


def test_the_layout_puts_the_wan_above_the_router_host_above_its_network_above_its_host() -> None:
    svg = picture(example("small-sandbox.yaml"))
    networks, routers, servers = by_name(svg, "os-network"), by_name(svg, "os-router"), by_name(svg, "os-server")
    wan_y = box(networks["wan"])[1]
    router_y = box(routers["router"])[1]
    switch_y = box(networks["server-switch"])[1]
    server_y = box(servers["server"])[1]
    assert wan_y < router_y < switch_y < server_y
    # The host hangs straight under the router host: one column.
    router, server = box(routers["router"]), box(servers["server"])
    assert router[0] + router[2] / 2 == server[0] + server[2] / 2


def test_the_picture_fits_its_content() -> None:
    svg = picture(example("sandbox.yaml"))
    root = ET.fromstring(svg.encode("utf-8"))
    width, height = float(root.get("width")), float(root.get("height"))
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    for element in root.iter(f"{SVG}rect"):
        x, y = float(element.get("x")), float(element.get("y"))
        assert x >= 0 and x + float(element.get("width")) <= width
        assert y >= 0 and y + float(element.get("height")) <= height
    # No two nodes overlap.
    boxes = [box(e) for cls in ("os-server", "os-router") for e in elements(svg, cls)]
    for i, (x1, y1, w1, h1) in enumerate(boxes):
        for x2, y2, w2, h2 in boxes[i + 1 :]:
            assert x1 + w1 <= x2 or x2 + w2 <= x1 or y1 + h1 <= y2 or y2 + h2 <= y1


def test_hidden_nodes_and_networks_and_groups_show() -> None:
    data = example("sandbox.yaml")
    data["networks"][1]["hidden"] = True
    svg = picture(data)
    server = by_name(svg, "os-server")["server"]
    assert "os-hidden" in server.get("class").split()
    assert texts(server) == ["server", "hidden"]
    assert "os-hidden" not in by_name(svg, "os-server")["web"].get("class")
    assert "(hidden)" in texts(by_name(svg, "os-network")["server-switch"])[0]
    groups = by_name(svg, "os-group")
    assert texts(groups["targets"]) == ["targets: server, web, client"]
    assert title(groups["attackers"]) == "group attackers: attacker"
    # The user access node joins the networks users may reach, not the server network.
    uan = {e.get("data-network") for e in elements(svg, "os-link") if e.get("data-node") == "uan"}
    assert uan == {"attacker-switch", "client-switch"}


def test_the_same_topology_draws_the_same_bytes() -> None:
    data = example("sandbox.yaml")
    first = picture(data)
    assert picture(copy.deepcopy(data)) == first
    assert picture(data) != picture(data, SandboxOptions(management_cidr="10.200.0.0/16"))


def test_hostile_names_are_escaped() -> None:
    hostile = "<script>alert('x')</script>&\"\x01"
    diagram = Diagram(
        title=hostile,
        networks=(DiagramNetwork(hostile, "10.0.0.0/24"),),
        nodes=(
            DiagramNode(hostile, "host", (Link(hostile, "10.0.0.5"),), notes=(hostile,)),
            DiagramNode("r", "router", (Link(hostile, "10.0.0.1"),)),
        ),
    )
    svg = render_svg(diagram)
    assert "<script" not in svg
    root = ET.fromstring(svg.encode("utf-8"))  # valid XML, control character and all
    assert list(root.iter("{http://www.w3.org/2000/svg}script")) == []
    shown = "<script>alert('x')</script>&\"\ufffd"
    assert title(root) == f"Sandbox {shown}"
    assert list(by_name(svg, "os-server")) == [shown]
    assert list(by_name(svg, "os-network")) == [shown]


def test_a_deployed_sandbox_draws_its_real_addresses() -> None:
    hosts = [
        {
            "name": "man",
            "role": "management",
            "server_name": "lab-man",
            "addresses": {"man-network": "192.168.128.3", "wan": "100.100.100.1", "uplink": "192.168.127.5"},
            "floating_ip": "172.24.4.9",
        },
        {
            "name": "router",
            "role": "router",
            "server_name": "lab-router",
            "addresses": {"man-network": "192.168.128.4", "wan": "100.100.100.2", "server-switch": "10.10.20.1"},
        },
        {
            "name": "server",
            "role": "host",
            "server_name": "lab-server",
            "addresses": {"man-network": "192.168.128.5", "server-switch": "10.10.20.5"},
        },
    ]
    cidrs = {"wan": "100.100.100.0/24", "server-switch": "10.10.20.0/24"}
    svg = render_svg(deployed_diagram("lab", hosts, cidrs, sandbox=True))
    assert list(by_name(svg, "os-network")) == ["server-switch", "wan"]
    assert texts(by_name(svg, "os-network")["server-switch"]) == ["server-switch 10.10.20.0/24"]
    man = by_name(svg, "os-server")["man"]
    assert texts(man) == ["man", "man-network 192.168.128.3", "uplink 192.168.127.5", "floating IP 172.24.4.9"]
    assert title(by_name(svg, "os-server")["server"]).startswith("host server (server lab-server)")
    assert list(by_name(svg, "os-router")) == ["router"]


def test_a_raw_template_stack_draws_its_servers_as_hosts() -> None:
    hosts = [{"name": "web", "role": "server_web", "server_name": "web", "addresses": {"private": "10.0.0.4"}}]
    svg = render_svg(deployed_diagram("web-tier", hosts, {"private": "10.0.0.0/24"}, sandbox=False))
    assert list(by_name(svg, "os-server")) == ["web"]
    assert texts(by_name(svg, "os-network")["private"]) == ["private 10.0.0.0/24"]


def test_networks_without_a_router_host_and_nodes_without_networks_are_drawn_too() -> None:
    diagram = Diagram(
        title="flat",
        nodes=(
            DiagramNode("a", "host", (Link("lan", "10.0.0.2"), Link("dmz", "10.1.0.2"))),
            DiagramNode("b", "host", (Link("dmz", "10.1.0.3"),)),
            DiagramNode("alone"),
        ),
    )
    svg = render_svg(diagram)
    assert list(by_name(svg, "os-network")) == ["lan", "dmz"]
    assert set(by_name(svg, "os-server")) == {"a", "b", "alone"}
    links = sorted((e.get("data-node"), e.get("data-network")) for e in elements(svg, "os-link"))
    assert links == [("a", "dmz"), ("a", "lan"), ("b", "dmz")]


def test_an_empty_diagram_is_a_small_valid_picture() -> None:
    root = ET.fromstring(render_svg(Diagram(title="empty")).encode("utf-8"))
    assert title(root) == "Sandbox empty"
    assert 0 < float(root.get("width")) < 400


#: hosts on two networks: links that turn below the networks' row
FLAT = Diagram(
    title="flat",
    nodes=(
        DiagramNode("a", "host", (Link("lan", "10.0.0.2"), Link("dmz", "10.1.0.2"))),
        DiagramNode("b", "host", (Link("dmz", "10.1.0.3"),)),
        DiagramNode("c", "host", (Link("lan", "10.0.0.3"), Link("dmz", "10.1.0.4"))),
        DiagramNode("alone"),
    ),
)
PICTURES = {
    "small-sandbox": lambda: picture(example("small-sandbox.yaml")),
    "sandbox": lambda: picture(example("sandbox.yaml")),
    "legacy": lambda: picture(parsed(LEGACY)),
    "current": lambda: picture(parsed(CURRENT)),
    "flat": lambda: render_svg(FLAT),
}


@pytest.mark.parametrize("name", PICTURES)
def test_no_text_overlaps_another_or_lies_on_a_link(name: str) -> None:
    root = ET.fromstring(PICTURES[name]().encode("utf-8"))
    boxes = []
    for element in root.iter(f"{SVG}text"):
        x, y, size = (int(element.get(k)) for k in ("x", "y", "font-size"))
        boxes.append((element.text, text_box(x, y, element.text, size, element.get("text-anchor", "start"))))
    segments = []
    for line in root.iter(f"{SVG}polyline"):
        points = [tuple(int(n) for n in point.split(",")) for point in line.get("points").split()]
        segments += itertools.pairwise(points)
    assert segments
    for start, end in segments:
        assert start[0] == end[0] or start[1] == end[1], ("slanted", start, end)
        for text, room in boxes:
            assert not room.crosses(start, end), (text, start, end)
    for (text1, room1), (text2, room2) in itertools.combinations(boxes, 2):
        assert not room1.overlaps(room2), (text1, text2)


def test_small_sandbox_picture_renders_in_a_browser(tmp_path) -> None:
    """The file heat_sandbox writes, opened in headless Chromium: every name is drawn, and drawn
    visibly (a box with a size), not only present in the markup."""
    from stacksim.testing_browser import chromium, require_browser, save_screenshot

    require_browser()
    svg_file = tmp_path / "small-sandbox.svg"
    svg_file.write_text(picture(example("small-sandbox.yaml")), encoding="utf-8")
    with chromium() as driver:
        driver.get(svg_file.as_uri())
        drawn = driver.execute_script(
            """
            const seen = {};
            for (const g of document.querySelectorAll('g.os-server, g.os-router, g.os-network')) {
              const box = g.getBBox();
              seen[g.getAttribute('class').split(' ')[0] + ':' + g.getAttribute('data-name')] =
                {text: g.textContent, width: box.width, height: box.height};
            }
            return seen;
            """
        )
        # Each text's box as the browser's font draws it: no two meet.
        drawn_texts = driver.execute_script(
            """
            return Array.from(document.querySelectorAll('text'), t => {
              const b = t.getBBox();
              return [t.textContent, b.x, b.y, b.width, b.height];
            });
            """
        )
        save_screenshot(driver, SHOTS / "small-sandbox.png")
    for (text1, x1, y1, w1, h1), (text2, x2, y2, w2, h2) in itertools.combinations(drawn_texts, 2):
        assert x1 + w1 <= x2 or x2 + w2 <= x1 or y1 + h1 <= y2 or y2 + h2 <= y1, (text1, text2)
    for element, name in (("os-server", "server"), ("os-router", "router"), ("os-network", "server-switch")):
        found = drawn[f"{element}:{name}"]
        assert name in found["text"]
        assert found["width"] > 0 and found["height"] > 0, (element, name, found)
