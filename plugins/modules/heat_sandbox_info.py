#!/usr/bin/python
# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: heat_sandbox_info
short_description: List sandboxes (Heat stacks) with their status, resources, events, outputs and hosts
version_added: 0.1.0
description:
  - Lists the stacks of the project, all of them or those with a given name, name prefix or tags,
    with their status, outputs, resources and most recent events.
  - For sandboxes made by M(opensandbox.cloud.heat_sandbox) from a topology, also lists every node
    with its role and addresses.
  - Draws one sandbox as it is deployed, as an SVG picture (O(diagram_path)).
author:
  - OpenSandbox contributors (@opensandbox)
options:
  name:
    description:
      - Only the stack with this name or ID.
    type: str
  prefix:
    description:
      - Only stacks whose name starts with this.
    type: str
  tags:
    description:
      - Only stacks that have all these tags.
    type: list
    elements: str
  resources:
    description:
      - Whether to list each stack's resources.
    type: bool
    default: true
  events:
    description:
      - How many of each stack's most recent events to list; V(0) lists none.
    type: int
    default: 20
  diagram_path:
    description:
      - Write a picture of the sandbox named by O(name), as it is deployed, to this file, as SVG. The path
        must be absolute. Needs O(name); the task fails when there is no such stack.
      - The picture is drawn from what the cloud has, not from the topology. Each node's addresses are
        those its ports have (the stack's C(nodes) output, which Heat resolves from the ports; for a stack
        made from a raw template, its servers' addresses) and each network's CIDR is its subnet's. Each
        node's addresses on the management network and the uplink, and its floating IP, are written in
        its box. Hidden marks and groups are kept only in the topology, so they are not drawn;
        M(opensandbox.cloud.heat_sandbox)'s O(opensandbox.cloud.heat_sandbox#module:diagram_path) draws them.
      - It has the classes C(os-network), C(os-router) and C(os-server), like the pictures of
        M(opensandbox.cloud.heat_sandbox) and stacksim's dashboard.
      - The file is written only when its content changes, and C(changed) says whether it did. In check
        mode it is not written.
    type: path
extends_documentation_fragment:
  - opensandbox.cloud.openstack
  - opensandbox.cloud.attributes
  - opensandbox.cloud.attributes.actiongroup
attributes:
  check_mode:
    support: full
    details: The module only reads the cloud, so check mode returns the same information; O(diagram_path) is not
      written.
  diff_mode:
    support: full
    details: The module changes nothing in the cloud; the diff shows the picture's file before and after.
  idempotent:
    support: full
"""

EXAMPLES = r"""
- name: List every sandbox of a training run by its tag
  opensandbox.cloud.heat_sandbox_info:
    cloud: stacksim
    tags: [training]
  register: run

- name: Show each sandbox's status
  ansible.builtin.debug:
    msg: "{{ run.sandboxes | map(attribute='name') | zip(run.sandboxes | map(attribute='status')) | list }}"

- name: Look at one sandbox, with its last five events
  opensandbox.cloud.heat_sandbox_info:
    cloud: stacksim
    name: small-sandbox
    events: 5
  register: one

- name: List the sandboxes whose name starts with team
  opensandbox.cloud.heat_sandbox_info:
    cloud: stacksim
    prefix: team
    resources: false
    events: 0

- name: Draw the deployed sandbox, with the addresses its nodes really have
  opensandbox.cloud.heat_sandbox_info:
    cloud: stacksim
    name: small-sandbox
    events: 0
    diagram_path: "{{ playbook_dir }}/small-sandbox.deployed.svg"
"""

RETURN = r"""
sandboxes:
  description: The matching stacks, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Stack ID.
      type: str
    name:
      description: Stack name.
      type: str
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
      description: Tags, sorted.
      type: list
      elements: str
    created_at:
      description: When the stack was created.
      type: str
    updated_at:
      description: When the stack was last updated.
      type: str
    outputs:
      description: Outputs, sorted by key, each with C(key), C(value) and C(description).
      type: list
      elements: dict
    hosts:
      description:
        - Every node of a sandbox made from a topology, with C(name), C(role), C(server_name), C(server_id),
          C(addresses) (by network) and C(floating_ip); empty for other stacks.
      type: list
      elements: dict
    resources:
      description:
        - The stack's resources, sorted by name, each with C(name), C(type), C(status), C(status_reason)
          and C(physical_id). Empty when O(resources=false).
      type: list
      elements: dict
    events:
      description:
        - The stack's most recent events, oldest first, each with C(time), C(resource_name), C(status)
          and C(reason). Empty when O(events=0).
      type: list
      elements: dict
diagram_path:
  description: Where the picture was written.
  returned: when O(diagram_path) is given
  type: str
  sample: /home/user/small-sandbox.deployed.svg
"""

import os
from typing import Any

from ansible_collections.opensandbox.cloud.plugins.module_utils._diagram import render_svg
from ansible_collections.opensandbox.cloud.plugins.module_utils._kinds import STACK
from ansible_collections.opensandbox.cloud.plugins.module_utils._local_file import file_diff, sync_text_file
from ansible_collections.opensandbox.cloud.plugins.module_utils._module import AnsibleOpenStackModule
from ansible_collections.opensandbox.cloud.plugins.module_utils._resources import find
from ansible_collections.opensandbox.cloud.plugins.module_utils._sandbox import network_cidrs, server_hosts, stack_view
from ansible_collections.opensandbox.cloud.plugins.module_utils._sandbox_diagram import deployed_diagram
from ansible_collections.opensandbox.cloud.plugins.module_utils._topology_inventory import nodes_output, sandbox_hosts

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "name": {"type": "str"},
    "prefix": {"type": "str"},
    "tags": {"type": "list", "elements": "str"},
    "resources": {"type": "bool", "default": True},
    "events": {"type": "int", "default": 20},
    "diagram_path": {"type": "path"},
}


def describe(module: AnsibleOpenStackModule, stack: Any) -> dict[str, Any]:
    conn = module.conn
    view = stack_view(stack)
    view["hosts"] = sandbox_hosts(nodes_output(stack.outputs))
    view["resources"] = []
    if module.params["resources"]:
        listed = module.call(conn.orchestration.resources, stack) or []
        view["resources"] = sorted(
            (
                {
                    "name": r.name,
                    "type": r.resource_type,
                    "status": r.status,
                    "status_reason": r.status_reason,
                    "physical_id": r.physical_resource_id,
                }
                for r in listed
            ),
            key=lambda r: r["name"] or "",
        )
    view["events"] = []
    if module.params["events"] > 0:
        listed = module.call(conn.orchestration.stack_events, stack) or []
        view["events"] = [
            {
                "time": e.event_time,
                "resource_name": e.resource_name,
                "status": e.resource_status,
                "reason": e.resource_status_reason,
            }
            for e in listed[-module.params["events"] :]
        ]
    return view


def draw(module: AnsibleOpenStackModule, stack: Any) -> str:
    """The deployed sandbox's picture: its nodes' real addresses and its networks' CIDRs."""
    nodes = nodes_output(stack.outputs)
    hosts = sandbox_hosts(nodes) if nodes else server_hosts(module, stack)
    diagram = deployed_diagram(stack.name, hosts, network_cidrs(module, stack), sandbox=bool(nodes))
    return render_svg(diagram)


def write_diagram(module: AnsibleOpenStackModule, stack: Any) -> dict[str, Any]:
    """Draw the stack to ``diagram_path``: the result's ``changed``, ``diagram_path`` and ``diff``."""
    path = module.params["diagram_path"]
    content = draw(module, stack)
    changed, before = sync_text_file(module, path, content, "picture")
    result: dict[str, Any] = {"changed": changed, "diagram_path": path}
    if changed:
        result["diff"] = file_diff(path, before, content)
    return result


def main() -> None:
    module = AnsibleOpenStackModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    p = module.params
    if p["events"] < 0:
        module.fail_json(msg=f"events must be 0 or more, not {p['events']}")
    if p["diagram_path"]:
        if not p["name"]:
            module.fail_json(msg="diagram_path needs name: the picture is of one sandbox")
        if not os.path.isabs(p["diagram_path"]):
            module.fail_json(
                msg=f"diagram_path must be an absolute path, not {p['diagram_path']!r}: the module runs in a "
                f'temporary directory. Use for example "{{{{ playbook_dir }}}}/{p["diagram_path"]}".'
            )
    conn = module.conn
    if p["name"]:
        # Showing one stack reads it whole; a listing gives summaries without outputs.
        found = find(module, STACK, p["name"])
        summaries, full = ([found] if found is not None else []), True
    else:
        query = {"tags": list(p["tags"])} if p["tags"] else {}
        summaries, full = module.call(conn.orchestration.stacks, **query) or [], False
    wanted_tags = set(p["tags"] or [])
    stacks = []
    for summary in summaries:
        if p["prefix"] and not (summary.name or "").startswith(p["prefix"]):
            continue
        if not wanted_tags <= set(summary.tags or []):
            continue
        stack = summary if full else module.call_or_none(conn.orchestration.get_stack, summary.id)
        if stack is not None:
            stacks.append(describe(module, stack))
    result: dict[str, Any] = {"changed": False}
    if p["diagram_path"]:
        if not stacks:
            module.fail_json(msg=f"No sandbox {p['name']!r} to draw: there is no stack of that name or ID")
        result.update(write_diagram(module, summaries[0]))
    module.exit_json(sandboxes=sorted(stacks, key=lambda s: s["name"] or ""), **result)


if __name__ == "__main__":
    main()
