#!/usr/bin/python
# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cinder_volume_type
short_description: Manage OpenStack block storage (Cinder) volume types, their extra specs, QoS and access
version_added: 0.1.0
description:
  - Creates, updates and deletes a volume type with its extra specs, the backend and pool its volumes go to,
    its QoS specs (created and associated) and, for a private type, the projects that may use it.
  - Only what differs is changed, each with its own call; a second run reports C(changed=false).
  - Managing volume types needs the V(admin) role.
author:
  - OpenSandbox contributors (@opensandbox)
options:
  name:
    description:
      - Name of the volume type, or the ID of an existing one.
    type: str
    required: true
  state:
    description:
      - V(present) makes the type exist as described; V(absent) deletes it.
      - A type that volumes still use cannot be deleted; the module fails with the cloud's message.
    type: str
    choices: [present, absent]
    default: present
  description:
    description:
      - Description of the type.
    type: str
  is_public:
    description:
      - Whether every project may use the type. A new type is public unless this is V(false).
      - A private type is usable by the projects in O(projects) (and by admins).
    type: bool
  extra_specs:
    description:
      - Extra specs to set, for example V(volume_backend_name) or a driver's capabilities.
        Values are stored as strings.
      - Other extra specs the type has are kept unless O(purge_extra_specs=true).
    type: dict
  purge_extra_specs:
    description:
      - Remove the extra specs that O(extra_specs), O(backend), O(pool) and O(multiattach) do not set.
    type: bool
    default: false
  backend:
    description:
      - Backend its volumes are created on (the C(volume_backend_name) extra spec), for example V(lvm).
    type: str
  pool:
    description:
      - Pool of the backend its volumes are created in (the C(pool_name) extra spec), for example V(pool-a).
    type: str
  multiattach:
    description:
      - Whether volumes of this type may be attached to several servers at once (the C(multiattach) extra spec).
    type: bool
  qos_specs:
    description:
      - QoS specs to associate with the type. They are created if missing, and their consumer and keys are made
        to match.
      - QoS specs are shared objects; changing them changes them for every type associated with them.
      - With O(state=absent), the QoS specs named here are deleted too once no other type uses them.
    type: dict
    suboptions:
      name:
        description:
          - Name of the QoS specs. An empty string removes the type's association with any QoS specs.
        type: str
        required: true
      consumer:
        description:
          - Where the limits are applied.
        type: str
        choices: [front-end, back-end, both]
        default: back-end
      specs:
        description:
          - The QoS keys and values, for example C(read_iops_sec). Keys not listed are removed.
        type: dict
        default: {}
  projects:
    description:
      - Projects (names or IDs) that may use the private type. Projects not listed lose their access.
      - Only for a private type (O(is_public=false)).
    type: list
    elements: str
extends_documentation_fragment:
  - opensandbox.cloud.openstack
  - opensandbox.cloud.attributes
  - opensandbox.cloud.attributes.actiongroup
  - opensandbox.cloud.attributes.stateful_module
seealso:
  - module: opensandbox.cloud.cinder_volume
  - module: opensandbox.cloud.cinder_volume_info
"""

EXAMPLES = r"""
- name: A type whose volumes go to one pool, with front-end IOPS limits
  opensandbox.cloud.cinder_volume_type:
    cloud: stacksim-admin
    name: fast
    description: Pool A, limited IOPS
    backend: lvm
    pool: pool-a
    qos_specs:
      name: fast-iops
      consumer: front-end
      specs:
        read_iops_sec: 2000
        write_iops_sec: 1000

- name: A private multiattach type for two projects
  opensandbox.cloud.cinder_volume_type:
    cloud: stacksim-admin
    name: shared-disk
    is_public: false
    multiattach: true
    projects: [demo, alt_demo]

- name: Delete a type and its QoS specs
  opensandbox.cloud.cinder_volume_type:
    cloud: stacksim-admin
    name: fast
    state: absent
    qos_specs:
      name: fast-iops
