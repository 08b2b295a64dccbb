"""The dashboard's pictures, drawn here as SVG text with a fixed layout: the same cloud always
gives the same picture (no random placement, no layout done in the browser).

Every value that reaches the SVG is escaped: names are the users' and may hold markup.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape

# -- the network topology ----------------------------------------------------------------------

MARGIN = 16
LABEL_W = 230  #: the least left part of each network bar, where its name and CIDRs are written
COL_W = 180  #: one device (router or server) per column
BAR_H = 28
BAND_H = 120  #: the space under each network bar where the devices that hang off it sit
BOX_W, BOX_H = 156, 62
LINK_GAP = 14  #: between the links of one device
LABEL_PAD = 8  #: from a bar's left end to its name, and from its CIDRs to the first device column
PASS_GAP = 5  #: each side of a link that passes a foreign bar: the bar is broken there


@dataclass
class Link:
    """A device's port on a network: the addresses it has there (fixed, and floating on it)."""

    network_id: str
    fixed: list[str] = field(default_factory=list)
    floating: list[str] = field(default_factory=list)


@dataclass
class Device:
    id: str
    name: str
    kind: str  #: ``router`` or ``server``
    status: str
    links: list[Link] = field(default_factory=list)
    href: str | None = None


@dataclass
class Net:
    id: str
    name: str
    cidrs: list[str]
    external: bool = False


def _status_colour(status: str) -> str:
    status = status.upper()
    if status.endswith("FAILED") or status in ("ERROR", "DOWN"):
        return "#f4c7c3"
    if "PROGRESS" in status or status in ("BUILD", "REBUILD", "RESIZE", "REBOOT", "HARD_REBOOT"):
        return "#fce8b2"
    if status in ("ACTIVE", "UP") or status.endswith("COMPLETE"):
        return "#d4edda"
    return "#e8eaed"


def _text(x: float, y: float, value: str, cls: str = "", anchor: str = "start") -> str:
    klass = f' class="{cls}"' if cls else ""
    return f'<text x="{x:g}" y="{y:g}" text-anchor="{anchor}"{klass}>{escape(value)}</text>'


def _clip(value: str, width: int) -> str:
    return value if len(value) <= width else value[: width - 1] + "\u2026"


def text_size(cls: str = "") -> int:
    """The font size (px) the dashboard's stylesheet gives an SVG text of class ``cls``."""
    return 11 if cls in ("ip", "type", "cidr") else 12


def text_width(value: str, cls: str = "") -> int:
    """A generous width (px) of ``value`` in the dashboard's sans-serif font: the one place the
    pictures size their texts (an average glyph is well under 0.6 of the size, bold under 0.65)."""
    return math.ceil(len(value) * text_size(cls) * (0.65 if cls == "name" else 0.6))


def _segments(left: float, right: float, passes: Sequence[float]) -> list[tuple[float, float]]:
    """The pieces of a bar from ``left`` to ``right`` left once it is broken where links pass."""
    pieces, start = [], left
    for x in sorted(passes):
        if x - PASS_GAP > start:
            pieces.append((start, x - PASS_GAP))
        start = max(start, x + PASS_GAP)
    if right > start:
        pieces.append((start, right))
    return pieces


def _band(device: Device, rows: Mapping[str, int], bands: int) -> int:
    """The band a device sits in: under the first network it is on (the last band if on none)."""
    on = [rows[link.network_id] for link in device.links if link.network_id in rows]
    return min(on) if on else bands - 1


def _ports(device: Device, rows: Mapping[str, int], band: int) -> list[tuple[Link, float]]:
    """A device's links to the networks drawn, each with its line's offset from the device's middle:
    up to the band's own network first, then down from the furthest network to the nearest."""
    links = sorted(
        (link for link in device.links if link.network_id in rows),
        key=lambda link: (rows[link.network_id] > band, -rows[link.network_id]),
    )
    return [(link, (index - (len(links) - 1) / 2) * LINK_GAP) for index, link in enumerate(links)]


