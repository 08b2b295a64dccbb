"""Neutron v2.0's REST API over the Networking model.

Each resource is described once (:class:`Resource`: its names, bodies, model
calls and view) and gets the same list/show/create/update/delete handlers, so
filters, ``fields``, sorting, pagination, bulk create and errors behave alike
everywhere. Lists go through :mod:`stacksim.listing`.

Not implemented yet: see the model's docstrings (subnet pools, RBAC, QoS,
trunks, port forwarding, availability zones, agents, ``.json`` URL suffixes
other than quota details).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from starlette.responses import Response

from stacksim import faults, listing
from stacksim.auth import Context
from stacksim.services.network import extensions, schemas
from stacksim.services.network.model import Networking
from stacksim.services.network.quotas import DEFAULTS
from stacksim.web import Api, Call, reply

api = Api("neutron")

PREFIX = "/network"
VERSION = {"id": "v2.0", "status": "CURRENT"}
STANDARD = (
    "id",
    "name",
    "description",
    "project_id",
    "tenant_id",
    "tags",
    "created_at",
    "updated_at",
    "revision_number",
)
#: Port attributes only an admin sees (Neutron's ``get_port:binding:*`` policy).
ADMIN_PORT_ATTRS = ("binding:host_id", "binding:profile", "binding:vif_type", "binding:vif_details")
HIDDEN = ("gw_port_id", "fip_port_id")


def _net(call: Call) -> Networking:
    """The model, after giving the caller's project its default security group (as Neutron does)."""
    net: Networking = call.cloud.network
    net.ensure_project(call.ctx.project_id)
    return net


def _base(call: Call) -> str:
    return f"{call.cloud.settings.base_url}{PREFIX}"


# -- views ------------------------------------------------------------------------------


def _public(record: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in record.items() if k not in HIDDEN}
    body["tenant_id"] = record.get("project_id")
    return body


def network_view(net: Networking, ctx: Context, record: dict[str, Any]) -> dict[str, Any]:
    body = _public(record)
    body.update(
        subnets=net.subnet_ids(record["id"]),
        availability_zones=[],
        ipv4_address_scope=None,
        ipv6_address_scope=None,
        l2_adjacency=True,
    )
    if not ctx.is_admin:
        for key in ("provider:network_type", "provider:physical_network", "provider:segmentation_id"):
            body.pop(key, None)
    return body


def subnet_view(net: Networking, ctx: Context, record: dict[str, Any]) -> dict[str, Any]:
    return _public(record)


def port_view(net: Networking, ctx: Context, record: dict[str, Any]) -> dict[str, Any]:
    body = _public(record)
    bound = bool(record.get("binding:host_id"))
    body["binding:vif_type"] = "ovs" if bound else "unbound"
    body["binding:vif_details"] = (
        {"port_filter": True, "connectivity": "l2", "bridge_name": "br-int", "datapath_type": "system"} if bound else {}
    )
    if not ctx.is_admin:
        for key in ADMIN_PORT_ATTRS:
            body.pop(key, None)
    return body


def router_view(net: Networking, ctx: Context, record: dict[str, Any]) -> dict[str, Any]:
    body = _public(record)
    body["availability_zones"] = []
    return body


def floating_ip_view(net: Networking, ctx: Context, record: dict[str, Any]) -> dict[str, Any]:
    body = _public(record)
    body["port_details"] = net.l3.describe(record.get("port_id"))
    return body


def security_group_view(net: Networking, ctx: Context, record: dict[str, Any]) -> dict[str, Any]:
    body = _public(record)
    body["security_group_rules"] = [_public(r) for r in net.security.rules_of(record["id"])]
    return body


def rule_view(net: Networking, ctx: Context, record: dict[str, Any]) -> dict[str, Any]:
    return _public(record)


# -- the resources ------------------------------------------------------------------------


