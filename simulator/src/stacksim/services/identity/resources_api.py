"""Domains (and their configs), projects (and their tags), users, groups (and their members)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from stacksim import faults
from stacksim.services.identity import policy, schemas
from stacksim.services.identity.api import api, filters, flag, in_scope, link, model, related, resource, views
from stacksim.services.identity.common import DEFAULT_DOMAIN, Record, matches
from stacksim.web import Call, reply


def _home(call: Call) -> str:
    """Where a new project, user or group goes when its body names no domain: the caller's."""
    return call.ctx.domain_id or call.ctx.project_domain_id or DEFAULT_DOMAIN


# -- domains -------------------------------------------------------------------------------


def _list_domains(call: Call) -> list[Record]:
    found = model(call).domains.find(**filters(call, "name"))
    if not policy.admin_or_system_reader(call.ctx):
        found = [d for d in found if d["id"] == call.ctx.domain_id]
    return found


resource(
    "domain",
    lambda identity: identity.domains,
    (schemas.DomainCreate, schemas.DomainUpdate),
    find=_list_domains,
    readable=policy.get_domain,
    listable=policy.list_in_domain,
)


# -- domain configs --------------------------------------------------------------------------


@api.route("/v3/domains/config/default")
@api.route("/v3/domains/config/{group}/default")
@api.route("/v3/domains/config/{group}/{option}/default")
async def default_domain_config(call: Call) -> Response:
    policy.enforce(call.ctx, policy.admin_or_system_reader(call.ctx), "get_domain_config_default")
    config = model(call).domain_configs.defaults(call.params.get("group"), call.params.get("option"))
    return reply({"config": config})


@api.route("/v3/domains/{domain}/config", methods=("PUT",))
async def create_domain_config(call: Call) -> Response:
    call.ctx.require_admin("identity:create_domain_config")
    body = await call.body(schemas.DomainConfigBody)
    config, new = model(call).domain_configs.create(call.params["domain"], body.config)
    return reply({"config": config}, status=201 if new else 200)


@api.route("/v3/domains/{domain}/config")
@api.route("/v3/domains/{domain}/config/{group}")
@api.route("/v3/domains/{domain}/config/{group}/{option}")
async def show_domain_config(call: Call) -> Response:
    policy.enforce(call.ctx, policy.admin_or_system_reader(call.ctx), "get_domain_config")
    p = call.params
    return reply({"config": model(call).domain_configs.get(p["domain"], p.get("group"), p.get("option"))})


@api.route("/v3/domains/{domain}/config", methods=("PATCH",))
@api.route("/v3/domains/{domain}/config/{group}", methods=("PATCH",))
@api.route("/v3/domains/{domain}/config/{group}/{option}", methods=("PATCH",))
async def update_domain_config(call: Call) -> Response:
    call.ctx.require_admin("identity:update_domain_config")
    body = await call.body(schemas.DomainConfigBody)
    p = call.params
    config = model(call).domain_configs.update(p["domain"], body.config, p.get("group"), p.get("option"))
    return reply({"config": config})


@api.route("/v3/domains/{domain}/config", methods=("DELETE",))
@api.route("/v3/domains/{domain}/config/{group}", methods=("DELETE",))
@api.route("/v3/domains/{domain}/config/{group}/{option}", methods=("DELETE",))
async def delete_domain_config(call: Call) -> Response:
    call.ctx.require_admin("identity:delete_domain_config")
    p = call.params
    model(call).domain_configs.delete(p["domain"], p.get("group"), p.get("option"))
    return reply(status=204)


# -- projects ---------------------------------------------------------------------------------

_TAG_FILTERS = ("tags", "tags-any", "not-tags", "not-tags-any")
_EXPANSIONS = ("parents_as_list", "parents_as_ids", "subtree_as_list", "subtree_as_ids")


def _list_projects(call: Call) -> list[Record]:
    found = in_scope(call.ctx, filters(call, "name", "domain_id", "parent_id"))
    tags = {key: call.query[key].split(",") for key in _TAG_FILTERS if call.query.get(key)}
    return model(call).projects.listing(found, tags)


def _project_view(call: Call, record: Record) -> dict[str, Any]:
    shown = views(call)
    if call.request.method not in ("GET", "HEAD") or "id" not in call.params:
        return shown.record("projects", record)
    expand = {name: flag(call, name) for name in _EXPANSIONS}
    for kind in ("parents", "subtree"):
        if expand[f"{kind}_as_list"] and expand[f"{kind}_as_ids"]:
            raise faults.BadRequest(f"Cannot use {kind}_as_list and {kind}_as_ids query params at the same time.")
    return shown.project(record, expand, user_id=call.ctx.user_id)


