"""The Image API object and what its route modules share.

Errors are webob's, as Glance's are: the body is HTML, JSON or plain text by
the request's ``Accept`` header (see :func:`stacksim.faults.glance_page`),
except 401s, which keystonemiddleware answers in Keystone's format.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from stacksim import faults
from stacksim.services.image.model import Images
from stacksim.web import Api, Call

PREFIX = "/image"
OCTET_STREAM = "application/octet-stream"


class GlanceApi(Api):
    """An :class:`Api` whose errors are negotiated by ``Accept``, as webob's are."""

    def __init__(self) -> None:
        super().__init__("glance")

    def negotiated(self, request: Request, err: faults.ApiError) -> Response:
        if err.status == 401:  # keystonemiddleware answers before Glance does
            return JSONResponse(faults.keystone(err), status_code=401, headers=err.headers)
        body, media = faults.glance_page(err, request.headers.get("accept"))
        return Response(body, status_code=err.status, headers=err.headers, media_type=media)

    async def _fault(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, faults.ApiError)
        return self.negotiated(request, exc)

    async def _http_fault(self, request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        if status == 404:
            err = faults.NotFound("The resource could not be found.")
        elif status == 405:
            err = faults.MethodNotAllowed("The method specified is not allowed for this resource.")
        else:
            err = faults.ApiError(str(getattr(exc, "detail", "")), status=status)
        return self.negotiated(request, err)


api = GlanceApi()


def images(call: Call) -> Images:
    return call.cloud.image


async def json_body(call: Call) -> Any:
    """The JSON body, with Glance's complaints when there is none or it is not JSON."""
    raw = await call.request.body()
    if not raw:
        raise faults.BadRequest("Body expected in request.")
    try:
        return json.loads(raw)
    except ValueError:
        raise faults.BadRequest("Malformed JSON in request body.") from None


def octet_stream(call: Call) -> None:
    content_type = call.header("content-type")
    media = content_type.split(";")[0].strip().lower() if content_type is not None else None
    if media != OCTET_STREAM:
        raise faults.ApiError(f"Invalid content type {media}", status=415)