def _fixed_ips_match(value: Any, wanted: list[str]) -> bool:
    """``?fixed_ips=ip_address=10.0.0.5&fixed_ips=subnet_id=...`` (and ``ip_address_substr``)."""
    want: dict[str, set[str]] = {}
    for item in wanted:
        key, _, val = item.partition("=")
        want.setdefault(key, set()).add(val)
    for ip in value or []:
        ok = True
        for key, vals in want.items():
            if key == "ip_address_substr":
                ok = ok and any(v in ip["ip_address"] for v in vals)
            else:
                ok = ok and ip.get(key) in vals
        if ok:
            return True
    return False


@dataclass(frozen=True)
class Resource:
    singular: str  #: body key, e.g. ``network``; also the store kind
    plural: str  #: collection key, e.g. ``networks``
    path: str  #: URL segment, e.g. ``security-groups``
    attributes: tuple[str, ...]  #: what may be filtered and sorted on
    view: Callable[[Networking, Context, dict[str, Any]], dict[str, Any]]
    lister: Callable[[Networking, Context, dict[str, list[Any]]], list[dict[str, Any]]]
    getter: Callable[[Networking, Context, str], dict[str, Any]]
    creator: Callable[[Networking, Context, dict[str, Any]], dict[str, Any]]
    create_body: type[BaseModel]
    deleter: Callable[[Networking, Context, str], None]
    updater: Callable[[Networking, Context, str, dict[str, Any], str | None], dict[str, Any]] | None = None
    update_body: type[BaseModel] | None = None
    read_only: frozenset[str] = frozenset()  #: never in a body
    create_only: frozenset[str] = frozenset()  #: in a POST body, not in a PUT one
    matchers: dict[str, tuple[str, listing.Matcher]] = field(default_factory=dict)
    taggable: bool = True


_RO = frozenset({"id", "status", "created_at", "updated_at", "revision_number"})
#: Text attributes a view shows as the record holds them: their filters are asked of the
#: store (indexed) before any view is built; listing.select still checks every filter.
PUSHED = {
    "id": "id",
    "name": "name",
    "project_id": "project_id",
    "tenant_id": "project_id",
    "network_id": "network_id",
    "device_id": "device_id",
    "device_owner": "device_owner",
    "mac_address": "mac_address",
    "status": "status",
    "security_group_id": "security_group_id",
    "router_id": "router_id",
    "port_id": "port_id",
    "floating_network_id": "floating_network_id",
    "floating_ip_address": "floating_ip_address",
}


def _pushed(res: Resource, q: listing.ListQuery) -> dict[str, list[Any]]:
    """The list's filters the store can apply: plain text, none that also matches a null."""
    where: dict[str, list[Any]] = {}
    for name, wanted in q.filters.items():
        field = PUSHED.get(name)
        if field is None or name not in res.attributes or name in res.matchers:
            continue
        if any(w in ("", "None", "null") for w in wanted) or field in where:
            continue
        where[field] = list(wanted)
    return where


