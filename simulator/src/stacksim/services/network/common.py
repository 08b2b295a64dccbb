"""What the parts of the Networking model share: contexts, records, owners, errors, tags and text."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stacksim import faults
from stacksim.auth import Context
from stacksim.store import Store

if TYPE_CHECKING:
    from stacksim.services.network.model import Networking, Parts
from stacksim.toolkit import new_id
from stacksim.toolkit import timestamp as now

#: Port owners Neutron deletes along with their network or subnet.
AUTO_DELETE_OWNERS = frozenset({"network:dhcp", "network:distributed"})
ROUTER_INTERFACE = "network:router_interface"
ROUTER_GATEWAY = "network:router_gateway"
FLOATINGIP = "network:floatingip"
DHCP = "network:dhcp"
#: Ports only their service may delete (``ServicePortInUse``).
SERVICE_OWNERS = frozenset({ROUTER_INTERFACE, ROUTER_GATEWAY, FLOATINGIP, "network:router_ha_interface"})

#: Neutron's bounds on tags (``MAX_TAG_LEN`` and ``MAX_TAGS_COUNT`` of its tagging extension).
MAX_TAG_LEN = 255
MAX_TAGS = 50

_NOT_FOUND = {
    "network": ("NetworkNotFound", "Network {} could not be found."),
    "subnet": ("SubnetNotFound", "Subnet {} could not be found."),
    "port": ("PortNotFound", "Port {} could not be found."),
    "router": ("RouterNotFound", "Router {} could not be found"),
    "floatingip": ("FloatingIPNotFound", "Floating IP {} could not be found"),
    "security_group": ("SecurityGroupNotFound", "Security group {} does not exist"),
    "security_group_rule": ("SecurityGroupRuleNotFound", "Security group rule {} does not exist"),
    "subnetpool": ("SubnetPoolNotFound", "Subnet pool {} could not be found."),
    "address_scope": ("AddressScopeNotFound", "Address scope {} could not be found."),
    "rbac_policy": ("RbacPolicyNotFound", "RBAC policy of type rbac_policy with ID {} not found"),
    "qos_policy": ("QosPolicyNotFound", "QoS policy {} could not be found."),
    "qos_rule": ("QosRuleNotFound", "QoS rule {} could not be found."),
    "trunk": ("TrunkNotFound", "Trunk {} could not be found."),
}


def as_context(who: Context | str | None) -> Context:
    """``who`` as a Context: a caller's own, or (given a project id) the cloud acting for it.

    Nova and Heat call the model with the caller's Context; code acting on its
    own (bootstrap, a compute driver binding a port) passes a project id, or
    None for no project, and gets admin rights.
    """
    if isinstance(who, Context):
        return who
    return Context(
        token_id="",
        user_id="stacksim",
        user_name="stacksim",
        user_domain_id="default",
        roles=frozenset({"admin", "member", "reader"}),
        project_id=who,
    )


def stamp(record: dict[str, Any]) -> dict[str, Any]:
    """Neutron's standard attributes on a new record."""
    moment = now()
    record.setdefault("id", new_id())
    record.setdefault("description", "")
    record.setdefault("tags", [])
    record.update(created_at=moment, updated_at=moment, revision_number=0)
    return record


def touch(record: dict[str, Any]) -> dict[str, Any]:
    """Mark a change: a new ``updated_at`` and the next ``revision_number``."""
    record["updated_at"] = now()
    record["revision_number"] = record.get("revision_number", 0) + 1
    return record


def check_revision(record: dict[str, Any], if_match: str | None) -> None:
    """Honour ``If-Match: revision_number=N`` (Neutron's revision-if-match)."""
    if not if_match:
        return
    for part in if_match.split(","):
        key, _, value = part.strip().partition("=")
        if key != "revision_number":
            continue
        try:
            expected = int(value)
        except ValueError:
            raise faults.BadRequest(f"Invalid input for operation: '{value}' is not an integer.") from None
        if expected != record.get("revision_number"):
            raise faults.ApiError(
                f"Constrained to {expected}, but current revision is {record.get('revision_number')}",
                status=412,
                kind="RevisionNumberConstraintFailed",
            )


def not_found(kind: str, id: str) -> faults.NotFound:
    name, text = _NOT_FOUND[kind]
    return faults.NotFound(text.format(id), kind=name)


def denied(action: str) -> faults.Forbidden:
    return faults.Forbidden(f"rule:{action} is disallowed by policy", kind="PolicyNotAuthorized")