def topology_svg(networks: Sequence[Net], devices: Sequence[Device]) -> str:
    """Networks as horizontal bars, one under the other; each router and server in a column of
    its own, in the band under the first network it is on, with a line to every network it has
    a port on (labelled with its fixed IPs; floating IPs are written on the device).

    A line to a network further down passes the bars in between through a break in them, so it
    is seen to end only at its own network's bar; its links run left to right from the furthest
    network to the nearest, so a line never crosses the address written beside another."""
    rows = {net.id: index for index, net in enumerate(networks)}
    names = {net.id: net.name or net.id for net in networks}
    cidrs = {net.id: ", ".join(net.cidrs) or "no subnet visible" for net in networks}
    bands = max(1, len(networks))
    placed = [_band(device, rows, bands) for device in devices]
    # the devices start right of the longest network name and CIDRs, so no link passes them
    label_w = max(
        [LABEL_W] + [2 * LABEL_PAD + text_width(names[n], "name") + 10 + text_width(cidrs[n], "cidr") for n in rows]
    )
    ports = [_ports(device, rows, band) for device, band in zip(devices, placed, strict=True)]
    # a column is wide enough for the addresses written right of its lines
    col_w = max(
        [COL_W]
        + [
            math.ceil(2 * (dx + 4 + text_width(", ".join(link.fixed), "ip") + LABEL_PAD))
            for links in ports
            for link, dx in links
        ]
    )
    width = MARGIN * 2 + label_w + max(1, len(devices)) * col_w
    # the band under the last network only if a device sits there
    height = MARGIN * 2 + bands * (BAR_H + BAND_H) - (0 if bands - 1 in placed or not networks else BAND_H)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="os-topology" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="network topology">',
        "<title>Network topology</title>",
    ]

    def bar_y(row: int) -> int:
        return MARGIN + row * (BAR_H + BAND_H)

    passes: dict[int, list[float]] = {row: [] for row in rows.values()}  #: where links pass each bar
    drawn = []
    for column, (device, band) in enumerate(zip(devices, placed, strict=True)):
        x = MARGIN + label_w + column * col_w + (col_w - BOX_W) / 2
        y = bar_y(band) + BAR_H + (BAND_H - BOX_H) / 2
        lines = []
        for link, dx in ports[column]:
            lx = x + BOX_W / 2 + dx
            row = rows[link.network_id]
            if row <= band:
                y1, y2, ty = y, bar_y(row) + BAR_H, bar_y(row) + BAR_H + 12
            else:
                y1, y2, ty = y + BOX_H, bar_y(row), bar_y(row) - 5
                for between in range(band + 1, row):
                    passes[between].append(lx)
            ips = ", ".join(link.fixed)
            label = _text(lx + 4, ty, ips, "ip") if ips else ""
            lines.append(
                f'<g class="os-port" data-network="{escape(link.network_id)}">'
                f"<title>{escape(device.name)} on {escape(names[link.network_id])}: "
                f"{escape(ips or 'no fixed IP')}</title>"
                f'<line x1="{lx:g}" y1="{y1:g}" x2="{lx:g}" y2="{y2:g}" stroke="#5f6368" stroke-width="2"/>'
                f"{label}</g>"
            )
        floating = [ip for link in device.links for ip in link.floating]
        name = device.name or device.id
        title = f"{device.kind} {name} ({device.status})"
        if floating:
            title += f", floating IP {', '.join(floating)}"
        box = (
            f'<rect x="{x:g}" y="{y:g}" width="{BOX_W}" height="{BOX_H}" rx="{14 if device.kind == "router" else 4}" '
            f'fill="{_status_colour(device.status)}" stroke="#3c4043"/>'
            + _text(x + BOX_W / 2, y + 18, _clip(name, 21), "name", "middle")
            + _text(x + BOX_W / 2, y + 34, f"{device.kind} \u00b7 {device.status}", "status", "middle")
            + (
                _text(x + BOX_W / 2, y + 50, _clip("FIP " + ", ".join(floating), 22), "fip", "middle")
                if floating
                else ""
            )
        )
        if device.href:
            box = f'<a href="{escape(device.href)}">{box}</a>'
        drawn.append(
            f'<g class="os-{device.kind}" data-id="{escape(device.id)}" data-name="{escape(name)}">'
            f"<title>{escape(title)}</title>{''.join(lines)}{box}</g>"
        )
    for net in networks:
        row = rows[net.id]
        y = bar_y(row)
        fill = "#c6dafc" if net.external else "#d2e3fc"
        bar = "".join(
            f'<rect x="{left:g}" y="{y}" width="{right - left:g}" height="{BAR_H}" rx="4" '
            f'fill="{fill}" stroke="#1a73e8"/>'
            for left, right in _segments(MARGIN, width - MARGIN, passes[row])
        )
        kind = " external" if net.external else ""
        out.append(
            f'<g class="os-network{kind}" data-id="{escape(net.id)}" data-name="{escape(names[net.id])}">'
            f"<title>network {escape(names[net.id])}: {escape(cidrs[net.id])}</title>{bar}"
            f'<text x="{MARGIN + LABEL_PAD}" y="{y + 18}"><tspan class="name">{escape(names[net.id])}</tspan>'
            f'<tspan class="cidr" dx="10">{escape(cidrs[net.id])}</tspan></text></g>'
        )
    out.extend(drawn)
    out.append("</svg>")
    return "".join(out)


