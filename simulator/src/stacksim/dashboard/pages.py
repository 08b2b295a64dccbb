"""The dashboard's HTML: plain pages, every value escaped (names and log lines may hold markup)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

from stacksim.dashboard import svg
from stacksim.dashboard.reads import PREFIX, Reader, StackView

if TYPE_CHECKING:
    from stacksim.auth import Context

NAV = (
    ("topology", "Topology"),
    ("servers", "Servers"),
    ("volumes", "Volumes"),
    ("images", "Images"),
    ("stacks", "Stacks"),
)


def e(value: Any) -> str:
    return escape("" if value is None else str(value))


def page(title: str, body: str, ctx: Context | None = None, active: str = "") -> str:
    header = ""
    if ctx is not None:
        links = "".join(
            f'<a href="{PREFIX}/{key}"{" class=active" if key == active else ""}>{label}</a>' for key, label in NAV
        )
        role = " (admin: all projects)" if ctx.is_admin else ""
        header = (
            f"<header><strong>stacksim</strong>{links}"
            f'<span class="who">{e(ctx.user_name)} @ {e(ctx.project_name)}{role}</span>'
            f'<form method="post" action="{PREFIX}/logout"><button type="submit">Log out</button></form></header>'
        )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{e(title)} - stacksim</title>"
        f'<link rel="stylesheet" href="{PREFIX}/static/dashboard.css"></head>'
        f"<body>{header}<main><h1>{e(title)}</h1>{body}</main>"
        f'<script src="{PREFIX}/static/dashboard.js"></script></body></html>'
    )


def table(heads: Sequence[str], rows: Iterable[Sequence[str]], empty: str = "None.") -> str:
    """A table of cells already made HTML (escape what goes in them)."""
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    if not body:
        return f'<p class="muted">{e(empty)}</p>'
    head = "".join(f"<th>{e(h)}</th>" for h in heads)
    thead = f"<thead><tr>{head}</tr></thead>" if any(heads) else ""  # a list of facts has no heads
    return f"<table>{thead}<tbody>{body}</tbody></table>"


def login(message: str = "", username: str = "", project: str = "") -> str:
    note = f'<p class="error" role="alert">{e(message)}</p>' if message else ""
    body = (
        f"{note}<p>Log in with a Keystone user of the domain Default and one of its projects.</p>"
        f'<form class="login" method="post" action="{PREFIX}/login">'
        f'<label>Username <input name="username" id="username" value="{e(username)}" required></label>'
        '<label>Password <input name="password" id="password" type="password" required></label>'
        f'<label>Project <input name="project" id="project" value="{e(project)}" required></label>'
        '<button type="submit" id="login">Log in</button></form>'
    )
    return page("Log in to the stacksim dashboard", body)


def error(ctx: Context | None, status: int, message: str) -> str:
    return page(f"{status}", f'<p class="error">{e(message)}</p>', ctx)


def _project_cell(reader: Reader, project_id: str | None) -> list[str]:
    return [e(reader.project_name(project_id))] if reader.ctx.is_admin else []


def _heads(reader: Reader, *heads: str) -> list[str]:
    return [*heads, "Project"] if reader.ctx.is_admin else list(heads)


def topology(reader: Reader) -> str:
    networks, devices = reader.topology()
    picture = svg.topology_svg(networks, devices)
    body = (
        '<p class="muted">Networks (with their subnets) are the horizontal bars; each router and server '
        "hangs off the networks it has a port on, with its fixed IPs; floating IPs are written on the box.</p>"
        f'<div class="picture" id="topology">{picture}</div>'
    )
    return page("Network topology", body, reader.ctx, "topology")


def _address_text(by_network: dict[str, list[dict[str, Any]]]) -> str:
    parts = []
    for network, entries in sorted(by_network.items()):
        ips = ", ".join(
            f"{a['addr']}{' (floating)' if a.get('OS-EXT-IPS:type') == 'floating' else ''}" for a in entries
        )
        parts.append(f"{e(network)}: {e(ips)}")
    return "<br>".join(parts)


def servers(reader: Reader) -> str:
    found = reader.servers()
    addresses = reader.addresses(found)
    rows = [
        [
            f'<a href="{PREFIX}/servers/{e(s["id"])}">{e(s["name"])}</a>',
            f'<span class="state">{e(s["status"])}</span>',
            _address_text(addresses[s["id"]]),
            e(s.get("created")),
            *_project_cell(reader, s["project_id"]),
        ]
        for s in found
    ]
    body = table(_heads(reader, "Name", "Status", "Addresses", "Created"), rows, "No servers.")
    return page("Servers", body, reader.ctx, "servers")


def server(reader: Reader, server_id: str) -> str:
    record = reader.server(server_id)
    addresses = reader.addresses([record])[record["id"]]
    flavor = record.get("flavor") or {}
    facts = [
        ("ID", e(record["id"])),
        ("Status", f'<span class="state" id="server-status">{e(record["status"])}</span>'),
        ("Project", e(reader.project_name(record["project_id"]))),
        ("Flavor", e(flavor.get("name") or flavor.get("id") or "")),
        ("Key pair", e(record.get("key_name") or "")),
        ("Addresses", _address_text(addresses) or '<span class="muted">none</span>'),
        ("Created", e(record.get("created"))),
    ]
    volumes = [
        [e(a.get("volume_id")), e(a.get("mountpoint") or a.get("device") or "")] for a in reader.server_volumes(record)
    ]
    body = (
        table(["", ""], [[f"<strong>{k}</strong>", v] for k, v in facts])
        + "<h2>Volumes</h2>"
        + table(["Volume", "Device"], volumes, "No volume attached.")
        + "<h2>Console log</h2>"
        + f'<pre class="console" id="console">{e(reader.console(record))}</pre>'
    )
    return page(f"Server {record['name']}", body, reader.ctx, "servers")


def volumes(reader: Reader) -> str:
    names = {s["id"]: s["name"] for s in reader.servers()}
    rows = []
    for v in reader.volumes():
        attached = "<br>".join(
            f'<a href="{PREFIX}/servers/{e(a["server_id"])}">{e(names.get(a["server_id"], a["server_id"]))}</a>'
            f" on {e(a.get('device'))}"
            for a in v.get("attachments") or []
        )
        rows.append(
            [
                e(v.get("name") or v["id"]),
                f'<span class="state">{e(v["status"])}</span>',
                e(f"{v['size']} GiB"),
                e(v.get("volume_type")),
                attached or '<span class="muted">not attached</span>',
                *_project_cell(reader, v.get("os-vol-tenant-attr:tenant_id")),
            ]
        )
    body = table(_heads(reader, "Name", "Status", "Size", "Type", "Attached to"), rows, "No volumes.")
    return page("Volumes", body, reader.ctx, "volumes")


def images(reader: Reader) -> str:
    rows = [
        [
            e(i.get("name") or i["id"]),
            f'<span class="state">{e(i["status"])}</span>',
            e(i.get("visibility")),
            e(i.get("disk_format")),
            e(i.get("size")),
            e(
                reader.project_name(i.get("owner"))
                if reader.ctx.is_admin or i.get("owner") == reader.ctx.project_id
                else ""
            ),
        ]
        for i in reader.images()
    ]
    body = table(["Name", "Status", "Visibility", "Disk format", "Size (bytes)", "Owner"], rows, "No images.")
    return page("Images", body, reader.ctx, "images")


def stacks(reader: Reader) -> str:
    rows = [
        [
            f'<a href="{PREFIX}/stacks/{e(s["id"])}">{e(s["name"])}</a>',
            f'<span class="state">{e(s["action"])}_{e(s["status"])}</span>',
            e(s.get("status_reason") or ""),
            e(s.get("created")),
            *_project_cell(reader, s["project_id"]),
        ]
        for s in reader.stacks()
    ]
    body = table(_heads(reader, "Name", "Status", "Reason", "Created"), rows, "No stacks.")
    return page("Stacks", body, reader.ctx, "stacks")


def stack_live(reader: Reader, view: StackView) -> str:
    """The part of a stack's page that changes while it is worked on (what the page polls)."""
    record = view.record
    outputs = [[e(k), f"<pre>{e(v)}</pre>", e(d)] for k, v, d in reader.outputs(view)]
    url = f"{PREFIX}/stacks/{e(record['id'])}"
    resources = [
        [
            e(r.name),
            e(r.type),
            f'<span class="state" data-resource="{e(r.name)}">{e(r.state)}</span>',
            e(view.reasons.get(r.name, "")),
        ]
        for r in sorted(view.resources, key=lambda r: r.name)
    ]
    events = [
        [
            e(ev["event_time"]),
            e(ev["resource_name"]),
            f'<span class="state">{e(ev["resource_action"])}_{e(ev["resource_status"])}</span>',
            e(ev.get("resource_status_reason") or ""),
        ]
        for ev in view.events
    ]
    return (
        f'<div id="live" data-live="{url}/live" data-login="{PREFIX}/login" '
        f'data-busy="{"true" if view.busy else "false"}">'
        f'<p>Status: <span class="state" id="stack-status">{e(view.state)}</span> '
        f'<span class="muted">{e(record.get("status_reason") or "")}</span></p>'
        "<h2>Resources</h2>"
        f'<div class="picture" id="resources-graph">{svg.stack_svg(view.resources, view.required_by)}</div>'
        + table(["Name", "Type", "Status", "Reason"], resources, "No resources.")
        + "<h2>Events (newest first)</h2>"
        + table(["Time", "Resource", "Status", "Reason"], events, "No events.")
        + "<h2>Outputs</h2>"
        + table(["Output", "Value", "Description"], outputs, "No outputs.")
        + "</div>"
    )


def stack(reader: Reader, view: StackView) -> str:
    record = view.record
    body = table(
        ["", ""],
        [
            ["<strong>ID</strong>", e(record["id"])],
            ["<strong>Project</strong>", e(reader.project_name(record["project_id"]))],
            ["<strong>Created</strong>", e(record.get("created"))],
        ],
    ) + stack_live(reader, view)
    return page(f"Stack {record['name']}", body, reader.ctx, "stacks")
