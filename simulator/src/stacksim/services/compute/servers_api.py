"""Nova's servers API: create, list, show, update, delete, actions, metadata, tags, ips."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from starlette.responses import Response

from stacksim import clock, faults, listing
from stacksim.services.compute.api import api, base_url
from stacksim.services.compute.servers import HOST, Servers, decode_user_data, hash_host
from stacksim.store import MissingRecord
from stacksim.web import Call, parse, reply

Name = Annotated[str, StringConstraints(min_length=1, max_length=255)]
MAX_METADATA = 128


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class NetworkRequest(_Body):
    uuid: str | None = None
    port: str | None = None
    fixed_ip: str | None = None
    tag: str | None = None


class ServerCreate(_Body):
    name: Name
    imageRef: str | None = None
    flavorRef: str | int
    networks: Literal["auto", "none"] | list[NetworkRequest] | None = None
    security_groups: list[dict[str, str]] | None = None
    key_name: str | None = None
    user_data: str | None = Field(default=None, max_length=65535)
    metadata: dict[str, Annotated[str, StringConstraints(max_length=255)]] | None = None
    config_drive: bool | None = None
    availability_zone: str | None = None
    min_count: int = Field(default=1, ge=1)
    max_count: int | None = Field(default=None, ge=1)
    block_device_mapping_v2: list[dict[str, Any]] | None = None
    description: str | None = Field(default=None, max_length=255)
    tags: list[str] | None = None
    hostname: str | None = None
    adminPass: str | None = None
    accessIPv4: str | None = None
    accessIPv6: str | None = None
    return_reservation_id: bool | None = None
    # Accepted and ignored, as a one-host cloud has nothing to do with them.
    personality: list[dict[str, Any]] | None = None
    trusted_image_certificates: list[str] | None = None
    host: str | None = None
    hypervisor_hostname: str | None = None

    @field_validator("metadata")
    @classmethod
    def _few_items(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is not None and len(value) > MAX_METADATA:
            raise ValueError(f"at most {MAX_METADATA} metadata items are allowed")
        return value


class ServerUpdate(_Body):
    name: Name | None = None
    description: str | None = Field(default=None, max_length=255)
    hostname: str | None = None
    accessIPv4: str | None = None
    accessIPv6: str | None = None


def _servers(call: Call) -> Servers:
    return call.cloud.compute.servers


def _link(call: Call, path: str) -> list[dict[str, str]]:
    root = base_url(call)
    return [
        {"rel": "self", "href": f"{root}/{path}"},
        {"rel": "bookmark", "href": f"{root.rsplit('/v2.1', 1)[0]}/{path}"},
    ]


# -- views ---------------------------------------------------------------------------------


class Related:
    """What the views of some servers need from Neutron, Cinder and server groups, read in
    a few batched reads for all of them (not a handful of reads per server)."""

    def __init__(self, call: Call, servers: list[dict[str, Any]]) -> None:
        store = call.cloud.store
        port_ids = [pid for s in servers for pid in s["ports"]]
        self.ports = store.get_many("port", port_ids)
        self.networks = store.get_many("network", {p["network_id"] for p in self.ports.values()})
        self.floating: dict[str, list[dict[str, Any]]] = {}
        for fip in store.find_in("floatingip", "port_id", list(self.ports)):
            self.floating.setdefault(fip["port_id"], []).append(fip)
        group_ids = {g for p in self.ports.values() for g in p["security_groups"]}
        self.security_groups = store.get_many("security_group", group_ids)
        ids = [s["id"] for s in servers]
        self.attachments = call.cloud.volume.attachments_of_servers(ids)
        self.server_groups = call.cloud.compute.server_groups.groups_of_servers(ids)

    def ports_of(self, server: dict[str, Any]) -> list[dict[str, Any]]:
        return [self.ports[pid] for pid in server["ports"] if pid in self.ports]


def addresses(call: Call, server: dict[str, Any], related: Related | None = None) -> dict[str, list[dict[str, Any]]]:
    """The server's addresses by network name, fixed ones and the floating IPs on its ports."""
    related = related or Related(call, [server])
    out: dict[str, list[dict[str, Any]]] = {}
    for port in related.ports_of(server):
        network = related.networks.get(port["network_id"]) or {"name": port["network_id"]}
        entries = out.setdefault(network["name"], [])
        for ip in port["fixed_ips"]:
            version = 6 if ":" in ip["ip_address"] else 4
            entries.append(
                {
                    "version": version,
                    "addr": ip["ip_address"],
                    "OS-EXT-IPS:type": "fixed",
                    "OS-EXT-IPS-MAC:mac_addr": port["mac_address"],
                }
            )
        for fip in related.floating.get(port["id"], ()):
            entries.append(
                {
                    "version": 4,
                    "addr": fip["floating_ip_address"],
                    "OS-EXT-IPS:type": "floating",
                    "OS-EXT-IPS-MAC:mac_addr": port["mac_address"],
                }
            )
    return out


