"""Routes of security groups and their rules."""

from __future__ import annotations

from stacksim.services.network import schemas
from stacksim.services.network.model import Networking
from stacksim.services.network.resource_api import READ_ONLY, STANDARD, Resource, resource_routes

SECURITY_GROUPS = Resource(
    "security_group",
    "security_group",
    "security_groups",
    "security-groups",
    (*STANDARD, "stateful", "shared"),
    Networking.create_security_group,
    schemas.SecurityGroupCreate,
    Networking.delete_security_group,
    Networking.update_security_group,
    schemas.SecurityGroupUpdate,
    READ_ONLY | {"security_group_rules", "shared"},
    frozenset({"project_id", "tenant_id"}),
)
SECURITY_GROUP_RULES = Resource(
    "security_group_rule",
    "security_group_rule",
    "security_group_rules",
    "security-group-rules",
    (
        "id",
        "description",
        "project_id",
        "tenant_id",
        "created_at",
        "updated_at",
        "revision_number",
        "security_group_id",
        "direction",
        "ethertype",
        "protocol",
        "port_range_min",
        "port_range_max",
        "remote_ip_prefix",
        "remote_group_id",
        "remote_address_group_id",
        "normalized_cidr",
        "belongs_to_default_sg",
    ),
    Networking.create_security_group_rule,
    schemas.SecurityGroupRuleCreate,
    Networking.delete_security_group_rule,
    read_only=READ_ONLY | {"normalized_cidr", "belongs_to_default_sg"},
)

for _res in (SECURITY_GROUPS, SECURITY_GROUP_RULES):
    resource_routes(_res)
