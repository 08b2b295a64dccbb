#!/usr/bin/python
# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cinder_volume
short_description: Manage the whole life of an OpenStack block storage (Cinder) volume
version_added: 0.1.0
description:
  - Creates a volume (empty, from an image, from a snapshot, as a clone of another volume or restored from a backup),
    grows it, changes its type, description, metadata and bootable flag, attaches it to a server and detaches it,
    keeps a declared set of snapshots and backups of it, and deletes it.
  - Only what differs from the wish is changed, each change with its own call; a second run reports C(changed=false).
  - In check mode nothing is changed and the returned volume is the one the run would make.
  - Failures say what went wrong in the cloud's own words, for example why a volume went to V(error).
author:
  - OpenSandbox contributors (@opensandbox)
options:
  name:
    description:
      - Name of the volume, or the ID of an existing one.
      - Two volumes with this name make the module fail with their IDs; use an ID then.
    type: str
    required: true
  state:
    description:
      - V(present) makes the volume exist as described; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  size:
    description:
      - Size in GiB. Required to create an empty volume; with a source it defaults to the source's size.
      - A larger size than the volume has extends it (also while it is attached).
      - A smaller size fails and changes nothing, because Cinder volumes cannot shrink.
    type: int
  description:
    description:
      - Description of the volume.
    type: str
  volume_type:
    description:
      - Volume type, by name or ID. A volume created without one gets the cloud's default type.
      - A different type than the volume has retypes it (see O(migration_policy)).
    type: str
  migration_policy:
    description:
      - Whether a retype may move the volume to another backend or pool when its new type needs one.
      - With V(never), a retype that needs a move fails with the cloud's reason and the volume keeps its type.
    type: str
    choices: [never, on-demand]
    default: never
  availability_zone:
    description:
      - Availability zone to create the volume in. It cannot change for an existing volume.
    type: str
  metadata:
    description:
      - Metadata keys and values to set on the volume. Values are stored as strings.
      - Other keys the volume has are kept unless O(purge_metadata=true).
    type: dict
  purge_metadata:
    description:
      - Remove the metadata keys that O(metadata) does not list.
    type: bool
    default: false
  bootable:
    description:
      - Whether the volume is marked bootable. Left as the cloud sets it when not given
        (a volume made from an image is bootable).
    type: bool
  image:
    description:
      - Image (name or ID) to create the volume from. Only used when the volume is created.
      - Mutually exclusive with O(snapshot), O(source_volume) and O(backup).
    type: str
  snapshot:
    description:
      - Volume snapshot (name or ID) to create the volume from. Only used when the volume is created.
    type: str
  source_volume:
    description:
      - Volume (name or ID) to clone. Only used when the volume is created.
    type: str
  backup:
    description:
      - Volume backup (name or ID) to restore into the new volume. Only used when the volume is created.
      - This is how a backup is restored; O(backups) makes backups.
    type: str
  attached_to:
    description:
      - Server (name or ID) the volume must be attached to. The module waits until the volume is V(in-use).
      - A volume attached to another server is detached from it first.
      - An empty string detaches the volume from every server; the module waits until it is V(available).
      - Not given, attachments are left as they are.
    type: str
  device:
    description:
      - Device name to ask for when attaching, for example V(/dev/vdb). The cloud may choose another one.
      - It is used only when the volume is attached; an existing attachment is not moved to another device.
    type: str
  snapshots:
    description:
      - Names of the snapshots of this volume to keep. Missing ones are created (of an attached volume too),
        in the order given, after any other change to the volume.
      - Snapshots not listed are left alone unless O(purge_snapshots=true).
    type: list
    elements: str
  purge_snapshots:
    description:
      - Delete the snapshots of this volume that O(snapshots) does not list.
    type: bool
    default: false
  backups:
    description:
      - Names of the backups of this volume to keep. Missing ones are created (full backups, of an attached volume
        too), after the snapshots.
      - Backups not listed are left alone unless O(purge_backups=true).
    type: list
    elements: str
  purge_backups:
    description:
      - Delete the backups of this volume that O(backups) does not list.
      - With O(state=absent), delete every backup of the volume before the volume. Without it, backups outlive their
        volume, as Cinder keeps them.
    type: bool
    default: false
  cascade:
    description:
      - With O(state=absent), delete the volume's snapshots with it.
      - Without it, deleting a volume that has snapshots fails, naming them, and changes nothing.
    type: bool
    default: false
