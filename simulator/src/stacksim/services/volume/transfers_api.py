"""Volume transfers: ``/volume-transfers`` (3.55, with ``no_snapshots``) and the older
``/os-volume-transfer``: create (the answer holds the ``auth_key``), list and ``detail``, show,
delete, and ``accept`` by another project."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from stacksim.services.volume import routing, schemas, views
from stacksim.services.volume.routing import model, route, since, viewer
from stacksim.web import Call, reply

SORT_FIELDS = {"id": "id", "name": "name", "created_at": "created_at", "volume_id": "volume_id"}


def select(call: Call, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    filters = {k: v for k, v in call.query.items() if k not in routing.STEERING}
    return routing.text_filters(call, records, filters, ("name", "volume_id", "id"))


def transfer_routes(key: str, first: str | None) -> None:
    """The transfer routes under ``/<key>`` (from microversion ``first``)."""
    routing.list_routes(
        key, lambda bs: bs.transfers, select, SORT_FIELDS, views.transfer, first=first, body_key="transfers"
    )
    routing.item_routes(key, "transfer", lambda bs: bs.transfers, views.transfer, first=first)

    @route(f"/{key}", methods=("POST",))
    async def create_transfer(call: Call) -> Response:
        if first is not None:
            routing.require_version(call, first)
        body = await routing.body_of(call, "transfer")
        request = schemas.new_transfer(body, with_snapshots=since(call, "3.55"), allow_encrypted=since(call, "3.70"))
        record, auth_key = model(call).transfers.create(call.ctx, request)
        return reply({"transfer": views.transfer(viewer(call), record, auth_key=auth_key)}, status=202)

    @route(f"/{key}/{{transfer_id}}/accept", methods=("POST",))
    async def accept_transfer(call: Call) -> Response:
        if first is not None:
            routing.require_version(call, first)
        body = schemas.parse(schemas.TransferAccept, await routing.body_of(call, "accept"), "accept")
        record = model(call).transfers.accept(call.ctx, call.params["transfer_id"], body.auth_key)
        return reply({"transfer": views.transfer(viewer(call), record, detail=False)}, status=202)


transfer_routes("volume-transfers", "3.55")
transfer_routes("os-volume-transfer", None)
