# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The kit and Glance: the image view's properties, JSON-patch updates, and who the token is.

The view and the patch operations are pure; ``patch_image`` and ``access``/``is_admin``
run against a live stacksim, since they are about what the cloud answers.
"""

from __future__ import annotations

import secrets

import pytest
from openstack.image.v2.image import Image

from ansible_collections.opensandbox.cloud.plugins.module_utils._glance import patch_image, patch_operations
from ansible_collections.opensandbox.cloud.plugins.module_utils._kinds import IMAGE, glance_properties
from ansible_collections.opensandbox.cloud.plugins.module_utils._resources import to_dict
from ansible_collections.opensandbox.cloud.tests.unit.plugins.module_utils.kit_fakes import exit_result

BODY = {
    "id": "i1",
    "name": "runner-jammy",
    "status": "active",
    "visibility": "private",
    "owner": "p1",
    "os_hash_algo": "sha512",
    "architecture": "x86_64",
    "os_distro": "ubuntu",
    "hw_disk_bus": "scsi",
    "runner_version": "2.319.1",
    "APPLIANCE_ID": "a1",
}


def test_the_image_view_holds_every_property_whichever_way_the_sdk_keeps_it():
    image = Image.existing(**BODY)
    expected = {
        "architecture": "x86_64",
        "os_distro": "ubuntu",
        "hw_disk_bus": "scsi",
        "runner_version": "2.319.1",
        "APPLIANCE_ID": "a1",
    }
    assert glance_properties(image) == expected
    view = to_dict(IMAGE, image)
    assert view["properties"] == expected
    assert (view["owner"], view["hash_algo"], view["visibility"]) == ("p1", "sha512", "private")


def test_patch_replaces_attributes_and_adds_or_removes_properties():
    ops = patch_operations({"visibility": "private", "APPLIANCE_STATUS": "EOL", "APPLIANCE_DESCRIPTION": None})
    assert ops == [
        {"op": "replace", "path": "/visibility", "value": "private"},
        {"op": "add", "path": "/APPLIANCE_STATUS", "value": "EOL"},
        {"op": "remove", "path": "/APPLIANCE_DESCRIPTION"},
    ]


@pytest.mark.parametrize(("changes", "problem"), [({"size": 3}, "changed"), ({"name": None}, "removed")])
def test_patch_refuses_what_glance_cannot_change(changes, problem):
    with pytest.raises(ValueError, match=f"cannot be {problem}"):
        patch_operations(changes)


def make_image(module, **props):
    body = {"name": f"kit-{secrets.token_hex(4)}", "disk_format": "raw", "container_format": "bare", **props}
    return Image.new(**body).create(module.conn.image)


def test_patch_image_changes_only_what_it_names(live_module):
    module = live_module()
    image = make_image(module, architecture="x86_64", os_distro="ubuntu", note="old", gone="x", kept="yes")
    try:
        patched = patch_image(module, image, {"name": "kit-renamed", "note": "new", "extra": "1", "gone": None})
        view = to_dict(IMAGE, patched)
        assert view["name"] == "kit-renamed"
        props = view["properties"]
        assert {k: props.get(k) for k in ("architecture", "os_distro", "note", "extra", "kept")} == {
            "architecture": "x86_64",
            "os_distro": "ubuntu",
            "note": "new",
            "extra": "1",
            "kept": "yes",
        }
        assert "gone" not in props
        # A well-known property changes the same way, and leaves the custom ones alone.
        again = to_dict(IMAGE, patch_image(module, image.id, {"architecture": "aarch64"}))["properties"]
        assert again["architecture"] == "aarch64" and again["kept"] == "yes" and again["note"] == "new"
    finally:
        module.conn.image.delete_image(image, ignore_missing=True)


def test_patch_image_failures_name_the_operations(capsys, live_module):
    module = live_module()
    image = make_image(module)
    try:
        msg = exit_result(capsys, lambda: patch_image(module, image, {"missing": None}))["msg"]
        assert msg.startswith(f"image.patch_image('{image.id}', remove /missing) failed on cloud ")
        assert "HTTP 409 Conflict" in msg
    finally:
        module.conn.image.delete_image(image, ignore_missing=True)


@pytest.mark.parametrize(
    ("cloud", "project", "admin"), [("stacksim", "demo", False), ("stacksim-admin", "admin", True)]
)
def test_access_says_who_the_token_is(live_module, cloud, project, admin):
    module = live_module(cloud)
    assert module.access.project_name == project
    assert module.access.project_id == module.conn.current_project_id
    assert module.is_admin is admin
