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


# -- server creates: what a create makes once, and what a refused one leaves ------------------------


def test_concurrent_first_creates_make_one_default_group(sim: Simulator) -> None:
    """A project's first creates, at once, find or make its ``default`` security group: one group."""
    alt = Http(sim.url, "alt_demo")
    image = alt("GET", "/image/v2/images").json()["images"][0]["id"]
    body = {"server": {"name": "first", "imageRef": image, "flavorRef": "1", "networks": "none"}}
    answers = _all([lambda: alt("POST", "/compute/v2.1/servers", body) for _ in range(8)])
    assert [a.status_code for a in answers] == [202] * 8, [a.text for a in answers]
    groups = alt("GET", "/network/v2.0/security-groups?name=default").json()["security_groups"]
    assert len(groups) == 1
    rules = groups[0]["security_group_rules"]
    assert sorted((r["direction"], r["ethertype"]) for r in rules) == [
        ("egress", "IPv4"),
        ("egress", "IPv6"),
        ("ingress", "IPv4"),
        ("ingress", "IPv6"),
    ]
    built = alt("GET", "/compute/v2.1/servers/detail?name=^first$").json()["servers"]
    assert sorted(s["status"] for s in built) == ["ACTIVE"] * 8


def test_create_refused_by_the_port_quota_leaves_nothing(sim: Simulator) -> None:
    """A create whose port Neutron's quota refuses leaves no server, port or reserved address."""
    admin, demo = Http(sim.url, "admin"), Http(sim.url, "demo")
    project = demo("GET", "/identity/v3/auth/projects").json()["projects"][0]["id"]
    net = demo("POST", "/network/v2.0/networks", {"network": {"name": "quota-full"}}).json()["network"]["id"]
    subnet = {"network_id": net, "ip_version": 4, "cidr": "10.78.0.0/24"}
    assert demo("POST", "/network/v2.0/subnets", {"subnet": subnet}).status_code == 201
    image = demo("GET", "/image/v2/images").json()["images"][0]["id"]
    body = {"server": {"name": "over", "imageRef": image, "flavorRef": "1", "networks": [{"uuid": net}]}}

    def ports() -> list[str]:
        return sorted(p["id"] for p in demo("GET", "/network/v2.0/ports").json()["ports"])

    def servers() -> list[str]:
        return sorted(s["id"] for s in demo("GET", "/compute/v2.1/servers").json()["servers"])

    before_ports, before_servers = ports(), servers()
    quota = f"/network/v2.0/quotas/{project}"
    assert admin("PUT", quota, {"quota": {"port": len(before_ports)}}).status_code == 200
    try:
        refused = demo("POST", "/compute/v2.1/servers", body)
        assert refused.status_code == 409, refused.text
        assert "Quota exceeded for resources: ['port']" in refused.text
        assert (ports(), servers()) == (before_ports, before_servers)
    finally:
        assert admin("PUT", quota, {"quota": {"port": -1}}).status_code == 200
    made = demo("POST", "/compute/v2.1/servers", body)
    assert made.status_code == 202, made.text
    server = made.json()["server"]["id"]
    addresses = demo("GET", f"/compute/v2.1/servers/{server}").json()["server"]["addresses"]["quota-full"]
    # the refused create held no address: the one after it takes the first free one
    assert [a["addr"] for a in addresses] == ["10.78.0.3"]
