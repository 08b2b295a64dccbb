"""Unified limits: ``/v3/registered_limits``, ``/v3/limits`` and ``/v3/limits/model``.

Registered limits are read by anyone and written by admins; a project or domain
limit is seen by admins, system readers and the project's (or domain's) own
tokens. Both are created in lists (all or none).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from starlette.responses import Response

from stacksim.auth import Context
from stacksim.services.identity import policy, schemas
from stacksim.services.identity.api import api, filters, listing, model, views
from stacksim.services.identity.common import Record
from stacksim.services.identity.limits import MODEL
from stacksim.services.identity.model import Identity
from stacksim.web import Call, reply

_FILTERS = ("service_id", "region_id", "resource_name")


def _routes(
    singular: str,
    part: Callable[[Identity], Any],
    bodies: tuple[type[BaseModel], type[BaseModel]],
    find: Callable[[Call], list[Record]],
    readable: Callable[[Call, Record], bool],
) -> None:
    """List, create (a list), show, update and delete of ``singular`` limits."""
    plural, create_body, update_body = f"{singular}s", bodies[0], bodies[1]

    def shown(call: Call, record: Record) -> dict[str, Any]:
        return views(call).record(plural, record)

    async def list_all(call: Call) -> Response:
        return listing(call, plural, [shown(call, r) for r in find(call)])

    async def create(call: Call) -> Response:
        call.ctx.require_admin(f"identity:create_{plural}")
        body = await call.body(create_body)
        made = part(model(call)).create([item.spec() for item in getattr(body, plural)])
        return reply({plural: [shown(call, r) for r in made]}, status=201)

    async def show(call: Call) -> Response:
        record = part(model(call)).get(call.params["id"])
        policy.enforce(call.ctx, readable(call, record), f"get_{singular}")
        return reply({singular: shown(call, record)})

    async def update(call: Call) -> Response:
        call.ctx.require_admin(f"identity:update_{singular}")
        changes = (await call.body(update_body, root=singular)).model_dump(exclude_unset=True)
        return reply({singular: shown(call, part(model(call)).update(call.params["id"], changes))})

    async def delete(call: Call) -> Response:
        call.ctx.require_admin(f"identity:delete_{singular}")
        part(model(call)).delete(call.params["id"])
        return reply(status=204)

    api.route(f"/v3/{plural}")(list_all)
    api.route(f"/v3/{plural}", methods=("POST",))(create)
    api.route(f"/v3/{plural}/{{id}}")(show)
    api.route(f"/v3/{plural}/{{id}}", methods=("PATCH",))(update)
    api.route(f"/v3/{plural}/{{id}}", methods=("DELETE",))(delete)


_routes(
    "registered_limit",
    lambda identity: identity.registered_limits,
    (schemas.RegisteredLimitsCreate, schemas.RegisteredLimitUpdate),
    find=lambda call: model(call).registered_limits.find(**filters(call, *_FILTERS)),
    readable=lambda call, record: True,
)


@api.route("/v3/limits/model")
async def limit_model(call: Call) -> Response:
    return reply({"model": dict(MODEL)})


def _sees_all(ctx: Context) -> bool:
    return policy.admin_or_system_reader(ctx) or ctx.system or "service" in ctx.roles


def _visible_limits(call: Call) -> list[Record]:
    ctx = call.ctx
    wanted = filters(call, *_FILTERS, "project_id", "domain_id")
    return model(call).limits.visible(wanted, ctx.project_id, ctx.domain_id, _sees_all(call.ctx))


def _own_limit(call: Call, record: Record) -> bool:
    ctx, domain = call.ctx, record.get("domain_id")
    if record.get("project_id"):
        if record["project_id"] == ctx.project_id:
            return True
        domain = model(call).projects.get(record["project_id"])["domain_id"]
    return policy.admin_or_system_reader(ctx) or (domain is not None and domain == ctx.domain_id)


_routes(
    "limit",
    lambda identity: identity.limits,
    (schemas.LimitsCreate, schemas.LimitUpdate),
    find=_visible_limits,
    readable=_own_limit,
)
