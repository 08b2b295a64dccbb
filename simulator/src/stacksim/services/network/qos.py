"""QoS policies, their bandwidth-limit, DSCP-marking and minimum-bandwidth rules, and the rule types.

As in Neutron's QoS plugin with its default policy: an admin makes, changes
and deletes policies and rules; a project sees its own policies and the shared
ones (``shared``, or an RBAC policy naming it). A policy applies to a network
or a port through its ``qos_policy_id``; a project's default policy
(``is_default``, one per project) applies to its new networks. A policy in use
cannot be deleted. The rules are recorded, not enforced on any traffic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stacksim import faults
from stacksim.auth import Context
from stacksim.services.network import ipam
from stacksim.services.network.access import SHARED
from stacksim.services.network.common import (
    Part,
    apply,
    basics,
    check_fields,
    check_revision,
    check_tags,
    denied,
    owner_of,
    stamp,
    touch,
)
from stacksim.store import atomic
from stacksim.toolkit import new_id

if TYPE_CHECKING:
    pass

MAX_INT = 2**31 - 1
DIRECTIONS = ("egress", "ingress")
DSCP_MARKS = (0, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40, 44, 46, 48, 56)
POLICY_FIELDS = ("name", "description", "shared", "is_default")
_RANGE = {"parameter_type": "range", "parameter_values": {"start": 0, "end": MAX_INT}}
_DIRECTION = {"parameter_type": "choices", "parameter_values": list(DIRECTIONS)}
#: rule type -> its parameters: name -> (default, required, how Neutron describes it to clients)
RULE_TYPES: dict[str, dict[str, tuple[Any, bool, dict[str, Any]]]] = {
    "bandwidth_limit": {
        "max_kbps": (None, True, _RANGE),
        "max_burst_kbps": (0, False, _RANGE),
        "direction": ("egress", False, _DIRECTION),
    },
    "dscp_marking": {
        "dscp_mark": (None, True, {"parameter_type": "choices", "parameter_values": list(DSCP_MARKS)}),
    },
    "minimum_bandwidth": {
        "min_kbps": (None, True, _RANGE),
        "direction": ("egress", False, _DIRECTION),
    },
}
#: the driver the rule types are said to be supported by
DRIVER = "openvswitch"


def rule_type(name: str) -> dict[str, Any]:
    """A rule type with its driver's parameters (``GET /qos/rule-types/{type}``; qos-rule-type-details)."""
    if name not in RULE_TYPES:
        raise faults.NotFound(f"QoS rule type {name} could not be found.", kind="QosRuleTypeNotFound")
    parameters = [{"parameter_name": p, **spec} for p, (_, _, spec) in RULE_TYPES[name].items()]
    return {"type": name, "drivers": [{"name": DRIVER, "supported_parameters": parameters}]}


