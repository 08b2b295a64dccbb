#!/usr/bin/python
# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: heat_sandbox
short_description: Deploy, update, suspend, resume and delete cyber-range sandboxes as Heat stacks
version_added: 0.1.0
description:
  - Deploys a whole training sandbox (hosts, router hosts, networks, a management node and a
    user access node) as one Heat stack, from a topology definition in the CyberRangeCZ (formerly
    KYPO) format, or deploys a raw Heat template with its parameters, environment and files.
  - A topology is checked before anything is made. Every problem is reported in one run, each
    naming its element, among them names (a lowercase letter first, then letters, digits and
    dashes), overlapping CIDRs, fixed IPs outside their network or used twice, references to hosts,
    router hosts, networks and groups that are not defined, images, flavors, key pairs and networks
    the cloud does not have, and the project's quota less what it already uses.
  - The topology is rendered to a HOT template the way CyberRangeCZ's OpenStack driver lays out a
    sandbox. Each topology network gets a subnet whose gateway is its router host. Hosts and router
    hosts get ports with their fixed IPs, and the router hosts' ports allow any address so they can
    route. A management node C(man) sits on the management network that every node joins, on the
    WAN to the router hosts and on the uplink, with a floating IP. On the WAN, C(man) has the first
    address and the router hosts the next ones, and the WAN's host routes lead to each topology
    network through its router host, so hosts on different networks reach each other through them.
    A user access node C(uan) joins the networks that are C(accessible_by_user). Every server has a
    config drive; hosts that list C(volumes) boot from the first. Every OpenStack name starts with
    O(resource_prefix). The same topology always renders the same template.
  - An unchanged sandbox reports C(changed=false). The module compares the template, parameters,
    environment, files and tags with the stack's own instead of always updating.
  - A failed create is rolled back and the stack deleted, so nothing is left, and the module fails
    with Heat's reasons from the stack's events.
  - Returns the stack, every host with its addresses, and an Ansible inventory (groups from the
    topology, C(ansible_host), C(ansible_user) from C(mgmt_user), an SSH C(ProxyJump) through the
    management node), which O(inventory_path) also writes to a file.
  - Draws the sandbox as an SVG picture (O(diagram_path)), also before it exists (O(render_only=true)).
author:
  - OpenSandbox contributors (@opensandbox)
