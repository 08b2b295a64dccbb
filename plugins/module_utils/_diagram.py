# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Topology pictures as SVG, drawn with the standard library alone (private to the collection).

A ``Diagram`` lists networks, nodes (each with its links: a network and the node's
address there) and groups; ``render_svg`` lays them out in rows, top to bottom:

- the networks no host joins (a sandbox's WAN), as bars;
- the nodes that route or manage (router hosts, the management and user access nodes);
- the other networks' bars, in one row, each under the first router host linked to it;
- the hosts, each under its first network;
- the groups and the diagram's notes, as text.

A link is a line from a node to a network's bar, labelled with the node's address.
Hidden nodes and networks are dashed and say so. Every element has a class
(``os-network``, ``os-router``, ``os-server``, ``os-link``, ``os-group``), a
``<title>`` and its name as text: the simulator's dashboard draws with the same
classes. Colours are presentation attributes, not a stylesheet, so the picture can be
placed inside a page without restyling it. Every text is escaped. Widths come from the
texts' lengths in a monospace font, so the picture fits its content, and the same
diagram always gives the same bytes.
"""

from __future__ import annotations

import dataclasses
import html
import math
import re
from collections.abc import Iterable

ROLES = ("management", "router", "user-access", "host")
# Router hosts, the management node and the user access node sit in the row above the hosts.
UPPER_ROLES = ("management", "router", "user-access")
ROLE_CLASSES = {
    "management": "os-server os-management",
    "router": "os-router",
    "user-access": "os-server os-user-access",
    "host": "os-server",
}
ROLE_LABELS = {
    "management": "management node",
    "router": "router host",
    "user-access": "user access node",
    "host": "host",
}
ROLE_FILLS = {"management": "#eef2f7", "router": "#fff4e0", "user-access": "#eef7ee", "host": "#ffffff"}
NETWORK_COLOURS = ("#1f77b4", "#2ca02c", "#9467bd", "#d62728", "#17becf", "#8c564b", "#e377c2", "#7f7f7f")

# Sizes in pixels; text widths assume a monospace font (a character is 0.6 of its size, rounded up).
MARGIN = 20
GAP = 24  # between neighbouring blocks
LINK_ZONE = 56  # vertical room for a link and its address
UPPER_LINK_ZONE = 84  # between the upper nodes and the networks' bars: room for staggered addresses
BAR_HEIGHT = 8
BAR_LABEL = 18  # from a network row's top to its bar
NAME_SIZE = 13
TEXT_SIZE = 12
SMALL_SIZE = 11
TITLE_SIZE = 16
LINE = 15
PAD = 10
MIN_NODE_WIDTH = 80
MIN_NETWORK_WIDTH = 100

# A white outline under a text, so the lines it lies on do not hide it.
_HALO = {"stroke": "#ffffff", "stroke_width": 3, "paint_order": "stroke"}
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclasses.dataclass(frozen=True)
class DiagramNetwork:
    name: str
    cidr: str = ""
    hidden: bool = False

    @property
    def label(self) -> str:
        text = f"{self.name} {self.cidr}".strip()
        return f"{text} (hidden)" if self.hidden else text


@dataclasses.dataclass(frozen=True)
class Link:
    """A node's place on a network: the network's name and the node's address there ("" if not known)."""

    network: str
    address: str = ""


@dataclasses.dataclass(frozen=True)
class DiagramNode:
    name: str
    role: str = "host"  # one of ROLES; anything else is drawn as a host
    links: tuple[Link, ...] = ()
    hidden: bool = False
    notes: tuple[str, ...] = ()  # more lines in its box (a floating IP, a management address)
    title: str = ""  # more words for its <title> (a server's name)

    @property
    def upper(self) -> bool:
        return self.role in UPPER_ROLES

    @property
    def lines(self) -> tuple[str, ...]:
        return (("hidden",) if self.hidden else ()) + self.notes


@dataclasses.dataclass(frozen=True)
class DiagramGroup:
    name: str
    members: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Diagram:
    title: str
    networks: tuple[DiagramNetwork, ...] = ()
    nodes: tuple[DiagramNode, ...] = ()
    groups: tuple[DiagramGroup, ...] = ()
    notes: tuple[str, ...] = ()


def text_width(text: str, size: int = TEXT_SIZE) -> int:
    return math.ceil(len(text) * size * 0.6)


def _clean(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold."""
    return _NOT_XML.sub("\ufffd", str(text))


def esc(text: str) -> str:
    """``text`` escaped for an XML element or a quoted attribute."""
    return html.escape(_clean(text), quote=True)


def _attrs(**attrs: object) -> str:
    return "".join(f' {key.rstrip("_").replace("_", "-")}="{esc(str(value))}"' for key, value in attrs.items())


@dataclasses.dataclass
class _Box:
    x: int = 0
    y: int = 0
    width: int = 0
    height: int = 0

    @property
    def centre(self) -> int:
        return self.x + self.width // 2

    @property
    def right(self) -> int:
        return self.x + self.width


class _Layout:
    """Where everything goes: the rows, then blocks from left to right, one per upper node."""

    def __init__(self, diagram: Diagram) -> None:
        self.diagram = diagram
        self.networks = _all_networks(diagram)
        self.colour = {n.name: NETWORK_COLOURS[i % len(NETWORK_COLOURS)] for i, n in enumerate(self.networks)}
        upper_order = {role: index for index, role in enumerate(UPPER_ROLES)}
        self.upper = sorted((n for n in diagram.nodes if n.upper), key=lambda n: upper_order[n.role])
        self.hosts = [n for n in diagram.nodes if not n.upper]
        on_hosts = {link.network for node in self.hosts for link in node.links}
        on_upper = {link.network for node in self.upper for link in node.links}
        self.top = [n for n in self.networks if n.name in on_upper and n.name not in on_hosts]
        top_names = {n.name for n in self.top}
        self.middle = [n for n in self.networks if n.name not in top_names]
        # Each middle network under the first router host linked to it (else the first upper node).
        self.home_of_network: dict[str, str] = {}
        for node in sorted(self.upper, key=lambda n: n.role != "router"):
            for link in node.links:
                if link.network not in top_names:
                    self.home_of_network.setdefault(link.network, node.name)
        # Each host under its first network.
        self.hosts_under: dict[str, list[DiagramNode]] = {n.name: [] for n in self.middle}
        self.loose = []
        for node in self.hosts:
            if node.links:
                self.hosts_under[node.links[0].network].append(node)
            else:
                self.loose.append(node)
        self.boxes: dict[int, _Box] = {}  # id(node) -> its box
        self.bars: dict[str, _Box] = {}

    # -- widths -------------------------------------------------------------------------------

    @staticmethod
    def node_width(node: DiagramNode) -> int:
        texts = [text_width(node.name, NAME_SIZE)] + [text_width(t, SMALL_SIZE) for t in node.lines]
        addresses = [text_width(link.address, SMALL_SIZE) + 8 for link in node.links]
        return max([MIN_NODE_WIDTH, max(texts) + 2 * PAD, *addresses])

    @staticmethod
    def node_height(node: DiagramNode) -> int:
        return 2 * PAD + LINE + LINE * len(node.lines)

    def network_width(self, network: DiagramNetwork) -> int:
        hosts = self.hosts_under[network.name]
        inside = sum(self.node_width(h) for h in hosts) + GAP * max(0, len(hosts) - 1)
        return max(MIN_NETWORK_WIDTH, text_width(network.label) + 8, inside)

    def networks_of(self, node: DiagramNode) -> list[DiagramNetwork]:
        return [n for n in self.middle if self.home_of_network.get(n.name) == node.name]

    def block_width(self, networks: list[DiagramNetwork]) -> int:
        return sum(self.network_width(n) for n in networks) + GAP * max(0, len(networks) - 1)

    # -- positions ----------------------------------------------------------------------------

    def place(self) -> tuple[int, int]:
        """Give every node a box and every network a bar; returns the picture's width and height."""
        y = MARGIN + TITLE_SIZE + 18
        top_y = y
        y += len(self.top) * (BAR_LABEL + BAR_HEIGHT + 8)
        if self.top:
            y += LINK_ZONE - 8
        upper_y = y
        if self.upper:
            y += max(self.node_height(n) for n in self.upper) + UPPER_LINK_ZONE
        middle_y = y
        if self.middle:
            y += BAR_LABEL + BAR_HEIGHT + LINK_ZONE
        host_y = y
        if self.hosts:
            y += max(self.node_height(n) for n in self.hosts) + GAP

        x = MARGIN
        for node in self.upper:
            networks = self.networks_of(node)
            width = max(self.node_width(node), self.block_width(networks))
            self.boxes[id(node)] = self.box(node, x + (width - self.node_width(node)) // 2, upper_y)
            self.place_networks(networks, x + (width - self.block_width(networks)) // 2, middle_y, host_y)
            x += width + GAP
        orphans = [n for n in self.middle if n.name not in self.home_of_network]
        if orphans:
            self.place_networks(orphans, x, middle_y, host_y)
            x += self.block_width(orphans) + GAP
        for node in self.loose:
            self.boxes[id(node)] = self.box(node, x, host_y)
            x += self.node_width(node) + GAP
        content_right = max(x - GAP, MARGIN + MIN_NODE_WIDTH)
        for index, network in enumerate(self.top):
            linked = [self.boxes[id(n)] for n in self.upper if any(link.network == network.name for link in n.links)]
            left = min(b.x for b in linked)
            width = max(max(b.right for b in linked) - left, text_width(network.label) + 8)
            self.bars[network.name] = _Box(left, top_y + index * (BAR_LABEL + BAR_HEIGHT + 8), width)
            content_right = max(content_right, left + width)
        texts = [text_width(self.diagram.title, TITLE_SIZE)]
        texts += [indent + text_width(text) for text, indent, _group in self.legend()]
        width = max(content_right, MARGIN + max(texts)) + MARGIN
        return width, y + len(self.legend()) * LINE + MARGIN

    def box(self, node: DiagramNode, x: int, y: int) -> _Box:
        return _Box(x, y, self.node_width(node), self.node_height(node))

    def place_networks(self, networks: list[DiagramNetwork], x: int, bar_y: int, host_y: int) -> None:
        for network in networks:
            width = self.network_width(network)
            self.bars[network.name] = _Box(x, bar_y, width)
            hosts = self.hosts_under[network.name]
            inside = sum(self.node_width(h) for h in hosts) + GAP * max(0, len(hosts) - 1)
            hx = x + (width - inside) // 2
            for host in hosts:
                self.boxes[id(host)] = self.box(host, hx, host_y)
                hx += self.node_width(host) + GAP
            x += width + GAP

    def legend(self) -> list[tuple[str, int, DiagramGroup | None]]:
        """The lines under the picture: each text, its indent and the group it shows (if one)."""
        lines: list[tuple[str, int, DiagramGroup | None]] = []
        if self.diagram.groups:
            lines.append(("Groups:", 0, None))
            for group in self.diagram.groups:
                members = ", ".join(group.members) if group.members else "(no nodes)"
                lines.append((f"{group.name}: {members}", 16, group))
        return lines + [(note, 0, None) for note in self.diagram.notes]


def _all_networks(diagram: Diagram) -> list[DiagramNetwork]:
    """The diagram's networks, then any only its links name, in the order they are first named."""
    found = {n.name: n for n in diagram.networks}
    for node in diagram.nodes:
        for link in node.links:
            found.setdefault(link.network, DiagramNetwork(link.network))
    return list(found.values())


def _text(x: int, y: int, text: str, *, size: int = TEXT_SIZE, **attrs: object) -> str:
    return f"<text{_attrs(x=x, y=y, font_size=size, **attrs)}>{esc(text)}</text>"


def _links(layout: _Layout) -> Iterable[str]:
    for index, node in enumerate(layout.upper + layout.hosts):
        box = layout.boxes[id(node)]
        for number, link in enumerate(node.links):
            rail = layout.bars[link.network]
            # Straight up or down where the bar is, else to its nearest end.
            x2 = min(max(box.centre, rail.x + 6), rail.right - 6)
            # Where along the line its address goes (0 at the node, 1 at the bar).
            share = 0.5
            if rail.y < box.y:  # the bar is above the node
                y1, y2 = box.y, rail.y + BAR_LABEL + BAR_HEIGHT
                if x2 != box.centre:
                    share = 0.8  # a host's other network: near that bar, away from the row of addresses
            else:
                y1, y2 = box.y + box.height, rail.y + BAR_LABEL
                # Neighbouring upper nodes' addresses, and one node's, at different heights, so they do not meet.
                share = (0.3, 0.55, 0.8)[(index + number) % 3]
            colour = layout.colour[link.network]
            title = f"{node.name} on {link.network}" + (f": {link.address}" if link.address else "")
            yield f"<g{_attrs(class_='os-link', data_node=node.name, data_network=link.network)}>"
            yield f"<title>{esc(title)}</title>"
            yield f"<line{_attrs(x1=box.centre, y1=y1, x2=x2, y2=y2, stroke=colour, stroke_width=2)}/>"
            if link.address:
                x = box.centre + round((x2 - box.centre) * share)
                y = y1 + round((y2 - y1) * share) + 4
                # On a slanted line, beside it on the side it leans away from.
                if x2 < box.centre:
                    anchor, x = "end", x - 5
                elif x2 > box.centre:
                    anchor, x = "start", x + 5
                else:
                    anchor = "middle"
                style = {"fill": "#333333", "class_": "os-address", **_HALO}
                yield _text(x, y, link.address, size=SMALL_SIZE, text_anchor=anchor, **style)
            yield "</g>"


def _networks(layout: _Layout) -> Iterable[str]:
    for network in layout.networks:
        rail = layout.bars[network.name]
        colour = layout.colour[network.name]
        classes = "os-network os-hidden" if network.hidden else "os-network"
        rect = {"fill": colour, "rx": 3}
        if network.hidden:
            rect = {"fill": "#ffffff", "stroke": colour, "stroke_dasharray": "4 3", "rx": 3}
        yield f"<g{_attrs(class_=classes, data_name=network.name)}>"
        yield f"<title>{esc('network ' + network.label)}</title>"
        yield f"<rect{_attrs(x=rail.x, y=rail.y + BAR_LABEL, width=rail.width, height=BAR_HEIGHT, **rect)}/>"
        yield _text(rail.x + 2, rail.y + BAR_LABEL - 5, network.label, fill=colour, class_="os-label", **_HALO)
        yield "</g>"


def _nodes(layout: _Layout) -> Iterable[str]:
    for node in layout.upper + layout.hosts:
        box = layout.boxes[id(node)]
        role = node.role if node.role in ROLES else "host"
        classes = ROLE_CLASSES[role] + (" os-hidden" if node.hidden else "")
        rect: dict[str, object] = {"fill": ROLE_FILLS[role], "stroke": "#333333", "stroke_width": 1.5, "rx": 6}
        if role == "router":
            rect["rx"] = 14
        if node.hidden:
            rect["stroke_dasharray"] = "5 3"
        title = f"{ROLE_LABELS[role]} {node.name}" + (f" ({node.title})" if node.title else "")
        if node.hidden:
            title += ", hidden"
        addresses = [f"{link.network} {link.address}".strip() for link in node.links]
        if addresses:
            title += ": " + ", ".join(addresses)
        yield f"<g{_attrs(class_=classes, data_name=node.name, data_role=role)}>"
        yield f"<title>{esc(title)}</title>"
        yield f"<rect{_attrs(x=box.x, y=box.y, width=box.width, height=box.height, **rect)}/>"
        y = box.y + PAD + NAME_SIZE
        yield _text(
            box.centre, y, node.name, size=NAME_SIZE, text_anchor="middle", font_weight="bold", class_="os-label"
        )
        for line in node.lines:
            y += LINE
            yield _text(box.centre, y, line, size=SMALL_SIZE, text_anchor="middle", fill="#555555", class_="os-note")
        yield "</g>"


def _legend(layout: _Layout, height: int) -> Iterable[str]:
    lines = layout.legend()
    y = height - MARGIN - len(lines) * LINE + TEXT_SIZE
    for text, indent, group in lines:
        if group is None:
            yield _text(MARGIN + indent, y, text, fill="#555555", class_="os-note")
        else:
            yield f"<g{_attrs(class_='os-group', data_name=group.name)}>"
            yield f"<title>{esc('group ' + text)}</title>"
            yield _text(MARGIN + indent, y, text, class_="os-label")
            yield "</g>"
        y += LINE


def render_svg(diagram: Diagram) -> str:
    """The diagram as an SVG document (UTF-8 text, one element a line, ending in a newline)."""
    layout = _Layout(diagram)
    width, height = layout.place()
    svg = {
        "xmlns": "http://www.w3.org/2000/svg",
        "width": width,
        "height": height,
        "viewBox": f"0 0 {width} {height}",
        "class": "os-topology",
        "font-family": "DejaVu Sans Mono, Menlo, Consolas, monospace",
    }
    head = "".join(f' {key}="{esc(str(value))}"' for key, value in svg.items())
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f"<svg{head}>",
        f"<title>{esc('Sandbox ' + diagram.title)}</title>",
        f"<rect{_attrs(x=0, y=0, width=width, height=height, fill='#ffffff')}/>",
        _text(MARGIN, MARGIN + TITLE_SIZE, diagram.title, size=TITLE_SIZE, font_weight="bold", class_="os-caption"),
        *_links(layout),
        *_networks(layout),
        *_nodes(layout),
        *_legend(layout, height),
        "</svg>",
    ]
    return "\n".join(parts) + "\n"
