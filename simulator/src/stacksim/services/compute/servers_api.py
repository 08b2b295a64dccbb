"""``/servers``: create, list, show, update, delete, and a server's ``ips`` and security groups."""

from __future__ import annotations

import orjson
from starlette.responses import Response

from stacksim import faults
from stacksim.services.compute import common, listed, schemas, views
from stacksim.services.compute.common import api
from stacksim.services.compute.model import Compute
from stacksim.web import Call, parse, reply


def _compute(call: Call) -> Compute:
    return call.cloud.compute


@api.route("/v2.1/servers", methods=("POST",))
async def create_server(call: Call) -> Response:
    data = await call.json()
    if not isinstance(data, dict) or not isinstance(data.get("server"), dict):
        raise faults.BadRequest("Invalid input for field/attribute server. Value: missing.")
    body = parse(schemas.ServerCreate, data["server"], "server")
    common.too_new("server", body, call, {"description": "2.19", "tags": "2.52", "hostname": "2.90"})
    hints = data.get("os:scheduler_hints") or data.get("OS-SCH-HNT:scheduler_hints")
    compute = _compute(call)
    made, related = compute.launch_servers(call.ctx, body.request(common.version(call), hints))
    first = made[0]
    if body.return_reservation_id:
        return reply({"reservation_id": first["reservation_id"]}, status=202)
    view = {
        "id": first["id"],
        "links": common.links(call, "servers", first["id"]),
        "OS-DCF:diskConfig": "MANUAL",
        "adminPass": body.adminPass or "stacksim",
    }
    if groups := views.security_group_names(first, related):
        view["security_groups"] = groups
    return reply({"server": view}, status=202, headers={"Location": view["links"][0]["href"]})


def _list(call: Call, detail: bool) -> Response:
    compute = _compute(call)
    kept = compute.listed_views
    generation = compute.store.generation()  # before anything is read: see listed.py
    version = common.version(call)
    shape = listed.shape(version, call.ctx)
    key = (shape, detail, call.request.url.path, call.request.url.query)
    if (body := kept.reply(generation, key)) is not None:
        return Response(body, media_type="application/json")
    query = schemas.server_query(call.query, version, detail, call.ctx.is_admin)
    records, more = compute.list_servers(call.ctx, query)
    links = views.next_link(call, records, more)

    def render(servers: list[dict]) -> list[dict]:
        related = compute.servers.related(servers)
        shared = views.ServerViews(call)
        return [views.server_view(call, s, related, single=False, shared=shared) for s in servers]

    encoded = kept.encoded(generation, shape, records, render) if detail else None
    if encoded is None:
        items = render(records) if detail else [views.brief(call, s) for s in records]
        body = reply({"servers": items, **links}).body
    else:
        tail = b',"servers_links":' + orjson.dumps(links["servers_links"]) if links else b""
        body = b'{"servers":[' + b",".join(encoded) + b"]" + tail + b"}"
    kept.keep_reply(generation, key, body)
    return Response(body, media_type="application/json")


@api.route("/v2.1/servers")
async def list_servers(call: Call) -> Response:
    return _list(call, detail=False)


@api.route("/v2.1/servers/detail")
async def list_servers_detail(call: Call) -> Response:
    return _list(call, detail=True)


def show(call: Call, server_id: str, status: int = 200) -> Response:
    compute = _compute(call)
    server = compute.server(call.ctx, server_id)
    return reply({"server": views.server_view(call, server, compute.servers.related([server]))}, status=status)


@api.route("/v2.1/servers/{id}")
async def show_server(call: Call) -> Response:
    return show(call, call.params["id"])


@api.route("/v2.1/servers/{id}", methods=("PUT",))
async def update_server(call: Call) -> Response:
    body = await call.body(schemas.ServerUpdate, root="server")
    common.too_new("server", body, call, {"description": "2.19", "hostname": "2.90"})
    _compute(call).update_server(call.ctx, call.params["id"], body.changes())
    return show(call, call.params["id"])


@api.route("/v2.1/servers/{id}", methods=("DELETE",))
async def delete_server(call: Call) -> Response:
    _compute(call).delete_server(call.ctx, call.params["id"])
    return reply(status=204)


def _basic(entries: list[dict]) -> list[dict]:
    """Addresses as ``ips`` shows them: version and address only."""
    return [{"version": a["version"], "addr": a["addr"]} for a in entries]


@api.route("/v2.1/servers/{id}/ips")
async def server_ips(call: Call) -> Response:
    compute = _compute(call)
    server = compute.servers.owned(call.ctx, call.params["id"], "os_compute_api:ips:index")
    return reply({"addresses": {net: _basic(found) for net, found in compute.servers.addresses(server).items()}})


@api.route("/v2.1/servers/{id}/ips/{network}")
async def server_network_ips(call: Call) -> Response:
    network = call.params["network"]
    found = _compute(call).servers.network_addresses(call.ctx, call.params["id"], network)
    return reply({network: _basic(found)})


@api.route("/v2.1/servers/{id}/os-security-groups")
async def server_security_groups(call: Call) -> Response:
    groups = _compute(call).servers.security_groups(call.ctx, call.params["id"])
    return reply(
        {
            "security_groups": [
                {
                    "id": g["id"],
                    "name": g["name"],
                    "description": g.get("description", ""),
                    "tenant_id": g["project_id"],
                    "rules": [],
                }
                for g in groups
            ]
        }
    )
