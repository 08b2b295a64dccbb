"""``/servers/{id}/os-instance-actions``: what was done to a server (of a deleted one too, from 2.21)."""

from __future__ import annotations

import urllib.parse

from starlette.responses import Response

from stacksim.services.compute import common, schemas, views
from stacksim.services.compute.common import api
from stacksim.web import Call, reply


@api.route("/v2.1/servers/{id}/os-instance-actions")
async def list_actions(call: Call) -> Response:
    paged = common.since(call, "2.58")
    q = call.query
    found, more = call.cloud.compute.history.list(
        call.ctx,
        call.params["id"],
        deleted_too=common.since(call, "2.21"),
        since=schemas.moment(q, "changes-since") if paged else None,
        before=schemas.moment(q, "changes-before") if common.since(call, "2.66") else None,
        limit=schemas.whole(q, "limit") if paged else None,
        marker=q.get("marker") if paged else None,
    )
    body: dict = {"instanceActions": [views.instance_action(call, a) for a in found]}
    if paged and more and found:
        params = [(k, v) for k, v in q.multi_items() if k != "marker"] + [("marker", found[-1]["request_id"])]
        href = f"{common.base_url(call)}/servers/{call.params['id']}/os-instance-actions"
        body["links"] = [{"rel": "next", "href": f"{href}?{urllib.parse.urlencode(params)}"}]
    return reply(body)


@api.route("/v2.1/servers/{id}/os-instance-actions/{request_id}")
async def show_action(call: Call) -> Response:
    record, admin, details = call.cloud.compute.history.show(
        call.ctx, call.params["id"], call.params["request_id"], deleted_too=common.since(call, "2.21")
    )
    view = views.instance_action(call, record)
    if admin or common.since(call, "2.51"):
        view["events"] = [views.action_event(call, e, record["project_id"], admin, details) for e in record["events"]]
    return reply({"instanceAction": view})
