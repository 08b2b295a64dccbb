"""What a service's ASGI layer answers besides its handlers (it replaced Starlette's app, middlewares
and router, issue 13): the 404, 405 and trailing-slash redirect they gave, HEAD on a GET route,
the microversion headers, the request id, and X-Forwarded-Proto trusted from loopback."""

from __future__ import annotations

import http.client
import json
import uuid
from urllib.parse import urlsplit

from stacksim import control
from stacksim.testing import DEFAULT_PASSWORD, Simulator
from stacksim.toolkit import new_request_id


def _call(sim: Simulator, method: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", urlsplit(sim.url).port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def _token(sim: Simulator) -> dict[str, str]:
    return {"X-Auth-Token": control.admin_token(sim.url, DEFAULT_PASSWORD)}


def test_unknown_path_is_a_404_in_the_service_format(sim: Simulator) -> None:
    status, headers, body = _call(sim, "GET", "/compute/v2.1/no-such-thing", _token(sim))
    assert status == 404
    assert json.loads(body) == {
        "itemNotFound": {"code": 404, "message": "The resource could not be found: /compute/v2.1/no-such-thing"}
    }
    assert headers["x-openstack-request-id"].startswith("req-")


def test_wrong_method_is_a_405_in_the_service_format(sim: Simulator) -> None:
    status, _, body = _call(sim, "PATCH", "/compute/v2.1/flavors", _token(sim))
    assert status == 405
    assert json.loads(body) == {
        "badMethod": {"code": 405, "message": "The method PATCH is not allowed for /compute/v2.1/flavors."}
    }
    status, _, body = _call(sim, "PATCH", "/image/v2/images", _token(sim))
    assert status == 405
    assert b"The method specified is not allowed for this resource." in body


def test_a_trailing_slash_redirects_to_the_route_without_it(sim: Simulator) -> None:
    status, headers, _ = _call(sim, "GET", "/compute/v2.1/flavors/", _token(sim))
    assert status == 307
    assert headers["location"] == f"{sim.url}/compute/v2.1/flavors"
    status, headers, _ = _call(sim, "GET", "/compute/v2.1/flavors/?x=1", {"X-Forwarded-Proto": "https"})
    assert status == 307
    assert headers["location"] == f"https://127.0.0.1:{urlsplit(sim.url).port}/compute/v2.1/flavors?x=1"
    status, headers, _ = _call(sim, "GET", "/identity/v3/auth/tokens//", _token(sim))
    assert (status, headers["location"]) == (307, f"{sim.url}/identity/v3/auth/tokens")


def test_head_answers_on_a_get_route_with_the_microversion(sim: Simulator) -> None:
    token = _token(sim)
    status, headers, body = _call(sim, "HEAD", "/compute/v2.1/flavors", token)
    assert (status, body) == (200, b"")
    assert headers["openstack-api-version"].startswith("compute ")
    status, headers, body = _call(
        sim, "GET", "/compute/v2.1/flavors", {**token, "OpenStack-API-Version": "compute 2.60"}
    )
    assert status == 200 and json.loads(body)["flavors"]
    assert headers["openstack-api-version"] == "compute 2.60"
    assert headers["x-openstack-nova-api-version"] == "2.60"


def test_forwarded_proto_from_loopback_shapes_the_links(sim: Simulator) -> None:
    """uvicorn trusts X-Forwarded-* from 127.0.0.1 (its default); the links the services give follow."""
    status, _, body = _call(sim, "GET", "/identity/v3/regions", {**_token(sim), "X-Forwarded-Proto": "https"})
    assert status == 200
    assert json.loads(body)["links"]["self"].startswith("https://")


def test_request_ids_are_version_4_uuids() -> None:
    ids = {new_request_id() for _ in range(2000)}
    assert len(ids) == 2000
    for rid in ids:
        assert rid.startswith("req-")
        parsed = uuid.UUID(rid[4:])
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, rid[4:])