def _security_group_names(call: Call, server: dict[str, Any], related: Related | None = None) -> list[dict[str, str]]:
    related = related or Related(call, [server])
    names: list[str] = []
    for port in related.ports_of(server):
        for gid in port["security_groups"]:
            group = related.security_groups.get(gid)
            if group and group["name"] not in names:
                names.append(group["name"])
    return [{"name": n} for n in names]


def _flavor_view(call: Call, flavor: dict[str, Any]) -> dict[str, Any]:
    if call.version and call.version.at_least("2.47"):
        view = {k: flavor.get(k, 0) for k in ("vcpus", "ram", "disk", "ephemeral", "swap")}
        view["original_name"] = flavor["name"]
        view["extra_specs"] = flavor.get("extra_specs") or {}
        return view
    return {"id": flavor["id"], "links": [_link(call, f"flavors/{flavor['id']}")[1]]}


def _volumes_attached(call: Call, server: dict[str, Any], related: Related) -> list[dict[str, Any]]:
    servers, out = _servers(call), []
    for attachment in related.attachments.get(server["id"], ()):
        volume_id = attachment["volume_id"]
        entry: dict[str, Any] = {"id": volume_id}
        if call.version.at_least("2.3"):
            entry["delete_on_termination"] = servers.deletes_with(server, volume_id)
        out.append(entry)
    return out


def server_view(call: Call, server: dict[str, Any], related: Related | None = None) -> dict[str, Any]:
    ctx, v = call.ctx, call.version
    related = related or Related(call, [server])
    image: Any = ""
    if server["image_id"]:
        image = {"id": server["image_id"], "links": [_link(call, f"images/{server['image_id']}")[1]]}
    view: dict[str, Any] = {
        "id": server["id"],
        "name": server["name"],
        "status": server["status"],
        "tenant_id": server["project_id"],
        "user_id": server["user_id"],
        "metadata": server["metadata"],
        "hostId": hash_host(server["project_id"]) if server["vm_state"] != "building" else "",
        "image": image,
        "flavor": _flavor_view(call, server["flavor"]),
        "created": server["created"],
        "updated": server["updated"],
        "addresses": addresses(call, server, related),
        "accessIPv4": server["access_ipv4"],
        "accessIPv6": server["access_ipv6"],
        "links": _link(call, f"servers/{server['id']}"),
        "OS-DCF:diskConfig": "MANUAL",
        "progress": 100 if server["status"] == "ACTIVE" else 0,
        "OS-EXT-AZ:availability_zone": server["availability_zone"],
        "config_drive": "True" if server["config_drive"] else "",
        "key_name": server["key_name"],
        "OS-SRV-USG:launched_at": server["launched_at"],
        "OS-SRV-USG:terminated_at": server["terminated_at"],
        "security_groups": _security_group_names(call, server, related),
        "OS-EXT-STS:task_state": server["task_state"],
        "OS-EXT-STS:vm_state": server["vm_state"],
        "OS-EXT-STS:power_state": server["power_state"],
        "os-extended-volumes:volumes_attached": _volumes_attached(call, server, related),
    }
    if server["fault"]:
        view["fault"] = dict(server["fault"])
    if ctx.is_admin:
        view.update(
            {
                "OS-EXT-SRV-ATTR:host": HOST,
                "OS-EXT-SRV-ATTR:hypervisor_hostname": HOST,
                "OS-EXT-SRV-ATTR:instance_name": server["instance_name"],
            }
        )
        if v.at_least("2.3"):
            view.update(
                {
                    "OS-EXT-SRV-ATTR:reservation_id": server["reservation_id"],
                    "OS-EXT-SRV-ATTR:launch_index": server["launch_index"],
                    "OS-EXT-SRV-ATTR:hostname": server["hostname"],
                    "OS-EXT-SRV-ATTR:kernel_id": "",
                    "OS-EXT-SRV-ATTR:ramdisk_id": "",
                    "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda",
                    "OS-EXT-SRV-ATTR:user_data": server.get("user_data"),
                }
            )
        if v.at_least("2.16"):
            view["host_status"] = "UP"
    if v.at_least("2.9"):
        view["locked"] = server["locked"]
    if v.at_least("2.19"):
        view["description"] = server.get("description")
    if v.at_least("2.26"):
        view["tags"] = list(server["tags"])
    if v.at_least("2.63"):
        view["trusted_image_certificates"] = None
    if v.at_least("2.71"):
        view["server_groups"] = related.server_groups.get(server["id"], [])
    if v.at_least("2.73"):
        view["locked_reason"] = server.get("locked_reason")
    if v.at_least("2.96"):
        view["pinned_availability_zone"] = None
    return view