# -- a stack's resources -----------------------------------------------------------------------

RES_W, RES_H = 190, 54
RES_GAP_X, RES_GAP_Y = 60, 16


@dataclass
class Resource:
    name: str
    type: str
    state: str  #: ``CREATE_IN_PROGRESS`` ...


def _layers(names: Sequence[str], required_by: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """Each resource's column: 0 for those that need nothing, else one past the furthest it needs."""
    needs: dict[str, set[str]] = {name: set() for name in names}
    for need, users in required_by.items():
        for user in users:
            if user in needs and need in needs:
                needs[user].add(need)
    depth: dict[str, int] = {}

    def of(name: str, seen: frozenset[str] = frozenset()) -> int:
        if name not in depth:
            deeper = [of(n, seen | {name}) for n in needs[name] if n not in seen]
            depth[name] = 1 + max(deeper) if deeper else 0
        return depth[name]

    for name in names:
        of(name)
    return depth


def stack_svg(resources: Sequence[Resource], required_by: Mapping[str, Sequence[str]]) -> str:
    """The resources as boxes: in columns by dependency (what a resource needs is to its left,
    with an arrow to it), or in a square grid when no dependency is known."""
    names = sorted(r.name for r in resources)
    by_name = {r.name: r for r in resources}
    edges = [(need, user) for need in names for user in required_by.get(need, ()) if user in by_name]
    if edges:
        layer = _layers(names, required_by)
    else:
        per_row = max(1, math.ceil(math.sqrt(len(names))))
        layer = {name: index % per_row for index, name in enumerate(names)}
    columns: dict[int, list[str]] = {}
    for name in names:
        columns.setdefault(layer[name], []).append(name)
    where: dict[str, tuple[float, float]] = {}
    for col, members in columns.items():
        for row, name in enumerate(members):
            where[name] = (MARGIN + col * (RES_W + RES_GAP_X), MARGIN + row * (RES_H + RES_GAP_Y))
    width = MARGIN * 2 + max(1, len(columns)) * (RES_W + RES_GAP_X) - RES_GAP_X
    height = MARGIN * 2 + max([len(m) for m in columns.values()] or [1]) * (RES_H + RES_GAP_Y) - RES_GAP_Y
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="os-stack-graph" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="stack resources">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#5f6368"/></marker></defs>',
    ]
    for need, user in edges:
        (x1, y1), (x2, y2) = where[need], where[user]
        out.append(
            f'<line class="os-dependency" x1="{x1 + RES_W:g}" y1="{y1 + RES_H / 2:g}" x2="{x2:g}" '
            f'y2="{y2 + RES_H / 2:g}" stroke="#5f6368" marker-end="url(#arrow)"/>'
        )
    for name in names:
        res = by_name[name]
        x, y = where[name]
        out.append(
            f'<g class="os-resource" data-resource="{escape(name)}" data-state="{escape(res.state)}">'
            f"<title>{escape(name)} ({escape(res.type)}): {escape(res.state)}</title>"
            f'<rect x="{x:g}" y="{y:g}" width="{RES_W}" height="{RES_H}" rx="4" '
            f'fill="{_status_colour(res.state)}" stroke="#3c4043"/>'
            + _text(x + 8, y + 16, _clip(name, 26), "name")
            + _text(x + 8, y + 31, _clip(res.type, 28), "type")
            + _text(x + 8, y + 46, res.state, "state")
            + "</g>"
        )
    out.append("</svg>")
    return "".join(out)