options:
  name:
    description:
      - Name of the stack.
      - Defaults to the topology's C(name). Required with O(template) or O(template_file).
    type: str
  state:
    description:
      - V(present) creates the sandbox or updates it to match, and waits. A suspended sandbox stays suspended.
      - V(absent) deletes it and waits; the file at O(inventory_path) is removed too.
      - V(suspended) suspends every server of the sandbox; V(resumed) resumes a suspended sandbox.
        Both need the sandbox to exist and leave its template as it is.
    type: str
    choices: [present, absent, suspended, resumed]
    default: present
  topology:
    description:
      - The topology definition, as data (for example C("{{ lookup('file', 'topology.yml') | from_yaml }}")).
      - Keys are those of CyberRangeCZ's topology definition, C(name), C(hosts), C(routers), C(wan),
        C(networks), C(net_mappings), C(router_mappings) and C(groups). The old names C(man_user)
        and C(mng_protocol), C(provider) and a router's C(cidr) are accepted.
      - C(user_access) (default V(true)) says whether the sandbox gets a user access node.
      - C(monitoring_targets) and C(vpn) are accepted and not deployed.
      - Mutually exclusive with O(topology_file), O(template) and O(template_file).
    type: dict
  topology_file:
    description:
      - Absolute path to a topology definition file (YAML), on the host that runs the module.
    type: path
  template:
    description:
      - A raw Heat template (HOT), as data, instead of a topology.
    type: dict
  template_file:
    description:
      - Absolute path to a raw Heat template file (YAML or JSON), on the host that runs the module.
    type: path
  parameters:
    description:
      - Parameters of the raw template.
    type: dict
  environment:
    description:
      - Environment of the raw template (C(parameters), C(parameter_defaults), C(resource_registry)).
    type: dict
  files:
    description:
      - Files the raw template or its environment refer to, by name, with their contents as text.
    type: dict
  tags:
    description:
      - Tags of the stack. When not given, the stack's tags are left as they are.
    type: list
    elements: str
  resource_prefix:
    description:
      - What every OpenStack name of the sandbox starts with.
      - Defaults to the stack's name and a dash.
    type: str
  key_name:
    description:
      - Key pair to inject into every node of the sandbox.
    type: str
  management:
    description:
      - What the management node and the user access node boot.
      - Each field defaults to the first router host's (or, without router hosts, the first host's).
    type: dict
    suboptions:
      image:
        description: Image name or ID.
        type: str
      flavor:
        description: Flavor name or ID.
        type: str
      user:
        description: User that logs in to them (the C(ProxyJump) user).
        type: str
  management_cidr:
    description:
      - CIDR of the management network that joins every node. It may not overlap the topology's networks.
    type: str
    default: 192.168.128.0/17
  uplink_cidr:
    description:
      - CIDR of the uplink network the sandbox makes for its management node, when O(uplink_network) is not given.
    type: str
    default: 192.168.127.0/24
  uplink_network:
    description:
      - An existing network (name or ID) for the management node's uplink, instead of one the sandbox makes.
    type: str
  external_network:
    description:
      - External network (name or ID) of the uplink router's gateway and of the management node's floating IP.
      - An empty string means no router and no floating IP; the management node is then reached at its
        uplink address.
    type: str
    default: public
  user_access:
    description:
      - Whether the sandbox gets a user access node, overriding the topology's C(user_access).
    type: bool
  render_only:
    description:
      - Return the rendered template (RV(template)) without touching the cloud, and write the sandbox's
        picture to O(diagram_path) when it is given. O(state) is not used.
      - Only the checks that need no cloud are made (names, CIDRs, addresses, references); a topology
        with a problem fails the task, listing them all, and nothing is written.
      - C(changed) says whether the picture's file changed; with C(--diff) the diff shows it.
    type: bool
    default: false
  inventory_path:
    description:
      - Also write the inventory (RV(inventory)) to this file, as YAML. The path must be absolute.
      - The file is written only when its content changes; with O(state=absent) it is removed.
    type: path
  diagram_path:
    description:
      - Also write a picture of the sandbox to this file, as SVG. The path must be absolute. Needs a
        O(topology) or O(topology_file), except with O(state=absent).
      - The picture is drawn from the topology alone, so it is the same before and after the sandbox is
        deployed. It shows the WAN with the management node C(man) and the router hosts, the topology's
        networks with their CIDRs, the user access node C(uan) when there is one, and the hosts, each
        linked to its networks and labelled with its address there. Hidden hosts and networks are dashed
        and marked, and the groups are listed under it.
      - Its elements carry the classes C(os-network), C(os-router) and C(os-server), a C(<title>) and
        their names as text, like the pictures of stacksim's dashboard.
      - The file is written only when its content changes, after the sandbox is deployed (not when the
        deployment fails); with O(state=absent) it is removed. In check mode it is not written (as the
        inventory is not), and C(changed) says whether it would be.
      - With O(render_only=true), the picture is written without touching the cloud.
    type: path
extends_documentation_fragment:
  - opensandbox.cloud.openstack
  - opensandbox.cloud.openstack.wait
  - opensandbox.cloud.attributes
  - opensandbox.cloud.attributes.actiongroup
attributes:
  check_mode:
    support: full
    details:
      - Reports what would change; for a sandbox that exists, from Heat's preview of the update.
      - Files (O(inventory_path), O(diagram_path)) are not written in check mode.
  diff_mode:
    support: full
    details:
      - Shows the stack's template before and after, and Heat's plan in the header.
      - With O(render_only=true), shows the picture's file before and after.
  idempotent:
    support: full
notes:
  - The module waits with a short, growing poll interval (0.1 s up to 2 s), so a sandbox on a fast
    cloud is reported as soon as it is ready.
  - The inventory's C(ProxyJump) is an SSH option; nodes with C(mgmt_protocol=winrm) are in the
    C(winrm_nodes) group and need a tunnel through the management node.
seealso:
  - module: opensandbox.cloud.heat_sandbox_info
  - name: CyberRangeCZ topology definition
    description: The topology format this module reads.
    link: https://docs.crp.kypo.muni.cz/user-guide-advanced/sandboxes/topology-definition/
"""

EXAMPLES = r"""
- name: Deploy a sandbox from a topology file and write its inventory
  opensandbox.cloud.heat_sandbox:
    cloud: stacksim
    topology_file: "{{ playbook_dir }}/files/small-sandbox.yaml"
    inventory_path: "{{ playbook_dir }}/small-sandbox.inventory.yml"
  register: sandbox

- name: Show how to reach each host
  ansible.builtin.debug:
    msg: "{{ item.name }}: {{ item.addresses }}"
  loop: "{{ sandbox.hosts }}"
  loop_control:
    label: "{{ item.name }}"

