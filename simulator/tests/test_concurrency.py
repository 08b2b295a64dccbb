"""Concurrent writers lose nothing: read-modify-write happens in one store transaction.

Requests run in the simulator's worker threads, so these calls really overlap.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from stacksim.cloud import Cloud
from stacksim.config import Settings
from stacksim.services.compute.model import ServerChanges, ServerRequest
from stacksim.testing import Simulator

WRITERS = 32


class Http:
    def __init__(self, url: str, user: str) -> None:
        self.url = url
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {"user": {"name": user, "domain": {"id": "default"}, "password": "stacksim"}},
                },
                "scope": {"project": {"name": user, "domain": {"id": "default"}}},
            }
        }
        resp = requests.post(f"{url}/identity/v3/auth/tokens", json=body, timeout=30)
        resp.raise_for_status()
        self.token = resp.headers["X-Subject-Token"]

    def __call__(self, method: str, path: str, body: Any = None, version: str = "2.26") -> requests.Response:
        headers = {"X-Auth-Token": self.token, "OpenStack-API-Version": f"compute {version}"}
        return requests.request(method, self.url + path, json=body, headers=headers, timeout=60)


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(extra_args=["--delay", "0"]) as running:
        yield running


def _wait(test: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not test():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _server(http: Http) -> str:
    image = http("GET", "/image/v2/images").json()["images"][0]["id"]
    resp = http(
        "POST",
        "/compute/v2.1/servers",
        {"server": {"name": "busy", "imageRef": image, "flavorRef": "1", "networks": "none"}},
    )
    assert resp.status_code == 202, resp.text
    return resp.json()["server"]["id"]


def _all(calls: list[Callable[[], requests.Response]]) -> list[requests.Response]:
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], requests.Response]) -> requests.Response:
        start.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_concurrent_metadata_and_tag_writers_lose_nothing(sim: Simulator) -> None:
    http = Http(sim.url, "demo")
    server = _server(http)
    path = f"/compute/v2.1/servers/{server}"
    answers = _all(
        [lambda i=i: http("POST", f"{path}/metadata", {"metadata": {f"key-{i}": str(i)}}) for i in range(WRITERS)]
    )
    assert [a.status_code for a in answers] == [200] * WRITERS
    assert http("GET", f"{path}/metadata").json()["metadata"] == {f"key-{i}": str(i) for i in range(WRITERS)}

    answers = _all(
        [lambda i=i: http("PUT", f"{path}/metadata/item-{i}", {"meta": {f"item-{i}": "x"}}) for i in range(WRITERS)]
    )
    assert {a.status_code for a in answers} == {200}
    assert len(http("GET", f"{path}/metadata").json()["metadata"]) == 2 * WRITERS

    answers = _all([lambda i=i: http("PUT", f"{path}/tags/tag-{i}") for i in range(WRITERS)])
    assert {a.status_code for a in answers} == {201}
    assert sorted(http("GET", f"{path}/tags").json()["tags"]) == sorted(f"tag-{i}" for i in range(WRITERS))

    answers = _all([lambda i=i: http("DELETE", f"{path}/metadata/key-{i}") for i in range(WRITERS)])
    assert {a.status_code for a in answers} == {204}
    assert sorted(http("GET", f"{path}/metadata").json()["metadata"]) == sorted(f"item-{i}" for i in range(WRITERS))


def test_concurrent_network_creates_get_distinct_segments(sim: Simulator) -> None:
    admin = Http(sim.url, "admin")
    answers = _all(
        [lambda i=i: admin("POST", "/network/v2.0/networks", {"network": {"name": f"race-{i}"}}) for i in range(16)]
    )
    assert [a.status_code for a in answers] == [201] * 16, [a.text for a in answers if a.status_code != 201]
    segments = [a.json()["network"]["provider:segmentation_id"] for a in answers]
    assert len(set(segments)) == 16, segments


def test_concurrent_ports_get_distinct_addresses(sim: Simulator) -> None:
    demo = Http(sim.url, "demo")
    net = demo("POST", "/network/v2.0/networks", {"network": {"name": "ports-race"}}).json()["network"]["id"]
    subnet = {"network_id": net, "ip_version": 4, "cidr": "10.77.0.0/24"}
    assert demo("POST", "/network/v2.0/subnets", {"subnet": subnet}).status_code == 201
    answers = _all([lambda: demo("POST", "/network/v2.0/ports", {"port": {"network_id": net}}) for _ in range(24)])
    assert [a.status_code for a in answers] == [201] * 24
    addresses = [a.json()["port"]["fixed_ips"][0]["ip_address"] for a in answers]
    assert len(set(addresses)) == 24
    # the lowest free ones, as before: .1 is the gateway, one went to DHCP
    assert sorted(addresses, key=lambda a: int(a.rsplit(".", 1)[1])) == [f"10.77.0.{n}" for n in range(3, 27)]


# -- in process: an update while the driver works on an action --------------------------------------


@pytest.fixture
def cloud() -> Iterator[Cloud]:
    made = Cloud(Settings(delay=0.0))
    made.start()
    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_forever, daemon=True)
    runner.start()
    made.lifecycle.start(loop)
    yield made
    made.close()
    loop.call_soon_threadsafe(loop.stop)
    runner.join(timeout=5)


def test_update_while_an_action_runs_is_kept(cloud: Cloud) -> None:
    user = cloud.store.first("user", name="demo")
    token, _ = cloud.identity.issue_token(user["id"], ["password"], project_id=user["default_project_id"])
    ctx = cloud.auth.context(token)
    compute = cloud.compute
    image = cloud.store.find("image")[0]["id"]
    (server,) = compute.create_servers(ctx, ServerRequest(name="slow", flavor_id="1", image_id=image, networks="none"))
    _wait(lambda: compute.server(ctx, server["id"])["status"] == "ACTIVE", "the build")

    # Hold the driver inside power_off (the real one runs after), to update the server meanwhile.
    inside, release = threading.Event(), threading.Event()
    power_off = compute.driver.power_off

    def held_power_off(server_id: str) -> None:
        inside.set()
        assert release.wait(10)
        power_off(server_id)

    compute.driver.power_off = held_power_off  # type: ignore[method-assign]
    compute.stop(ctx, server["id"])
    assert inside.wait(10)
    compute.update_server(ctx, server["id"], ServerChanges(name="renamed"))
    compute.meta.set_metadata_item(ctx, server["id"], "during", "stop")
    release.set()
    _wait(lambda: compute.server(ctx, server["id"])["status"] == "SHUTOFF", "the stop")
    after = compute.server(ctx, server["id"])
    assert (after["name"], after["metadata"], after["task_state"]) == ("renamed", {"during": "stop"}, None)
