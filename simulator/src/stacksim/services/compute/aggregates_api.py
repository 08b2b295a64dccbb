"""``/os-aggregates`` (admins): host aggregates and their hosts, metadata and availability zones."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from stacksim import faults
from stacksim.services.compute import schemas, views
from stacksim.services.compute.aggregates import Aggregates
from stacksim.services.compute.common import api
from stacksim.web import Call, parse, reply


def _model(call: Call) -> Aggregates:
    return call.cloud.compute.aggregates


@api.route("/v2.1/os-aggregates")
async def list_aggregates(call: Call) -> Response:
    return reply({"aggregates": [views.aggregate(call, r) for r in _model(call).list(call.ctx)]})


@api.route("/v2.1/os-aggregates", methods=("POST",))
async def create_aggregate(call: Call) -> Response:
    body = await call.body(schemas.AggregateCreate, "aggregate")
    record = _model(call).create(call.ctx, body.name, body.availability_zone)
    return reply({"aggregate": views.aggregate(call, record, created=True)})


@api.route("/v2.1/os-aggregates/{id}")
async def show_aggregate(call: Call) -> Response:
    return reply({"aggregate": views.aggregate(call, _model(call).show(call.ctx, call.params["id"]))})


@api.route("/v2.1/os-aggregates/{id}", methods=("PUT",))
async def update_aggregate(call: Call) -> Response:
    body = await call.body(schemas.AggregateUpdate, "aggregate")
    if not body.model_fields_set:
        raise faults.BadRequest(
            "Invalid input for field/attribute aggregate. Value: {}. {} does not have enough properties"
        )
    zone: Any = body.availability_zone if "availability_zone" in body.model_fields_set else ...
    record = _model(call).update(call.ctx, call.params["id"], body.name, zone)
    return reply({"aggregate": views.aggregate(call, record)})


@api.route("/v2.1/os-aggregates/{id}", methods=("DELETE",))
async def delete_aggregate(call: Call) -> Response:
    _model(call).delete(call.ctx, call.params["id"])
    return reply(status=200)


@api.route("/v2.1/os-aggregates/{id}/action", methods=("POST",))
async def aggregate_action(call: Call) -> Response:
    data = await call.json()
    if not isinstance(data, dict) or len(data) != 1:
        raise faults.BadRequest("There is no such action: the body must name exactly one action.")
    ((name, args),) = data.items()
    model, ctx, aggregate_id = _model(call), call.ctx, call.params["id"]
    if name in ("add_host", "remove_host"):
        host = parse(schemas.AggregateHost, args, name).host
        record = (
            model.add_host(ctx, aggregate_id, host)
            if name == "add_host"
            else model.remove_host(ctx, aggregate_id, host)
        )
    elif name == "set_metadata":
        record = model.set_metadata(ctx, aggregate_id, parse(schemas.AggregateMetadata, args, name).metadata)
    else:
        raise faults.BadRequest(f"There is no such action: {name}")
    return reply({"aggregate": views.aggregate(call, record)})