resource(
    "project",
    lambda identity: identity.projects,
    (schemas.ProjectCreate, schemas.ProjectUpdate),
    find=_list_projects,
    spec=lambda call, body: body.spec(_home(call)),
    readable=policy.get_project,
    listable=policy.list_in_domain,
    view=_project_view,
)


def _tags_reply(call: Call, tags: list[str]) -> Response:
    return reply({"tags": tags, "links": {"self": str(call.request.url)}})


def _readable_project(call: Call) -> str:
    project = model(call).projects.get(call.params["id"])
    policy.enforce(call.ctx, policy.get_project(call.ctx, project), "list_project_tags")
    return project["id"]


@api.route("/v3/projects/{id}/tags")
async def list_project_tags(call: Call) -> Response:
    return _tags_reply(call, model(call).projects.tags(_readable_project(call)))


@api.route("/v3/projects/{id}/tags", methods=("PUT",))
async def replace_project_tags(call: Call) -> Response:
    call.ctx.require_admin("identity:update_project_tags")
    body = await call.body(schemas.Tags)
    return _tags_reply(call, model(call).projects.set_tags(call.params["id"], body.tags))


@api.route("/v3/projects/{id}/tags", methods=("DELETE",))
async def clear_project_tags(call: Call) -> Response:
    call.ctx.require_admin("identity:delete_project_tags")
    model(call).projects.set_tags(call.params["id"], [])
    return reply(status=204)


@api.route("/v3/projects/{id}/tags/{tag}")
async def check_project_tag(call: Call) -> Response:
    model(call).projects.has_tag(_readable_project(call), call.params["tag"])
    return reply(status=204)


@api.route("/v3/projects/{id}/tags/{tag}", methods=("PUT",))
async def add_project_tag(call: Call) -> Response:
    call.ctx.require_admin("identity:create_project_tag")
    model(call).projects.add_tag(call.params["id"], call.params["tag"])
    return reply(status=201, headers={"Location": str(call.request.url)})


@api.route("/v3/projects/{id}/tags/{tag}", methods=("DELETE",))
async def remove_project_tag(call: Call) -> Response:
    call.ctx.require_admin("identity:delete_project_tag")
    model(call).projects.remove_tag(call.params["id"], call.params["tag"])
    return reply(status=204)


# -- users ------------------------------------------------------------------------------------


resource(
    "user",
    lambda identity: identity.users,
    (schemas.UserCreate, schemas.UserUpdate),
    query=("name", "domain_id"),
    scoped=True,
    spec=lambda call, body: body.spec(_home(call)),
    readable=policy.get_user,
    listable=policy.list_in_domain,
)


@api.route("/v3/users/{id}/password", methods=("POST",))
async def change_password(call: Call) -> Response:
    if call.params["id"] != call.ctx.user_id:
        raise faults.Forbidden("You are not authorized to perform the requested action: identity:change_password.")
    body = await call.body(schemas.PasswordChange, root="user")
    model(call).users.change_password(call.params["id"], body.original_password, body.password)
    return reply(status=204)


def _user_seen(call: Call) -> bool:
    return policy.get_user(call.ctx, model(call).users.get(call.params["id"]))


related(
    "/v3/users/{id}/projects",
    "list_user_projects",
    "projects",
    lambda call: model(call).assignments.projects_of(call.params["id"]),
    lambda shown, record: shown.record("projects", record),
    allowed=_user_seen,
)
related(
    "/v3/users/{id}/groups",
    "list_groups_for_user",
    "groups",
    lambda call: model(call).groups.of_user(call.params["id"]),
    lambda shown, record: shown.record("groups", record),
    allowed=_user_seen,
)


# -- groups and their members ------------------------------------------------------------------


resource(
    "group",
    lambda identity: identity.groups,
    (schemas.GroupCreate, schemas.GroupUpdate),
    query=("name", "domain_id"),
    scoped=True,
    spec=lambda call, body: body.spec(_home(call)),
    readable=policy.get_group,
    listable=policy.list_in_domain,
)


def _group_seen(call: Call) -> bool:
    return policy.get_group(call.ctx, model(call).groups.get(call.params["id"]))


def _members(call: Call) -> list[Record]:
    wanted = filters(call, "name", "domain_id")
    return [u for u in model(call).groups.members(call.params["id"]) if matches(u, wanted)]


related(
    "/v3/groups/{id}/users",
    "list_users_in_group",
    "users",
    _members,
    lambda shown, record: shown.record("users", record),
    allowed=_group_seen,
)
link(
    "/v3/groups/{id}/users/{user}",
    ("check_user_in_group", "add_user_to_group", "remove_user_from_group"),
    check=lambda call: model(call).groups.check_member(call.params["id"], call.params["user"]),
    add=lambda call: model(call).groups.add_member(call.params["id"], call.params["user"]),
    remove=lambda call: model(call).groups.remove_member(call.params["id"], call.params["user"]),
    allowed=_group_seen,
)