notes:
  - With O(state=absent), an attached volume is detached from its servers first.
  - Steps wait for each other (an attachment waits for the new volume to be V(available)); O(wait=false) only skips
    waiting for a new volume when nothing else is to be done to it, and for a deleted one to be gone.
  - An attachment change waits (up to O(timeout)) for a volume in a passing status such as V(attaching) or V(detaching)
    to be V(available) or V(in-use) first; a volume stuck in one fails the module naming that status.
extends_documentation_fragment:
  - opensandbox.cloud.openstack
  - opensandbox.cloud.openstack.wait
  - opensandbox.cloud.attributes
  - opensandbox.cloud.attributes.actiongroup
  - opensandbox.cloud.attributes.stateful_module
seealso:
  - module: opensandbox.cloud.cinder_volume_info
  - module: opensandbox.cloud.cinder_volume_type
"""

EXAMPLES = r"""
- name: Create an empty 10 GiB volume
  opensandbox.cloud.cinder_volume:
    cloud: stacksim
    name: data
    size: 10
    metadata:
      team: blue

- name: Create a bootable volume from an image, attached to a server
  opensandbox.cloud.cinder_volume:
    cloud: stacksim
    name: root-disk
    image: cirros-0.6.2-x86_64-disk
    size: 2
    attached_to: web-1
    device: /dev/vdb

- name: Grow it, retype it, and keep two snapshots of it
  opensandbox.cloud.cinder_volume:
    cloud: stacksim
    name: root-disk
    size: 4
    volume_type: fast
    migration_policy: on-demand
    snapshots: [before-upgrade, nightly]

- name: Clone a volume
  opensandbox.cloud.cinder_volume:
    cloud: stacksim
    name: root-disk-copy
    source_volume: root-disk

- name: Create a volume from a snapshot
  opensandbox.cloud.cinder_volume:
    cloud: stacksim
    name: root-disk-restored
    snapshot: before-upgrade

- name: Back a volume up, and restore the backup into a new volume
  block:
    - name: Keep one backup of data
      opensandbox.cloud.cinder_volume:
        cloud: stacksim
        name: data
        backups: [data-weekly]

    - name: Restore it
      opensandbox.cloud.cinder_volume:
        cloud: stacksim
        name: data-restored
        backup: data-weekly

- name: Detach a volume
  opensandbox.cloud.cinder_volume:
    cloud: stacksim
    name: root-disk
    attached_to: ""

- name: Delete a volume with its snapshots and backups
  opensandbox.cloud.cinder_volume:
    cloud: stacksim
    name: root-disk
    state: absent
    cascade: true
    purge_backups: true
"""

RETURN = r"""
volume:
  description:
    - The volume after the run; in check mode, the volume the run would make (an ID of V(null) for a new one).
    - V(null) when O(state=absent).
  returned: always
  type: dict
  contains:
    id:
      description: Volume ID.
      type: str
      sample: 3d6d3f1e-8c1b-4f8e-9c57-6f5b0c8f7a2e
    name:
      description: Volume name.
      type: str
      sample: data
    description:
      description: Volume description.
      type: str
    size:
      description: Size in GiB.
      type: int
      sample: 10
    status:
      description: Status, for example V(available) or V(in-use).
      type: str
      sample: available
    volume_type:
      description: Name of the volume type.
      type: str
      sample: __DEFAULT__
    availability_zone:
      description: Availability zone.
      type: str
      sample: nova
    bootable:
      description: Whether the volume is marked bootable.
      type: bool
    multiattach:
      description: Whether the volume may be attached to several servers (set by its type).
      type: bool
    encrypted:
      description: Whether the volume is encrypted.
      type: bool
    metadata:
      description: Metadata keys and values.
      type: dict
      sample: {team: blue}
    image_id:
      description: ID of the image the volume was made from, if any.
      type: str
    snapshot_id:
      description: ID of the snapshot the volume was made from, if any.
      type: str
    source_volume_id:
      description: ID of the volume this one is a clone of, if any.
      type: str
    attachments:
      description: The volume's attachments, sorted by server ID.
      type: list
      elements: dict
      contains:
        server_id:
          description: ID of the server.
          type: str
        device:
          description: Device the server sees the volume as.
          type: str
          sample: /dev/vdb
        attachment_id:
          description: ID of the attachment.
          type: str
        attached_at:
          description: When it was attached.
          type: str
    attached_to:
      description:
        - ID of the server the volume is attached to, V(null) when it is detached.
        - For a multiattach volume on several servers, their IDs joined by commas.
      type: str
    pool:
      description: Backend pool that holds the volume; shown to admins only (else V(null)).
      type: str
      sample: pool-a
    project_id:
      description: ID of the project that owns the volume.
      type: str
    snapshots:
      description: The volume's snapshots, sorted by name.
      type: list
      elements: dict
      contains:
        id:
          description: Snapshot ID (V(null) for one check mode would create).
          type: str
        name:
          description: Snapshot name.
          type: str
        status:
          description: Snapshot status.
          type: str
        size:
          description: Size in GiB.
          type: int
    backups:
      description: The volume's backups, sorted by name.
      type: list
      elements: dict
      contains:
        id:
          description: Backup ID (V(null) for one check mode would create).
          type: str
        name:
          description: Backup name.
          type: str
        status:
          description: Backup status.
          type: str
        size:
          description: Size in GiB.
          type: int
    created_at:
      description: When the volume was created.
      type: str
    updated_at:
      description: When the volume last changed.
      type: str
