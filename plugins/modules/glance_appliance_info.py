#!/usr/bin/python
# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: glance_appliance_info
short_description: List the appliances and image lists in Glance, per project
version_added: 0.1.0
description:
  - Finds the Glance images that carry appliance properties (C(APPLIANCE_ID) and the other
    C(APPLIANCE_*) properties written by M(opensandbox.cloud.glance_appliance) or by Cloudkeeper-OS)
    and rebuilds each appliance from them.
  - Reports every appliance image, the image lists they come from and, per project, which
    lists and appliances it holds.
  - With a project member's credentials it sees that project's images and public ones; admin
    credentials see every project's.
author:
  - OpenSandbox contributors (@opensandbox)
options:
  image_list_identifier:
    description: Only appliances of this image list.
    type: str
  identifier:
    description: Only this appliance.
    type: str
  vo:
    description: Only appliances of this VO.
    type: str
  project:
    description: Only images owned by this project (name or id).
    type: str
  status:
    description: Only V(ACTIVE) or only V(EOL) (retired or superseded) appliance images.
    type: str
    choices: [ACTIVE, EOL]
extends_documentation_fragment:
  - opensandbox.cloud.openstack
  - opensandbox.cloud.attributes
  - opensandbox.cloud.attributes.actiongroup
  - opensandbox.cloud.attributes.info_module
"""

EXAMPLES = r"""
- name: Everything the cloud holds from image lists
  opensandbox.cloud.glance_appliance_info:
    cloud: mycloud-admin
  register: appliances

- name: Show, per project, which image lists it holds
  ansible.builtin.debug:
    msg: "{{ item.name }}: {{ item.image_lists | join(', ') }}"
  loop: "{{ appliances.projects }}"

- name: The ACTIVE appliances of one image list
  opensandbox.cloud.glance_appliance_info:
    cloud: mycloud
    image_list_identifier: 76fdee70-8119-5d33-aaaa-3c57e1c60df1
    status: ACTIVE
  register: current
"""

RETURN = r"""
appliances:
  description:
    - Every appliance image found, oldest first within an appliance, with the appliance rebuilt from
      its properties.
  returned: always
  type: list
  elements: dict
  contains:
    identifier:
      description: The appliance's identifier (C(APPLIANCE_ID)).
      type: str
    image_list_identifier:
      description: The image list it comes from (C(APPLIANCE_IMAGE_LIST_ID)).
      type: str
    status:
      description: V(ACTIVE), or V(EOL) for a retired or superseded image.
      type: str
    title:
      description: Title.
      type: str
    description:
      description: Description.
      type: str
    version:
      description: Version.
      type: str
    vo:
      description: VO.
      type: str
    mpuri:
      description: Marketplace URI.
      type: str
    group:
      description: Group.
      type: str
    ram:
      description: Minimum memory in MiB.
      type: int
    core:
      description: Minimum CPU cores.
      type: int
    architecture:
      description: CPU architecture.
      type: str
    operating_system:
      description: Operating system.
      type: str
    expiration_date:
      description: When it expires (ISO 8601, UTC), or null.
      type: str
    attributes:
      description: Further attributes.
      type: dict
    base_mpuri:
      description: Marketplace URI of the base appliance.
      type: str
    appid:
      description: AppDB application id.
      type: str
    digest:
      description: Digest of the appliance's metadata.
      type: str
    image_id:
      description: The Glance image.
      type: str
    image_name:
      description: Its name.
      type: str
    image_status:
      description: Glance's status of the image, for example V(active).
      type: str
    project_id:
      description: The project that owns it.
      type: str
    visibility:
      description: Its visibility.
      type: str
    disk_format:
      description: Its disk format.
      type: str
    container_format:
      description: Its container format.
      type: str
    size:
      description: Its size in bytes.
      type: int
    min_ram:
      description: Its C(min_ram) in MiB.
      type: int
    created_at:
      description: When it was created.
      type: str
image_lists:
  description: The image lists the appliances come from.
  returned: always
  type: list
  elements: dict
  contains:
    identifier:
      description: The list's identifier; empty for appliances managed one by one without a list.
      type: str
    vos:
      description: The VOs of its appliances.
      type: list
      elements: str
    project_ids:
      description: The projects holding its images.
      type: list
      elements: str
    appliances:
      description: The identifiers of its appliances that have an V(ACTIVE) image.
      type: list
      elements: str
    retired:
      description: The identifiers of its appliances that have only V(EOL) images.
      type: list
      elements: str
