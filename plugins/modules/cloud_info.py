#!/usr/bin/python
# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cloud_info
short_description: Show what an OpenStack connection reaches
version_added: 0.1.0
description:
  - Authenticates with the given cloud and reports the token (user, project, roles),
    the service catalog and the projects the user can see.
  - Lists every project when the identity API allows it (for example with the V(admin) role);
    otherwise reports only the project the token is scoped to, without failing.
  - Useful to check credentials and endpoints before running other modules of the collection.
author:
  - OpenSandbox contributors (@opensandbox)
options: {}
extends_documentation_fragment:
  - opensandbox.cloud.openstack
  - opensandbox.cloud.attributes
  - opensandbox.cloud.attributes.actiongroup
  - opensandbox.cloud.attributes.info_module
"""

EXAMPLES = r"""
- name: Check the credentials of the stacksim cloud
  opensandbox.cloud.cloud_info:
    cloud: stacksim
  register: stacksim_info

- name: Show the roles of the token
  ansible.builtin.debug:
    msg: >-
      {{ stacksim_info.token.user.name }} has {{ stacksim_info.token.roles | join(', ') }}
      in {{ stacksim_info.token.project.name }}

- name: Find the public identity endpoint
  ansible.builtin.debug:
    msg: >-
      {{ (stacksim_info.catalog | selectattr('type', 'equalto', 'identity') | first).endpoints
         | selectattr('interface', 'equalto', 'public') | map(attribute='url') | first }}

- name: Set the cloud once for all modules of the collection
  module_defaults:
    group/opensandbox.cloud.opensandbox:
      cloud: stacksim-admin
  block:
    - name: List every project as admin
      opensandbox.cloud.cloud_info:
      register: admin_info

    - name: Show the project names
      ansible.builtin.debug:
        msg: "{{ admin_info.projects | map(attribute='name') | list }}"

- name: Authenticate with credentials given directly
  opensandbox.cloud.cloud_info:
    auth:
      auth_url: http://127.0.0.1:8780/identity/v3
      username: demo
      password: "{{ demo_password }}"
      project_name: demo
      user_domain_name: Default
      project_domain_name: Default
"""

RETURN = r"""
connection:
  description: How the module connected.
  returned: success
  type: dict
  contains:
    cloud:
      description: Name of the cloud entry used, V(defaults) when none was named.
      type: str
      sample: stacksim
    auth_url:
      description: Identity endpoint the token came from.
      type: str
      sample: http://127.0.0.1:8780/identity/v3
    region_name:
      description: Region in use, if any.
      type: str
      sample: RegionOne
    interface:
      description: Catalog interface in use.
      type: str
      sample: public
token:
  description: What the token says about who is connected.
  returned: success
  type: dict
  contains:
    user:
      description: The authenticated user.
      type: dict
      contains:
        id:
          description: User ID.
          type: str
        name:
          description: User name.
          type: str
          sample: demo
        domain_id:
          description: ID of the user's domain.
          type: str
          sample: default
        domain_name:
          description: Name of the user's domain.
          type: str
          sample: Default
    project:
      description: Project the token is scoped to; V(null) for a token not scoped to a project.
      type: dict
      contains:
        id:
          description: Project ID.
          type: str
        name:
          description: Project name.
          type: str
          sample: demo
        domain_id:
          description: ID of the project's domain.
          type: str
          sample: default
        domain_name:
          description: Name of the project's domain.
          type: str
          sample: Default
    domain:
      description: Domain the token is scoped to, for a domain-scoped token; else V(null).
      type: dict
      contains:
        id:
          description: Domain ID.
          type: str
        name:
          description: Domain name.
          type: str
    system_scoped:
      description: Whether the token is system-scoped.
      type: bool
      sample: false
    roles:
      description: Names of the roles the token carries, sorted.
      type: list
      elements: str
      sample: [member, reader]
    issued_at:
      description: When the token was issued (ISO 8601), if the cloud says.
      type: str
      sample: "2025-01-01T10:00:00+00:00"
    expires_at:
      description: When the token expires (ISO 8601), if the cloud says.
      type: str
      sample: "2025-01-01T11:00:00+00:00"
catalog:
  description: The service catalog of the token, sorted by service type.
  returned: success
  type: list
  elements: dict
  contains:
    type:
      description: Service type.
      type: str
      sample: identity
    name:
      description: Service name.
      type: str
      sample: keystone
    id:
      description: Service ID, when the catalog gives it.
      type: str
    endpoints:
      description: The service's endpoints, sorted by interface and region.
      type: list
      elements: dict
      contains:
        interface:
          description: V(public), V(internal) or V(admin).
          type: str
          sample: public
        region:
          description: Region of the endpoint.
          type: str
          sample: RegionOne
        url:
          description: Endpoint URL.
          type: str
          sample: http://127.0.0.1:8780/identity/v3
