#!/usr/bin/python
# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cinder_volume_info
short_description: List OpenStack block storage (Cinder) volumes, snapshots, backups, types and pools
version_added: 0.1.0
description:
  - Lists the volumes, volume snapshots and volume backups the credentials may see, the volume types,
    and the backend pools with their capacity.
  - The pools are shown to admins only; for others RV(pools) is empty.
author:
  - OpenSandbox contributors (@opensandbox)
options:
  name:
    description:
      - Only this volume (name or ID), its snapshots and its backups.
      - A name that matches no volume gives empty lists; one that matches several fails with their IDs.
    type: str
  all_projects:
    description:
      - List the volumes, snapshots and backups of every project (admins only).
    type: bool
    default: false
extends_documentation_fragment:
  - opensandbox.cloud.openstack
  - opensandbox.cloud.attributes
  - opensandbox.cloud.attributes.actiongroup
  - opensandbox.cloud.attributes.info_module
seealso:
  - module: opensandbox.cloud.cinder_volume
  - module: opensandbox.cloud.cinder_volume_type
"""

EXAMPLES = r"""
- name: Everything the demo project has
  opensandbox.cloud.cinder_volume_info:
    cloud: stacksim
  register: storage

- name: One volume with its snapshots and backups
  opensandbox.cloud.cinder_volume_info:
    cloud: stacksim
    name: data
  register: data

- name: Free space in each pool
  opensandbox.cloud.cinder_volume_info:
    cloud: stacksim-admin
  register: admin_storage

- name: Show it
  ansible.builtin.debug:
    msg: "{{ admin_storage.pools | items2dict(key_name='pool', value_name='free_capacity_gb') }}"