class Qos(Part):
    # -- for networks and ports -------------------------------------------------------

    def usable(self, ctx: Context, policy_id: str | None) -> str | None:
        """A ``qos_policy_id`` a network or port of the caller may name: one it can see (404 otherwise)."""
        if not policy_id:
            return None
        self.net.parts.access.load(ctx, "qos_policy", policy_id)
        return policy_id

    def default_for(self, project_id: str) -> str | None:
        found = self.store.first("qos_policy", project_id=project_id, is_default=True)
        return found["id"] if found else None

    def rules_of(self, policy_id: str) -> list[dict[str, Any]]:
        return self.store.find("qos_rule", qos_policy_id=policy_id)

    # -- policies ------------------------------------------------------------------------

    def _default(self, project_id: str, policy_id: str) -> bool:
        other = self.store.first("qos_policy", project_id=project_id, is_default=True)
        if other is not None and other["id"] != policy_id:
            raise faults.Conflict(
                f"A default QoS policy exists for project {project_id}.", kind="QoSPolicyDefaultAlreadyExists"
            )
        return True

    @atomic
    def create(self, ctx: Context, attrs: dict[str, Any]) -> dict[str, Any]:
        if not ctx.is_admin:
            raise denied("create_policy")
        owner = owner_of(ctx, attrs)
        policy = stamp(
            {
                **basics(attrs, owner),
                "shared": bool(attrs.get("shared", False)),
                "is_default": False,
            }
        )
        if attrs.get("is_default"):
            policy["is_default"] = self._default(owner, policy["id"])
        self.store.put("qos_policy", policy)
        if policy["shared"]:
            self.net.parts.rbac.wildcard("qos_policy", policy, SHARED, True)
        return policy

    @atomic
    def update(self, ctx: Context, id: str, changes: dict[str, Any], if_match: str | None = None) -> dict[str, Any]:
        policy = self.net.parts.access.load(ctx, "qos_policy", id)
        if not ctx.is_admin:
            raise denied("update_policy")
        check_revision(policy, if_match)
        changes = check_fields(changes, POLICY_FIELDS)
        if changes.get("is_default"):
            self._default(policy["project_id"], id)
        if "shared" in changes and bool(changes["shared"]) != policy["shared"]:
            self.net.parts.rbac.wildcard("qos_policy", policy, SHARED, bool(changes["shared"]))
        if "tags" in changes:
            changes["tags"] = check_tags(changes["tags"])
        return apply(self.store, "qos_policy", policy, changes)

    @atomic
    def delete(self, ctx: Context, id: str) -> None:
        self.net.parts.access.load(ctx, "qos_policy", id)
        if not ctx.is_admin:
            raise denied("delete_policy")
        for kind in ("port", "network"):
            user = self.store.first(kind, qos_policy_id=id)
            if user is not None:
                raise faults.Conflict(f"QoS Policy {id} is used by {kind} {user['id']}.", kind="QosPolicyInUse")
        self.store.delete_where("qos_rule", qos_policy_id=id)
        self.net.parts.rbac.forget("qos_policy", id)
        self.store.delete("qos_policy", id)

    # -- rules ---------------------------------------------------------------------------

    def _params(self, kind: str, given: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for name, (default, required, _) in RULE_TYPES[kind].items():
            if name in given and given[name] is not None:
                params[name] = given[name]
            elif current is not None:
                params[name] = current[name]
            elif required:
                raise faults.BadRequest(
                    f"Failed to parse request. Required attribute '{name}' not specified", kind="HTTPBadRequest"
                )
            else:
                params[name] = default
        for name, value in params.items():
            if name == "direction" and value not in DIRECTIONS:
                raise ipam.invalid("direction", f"{value} is not in {list(DIRECTIONS)}")
            if name == "dscp_mark" and value not in DSCP_MARKS:
                raise ipam.invalid("dscp_mark", f"{value} is not in {list(DSCP_MARKS)}")
            if name.endswith("kbps") and not 0 <= int(value) <= MAX_INT:
                raise ipam.invalid(name, f"'{value}' is not in range 0 through {MAX_INT}")
        return params

    def _writable_policy(self, ctx: Context, policy_id: str, action: str) -> dict[str, Any]:
        policy = self.net.parts.access.load(ctx, "qos_policy", policy_id)
        if not ctx.is_admin:
            raise denied(action)
        return policy

    def rule(self, ctx: Context, kind: str, policy_id: str, rule_id: str) -> dict[str, Any]:
        self.net.parts.access.load(ctx, "qos_policy", policy_id)
        found = self.store.get("qos_rule", rule_id)
        if found is None or found["qos_policy_id"] != policy_id or found["type"] != kind:
            raise faults.NotFound(
                f"QoS rule {rule_id} for policy {policy_id} could not be found.", kind="QosRuleNotFound"
            )
        return found

    def rules(self, ctx: Context, kind: str, policy_id: str) -> list[dict[str, Any]]:
        self.net.parts.access.load(ctx, "qos_policy", policy_id)
        return [r for r in self.rules_of(policy_id) if r["type"] == kind]

    def _conflict(self, rule: dict[str, Any]) -> None:
        for other in self.rules_of(rule["qos_policy_id"]):
            same = other["type"] == rule["type"] and other.get("direction") == rule.get("direction")
            if same and other["id"] != rule["id"]:
                raise faults.Conflict(
                    f"Rule {rule['type']} conflicts with rule {other['id']} which already exists in QoS Policy "
                    f"{rule['qos_policy_id']}.",
                    kind="QoSRulesConflict",
                )

    @atomic
    def create_rule(self, ctx: Context, kind: str, policy_id: str, attrs: dict[str, Any]) -> dict[str, Any]:
        policy = self._writable_policy(ctx, policy_id, f"create_policy_{kind}_rule")
        rule = {"id": new_id(), "qos_policy_id": policy_id, "type": kind, **self._params(kind, attrs, None)}
        self._conflict(rule)
        self.store.put("qos_rule", rule)
        self.store.put("qos_policy", touch(policy))  # a rule is part of its policy: a new revision
        return rule

    @atomic
    def update_rule(
        self, ctx: Context, kind: str, policy_id: str, rule_id: str, changes: dict[str, Any]
    ) -> dict[str, Any]:
        self._writable_policy(ctx, policy_id, f"update_policy_{kind}_rule")
        rule = self.rule(ctx, kind, policy_id, rule_id)
        rule.update(self._params(kind, changes, rule))
        self._conflict(rule)
        return self.store.put("qos_rule", rule)

    @atomic
    def delete_rule(self, ctx: Context, kind: str, policy_id: str, rule_id: str) -> None:
        self._writable_policy(ctx, policy_id, f"delete_policy_{kind}_rule")
        self.rule(ctx, kind, policy_id, rule_id)
        self.store.delete("qos_rule", rule_id)
