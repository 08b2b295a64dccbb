"""API errors, and each service's own way of writing them.

Service code raises the exceptions below; the service's mount turns them
into the body its real counterpart sends (see ``FORMATS``).
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any


class ApiError(Exception):
    status = 500

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        kind: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        # The error class name some services put in the body (Neutron's
        # ``type``, Heat's ``error.type``).
        self.kind = kind or type(self).__name__
        self.headers = headers or {}

    @property
    def title(self) -> str:
        return HTTPStatus(self.status).phrase


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class MethodNotAllowed(ApiError):
    status = 405


class NotAcceptable(ApiError):
    status = 406


class Conflict(ApiError):
    status = 409


class OverLimit(ApiError):
    status = 413


def keystone(err: ApiError) -> dict[str, Any]:
    return {"error": {"code": err.status, "title": err.title, "message": err.message}}


def neutron(err: ApiError) -> dict[str, Any]:
    return {"NeutronError": {"type": err.kind, "message": err.message, "detail": ""}}


# Nova's (and Cinder's) fault names by status code; anything else is a computeFault.
_NOVA_NAMES = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    409: "conflictingRequest",
    413: "overLimit",
    415: "badMediaType",
    429: "overLimit",
    501: "notImplemented",
    503: "serviceUnavailable",
}


def nova(err: ApiError) -> dict[str, Any]:
    return {_NOVA_NAMES.get(err.status, "computeFault"): {"code": err.status, "message": err.message}}


def _webob_body(message: str) -> str:
    # webob's default body template, with the message as the "explanation".
    return f"{message}<br /><br />\n\n\n"


def glance(err: ApiError) -> dict[str, Any]:
    """Glance's errors are webob's: this is the JSON variant (``Accept: application/json``)."""
    return {"message": _webob_body(err.message), "code": f"{err.status} {err.title}", "title": err.title}


def _quality(accept: str, offer: str) -> float:
    """The quality ``accept`` gives ``offer`` (the most specific matching range decides)."""
    best_rank, best_q = -1, 0.0
    kind, _, sub = offer.partition("/")
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        if not media:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        want_kind, _, want_sub = media.lower().partition("/")
        if (want_kind, want_sub) == (kind, sub):
            rank = 2
        elif want_kind == kind and want_sub == "*":
            rank = 1
        elif (want_kind, want_sub) == ("*", "*"):
            rank = 0
        else:
            continue
        if rank > best_rank:
            best_rank, best_q = rank, quality
    return best_q


def glance_page(err: ApiError, accept: str | None) -> tuple[str, str]:
    """The body and media type webob (hence Glance) answers an error with.

    webob picks HTML or JSON by the ``Accept`` header (HTML on a tie, so
    ``*/*`` gets HTML) and plain text when neither is acceptable, which is
    what an empty or missing ``Accept`` gets.
    """
    offers = [(offer, q) for offer in ("text/html", "application/json") if (q := _quality(accept or "", offer)) > 0]
    offers.sort(key=lambda item: -item[1])
    chosen = offers[0][0] if offers else "text/plain"
    status = f"{err.status} {err.title}"
    if chosen == "application/json":
        return json.dumps(glance(err)), chosen
    if chosen == "text/html":
        body = _webob_body(html.escape(err.message, quote=True))
        head = f"<html>\n <head>\n  <title>{status}</title>\n </head>\n <body>\n  <h1>{status}</h1>\n"
        return f"{head}  {body}\n </body>\n</html>", chosen
    return f"{status}\n\n{err.message}\n\n   ", chosen


#: webob's default explanation for each status (Heat's bodies carry it).
_EXPLANATIONS = {
    400: "The server could not comply with the request since it is either malformed or otherwise incorrect.",
    401: "This server could not verify that you are authorized to access the document you requested. "
    "Either you supplied the wrong credentials (e.g., bad password), or your browser does not understand "
    "how to supply the credentials required.",
    403: "Access was denied to this resource.",
    404: "The resource could not be found.",
    405: "The method is not allowed for this resource.",
    409: "There was a conflict when trying to complete your request.",
    413: "The body of your request was too large for this server.",
    500: "The server has either erred or is incapable of performing the requested operation.",
    501: "The server has not implemented the requested operation.",
}


def heat(err: ApiError) -> dict[str, Any]:
    """Heat's fault body: webob's code, title and explanation, and the engine's error."""
    return {
        "code": err.status,
        "title": err.title,
        "explanation": _EXPLANATIONS.get(err.status, err.title),
        "error": {"type": err.kind, "message": err.message, "traceback": None},
    }


FORMATS: dict[str, Callable[[ApiError], dict[str, Any]]] = {
    "keystone": keystone,
    "nova": nova,
    "neutron": neutron,
    "glance": glance,
    "heat": heat,
}