RESOURCES = (
    Resource(
        "network",
        "networks",
        "networks",
        (
            *STANDARD,
            "admin_state_up",
            "status",
            "shared",
            "router:external",
            "mtu",
            "port_security_enabled",
            "provider:network_type",
            "provider:physical_network",
            "provider:segmentation_id",
            "subnets",
            "availability_zone_hints",
        ),
        network_view,
        lambda m, c, w: m.networks(c, w),
        lambda m, c, i: m.network(c, i),
        lambda m, c, a: m.create_network(c, **a),
        schemas.NetworkCreate,
        lambda m, c, i: m.delete_network(c, i),
        lambda m, c, i, a, r: m.update_network(c, i, a, r),
        schemas.NetworkUpdate,
        _RO | {"subnets"},
        frozenset(
            {
                "provider:network_type",
                "provider:physical_network",
                "provider:segmentation_id",
                "project_id",
                "tenant_id",
                "availability_zone_hints",
            }
        ),
    ),
    Resource(
        "subnet",
        "subnets",
        "subnets",
        (
            *STANDARD,
            "network_id",
            "ip_version",
            "cidr",
            "gateway_ip",
            "allocation_pools",
            "dns_nameservers",
            "host_routes",
            "enable_dhcp",
            "ipv6_ra_mode",
            "ipv6_address_mode",
            "subnetpool_id",
            "segment_id",
            "service_types",
        ),
        subnet_view,
        lambda m, c, w: m.subnets(c, w),
        lambda m, c, i: m.subnet(c, i),
        lambda m, c, a: m.create_subnet(c, **a),
        schemas.SubnetCreate,
        lambda m, c, i: m.delete_subnet(c, i),
        lambda m, c, i, a, r: m.update_subnet(c, i, a, r),
        schemas.SubnetUpdate,
        _RO,
        frozenset(
            {
                "network_id",
                "ip_version",
                "cidr",
                "ipv6_ra_mode",
                "ipv6_address_mode",
                "project_id",
                "tenant_id",
                "subnetpool_id",
                "use_default_subnetpool",
                "prefixlen",
                "segment_id",
            }
        ),
    ),
    Resource(
        "port",
        "ports",
        "ports",
        (
            *STANDARD,
            "network_id",
            "admin_state_up",
            "status",
            "mac_address",
            "fixed_ips",
            "device_id",
            "device_owner",
            "security_groups",
            "allowed_address_pairs",
            "port_security_enabled",
            "ip_allocation",
            "binding:host_id",
            "binding:vnic_type",
            "binding:vif_type",
        ),
        port_view,
        lambda m, c, w: m.ports(c, w),
        lambda m, c, i: m.port(c, i),
        lambda m, c, a: m.create_port(c, **a),
        schemas.PortCreate,
        lambda m, c, i: m.delete_port(c, i),
        lambda m, c, i, a, r: m.update_port(c, i, a, r),
        schemas.PortUpdate,
        _RO | {"binding:vif_type", "binding:vif_details", "ip_allocation"},
        frozenset({"network_id", "project_id", "tenant_id"}),
        {"fixed_ips": ("fixed_ips", _fixed_ips_match)},
    ),
    Resource(
        "router",
        "routers",
        "routers",
        (*STANDARD, "admin_state_up", "status", "external_gateway_info", "routes", "availability_zone_hints"),
        router_view,
        lambda m, c, w: m.l3.routers(c, w),
        lambda m, c, i: m.l3.router(c, i),
        lambda m, c, a: m.l3.create_router(c, **a),
        schemas.RouterCreate,
        lambda m, c, i: m.l3.delete_router(c, i),
        lambda m, c, i, a, r: m.l3.update_router(c, i, a, r),
        schemas.RouterUpdate,
        _RO | {"availability_zones"},
        frozenset({"project_id", "tenant_id", "availability_zone_hints"}),
    ),
    Resource(
        "floatingip",
        "floatingips",
        "floatingips",
        (
            *STANDARD,
            "floating_ip_address",
            "floating_network_id",
            "router_id",
            "port_id",
            "fixed_ip_address",
            "status",
        ),
        floating_ip_view,
        lambda m, c, w: m.l3.floating_ips(c, w),
        lambda m, c, i: m.l3.floating_ip(c, i),
        lambda m, c, a: m.l3.create_floating_ip(c, **a),
        schemas.FloatingIPCreate,
        lambda m, c, i: m.l3.delete_floating_ip(c, i),
        lambda m, c, i, a, r: m.l3.update_floating_ip(c, i, a, r),
        schemas.FloatingIPUpdate,
        _RO | {"router_id", "port_details"},
        frozenset({"floating_network_id", "floating_ip_address", "subnet_id", "project_id", "tenant_id"}),
    ),
    Resource(
        "security_group",
        "security_groups",
        "security-groups",
        (*STANDARD, "stateful", "shared"),
        security_group_view,
        lambda m, c, w: m.security.groups(c, w),
        lambda m, c, i: m.security.group(c, i),
        lambda m, c, a: m.security.create_group(c, **a),
        schemas.SecurityGroupCreate,
        lambda m, c, i: m.security.delete_group(c, i),
        lambda m, c, i, a, r: m.security.update_group(c, i, a, r),
        schemas.SecurityGroupUpdate,
        _RO | {"security_group_rules", "shared"},
        frozenset({"project_id", "tenant_id"}),
    ),
    Resource(
        "security_group_rule",
        "security_group_rules",
        "security-group-rules",
        (
            "id",
            "description",
            "project_id",
            "tenant_id",
            "created_at",
            "updated_at",
            "revision_number",
            "security_group_id",
            "direction",
            "ethertype",
            "protocol",
            "port_range_min",
            "port_range_max",
            "remote_ip_prefix",
            "remote_group_id",
            "remote_address_group_id",
            "normalized_cidr",
            "belongs_to_default_sg",
        ),
        rule_view,
        lambda m, c, w: m.security.rules(c, w),
        lambda m, c, i: m.security.rule(c, i),
        lambda m, c, a: m.security.create_rule(c, **a),
        schemas.SecurityGroupRuleCreate,
        lambda m, c, i: m.security.delete_rule(c, i),
        read_only=_RO | {"normalized_cidr", "belongs_to_default_sg"},
        taggable=False,
    ),
)


