# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The shared module wrapper: option merging, SDK arguments, lazy connection."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args

from ansible_collections.opensandbox.cloud.plugins.module_utils._module import (
    COLLECTION_VERSION,
    AnsibleOpenStackModule,
    connection_argument_spec,
    connection_kwargs,
    merge_argument_spec,
)

SHARED = {
    "cloud",
    "cloud_config",
    "auth",
    "auth_type",
    "region_name",
    "interface",
    "validate_certs",
    "ca_cert",
    "client_cert",
    "client_key",
    "api_timeout",
}


@contextlib.contextmanager
def module_args(args: dict) -> Iterator[None]:
    """Hand ``args`` to the modules built (and exited) inside the block."""
    with patch_module_args(args):
        yield


def exit_result(capsys: pytest.CaptureFixture[str], action: Callable[[], object]) -> dict:
    """Run something that ends the module; return the JSON it printed."""
    with pytest.raises(SystemExit):
        action()
    return json.loads(capsys.readouterr().out)


def test_user_agent_version_follows_galaxy_yml(collection_root):
    assert yaml.safe_load((collection_root / "galaxy.yml").read_text())["version"] == COLLECTION_VERSION


def test_merge_adds_shared_options_to_module_options():
    merged = merge_argument_spec({"name": {"type": "str", "required": True}})
    assert set(merged) == SHARED | {"name"}
    assert merged["name"] == {"type": "str", "required": True}
    assert merged["interface"]["default"] == "public"
    assert merged["auth"]["options"]["password"]["no_log"] is True
    assert "no_log" not in merged["auth"]["options"]["username"]


def test_wait_options_are_opt_in():
    assert not {"wait", "timeout"} & set(merge_argument_spec({}))
    merged = merge_argument_spec({}, with_wait=True)
    assert merged["wait"] == {"type": "bool", "default": True}
    assert merged["timeout"] == {"type": "int", "default": 180}


def test_merge_leaves_inputs_and_shared_spec_untouched():
    own = {"name": {"type": "str", "aliases": ["id"]}}
    merged = merge_argument_spec(own)
    merged["name"]["aliases"].append("x")
    merged["interface"]["choices"].append("bogus")
    assert own == {"name": {"type": "str", "aliases": ["id"]}}
    assert connection_argument_spec()["interface"]["choices"] == ["public", "internal", "admin"]


@pytest.mark.parametrize(
    "own",
    [
        {"cloud": {"type": "str"}},
        {"timeout": {"type": "int"}},
        {"region": {"type": "str", "aliases": ["region_name"]}},
    ],
)
def test_merge_refuses_to_redefine_shared_options(own):
    with pytest.raises(ValueError, match="clashes with the shared option"):
        merge_argument_spec(own, with_wait=True)


def test_connection_kwargs_rename_and_drop_unset_options():
    params = {
        "cloud": "stacksim",
        "auth": None,
        "auth_type": None,
        "region_name": "RegionOne",
        "interface": "internal",
        "validate_certs": False,
        "ca_cert": "/ca.pem",
        "client_cert": None,
        "client_key": None,
        "api_timeout": 30,
        "name": "not a connection option",
    }
    assert connection_kwargs(params) == {
        "cloud": "stacksim",
        "region_name": "RegionOne",
        "interface": "internal",
        "verify": False,
        "cacert": "/ca.pem",
        "api_timeout": 30,
    }


def test_connection_kwargs_pass_only_given_auth_keys():
    params = {"auth": {"auth_url": "http://127.0.0.1:1/identity", "username": "demo", "password": "pw", "token": None}}
    assert connection_kwargs(params) == {
        "auth": {"auth_url": "http://127.0.0.1:1/identity", "username": "demo", "password": "pw"}
    }
    assert connection_kwargs({"auth": {"token": None}}) == {}


def test_wrapper_parses_options_without_connecting():
    with module_args({"cloud": "stacksim", "_ansible_check_mode": True}):
        module = AnsibleOpenStackModule(with_wait=True)
    assert module.params["cloud"] == "stacksim"
    assert module.params["interface"] == "public"
    assert module.params["wait"] is True
    assert module.check_mode is True
    assert module.cloud_label == "cloud 'stacksim'"
    assert module._conn is None  # pylint: disable=protected-access


def test_wrapper_validates_the_merged_spec(capsys):
    with module_args({"interface": "bogus"}):
        result = exit_result(capsys, AnsibleOpenStackModule)
    assert result["failed"] is True
    assert "interface" in result["msg"] and "bogus" in result["msg"]


def test_wrapper_rejects_unknown_auth_keys(capsys):
    with module_args({"auth": {"auth_url": "http://x", "pasword": "typo"}}):
        result = exit_result(capsys, AnsibleOpenStackModule)
    assert "pasword" in result["msg"]