"""

RETURN = r"""
volumes:
  description: The volumes, sorted by name; each as RV(opensandbox.cloud.cinder_volume#module:volume) describes it
    (without its snapshots and backups, which are listed apart).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Volume ID.
      type: str
    name:
      description: Volume name.
      type: str
    size:
      description: Size in GiB.
      type: int
    status:
      description: Status.
      type: str
    volume_type:
      description: Name of the volume type.
      type: str
    attached_to:
      description: ID of the server it is attached to (comma-separated for several), V(null) when detached.
      type: str
    attachments:
      description: Its attachments (server_id, device, attachment_id, attached_at).
      type: list
      elements: dict
    bootable:
      description: Whether it is marked bootable.
      type: bool
    metadata:
      description: Its metadata.
      type: dict
    pool:
      description: The pool that holds it (admins only).
      type: str
snapshots:
  description: The volume snapshots, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Snapshot ID.
      type: str
    name:
      description: Snapshot name.
      type: str
    description:
      description: Snapshot description.
      type: str
    size:
      description: Size in GiB.
      type: int
    status:
      description: Status.
      type: str
    volume_id:
      description: ID of the volume it is a snapshot of.
      type: str
    metadata:
      description: Its metadata.
      type: dict
    created_at:
      description: When it was taken.
      type: str
    updated_at:
      description: When it last changed.
      type: str
backups:
  description: The volume backups, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Backup ID.
      type: str
    name:
      description: Backup name.
      type: str
    description:
      description: Backup description.
      type: str
    size:
      description: Size in GiB of the volume backed up.
      type: int
    status:
      description: Status.
      type: str
    volume_id:
      description: ID of the volume backed up.
      type: str
    snapshot_id:
      description: ID of the snapshot backed up, if any.
      type: str
    incremental:
      description: Whether it is an incremental backup.
      type: bool
    has_dependent_backups:
      description: Whether incremental backups depend on it.
      type: bool
    availability_zone:
      description: Availability zone of the backup service.
      type: str
    container:
      description: Container that holds the backup data.
      type: str
    fail_reason:
      description: Why the backup failed, if it did.
      type: str
    created_at:
      description: When it was made.
      type: str
    updated_at:
      description: When it last changed.
      type: str
volume_types:
  description: The volume types the credentials may use, sorted by name (admins see every type and all extra specs).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Type ID.
      type: str
    name:
      description: Type name.
      type: str
    description:
      description: Type description.
      type: str
    is_public:
      description: Whether every project may use it.
      type: bool
    extra_specs:
      description: Its extra specs (for non-admins, only the user-visible ones).
      type: dict
pools:
  description: The backend pools with their capacity, sorted by name; empty unless the credentials are an admin's.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Cinder's name of the pool, C(host@backend#pool).
      type: str
      sample: stacksim@lvm#pool-a
    backend:
      description: The backend's name (C(volume_backend_name)).
      type: str
      sample: lvm
    pool:
      description: The pool's name.
      type: str
      sample: pool-a
    total_capacity_gb:
      description: Capacity in GiB.
      type: float
      sample: 100
    free_capacity_gb:
      description: Free space in GiB.
      type: float
      sample: 90
    allocated_capacity_gb:
      description: GiB allocated to volumes.
      type: float
      sample: 10
    provisioned_capacity_gb:
      description: GiB provisioned (as thin provisioning counts them).
      type: float
    storage_protocol:
      description: How servers reach the volumes, for example V(iSCSI).
      type: str
    thin_provisioning_support:
      description: Whether the pool provisions thinly.
      type: bool
    multiattach:
      description: Whether the pool supports multiattach volumes.
      type: bool
    capabilities:
      description: Every capability the scheduler reports for the pool.
      type: dict
"""

from typing import Any

from ansible_collections.opensandbox.cloud.plugins.module_utils._kinds import BACKUP, SNAPSHOT, VOLUME, VOLUME_TYPE
from ansible_collections.opensandbox.cloud.plugins.module_utils._module import AnsibleOpenStackModule
from ansible_collections.opensandbox.cloud.plugins.module_utils._resources import find, plain, to_dict

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "name": {"type": "str"},
    "all_projects": {"type": "bool", "default": False},
}


def by_name(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda i: (i.get("name") or "", i.get("id") or ""))


def pool_view(pool: Any) -> dict[str, Any]:
    caps = plain(pool.capabilities or {})
    return {
        "name": pool.name,
        "backend": caps.get("volume_backend_name"),
        "pool": caps.get("pool_name") or (pool.name or "").partition("#")[2] or None,
        "total_capacity_gb": caps.get("total_capacity_gb"),
        "free_capacity_gb": caps.get("free_capacity_gb"),
        "allocated_capacity_gb": caps.get("allocated_capacity_gb"),
        "provisioned_capacity_gb": caps.get("provisioned_capacity_gb"),
        "storage_protocol": caps.get("storage_protocol"),
        "thin_provisioning_support": caps.get("thin_provisioning_support"),
        "multiattach": caps.get("multiattach"),
        "capabilities": caps,
    }


def main() -> None:
    module = AnsibleOpenStackModule(ARGUMENT_SPEC, supports_check_mode=True)
    cinder = module.conn.block_storage
    scope = {"all_projects": True} if module.params["all_projects"] else {}
    if module.params["name"]:
        volume = find(module, VOLUME, module.params["name"], **scope)
        volumes = [volume] if volume else []
        snapshots = module.call(cinder.snapshots, volume_id=volume.id, **scope) if volume else []
        backups = module.call(cinder.backups, volume_id=volume.id, **scope) if volume else []
    else:
        volumes = module.call(cinder.volumes, **scope)
        snapshots = module.call(cinder.snapshots, **scope)
        backups = module.call(cinder.backups, **scope)
    pools = module.call_tolerating((403,), cinder.backend_pools) or []
    module.exit_json(
        changed=False,
        volumes=by_name([to_dict(VOLUME, v) for v in volumes]),
        snapshots=by_name([to_dict(SNAPSHOT, s) for s in snapshots]),
        backups=by_name([to_dict(BACKUP, b) for b in backups]),
        volume_types=by_name([to_dict(VOLUME_TYPE, t) for t in module.call(cinder.types, **VOLUME_TYPE.list_query)]),
        pools=sorted((pool_view(p) for p in pools), key=lambda p: p["name"] or ""),
    )


if __name__ == "__main__":
    main()
