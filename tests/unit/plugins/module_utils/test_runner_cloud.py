# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The runner modules' view of an image: every Glance property, including the SDK's well-known ones."""

from __future__ import annotations

from openstack.image.v2.image import Image

from ansible_collections.opensandbox.cloud.plugins.module_utils._resources import to_dict
from ansible_collections.opensandbox.cloud.plugins.module_utils._runner_cloud import (
    RUNNER_IMAGE,
    glance_properties,
    revision_summary,
)

BODY = {
    "id": "i1",
    "name": "runner-jammy",
    "status": "active",
    "visibility": "private",
    "os_hash_algo": "sha512",
    "architecture": "x86_64",
    "os_distro": "ubuntu",
    "runner_version": "2.319.1",
    "runner_inputs_digest": "sha256:ab",
}


def test_glance_properties_include_the_well_known_ones():
    image = Image.existing(**BODY)
    assert glance_properties(image) == {
        "architecture": "x86_64",
        "os_distro": "ubuntu",
        "runner_version": "2.319.1",
        "runner_inputs_digest": "sha256:ab",
    }


def test_runner_image_view_and_revision_summary():
    view = to_dict(RUNNER_IMAGE, Image.existing(**BODY))
    assert view["properties"]["architecture"] == "x86_64"
    assert view["status"] == "active"
    assert revision_summary(view, "i1", {"i1"}) == {
        "id": "i1",
        "status": "active",
        "runner_version": "2.319.1",
        "inputs_digest": "sha256:ab",
        "built_at": None,
        "current": True,
        "in_use": True,
    }