projects:
  description:
    - Projects visible to the user, sorted by name.
    - All projects when RV(projects_scope=all); only the token's project when RV(projects_scope=current).
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: Project ID.
      type: str
    name:
      description: Project name.
      type: str
      sample: demo
    domain_id:
      description: ID of the project's domain.
      type: str
      sample: default
    description:
      description: Project description, when known.
      type: str
    enabled:
      description: Whether the project is enabled, when known.
      type: bool
    current:
      description: Whether this is the project the token is scoped to.
      type: bool
projects_scope:
  description:
    - V(all) when the identity API let the user list every project.
    - V(current) when it refused (HTTP 403), so only the token's own project is reported.
    - V(none) when the token is not scoped to a project and listing was refused.
  returned: success
  type: str
  sample: current
"""

from collections.abc import Mapping, Sequence
from typing import Any

from ansible_collections.opensandbox.cloud.plugins.module_utils._module import (
    AnsibleOpenStackModule,
)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def token_summary(access: Any) -> dict[str, Any]:
    """Describe a keystoneauth ``AccessInfo``: user, scope, roles and lifetime."""
    project = None
    if access.project_id:
        project = {
            "id": access.project_id,
            "name": access.project_name,
            "domain_id": access.project_domain_id,
            "domain_name": access.project_domain_name,
        }
    domain = None
    if getattr(access, "domain_scoped", False):
        domain = {"id": access.domain_id, "name": access.domain_name}
    return {
        "user": {
            "id": access.user_id,
            "name": access.username,
            "domain_id": access.user_domain_id,
            "domain_name": access.user_domain_name,
        },
        "project": project,
        "domain": domain,
        "system_scoped": bool(getattr(access, "system_scoped", False)),
        "roles": sorted(access.role_names or []),
        "issued_at": _iso(access.issued),
        "expires_at": _iso(access.expires),
    }


def catalog_summary(raw_catalog: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Turn the token's raw v3 (or v2) catalog into sorted services with their endpoints."""
    services = []
    for service in raw_catalog or []:
        endpoints = []
        for endpoint in service.get("endpoints") or []:
            if "interface" in endpoint:
                endpoints.append(
                    {
                        "interface": endpoint.get("interface"),
                        "region": endpoint.get("region") or endpoint.get("region_id"),
                        "url": endpoint.get("url"),
                    }
                )
                continue
            # Identity v2 catalogs list one URL per interface in each endpoint.
            for interface in ("public", "internal", "admin"):
                url = endpoint.get(f"{interface}URL")
                if url:
                    endpoints.append({"interface": interface, "region": endpoint.get("region"), "url": url})
        endpoints.sort(key=lambda e: (e["interface"] or "", e["region"] or "", e["url"] or ""))
        services.append(
            {
                "type": service.get("type"),
                "name": service.get("name"),
                "id": service.get("id"),
                "endpoints": endpoints,
            }
        )
    services.sort(key=lambda s: (s["type"] or "", s["name"] or ""))
    return services


def project_summary(project: Any, current_id: str | None) -> dict[str, Any]:
    """Describe an SDK identity ``Project``."""
    return {
        "id": project.id,
        "name": project.name,
        "domain_id": project.domain_id,
        "description": project.description,
        "enabled": project.is_enabled,
        "current": project.id == current_id,
    }


def current_project(token: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The token's own project as the one-entry project list (a token implies it is enabled)."""
    project = token.get("project")
    if not project:
        return []
    return [
        {
            "id": project["id"],
            "name": project["name"],
            "domain_id": project["domain_id"],
            "description": None,
            "enabled": True,
            "current": True,
        }
    ]


def main() -> None:
    module = AnsibleOpenStackModule(argument_spec={}, supports_check_mode=True)
    conn = module.conn

    get_access = getattr(conn.session.auth, "get_access", None)
    if get_access is None:
        auth_type = conn.config.config.get("auth_type")
        module.fail_json(msg=f"The auth_type {auth_type!r} gives no Keystone token to describe; use a Keystone one.")
    with module.sdk_errors("authentication (session.auth.get_access)"):
        access = get_access(conn.session)
    token = token_summary(access)

    listed = module.call_tolerating((403,), conn.identity.projects)
    if listed is None:
        projects = current_project(token)
        scope = "current" if projects else "none"
    else:
        current_id = token["project"]["id"] if token["project"] else None
        projects = [project_summary(project, current_id) for project in listed]
        scope = "all"
    projects.sort(key=lambda p: (p["name"] or "", p["id"] or ""))

    module.exit_json(
        changed=False,
        connection={
            "cloud": conn.config.name,
            "auth_url": conn.config.get_auth_args().get("auth_url"),
            "region_name": conn.config.region_name or None,
            "interface": conn.config.get_interface(),
        },
        token=token,
        catalog=catalog_summary(access.service_catalog.catalog),
        projects=projects,
        projects_scope=scope,
    )


if __name__ == "__main__":
    main()