projects:
  description: Per project holding appliance images, its image lists and appliances.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The project's id.
      type: str
    name:
      description: The project's name, when these credentials may read it.
      type: str
    image_lists:
      description: Identifiers of the image lists with images in this project.
      type: list
      elements: str
    appliances:
      description: Identifiers of the appliances with an V(ACTIVE) image in this project.
      type: list
      elements: str
    images:
      description: Number of appliance images in the project, V(ACTIVE) and V(EOL).
      type: int
"""

from collections.abc import Mapping, Sequence
from typing import Any

from ansible_collections.opensandbox.cloud.plugins.module_utils._appliance import ACTIVE
from ansible_collections.opensandbox.cloud.plugins.module_utils._appliance_glance import (
    ApplianceCloud,
    only_scope,
)
from ansible_collections.opensandbox.cloud.plugins.module_utils._appliance_sync import image_record, record_order
from ansible_collections.opensandbox.cloud.plugins.module_utils._module import AnsibleOpenStackModule

ARGUMENT_SPEC = {
    "image_list_identifier": {"type": "str"},
    "identifier": {"type": "str"},
    "vo": {"type": "str"},
    "project": {"type": "str"},
    "status": {"type": "str", "choices": ["ACTIVE", "EOL"]},
}


def summarize(records: Sequence[Mapping[str, Any]], names: Mapping[str, str]) -> dict[str, list[dict[str, Any]]]:
    """The image lists and the projects of appliance records (pure)."""
    lists: dict[str, dict[str, Any]] = {}
    projects: dict[str, dict[str, Any]] = {}
    for record in records:
        list_id = str(record.get("image_list_identifier") or "")
        entry = lists.setdefault(list_id, {"vos": set(), "project_ids": set(), "active": set(), "all": set()})
        entry["all"].add(record["identifier"])
        if record.get("vo"):
            entry["vos"].add(record["vo"])
        if record.get("project_id"):
            entry["project_ids"].add(record["project_id"])
        project = projects.setdefault(str(record.get("project_id")), {"lists": set(), "active": set(), "images": 0})
        project["lists"].add(list_id)
        project["images"] += 1
        if record["status"] == ACTIVE:
            entry["active"].add(record["identifier"])
            project["active"].add(record["identifier"])
    return {
        "image_lists": [
            {
                "identifier": list_id,
                "vos": sorted(entry["vos"]),
                "project_ids": sorted(entry["project_ids"]),
                "appliances": sorted(entry["active"]),
                "retired": sorted(entry["all"] - entry["active"]),
            }
            for list_id, entry in sorted(lists.items())
        ],
        "projects": [
            {
                "id": pid,
                "name": names.get(pid),
                "image_lists": sorted(project["lists"]),
                "appliances": sorted(project["active"]),
                "images": project["images"],
            }
            for pid, project in sorted(projects.items())
        ],
    }


def project_names(module: AnsibleOpenStackModule) -> dict[str, str]:
    """Project names by id: every project's for those who may list them, else the token's own."""
    listed = module.call_tolerating((403,), module.conn.identity.projects)
    if listed is None:
        return {str(module.access.project_id): str(module.access.project_name)}
    return {str(p.id): str(p.name) for p in listed}


def main() -> None:
    module = AnsibleOpenStackModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    cloud = ApplianceCloud(module)
    owner = cloud.project_id(params["project"]) if params["project"] else None
    images = cloud.images(**({"owner": owner} if owner else {}))
    records = [
        image_record(image) for image in only_scope(images, params["identifier"], params["image_list_identifier"])
    ]
    records = [
        r
        for r in records
        if (not params["vo"] or r["vo"] == params["vo"])
        and (not owner or r["project_id"] == owner)
        and (not params["status"] or r["status"] == params["status"])
    ]
    records.sort(key=record_order)
    module.exit_json(changed=False, appliances=records, **summarize(records, project_names(module)))


if __name__ == "__main__":
    main()
