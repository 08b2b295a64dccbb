"""Roles, implied roles, grants (to users and groups, on projects, domains and the system) and
``/v3/role_assignments``."""

from __future__ import annotations

from starlette.responses import Response

from stacksim import faults
from stacksim.services.identity import policy, schemas
from stacksim.services.identity.api import api, flag, listing, model, resource, views
from stacksim.services.identity.specs import Actor, Target
from stacksim.web import Call, reply

resource(
    "role",
    lambda identity: identity.roles,
    (schemas.RoleCreate, schemas.RoleUpdate),
    query=("name", "domain_id"),
    readable=lambda ctx, record: policy.admin_or_system_reader(ctx),
    listable=policy.admin_or_system_reader,
)


# -- implied roles ----------------------------------------------------------------------------


@api.route("/v3/role_inferences")
async def role_inferences(call: Call) -> Response:
    policy.enforce(call.ctx, policy.admin_or_system_reader(call.ctx), "list_role_inference_rules")
    roles, shown = model(call).roles, views(call)
    inferences = [
        {"prior_role": shown.role_link(roles.get(prior)), "implies": [shown.role_link(r) for r in roles.many(implied)]}
        for prior, implied in roles.inference_rules().items()
    ]
    return reply({"role_inferences": inferences, "links": {"self": str(call.request.url)}})


@api.route("/v3/roles/{prior}/implies")
async def list_implied_roles(call: Call) -> Response:
    policy.enforce(call.ctx, policy.admin_or_system_reader(call.ctx), "list_implied_roles")
    roles, prior = model(call).roles, call.params["prior"]
    implied = roles.implications_of(prior)
    return reply(views(call).inference(roles.get(prior), implied, f"/roles/{prior}/implies"))


def _inference(call: Call) -> Response:
    roles, prior, implied = model(call).roles, call.params["prior"], call.params["implied"]
    body = views(call).inference(roles.get(prior), roles.get(implied), f"/roles/{prior}/implies/{implied}")
    return reply(body, status=201 if call.request.method == "PUT" else 200)


@api.route("/v3/roles/{prior}/implies/{implied}", methods=("PUT",))
async def create_implied_role(call: Call) -> Response:
    call.ctx.require_admin("identity:create_implied_role")
    model(call).roles.imply(call.params["prior"], call.params["implied"])
    return _inference(call)


@api.route("/v3/roles/{prior}/implies/{implied}", methods=("GET",))
async def get_implied_role(call: Call) -> Response:
    policy.enforce(call.ctx, policy.admin_or_system_reader(call.ctx), "get_implied_role")
    model(call).roles.implication(call.params["prior"], call.params["implied"])
    if call.request.method == "HEAD":  # Keystone answers a check with 204
        return reply(status=204)
    return _inference(call)


@api.route("/v3/roles/{prior}/implies/{implied}", methods=("DELETE",))
async def delete_implied_role(call: Call) -> Response:
    call.ctx.require_admin("identity:delete_implied_role")
    model(call).roles.unimply(call.params["prior"], call.params["implied"])
    return reply(status=204)


# -- grants -----------------------------------------------------------------------------------

_TARGETS = {"projects": "project_id", "domains": "domain_id"}
_ACTORS = {"users": "user_id", "groups": "group_id"}


def _grant(call: Call) -> tuple[Actor, Target]:
    """The actor and target a grant route names (404 for a path Keystone does not have)."""
    p = call.params
    kind, actors = p.get("kind"), p["actors"]
    if actors not in _ACTORS or (kind is not None and kind not in _TARGETS):
        raise faults.NotFound(f"The resource could not be found: {call.request.url.path}")
    actor = Actor(**{_ACTORS[actors]: p["actor"]})
    target = Target(system=True) if kind is None else Target(**{_TARGETS[kind]: p["target"]})
    return actor, target


def _grant_reader(call: Call, target: Target) -> bool:
    domain = target.domain_id
    if target.project_id:
        domain = model(call).projects.get(target.project_id)["domain_id"]
    return policy.reader_of_domain(call.ctx, domain)


async def _list_grants(call: Call) -> Response:
    actor, target = _grant(call)
    policy.enforce(call.ctx, _grant_reader(call, target), "list_grants")
    shown = views(call)
    roles = model(call).assignments.roles_granted(actor, target)
    return listing(call, "roles", [shown.role_brief(r) for r in roles])


async def _put_grant(call: Call) -> Response:
    call.ctx.require_admin("identity:create_grant")
    actor, target = _grant(call)
    model(call).assignments.grant(call.params["role"], actor, target)
    return reply(status=204)


async def _check_grant(call: Call) -> Response:
    actor, target = _grant(call)
    policy.enforce(call.ctx, _grant_reader(call, target), "check_grant")
    model(call).assignments.check(call.params["role"], actor, target)
    return reply(status=204)


async def _delete_grant(call: Call) -> Response:
    call.ctx.require_admin("identity:revoke_grant")
    actor, target = _grant(call)
    model(call).assignments.revoke(call.params["role"], actor, target)
    return reply(status=204)


for _base in ("/v3/{kind}/{target}/{actors}/{actor}/roles", "/v3/system/{actors}/{actor}/roles"):
    api.route(_base)(_list_grants)
    api.route(_base + "/{role}", methods=("PUT",))(_put_grant)
    api.route(_base + "/{role}", methods=("GET", "HEAD"))(_check_grant)
    api.route(_base + "/{role}", methods=("DELETE",))(_delete_grant)


# -- role assignments -------------------------------------------------------------------------


@api.route("/v3/role_assignments")
async def list_role_assignments(call: Call) -> Response:
    q = call.query
    scopes = [name for name in ("scope.project.id", "scope.domain.id", "scope.system") if q.get(name)]
    if len(scopes) > 1:
        raise faults.BadRequest(f"Specify one of {', '.join(scopes)}, not several.")
    target = None
    if q.get("scope.project.id"):
        target = Target(project_id=q["scope.project.id"])
    elif q.get("scope.domain.id"):
        target = Target(domain_id=q["scope.domain.id"])
    elif q.get("scope.system"):
        target = Target(system=True)
    subtree = flag(call, "include_subtree")
    rule = "list_role_assignments_for_tree" if subtree else "list_role_assignments"
    policy.enforce(call.ctx, policy.list_in_domain(call.ctx), rule)
    if subtree and not (target and target.project_id):
        raise faults.BadRequest("scope.project.id must be specified if include_subtree is also specified")
    rows = model(call).assignments.listing(
        user_id=q.get("user.id"),
        group_id=q.get("group.id"),
        role_id=q.get("role.id"),
        target=target,
        effective=flag(call, "effective"),
        include_subtree=subtree,
        # A domain reader sees its domain's assignments only.
        domain=None if policy.admin_or_system_reader(call.ctx) else call.ctx.domain_id,
    )
    shown, names = views(call), flag(call, "include_names")
    return listing(call, "role_assignments", [shown.assignment(r, names) for r in rows])
