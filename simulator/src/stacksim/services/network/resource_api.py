"""Neutron's family of resource routes: a resource described once gets list, show, create (bulk too),
update, delete and its tags, all behaving alike.

Each resource is a :class:`Resource`: its names, what may be filtered and
sorted, its typed request classes and the facade methods that make, change
and delete it. Lists go through :mod:`stacksim.listing` (filters, ``fields``,
sorting, paging, links), with the filters the store can apply pushed down to
it first; records are rendered by :mod:`.views`. It is the richer cousin of
:mod:`stacksim.crud` (Neutron's bulk creates, tags and list semantics).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response

from stacksim import faults, listing
from stacksim.auth import Context
from stacksim.services.network import schemas, views
from stacksim.services.network.model import TAGGABLE, Networking
from stacksim.web import Api, Call, reply

api = Api("neutron")

PREFIX = "/network"
#: attributes every standard resource has
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
#: never in a body
READ_ONLY = frozenset({"id", "status", "created_at", "updated_at", "revision_number"})
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
    "object_id": "object_id",
}

Record = dict[str, Any]
#: every resource registered, for version discovery
REGISTERED: list[Resource] = []


def net_of(call: Call) -> Networking:
    """The facade, after giving the caller's project its default security group (as Neutron does)."""
    net: Networking = call.cloud.network
    net.ensure_project(call.ctx.project_id)
    return net


def base_url(call: Call) -> str:
    return f"{call.cloud.settings.base_url}{PREFIX}"


def fields_of(call: Call) -> list[str]:
    return [f for value in call.query.getlist("fields") for f in value.split(",") if f]


def body_of(data: Any, key: str) -> Any:
    """``data[key]``: a request body's one member, or Neutron's 400."""
    if not isinstance(data, dict) or key not in data:
        raise faults.BadRequest(f"Unable to find '{key}' in request body", kind="HTTPBadRequest")
    return data[key]


@dataclass(frozen=True)
class Resource:
    kind: str  #: the store kind (``network``, ``qos_policy``)
    singular: str  #: the body key (``network``, ``policy``)
    plural: str  #: the collection key (``networks``, ``policies``)
    path: str  #: the collection's URL below ``/v2.0`` (``security-groups``, ``qos/policies``)
    attributes: tuple[str, ...]  #: what may be filtered and sorted on
    create: Callable[[Networking, Context, Any], Record]
    create_body: type
    delete: Callable[[Networking, Context, str], None]
    update: Callable[[Networking, Context, str, Any, str | None], Record] | None = None
    update_body: type | None = None
    read_only: frozenset[str] = READ_ONLY  #: never in a body
    create_only: frozenset[str] = frozenset()  #: in a POST body, not in a PUT one
    matchers: dict[str, tuple[str, listing.Matcher]] = field(default_factory=dict)

    @property
    def collection(self) -> str:
        return f"/v2.0/{self.path}"


def _pushed(res: Resource, q: listing.ListQuery) -> dict[str, list[Any]]:
    """The list's filters the store can apply: plain text, none that also matches a null."""
    where: dict[str, list[Any]] = {}
    for name, wanted in q.filters.items():
        column = PUSHED.get(name)
        if column is None or name not in res.attributes or name in res.matchers:
            continue
        if any(w in ("", "None", "null") for w in wanted) or column in where:
            continue
        where[column] = list(wanted)
    return where


