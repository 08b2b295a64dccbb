"""``/v2/tasks`` (admins, as Glance's ``tasks_api_access``): list, show, and create an ``import`` task."""

from __future__ import annotations

import urllib.parse

from starlette.responses import Response

from stacksim import faults
from stacksim.services.image import views
from stacksim.services.image.routing import PREFIX, api, images, json_body
from stacksim.web import Call, reply


@api.route("/v2/tasks")
async def list_tasks(call: Call) -> Response:
    query = dict(call.query)
    sort_dir = query.get("sort_dir", "desc")
    if sort_dir not in ("asc", "desc"):
        raise faults.BadRequest(f"Invalid sort direction: {sort_dir}")
    found = images(call).tasks.list(call.ctx, query.get("status"), query.get("type"))
    if sort_dir == "asc":
        found.reverse()
    kept = {k: v for k, v in query.items() if k != "marker"}
    first = "/v2/tasks" + (f"?{urllib.parse.urlencode(kept)}" if kept else "")
    return reply({"tasks": [views.task_stub(t) for t in found], "first": first, "schema": "/v2/schemas/tasks"})


@api.route("/v2/tasks", methods=("POST",))
async def create_task(call: Call) -> Response:
    data = await json_body(call)
    if not isinstance(data, dict):
        raise faults.BadRequest("Provided object does not match schema 'task': the body must be an object")
    for key in ("type", "input"):
        if key not in data:
            raise faults.BadRequest(f"Provided object does not match schema 'task': '{key}' is a required property")
    task = images(call).tasks.create(call.ctx, data["type"], data["input"])
    location = f"{call.cloud.settings.base_url}{PREFIX}/v2/tasks/{task['id']}"
    return reply(views.task(task), status=201, headers={"Location": location})


@api.route("/v2/tasks/{task_id}")
async def show_task(call: Call) -> Response:
    return reply(views.task(images(call).tasks.get(call.ctx, call.params["task_id"])))