def _brief(call: Call, server: dict[str, Any]) -> dict[str, Any]:
    return {"id": server["id"], "name": server["name"], "links": _link(call, f"servers/{server['id']}")}


# -- create, list, show, update, delete -----------------------------------------------------


@api.route("/v2.1/servers", methods=("POST",))
async def create_server(call: Call) -> Response:
    data = await call.json()
    if not isinstance(data, dict) or not isinstance(data.get("server"), dict):
        raise faults.BadRequest("Invalid input for field/attribute server. Value: missing.")
    body = parse(ServerCreate, data["server"], "server")
    req = body.model_dump(exclude_none=True)
    if "os:scheduler_hints" in data or "OS-SCH-HNT:scheduler_hints" in data:
        req["scheduler_hints"] = data.get("os:scheduler_hints") or data.get("OS-SCH-HNT:scheduler_hints")
    v = call.version
    if body.networks is None and v.at_least("2.37"):
        raise faults.BadRequest(
            "Invalid input for field/attribute networks. Value: None. 'networks' is a required property"
        )
    if body.networks is not None and not isinstance(body.networks, str):
        req["networks"] = [n.model_dump(exclude_none=True) for n in body.networks]
    if body.max_count is not None and body.max_count < body.min_count:
        raise faults.BadRequest("min_count must be <= max_count")
    if body.description is not None and not v.at_least("2.19"):
        raise faults.BadRequest(
            "Invalid input for field/attribute server. Additional properties are not allowed "
            "('description' was unexpected)"
        )
    if body.user_data:
        decode_user_data(body.user_data)
    made = _servers(call).create(call.ctx, req)
    first = made[0]
    if body.return_reservation_id:
        return reply({"reservation_id": first["reservation_id"]}, status=202)
    view = {
        "id": first["id"],
        "links": _link(call, f"servers/{first['id']}"),
        "OS-DCF:diskConfig": "MANUAL",
        "security_groups": _security_group_names(call, first),
        "adminPass": body.adminPass or "stacksim",
    }
    return reply({"server": view}, status=202, headers={"Location": view["links"][0]["href"]})


#: Nova's sort key aliases.
_SORT_ALIASES = {"created_at": "created", "updated_at": "updated", "display_name": "name"}
#: Sort fields the store orders by itself (text that a server record always holds).
_SQL_SORTABLE = frozenset({"created", "updated", "name", "id", "status", "vm_state", "project_id", "user_id"})


def _tag_test(key: str, text: str) -> Callable[[dict[str, Any]], bool]:
    tags, every, negate = set(text.split(",")), key in ("tags", "not-tags"), key.startswith("not-")

    def test(server: dict[str, Any]) -> bool:
        held = set(server["tags"])
        found = tags <= held if every else bool(tags & held)
        return found != negate

    return test


