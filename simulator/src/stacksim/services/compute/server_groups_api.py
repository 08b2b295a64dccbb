"""``/os-server-groups``: create, list, show and delete server groups."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from stacksim import faults
from stacksim.services.compute import common, schemas
from stacksim.services.compute.common import api
from stacksim.services.compute.server_groups import POLICIES, SOFT_POLICIES, ServerGroups
from stacksim.web import Call, reply


def _model(call: Call) -> ServerGroups:
    return call.cloud.compute.server_groups


def view(call: Call, record: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"id": record["id"], "name": record["name"]}
    if common.since(call, "2.64"):
        body["policy"] = record["policy"]
        body["rules"] = dict(record["rules"])
        body["members"] = _model(call).members(record)
    else:
        body["policies"] = [record["policy"]]
        body["members"] = _model(call).members(record)
        body["metadata"] = {}
    if common.since(call, "2.13"):
        body["project_id"] = record["project_id"]
        body["user_id"] = record["user_id"]
    return body


def _policy(call: Call, body: schemas.ServerGroupCreate) -> str:
    allowed = POLICIES + (SOFT_POLICIES if common.since(call, "2.15") else ())
    if common.since(call, "2.64"):
        common.too_old("server_group", body, call, {"policies": "2.64"})
        if body.policy is None:
            raise faults.BadRequest(
                "Invalid input for field/attribute server_group. Value: "
                f"{body.model_dump(exclude_unset=True)}. 'policy' is a required property"
            )
        policy, where = body.policy, "policy"
        if body.rules is not None and policy != "anti-affinity":
            raise faults.BadRequest("Only anti-affinity policy supports rules.")
    else:
        common.too_new("server_group", body, call, {"policy": "2.64", "rules": "2.64"})
        if not body.policies:
            raise faults.BadRequest(
                "Invalid input for field/attribute server_group. Value: "
                f"{body.model_dump(exclude_unset=True)}. 'policies' is a required property"
            )
        policy, where = body.policies[0], "0"
    if policy not in allowed:
        raise faults.BadRequest(
            f"Invalid input for field/attribute {where}. Value: {policy}. '{policy}' is not one of {list(allowed)}"
        )
    return policy


@api.route("/v2.1/os-server-groups")
async def list_server_groups(call: Call) -> Response:
    all_projects = "all_projects" in call.query and common.flag(call.query["all_projects"], "all_projects")
    records = _model(call).list(call.ctx, all_projects)
    offset = common.integer(call.query.get("offset", "0"), "offset")
    limit = common.integer(call.query["limit"], "limit") if "limit" in call.query else None
    records = records[offset:]
    if limit:
        records = records[:limit]
    return reply({"server_groups": [view(call, r) for r in records]})


@api.route("/v2.1/os-server-groups", methods=("POST",))
async def create_server_group(call: Call) -> Response:
    body = await call.body(schemas.ServerGroupCreate, "server_group")
    policy = _policy(call, body)
    rules = body.rules.model_dump() if body.rules is not None else {}
    record = call.cloud.compute.create_server_group(call.ctx, body.name, policy, rules)
    return reply({"server_group": view(call, record)})


@api.route("/v2.1/os-server-groups/{group_id}")
async def show_server_group(call: Call) -> Response:
    return reply({"server_group": view(call, _model(call).show(call.ctx, call.params["group_id"]))})


@api.route("/v2.1/os-server-groups/{group_id}", methods=("DELETE",))
async def delete_server_group(call: Call) -> Response:
    _model(call).delete(call.ctx, call.params["group_id"])
    return reply(status=204)
