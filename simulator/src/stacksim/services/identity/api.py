"""Keystone v3's REST API: the API object, version discovery and what the route modules share.

The routes live in one module per area, imported at the end so they register
on ``api``: ``auth_api`` (tokens and the ``/auth`` calls), ``resources_api``
(domains, projects, users, groups and their configs, tags and members),
``roles_api`` (roles, implied roles, grants, role assignments),
``credentials_api`` (application credentials, access rules, credentials,
EC2), ``catalog_api`` (regions, services, endpoints, endpoint groups) and
``limits_api``. Each parses with :mod:`.schemas`, checks :mod:`.policy`,
calls the facade (``call.cloud.identity``) and renders with :mod:`.views`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from starlette.responses import Response

from stacksim import toolkit
from stacksim.auth import Context
from stacksim.crud import Crud, crud_routes
from stacksim.services.identity import policy
from stacksim.services.identity.common import Record
from stacksim.services.identity.model import Identity
from stacksim.services.identity.views import Views
from stacksim.web import Api, Call, reply

api = Api("keystone")

VERSION = {
    "id": "v3.14",
    "status": "stable",
    "updated": "2020-04-07T00:00:00Z",
    "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}],
}


def model(call: Call) -> Identity:
    return call.cloud.identity


def views(call: Call) -> Views:
    return Views(call.cloud.identity, call.cloud.settings.base_url)


def listing(call: Call, collection: str, bodies: list[dict[str, Any]]) -> Response:
    """A list in Keystone's envelope."""
    return reply({collection: bodies, "links": {"self": str(call.request.url), "previous": None, "next": None}})


def flag(call: Call, name: str) -> bool:
    """A query flag as Keystone reads one (``effective``, ``include_names``, ``parents_as_list`` ...):
    given with any value but ``0`` (an empty one too) is true; absent or ``0`` false."""
    return name in call.query and call.query[name] != "0"


def filters(call: Call, *names: str) -> dict[str, Any]:
    """The exact-match filters among ``names`` the query gives, and ``enabled`` (empty or a false
    word is false, anything else true)."""
    found: dict[str, Any] = {name: call.query[name] for name in names if name in call.query}
    if "enabled" in call.query:
        text = call.query["enabled"].strip().lower()
        found["enabled"] = text != "" and text not in toolkit.FALSE
    return found


def in_scope(ctx: Context, found: dict[str, Any]) -> dict[str, Any]:
    """A domain reader (who is no admin nor system reader) lists its own domain's records only."""
    if not policy.admin_or_system_reader(ctx) and ctx.domain_id:
        return {**found, "domain_id": ctx.domain_id}
    return found


def resource(
    singular: str,
    part: Callable[[Identity], Any],
    bodies: tuple[type[BaseModel], type[BaseModel]],
    *,
    query: tuple[str, ...] = (),
    scoped: bool = False,
    find: Callable[[Call], list[Record]] | None = None,
    spec: Callable[[Call, Any], Any] = lambda call, body: body.spec(),
    readable: Callable[[Context, Record], bool] | None = None,
    listable: Callable[[Context], bool] | None = None,
    view: Callable[[Call, Record], dict[str, Any]] | None = None,
    path: str | None = None,
) -> None:
    """Register one Keystone resource's routes (list, create, show, update, delete) on ``api``.

    ``part`` is its part of the facade; ``bodies`` its create and update schemas, ``spec``
    turns a parsed create body into the part's typed request. Writes are admin-only;
    ``readable`` and ``listable`` say who else may show and list (None: admins only). The
    list filters on the ``query`` parameters given (and ``enabled``); ``scoped``: a domain
    reader's list keeps to its domain; ``find`` replaces all that.
    """
    plural = f"{singular}s"
    shown = view or (lambda call, record: views(call).record(plural, record))

    def rule(verb: str) -> str:
        return f"identity:{verb}_{plural if verb == 'list' else singular}"

    def find_all(call: Call) -> list[Record]:
        if listable is not None:
            call.ctx.require(listable(call.ctx), rule("list"))
        if find is not None:
            return find(call)
        wanted = filters(call, *query)
        return part(model(call)).find(**(in_scope(call.ctx, wanted) if scoped else wanted))

    admin_verbs = {"create", "update", "delete"} | ({"list"} if listable is None else set())
    crud_routes(
        api,
        Crud(
            singular=singular,
            plural=plural,
            path=path or f"/v3/{plural}",
            view=shown,
            listing=lambda call, records: listing(call, plural, [shown(call, r) for r in records]),
            rule=rule,
            find=find_all,
            get=lambda call, id: part(model(call)).get(id),
            create=lambda call, body: part(model(call)).create(spec(call, body)),
            create_body=bodies[0],
            update=lambda call, id, changes: part(model(call)).update(id, changes),
            update_body=bodies[1],
            delete=lambda call, id: part(model(call)).delete(id),
            admin_verbs=frozenset(admin_verbs | ({"get"} if readable is None else set())),
            owner=(lambda call, record: readable(call.ctx, record)) if readable is not None else None,
        ),
    )


