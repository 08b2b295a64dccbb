"""Raw HTTP for the edge tests: tokens, calls by service, and each service's error body."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import requests

#: each service's mount and the path of a collection under it that takes a JSON POST
MOUNTS = {
    "identity": "/identity",
    "network": "/network",
    "compute": "/compute",
    "image": "/image",
    "block-storage": "/volume",
    "orchestration": "/orchestration",
}
POSTS = {
    "identity": "/identity/v3/projects",
    "network": "/network/v2.0/networks",
    "compute": "/compute/v2.1/servers",
    "image": "/image/v2/images",
    "block-storage": "/volume/v3/volumes",
    "orchestration": "/orchestration/v1/{project}/stacks",
}
#: asking Glance (webob) for JSON errors; the other services answer JSON anyway
JSON = {"Content-Type": "application/json", "Accept": "application/json"}


def token(url: str, user: str, password: str = "stacksim", project: str | None = None) -> str:
    scope = {"project": {"name": project or user, "domain": {"id": "default"}}}
    auth = {
        "methods": ["password"],
        "password": {"user": {"name": user, "domain": {"id": "default"}, "password": password}},
    }
    response = requests.post(
        f"{url}/identity/v3/auth/tokens", json={"auth": {"identity": auth, "scope": scope}}, timeout=30
    )
    assert response.status_code == 201, response.text
    return response.headers["X-Subject-Token"]


def app_cred_token(url: str, cred_id: str, secret: str) -> str:
    auth = {"methods": ["application_credential"], "application_credential": {"id": cred_id, "secret": secret}}
    response = requests.post(f"{url}/identity/v3/auth/tokens", json={"auth": {"identity": auth}}, timeout=30)
    assert response.status_code == 201, response.text
    return response.headers["X-Subject-Token"]


def call(url: str, method: str, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
    headers = {**JSON, **({"X-Auth-Token": token} if token else {}), **kwargs.pop("headers", {})}
    return requests.request(method, url + path, headers=headers, timeout=60, **kwargs)


def service_error(service: str, response: requests.Response, status: int) -> str:
    """Assert ``response`` is ``status`` with the service's own error body; its message."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("application/json"), response.text[:500]
    assert response.headers["x-openstack-request-id"].startswith("req-")
    body = response.json()
    if service == "identity" or (status == 401 and service == "image"):
        assert body["error"]["code"] == status, body
        return body["error"]["message"]
    if service == "network":
        return body["NeutronError"]["message"]
    if service in ("compute", "block-storage"):
        ((_name, fault),) = body.items()
        assert fault["code"] == status, body
        return fault["message"]
    if service == "image":
        assert body["code"].startswith(f"{status} "), body
        return body["message"]
    assert service == "orchestration", service
    assert body["code"] == status and body["error"]["message"], body
    return body["error"]["message"]


def raw_exchange(host: str, port: int, data: bytes, timeout: float = 10.0) -> bytes:
    """Send ``data`` on a new connection and read one HTTP response (until it is complete)."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(data)
        return read_response(sock)


def read_response(sock: socket.socket) -> bytes:
    """One HTTP/1.1 response with a Content-Length from ``sock``."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def body_of(response: bytes) -> Any:
    return json.loads(response.partition(b"\r\n\r\n")[2])


def health_ms(url: str) -> float:
    start = time.perf_counter()
    assert requests.get(f"{url}/health", timeout=30).json()["status"] == "ok"
    return (time.perf_counter() - start) * 1000