def _select(call: Call) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The servers a list call asks for: filters, Nova's sort (newest first unless sorted),
    ``limit``/``marker`` and a ``servers_links`` next link.

    What the store can answer (project, status, image, locked, the sort, the
    page) is asked of it; the rest (name and ip patterns, flavor, tags,
    changes-since) is tested as records stream by.
    """
    ctx, q = call.ctx, call.query
    all_tenants = q.get("all_tenants") not in (None, "0", "false", "False")
    project = q.get("project_id") or q.get("tenant_id")
    if project and not all_tenants and ctx.is_admin:
        all_tenants = True
    equal: dict[str, Any] = {}
    if not (ctx.is_admin and all_tenants):
        equal["project_id"] = ctx.project_id
    elif project:
        equal["project_id"] = project
    any_of: dict[str, list[Any]] = {}
    tests: list[Callable[[dict[str, Any]], bool]] = []
    if q.get("name"):
        name = re.compile(q["name"])
        tests.append(lambda s: bool(name.search(s["name"])))
    if q.get("status"):
        any_of["status"] = sorted({s.upper() for s in q.getlist("status")})
    if q.get("image"):
        equal["image_id"] = q["image"].rsplit("/", 1)[-1]
    if q.get("flavor"):
        flavor = q["flavor"].rsplit("/", 1)[-1]
        tests.append(lambda s: s["flavor"]["id"] == flavor)
    if q.get("locked") is not None:
        equal["locked"] = listing.to_bool(q["locked"], "locked")
    if q.get("changes-since"):
        since = clock.parse(q["changes-since"])
        tests.append(lambda s: clock.parse(s["updated"]) >= since)
    for key in ("tags", "tags-any", "not-tags", "not-tags-any"):
        if q.get(key):
            tests.append(_tag_test(key, q[key]))
    if q.get("ip"):
        ip = re.compile(q["ip"])
        tests.append(lambda s: any(ip.search(a["addr"]) for entries in addresses(call, s).values() for a in entries))
    keys = q.getlist("sort_key") or ["created"]
    dirs = q.getlist("sort_dir") or ["desc"]
    dirs = dirs + [dirs[-1]] * (len(keys) - len(dirs))
    order = [(_SORT_ALIASES.get(k, k), d == "desc") for k, d in zip(keys, dirs, strict=False)]
    limit, limit_error = None, None
    if q.get("limit"):
        try:
            limit = int(q["limit"])
        except ValueError:
            limit_error = (
                f"Invalid input for query parameters limit. Value: {q['limit']}. '{q['limit']}' is not a 'integer'"
            )
        else:
            if limit < 0:
                limit, limit_error = None, "Invalid input for query parameters limit: must be >= 0"
    keep = (lambda s: all(t(s) for t in tests)) if tests else None
    marker = q.get("marker") or None
    try:
        if all(f in _SQL_SORTABLE for f, _ in order):
            records, more = listing.fetch_page(
                call.cloud.store,
                "server",
                equal=equal,
                any_of=any_of,
                order=order,
                marker=marker,
                limit=None if limit_error else limit,
                keep=keep,
            )
        else:
            records, more = _sorted_page(call, equal, any_of, keep, order, marker, limit)
    except MissingRecord:
        raise faults.BadRequest(f"marker [{q['marker']}] not found") from None
    if limit_error:
        raise faults.BadRequest(limit_error)
    extra: dict[str, Any] = {}
    if more:
        params = [(k, v) for k, v in q.multi_items() if k != "marker"]
        params.append(("marker", records[-1]["id"]) if records else ("marker", ""))
        query = "&".join(f"{k}={v}" for k, v in params)
        path = call.request.url.path.rsplit("/v2.1/", 1)[-1]
        extra["servers_links"] = [{"rel": "next", "href": f"{base_url(call)}/{path}?{query}"}]
    return records, extra


def _sorted_page(call, equal, any_of, keep, order, marker, limit) -> tuple[list[dict[str, Any]], bool]:
    """The page when sorted by a field the store does not order by: sorted here, as Nova's
    sort compares them (missing values last, the rest as text)."""
    records = call.cloud.store.query("server", equal, any_of=any_of)
    records = [s for s in records if keep(s)] if keep else records
    try:
        return listing.sort_page(records, order, marker=marker, limit=limit, sort_value=lambda v: (v is None, str(v)))
    except KeyError:
        raise MissingRecord("server", marker or "") from None


@api.route("/v2.1/servers")
async def list_servers(call: Call) -> Response:
    records, extra = _select(call)
    return reply({"servers": [_brief(call, s) for s in records], **extra})


@api.route("/v2.1/servers/detail")
async def list_servers_detail(call: Call) -> Response:
    records, extra = _select(call)
    related = Related(call, records)
    return reply({"servers": [server_view(call, s, related) for s in records], **extra})


@api.route("/v2.1/servers/{id}")
async def show_server(call: Call) -> Response:
    return reply({"server": server_view(call, _servers(call).get(call.ctx, call.params["id"]))})


@api.route("/v2.1/servers/{id}", methods=("PUT",))
async def update_server(call: Call) -> Response:
    servers = _servers(call)
    server = servers.get(call.ctx, call.params["id"])
    body = await call.body(ServerUpdate, root="server")
    changes = body.model_dump(exclude_unset=True)
    renamed = {"accessIPv4": "access_ipv4", "accessIPv6": "access_ipv6"}
    changes = {renamed.get(k, k): v for k, v in changes.items()}
    if "description" in changes and not call.version.at_least("2.19"):
        raise faults.BadRequest("Additional properties are not allowed ('description' was unexpected)")
    if "hostname" in changes and not call.version.at_least("2.90"):
        raise faults.BadRequest("Additional properties are not allowed ('hostname' was unexpected)")
    server = servers.update(server, changes)
    return reply({"server": server_view(call, server)})


@api.route("/v2.1/servers/{id}", methods=("DELETE",))
async def delete_server(call: Call) -> Response:
    servers = _servers(call)
    servers.delete(call.ctx, servers.get(call.ctx, call.params["id"]))
    return reply(status=204)


@api.route("/v2.1/servers/{id}/ips")
async def server_ips(call: Call) -> Response:
    server = _servers(call).get(call.ctx, call.params["id"])
    return reply({"addresses": addresses(call, server)})


@api.route("/v2.1/servers/{id}/os-security-groups")
async def server_security_groups(call: Call) -> Response:
    server = _servers(call).get(call.ctx, call.params["id"])
    groups = []
    for port in _servers(call).ports(server):
        for gid in port["security_groups"]:
            group = call.cloud.store.get("security_group", gid)
            if group and group["id"] not in [g["id"] for g in groups]:
                groups.append(
                    {
                        "id": group["id"],
                        "name": group["name"],
                        "description": group.get("description", ""),
                        "tenant_id": group["project_id"],
                        "rules": [],
                    }
                )
    return reply({"security_groups": groups})


# -- actions ------------------------------------------------------------------------------------

_SIMPLE = {
    "os-start": "start",
    "os-stop": "stop",
    "pause": "pause",
    "unpause": "unpause",
    "suspend": "suspend",
    "resume": "resume",
    "confirmResize": "confirm_resize",
    "revertResize": "revert_resize",
}


@api.route("/v2.1/servers/{id}/action", methods=("POST",))
async def server_action(call: Call) -> Response:
    servers, ctx = _servers(call), call.ctx
    server = servers.get(ctx, call.params["id"])
    data = await call.json()
    if not isinstance(data, dict) or len(data) != 1:
        raise faults.BadRequest("There is no such action: the body must name exactly one action.")
    ((name, args),) = data.items()
    args = args if isinstance(args, dict) else {}
    if name in _SIMPLE:
        servers.act(ctx, server, _SIMPLE[name])
        return reply(status=202)
    if name == "reboot":
        kind = str(args.get("type", "")).upper()
        if kind not in ("SOFT", "HARD"):
            raise faults.BadRequest(
                "Invalid input for field/attribute type. Value: "
                f"{args.get('type')}. '{args.get('type')}' is not one of ['HARD', 'Hard', "
                "'hard', 'SOFT', 'Soft', 'soft']"
            )
        servers.act(ctx, server, "reboot_hard" if kind == "HARD" else "reboot")
        return reply(status=202)
    if name == "rebuild":
        return _rebuild(call, servers, server, args)
    if name == "resize":
        if not args.get("flavorRef"):
            raise faults.BadRequest("Resize requires a flavor change: 'flavorRef' is required.")
        servers.act(ctx, server, "resize", flavor_ref=str(args["flavorRef"]))
        return reply(status=202)
    if name == "lock":
        servers.lock(ctx, server, args.get("locked_reason") if call.version.at_least("2.73") else None)
        return reply(status=202)
    if name == "unlock":
        servers.unlock(ctx, server)
        return reply(status=202)
    if name == "os-getConsoleOutput":
        length = args.get("length")
        try:
            length = int(length) if length is not None else None
        except (TypeError, ValueError):
            raise faults.BadRequest(f"Invalid input for field/attribute length. Value: {length}.") from None
        return reply({"output": servers.console(server, length if length and length > 0 else None)})
    if name == "createImage":
        if not isinstance(args.get("name"), str) or not args["name"]:
            raise faults.BadRequest("Invalid input for field/attribute name: a non-empty string is required.")
        image = servers.create_image(ctx, server, args["name"], args.get("metadata") or {})
        location = f"{call.cloud.settings.base_url}/image/v2/images/{image['id']}"
        body = {"image_id": image["id"]} if call.version.at_least("2.45") else None
        return reply(body, status=202, headers={"Location": location})
    if name in ("addSecurityGroup", "removeSecurityGroup"):
        if not args.get("name"):
            raise faults.BadRequest(f"Invalid input for field/attribute {name}: 'name' is required.")
        servers.set_security_group(ctx, server, args["name"], add=name == "addSecurityGroup")
        return reply(status=202)
    if name == "os-resetState":
        ctx.require_admin("os_compute_api:os-admin-actions:reset_state")
        if args.get("state") not in ("active", "error"):
            raise faults.BadRequest("Invalid input for field/attribute state: must be 'active' or 'error'.")
        servers.reset_state(server, args["state"])
        return reply(status=202)
    raise faults.BadRequest(f"There is no such action: {name}")


def _rebuild(call: Call, servers: Servers, server: dict[str, Any], args: dict[str, Any]) -> Response:
    if not args.get("imageRef"):
        raise faults.BadRequest("Invalid input for field/attribute imageRef: it is required.")
    changes: dict[str, Any] = {"image_ref": args["imageRef"]}
    for key in ("name", "metadata", "description"):
        if key in args:
            changes[key] = args[key]
    if "user_data" in args and call.version.at_least("2.57"):
        decode_user_data(args["user_data"])
        changes["user_data"] = args["user_data"]
    if "key_name" in args and call.version.at_least("2.54"):
        key = servers.key(call.ctx, args["key_name"]) if args["key_name"] else None
        changes["key_name"], changes["public_key"] = (key["name"], key["public_key"]) if key else (None, None)
    servers.act(call.ctx, server, "rebuild", **changes)
    return reply({"server": server_view(call, servers.get(call.ctx, server["id"]))}, status=202)


# -- metadata and tags ----------------------------------------------------------------------


def _check_metadata(items: Any) -> dict[str, str]:
    if not isinstance(items, dict):
        raise faults.BadRequest("Malformed request body: metadata must be an object.")
    for key, value in items.items():
        if not key or len(key) > 255 or not isinstance(value, str) or len(value) > 255:
            raise faults.BadRequest(f"Invalid metadata item {key!r}: keys and values are strings of 1-255 characters.")
    return items


@api.route("/v2.1/servers/{id}/metadata")
async def list_metadata(call: Call) -> Response:
    return reply({"metadata": _servers(call).get(call.ctx, call.params["id"])["metadata"]})


@api.route("/v2.1/servers/{id}/metadata", methods=("PUT", "POST"))
async def set_metadata(call: Call) -> Response:
    servers = _servers(call)
    server = servers.get(call.ctx, call.params["id"])
    items = _check_metadata((await call.json()).get("metadata"))
    replace = call.request.method == "PUT"

    def merge(current: dict[str, Any]) -> None:
        merged = items if replace else {**current["metadata"], **items}
        if len(merged) > MAX_METADATA:
            raise faults.Forbidden("Quota exceeded for metadata_items: too many metadata items.")
        current["metadata"] = merged

    return reply({"metadata": servers.edit(server["id"], merge)["metadata"]})


@api.route("/v2.1/servers/{id}/metadata/{key}")
async def show_metadata_item(call: Call) -> Response:
    metadata = _servers(call).get(call.ctx, call.params["id"])["metadata"]
    if call.params["key"] not in metadata:
        raise faults.NotFound("Metadata item was not found")
    return reply({"meta": {call.params["key"]: metadata[call.params["key"]]}})


@api.route("/v2.1/servers/{id}/metadata/{key}", methods=("PUT",))
async def set_metadata_item(call: Call) -> Response:
    servers = _servers(call)
    server = servers.get(call.ctx, call.params["id"])
    meta = _check_metadata((await call.json()).get("meta"))
    if list(meta) != [call.params["key"]]:
        raise faults.BadRequest("Request body and URI mismatch")
    servers.edit(server["id"], lambda current: current["metadata"].update(meta))
    return reply({"meta": meta})


@api.route("/v2.1/servers/{id}/metadata/{key}", methods=("DELETE",))
async def delete_metadata_item(call: Call) -> Response:
    servers, key = _servers(call), call.params["key"]
    server = servers.get(call.ctx, call.params["id"])

    def remove(current: dict[str, Any]) -> None:
        if key not in current["metadata"]:
            raise faults.NotFound("Metadata item was not found")
        del current["metadata"][key]

    servers.edit(server["id"], remove)
    return reply(status=204)


def _tagged(call: Call) -> tuple[Servers, dict[str, Any]]:
    if not call.version.at_least("2.26"):
        raise faults.NotFound("The resource could not be found.")
    servers = _servers(call)
    return servers, servers.get(call.ctx, call.params["id"])


def _check_tag(tag: Any) -> str:
    if not isinstance(tag, str) or not 1 <= len(tag) <= 60 or "," in tag or "/" in tag:
        raise faults.BadRequest(f"Invalid tag {tag!r}: 1-60 characters, without ',' or '/'.")
    return tag


@api.route("/v2.1/servers/{id}/tags")
async def list_tags(call: Call) -> Response:
    return reply({"tags": _tagged(call)[1]["tags"]})


@api.route("/v2.1/servers/{id}/tags", methods=("PUT",))
async def replace_tags(call: Call) -> Response:
    servers, server = _tagged(call)
    tags = (await call.json()).get("tags")
    if not isinstance(tags, list) or len(tags) > 50:
        raise faults.BadRequest("Invalid input for field/attribute tags: a list of at most 50 tags is required.")
    tags = list(dict.fromkeys(_check_tag(t) for t in tags))
    servers.update(server, {"tags": tags})  # a whole new value: nothing read to lose
    return reply({"tags": tags})


@api.route("/v2.1/servers/{id}/tags", methods=("DELETE",))
async def delete_tags(call: Call) -> Response:
    servers, server = _tagged(call)
    servers.update(server, {"tags": []})
    return reply(status=204)


@api.route("/v2.1/servers/{id}/tags/{tag}")
async def check_tag(call: Call) -> Response:
    if call.params["tag"] not in _tagged(call)[1]["tags"]:
        raise faults.NotFound(f"Tag {call.params['tag']} could not be found.")
    return reply(status=204)


@api.route("/v2.1/servers/{id}/tags/{tag}", methods=("PUT",))
async def add_tag(call: Call) -> Response:
    servers, server = _tagged(call)
    tag = _check_tag(call.params["tag"])

    def add(current: dict[str, Any]) -> bool | None:
        if tag in current["tags"]:
            return False
        if len(current["tags"]) >= 50:
            raise faults.BadRequest("The number of tags exceeded the per-server limit 50")
        current["tags"].append(tag)
        current["updated"] = clock.iso(clock.now(), micro=False)
        return None

    servers.modify(server["id"], add)
    return reply(status=201, headers={"Location": f"{base_url(call)}/servers/{server['id']}/tags/{tag}"})


@api.route("/v2.1/servers/{id}/tags/{tag}", methods=("DELETE",))
async def delete_tag(call: Call) -> Response:
    servers, server = _tagged(call)
    tag = call.params["tag"]

    def remove(current: dict[str, Any]) -> None:
        if tag not in current["tags"]:
            raise faults.NotFound(f"Tag {tag} could not be found.")
        current["tags"].remove(tag)

    servers.edit(server["id"], remove)
    return reply(status=204)
