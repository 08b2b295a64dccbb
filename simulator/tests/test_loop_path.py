"""The event loop's path of an API call (issue 13), driven as uvicorn drives the ASGI app:
a body in several messages, a client that goes while sending it, the settle hook's scope key."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from stacksim.app import http_scope, running
from stacksim.config import Settings
from stacksim.testing import DEFAULT_PASSWORD
from stacksim.web import SCOPE_BEFORE_ANSWER, SCOPE_REQUEST_ID

AUTH = {
    "auth": {
        "identity": {
            "methods": ["password"],
            "password": {"user": {"name": "admin", "domain": {"id": "default"}, "password": DEFAULT_PASSWORD}},
        },
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}},
    }
}


def _run(scenario: Callable[[Any], Awaitable[None]]) -> None:
    """Run ``scenario(app)`` with the app started and stopped through its lifespan."""

    async def main() -> None:
        async with running(Settings(delay=0)) as app:
            await scenario(app)

    asyncio.run(main())


async def _call(app: Any, scope: dict, messages: list[dict]) -> list[dict]:
    sent: list[dict] = []
    pending = list(messages)

    async def receive() -> dict:
        return pending.pop(0)

    async def send(message: dict) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def test_a_body_in_several_messages_is_read_whole() -> None:
    raw = json.dumps(AUTH).encode()
    parts = [raw[:10], b"", raw[10:50], raw[50:]]

    async def scenario(app: Any) -> None:
        scope = http_scope("POST", "/identity/v3/auth/tokens", [(b"content-type", b"application/json")])
        messages = [{"type": "http.request", "body": part, "more_body": True} for part in parts]
        messages[-1]["more_body"] = False
        sent = await _call(app, scope, messages)
        assert sent[0]["status"] == 201, sent
        headers = dict(sent[0]["headers"])
        assert headers[b"x-openstack-request-id"].decode() == scope[SCOPE_REQUEST_ID]
        assert json.loads(sent[1]["body"])["token"]["project"]["name"] == "admin"
        assert SCOPE_BEFORE_ANSWER not in scope  # the settle hook is the call's only

    _run(scenario)


def test_a_client_gone_while_sending_the_body_gets_an_empty_400() -> None:
    async def scenario(app: Any) -> None:
        scope = http_scope("POST", "/identity/v3/auth/tokens", [(b"content-length", b"500")])
        messages = [{"type": "http.request", "body": b'{"auth": ', "more_body": True}, {"type": "http.disconnect"}]
        sent = await _call(app, scope, messages)
        assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
        assert sent[0]["status"] == 400
        assert sent[1]["body"] == b""
        assert dict(sent[0]["headers"])[b"x-openstack-request-id"].decode() == scope[SCOPE_REQUEST_ID]

    _run(scenario)


def test_a_declared_length_over_the_limit_is_refused_before_a_message_is_read() -> None:
    async def scenario(app: Any) -> None:
        scope = http_scope("POST", "/compute/v2.1/servers", [(b"content-length", b"999999")])
        sent = await _call(app, scope, [])  # receive() would fail: nothing is read
        assert sent[0]["status"] == 413
        assert "114688" in json.loads(sent[1]["body"])["overLimit"]["message"]

    _run(scenario)
