"""Limits on what one request may make the server read and decode.

- **Body size.** Keystone, Nova and Cinder run behind oslo.middleware's
  ``sizelimit``: a body over ``max_request_body_size`` (114688 bytes) is refused
  with 413. We apply that limit to every JSON body (Neutron and Glance too, which
  have none of their own), except Heat's, which is limited by Heat's own
  ``max_json_body_size`` (1 MiB) and refused with a 400 ``RequestLimitExceeded``.
  The body is counted as it arrives and reading stops at the limit: a declared
  ``Content-Length`` over it is refused before a byte is read. Streamed uploads
  (Glance image data) are not limited.
- **JSON shape.** A body is decoded once, in a request worker thread, and refused
  with 400 if it nests deeper than :data:`MAX_DEPTH`, holds a list or object of
  more than :data:`MAX_MEMBERS` members, or holds a lone UTF-16 surrogate
  (``"\\ud800"``: text that cannot be stored or written back out) or
  ``NaN``/``Infinity`` (not JSON; it could not be sent back either). Bodies that
  are not JSON at all are left to the handler, which answers in its own words.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import ClientDisconnect, Request

from stacksim import faults
from stacksim.toolkit import LONE_SURROGATE

#: oslo.middleware sizelimit's ``max_request_body_size``
MAX_BODY_SIZE = 114688
#: Heat's ``max_json_body_size``
MAX_JSON_BODY_SIZE = 1048576
#: the deepest nesting of lists and objects a body may have
MAX_DEPTH = 100
#: the most members one list or object may have
MAX_MEMBERS = 10000

#: A surrogate may only come from a ``\\uD800``-``\\uDFFF`` escape or from its raw UTF-8
#: encoding (which ``json.loads`` lets through); without either, no string needs a look.
_MAY_HOLD_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")


class BodyTooLarge(Exception):
    """The body is over the limit; ``size`` is what the client declared, if it did."""

    def __init__(self, limit: int, size: int | None) -> None:
        super().__init__(limit, size)
        self.limit, self.size = limit, size


async def read_body(request: Request, limit: int) -> bytes:
    """The request's body, read up to ``limit`` bytes (:class:`BodyTooLarge` beyond); later
    ``request.body()`` calls return it.

    It reads the ASGI messages as ``Request.stream()`` does (``ClientDisconnect`` if the client
    goes), without an async generator and a ``Headers`` object per request: the event loop
    runs this for every call.
    """
    for name, value in request.scope["headers"]:  # lower-case names, as ``Headers.get`` compares
        if name == b"content-length":
            declared = value.decode("latin-1")
            if declared.isdigit() and int(declared) > limit:
                raise BodyTooLarge(limit, int(declared))
            break
    chunks: list[bytes] = []
    size = 0
    receive = request.receive
    while True:
        message = await receive()
        kind = message["type"]
        if kind == "http.request":
            chunk = message.get("body", b"")
            if chunk:
                size += len(chunk)
                if size > limit:
                    raise BodyTooLarge(limit, None)
                chunks.append(chunk)
            if not message.get("more_body", False):
                break
        elif kind == "http.disconnect":
            request._is_disconnected = True
            raise ClientDisconnect()
    request._stream_consumed = True
    body = b"".join(chunks)
    request._body = body  # where Starlette keeps a body it has read
    return body


def too_large(err: BodyTooLarge, service: str) -> faults.ApiError:
    """The error the service answers an over-large body with."""
    if service == "orchestration":
        size = f"{err.size} bytes" if err.size is not None else "more bytes"
        return faults.BadRequest(
            f"Request limit exceeded: JSON body size ({size}) exceeds maximum allowed size ({err.limit} bytes).",
            kind="RequestLimitExceeded",
        )
    return faults.OverLimit(
        f"Request is too large. Larger than max_request_body_size ({err.limit}).", kind="RequestEntityTooLarge"
    )


class NotJson(Exception):
    """The body does not parse as JSON (the handler says so in its own words)."""


def _no_constants(name: str) -> Any:
    raise faults.BadRequest(f"Malformed request body: {name} is not a JSON value.")


def decode(raw: bytes) -> Any:
    """Decode a JSON body and check its shape (see the module's doc).

    :class:`faults.BadRequest` if it is JSON of a shape we refuse, :class:`NotJson`
    if it is not JSON at all.
    """
    try:
        value = json.loads(raw, parse_constant=_no_constants)
    except RecursionError:
        raise _too_deep() from None
    except ValueError as exc:
        raise NotJson(str(exc)) from None
    check(value, text=_MAY_HOLD_SURROGATE.search(raw) is not None)
    return value


def _too_deep() -> faults.BadRequest:
    return faults.BadRequest(f"Malformed request body: JSON nested more than {MAX_DEPTH} levels deep.")


def check(value: Any, text: bool = True) -> None:
    """Refuse nesting deeper than :data:`MAX_DEPTH`, containers over :data:`MAX_MEMBERS`
    and (``text``) strings holding a lone surrogate; without recursion."""
    stack: list[tuple[Any, int, str]] = [(value, 0, "")]
    while stack:
        node, depth, where = stack.pop()
        if isinstance(node, str):
            if text and LONE_SURROGATE.search(node):
                raise _surrogate(where)
            continue
        if not isinstance(node, dict | list):
            continue
        if depth >= MAX_DEPTH:
            raise _too_deep()
        if len(node) > MAX_MEMBERS:
            kind = "object" if isinstance(node, dict) else "list"
            raise faults.BadRequest(
                f"Invalid input for field '{where or '/'}': the {kind} has {len(node)} members; "
                f"at most {MAX_MEMBERS} are accepted."
            )
        if isinstance(node, dict):
            for key, item in node.items():
                if text and LONE_SURROGATE.search(key):
                    raise _surrogate(f"{where}/{key.encode('utf-8', 'backslashreplace').decode()}")
                if isinstance(item, dict | list) or (text and isinstance(item, str)):
                    stack.append((item, depth + 1, f"{where}/{key}" if where else key))
        else:
            for index, item in enumerate(node):
                if isinstance(item, dict | list) or (text and isinstance(item, str)):
                    stack.append((item, depth + 1, f"{where}/{index}" if where else str(index)))


def _surrogate(where: str) -> faults.BadRequest:
    return faults.BadRequest(
        f"Invalid input for field '{where or '/'}': the text holds a lone UTF-16 surrogate "
        f"(such as \\ud800), which is not a character."
    )