def _fields(call: Call) -> list[str]:
    return [f for value in call.query.getlist("fields") for f in value.split(",") if f]


def _resource_routes(res: Resource) -> None:
    collection = f"/v2.0/{res.path}"
    item = f"{collection}/{{id}}"

    async def list_all(call: Call) -> Response:
        net, ctx = _net(call), call.ctx
        q = listing.ListQuery.parse(call.query)
        views = [res.view(net, ctx, r) for r in res.lister(net, ctx, _pushed(res, q))]
        page = listing.select(
            views,
            q,
            filterable=res.attributes,
            sortable=res.attributes,
            matchers={**res.matchers, "changed_since": ("updated_at", listing.changed_since)},
        )
        body: dict[str, Any] = {res.plural: [listing.pick(v, q.fields) for v in page.items]}
        found = listing.links(_base(call) + collection, call.query, page, q)
        if found:  # Neutron leaves the key out when there is nowhere to go
            body[f"{res.plural}_links"] = found
        return reply(body)

    async def show(call: Call) -> Response:
        net = _net(call)
        record = res.getter(net, call.ctx, call.params["id"])
        return reply({res.singular: listing.pick(res.view(net, call.ctx, record), _fields(call))})

    async def create(call: Call) -> Response:
        net, ctx = _net(call), call.ctx
        data = await call.json()
        bulk = isinstance(data, dict) and isinstance(data.get(res.plural), list)
        if bulk:
            items = data[res.plural]
        elif isinstance(data, dict) and res.singular in data:
            items = [data[res.singular]]
        else:
            raise faults.BadRequest(f"Unable to find '{res.singular}' in request body", kind="HTTPBadRequest")
        with net.store.transaction():
            parsed = [schemas.parse(res.create_body, item, res.read_only) for item in items]
            records = [res.creator(net, ctx, attrs) for attrs in parsed]
        views = [res.view(net, ctx, r) for r in records]
        return reply({res.plural: views} if bulk else {res.singular: views[0]}, status=201)

    async def update(call: Call) -> Response:
        net, ctx = _net(call), call.ctx
        assert res.updater is not None and res.update_body is not None
        data = await call.json()
        if not isinstance(data, dict) or res.singular not in data:
            raise faults.BadRequest(f"Unable to find '{res.singular}' in request body", kind="HTTPBadRequest")
        changes = schemas.parse(res.update_body, data[res.singular], res.read_only | res.create_only, creating=False)
        record = res.updater(net, ctx, call.params["id"], changes, call.header("if-match"))
        return reply({res.singular: res.view(net, ctx, record)})

    async def delete(call: Call) -> Response:
        res.deleter(_net(call), call.ctx, call.params["id"])
        return reply(status=204)

    api.route(collection)(list_all)
    api.route(collection, methods=("POST",))(create)
    api.route(item)(show)
    api.route(item, methods=("DELETE",))(delete)
    if res.updater is not None:
        api.route(item, methods=("PUT",))(update)
    if res.taggable:
        _tag_routes(res, item)