- name: Render the template only, to look at it
  opensandbox.cloud.heat_sandbox:
    topology: "{{ lookup('ansible.builtin.file', 'sandbox.yaml') | from_yaml }}"
    render_only: true
  register: rendered

- name: Draw the sandbox before it exists; the cloud is not touched
  opensandbox.cloud.heat_sandbox:
    topology_file: "{{ playbook_dir }}/files/sandbox.yaml"
    render_only: true
    diagram_path: "{{ playbook_dir }}/sandbox.svg"

- name: Deploy a sandbox and keep its picture beside its inventory
  opensandbox.cloud.heat_sandbox:
    cloud: stacksim
    topology_file: "{{ playbook_dir }}/files/sandbox.yaml"
    inventory_path: "{{ playbook_dir }}/sandbox.inventory.yml"
    diagram_path: "{{ playbook_dir }}/sandbox.svg"

- name: Deploy a second copy of the same topology, with a key pair and its own prefix
  opensandbox.cloud.heat_sandbox:
    cloud: stacksim
    name: sandbox-team2
    resource_prefix: team2-
    topology_file: "{{ playbook_dir }}/files/sandbox.yaml"
    key_name: instructor
    tags: [training, team2]

- name: Deploy a raw Heat template
  opensandbox.cloud.heat_sandbox:
    cloud: stacksim
    name: web-tier
    template_file: "{{ playbook_dir }}/templates/web.yaml"
    parameters:
      flavor: m1.small
    environment:
      parameter_defaults:
        image: cirros-0.6.2-x86_64-disk

- name: Suspend the sandbox overnight
  opensandbox.cloud.heat_sandbox:
    cloud: stacksim
    name: small-sandbox
    state: suspended

- name: Resume it in the morning
  opensandbox.cloud.heat_sandbox:
    cloud: stacksim
    name: small-sandbox
    state: resumed

- name: Delete the sandbox, its inventory file and its picture
  opensandbox.cloud.heat_sandbox:
    cloud: stacksim
    name: small-sandbox
    state: absent
    inventory_path: "{{ playbook_dir }}/small-sandbox.inventory.yml"
    diagram_path: "{{ playbook_dir }}/small-sandbox.svg"
"""

RETURN = r"""
stack:
  description: The sandbox's stack; V(null) when it does not exist (or, in check mode, is not made yet).
  returned: always
  type: dict
  contains:
    id:
      description: Stack ID.
      type: str
    name:
      description: Stack name.
      type: str
      sample: small-sandbox
    status:
      description: Stack status.
      type: str
      sample: CREATE_COMPLETE
    status_reason:
      description: Heat's reason for the status.
      type: str
    description:
      description: The template's description.
      type: str
    parameters:
      description: The stack's parameters, Heat's own C(OS::) ones included.
      type: dict
    tags:
      description: Tags of the stack, sorted.
      type: list
      elements: str
    created_at:
      description: When the stack was created.
      type: str
    updated_at:
      description: When the stack was last updated.
      type: str
    outputs:
      description: The stack's outputs, sorted by key.
      type: list
      elements: dict
      contains:
        key:
          description: Output name.
          type: str
        value:
          description: Output value.
          type: raw
        description:
          description: Output description.
          type: str
