# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Topology pictures as SVG, drawn with the standard library alone (private to the collection).

A ``Diagram`` lists networks, nodes (each with its links: a network and the node's
address there) and groups; ``render_svg`` lays them out in rows, top to bottom:

- the networks the management node joins and no host does (a sandbox's WAN), as bars;
- the nodes that route or manage (router hosts, the management and user access nodes);
- the other networks' bars, in one row, each under the first router host linked to it;
- the hosts, each under its first network;
- the groups and the diagram's notes, as text.

A network's name is written inside its bar, where no link reaches. A link runs from a
node to a bar straight where the bar passes under (or over) the node, else it turns onto a
horizontal track of its own near the bar: no link slants. The node's address is written
beside the link's first run, as near the node as it meets no other text and no link.
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
from collections.abc import Iterable, Iterator

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
UPPER_LINK_ZONE = 72  # between the upper nodes and the networks' bars
TRACK = 8  # between the horizontal runs of links that turn, one run each
INSET = 8  # from a box's or a bar's end to the nearest link on it
SPREAD = 12  # least distance between two links on the same edge
LABEL_INDENT = 6  # from a bar's start to its name
BAR_HEIGHT = 18  # a network's bar, its name written inside it
NAME_SIZE = 13
TEXT_SIZE = 12
SMALL_SIZE = 11
TITLE_SIZE = 16
LINE = 15
PAD = 10
MIN_NODE_WIDTH = 80
MIN_NETWORK_WIDTH = 100

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

    @property
    def bottom(self) -> int:
        return self.y + self.height

    def overlaps(self, other: _Box) -> bool:
        return self.x < other.right and other.x < self.right and self.y < other.bottom and other.y < self.bottom

    def crosses(self, start: tuple[int, int], end: tuple[int, int]) -> bool:
        """Whether the horizontal or vertical segment from ``start`` to ``end`` runs through the box."""
        (x1, y1), (x2, y2) = start, end
        return _Box(min(x1, x2), min(y1, y2), abs(x2 - x1) or 1, abs(y2 - y1) or 1).overlaps(self)


def text_box(x: int, y: int, text: str, size: int = TEXT_SIZE, anchor: str = "start") -> _Box:
    """The room a text drawn at ``x`` (its start, middle or end) on baseline ``y`` takes."""
    width = text_width(text, size)
    left = {"start": x, "middle": x - width // 2 - 1, "end": x - width}[anchor]
    return _Box(left, y - size, width + 1, size + size // 4)


Segment = tuple[tuple[int, int], tuple[int, int]]


@dataclasses.dataclass
class _Route:
    """A link drawn: its corners from the node's edge to the bar's, and its address's place."""

    node: DiagramNode
    link: Link
    points: list[tuple[int, int]]
    address: tuple[int, int, str] | None = None  # x, baseline, anchor

    @property
    def segments(self) -> list[Segment]:
        return [(self.points[i], self.points[i + 1]) for i in range(len(self.points) - 1)]

    @property
    def address_box(self) -> _Box:
        x, y, anchor = self.address or (0, 0, "start")
        return text_box(x, y, self.link.address, SMALL_SIZE, anchor)


def _along(box: _Box, from_right: bool) -> range:
    """The x where links may meet the box's top or bottom edge, from one end."""
    xs = range(box.x + INSET, box.right - INSET + 1)
    return xs[::-1] if from_right else xs


def _spots(segments: list[Segment]) -> Iterator[tuple[int, int, str]]:
    """Where a link's address may go (x, baseline, anchor), best first: beside its runs from the
    node on, a line at a time (right of a vertical run, then left; above a horizontal one, then below)."""
    for (x1, y1), (x2, y2) in segments:
        if x1 == x2:
            step = 1 if y2 > y1 else -1
            # The text's top going down (its bottom going up) a line at a time, then against the run's end.
            for edge in [*range(y1 + 3 * step, y2, LINE * step), y2 - (SMALL_SIZE + 6) * step]:
                y = edge + SMALL_SIZE if step > 0 else edge - SMALL_SIZE // 4
                yield x1 + 5, y, "start"
                yield x1 - 5, y, "end"
        else:
            step = 1 if x2 > x1 else -1
            for x in range(x1 + 5 * step, x2, 2 * PAD * step):
                yield x, y1 - 4, "start" if step > 0 else "end"
                yield x, y1 + 3 + SMALL_SIZE, "start" if step > 0 else "end"


class _Layout:
    """Where everything goes: the rows, then blocks from left to right, one per upper node."""

    def __init__(self, diagram: Diagram) -> None:
        self.diagram = diagram
        self.networks = _all_networks(diagram)
        self.colour = {n.name: NETWORK_COLOURS[i % len(NETWORK_COLOURS)] for i, n in enumerate(self.networks)}
        upper_order = {role: index for index, role in enumerate(UPPER_ROLES)}
        self.upper = sorted((n for n in diagram.nodes if n.upper), key=lambda n: upper_order[n.role])
        self.hosts = [n for n in diagram.nodes if not n.upper]
        # On top, the networks the management node joins and no host does: a network only router
        # hosts join sits under one of them instead, so no link to the top runs through its bar.
        on_hosts = {link.network for node in self.hosts for link in node.links}
        on_management = {link.network for node in self.upper if node.role == "management" for link in node.links}
        self.top = [n for n in self.networks if n.name in on_management and n.name not in on_hosts]
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
        self.routes: list[_Route] = []

    # -- widths -------------------------------------------------------------------------------

    @staticmethod
    def node_width(node: DiagramNode) -> int:
        texts = [text_width(node.name, NAME_SIZE)] + [text_width(t, SMALL_SIZE) for t in node.lines]
        # Room for its links side by side, an address beside each (the first usually goes the other way).
        addresses = sum(text_width(link.address, SMALL_SIZE) + 2 * INSET for link in node.links[1:])
        return max([MIN_NODE_WIDTH, max(texts) + 2 * PAD, addresses])

    @staticmethod
    def node_height(node: DiagramNode) -> int:
        return 2 * PAD + LINE + LINE * len(node.lines)

    def network_width(self, network: DiagramNetwork) -> int:
        hosts = self.hosts_under[network.name]
        inside = sum(self.node_width(h) for h in hosts) + GAP * max(0, len(hosts) - 1)
        return max(MIN_NETWORK_WIDTH, self.label_width(network), inside)

    @staticmethod
    def label_width(network: DiagramNetwork) -> int:
        return text_width(network.label) + 2 * LABEL_INDENT

    def networks_of(self, node: DiagramNode) -> list[DiagramNetwork]:
        return [n for n in self.middle if self.home_of_network.get(n.name) == node.name]

    def block_width(self, networks: list[DiagramNetwork]) -> int:
        return sum(self.network_width(n) for n in networks) + GAP * max(0, len(networks) - 1)

    # -- positions ----------------------------------------------------------------------------

    def place(self) -> tuple[int, int]:
        """Give every node a box, every network a bar and every link a route; returns the picture's size."""
        # Across first: the blocks from left to right, each upper node over its networks and their hosts.
        x = MARGIN
        for node in self.upper:
            networks = self.networks_of(node)
            width = max(self.node_width(node), self.block_width(networks))
            self.boxes[id(node)] = self.box(node, x + (width - self.node_width(node)) // 2)
            self.place_networks(networks, x + (width - self.block_width(networks)) // 2)
            x += width + GAP
        orphans = [n for n in self.middle if n.name not in self.home_of_network]
        if orphans:
            self.place_networks(orphans, x)
            x += self.block_width(orphans) + GAP
        for node in self.loose:
            self.boxes[id(node)] = self.box(node, x)
            x += self.node_width(node) + GAP
        for network in self.top:
            linked = [self.boxes[id(n)] for n in self.upper if any(link.network == network.name for link in n.links)]
            left = min(b.x for b in linked)
            width = max(max(b.right for b in linked) - left, self.label_width(network))
            self.bars[network.name] = _Box(left, 0, width, BAR_HEIGHT)

        # Then down: each row's height, with a track for every link that turns in the zone above the row.
        y = MARGIN + TITLE_SIZE + 14
        for network in self.top:
            self.bars[network.name].y = y
            y += BAR_HEIGHT + 8
        if self.top:
            y += LINK_ZONE - 8
        y = self.place_row(self.upper, y)
        if self.upper:
            y += UPPER_LINK_ZONE + TRACK * self.turns(self.upper)
        for network in self.middle:
            self.bars[network.name].y = y
        if self.middle:
            y += BAR_HEIGHT + LINK_ZONE + TRACK * self.turns(self.hosts)
        y = self.place_row(self.hosts, y)
        if self.hosts:
            y += GAP

        self.routes = self.route_links()
        texts = [text_width(self.diagram.title, TITLE_SIZE)]
        texts += [indent + text_width(text) for text, indent, _group in self.legend()]
        drawn = [*self.boxes.values(), *self.bars.values(), *(r.address_box for r in self.routes if r.address)]
        right = max([MARGIN + max(texts), MARGIN + MIN_NODE_WIDTH, *(b.right for b in drawn)])
        return right + MARGIN, y + len(self.legend()) * LINE + MARGIN

    def box(self, node: DiagramNode, x: int) -> _Box:
        return _Box(x, 0, self.node_width(node), self.node_height(node))

    def place_row(self, nodes: list[DiagramNode], y: int) -> int:
        """Put ``nodes`` on the row at ``y``; returns the row's bottom."""
        for node in nodes:
            self.boxes[id(node)].y = y
        return y + max((self.node_height(n) for n in nodes), default=0)

    def place_networks(self, networks: list[DiagramNetwork], x: int) -> None:
        for network in networks:
            width = self.network_width(network)
            self.bars[network.name] = _Box(x, 0, width, BAR_HEIGHT)
            hosts = self.hosts_under[network.name]
            inside = sum(self.node_width(h) for h in hosts) + GAP * max(0, len(hosts) - 1)
            hx = x + (width - inside) // 2
            for host in hosts:
                self.boxes[id(host)] = self.box(host, hx)
                hx += self.node_width(host) + GAP
            x += width + GAP

    # -- links --------------------------------------------------------------------------------

    @staticmethod
    def overlap(box: _Box, rail: _Box) -> tuple[int, int]:
        """The stretch of x where a straight link can join the box and the bar (empty if low > high)."""
        return max(box.x, rail.x) + INSET, min(box.right, rail.right) - INSET

    def turns(self, nodes: list[DiagramNode]) -> int:
        """How many of the nodes' links to the networks' middle row turn (the bar is not under the node)."""
        middle = {n.name for n in self.middle}
        count = 0
        for node in nodes:
            for link in node.links:
                if link.network in middle:
                    low, high = self.overlap(self.boxes[id(node)], self.bars[link.network])
                    count += low > high
        return count

    def route_links(self) -> list[_Route]:
        """Every link as horizontal and vertical runs: straight where the bar passes under (or over)
        the node, else down (or up) from the node, across on a track of its own near the bar, and on."""
        taken: dict[int, list[int]] = {}  # the links' x on each node's and bar's edge, by the edge's y

        def free(candidates: Iterable[int], *edges: int) -> int:
            candidates = list(candidates)
            found = next(
                (x for x in candidates if all(abs(x - t) >= SPREAD for e in edges for t in taken.get(e, ()))),
                candidates[0],
            )
            for edge in edges:
                taken.setdefault(edge, []).append(found)
            return found

        routes = []
        tracks = {True: 0, False: 0}  # the turns so far, above and below the middle row
        for node in self.upper + self.hosts:
            box = self.boxes[id(node)]
            for link in node.links:
                rail = self.bars[link.network]
                up = rail.y < box.y
                start, end = (box.y, rail.bottom) if up else (box.bottom, rail.y)
                low, high = self.overlap(box, rail)
                if low <= high:
                    nearest = min(max(box.centre, low), high)
                    x = free(sorted(range(low, high + 1), key=lambda x: (abs(x - nearest), x)), start, end)
                    points = [(x, start), (x, end)]
                else:
                    tracks[up] += 1
                    track = end + (TRACK if up else -TRACK) * (tracks[up] + 1)
                    # From the node's end nearest the bar to the bar's end nearest the node.
                    rightwards = rail.x > box.x
                    x1, x2 = free(_along(box, rightwards), start), free(_along(rail, not rightwards), end)
                    points = [(x1, start), (x1, track), (x2, track), (x2, end)]
                routes.append(_Route(node, link, points))
        self.place_addresses(routes)
        return routes

    def place_addresses(self, routes: list[_Route]) -> None:
        """Each address at the first of its spots clear of every box, bar, address placed and link."""
        segments = [segment for route in routes for segment in route.segments]
        taken = [*self.boxes.values(), *self.bars.values()]
        for route in routes:
            if not route.link.address:
                continue
            spots = list(_spots(route.segments))

            def clear(spot: tuple[int, int, str], address: str = route.link.address) -> bool:
                room = text_box(spot[0], spot[1], address, SMALL_SIZE, spot[2])
                return (
                    room.x >= 0
                    and not any(room.overlaps(other) for other in taken)
                    and not any(room.crosses(*segment) for segment in segments)
                )

            route.address = next(filter(clear, spots), spots[0])
            taken.append(route.address_box)

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
    for route in layout.routes:
        node, link = route.node, route.link
        title = f"{node.name} on {link.network}" + (f": {link.address}" if link.address else "")
        points = " ".join(f"{x},{y}" for x, y in route.points)
        line = {"points": points, "fill": "none", "stroke": layout.colour[link.network], "stroke_width": 2}
        yield f"<g{_attrs(class_='os-link', data_node=node.name, data_network=link.network)}>"
        yield f"<title>{esc(title)}</title>"
        yield f"<polyline{_attrs(**line)}/>"
        if route.address:
            x, y, anchor = route.address
            yield _text(x, y, link.address, size=SMALL_SIZE, text_anchor=anchor, fill="#333333", class_="os-address")
        yield "</g>"


def _networks(layout: _Layout) -> Iterable[str]:
    for network in layout.networks:
        rail = layout.bars[network.name]
        colour = layout.colour[network.name]
        classes = "os-network os-hidden" if network.hidden else "os-network"
        rect = {"fill": colour, "fill_opacity": 0.15, "stroke": colour, "stroke_width": 1.5, "rx": 3}
        if network.hidden:
            rect = {"fill": "#ffffff", "stroke": colour, "stroke_width": 1.5, "stroke_dasharray": "4 3", "rx": 3}
        yield f"<g{_attrs(class_=classes, data_name=network.name)}>"
        yield f"<title>{esc('network ' + network.label)}</title>"
        yield f"<rect{_attrs(x=rail.x, y=rail.y, width=rail.width, height=rail.height, **rect)}/>"
        # Inside the bar, where no link reaches.
        baseline = rail.y + (BAR_HEIGHT + TEXT_SIZE) // 2 - 2
        yield _text(rail.x + LABEL_INDENT, baseline, network.label, fill=colour, class_="os-label")
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
