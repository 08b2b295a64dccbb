"""The Neutron API extensions stacksim implements, as ``GET /v2.0/extensions`` lists them.

Clients switch features on these aliases, so only what works is listed.
"""

from __future__ import annotations

from typing import Any

_UPDATED = "2019-01-01T10:00:00-00:00"

#: alias -> (name, description)
EXTENSIONS: dict[str, tuple[str, str]] = {
    "address-scope": ("Address scope", "Address scopes extension."),
    "allowed-address-pairs": ("Allowed Address Pairs", "Provides allowed address pairs"),
    "auto-allocated-topology": ("Auto Allocated Topology Services", "Auto Allocated Topology Services."),
    "availability_zone": ("Availability Zone", "The availability zone extension."),
    "default-subnetpools": (
        "Default Subnetpools",
        "Provides ability to mark and use a subnetpool as the default.",
    ),
    "dvr": ("Distributed Virtual Router", "Enables configuration of Distributed Virtual Routers."),
    "binding": ("Port Binding", "Expose port bindings of a virtual port to external application"),
    "empty-string-filtering": (
        "Empty String Filtering Extension",
        "Allow filtering by attributes with empty string value",
    ),
    "external-net": ("Neutron external network", "Adds external network attribute to network resource."),
    "ext-gw-mode": (
        "Neutron L3 Configurable external gateway mode",
        "Extension of the router abstraction for specifying whether SNAT should occur on the external gateway",
    ),
    "extra_dhcp_opt": (
        "Neutron Extra DHCP options",
        "Extra options configuration for DHCP. For example PXE boot options to DHCP clients can be specified "
        "(e.g. tftp-server, server-ip-address, bootfile-name)",
    ),
    "extraroute": ("Neutron Extra Route", "Extra routes configuration for L3 router"),
    "extraroute-atomic": (
        "Atomically add/remove extra routes",
        "Edit extra routes of a router on server side by atomically adding/removing extra routes",
    ),
    "filter-validation": ("Filter parameters validation", "Provides validation on filter parameters."),
    "fip-port-details": ("Floating IP Port Details Extension", "Add port_details attribute to Floating IP resource"),
    "l3-ha": ("HA Router extension", "Adds HA capability to routers."),
    "net-mtu": ("Network MTU", "Provides MTU attribute for a network resource."),
    "network_availability_zone": ("Network Availability Zone", "Availability zone support for network."),
    "net-mtu-writable": ("Network MTU (writable)", "Provides a writable MTU attribute for a network resource."),
    "pagination": ("Pagination support", "Extension that indicates that pagination is enabled."),
    "port-security": ("Port Security", "Provides port security"),
    "project-id": ("project_id field enabled", "Extension that indicates that project_id field is enabled."),
    "provider": ("Provider Network", "Expose mapping of virtual networks to physical networks"),
    "qos": ("Quality of Service", "The Quality of Service extension."),
    "qos-bw-limit-direction": (
        "Direction for QoS bandwidth limit rule",
        "Allow to configure QoS bandwidth limit rule with specific direction: ingress or egress",
    ),
    "qos-bw-minimum-ingress": (
        "Ingress direction for QoS minimum bandwidth rule",
        "Allow to configure QoS minumum bandwidth rule with ingress direction.",
    ),
    "qos-default": ("QoS default policy", "Expose the QoS default policy per project"),
    "qos-rule-type-details": (
        "Details of QoS rule types",
        "Expose details about QoS rule types supported by loaded backend drivers",
    ),
    "quotas": ("Quota management support", "Expose functions for quotas management per project"),
    "quota_details": ("Quota details management support", "Expose functions for quotas usage statistics per project"),
    "quota-check-limit": (
        "Quota engine limit check",
        "Support for checking the resource usage before applying a new quota limit",
    ),
    "rbac-address-scope": ("Add address_scope type to RBAC", "Add address_scope type to RBAC"),
    "rbac-policies": (
        "RBAC Policies",
        "Allows creation and modification of policies that control tenant access to resources.",
    ),
    "rbac-security-groups": ("Add security_group type to network RBAC", "Add security_group type to network RBAC"),
    "rbac-subnetpool": ("Add subnetpool type to RBAC", "Add subnetpool type to RBAC"),
    "revision-if-match": (
        "If-Match constraints based on revision_number",
        "Extension indicating that If-Match based on revision_number is supported.",
    ),
    "router": (
        "Neutron L3 Router",
        "Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external "
        "networks via a NAT gateway.",
    ),
    "router_availability_zone": ("Router Availability Zone", "Availability zone support for router."),
    "security-group": ("security-group", "The security groups extension."),
    "service-type": (
        "Neutron Service Type Management",
        "API for retrieving service providers for Neutron advanced services",
    ),
    "sorting": ("Sorting support", "Extension that indicates that sorting is enabled."),
    "standard-attr-description": ("standard-attr-description", "Extension to add descriptions to standard attributes"),
    "standard-attr-revisions": (
        "Resource revision numbers",
        "This extension will display the revision number of neutron resources.",
    ),
    "standard-attr-tag": (
        "Tag support for resources with standard attribute: subnet, trunk, router, network, policy, subnetpool, "
        "port, security_group, floatingip",
        "Enables to set tag on resources with standard attribute.",
    ),
    "standard-attr-timestamp": (
        "Resource timestamps",
        "Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes.",
    ),
    "stateful-security-group": ("Stateful security group", "Indicates if the security group is stateful or not"),
    "subnet_allocation": ("Subnet Allocation", "Enables allocation of subnets from a subnet pool"),
    "subnetpool-prefix-ops": (
        "Subnet Pool Prefix Operations",
        "Provides support for adjusting the prefix list of subnet pools",
    ),
    "tag-creation": ("Tag creation extension", "Allow to create multiple tags."),
    "trunk": ("Trunk Extension", "Provides support for trunk ports"),
    "trunk-details": ("Trunk port details", "Expose trunk port details"),
}


def extension(alias: str) -> dict[str, Any] | None:
    if alias not in EXTENSIONS:
        return None
    name, description = EXTENSIONS[alias]
    return {"alias": alias, "name": name, "description": description, "updated": _UPDATED, "links": []}


def extensions() -> list[dict[str, Any]]:
    return [extension(alias) for alias in sorted(EXTENSIONS)]  # type: ignore[misc]
