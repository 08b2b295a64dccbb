# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The connection options every opensandbox.cloud module shares."""

from __future__ import annotations


class ModuleDocFragment:
    """Use as C(opensandbox.cloud.openstack) and, for modules that wait, C(opensandbox.cloud.openstack.wait)."""

    DOCUMENTATION = r"""
options:
  cloud:
    description:
      - Name of a cloud in C(clouds.yaml), or in O(cloud_config) when that is given, whose settings and credentials
        the module uses.
      - C(clouds.yaml) is looked up where openstacksdk looks for it; E(OS_CLIENT_CONFIG_FILE) names it directly.
      - When neither O(cloud) nor O(auth) is given, openstacksdk reads E(OS_CLOUD) and the other E(OS_*) variables.
      - Set it once for all the collection's modules with C(module_defaults) and C(group/opensandbox.cloud.opensandbox).
    type: str
  cloud_config:
    description:
      - A whole C(clouds.yaml) document as data, for example from an AWX credential or an Ansible vault,
        instead of a file on the host that runs the module.
      - The module connects with the entry O(cloud) names in it, or with its only entry when O(cloud) is not given.
        No C(clouds.yaml) file and no E(OS_*) variable is read then.
      - The document is checked before use; no C(clouds) key, no clouds, an unknown cloud name, an entry without
        C(auth.auth_url) and credentials the cloud refuses each fail with a message that says what to fix.
      - The values of its secret keys (C(password), C(token), C(application_credential_secret) and other keys whose
        names contain C(secret), C(token) or C(password)) are masked in the module's output and logs.
      - The other connection options, such as O(auth) and O(region_name), override the entry's settings.
    type: dict
    version_added: 0.1.0
  auth:
    description:
      - Credentials given directly instead of, or on top of, the O(cloud) entry.
      - Covers the V(password), V(token), V(v3token) and V(v3applicationcredential) plugins.
      - For other keystoneauth plugins, use a O(cloud) entry.
    type: dict
    suboptions:
      auth_url:
        description: Identity (Keystone) endpoint, for example V(http://127.0.0.1:8780/identity/v3).
        type: str
      username:
        description: User name.
        type: str
      user_id:
        description: User ID, instead of O(auth.username).
        type: str
      password:
        description: Password of the user.
        type: str
      user_domain_name:
        description: Domain of the user, by name.
        type: str
      user_domain_id:
        description: Domain of the user, by ID.
        type: str
      project_name:
        description: Project to scope the token to, by name.
        type: str
      project_id:
        description: Project to scope the token to, by ID.
        type: str
      project_domain_name:
        description: Domain of the project, by name.
        type: str
      project_domain_id:
        description: Domain of the project, by ID.
        type: str
      domain_name:
        description: Domain to scope the token to (a domain-scoped token), by name.
        type: str
      domain_id:
        description: Domain to scope the token to, by ID.
        type: str
      default_domain_name:
        description: Domain used for the user and the project when their own domain is not given, by name.
        type: str
      default_domain_id:
        description: Domain used for the user and the project when their own domain is not given, by ID.
        type: str
      system_scope:
        description: Ask for a system-scoped token, for example V(all).
        type: str
      token:
        description: An existing token, for the V(token) and V(v3token) plugins.
        type: str
      application_credential_id:
        description: Application credential ID, for the V(v3applicationcredential) plugin.
        type: str
      application_credential_name:
        description: Application credential name, for the V(v3applicationcredential) plugin.
        type: str
      application_credential_secret:
        description: Application credential secret, for the V(v3applicationcredential) plugin.
        type: str
      trust_id:
        description: Trust to scope the token to.
        type: str
  auth_type:
    description:
      - keystoneauth plugin that O(auth) is meant for, for example V(password) or V(v3applicationcredential).
      - Defaults to the O(cloud) entry's, or V(password).
    type: str
  region_name:
    description:
      - Region whose endpoints the module uses. Defaults to the O(cloud) entry's region.
    type: str
  interface:
    description:
      - Which catalog endpoint of each service to use.
    type: str
    choices: [public, internal, admin]
    default: public
  validate_certs:
    description:
      - Whether to check the TLS certificates of HTTPS endpoints.
      - Defaults to the O(cloud) entry's C(verify) setting, which is V(true) unless set otherwise.
    type: bool
  ca_cert:
    description:
      - CA bundle file that signs the endpoints' certificates.
    type: path
  client_cert:
    description:
      - Client certificate file, for endpoints that ask for one.
    type: path
  client_key:
    description:
      - Key file of O(client_cert), when the certificate file does not hold it.
    type: path
  api_timeout:
    description:
      - Seconds to wait for one HTTP answer from the cloud before failing.
    type: int
requirements:
  - python >= 3.10
  - openstacksdk >= 4.22.0
notes:
  - The connection is opened, and the credentials checked, when the module first talks to the cloud.
  - A failed call is reported on one line with the call, its arguments (secrets masked), the cloud's answer and a hint.
  - The module checks the installed openstacksdk at start and fails, naming the minimum version, if it is older.
"""

    WAIT = r"""
options:
  wait:
    description:
      - Wait until the resource reaches its final status before returning.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait when O(wait=true) before failing.
    type: int
    default: 180
"""
