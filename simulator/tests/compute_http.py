"""Raw Nova calls for the compute tests: what the SDK and CLI never send (microversions, bad bodies)."""

from __future__ import annotations

from typing import Any

import requests


def nova(conn: Any, method: str, path: str, version: str | None = None, **kwargs: Any) -> requests.Response:
    """``method path`` on the compute endpoint of ``conn``'s catalog, as ``version`` (a microversion)."""
    headers = {"X-Auth-Token": conn.auth_token, **kwargs.pop("headers", {})}
    if version:
        headers["OpenStack-API-Version"] = f"compute {version}"
    url = conn.compute.get_endpoint().rstrip("/") + path
    return requests.request(method, url, headers=headers, timeout=30, **kwargs)


def fault(response: requests.Response, status: int, name: str) -> str:
    """Assert a Nova fault body (``{name: {"code", "message"}}``) and return its message."""
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert list(body) == [name], body
    assert body[name]["code"] == status
    return body[name]["message"]