diff:
  description: The volume before and after the run (C({}) for one that does not exist), without RV(volume.updated_at).
  returned: always
  type: dict
  contains:
    before:
      description: The volume before the run.
      type: dict
    after:
      description: The volume after the run.
      type: dict
"""

from typing import Any

from ansible_collections.opensandbox.cloud.plugins.module_utils._kinds import (
    BACKUP,
    IMAGE,
    SERVER,
    SNAPSHOT,
    VOLUME,
    VOLUME_TYPE,
    attached_servers,
)
from ansible_collections.opensandbox.cloud.plugins.module_utils._module import AnsibleOpenStackModule
from ansible_collections.opensandbox.cloud.plugins.module_utils._resources import find, not_found, to_dict
from ansible_collections.opensandbox.cloud.plugins.module_utils._state import (
    StateResult,
    ensure_absent,
    ensure_named_set,
    ensure_present,
)
from ansible_collections.opensandbox.cloud.plugins.module_utils._wait import (
    is_failure_status,
    wait_for,
    wait_for_delete,
)

SETTLED = ("available", "in-use")
CHILD_FIELDS = ("id", "name", "status", "size")

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "name": {"type": "str", "required": True},
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    "size": {"type": "int"},
    "description": {"type": "str"},
    "volume_type": {"type": "str"},
    "migration_policy": {"type": "str", "default": "never", "choices": ["never", "on-demand"]},
    "availability_zone": {"type": "str"},
    "metadata": {"type": "dict"},
    "purge_metadata": {"type": "bool", "default": False},
    "bootable": {"type": "bool"},
    "image": {"type": "str"},
    "snapshot": {"type": "str"},
    "source_volume": {"type": "str"},
    "backup": {"type": "str"},
    "attached_to": {"type": "str"},
    "device": {"type": "str"},
    "snapshots": {"type": "list", "elements": "str"},
    "purge_snapshots": {"type": "bool", "default": False},
    "backups": {"type": "list", "elements": "str"},
    "purge_backups": {"type": "bool", "default": False},
    "cascade": {"type": "bool", "default": False},
}
SOURCES = ("image", "snapshot", "source_volume", "backup")


def child_view(item: Any) -> dict[str, Any]:
    return {key: getattr(item, key, None) for key in CHILD_FIELDS}


def same_attachment(have: Any, want: Any) -> bool:
    return (have or "") == want


class Volumes:
    """One run of the module: the wish in ``params``, the cloud behind ``module``."""

    def __init__(self, module: AnsibleOpenStackModule) -> None:
        self.module = module
        self.p = module.params
        self.cinder = module.conn.block_storage
        self.compute = module.conn.compute

    # -- views ---------------------------------------------------------------------------------

    @staticmethod
    def view(volume: Any) -> dict[str, Any]:
        """The volume as RETURN documents it, without its snapshots and backups (folded in later)."""
        return to_dict(VOLUME, volume)

    def full_view(self, volume: Any) -> dict[str, Any]:
        view = self.view(volume)
        view["snapshots"] = self.children_view(self.snapshots_of(volume))
        view["backups"] = self.children_view(self.backups_of(volume))
        return view

    @staticmethod
    def children_view(items: list[Any]) -> list[dict[str, Any]]:
        return sorted((child_view(i) for i in items), key=lambda c: (c["name"] or "", c["id"] or ""))

    def snapshots_of(self, volume: Any) -> list[Any]:
        if volume is None or volume.id is None:
            return []
        return self.module.call(self.cinder.snapshots, volume_id=volume.id)

    def backups_of(self, volume: Any) -> list[Any]:
        if volume is None or volume.id is None:
            return []
        return self.module.call(self.cinder.backups, volume_id=volume.id)

    # -- present ---------------------------------------------------------------------------------

    def present(self, volume: Any) -> StateResult:
        p = self.p
        if volume is not None and p["size"] is not None and p["size"] < volume.size:
            self.module.fail_json(
                msg=f"{VOLUME.label(volume)} is {volume.size} GiB and cannot shrink to {p['size']} GiB (Cinder only "
                f"extends volumes); set size to {volume.size} or more, or make a new volume"
            )
        if volume is None and p["size"] is None and not any(p[s] for s in SOURCES):
            self.module.fail_json(
                msg=f"size is needed to create the volume {p['name']!r}; give it, or one of image, snapshot, "
                "source_volume or backup to create the volume from"
            )
        wish = {
            "name": p["name"] if volume is None else None,  # the name is the volume's identity, never changed
            "size": p["size"],
            "description": p["description"],
            "volume_type": self.type_name(),
            "availability_zone": p["availability_zone"],
            "bootable": p["bootable"],
            "metadata": self.wished_metadata(volume),
            "attached_to": self.wished_server(),
        }
        sources = self.sources() if volume is None else {}
        result = ensure_present(
            self.module,
            VOLUME,
            volume,
            wish,
            create=lambda w: self.create(w, sources),
            updates={
                "description": lambda v, ch: self.module.call(self.cinder.update_volume, v, **ch),
                "metadata": self.set_metadata,
                "bootable": lambda v, ch: self.module.call(self.cinder.set_volume_bootable_status, v, ch["bootable"]),
                "volume_type": self.retype,
                "size": self.extend,
                "attached_to": self.attach,
            },
            view=self.view,
            equal={"attached_to": same_attachment},
        )
        if self.module.check_mode and result.changed and wish["attached_to"] is not None:
            predict_attachment(result.after, wish["attached_to"], p["device"])
        resource = result.resource
        self.fold_children(result, "snapshots", SNAPSHOT, self.snapshots_of, resource, self.snapshot_ops(resource))
        self.fold_children(result, "backups", BACKUP, self.backups_of, resource, self.backup_ops(resource))
        return result

    def fold_children(self, result: StateResult, key: str, kind: Any, lister: Any, volume: Any, ops: Any) -> None:
        """Make the volume's snapshots (or backups) match the wished names; add them to the result."""
        wanted, purge, create, delete = ops
        existing = lister(volume)
        before = self.children_view(existing)
        if wanted is None:
            result.fold(key, before, before)
            return
        outcome = ensure_named_set(self.module, existing, wanted, create=create, delete=delete, purge=purge)
        if self.module.check_mode:
            kept = [c for c in before if c["name"] not in outcome.deleted]
            new = [dict.fromkeys(CHILD_FIELDS, None) | {"name": n} for n in outcome.created]
            after = sorted(kept + new, key=lambda c: (c["name"] or "", c["id"] or ""))
        else:
            after = self.children_view(lister(volume))
        result.fold(key, before, after, [f"{verb} {kind.name} {name}" for verb, name in _verbs(outcome)])

    def snapshot_ops(self, volume: Any) -> tuple[Any, bool, Any, Any]:
        ops = self.child_ops(volume, SNAPSHOT, self.cinder.create_snapshot, self.cinder.delete_snapshot)
        return (self.p["snapshots"], self.p["purge_snapshots"], *ops)

    def backup_ops(self, volume: Any) -> tuple[Any, bool, Any, Any]:
        ops = self.child_ops(volume, BACKUP, self.cinder.create_backup, self.cinder.delete_backup)
        return (self.p["backups"], self.p["purge_backups"], *ops)

    def child_ops(self, volume: Any, kind: Any, create_call: Any, delete_call: Any) -> tuple[Any, Any]:
        """How to make (and wait for) a snapshot or backup of ``volume`` by name, and delete one."""

        def create(name: str) -> None:
            made = self.module.call(create_call, **self.child_args(volume, name))
            wait_for(self.module, kind, made, ready={"available"}, cleanup=delete_call)

        def delete(item: Any) -> None:
            self.module.call(delete_call, item)
            wait_for_delete(self.module, kind, item)

        return create, delete

    def child_args(self, volume: Any, name: str) -> dict[str, Any]:
        """Snapshot and backup arguments; ``force`` lets Cinder copy a volume that is attached."""
        current = self.module.call(self.cinder.get_volume, volume.id)
        args: dict[str, Any] = {"volume_id": volume.id, "name": name}
        if current.status == "in-use":
            args["force"] = True
        return args

    # -- the wish --------------------------------------------------------------------------------

    def type_name(self) -> str | None:
        ref = self.p["volume_type"]
        if ref is None:
            return None
        return find(self.module, VOLUME_TYPE, ref, required=True).name

    def wished_metadata(self, volume: Any) -> dict[str, str] | None:
        given = self.p["metadata"]
        if given is None:
            return None
        wanted = {str(k): str(v) for k, v in given.items()}
        if self.p["purge_metadata"] or volume is None:
            return wanted
        return {**(volume.metadata or {}), **wanted}

    def wished_server(self) -> str | None:
        ref = self.p["attached_to"]
        if ref is None or ref == "":
            return ref
        server = find(self.module, SERVER, ref)
        if server is None:
            not_found(self.module, SERVER, ref, "attached_to")
        return server.id

    def sources(self) -> dict[str, Any]:
        p = self.p
        if p["image"]:
            return {"image_id": find(self.module, IMAGE, p["image"], required=True).id}
        if p["snapshot"]:
            return {"snapshot_id": find(self.module, SNAPSHOT, p["snapshot"], required=True).id}
        if p["source_volume"]:
            return {"source_volume_id": find(self.module, VOLUME, p["source_volume"], required=True).id}
        if p["backup"]:
            return {"backup_id": find(self.module, BACKUP, p["backup"], required=True).id}
        return {}

    # -- changes ---------------------------------------------------------------------------------

    def create(self, wish: dict[str, Any], sources: dict[str, Any]) -> Any:
        p = self.p
        args = {key: wish[key] for key in ("name", "size", "description", "volume_type", "availability_zone")}
        args["metadata"] = wish["metadata"]
        args.update(sources)
        args = {k: v for k, v in args.items() if v is not None}
        made = self.module.call(self.cinder.create_volume, **args)
        follow_up = p["bootable"] is not None or p["attached_to"] or p["snapshots"] or p["backups"]
        if not (p["wait"] or follow_up):
            return made
        made = wait_for(self.module, VOLUME, made, ready={"available"}, cleanup=self.cinder.delete_volume)
        if p["bootable"] is not None and bool(made.is_bootable) != p["bootable"]:
            self.module.call(self.cinder.set_volume_bootable_status, made, p["bootable"])
        if wish["attached_to"]:
            made = self.attach(made, {"attached_to": wish["attached_to"]})
        return self.module.call(self.cinder.get_volume, made.id)

    def set_metadata(self, volume: Any, changes: dict[str, Any]) -> None:
        wanted = changes["metadata"]
        have = volume.metadata or {}
        changed = {k: v for k, v in wanted.items() if have.get(k) != v}
        removed = sorted(k for k in have if k not in wanted)
        # Removals first: after a set, the SDK's copy holds only the keys it set, and its
        # removal of another key then fails on that copy (a KeyError, after the call succeeded).
        if removed:
            self.module.call(self.cinder.delete_volume_metadata, volume, keys=removed)
        if changed:
            self.module.call(self.cinder.set_volume_metadata, volume, **changed)

    def retype(self, volume: Any, changes: dict[str, Any]) -> Any:
        new_type = changes["volume_type"]
        self.module.call_retrying_conflict(
            self.cinder.retype_volume, volume, new_type, migration_policy=self.p["migration_policy"]
        )

        def retyped(v: Any) -> bool:
            return v.volume_type == new_type and v.status in SETTLED

        def refused(v: Any) -> bool:
            # Cinder puts a refused retype back to its old status, keeping the old type, with a user message.
            return is_failure_status(v.status) or (v.status in SETTLED and v.volume_type != new_type)

        return wait_for(self.module, VOLUME, volume, ready=retyped, failed=refused, what=f"be retyped to {new_type!r}")

    def extend(self, volume: Any, changes: dict[str, Any]) -> Any:
        size = changes["size"]
        self.module.call_retrying_conflict(self.cinder.extend_volume, volume, size)
        return wait_for(
            self.module,
            VOLUME,
            volume,
            ready=lambda v: v.size == size and v.status in SETTLED,
            what=f"be extended to {size} GiB",
        )

    def attach(self, volume: Any, changes: dict[str, Any]) -> Any:
        """Detach from the servers other than the wished one, then attach to it if needed."""
        want = changes["attached_to"]
        if volume.status not in SETTLED and set(attached_servers(volume)) != ({want} if want else set()):
            # A volume in the middle of something (attaching, detaching ...) refuses attachment changes: wait
            # for it to settle, so a stuck one times out naming its status rather than failing on Nova's 400.
            goal = f"it is attached to server {want}" if want else "it is detached"
            volume = wait_for(
                self.module,
                VOLUME,
                volume,
                ready=lambda v: v.status in SETTLED,
                what=f"be available or in-use before {goal}",
            )
        for server_id in attached_servers(volume):
            if server_id == want:
                continue
            self.module.call_retrying_conflict(self.compute.delete_volume_attachment, server_id, volume)
            volume = wait_for(
                self.module,
                VOLUME,
                volume,
                ready=lambda v, s=server_id: s not in attached_servers(v) and v.status in SETTLED,
                what=f"be detached from server {server_id}",
            )
        if want and want not in attached_servers(volume):
            attrs = {"device": self.p["device"]} if self.p["device"] else {}
            self.module.call_retrying_conflict(self.compute.create_volume_attachment, want, volume=volume, **attrs)
            volume = wait_for(
                self.module,
                VOLUME,
                volume,
                ready=lambda v: want in attached_servers(v) and v.status == "in-use",
                what=f"be attached to server {want}",
            )
        return volume

    # -- absent ----------------------------------------------------------------------------------

    def absent(self, volume: Any) -> StateResult:
        if volume is None:
            return StateResult(False, None, None)
        snapshots = self.snapshots_of(volume)
        if snapshots and not self.p["cascade"]:
            names = ", ".join(sorted(s.name or s.id for s in snapshots))
            self.module.fail_json(
                msg=f"{VOLUME.label(volume)} has {len(snapshots)} snapshot(s) ({names}); set cascade: true to delete "
                "them with it, or delete them first (snapshots: [] with purge_snapshots: true)"
            )

        def delete(current: Any) -> None:
            if self.p["purge_backups"]:
                _create, delete_backup = self.child_ops(
                    current, BACKUP, self.cinder.create_backup, self.cinder.delete_backup
                )
                for backup in self.backups_of(current):
                    delete_backup(backup)
            if attached_servers(current):
                current = self.attach(current, {"attached_to": ""})
            self.module.call_retrying_conflict(self.cinder.delete_volume, current, cascade=self.p["cascade"])

        return ensure_absent(self.module, VOLUME, volume, delete=delete, view=self.full_view)


