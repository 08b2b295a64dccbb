"""One family of CRUD routes: a resource described once gets list, create, show, update, delete.

A service describes each plain resource with a :class:`Crud` (its names, the
model calls, the body schemas, the view and the policy) and registers it with
:func:`crud_routes`; the handlers only parse, check policy, call and render,
so every such resource behaves alike. Neutron's ``_resource_routes`` is the
richer cousin (bulk create, tags, Neutron's list semantics) that the later
per-service work can build on this.

Policy, in the order the services check it: a verb in ``admin_verbs`` needs an
admin before anything is read; ``show`` otherwise reads the record first (a
missing one is a 404 whoever asks) and then asks ``owner(call, record)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from starlette.responses import Response

from stacksim.web import Api, Call, reply

Record = dict[str, Any]
VERBS = ("list", "create", "get", "update", "delete")


@dataclass(frozen=True)
class Crud:
    singular: str  #: the body's root key, e.g. ``domain``
    plural: str  #: the collection's key, e.g. ``domains``
    path: str  #: the collection's route, e.g. ``/v3/domains``
    view: Callable[[Call, Record], dict[str, Any]]
    listing: Callable[[Call, list[Record]], Response]  #: renders a list in the service's envelope
    rule: Callable[[str], str]  #: verb -> the policy rule's name (for the 403's message)
    find: Callable[[Call], list[Record]] | None = None
    get: Callable[[Call, str], Record] | None = None
    create: Callable[[Call, Any], Record] | None = None  #: gets the parsed ``create_body``
    create_body: type[BaseModel] | None = None
    update: Callable[[Call, str, dict[str, Any]], Record] | None = None  #: gets the fields set
    update_body: type[BaseModel] | None = None
    update_method: str = "PATCH"
    delete: Callable[[Call, str], None] | None = None
    admin_verbs: frozenset[str] = frozenset(VERBS)
    owner: Callable[[Call, Record], bool] | None = None  #: who may ``get`` without being admin


def crud_routes(api: Api, res: Crud) -> None:
    """Register ``res``'s routes (those it has model calls for) on ``api``."""
    item = f"{res.path}/{{id}}"

    def guard(call: Call, verb: str) -> None:
        if verb in res.admin_verbs:
            call.ctx.require_admin(res.rule(verb))

    async def list_all(call: Call) -> Response:
        assert res.find is not None
        guard(call, "list")
        return res.listing(call, res.find(call))

    async def create(call: Call) -> Response:
        assert res.create is not None and res.create_body is not None
        guard(call, "create")
        body = await call.body(res.create_body, root=res.singular)
        return reply({res.singular: res.view(call, res.create(call, body))}, status=201)

    async def show(call: Call) -> Response:
        assert res.get is not None
        guard(call, "get")
        record = res.get(call, call.params["id"])
        if "get" not in res.admin_verbs and res.owner is not None:
            call.ctx.require(res.owner(call, record), res.rule("get"))
        return reply({res.singular: res.view(call, record)})

    async def update(call: Call) -> Response:
        assert res.update is not None and res.update_body is not None
        guard(call, "update")
        changes = (await call.body(res.update_body, root=res.singular)).model_dump(exclude_unset=True)
        return reply({res.singular: res.view(call, res.update(call, call.params["id"], changes))})

    async def delete(call: Call) -> Response:
        assert res.delete is not None
        guard(call, "delete")
        res.delete(call, call.params["id"])
        return reply(status=204)

    if res.find is not None:
        api.route(res.path)(list_all)
    if res.create is not None:
        api.route(res.path, methods=("POST",))(create)
    if res.get is not None:
        api.route(item)(show)
    if res.update is not None:
        api.route(item, methods=(res.update_method,))(update)
    if res.delete is not None:
        api.route(item, methods=("DELETE",))(delete)