def owner_of(ctx: Context, attrs: dict[str, Any]) -> str:
    """The project a new resource belongs to (``project_id``/``tenant_id``, else the caller's)."""
    project = attrs.pop("project_id", None)
    tenant = attrs.pop("tenant_id", None)
    if project and tenant and project != tenant:
        raise faults.BadRequest("'project_id' and 'tenant_id' do not match", kind="HTTPBadRequest")
    wanted = project or tenant
    if wanted and wanted != ctx.project_id and not ctx.is_admin:
        raise faults.BadRequest(
            "Specifying 'project_id' or 'tenant_id' other than the authenticated project "
            "in request requires admin or advsvc privileges",
            kind="HTTPBadRequest",
        )
    owner = wanted or ctx.project_id
    if not owner:
        raise faults.BadRequest(
            "Running without keystone AuthN requires that tenant_id is specified", kind="HTTPBadRequest"
        )
    return owner


def admin_only(ctx: Context, action: str, attrs: dict[str, Any], defaults: dict[str, Any]) -> None:
    """Attributes a member may not set to other than their default (Neutron's policy)."""
    if ctx.is_admin:
        return
    for name, default in defaults.items():
        if name in attrs and attrs[name] != default:
            raise denied(f"{action}:{name}")


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored (a lone UTF-16 surrogate, which no JSON encoder can write back), or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return f"{text!r} is not valid UTF-8 text (it holds a lone surrogate)"
    return None


def too_many_tags(resource: str = "") -> faults.BadRequest:
    reason = f"The number of tags exceed the per-resource limit of {MAX_TAGS}"
    if resource:
        return faults.BadRequest(f"Bad {resource} request: {reason}.", kind="BadRequest")
    return faults.BadRequest(f"Invalid input for tags. Reason: {reason}.", kind="HTTPBadRequest")


def check_tag(tag: Any) -> str:
    """One tag as Neutron takes it: a non-empty string of at most 255 characters."""
    if not isinstance(tag, str) or not tag:
        raise faults.BadRequest(
            f"Invalid input for tags. Reason: '{tag}' is not a valid string.", kind="HTTPBadRequest"
        )
    if len(tag) > MAX_TAG_LEN:
        raise faults.BadRequest(
            f"Invalid input for tags. Reason: '{tag}' exceeds maximum length of {MAX_TAG_LEN}.", kind="HTTPBadRequest"
        )
    problem = text_problem(tag)
    if problem:
        raise faults.BadRequest(f"Invalid input for tags. Reason: {problem}.", kind="HTTPBadRequest")
    return tag


def check_tags(tags: Any, resource: str = "") -> list[str]:
    """Tags as Neutron keeps them: at most 50 strings of up to 255 characters, each once (sorted here)."""
    if not isinstance(tags, list):
        raise faults.BadRequest(f"Invalid input for tags. Reason: '{tags}' is not a list.", kind="HTTPBadRequest")
    if len(tags) > MAX_TAGS:
        raise too_many_tags(resource)
    return sorted({check_tag(tag) for tag in tags})


def apply(store: Store, kind: str, record: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Write ``changes`` to ``record`` as a new revision (nothing at all when they change nothing)."""
    if all(record.get(k) == v for k, v in changes.items()):
        return record
    record.update(changes)
    return store.put(kind, touch(record))


def read_only(attr: str) -> faults.BadRequest:
    return faults.BadRequest(f"Cannot update read-only attribute {attr}", kind="HTTPBadRequest")


def check_fields(changes: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    """An update's changes, refusing any attribute outside ``allowed`` (and ``tags``)."""
    for key in changes:
        if key not in allowed and key != "tags":
            raise read_only(key)
    return dict(changes)


def basics(attrs: dict[str, Any], owner: str) -> dict[str, Any]:
    """What every new standard resource holds: its name, description, owner and tags."""
    return {
        "name": attrs.get("name") or "",
        "description": attrs.get("description") or "",
        "project_id": owner,
        "tags": check_tags(attrs.get("tags") or []),
    }


class Part:
    """The rules of one resource: they reach the store, and the other parts through the facade."""

    def __init__(self, net: Networking) -> None:
        self.net = net
        self.store = net.store

    @property
    def parts(self) -> Parts:
        return self.net.parts

    def editable(
        self, ctx: Context, kind: str, id: str, changes: dict[str, Any], fields: tuple[str, ...], if_match: str | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The record an update changes (404 or 403 as the policy says, 412 if ``If-Match`` is stale)
        and the update's changes (400 for an attribute that cannot change)."""
        record = self.net.parts.access.writable(ctx, kind, id, f"update_{kind}")
        check_revision(record, if_match)
        return record, check_fields(changes, fields)