hosts:
  description:
    - Every server of the sandbox with its addresses.
    - For a topology, the nodes C(man), C(uan) (when there is user access), the hosts and the router hosts.
  returned: when the stack exists
  type: list
  elements: dict
  contains:
    name:
      description: Node name from the topology (for a raw template, the server's name).
      type: str
      sample: server
    role:
      description:
        - V(management), V(user-access), V(host) or V(router); for a raw template, the server's resource name.
      type: str
    server_name:
      description: Nova server name (with O(resource_prefix)).
      type: str
      sample: small-sandbox-server
    server_id:
      description: Nova server ID.
      type: str
    addresses:
      description: Fixed IP on each network, by network name (the topology's names, C(man-network), C(uplink)).
      type: dict
      sample: {"man-network": "192.168.128.3", "server-switch": "10.10.20.5"}
    floating_ip:
      description: Floating IP, if the node has one.
      type: str
inventory:
  description:
    - An Ansible YAML inventory of the sandbox, as data.
    - Groups are the topology's, plus C(hosts), C(routers), C(management), C(ssh_nodes), C(winrm_nodes),
      C(user_accessible_nodes) and C(hidden_hosts).
  returned: when the stack exists
  type: dict
  sample:
    all:
      hosts:
        man: {ansible_host: 172.24.4.3, ansible_user: cirros}
        server:
          ansible_host: 192.168.128.3
          ansible_user: cirros
          ansible_ssh_common_args: -o ProxyJump=cirros@172.24.4.3
      children:
        hosts: {hosts: {server: {}}}
inventory_path:
  description: Where the inventory was written (or removed).
  returned: when O(inventory_path) is given
  type: str
diagram_path:
  description: Where the sandbox's picture was written (or removed).
  returned: when O(diagram_path) is given
  type: str
  sample: /home/user/sandbox.svg
changes:
  description:
    - What was (or, in check mode, would be) done to the stack's resources, by resource name.
    - For an update, Heat's own preview of it.
  returned: always
  type: dict
  contains:
    added:
      description: Resources made.
      type: list
      elements: str
    updated:
      description: Resources changed in place.
      type: list
      elements: str
    replaced:
      description: Resources replaced by new ones.
      type: list
      elements: str
    deleted:
      description: Resources deleted.
      type: list
      elements: str
template:
  description: The rendered HOT template.
  returned: when O(render_only=true)
  type: dict
"""

import copy
import dataclasses
import math
import os
import traceback
from collections.abc import Mapping
from typing import Any

from ansible.module_utils.common.yaml import HAS_YAML, yaml_load

from ansible_collections.opensandbox.cloud.plugins.module_utils._diagram import render_svg
from ansible_collections.opensandbox.cloud.plugins.module_utils._kinds import STACK
from ansible_collections.opensandbox.cloud.plugins.module_utils._local_file import file_diff, sync_text_file
from ansible_collections.opensandbox.cloud.plugins.module_utils._module import AnsibleOpenStackModule
from ansible_collections.opensandbox.cloud.plugins.module_utils._resources import find
from ansible_collections.opensandbox.cloud.plugins.module_utils._sandbox import (
    CHANGE_KINDS,
    cloud_facts,
    failure_reasons,
    finished,
    never,
    normalized_environment,
    plain_data,
    preview_update,
    same_data,
    server_hosts,
    stack_view,
    stored_environment,
    stored_files,
    stored_template,
)
from ansible_collections.opensandbox.cloud.plugins.module_utils._sandbox_diagram import topology_diagram
from ansible_collections.opensandbox.cloud.plugins.module_utils._topology import Problem, Topology, load_topology
from ansible_collections.opensandbox.cloud.plugins.module_utils._topology_checks import (
    cloud_problems,
    demand_delta,
    format_problems,
    required_names,
    template_demand,
    topology_problems,
)
from ansible_collections.opensandbox.cloud.plugins.module_utils._topology_hot import (
    DEFAULT_EXTERNAL_NETWORK,
    DEFAULT_MANAGEMENT_CIDR,
    DEFAULT_UPLINK_CIDR,
    ManagementBox,
    SandboxOptions,
    dump_template,
    management_box,
    render_template,
)
from ansible_collections.opensandbox.cloud.plugins.module_utils._topology_inventory import (
    build_inventory,
    dump_inventory,
    nodes_output,
    plain_inventory,
    sandbox_hosts,
)
from ansible_collections.opensandbox.cloud.plugins.module_utils._wait import wait_for, wait_for_delete

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "name": {"type": "str"},
    "state": {"type": "str", "default": "present", "choices": ["present", "absent", "suspended", "resumed"]},
    "topology": {"type": "dict"},
    "topology_file": {"type": "path"},
    "template": {"type": "dict"},
    "template_file": {"type": "path"},
    "parameters": {"type": "dict"},
    "environment": {"type": "dict"},
    "files": {"type": "dict"},
    "tags": {"type": "list", "elements": "str"},
    "resource_prefix": {"type": "str"},
    "key_name": {"type": "str", "no_log": False},
    "management": {
        "type": "dict",
        "options": {"image": {"type": "str"}, "flavor": {"type": "str"}, "user": {"type": "str"}},
    },
    "management_cidr": {"type": "str", "default": DEFAULT_MANAGEMENT_CIDR},
    "uplink_cidr": {"type": "str", "default": DEFAULT_UPLINK_CIDR},
    "uplink_network": {"type": "str"},
    "external_network": {"type": "str", "default": DEFAULT_EXTERNAL_NETWORK},
    "user_access": {"type": "bool"},
    "render_only": {"type": "bool", "default": False},
    "inventory_path": {"type": "path"},
    "diagram_path": {"type": "path"},
}
SOURCES = ("topology", "topology_file", "template", "template_file")
RAW_ONLY = ("parameters", "environment", "files")


@dataclasses.dataclass
class Wish:
    """The sandbox the task asks for."""

    name: str
    template: dict[str, Any] | None = None
    parameters: dict[str, Any] = dataclasses.field(default_factory=dict)
    environment: dict[str, Any] = dataclasses.field(default_factory=dict)
    files: dict[str, str] = dataclasses.field(default_factory=dict)
    tags: list[str] | None = None
    topology: Topology | None = None
    options: SandboxOptions | None = None
    problems: list[Problem] = dataclasses.field(default_factory=list)

    @property
    def from_topology(self) -> bool:
        return self.topology is not None

    def body(self, timeout: int, current_tags: list[str] | None = None) -> dict[str, Any]:
        """What a create or update request carries."""
        tags = self.tags if self.tags is not None else current_tags
        return {
            "template": self.template,
            "parameters": self.parameters,
            "environment": self.environment,
            "files": self.files,
            "tags": list(tags or []),
            "disable_rollback": False,
            "timeout_mins": max(1, math.ceil(timeout / 60)),
        }


def _read_yaml(module: AnsibleOpenStackModule, path: str, what: str) -> Any:
    if not HAS_YAML:
        module.fail_json(msg="PyYAML is needed to read a topology or template file on the host that runs the module")
    try:
        with open(path, encoding="utf-8") as stream:
            return plain_data(yaml_load(stream))
    except OSError as exc:
        module.fail_json(msg=f"Cannot read the {what} {path}: {exc.strerror}")
    except Exception as exc:  # pylint: disable=broad-exception-caught  # any YAML syntax error
        module.fail_json(msg=f"The {what} {path} is not valid YAML: {exc}", exception=traceback.format_exc())


def _options(module: AnsibleOpenStackModule, name: str, topology: Topology) -> SandboxOptions:
    p = module.params
    options = SandboxOptions(
        resource_prefix=p["resource_prefix"] if p["resource_prefix"] is not None else f"{name}-",
        key_name=p["key_name"] or None,
        management_cidr=p["management_cidr"],
        uplink_cidr=p["uplink_cidr"],
        uplink_network=p["uplink_network"] or None,
        external_network=p["external_network"] or None,
        user_access=p["user_access"],
    )
    given = {k: v for k, v in (p["management"] or {}).items() if v}
    if given:
        default = management_box(topology, options)
        box = ManagementBox(
            image=given.get("image", default.image),
            flavor=given.get("flavor", default.flavor),
            user=given.get("user", default.user),
        )
        options = dataclasses.replace(options, management=box)
    return options


def build_wish(module: AnsibleOpenStackModule) -> Wish:
    """Read the task's sandbox: load and check a topology and render it, or take the raw template."""
    p = module.params
    if p["topology"] is not None or p["topology_file"]:
        given = [option for option in RAW_ONLY if p[option]]
        if given:
            module.fail_json(msg=f"{', '.join(given)} go with a raw template, not with a topology")
        data = p["topology"] if p["topology"] is not None else _read_yaml(module, p["topology_file"], "topology file")
        topology, problems, warnings = load_topology(data)
        for warning in warnings:
            module.warn(warning)
        name = p["name"] or topology.name
        if not name:
            module.fail_json(msg="The topology has no name and the name option is not given: give either")
        options = _options(module, name, topology)
        problems += topology_problems(topology, options)
        template = None if problems else render_template(topology, options)
        return Wish(name=name, template=template, tags=p["tags"], topology=topology, options=options, problems=problems)
    if not p["name"]:
        module.fail_json(msg="The name option is required with a raw template (template or template_file)")
    template = None
    if p["template"] is not None or p["template_file"]:
        raw = p["template"] if p["template"] is not None else _read_yaml(module, p["template_file"], "template file")
        if not isinstance(raw, Mapping):
            module.fail_json(msg="The template must be a mapping with heat_template_version and resources")
        template = plain_data(raw)
    files = p["files"] or {}
    wrong = sorted(k for k, v in files.items() if not isinstance(v, str))
    if wrong:
        module.fail_json(msg=f"files must map names to text contents; these are not text: {', '.join(wrong)}")
    return Wish(
        name=p["name"],
        template=template,
        parameters=plain_data(p["parameters"] or {}),
        environment=plain_data(p["environment"] or {}),
        files=dict(files),
        tags=p["tags"],
    )


# -- what a run returns -------------------------------------------------------------------------


def describe(module: AnsibleOpenStackModule, wish: Wish, stack: Any) -> dict[str, Any]:
    """The stack view, its hosts and its inventory.

    A sandbox made from a topology says where its nodes are in its ``nodes`` output; its
    inventory needs the topology too (users, groups), so a task that names the sandbox
    without its topology gets the hosts and an empty inventory. Other stacks' hosts are
    their servers.
    """
    if stack is None:
        return {"stack": None, "hosts": [], "inventory": {}}
    nodes = nodes_output(stack.outputs)
    if nodes:
        hosts = sandbox_hosts(nodes)
        inventory = build_inventory(wish.topology, wish.options, nodes) if wish.from_topology else {}
    else:
        hosts = server_hosts(module, stack)
        inventory = plain_inventory(hosts) if not wish.from_topology else {}
    return {"stack": stack_view(stack), "hosts": hosts, "inventory": inventory}


def sync_inventory_file(module: AnsibleOpenStackModule, inventory: Mapping[str, Any] | None) -> bool:
    """Write (or, for None, remove) the inventory file; True if it changed (or would, in check mode)."""
    content = None if inventory is None else dump_inventory(inventory)
    return sync_text_file(module, module.params["inventory_path"], content, "inventory")[0]


def sandbox_picture(wish: Wish) -> str:
    """The SVG picture of the sandbox the wish's topology deploys to."""
    return render_svg(topology_diagram(wish.topology, wish.options))


def sync_diagram_file(module: AnsibleOpenStackModule, wish: Wish, *, gone: bool = False) -> tuple[bool, dict]:
    """Write the picture to ``diagram_path`` (``gone``: remove it): whether it changed, and the file's diff."""
    path = module.params["diagram_path"]
    content = None if gone else sandbox_picture(wish)
    changed, before = sync_text_file(module, path, content, "picture")
    return changed, file_diff(path, before, content) if changed else {}


def changes(added: list[str] | None = None, **kinds: list[str]) -> dict[str, list[str]]:
    found = {kind: sorted(kinds.get(kind) or []) for kind in CHANGE_KINDS}
    found["added"] = sorted(added or [])
    return found


def template_diff(name: str, before: Any, after: Any, plan: Mapping[str, list[str]]) -> dict[str, Any]:
    counts = ", ".join(f"{len(plan[k])} {k}" for k in CHANGE_KINDS)
    return {
        "before_header": f"{name}: stack template",
        "after_header": f"{name}: stack template ({counts})",
        "before": dump_template(before) if before else "",
        "after": dump_template(after) if after else "",
    }


def finish(
    module: AnsibleOpenStackModule, wish: Wish, stack: Any, changed: bool, plan: dict, diff: dict, *, gone: bool = False
) -> None:
    """Exit with the stack, its hosts and inventory; keep the inventory and picture in step (``gone``: remove them)."""
    result = describe(module, wish, stack)
    if module.params["inventory_path"]:
        if gone:
            changed = sync_inventory_file(module, None) or changed
        elif stack is not None and result["inventory"]:
            changed = sync_inventory_file(module, result["inventory"]) or changed
        result["inventory_path"] = module.params["inventory_path"]
    if module.params["diagram_path"]:
        # The picture is the topology's: the same before the stack exists (check mode) as after.
        changed = sync_diagram_file(module, wish, gone=gone)[0] or changed
        result["diagram_path"] = module.params["diagram_path"]
    module.exit_json(changed=changed, changes=plan, diff=diff, **result)


# -- present --------------------------------------------------------------------------------------


def check_cloud(module: AnsibleOpenStackModule, wish: Wish, old_template: Mapping[str, Any] | None) -> None:
    """Fail, listing every problem, unless the cloud has what the sandbox needs and room for it."""
    needs = required_names(wish.topology, wish.options)
    facts = cloud_facts(
        module,
        need_keypairs=bool(needs["key pair"]),
        need_networks=bool(needs["network"]),
        need_volumes=any(n.volumes for n in wish.topology.nodes),
    )
    demand: dict[str, int] = {}
    if wish.template is not None:
        new = template_demand(wish.template, facts.flavors)
        demand = demand_delta(new, template_demand(old_template, facts.flavors) if old_template else None)
    problems = wish.problems + cloud_problems(needs, facts, demand)
    if problems:
        fail_problems(module, wish, problems)


def fail_problems(module: AnsibleOpenStackModule, wish: Wish, problems: list[Problem]) -> None:
    module.fail_json(
        msg=f"Sandbox {wish.name!r} was not deployed; nothing was changed. Fix these {len(problems)} problem(s) "
        f"of its topology and try again:\n{format_problems(problems)}",
        problems=[str(p) for p in problems],
    )


def unchanged(module: AnsibleOpenStackModule, wish: Wish, stack: Any) -> bool:
    """Whether the stack already is the wish: same template, parameters, environment, files and tags."""
    if wish.tags is not None and sorted(wish.tags) != sorted(stack.tags or []):
        return False
    if not same_data(stored_template(module, stack), wish.template):
        return False
    if wish.from_topology:
        return True  # a rendered sandbox has no parameters, environment or files
    wished = normalized_environment(wish.environment, wish.parameters)
    if not same_data(stored_environment(module, stack), wished):
        return False
    return same_data(stored_files(module, stack), wish.files)


def left_by_failed_create(module: AnsibleOpenStackModule, stack: Any) -> bool:
    """Whether the stack is what a create that failed left (with ``wait=false``, or an interrupted run).

    Such a stack holds nothing worth keeping, so it is made again. A rollback after a
    failed update keeps the sandbox as it was: that one is updated, not made again.
    """
    if stack.status == "CREATE_FAILED":
        return True
    if stack.status not in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED"):
        return False
    resources = module.call(module.conn.orchestration.resources, stack) or []
    return all((r.status or "").startswith(("DELETE", "INIT")) for r in resources)


def settle(module: AnsibleOpenStackModule, stack: Any) -> Any:
    """Wait for an action already under way on the stack to end (its rollback included), whatever its outcome."""
    if finished(stack):
        return stack
    return wait_for(module, STACK, stack, ready=finished, failed=never, what="finish its current action")


def outcome(module: AnsibleOpenStackModule, stack: Any, action: str) -> tuple[Any, list[str]]:
    """Wait (unless ``wait=false``) for the stack's create or update to end: the stack, and Heat's
    reasons when the action failed (empty when it succeeded or was not waited for)."""
    if not module.params["wait"]:
        return module.call(module.conn.orchestration.get_stack, stack.id), []
    stack = wait_for(module, STACK, stack, ready=finished, failed=never, what=f"be {action.lower()}d")
    if stack.status == f"{action}_COMPLETE":
        return stack, []
    return stack, failure_reasons(module, stack) or [f"the stack went to {stack.status} and Heat gives no reason"]


def bullets(reasons: list[str]) -> str:
    return "\n".join(f"- {r}" for r in reasons)


def create(module: AnsibleOpenStackModule, wish: Wish) -> Any:
    """Create the stack and wait; on failure delete what is left and fail with Heat's reasons."""
    conn = module.conn
    made = module.call(conn.orchestration.create_stack, name=wish.name, **wish.body(module.params["timeout"]))
    stack, reasons = outcome(module, made, "CREATE")
    if reasons:
        module.call(conn.orchestration.delete_stack, stack)
        wait_for_delete(module, STACK, stack)
        module.fail_json(
            msg=f"Sandbox {wish.name!r} failed to deploy ({stack.status}); Heat rolled it back and the module "
            f"deleted the stack, so nothing is left of it. Heat's reasons:\n{bullets(reasons)}",
            reasons=reasons,
        )
    return stack


def update(module: AnsibleOpenStackModule, wish: Wish, stack: Any) -> Any:
    """Update the stack and wait; on failure, fail with Heat's reasons (Heat rolls the update back)."""
    module.call(module.conn.orchestration.update_stack, stack, **wish.body(module.params["timeout"], stack.tags))
    stack, reasons = outcome(module, stack, "UPDATE")
    if reasons:
        module.fail_json(
            msg=f"Sandbox {wish.name!r} failed to update ({stack.status}); Heat's reasons:\n{bullets(reasons)}",
            reasons=reasons,
            stack=stack_view(stack),
        )
    return stack


def present(module: AnsibleOpenStackModule, wish: Wish, stack: Any) -> None:
    if wish.problems:
        check_cloud(module, wish, None)  # adds what the cloud lacks to the topology's problems, and fails
    if wish.template is None:
        module.fail_json(msg="state=present needs a topology, topology_file, template or template_file")
    name = wish.name
    if stack is not None:
        stack = settle(module, stack)
    leftover = stack is not None and left_by_failed_create(module, stack)
    if stack is None or leftover:
        if wish.from_topology:
            check_cloud(module, wish, None)
        plan = changes(added=list(wish.template.get("resources") or {}))
        diff = template_diff(name, None, wish.template, plan)
        if module.check_mode:
            finish(module, wish, None, True, plan, diff)
        if leftover:
            # What a failed create left holds nothing worth keeping: delete it, then create afresh.
            module.call(module.conn.orchestration.delete_stack, stack)
            wait_for_delete(module, STACK, stack)
        finish(module, wish, create(module, wish), True, plan, diff)
    if unchanged(module, wish, stack):
        finish(module, wish, stack, False, changes(), {})
    old_template = stored_template(module, stack)
    if wish.from_topology:
        check_cloud(module, wish, old_template)
    plan = preview_update(module, stack, wish.body(module.params["timeout"], stack.tags))
    diff = template_diff(name, old_template, wish.template, plan)
    if module.check_mode:
        finish(module, wish, stack, True, plan, diff)
    finish(module, wish, update(module, wish, stack), True, plan, diff)


# -- absent, suspended, resumed -------------------------------------------------------------------


def absent(module: AnsibleOpenStackModule, wish: Wish, stack: Any) -> None:
    if stack is None:
        finish(module, wish, None, False, changes(), {}, gone=True)
    stack = settle(module, stack)
    old_template = stored_template(module, stack)
    plan = changes(deleted=list(old_template.get("resources") or {}))
    diff = template_diff(wish.name, old_template, None, plan)
    if not module.check_mode:
        module.call(module.conn.orchestration.delete_stack, stack)
        if module.params["wait"]:
            wait_for_delete(module, STACK, stack)
    finish(module, wish, None, True, plan, diff, gone=True)


def suspend_or_resume(module: AnsibleOpenStackModule, wish: Wish, stack: Any) -> None:
    state = module.params["state"]
    if stack is None:
        module.fail_json(msg=f"No sandbox {wish.name!r} to {state[:-2]}: deploy it first with state=present")
    stack = settle(module, stack)
    suspended = stack.status == "SUSPEND_COMPLETE"
    if (state == "suspended") == suspended:
        finish(module, wish, stack, False, changes(), {})
    orchestration = module.conn.orchestration
    action, goal = (
        (orchestration.suspend_stack, "SUSPEND") if state == "suspended" else (orchestration.resume_stack, "RESUME")
    )
    before = stack.status
    if module.check_mode:
        diff = {"before": {"status": before}, "after": {"status": f"{goal}_COMPLETE"}}
        finish(module, wish, stack, True, changes(), diff)
    module.call(action, stack)
    if module.params["wait"]:
        stack = wait_for(module, STACK, stack, ready={f"{goal}_COMPLETE"}, failed={f"{goal}_FAILED"})
    else:
        stack = module.call(orchestration.get_stack, stack.id)
    finish(module, wish, stack, True, changes(), {"before": {"status": before}, "after": {"status": stack.status}})


def render_only(module: AnsibleOpenStackModule, wish: Wish) -> None:
    """Check the topology as far as no cloud is needed, return its template and write its picture."""
    if not wish.from_topology:
        module.fail_json(msg="render_only needs a topology or topology_file")
    if wish.problems:
        fail_problems(module, wish, wish.problems)
    result: dict[str, Any] = {"changed": False, "template": copy.deepcopy(wish.template), "changes": changes()}
    if module.params["diagram_path"]:
        result["changed"], diff = sync_diagram_file(module, wish)
        result["diagram_path"] = module.params["diagram_path"]
        if diff:
            result["diff"] = diff
    module.exit_json(**result)


def check_paths(module: AnsibleOpenStackModule) -> None:
    """Paths must be absolute: a module runs in a temporary directory, not where the playbook was started."""
    for option in ("topology_file", "template_file", "inventory_path", "diagram_path"):
        path = module.params[option]
        if path and not os.path.isabs(path):
            module.fail_json(
                msg=f"{option} must be an absolute path, not {path!r}: the module runs in a temporary directory. "
                f'Use for example "{{{{ playbook_dir }}}}/{path}".'
            )


def main() -> None:
    module = AnsibleOpenStackModule(
        argument_spec=ARGUMENT_SPEC,
        with_wait=True,
        supports_check_mode=True,
        mutually_exclusive=[SOURCES],
    )
    p = module.params
    check_paths(module)
    wish = build_wish(module)
    if p["render_only"]:
        render_only(module, wish)
    if p["diagram_path"] and not wish.from_topology and p["state"] != "absent":
        module.fail_json(msg="diagram_path needs a topology or topology_file: the picture is drawn from the topology")
    stack = find(module, STACK, wish.name)
    if p["state"] == "present":
        present(module, wish, stack)
    elif p["state"] == "absent":
        absent(module, wish, stack)
    else:
        suspend_or_resume(module, wish, stack)


if __name__ == "__main__":
    main()
