"""``/messages`` (3.3+): the user messages that say why an asynchronous request failed."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from stacksim import faults
from stacksim.services.volume import api as common_api
from stacksim.services.volume.api import model, require_version, route
from stacksim.web import Call, reply

SORT_FIELDS = {"id": "id", "created_at": "created_at", "event_id": "event_id", "resource_uuid": "resource_uuid"}
FILTERS = ("event_id", "resource_type", "resource_uuid", "message_level", "request_id")


def view(call: Call, record: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": record["id"],
        "request_id": record["request_id"],
        "resource_type": record["resource_type"],
        "resource_uuid": record["resource_uuid"],
        "event_id": record["event_id"],
        "message_level": record["message_level"],
        "user_message": record["user_message"],
        "created_at": record["created_at"],
        "guaranteed_until": record["guaranteed_until"],
        "links": common_api.links(call, "messages", record["id"]),
    }


def _missing(marker: str) -> faults.ApiError:
    return faults.NotFound(f"Message {marker} could not be found.")


@route("/messages")
async def list_messages(call: Call) -> Response:
    require_version(call, "3.3")
    records = model(call).messages.list(call.ctx, common_api.all_tenants(call))
    for key, wanted in common_api.check_filters(call, FILTERS).items():
        records = [r for r in records if str(r.get(key)) == wanted]
    page = common_api.paginate(call, records, sort_fields=SORT_FIELDS, marker_missing=_missing)
    return reply(common_api.collection(call, "messages", page, [view(call, r) for r in page.items]))


@route("/messages/{message_id}")
async def show_message(call: Call) -> Response:
    require_version(call, "3.3")
    return reply({"message": view(call, model(call).messages.get(call.ctx, call.params["message_id"]))})


@route("/messages/{message_id}", methods=("DELETE",))
async def delete_message(call: Call) -> Response:
    require_version(call, "3.3")
    model(call).messages.delete(call.ctx, call.params["message_id"])
    return reply(status=204)