def readers(call: Call) -> bool:
    """Keystone's usual read rule: admins and system readers."""
    return policy.admin_or_system_reader(call.ctx)


def related(
    path: str,
    rule: str,
    collection: str,
    fetch: Callable[[Call], list[Record]],
    show: Callable[[Views, Record], dict[str, Any]],
    allowed: Callable[[Call], bool] = readers,
) -> None:
    """``GET path``: the records ``fetch`` finds (a project's endpoints, a group's users ...), if
    ``allowed``; a 403 names ``identity:<rule>``."""

    async def handler(call: Call) -> Response:
        policy.enforce(call.ctx, allowed(call), rule)
        shown = views(call)
        return listing(call, collection, [show(shown, r) for r in fetch(call)])

    api.route(path)(handler)


def link(
    path: str,
    rules: tuple[str, str, str],
    check: Callable[[Call], dict[str, Any] | None],
    add: Callable[[Call], None],
    remove: Callable[[Call], None],
    allowed: Callable[[Call], bool] = readers,
) -> None:
    """``GET``/``HEAD`` (check: 204, or 200 with the body ``check`` returns), ``PUT`` (add, 204) and
    ``DELETE`` (remove, 204) on an association such as a group's member; ``rules`` name the check,
    add and remove policies (add and remove are admin-only)."""
    check_rule, add_rule, remove_rule = rules

    async def checked(call: Call) -> Response:
        policy.enforce(call.ctx, allowed(call), check_rule)
        body = check(call)
        return reply(body) if body is not None else reply(status=204)

    async def added(call: Call) -> Response:
        call.ctx.require_admin(f"identity:{add_rule}")
        add(call)
        return reply(status=204)

    async def removed(call: Call) -> Response:
        call.ctx.require_admin(f"identity:{remove_rule}")
        remove(call)
        return reply(status=204)

    api.route(path)(checked)
    api.route(path, methods=("PUT",))(added)
    api.route(path, methods=("DELETE",))(removed)


# -- version discovery -------------------------------------------------------


def _url(call: Call, path: str = "") -> str:
    return f"{call.cloud.settings.base_url}/identity/v3{path}"


@api.route("/", public=True)
async def versions(call: Call) -> Response:
    version = dict(VERSION, links=[{"rel": "self", "href": _url(call, "/")}])
    return reply({"versions": {"values": [version]}}, status=300)


@api.route("/v3", public=True)
@api.route("/v3/", public=True)
async def version(call: Call) -> Response:
    return reply({"version": dict(VERSION, links=[{"rel": "self", "href": _url(call, "/")}])})


# The route modules register on ``api`` as they are imported; fixed paths (``/v3/domains/config/default``,
# ``/v3/roles/{id}/implies``) before the patterns they would otherwise match.
from stacksim.services.identity import (  # noqa: E402, F401
    auth_api,
    catalog_api,
    credentials_api,
    limits_api,
    resources_api,
    roles_api,
)
