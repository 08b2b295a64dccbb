"""API errors, and each service's own way of writing them.

Service code raises the exceptions below; the service's mount turns them
into the body its real counterpart sends (see ``FORMATS``).
"""

from __future__ import annotations

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


FORMATS: dict[str, Callable[[ApiError], dict[str, Any]]] = {
    "keystone": keystone,
}