def _tag_routes(res: Resource, item: str) -> None:
    kind = res.singular

    async def get_tags(call: Call) -> Response:
        return reply({"tags": _net(call).tags(call.ctx, kind, call.params["id"])})

    async def put_tags(call: Call) -> Response:
        tags = schemas.parse(schemas.Tags, await call.json())["tags"]
        return reply({"tags": _net(call).set_tags(call.ctx, kind, call.params["id"], tags)})

    async def delete_tags(call: Call) -> Response:
        _net(call).set_tags(call.ctx, kind, call.params["id"], [])
        return reply(status=204)

    async def check_tag(call: Call) -> Response:
        if call.params["tag"] not in _net(call).tags(call.ctx, kind, call.params["id"]):
            raise faults.NotFound(
                f"Tag {call.params['tag']} could not be found for {kind} {call.params['id']}.", kind="TagNotFound"
            )
        return reply(status=204)

    async def add_tag(call: Call) -> Response:
        _net(call).add_tag(call.ctx, kind, call.params["id"], call.params["tag"])
        return reply(status=201)

    async def remove_tag(call: Call) -> Response:
        _net(call).remove_tag(call.ctx, kind, call.params["id"], call.params["tag"])
        return reply(status=204)

    api.route(f"{item}/tags")(get_tags)
    api.route(f"{item}/tags", methods=("PUT",))(put_tags)
    api.route(f"{item}/tags", methods=("DELETE",))(delete_tags)
    api.route(f"{item}/tags/{{tag}}")(check_tag)
    api.route(f"{item}/tags/{{tag}}", methods=("PUT",))(add_tag)
    api.route(f"{item}/tags/{{tag}}", methods=("DELETE",))(remove_tag)


# -- version discovery ------------------------------------------------------------------------


@api.route("/", public=True)
async def versions(call: Call) -> Response:
    link = {"rel": "self", "href": f"{_base(call)}/v2.0/"}
    return reply({"versions": [dict(VERSION, links=[link])]})


@api.route("/v2.0", public=True)
@api.route("/v2.0/", public=True)
async def version(call: Call) -> Response:
    base = f"{_base(call)}/v2.0"
    resources = [
        {"name": r.singular, "collection": r.plural, "links": [{"rel": "self", "href": f"{base}/{r.path}"}]}
        for r in RESOURCES
    ]
    return reply({"resources": resources, "version": dict(VERSION, links=[{"rel": "self", "href": f"{base}/"}])})


# -- extensions ---------------------------------------------------------------------------------


@api.route("/v2.0/extensions")
async def list_extensions(call: Call) -> Response:
    return reply({"extensions": extensions.extensions()})


@api.route("/v2.0/extensions/{alias}")
async def show_extension(call: Call) -> Response:
    found = extensions.extension(call.params["alias"])
    if found is None:
        raise faults.NotFound(f"Extension with alias {call.params['alias']} does not exist", kind="HTTPNotFound")
    return reply({"extension": found})


# -- router actions ------------------------------------------------------------------------------


@api.route("/v2.0/routers/{id}/add_router_interface", methods=("PUT",))
async def add_router_interface(call: Call) -> Response:
    body = schemas.parse(schemas.Interface, await call.json())
    return reply(_net(call).l3.add_interface(call.ctx, call.params["id"], body.get("subnet_id"), body.get("port_id")))