def resource_routes(res: Resource) -> None:
    """Register ``res``'s list, show, create, update, delete (and tags, for a taggable kind)."""
    REGISTERED.append(res)
    item = f"{res.collection}/{{id}}"

    async def list_all(call: Call) -> Response:
        net, ctx = net_of(call), call.ctx
        q = listing.ListQuery.parse(call.query)
        found = [views.render(net, ctx, res.kind, r) for r in net.list(ctx, res.kind, _pushed(res, q))]
        page = listing.select(
            found,
            q,
            filterable=res.attributes,
            sortable=res.attributes,
            matchers={**res.matchers, "changed_since": ("updated_at", listing.changed_since)},
        )
        body: dict[str, Any] = {res.plural: [listing.pick(v, q.fields) for v in page.items]}
        links = listing.links(base_url(call) + res.collection, call.query, page, q)
        if links:  # Neutron leaves the key out when there is nowhere to go
            body[f"{res.plural}_links"] = links
        return reply(body)

    async def show(call: Call) -> Response:
        net = net_of(call)
        record = net.get(call.ctx, res.kind, call.params["id"])
        return reply({res.singular: listing.pick(views.render(net, call.ctx, res.kind, record), fields_of(call))})

    async def create(call: Call) -> Response:
        net, ctx = net_of(call), call.ctx
        data = await call.json()
        bulk = isinstance(data, dict) and isinstance(data.get(res.plural), list)
        items = data[res.plural] if bulk else [body_of(data, res.singular)]
        with net.store.transaction():  # a bulk create makes all or nothing
            requests = [schemas.parse(res.create_body, item, res.read_only) for item in items]
            records = [res.create(net, ctx, request) for request in requests]
        rendered = [views.render(net, ctx, res.kind, r) for r in records]
        return reply({res.plural: rendered} if bulk else {res.singular: rendered[0]}, status=201)

    async def update(call: Call) -> Response:
        net, ctx = net_of(call), call.ctx
        assert res.update is not None and res.update_body is not None
        data = body_of(await call.json(), res.singular)
        request = schemas.parse(res.update_body, data, res.read_only | res.create_only, creating=False)
        record = res.update(net, ctx, call.params["id"], request, call.header("if-match"))
        return reply({res.singular: views.render(net, ctx, res.kind, record)})

    async def delete(call: Call) -> Response:
        res.delete(net_of(call), call.ctx, call.params["id"])
        return reply(status=204)

    api.route(res.collection)(list_all)
    api.route(res.collection, methods=("POST",))(create)
    api.route(item)(show)
    api.route(item, methods=("DELETE",))(delete)
    if res.update is not None:
        api.route(item, methods=("PUT",))(update)
    if res.kind in TAGGABLE:
        # Neutron's tag extension hangs off the collection's name at the root (``/policies/{id}/tags``
        # for QoS policies), with security groups spelt as their URL is.
        collection = TAGGABLE[res.kind].replace("security_groups", "security-groups")
        _tag_routes(res.kind, f"/v2.0/{collection}/{{id}}")


def _tag_routes(kind: str, item: str) -> None:
    async def get_tags(call: Call) -> Response:
        return reply({"tags": net_of(call).tags(call.ctx, kind, call.params["id"])})

    async def put_tags(call: Call) -> Response:
        tags = schemas.parse(schemas.Tags, await call.json()).tags
        return reply({"tags": net_of(call).set_tags(call.ctx, kind, call.params["id"], tags)})

    async def post_tags(call: Call) -> Response:
        tags = schemas.parse(schemas.Tags, await call.json()).tags
        return reply({"tags": net_of(call).add_tags(call.ctx, kind, call.params["id"], tags)}, status=201)

    async def delete_tags(call: Call) -> Response:
        net_of(call).set_tags(call.ctx, kind, call.params["id"], [])
        return reply(status=204)

    async def check_tag(call: Call) -> Response:
        if call.params["tag"] not in net_of(call).tags(call.ctx, kind, call.params["id"]):
            raise faults.NotFound(f"Tag {call.params['tag']} could not be found.", kind="TagNotFound")
        return reply(status=204)

    async def add_tag(call: Call) -> Response:
        net_of(call).add_tag(call.ctx, kind, call.params["id"], call.params["tag"])
        return reply(status=201)

    async def remove_tag(call: Call) -> Response:
        net_of(call).remove_tag(call.ctx, kind, call.params["id"], call.params["tag"])
        return reply(status=204)

    api.route(f"{item}/tags")(get_tags)
    api.route(f"{item}/tags", methods=("PUT",))(put_tags)
    api.route(f"{item}/tags", methods=("POST",))(post_tags)
    api.route(f"{item}/tags", methods=("DELETE",))(delete_tags)
    api.route(f"{item}/tags/{{tag}}")(check_tag)
    api.route(f"{item}/tags/{{tag}}", methods=("PUT",))(add_tag)
    api.route(f"{item}/tags/{{tag}}", methods=("DELETE",))(remove_tag)