def predict_attachment(after: dict[str, Any], server_id: str, device: str | None) -> None:
    """Check mode's view of the attachments once ``attached_to`` is applied ("" detaches)."""
    kept = [a for a in after.get("attachments") or [] if server_id and a.get("server_id") == server_id]
    if server_id and not kept:
        kept = [{"server_id": server_id, "device": device, "attachment_id": None, "attached_at": None}]
    after["attachments"] = kept
    after["attached_to"] = server_id or None
    if after.get("status") in (None, *SETTLED):
        after["status"] = "in-use" if kept else "available"


def _verbs(outcome: Any) -> list[tuple[str, str]]:
    return [("create", n) for n in outcome.created] + [("delete", n) for n in outcome.deleted]


def main() -> None:
    module = AnsibleOpenStackModule(
        ARGUMENT_SPEC,
        with_wait=True,
        mutually_exclusive=[SOURCES],
        required_if=[("purge_snapshots", True, ("snapshots",))],
        required_by={"device": "attached_to"},
        supports_check_mode=True,
    )
    if module.params["state"] == "present" and module.params["purge_backups"] and module.params["backups"] is None:
        module.fail_json(msg="purge_backups with state: present needs backups (the names to keep; [] keeps none)")
    volumes = Volumes(module)
    volume = find(module, VOLUME, module.params["name"])
    result = volumes.absent(volume) if module.params["state"] == "absent" else volumes.present(volume)
    module.exit_json(**result.exit_kwargs("volume"))


if __name__ == "__main__":
    main()
