# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How the runner modules return a revision, from the kit's image view."""

from __future__ import annotations

from openstack.image.v2.image import Image

from ansible_collections.opensandbox.cloud.plugins.module_utils._kinds import IMAGE
from ansible_collections.opensandbox.cloud.plugins.module_utils._resources import to_dict
from ansible_collections.opensandbox.cloud.plugins.module_utils._runner_cloud import revision_summary

BODY = {
    "id": "i1",
    "name": "runner-jammy",
    "status": "active",
    "visibility": "private",
    "architecture": "x86_64",
    "runner_version": "2.319.1",
    "runner_inputs_digest": "sha256:ab",
}


def test_revision_summary():
    view = to_dict(IMAGE, Image.existing(**BODY))
    assert revision_summary(view, "i1", {"i1"}) == {
        "id": "i1",
        "status": "active",
        "runner_version": "2.319.1",
        "inputs_digest": "sha256:ab",
        "built_at": None,
        "current": True,
        "in_use": True,
    }
    assert revision_summary(view, "i2", set())["current"] is False
