#!/usr/bin/python
# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: runner_image_info
short_description: Show the runner images and their revisions
version_added: 0.1.0
description:
  - Lists the runner images made by M(opensandbox.cloud.runner_image) that the project can see
    (images carrying its inputs digest), each with its current revision (the newest active one,
    which M(opensandbox.cloud.runner_instance) boots) and all its revisions, newest first.
author:
  - OpenSandbox contributors (@opensandbox)
options:
  name:
    description:
      - Only the image of this name. Without it, every runner image the project can see.
    type: str
seealso:
  - module: opensandbox.cloud.runner_image
extends_documentation_fragment:
  - opensandbox.cloud.openstack
  - opensandbox.cloud.attributes
  - opensandbox.cloud.attributes.actiongroup
  - opensandbox.cloud.attributes.info_module
"""

EXAMPLES = r"""
- name: Read the revisions of the runner image
  opensandbox.cloud.runner_image_info:
    cloud: mycloud
    name: runner-jammy
  register: runner_images

- name: Show the runner version runners boot with
  ansible.builtin.debug:
    msg: "{{ runner_images.images[0].current.properties.runner_version }}"
"""

RETURN = r"""
images:
  description: The runner images, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Image name.
      type: str
      sample: runner-jammy
    current:
      description:
        - The current revision (same keys as RV(opensandbox.cloud.runner_image#module:image)), or V(null) when
          no revision is active.
      type: dict
    revisions:
      description: Every revision, newest first.
      type: list
      elements: dict
      contains:
        id:
          description: Image ID.
          type: str
        status:
          description: Glance status.
          type: str
        runner_version:
          description: Runner version the revision holds.
          type: str
        inputs_digest:
          description: Digest of the build inputs.
          type: str
        built_at:
          description: When the revision was built.
          type: str
        current:
          description: Whether this is the current revision.
          type: bool
        in_use:
          description: Whether a server of the project uses it.
          type: bool
"""

from typing import Any

from ansible_collections.opensandbox.cloud.plugins.module_utils import _runner_build as rb
from ansible_collections.opensandbox.cloud.plugins.module_utils._kinds import IMAGE
from ansible_collections.opensandbox.cloud.plugins.module_utils._module import AnsibleOpenStackModule
from ansible_collections.opensandbox.cloud.plugins.module_utils._resources import to_dict
from ansible_collections.opensandbox.cloud.plugins.module_utils._runner_cloud import revision_summary, used_image_ids


def runner_images(views: list[dict[str, Any]], used: set[str]) -> list[dict[str, Any]]:
    """Group runner-image revisions by name: the current one and all of them."""
    by_name: dict[str, list[dict[str, Any]]] = {}
    for view in views:
        if rb.is_revision(view, view.get("name")):
            by_name.setdefault(view["name"], []).append(view)
    found = []
    for name in sorted(by_name):
        revisions = rb.newest_first(by_name[name])
        current = rb.current_revision(revisions, name)
        current_id = current["id"] if current else None
        found.append(
            {
                "name": name,
                "current": current,
                "revisions": [revision_summary(v, current_id, used) for v in revisions],
            }
        )
    return found


def main() -> None:
    module = AnsibleOpenStackModule(argument_spec={"name": {"type": "str"}})
    query = {"name": module.params["name"]} if module.params["name"] else {}
    views = [to_dict(IMAGE, image) for image in module.call(module.conn.image.images, **query) or []]
    module.exit_json(changed=False, images=runner_images(views, used_image_ids(module)))


if __name__ == "__main__":
    main()
