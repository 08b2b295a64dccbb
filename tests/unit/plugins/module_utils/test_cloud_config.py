# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``cloud_config`` (a clouds.yaml document as data) and the openstacksdk version check, without a cloud.

Wrong credentials need a cloud to refuse them: the cinder_volume integration target covers that.
"""

from __future__ import annotations

import json

import pytest

from ansible_collections.opensandbox.cloud.plugins.module_utils._cloud_config import (
    CloudConfigError,
    secret_values,
    select_cloud,
)
from ansible_collections.opensandbox.cloud.plugins.module_utils._module import (
    MIN_SDK_VERSION,
    AnsibleOpenStackModule,
    installed_sdk_version,
    sdk_version_problem,
)
from ansible_collections.opensandbox.cloud.tests.unit.plugins.module_utils.kit_fakes import (
    exit_result,
    module_args,
)

AUTH = {
    "auth_url": "http://127.0.0.1:9/identity",
    "username": "demo",
    "password": "pw-Secret-1",
    "project_name": "demo",
}
DOCUMENT = {"clouds": {"one": {"auth": AUTH, "region_name": "RegionOne"}}}


def test_the_only_cloud_is_used_when_none_is_named():
    name, entry = select_cloud(DOCUMENT, None)
    assert name == "one" and entry["region_name"] == "RegionOne"


def test_the_named_cloud_is_used():
    document = {"clouds": {"one": {"auth": AUTH}, "two": {"auth": dict(AUTH, project_name="alt")}}}
    assert select_cloud(document, "two")[1]["auth"]["project_name"] == "alt"


@pytest.mark.parametrize(
    ("document", "cloud", "expected"),
    [
        ("clouds: {}", None, "must be a whole clouds.yaml document (a dict), not a str"),
        ({"one": {"auth": AUTH}}, None, "cloud_config has no 'clouds' key (its keys: one)"),
        ({"clouds": {}}, None, "cloud_config defines no clouds: its 'clouds' key holds an empty mapping"),
        ({"clouds": None}, None, "cloud_config defines no clouds: its 'clouds' key holds nothing"),
        ({"clouds": {"a": {"auth": AUTH}, "b": {"auth": AUTH}}}, None, "defines 2 clouds (a, b); set the cloud option"),
        (DOCUMENT, "other", "cloud 'other' is not in cloud_config, which defines one; set the cloud option"),
        ({"clouds": {"one": "pw"}}, None, "cloud_config.clouds.one must be a mapping of settings"),
        ({"clouds": {"one": {"auth": "x"}}}, None, "cloud_config.clouds.one.auth must be a mapping"),
        ({"clouds": {"one": {"auth": {"username": "u"}}}}, None, "cloud_config.clouds.one has no auth.auth_url"),
    ],
)
def test_unusable_documents_say_what_to_fix(document, cloud, expected):
    with pytest.raises(CloudConfigError) as caught:
        select_cloud(document, cloud)
    assert expected in str(caught.value)
    assert "pw" not in str(caught.value).replace("password", "")


def test_profiles_and_url_less_plugins_need_no_auth_url():
    assert select_cloud({"clouds": {"v": {"profile": "vexxhost", "auth": {"username": "u"}}}}, None)[0] == "v"
    assert select_cloud({"clouds": {"n": {"auth_type": "none", "endpoint": "http://x"}}}, None)[0] == "n"


def test_secret_values_are_found_at_any_depth():
    document = {
        "clouds": {
            "one": {"auth": AUTH, "region_name": "RegionOne"},
            "two": {"auth": {"application_credential_secret": "ac-secret", "token": "tok"}, "api_key": "k"},
            "three": {"auth": {"password": None, "passcode": ""}},
        },
        "secrets": ["listed"],
    }
    assert secret_values(document) == {"pw-Secret-1", "ac-secret", "tok", "k", "listed"}
    assert secret_values(None) == set()


def test_module_masks_cloud_config_secrets_but_not_its_other_values(capsys):
    with module_args({"cloud_config": DOCUMENT}):
        module = AnsibleOpenStackModule()
        assert module.cloud_label == "the cloud of cloud_config"
        result = exit_result(capsys, lambda: module.exit_json(changed=False, echo="demo uses pw-Secret-1"))
    out = json.dumps(result)
    assert "pw-Secret-1" not in out
    assert result["echo"] == "demo uses ********"
    assert result["invocation"]["module_args"]["cloud_config"]["clouds"]["one"]["region_name"] == "RegionOne"


def test_secrets_are_masked_even_when_validation_fails(capsys):
    with module_args({"cloud_config": DOCUMENT, "interface": "bogus"}):
        result = exit_result(capsys, AnsibleOpenStackModule)
    assert result["failed"] and "interface" in result["msg"]
    assert "pw-Secret-1" not in json.dumps(result)


def test_a_bad_document_fails_before_connecting(capsys):
    with module_args({"cloud_config": {"clouds": {}}, "cloud": "x"}):
        module = AnsibleOpenStackModule()
        result = exit_result(capsys, lambda: module.conn)
    assert result["failed"] is True
    assert result["msg"].startswith("cloud_config defines no clouds")


def test_an_unknown_cloud_of_the_document_names_the_known_ones(capsys):
    with module_args({"cloud_config": DOCUMENT, "cloud": "two"}):
        module = AnsibleOpenStackModule()
        msg = exit_result(capsys, lambda: module.conn)["msg"]
    assert msg == (
        "cloud 'two' is not in cloud_config, which defines one; set the cloud option to one of them, "
        "or add the entry to the document"
    )


def test_the_document_is_used_instead_of_clouds_yaml(capsys, monkeypatch, tmp_path):
    """An unreachable auth_url proves the document's entry is the one used (nothing listens on port 9)."""
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text("clouds:\n  one:\n    auth:\n      auth_url: http://127.0.0.1:1/elsewhere\n")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds))
    with module_args({"cloud_config": DOCUMENT}):
        module = AnsibleOpenStackModule()
        msg = exit_result(capsys, lambda: module.conn)["msg"]
    assert msg.startswith("authentication failed on cloud 'one' of cloud_config:")
    assert "auth_url" in msg
    assert "elsewhere" not in msg and "pw-Secret-1" not in msg


# -- the openstacksdk version ------------------------------------------------------------------------


def test_the_installed_sdk_is_new_enough():
    assert sdk_version_problem(installed_sdk_version()) is None


@pytest.mark.parametrize(
    ("installed", "ok"),
    [("4.22.0", True), ("4.22.1", True), ("5.0.0.dev3", True), ("4.21.9", False), ("3.3.0", False), ("4.22", True)],
)
def test_versions_compare_as_numbers(installed, ok):
    assert (sdk_version_problem(installed, "4.22.0") is None) is ok


def test_an_old_sdk_message_names_the_minimum_and_the_fix():
    msg = sdk_version_problem("1.0.0")
    assert msg.startswith("openstacksdk 1.0.0 is too old for opensandbox.cloud")
    assert f"openstacksdk >= {MIN_SDK_VERSION}" in msg
    assert "pip install --upgrade" in msg


def test_no_sdk_is_left_to_the_connection_to_report():
    assert sdk_version_problem(None) is None


def test_a_document_given_as_json_text_is_masked_too(capsys):
    with module_args({"cloud_config": json.dumps(DOCUMENT)}):
        module = AnsibleOpenStackModule()
        result = exit_result(capsys, lambda: module.exit_json(changed=False, echo="pw-Secret-1"))
    assert "pw-Secret-1" not in json.dumps(result)
