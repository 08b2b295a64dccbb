"""RBAC policies: sharing a network (or a subnet pool, address scope, QoS policy or security group)
with one project, or with every project (``*``).

As in Neutron, a resource's ``shared`` flag *is* an ``access_as_shared``
policy for ``*`` (and a network's ``router:external`` one ``access_as_external``
for ``*``): setting the flag makes the policy, deleting the policy clears the
flag. The owner of an object (or an admin) shares it; only an admin shares
with everyone. A policy whose target still uses the object (ports on the
network) cannot be removed or retargeted (``RbacPolicyInUse``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stacksim import faults
from stacksim.auth import Context
from stacksim.services.network import ipam
from stacksim.services.network.access import EXTERNAL, SHARED
from stacksim.services.network.common import Part, denied, owner_of, touch
from stacksim.store import atomic
from stacksim.toolkit import new_id

if TYPE_CHECKING:
    pass

WILDCARD = "*"
#: object_type -> (store kind, the actions it takes)
OBJECT_TYPES = {
    "network": ("network", (SHARED, EXTERNAL)),
    "subnetpool": ("subnetpool", (SHARED,)),
    "address_scope": ("address_scope", (SHARED,)),
    "qos_policy": ("qos_policy", (SHARED,)),
    "security_group": ("security_group", (SHARED,)),
}
#: the flag a wildcard policy of each action stands for
FLAGS = {SHARED: "shared", EXTERNAL: "router:external"}


class Rbac(Part):
    # -- the flags --------------------------------------------------------------------

    def wildcard(self, kind: str, record: dict[str, Any], action: str, on: bool) -> None:
        """Make or remove the ``*`` policy behind a flag (the caller writes the flag itself)."""
        found = self._find(kind, record["id"], action, WILDCARD)
        if on and found is None:
            self.store.put(
                "rbac_policy",
                {
                    "id": new_id(),
                    "object_type": kind,
                    "object_id": record["id"],
                    "action": action,
                    "target_tenant": WILDCARD,
                    "project_id": record["project_id"],
                },
            )
        elif not on and found is not None:
            self.store.delete("rbac_policy", found["id"])

    def forget(self, kind: str, object_id: str) -> None:
        """The object went: its policies go with it."""
        for policy in self.store.find("rbac_policy", object_id=object_id):
            if policy["object_type"] == kind:
                self.store.delete("rbac_policy", policy["id"])

    def _find(self, kind: str, object_id: str, action: str, target: str) -> dict[str, Any] | None:
        for policy in self.store.find("rbac_policy", object_id=object_id, action=action, target_tenant=target):
            if policy["object_type"] == kind:
                return policy
        return None

    def _set_flag(self, policy: dict[str, Any], on: bool) -> None:
        if policy["target_tenant"] != WILDCARD:
            return
        kind = OBJECT_TYPES[policy["object_type"]][0]
        record = self.store.get(kind, policy["object_id"])
        flag = FLAGS[policy["action"]]
        if record is not None and bool(record.get(flag)) != on:
            record[flag] = on
            self.store.put(kind, touch(record))

    # -- what a change of sharing would break ---------------------------------------------

    def check_unshare(self, network: dict[str, Any], ports: list[dict[str, Any]]) -> None:
        """Unsharing a network: no project may keep ports on it that only the sharing allowed."""
        allowed = {network["project_id"], ""}
        allowed |= {
            p["target_tenant"]
            for p in self.store.find("rbac_policy", object_id=network["id"], action=SHARED)
            if p["target_tenant"] != WILDCARD
        }
        if any(p["project_id"] not in allowed for p in ports):
            raise faults.Conflict(
                f"Unable to reconfigure sharing settings for network {network['id']}. Multiple tenants are using it.",
                kind="InvalidSharedSetting",
            )

    def _check_unused(self, policy: dict[str, Any], target: str) -> None:
        """``target`` loses what ``policy`` gave it: refuse if it still uses the network."""
        if policy["object_type"] != "network" or policy["action"] != SHARED:
            return
        network = self.store.get("network", policy["object_id"])
        if network is None or target == network["project_id"]:
            return
        others = [
            p["target_tenant"]
            for p in self.store.find("rbac_policy", object_id=network["id"], action=SHARED)
            if p["id"] != policy["id"]
        ]
        if WILDCARD in others:
            return
        ports = self.store.find("port", network_id=network["id"])
        keep = {network["project_id"], "", *others}
        users = [p for p in ports if (target == WILDCARD and p["project_id"] not in keep) or p["project_id"] == target]
        if users:
            raise faults.Conflict(
                f"RBAC policy on object {network['id']} cannot be removed because other objects depend on it.\n"
                f"Details: Unable to reconfigure sharing settings for network {network['id']}. "
                "Multiple tenants are using it.",
                kind="RbacPolicyInUse",
            )

    # -- the API ---------------------------------------------------------------------------

    @atomic
    def create(self, ctx: Context, attrs: dict[str, Any]) -> dict[str, Any]:
        owner = owner_of(ctx, attrs)
        object_type, action, target = attrs["object_type"], attrs["action"], attrs["target_tenant"]
        if object_type not in OBJECT_TYPES:
            raise ipam.invalid("object_type", f"{object_type} is not in {sorted(OBJECT_TYPES)}")
        kind, actions = OBJECT_TYPES[object_type]
        if action not in actions:
            raise faults.BadRequest(
                f"Invalid action '{action}' for object type '{object_type}'. Valid actions: {list(actions)}",
                kind="InvalidInput",
            )
        if target == WILDCARD and not ctx.is_admin:
            raise denied("create_rbac_policy:target_tenant")
        record = self.store.get(kind, attrs["object_id"])
        access = self.net.parts.access
        if record is None or not access.can_see(ctx, kind, record):
            raise faults.NotFound(
                f"Failed to create RBAC policy on object {attrs['object_id']} because the object could not be found.",
                kind="RbacPolicyInitError",
            )
        if not access.owns(ctx, record):
            raise ipam.invalid_input(f"Only admins can manipulate policies on {object_type}s they do not own")
        if self._find(kind, record["id"], action, target) is not None:
            raise faults.Conflict("An RBAC policy already exists with those values.", kind="DuplicateRbacPolicy")
        self.net.parts.quotas.check(owner, "rbac_policy")
        policy = {
            "id": new_id(),
            "object_type": object_type,
            "object_id": record["id"],
            "action": action,
            "target_tenant": target,
            "project_id": owner,
        }
        self.store.put("rbac_policy", policy)
        self._set_flag(policy, True)
        return policy

    @atomic
    def update(self, ctx: Context, id: str, changes: dict[str, Any], if_match: str | None = None) -> dict[str, Any]:
        policy, changes = self.editable(ctx, "rbac_policy", id, changes, ("target_tenant",), if_match)
        target = changes.get("target_tenant", policy["target_tenant"])
        if target == policy["target_tenant"]:
            return policy
        if WILDCARD in (target, policy["target_tenant"]) and not ctx.is_admin:
            raise denied("update_rbac_policy:target_tenant")
        if self._find(policy["object_type"], policy["object_id"], policy["action"], target) is not None:
            raise faults.Conflict("An RBAC policy already exists with those values.", kind="DuplicateRbacPolicy")
        self._check_unused(policy, policy["target_tenant"])
        self._set_flag(policy, False)
        policy["target_tenant"] = target
        self.store.put("rbac_policy", policy)
        self._set_flag(policy, True)
        return policy

    @atomic
    def delete(self, ctx: Context, id: str) -> None:
        policy = self.net.parts.access.writable(ctx, "rbac_policy", id, "delete_rbac_policy")
        self._check_unused(policy, policy["target_tenant"])
        self.store.delete("rbac_policy", id)
        self._set_flag(policy, False)