"""

RETURN = r"""
volume_type:
  description:
    - The type after the run; in check mode, the type the run would make (an ID of V(null) for a new one).
    - V(null) when O(state=absent).
  returned: always
  type: dict
  contains:
    id:
      description: Type ID.
      type: str
    name:
      description: Type name.
      type: str
      sample: fast
    description:
      description: Type description.
      type: str
    is_public:
      description: Whether every project may use it.
      type: bool
    extra_specs:
      description: Its extra specs.
      type: dict
      sample: {volume_backend_name: lvm, pool_name: pool-a}
    qos_specs:
      description: The QoS specs associated with it, V(null) if none.
      type: dict
      contains:
        id:
          description: QoS specs ID (V(null) for ones check mode would create).
          type: str
        name:
          description: QoS specs name.
          type: str
        consumer:
          description: Where the limits apply.
          type: str
          sample: front-end
        specs:
          description: The QoS keys and values.
          type: dict
          sample: {read_iops_sec: "2000"}
    projects:
      description: IDs of the projects that may use a private type, sorted; empty for a public type.
      type: list
      elements: str
diff:
  description: The type before and after the run (C({}) for one that does not exist).
  returned: always
  type: dict
  contains:
    before:
      description: The type before the run.
      type: dict
    after:
      description: The type after the run.
      type: dict
