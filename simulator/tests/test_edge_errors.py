"""Every error in the service's format (issue 14): a handler that raises answers a 500 in its
service's error body with the request id, and the keep-alive connection stays usable."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from stacksim.cloud import Cloud
from stacksim.config import Settings
from stacksim.services.image.routing import GlanceApi
from stacksim.services.registry import Service
from stacksim.testing import free_port, wait_until
from stacksim.web import Api, Call, RequestId, reply

FORMATS = ("keystone", "nova", "neutron", "glance", "heat")


def _api(fault_format: str) -> Api:
    api = GlanceApi() if fault_format == "glance" else Api(fault_format)

    @api.route("/boom", methods=("GET", "POST"), public=True)
    async def boom(call: Call):
        raise RuntimeError("a bug")

    @api.route("/fine", public=True)
    async def fine(call: Call):
        return reply({"ok": True})

    return api


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """The web layer of every error format, each mounted at /<format>, served by uvicorn."""
    cloud = Cloud(Settings())
    cloud.start()
    apps = {f: _api(f).app(cloud, Service(f, f, f"/{f}", f"/{f}", Api(f))) for f in FORMATS}

    async def dispatch(scope, receive, send):
        if scope["type"] == "http":
            name = scope["path"].split("/")[1]
            scope = dict(scope, root_path=f"/{name}")
            await apps[name](scope, receive, send)

    port = free_port()
    config = uvicorn.Config(RequestId(dispatch), host="127.0.0.1", port=port, log_level="critical", lifespan="off")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    wait_until(lambda: running.started, what="the test server")
    yield f"127.0.0.1:{port}"
    running.should_exit = True
    thread.join(timeout=10)
    cloud.close()


def _message(fault_format: str, body: dict) -> str:
    if fault_format == "keystone":
        assert body["error"]["code"] == 500
        return body["error"]["message"]
    if fault_format == "nova":
        return body["computeFault"]["message"]
    if fault_format == "neutron":
        return body["NeutronError"]["message"]
    if fault_format == "glance":
        assert body["code"] == "500 Internal Server Error"
        return body["message"]
    assert body["code"] == 500
    return body["error"]["message"]


@pytest.mark.parametrize("fault_format", FORMATS)
def test_an_unexpected_error_answers_in_the_services_format_and_the_connection_lives_on(server, fault_format):
    conn = http.client.HTTPConnection(server, timeout=10)
    for method in ("GET", "POST"):
        conn.request(method, f"/{fault_format}/boom", body=b"{}", headers={"Accept": "application/json"})
        response = conn.getresponse()
        body = response.read()
        assert response.status == 500
        assert response.getheader("content-type").startswith("application/json"), body
        rid = response.getheader("x-openstack-request-id")
        message = _message(fault_format, json.loads(body))
        assert rid in message and "RuntimeError" in message
        # the same connection answers the next request
        conn.request("GET", f"/{fault_format}/fine")
        after = conn.getresponse()
        assert after.status == 200 and json.loads(after.read()) == {"ok": True}
    conn.close()


def test_many_crashes_in_a_row_leave_the_server_answering(server):
    conn = http.client.HTTPConnection(server, timeout=10)
    start = time.monotonic()
    for _ in range(50):
        conn.request("GET", "/nova/boom")
        response = conn.getresponse()
        assert response.status == 500 and response.read()
    conn.request("GET", "/nova/fine")
    assert conn.getresponse().status == 200
    assert time.monotonic() - start < 60
