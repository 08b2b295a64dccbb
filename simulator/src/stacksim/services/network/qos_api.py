"""Routes of QoS policies, their rules (one family of routes per rule type) and the rule types."""

from __future__ import annotations

from starlette.responses import Response

from stacksim import faults
from stacksim.services.network import schemas, views
from stacksim.services.network.model import QOS_RULES, Networking
from stacksim.services.network.resource_api import STANDARD, Resource, api, body_of, net_of, resource_routes
from stacksim.web import Call, reply

POLICIES = Resource(
    "qos_policy",
    "policy",
    "policies",
    "qos/policies",
    (*STANDARD, "shared", "is_default"),
    Networking.create_qos_policy,
    schemas.QosPolicyCreate,
    Networking.delete_qos_policy,
    Networking.update_qos_policy,
    schemas.QosPolicyUpdate,
    frozenset({"id", "created_at", "updated_at", "revision_number", "rules"}),
    frozenset({"project_id", "tenant_id"}),
)
resource_routes(POLICIES)


def _rule_routes(rule_type: str, request: type) -> None:
    """``/qos/policies/{policy}/<type>_rules[/{id}]`` for one rule type."""
    key = f"{rule_type}_rule"
    collection = f"/v2.0/qos/policies/{{policy}}/{key}s"
    item = f"{collection}/{{id}}"

    async def list_rules(call: Call) -> Response:
        rules = net_of(call).qos_rules(call.ctx, rule_type, call.params["policy"])
        return reply({f"{key}s": [views.qos_rule(r) for r in rules]})

    async def show(call: Call) -> Response:
        rule = net_of(call).qos_rule(call.ctx, rule_type, call.params["policy"], call.params["id"])
        return reply({key: views.qos_rule(rule)})

    async def create(call: Call) -> Response:
        body = schemas.parse(request, body_of(await call.json(), key))
        rule = net_of(call).create_qos_rule(call.ctx, call.params["policy"], body)
        return reply({key: views.qos_rule(rule)}, status=201)

    async def update(call: Call) -> Response:
        body = schemas.parse(request, body_of(await call.json(), key), creating=False)
        rule = net_of(call).update_qos_rule(call.ctx, call.params["policy"], call.params["id"], body)
        return reply({key: views.qos_rule(rule)})

    async def delete(call: Call) -> Response:
        net_of(call).delete_qos_rule(call.ctx, rule_type, call.params["policy"], call.params["id"])
        return reply(status=204)

    api.route(collection)(list_rules)
    api.route(collection, methods=("POST",))(create)
    api.route(item)(show)
    api.route(item, methods=("PUT",))(update)
    api.route(item, methods=("DELETE",))(delete)


for _type, _request in QOS_RULES.items():
    _rule_routes(_type, _request)


def _reader(call: Call) -> None:
    """Rule types are for anyone with a role on the project (``role:reader``)."""
    if not call.ctx.roles:
        raise faults.Forbidden("rule:get_rule_type is disallowed by policy", kind="PolicyNotAuthorized")


@api.route("/v2.0/qos/rule-types")
async def rule_types(call: Call) -> Response:
    _reader(call)
    return reply({"rule_types": net_of(call).qos_rule_types()})


@api.route("/v2.0/qos/rule-types/{type}")
async def rule_type(call: Call) -> Response:
    _reader(call)
    return reply({"rule_type": net_of(call).qos_rule_type(call.params["type"])})