"""

from typing import Any

from ansible_collections.opensandbox.cloud.plugins.module_utils._kinds import PROJECT, QOS_SPEC, VOLUME_TYPE
from ansible_collections.opensandbox.cloud.plugins.module_utils._module import AnsibleOpenStackModule
from ansible_collections.opensandbox.cloud.plugins.module_utils._resources import find, to_dict
from ansible_collections.opensandbox.cloud.plugins.module_utils._state import StateResult, ensure_absent, ensure_present

MULTIATTACH_TRUE = "<is> True"
ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "name": {"type": "str", "required": True},
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    "description": {"type": "str"},
    "is_public": {"type": "bool"},
    "extra_specs": {"type": "dict"},
    "purge_extra_specs": {"type": "bool", "default": False},
    "backend": {"type": "str"},
    "pool": {"type": "str"},
    "multiattach": {"type": "bool"},
    "qos_specs": {
        "type": "dict",
        "options": {
            "name": {"type": "str", "required": True},
            "consumer": {"type": "str", "default": "back-end", "choices": ["front-end", "back-end", "both"]},
            "specs": {"type": "dict", "default": {}},
        },
    },
    "projects": {"type": "list", "elements": "str"},
}


def qos_view(qos: Any) -> dict[str, Any] | None:
    return to_dict(QOS_SPEC, qos)


def same_qos(have: dict[str, Any] | None, want: dict[str, Any]) -> bool:
    """The wished QoS specs (name, consumer, specs) against the associated ones; the ID does not count."""
    if not want["name"]:
        return have is None
    return have is not None and all(have.get(k) == want[k] for k in ("name", "consumer", "specs"))


class VolumeTypes:
    def __init__(self, module: AnsibleOpenStackModule) -> None:
        self.module = module
        self.p = module.params
        self.cinder = module.conn.block_storage

    # -- views ---------------------------------------------------------------------------------

    def view(self, vtype: Any) -> dict[str, Any]:
        return {
            **to_dict(VOLUME_TYPE, vtype),
            "qos_specs": qos_view(self.associated_qos(vtype)),
            "projects": self.projects_of(vtype),
        }

    def associated_qos(self, vtype: Any) -> Any:
        for qos in self.module.call(self.cinder.qos_specs):
            associations = self.module.call(self.cinder.qos_spec_associations, qos)
            if any(a.id == vtype.id for a in associations):
                return qos
        return None

    def projects_of(self, vtype: Any) -> list[str]:
        if vtype.is_public:
            return []
        access = self.module.call_or_none(self.cinder.get_type_access, vtype) or []
        return sorted(a["project_id"] for a in access)

    # -- the wish --------------------------------------------------------------------------------

    def wished_specs(self, vtype: Any) -> dict[str, str] | None:
        p = self.p
        named = {"volume_backend_name": p["backend"], "pool_name": p["pool"]}
        given = {str(k): str(v) for k, v in (p["extra_specs"] or {}).items()}
        given.update({k: v for k, v in named.items() if v is not None})
        if p["multiattach"]:
            given["multiattach"] = MULTIATTACH_TRUE
        managed = p["extra_specs"] is not None or any(v is not None for v in named.values())
        if not managed and p["multiattach"] is None and not p["purge_extra_specs"]:
            return None
        specs = dict(given) if (p["purge_extra_specs"] or vtype is None) else {**(vtype.extra_specs or {}), **given}
        if p["multiattach"] is False:
            specs.pop("multiattach", None)
        return specs

    def wished_qos(self) -> dict[str, Any] | None:
        qos = self.p["qos_specs"]
        if qos is None:
            return None
        return {
            "name": qos["name"],
            "consumer": qos["consumer"],
            "specs": {str(k): str(v) for k, v in (qos["specs"] or {}).items()},
        }

    def wished_projects(self) -> list[str] | None:
        refs = self.p["projects"]
        if refs is None:
            return None
        return sorted({find(self.module, PROJECT, ref, required=True).id for ref in refs})

    # -- present ---------------------------------------------------------------------------------

    def present(self, vtype: Any) -> StateResult:
        p = self.p
        if p["projects"] and (
            p["is_public"] is True or (p["is_public"] is None and (vtype is None or vtype.is_public))
        ):
            self.module.fail_json(
                msg="projects gives access to a private volume type; set is_public: false to make the type private"
            )
        wish = {
            "name": p["name"] if vtype is None else None,
            "description": p["description"],
            "is_public": p["is_public"],
            "extra_specs": self.wished_specs(vtype),
            "qos_specs": self.wished_qos(),
            "projects": self.wished_projects(),
        }
        result = ensure_present(
            self.module,
            VOLUME_TYPE,
            vtype,
            wish,
            create=self.create,
            updates={
                "description": lambda t, ch: self.module.call(self.cinder.update_type, t, **ch),
                "is_public": lambda t, ch: self.set_public(t, ch["is_public"]),
                "extra_specs": lambda t, ch: self.set_specs(t, ch["extra_specs"]),
                "qos_specs": lambda t, ch: self.set_qos(t, ch["qos_specs"]),
                "projects": lambda t, ch: self.set_projects(t, ch["projects"]),
            },
            view=self.view,
            predict=self.predict,
            equal={"qos_specs": same_qos},
        )
        if self.module.check_mode and result.after is not None:
            result.after["qos_specs"] = self.predicted_qos(result.after.get("qos_specs"))
            if result.after.get("is_public") is None:
                result.after["is_public"] = True
        return result

    def predict(self, wish: dict[str, Any]) -> dict[str, Any]:
        view = dict.fromkeys([*VOLUME_TYPE.keys(), "qos_specs", "projects"])
        view.update({k: v for k, v in wish.items() if v is not None})
        view["extra_specs"] = view["extra_specs"] or {}
        view["projects"] = view["projects"] or []
        return view

    def predicted_qos(self, qos: dict[str, Any] | None) -> dict[str, Any] | None:
        if not qos or not qos.get("name"):
            return None
        existing = find(self.module, QOS_SPEC, qos["name"])
        return {"id": existing.id if existing else qos.get("id"), **{k: qos[k] for k in ("name", "consumer", "specs")}}

    def create(self, wish: dict[str, Any]) -> Any:
        args = {"name": wish["name"], "description": wish["description"], "extra_specs": wish["extra_specs"] or {}}
        if wish["is_public"] is not None:
            args["is_public"] = wish["is_public"]
        vtype = self.module.call(self.cinder.create_type, **{k: v for k, v in args.items() if v is not None})
        if wish["projects"]:
            self.set_projects(vtype, wish["projects"])
        if wish["qos_specs"] and wish["qos_specs"]["name"]:
            self.set_qos(vtype, wish["qos_specs"])
        return self.module.call(self.cinder.get_type, vtype.id)

    def set_public(self, vtype: Any, public: bool) -> None:
        # The SDK sends the attribute under its show name, which Cinder's update ignores; Cinder reads "is_public".
        with self.module.sdk_errors(f"block-storage PUT /types/{vtype.id} (is_public={public})"):
            response = self.cinder.put(f"/types/{vtype.id}", json={"volume_type": {"is_public": public}})
            _raise_for(response)

    def set_specs(self, vtype: Any, wanted: dict[str, str]) -> None:
        have = vtype.extra_specs or {}
        changed = {k: v for k, v in wanted.items() if have.get(k) != v}
        removed = sorted(k for k in have if k not in wanted)
        if changed:
            self.module.call(self.cinder.update_type_extra_specs, vtype, **changed)
        if removed:
            self.module.call(self.cinder.delete_type_extra_specs, vtype, removed)

    def set_projects(self, vtype: Any, wanted: list[str]) -> None:
        have = set(self.projects_of(vtype))
        for project in sorted(set(wanted) - have):
            self.module.call(self.cinder.add_type_access, vtype, project)
        for project in sorted(have - set(wanted)):
            self.module.call(self.cinder.remove_type_access, vtype, project)

    def set_qos(self, vtype: Any, want: dict[str, Any]) -> None:
        """Make the wished QoS specs exist as wished, then associate the type with them (alone)."""
        current = self.associated_qos(vtype)
        target = None
        if want["name"]:
            target = find(self.module, QOS_SPEC, want["name"])
            if target is None:
                target = self.create_qos(want)
            else:
                self.update_qos(target, want)
        if current is not None and (target is None or current.id != target.id):
            self.module.call(self.cinder.disassociate_qos_spec, current, vtype.id)
        if target is not None and (current is None or current.id != target.id):
            self.module.call(self.cinder.associate_qos_spec, target, vtype.id)

    def create_qos(self, want: dict[str, Any]) -> Any:
        # Cinder takes the keys flat beside name and consumer; the SDK's create nests them under "specs".
        body = {"qos_specs": {"name": want["name"], "consumer": want["consumer"], **want["specs"]}}
        with self.module.sdk_errors(f"block-storage POST /qos-specs (name={want['name']!r})"):
            response = self.cinder.post("/qos-specs", json=body)
            _raise_for(response)
        return self.module.call(self.cinder.get_qos_spec, response.json()["qos_specs"]["id"])

    def update_qos(self, qos: Any, want: dict[str, Any]) -> None:
        have = qos.specs or {}
        changed = {k: v for k, v in want["specs"].items() if have.get(k) != v}
        if qos.consumer != want["consumer"]:
            changed["consumer"] = want["consumer"]
        removed = sorted(k for k in have if k not in want["specs"])
        if changed:
            self.module.call(self.cinder.update_qos_spec, qos, **changed)
        if removed:
            self.module.call(self.cinder.delete_qos_spec_metadata, qos, removed)

    # -- absent ----------------------------------------------------------------------------------

    def absent(self, vtype: Any) -> StateResult:
        qos_name = (self.p["qos_specs"] or {}).get("name")
        qos = find(self.module, QOS_SPEC, qos_name) if qos_name else None
        if vtype is None:
            result = StateResult(False, None, None)
        else:
            result = ensure_absent(
                self.module,
                VOLUME_TYPE,
                vtype,
                delete=lambda t: self.module.call(self.cinder.delete_type, t),
                view=self.view,
                wait=False,
            )
        if qos is not None:
            others = [
                a for a in self.module.call(self.cinder.qos_spec_associations, qos) if vtype is None or a.id != vtype.id
            ]
            if not others:
                if not self.module.check_mode:
                    self.module.call(self.cinder.delete_qos_spec, qos)
                result.actions.append(f"delete QoS specs {qos.name}")
                result.changed = True
        return result


def _raise_for(response: Any) -> None:
    from openstack import exceptions  # pylint: disable=import-outside-toplevel

    exceptions.raise_from_response(response)


def main() -> None:
    module = AnsibleOpenStackModule(ARGUMENT_SPEC, supports_check_mode=True)
    types = VolumeTypes(module)
    vtype = find(module, VOLUME_TYPE, module.params["name"])
    result = types.absent(vtype) if module.params["state"] == "absent" else types.present(vtype)
    module.exit_json(**result.exit_kwargs("volume_type"))


if __name__ == "__main__":
    main()
