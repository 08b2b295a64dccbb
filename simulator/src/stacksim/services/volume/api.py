"""The Block Storage API: version discovery, and every route module, imported so their routes
register on :data:`api` (see :mod:`.routing` for what they share).

Order matters where paths overlap: a fixed path (``/volumes/detail``) must be
registered before the pattern it would match (``/volumes/{volume_id}``); each
module keeps its own in that order.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from stacksim.services.volume import (
    attachments_api,
    backups_api,
    groups_api,
    messages_api,
    pools_api,
    qos_api,
    quotas_api,
    services_api,
    snapshots_api,
    transfers_api,
    types_api,
    volumes_api,
)
from stacksim.services.volume.routing import MAX_VERSION, MIN_VERSION, api, root_url
from stacksim.web import Call, reply

ROUTE_MODULES = (
    volumes_api,
    snapshots_api,
    types_api,
    qos_api,
    backups_api,
    attachments_api,
    quotas_api,
    pools_api,
    services_api,
    messages_api,
    groups_api,
    transfers_api,
)


def _version(call: Call) -> dict[str, Any]:
    return {
        "id": "v3.0",
        "status": "CURRENT",
        "version": MAX_VERSION,
        "min_version": MIN_VERSION,
        "updated": "2023-08-31T00:00:00Z",
        "links": [
            {"href": "https://docs.openstack.org/", "rel": "describedby", "type": "text/html"},
            {"href": f"{root_url(call)}/v3/", "rel": "self"},
        ],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.volume+json;version=3"}],
    }


@api.route("/", public=True)
async def versions(call: Call) -> Response:
    return reply({"versions": [_version(call)]}, status=300)


@api.route("/v3", public=True)
@api.route("/v3/", public=True)
async def version(call: Call) -> Response:
    return reply({"versions": [_version(call)]})


__all__ = ["ROUTE_MODULES", "api"]