@api.route("/v2.0/routers/{id}/remove_router_interface", methods=("PUT",))
async def remove_router_interface(call: Call) -> Response:
    body = schemas.parse(schemas.Interface, await call.json())
    return reply(
        _net(call).l3.remove_interface(call.ctx, call.params["id"], body.get("subnet_id"), body.get("port_id"))
    )


def _routes_body(data: Any) -> list[dict[str, Any]]:
    if not isinstance(data, dict) or "router" not in data:
        raise faults.BadRequest("Unable to find 'router' in request body", kind="HTTPBadRequest")
    return schemas.parse(schemas.Routes, data["router"])["routes"]


@api.route("/v2.0/routers/{id}/add_extraroutes", methods=("PUT",))
async def add_extraroutes(call: Call) -> Response:
    net = _net(call)
    router = net.l3.add_routes(call.ctx, call.params["id"], _routes_body(await call.json()))
    return reply({"router": router_view(net, call.ctx, router)})


@api.route("/v2.0/routers/{id}/remove_extraroutes", methods=("PUT",))
async def remove_extraroutes(call: Call) -> Response:
    net = _net(call)
    router = net.l3.remove_routes(call.ctx, call.params["id"], _routes_body(await call.json()))
    return reply({"router": router_view(net, call.ctx, router)})


# -- quotas -----------------------------------------------------------------------------------------


def _quota_project(call: Call) -> str:
    project = call.params["project"].removesuffix(".json")
    ctx = call.ctx
    if project != ctx.project_id and not ctx.is_admin:
        raise faults.Forbidden(
            "User does not have admin privileges: Only admin is authorized to access quotas for another tenant.",
            kind="AdminRequired",
        )
    return project


@api.route("/v2.0/quotas")
async def list_quotas(call: Call) -> Response:
    net = _net(call)
    if not call.ctx.is_admin:
        raise faults.Forbidden("rule:get_quota is disallowed by policy", kind="PolicyNotAuthorized")
    rows = [dict(limits, project_id=pid, tenant_id=pid) for pid, limits in net.quotas.overridden()]
    return reply({"quotas": rows})


@api.route("/v2.0/quotas/tenant")
@api.route("/v2.0/quotas/project")
async def own_quota_project(call: Call) -> Response:
    return reply({"tenant": {"tenant_id": call.ctx.project_id}, "project": {"project_id": call.ctx.project_id}})


@api.route("/v2.0/quotas/{project}")
async def show_quota(call: Call) -> Response:
    return reply({"quota": _net(call).quotas.limits(_quota_project(call))})


@api.route("/v2.0/quotas/{project}/default")
async def default_quota(call: Call) -> Response:
    _quota_project(call)
    return reply({"quota": dict(DEFAULTS)})


@api.route("/v2.0/quotas/{project}/details")
@api.route("/v2.0/quotas/{project}/details.json")
async def quota_details(call: Call) -> Response:
    return reply({"quota": _net(call).quotas.details(_quota_project(call))})


@api.route("/v2.0/quotas/{project}", methods=("PUT",))
async def update_quota(call: Call) -> Response:
    net = _net(call)
    project = call.params["project"].removesuffix(".json")
    data = await call.json()
    if not isinstance(data, dict) or "quota" not in data:
        raise faults.BadRequest("Unable to find 'quota' in request body", kind="HTTPBadRequest")
    values = schemas.parse(schemas.QuotaValues, data["quota"])
    check = bool(values.pop("check_limit", False))
    return reply({"quota": net.quotas.update(call.ctx, project, values, check_limit=check)})


@api.route("/v2.0/quotas/{project}", methods=("DELETE",))
async def reset_quota(call: Call) -> Response:
    _net(call).quotas.reset(call.ctx, call.params["project"].removesuffix(".json"))
    return reply(status=204)


for _res in RESOURCES:
    _resource_routes(_res)