def test_auth_secrets_are_masked_in_the_output(capsys):
    with module_args({"auth": {"auth_url": "http://x", "username": "demo", "password": "s3cret-pw"}}):
        module = AnsibleOpenStackModule()
        assert module.cloud_label == "the cloud at http://x"
        result = exit_result(capsys, lambda: module.exit_json(changed=False, echo="password s3cret-pw, user demo"))
    assert "s3cret-pw" not in json.dumps(result)
    assert "user demo" in result["echo"]


def test_missing_sdk_fails_with_the_library_name(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "openstack", None)  # makes ``import openstack`` raise ImportError
    with module_args({"cloud": "stacksim"}):
        module = AnsibleOpenStackModule()
        result = exit_result(capsys, lambda: module.conn)
    assert result["failed"] is True
    assert "openstacksdk" in result["msg"]


def test_unknown_cloud_fails_naming_the_call_and_the_cloud(capsys, monkeypatch, tmp_path):
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text("clouds:\n  real:\n    auth:\n      auth_url: http://127.0.0.1:9/identity\n")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds))
    with module_args({"cloud": "missing"}):
        module = AnsibleOpenStackModule()
        msg = exit_result(capsys, lambda: module.conn)["msg"]
    assert msg.startswith("openstack.connect(cloud='missing'")
    assert "was not found" in msg
    assert "clouds.yaml" in msg


def test_the_payload_is_off_sys_path_while_the_sdk_loads_plugins(monkeypatch, tmp_path):
    """Run from Ansible's payload (a zip with a new path each run), the SDK's plugin lookup
    sees a sys.path without it, so stevedore's entry-point cache keeps one key across runs."""
    from ansible_collections.opensandbox.cloud.plugins.module_utils import _module

    payload = tmp_path / "ansible_cloud_info_payload_x1" / "ansible_cloud_info_payload.zip"
    payload.parent.mkdir()
    payload.write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip archive
    inner = f"{payload}/ansible_collections/opensandbox/cloud/plugins/module_utils/_module.py"
    monkeypatch.setattr(_module, "__file__", inner)
    monkeypatch.setattr(sys, "path", ["/elsewhere", str(payload), *sys.path])
    before = list(sys.path)
    # The helper is private to module_utils; this test calls it directly to pin its contract.
    with _module._payload_off_sys_path():  # pylint: disable=protected-access
        assert str(payload) not in sys.path
        assert sys.path == [p for p in before if p != str(payload)]
    assert sys.path == before


def test_sys_path_is_left_alone_outside_a_payload(monkeypatch):
    from ansible_collections.opensandbox.cloud.plugins.module_utils import _module

    monkeypatch.setattr(sys, "path", list(sys.path))
    before = list(sys.path)
    # The helper is private to module_utils; this test calls it directly to pin its contract.
    with _module._payload_off_sys_path():  # pylint: disable=protected-access
        assert sys.path == before
    assert sys.path == before


class PagingProxy:
    """Stands in for an SDK proxy whose list call fails while paging, as a real one can."""

    service_type = "identity"

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def projects(self, **query):
        yield {"name": "first"}
        raise self.exc


def sdk_http_error(status: int):
    import requests
    from openstack import exceptions as sdk_exc

    response = requests.Response()
    response.status_code = status
    response._content = b"{}"  # pylint: disable=protected-access
    response.request = requests.Request("GET", "http://127.0.0.1:1/identity/v3/projects").prepare()
    return sdk_exc.HttpException(response=response)


def test_call_fails_naming_the_call_even_for_errors_while_paging(capsys):
    proxy = PagingProxy(sdk_http_error(500))
    with module_args({"cloud": "stacksim"}):
        module = AnsibleOpenStackModule()
        result = exit_result(capsys, lambda: module.call(proxy.projects, domain_id="default"))
    assert result["msg"].startswith("identity.projects(domain_id='default') failed on cloud 'stacksim': HTTP 500")


@pytest.mark.parametrize(("status", "method"), [(404, "call_or_none"), (403, "call_tolerating")])
def test_tolerated_statuses_return_none(status, method):
    proxy = PagingProxy(sdk_http_error(status))
    with module_args({}):
        module = AnsibleOpenStackModule()
    if method == "call_or_none":
        assert module.call_or_none(proxy.projects) is None
    else:
        assert module.call_tolerating((403,), proxy.projects) is None


def test_call_returns_lists_for_generators():
    with module_args({}):
        module = AnsibleOpenStackModule()
    assert module.call(lambda: (n for n in range(3))) == [0, 1, 2]
