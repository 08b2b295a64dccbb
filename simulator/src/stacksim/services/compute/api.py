"""The Compute API object, microversions and version discovery.

Route modules register their handlers on ``api``; routes.py imports them all.
"""

from __future__ import annotations

from starlette.responses import Response

from stacksim.microversion import Microversions
from stacksim.web import Api, Call, reply

MIN_VERSION = "2.1"
MAX_VERSION = "2.96"
MICROVERSIONS = Microversions("compute", MIN_VERSION, MAX_VERSION, legacy_header="X-OpenStack-Nova-API-Version")

api = Api("nova", MICROVERSIONS)


def base_url(call: Call) -> str:
    return f"{call.cloud.settings.base_url}/compute/v2.1"


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
