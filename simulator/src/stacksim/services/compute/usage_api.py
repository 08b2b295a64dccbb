"""``/os-simple-tenant-usage``: server hours per project over a period (all projects: admins)."""

from __future__ import annotations

import urllib.parse
from typing import Any

from starlette.responses import Response

from stacksim.services.compute import common, schemas
from stacksim.services.compute.common import api
from stacksim.services.compute.usage import parse_moment
from stacksim.web import Call, reply


def _report(call: Call, project_id: str | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]], bool]:
    q = call.query
    paged = common.since(call, "2.40")
    detailed = project_id is not None or q.get("detailed") == "1"
    limit = schemas.whole(q, "limit") if paged else None
    summaries, usages = call.cloud.compute.usage.report(
        call.ctx,
        parse_moment(q.get("start")),
        parse_moment(q.get("end")),
        project_id=project_id,
        detailed=detailed,
        limit=limit,
        marker=q.get("marker") if paged else None,
    )
    return summaries, usages, paged and limit is not None and len(usages) == limit


def _links(call: Call, usages: list[dict[str, Any]], more: bool, path: str) -> list[dict[str, str]]:
    if not (more and usages):
        return []
    params = [(k, v) for k, v in call.query.multi_items() if k != "marker"]
    params.append(("marker", usages[-1]["instance_id"]))
    return [{"rel": "next", "href": f"{common.base_url(call)}/{path}?{urllib.parse.urlencode(params)}"}]


@api.route("/v2.1/os-simple-tenant-usage")
async def list_usage(call: Call) -> Response:
    summaries, usages, more = _report(call, None)
    body: dict[str, Any] = {"tenant_usages": summaries}
    if links := _links(call, usages, more, "os-simple-tenant-usage"):
        body["tenant_usages_links"] = links
    return reply(body)


@api.route("/v2.1/os-simple-tenant-usage/{project_id}")
async def show_usage(call: Call) -> Response:
    project_id = call.params["project_id"]
    summaries, usages, more = _report(call, project_id)
    body: dict[str, Any] = {"tenant_usage": summaries[0] if summaries else {}}
    if links := _links(call, usages, more, f"os-simple-tenant-usage/{project_id}"):
        body["tenant_usage_links"] = links
    return reply(body)
