# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Failure messages built from real openstacksdk and keystoneauth exceptions."""

from __future__ import annotations

import json

import pytest
import requests
from keystoneauth1 import exceptions as ksa_exc
from openstack import exceptions as sdk_exc

from ansible_collections.opensandbox.cloud.plugins.module_utils._errors import (
    callable_name,
    describe_error,
    failure_message,
    format_call,
    hint_for,
    status_code,
    summarize_value,
)


def http_error(status: int, message: str, method: str = "GET", url: str = "http://127.0.0.1:1/identity/v3/projects"):
    """Let the SDK turn an HTTP answer into its exception, as it does for a real response."""
    response = requests.Response()
    response.status_code = status
    response.headers["Content-Type"] = "application/json"
    response.headers["x-openstack-request-id"] = "req-1234"
    response._content = json.dumps({"error": {"code": status, "message": message}}).encode()  # pylint: disable=protected-access
    response.request = requests.Request(method, url).prepare()
    response.url = url
    with pytest.raises(sdk_exc.HttpException) as caught:
        sdk_exc.raise_from_response(response)
    return caught.value


class FakeProxy:
    """Stands in for an SDK service proxy: all ``callable_name`` reads is ``service_type``."""

    service_type = "identity"

    def projects(self, **query):
        return query


class Named:
    def __init__(self, name=None, id=None):  # pylint: disable=redefined-builtin
        self.name = name
        self.id = id


def test_format_call_masks_secrets_at_any_depth():
    text = format_call("openstack.connect", (), {"cloud": "x", "auth": {"password": "pw"}, "password": "pw"})
    assert "pw" not in text
    assert text == "openstack.connect(cloud='x', auth='***', password='***')"
    assert format_call("f", (), {"opts": {"token": "t", "user": "u"}}) == "f(opts={token: '***', user: 'u'})"


def test_format_call_shows_resources_by_name_and_cuts_long_values():
    assert (
        format_call("compute.get_server", (Named(name="web-1"),), {"all": True})
        == "compute.get_server('web-1', all=True)"
    )
    assert summarize_value(Named(id="abc")) == "'abc'"
    assert summarize_value(object()) == "object"
    long = summarize_value("x" * 200)
    assert len(long) == 60 and long.endswith("...")


def test_callable_name_prefixes_the_service_type():
    assert callable_name(FakeProxy().projects) == "identity.projects"
    assert callable_name(len) == "len"


def test_http_error_names_status_server_message_and_request_id():
    exc = http_error(403, "You are not authorized to perform the requested action: identity:list_projects.")
    assert status_code(exc) == 403
    text = describe_error(exc)
    assert text.startswith("HTTP 403 Forbidden: ")
    assert "identity:list_projects" in text
    assert text.endswith("(request id req-1234)")


@pytest.mark.parametrize(
    ("status", "expected"),
    [(401, "credentials"), (403, "role"), (404, "does not exist"), (409, "conflicts"), (500, "request id")],
)
def test_hints_follow_the_status(status, expected):
    assert expected in hint_for(http_error(status, "boom"))


def test_keystoneauth_errors_get_hints():
    assert "auth_url" in hint_for(ksa_exc.ConnectFailure("refused"))
    assert "auth_url" in hint_for(ksa_exc.DiscoveryFailure("no versions"))
    assert "credentials" in hint_for(ksa_exc.Unauthorized("The request you have made requires authentication."))
    unauthorized = ksa_exc.Unauthorized("Bad password.", request_id="req-9")
    assert describe_error(unauthorized) == "HTTP 401 Unauthorized: Bad password. (Request-ID: req-9)"


def test_config_and_timeout_errors_get_hints():
    assert "cloud name" in hint_for(sdk_exc.ConfigException("Cloud nope was not found."))
    assert "connection options" in hint_for(sdk_exc.ConfigException("Region X is not a valid region name"))
    assert "timeout" in hint_for(sdk_exc.ResourceTimeout("Timed out waiting for volume"))
    assert hint_for(sdk_exc.SDKException("odd")) is None


def test_failure_message_puts_it_together():
    exc = http_error(404, "Could not find project: p1.")
    msg = failure_message("identity.get_project('p1')", exc, "cloud 'stacksim'")
    assert msg == (
        "identity.get_project('p1') failed on cloud 'stacksim': HTTP 404 Not Found: Could not find project: p1."
        " (request id req-1234). It does not exist or is not visible to this project."
    )
    assert failure_message("x()", sdk_exc.SDKException("plain")) == "x() failed: plain"


def test_sdk_resources_are_shown_by_name_though_they_are_dicts():
    from openstack.block_storage.v3.volume import Volume

    assert format_call("block-storage.extend_volume", (Volume(id="v1", name="data"), 2)) == (
        "block-storage.extend_volume('data', 2)"
    )
    assert summarize_value(Volume(id="v1")) == "'v1'"
    assert summarize_value({"name": "plain dict"}) == "{name: 'plain dict'}"


def test_failure_messages_are_one_line():
    exc = sdk_exc.SDKException("first line\n  second line")
    assert failure_message("x()", exc) == "x() failed: first line second line"
