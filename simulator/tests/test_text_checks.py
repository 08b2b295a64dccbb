"""The quick test for lone surrogates (orjson's, in C) never passes text the slow walk refuses,
and a refused request still names the field that holds it."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import pytest

from stacksim import faults
from stacksim.services.compute.inputs import BlockDevice, NetworkRequest, ServerChanges, ServerRequest, check_text
from stacksim.services.compute.schemas import _surrogate_free
from stacksim.toolkit import surely_valid_text

BAD = "x\udc80"


def _server(**fields: Any) -> ServerRequest:
    return ServerRequest(**{"name": "a", "flavor_id": "1", **fields})


REFUSED = [
    (_server(name=BAD), "name"),
    (_server(networks=(NetworkRequest(fixed_ip=BAD),)), "fixed_ip"),
    (_server(block_devices=(BlockDevice(device_name=BAD),)), "device_name"),
    (_server(metadata=MappingProxyType({BAD: "v"})), "metadata"),
    (_server(metadata={"k": BAD}), "k"),
    (_server(scheduler_hints={"k": [{"z": BAD}]}), "z"),
    (_server(scheduler_hints={1: BAD}), "scheduler_hints"),  # a key orjson will not encode
    (_server(tags=("ok", BAD)), "tags"),
    (ServerChanges(description=BAD), "description"),
]


@pytest.mark.parametrize(("request_", "field"), REFUSED)
def test_a_lone_surrogate_anywhere_is_refused_by_name(request_: Any, field: str) -> None:
    assert not surely_valid_text(request_)
    with pytest.raises(faults.BadRequest, match=f"field/attribute {field}\\. Value: x\\\\udc80"):
        check_text(request_)


@pytest.mark.parametrize(
    "request_",
    [
        _server(name="é ☃", user_data=b"\xff\xfe", metadata=MappingProxyType({"k": "v"})),
        _server(networks=(NetworkRequest(network_id="n", fixed_ip="10.0.0.5"),), scheduler_hints={1: "x"}),
        ServerChanges(),
    ],
)
def test_valid_requests_pass(request_: Any) -> None:
    check_text(request_)


def test_the_api_body_check_agrees() -> None:
    body = {"server": {"name": "ok", "metadata": {"k": ["a", {"b": BAD}]}}}
    assert not surely_valid_text(body)
    with pytest.raises(ValueError, match="holds a lone surrogate"):
        _surrogate_free(body)
    assert surely_valid_text({"server": {"name": "é", "n": 1, "x": None, "l": [1.5, True]}})
