"""Shared by the block-storage tests: raw Cinder calls, fault checks, waits and unique names."""

from __future__ import annotations

import uuid
from typing import Any

import requests

from stacksim.testing import wait_until


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def cinder(
    conn: Any,
    method: str,
    path: str,
    version: str | None = None,
    project: bool = True,
    **kwargs: Any,
) -> requests.Response:
    """``method path`` on ``conn``'s block-storage endpoint (with its project id in the path
    unless ``project`` is false), as ``version`` (a microversion)."""
    headers = {"X-Auth-Token": conn.auth_token, **kwargs.pop("headers", {})}
    if version:
        headers["OpenStack-API-Version"] = f"volume {version}"
    base = conn.block_storage.get_endpoint().rstrip("/")
    if project:
        base = f"{base}/{conn.current_project_id}"
    return requests.request(method, base + path, headers=headers, timeout=30, **kwargs)


def fault(response: requests.Response, status: int, name: str) -> str:
    """Assert a Cinder fault body (``{name: {"code", "message"}}``) and return its message."""
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert list(body) == [name], body
    assert body[name]["code"] == status
    return body[name]["message"]


def wait_for(conn: Any, kind: str, item_id: str, statuses: tuple[str, ...], timeout: float = 30.0) -> dict:
    """Poll ``GET /<kind>/<id>`` until its status is one of ``statuses``; return the body's object."""
    root = {"volumes": "volume", "snapshots": "snapshot", "backups": "backup"}[kind]

    def settled() -> dict | None:
        found = cinder(conn, "GET", f"/{kind}/{item_id}", version="3.70").json()[root]
        return found if found["status"] in statuses else None

    return wait_until(settled, timeout, f"{kind} {item_id} to be {' or '.join(statuses)}")


def wait_gone(conn: Any, kind: str, item_id: str, timeout: float = 30.0) -> None:
    wait_until(lambda: cinder(conn, "GET", f"/{kind}/{item_id}").status_code == 404, timeout, f"{kind} {item_id} to go")


def make_volume(conn: Any, size: int | None = 1, **attrs: Any) -> dict:
    """Create a volume through the API and wait until it is available."""
    body = {"volume": {"name": attrs.pop("name", unique("vol")), **attrs}}
    if size is not None:
        body["volume"]["size"] = size
    response = cinder(conn, "POST", "/volumes", version="3.70", json=body)
    assert response.status_code == 202, response.text
    return wait_for(conn, "volumes", response.json()["volume"]["id"], ("available",))
