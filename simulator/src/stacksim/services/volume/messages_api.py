"""``/messages`` (3.3+): the user messages that say why an asynchronous request failed."""

from __future__ import annotations

from starlette.responses import Response

from stacksim import faults
from stacksim.services.volume import routing, views
from stacksim.services.volume.routing import model, require_version, route, viewer
from stacksim.web import Call, reply

SORT_FIELDS = {"id": "id", "created_at": "created_at", "event_id": "event_id", "resource_uuid": "resource_uuid"}


def _missing(marker: str) -> faults.ApiError:
    return faults.NotFound(f"Message {marker} could not be found.")


@route("/messages")
async def list_messages(call: Call) -> Response:
    require_version(call, "3.3")
    records = model(call).messages.list(call.ctx, routing.all_tenants(call))
    for key, wanted in routing.check_filters(call, "message").items():
        records = [r for r in records if str(r.get(key)) == wanted]
    page = routing.paginate(call, records, sort_fields=SORT_FIELDS, marker_missing=_missing)
    return reply(routing.collection(call, "messages", page, [views.message(viewer(call), r) for r in page.items]))


@route("/messages/{message_id}")
async def show_message(call: Call) -> Response:
    require_version(call, "3.3")
    return reply(
        {"message": views.message(viewer(call), model(call).messages.get(call.ctx, call.params["message_id"]))}
    )


@route("/messages/{message_id}", methods=("DELETE",))
async def delete_message(call: Call) -> Response:
    require_version(call, "3.3")
    model(call).messages.delete(call.ctx, call.params["message_id"])
    return reply(status=204)
