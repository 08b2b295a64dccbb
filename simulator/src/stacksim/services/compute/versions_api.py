"""Version discovery: ``/compute/`` and ``/compute/v2.1``."""

from __future__ import annotations

from starlette.responses import Response

from stacksim.services.compute.common import MAX_VERSION, MIN_VERSION, api
from stacksim.web import Call, reply


def _versions(call: Call) -> list[dict]:
    root = f"{call.cloud.settings.base_url}/compute"
    return [
        {
            "id": "v2.0",
            "status": "SUPPORTED",
            "version": "",
            "min_version": "",
            "updated": "2011-01-21T11:33:21Z",
            "links": [{"rel": "self", "href": f"{root}/v2/"}],
        },
        {
            "id": "v2.1",
            "status": "CURRENT",
            "version": MAX_VERSION,
            "min_version": MIN_VERSION,
            "updated": "2013-07-23T11:33:21Z",
            "links": [{"rel": "self", "href": f"{root}/v2.1/"}],
        },
    ]


@api.route("/", public=True)
async def versions(call: Call) -> Response:
    return reply({"versions": _versions(call)})


@api.route("/v2.1", public=True)
@api.route("/v2.1/", public=True)
async def version(call: Call) -> Response:
    current = _versions(call)[1]
    current["media-types"] = [
        {"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2.1"}
    ]
    return reply({"version": current})
