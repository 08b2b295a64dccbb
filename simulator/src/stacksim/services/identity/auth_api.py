"""Tokens (``/v3/auth/tokens``) and what a token may ask about itself (``/v3/auth/*``)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from stacksim import faults
from stacksim.services.identity import schemas
from stacksim.services.identity.api import api, listing, model, views
from stacksim.services.identity.specs import Target
from stacksim.web import Call, reply


@api.route("/v3/auth/tokens", methods=("POST",), public=True)
async def issue_token(call: Call) -> Response:
    auth = await call.body(schemas.Auth, root="auth")
    token, record = model(call).tokens.authenticate(auth.request())
    body = views(call).token(record, with_catalog="nocatalog" not in call.query)
    return reply(body, status=201, headers={"X-Subject-Token": token})


def _subject(call: Call) -> tuple[str, dict[str, Any]]:
    token = call.header("x-subject-token")
    if not token:
        raise faults.BadRequest("The X-Subject-Token header is required.")
    record = model(call).tokens.subject(token)
    call.ctx.require(record["user_id"] == call.ctx.user_id, "identity:validate_token")
    return token, record


@api.route("/v3/auth/tokens", methods=("GET",))
async def validate_token(call: Call) -> Response:
    token, record = _subject(call)
    body = views(call).token(record, with_catalog="nocatalog" not in call.query)
    return reply(body, headers={"X-Subject-Token": token})


@api.route("/v3/auth/tokens", methods=("HEAD",))
async def check_token(call: Call) -> Response:
    token, _ = _subject(call)
    return reply(status=200, headers={"X-Subject-Token": token})


@api.route("/v3/auth/tokens", methods=("DELETE",))
async def revoke_token(call: Call) -> Response:
    token, _record = _subject(call)
    model(call).tokens.revoke(token)
    return reply(status=204)


@api.route("/v3/auth/catalog")
async def auth_catalog(call: Call) -> Response:
    return reply({"catalog": views(call).catalog(call.ctx.project_id), "links": {"self": str(call.request.url)}})


@api.route("/v3/auth/projects")
async def auth_projects(call: Call) -> Response:
    shown = views(call)
    projects = [p for p in model(call).assignments.projects_of(call.ctx.user_id) if p["enabled"]]
    return listing(call, "projects", [shown.record("projects", p) for p in projects])


@api.route("/v3/auth/domains")
async def auth_domains(call: Call) -> Response:
    shown = views(call)
    domains = [d for d in model(call).assignments.domains_of(call.ctx.user_id) if d["enabled"]]
    return listing(call, "domains", [shown.record("domains", d) for d in domains])


@api.route("/v3/auth/system")
async def auth_system(call: Call) -> Response:
    held = model(call).assignments.roles_on(call.ctx.user_id, Target(system=True))
    return reply({"system": [{"all": True}] if held else [], "links": {"self": str(call.request.url)}})
