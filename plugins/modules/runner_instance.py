#!/usr/bin/python
# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: runner_instance
short_description: Launch and reconcile self-hosted GitHub Actions runners on OpenStack
version_added: 0.1.0
description:
  - Keeps O(count) healthy runner servers of a O(prefix), the way GitHub's runner operator
    does on OpenStack. Each run reconciles the runners of the prefix.
  - Runners are named C(<prefix>-<12 hex digits>) and boot from the newest active revision of
    the runner image O(image) made by M(opensandbox.cloud.runner_image); the module fails
    when there is none, and never boots from a deleted image.
  - Each runner's cloud-init user data writes the runner's environment (C(.env)), registers it
    with C(config.sh --url ... --token ... --ephemeral --unattended --labels ... --name ...),
    runs C(run.sh), and powers the server off when the runner's one job is done.
  - Runners carry server metadata naming their prefix (C(prefix)), platform (C(platform_name))
    and URL (C(url)); only servers whose metadata and name both match O(prefix) are touched.
  - "Reconcile: runners that are C(ACTIVE), or in C(BUILD) for less than O(build_timeout),
    are healthy and kept. Unhealthy runners (C(ERROR), overdue in C(BUILD), C(SHUTOFF) after
    their job, or any other status) are deleted with their key pairs; of several servers with
    one name the newest healthy one is kept; missing runners are created; runners above
    O(count) are deleted, those still building first, then the newest."
  - The security group O(security_group) is made if missing and given the rules runners need
    (ICMP and SSH in, and O(ingress_tcp_ports)); only missing rules are added.
  - A new runner that goes to C(ERROR), or is not C(ACTIVE) within O(timeout), is deleted
    (with its key pair) and the module fails; nothing is left behind.
  - O(state=absent) deletes every runner of the prefix, and the prefix's key pairs.
author:
  - OpenSandbox contributors (@opensandbox)
options:
  prefix:
    description:
      - Names the fleet; its runners are C(<prefix>-<12 hex digits>).
      - Letters, digits, C(.), C(_) and C(-), starting and ending with a letter or digit, at most 51 characters
        (a runner name has at most 64).
    type: str
    required: true
  state:
    description:
      - V(present) reconciles the fleet towards O(count) healthy runners.
      - V(absent) deletes every runner of the prefix and its key pairs.
    type: str
    choices: [present, absent]
    default: present
  count:
    description:
      - How many healthy runners the fleet has. V(0) deletes them all but keeps the security group.
    type: int
    default: 1
  image:
    description:
      - Name of the runner image (see M(opensandbox.cloud.runner_image)); runners boot from its
        newest active revision. Required with O(state=present).
    type: str
  flavor:
    description:
      - Flavor (name or ID) of the runners. Required with O(state=present).
    type: str
  network:
    description:
      - Network (name or ID) of the runners. Required with O(state=present).
    type: str
  github_path:
    description:
      - The organisation (V(ORG)) or repository (V(OWNER/REPO)) the runners register with.
        Required with O(state=present).
    type: str
  github_url:
    description:
      - GitHub's address; change it for GitHub Enterprise Server.
    type: str
    default: https://github.com
  registration_token:
    description:
      - The runner registration token of O(github_path) (it expires after an hour). It is only
        written into the user data of new runners, and appears in no output of the module.
      - Required with O(state=present).
    type: str
  labels:
    description:
      - Labels of the runners (GitHub adds its default labels too), without commas or spaces.
    type: list
    elements: str
    default: []
  runner_group:
    description:
      - Runner group of the organisation to register the runners in.
    type: str
  environment:
    description:
      - Extra variables for the runner's environment (its C(.env) file).
    type: dict
    default: {}
  http_proxy:
    description:
      - HTTP proxy for jobs, written to the runner's environment.
    type: str
  https_proxy:
    description:
      - HTTPS proxy for jobs, written to the runner's environment.
    type: str
  no_proxy:
    description:
      - Hosts that bypass the proxy, written to the runner's environment.
    type: str
  security_group:
    description:
      - Security group of the runners, made if missing (in the current project).
    type: str
    default: github-runner-v1
  ingress_tcp_ports:
    description:
      - TCP ports to let in besides SSH (22); ICMP is always let in.
    type: list
    elements: int
    default: []
  key_pair:
    description:
      - Give each runner its own key pair, named like the runner and deleted with it. Its private
        key is written to O(key_dir) as C(<runner name>.key).
    type: bool
    default: false
  key_dir:
    description:
      - Directory (on the host the module runs on) for the runners' private keys. Required with O(key_pair=true).
    type: path
  config_drive:
    description:
      - Give the runners a config drive (the runner operator does, so the user data does not
        depend on the metadata service).
    type: bool
    default: true
  build_timeout:
    description:
      - Seconds a runner may stay in C(BUILD) and still count as healthy; older ones are deleted
        and replaced.
    type: int
    default: 3600
notes:
  - With O(wait=true) the module waits up to O(timeout) seconds for new runners to become C(ACTIVE)
    and for removed ones to be gone.
  - Runs of the module for one prefix must not overlap.
  - Whether a runner is overdue is judged with this host's clock against the server's creation time.
  - With stacksim's C(fake) compute driver the user data is shown in the server's console log.
seealso:
  - module: opensandbox.cloud.runner_image
extends_documentation_fragment:
  - opensandbox.cloud.openstack
  - opensandbox.cloud.openstack.wait
  - opensandbox.cloud.attributes
  - opensandbox.cloud.attributes.actiongroup
  - opensandbox.cloud.attributes.stateful_module
"""

EXAMPLES = r"""
- name: Keep three runners for a repository
  opensandbox.cloud.runner_instance:
    cloud: mycloud
    prefix: ci-jammy
    count: 3
    image: runner-jammy
    flavor: m1.medium
    network: runners
    github_path: octo-org/octo-repo
    registration_token: "{{ github_runner_token }}"
    labels: [self-hosted, jammy]
    ingress_tcp_ports: [10022]
  register: fleet

- name: Show what the reconcile did
  ansible.builtin.debug:
    msg: >-
      kept {{ fleet.runners | length - fleet.created | length }},
      created {{ fleet.created | map(attribute='name') | list }},
      removed {{ fleet.removed | map(attribute='name') | list }}

- name: Remove every runner of the fleet
  opensandbox.cloud.runner_instance:
    cloud: mycloud
    prefix: ci-jammy
    state: absent
"""

RETURN = r"""
runners:
  description:
    - The runners of the prefix after the run (kept and created), sorted by name.
    - In check mode, runners to be created have V(null) IDs and statuses.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Server ID.
      type: str
    name:
      description: Runner (and server) name.
      type: str
      sample: ci-jammy-3f9a0c2b71de
    status:
      description: Server status.
      type: str
      sample: ACTIVE
    flavor:
      description: Flavor name.
      type: str
    image_id:
      description: ID of the image the runner booted from.
      type: str
    key_name:
      description: The runner's key pair, if any.
      type: str
    addresses:
      description: The server's addresses, by network.
      type: dict
    metadata:
      description: Server metadata (C(prefix), C(platform_name), C(url), C(runner_image)).
      type: dict
    availability_zone:
      description: Availability zone.
      type: str
    fault:
      description: The fault message of a failed server.
      type: str
    created_at:
      description: When the server was created.
      type: str
    updated_at:
      description: When the server last changed.
      type: str
created:
  description: The runners created (in check mode, to be created); same keys as RV(runners).
  returned: always
  type: list
  elements: dict
removed:
  description: The runners deleted (in check mode, to be deleted), with why.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Server ID.
      type: str
    name:
      description: Server name.
      type: str
    status:
      description: Its status when it was judged.
      type: str
    reason:
      description: Why it was deleted.
      type: str
      sample: in ERROR
keypairs_removed:
  description: Key pairs of the prefix deleted (the removed runners' own ones, and ones left without a runner).
  returned: always
  type: list
  elements: str
image:
  description: The runner image revision new runners boot from; V(null) with O(state=absent).
  returned: always
  type: dict
  contains:
    id:
      description: Image ID.
      type: str
    name:
      description: Image name.
      type: str
    runner_version:
      description: Runner version the image holds.
      type: str
security_group:
  description: The runners' security group; V(null) with O(state=absent).
  returned: always
  type: dict
  contains:
    id:
      description: Security group ID (V(null) in check mode when it would be made).
      type: str
    name:
      description: Security group name.
      type: str
    rules_added:
      description: The rules added (or that would be added).
      type: list
      elements: dict
      contains:
        direction:
          description: V(ingress).
          type: str
        ethertype:
          description: V(IPv4).
          type: str
        protocol:
          description: V(icmp) or V(tcp).
          type: str
        port_range_min:
          description: First port, V(null) for ICMP.
          type: int
        port_range_max:
          description: Last port, V(null) for ICMP.
          type: int
"""

import os
import time
from datetime import datetime, timezone
from typing import Any

from ansible_collections.opensandbox.cloud.plugins.module_utils import _runner_build as rb
from ansible_collections.opensandbox.cloud.plugins.module_utils import _runner_fleet as rf
from ansible_collections.opensandbox.cloud.plugins.module_utils._errors import best_effort
from ansible_collections.opensandbox.cloud.plugins.module_utils._kinds import FLAVOR, NETWORK, SECURITY_GROUP, SERVER
from ansible_collections.opensandbox.cloud.plugins.module_utils._module import AnsibleOpenStackModule
from ansible_collections.opensandbox.cloud.plugins.module_utils._resources import find, to_dict
from ansible_collections.opensandbox.cloud.plugins.module_utils._runner_cloud import boot_server, image_revisions
from ansible_collections.opensandbox.cloud.plugins.module_utils._state import build_diff, ensure_present
from ansible_collections.opensandbox.cloud.plugins.module_utils._wait import FAILED, wait_for_delete_all, wait_settled

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "prefix": {"type": "str", "required": True},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "count": {"type": "int", "default": 1},
    "image": {"type": "str"},
    "flavor": {"type": "str"},
    "network": {"type": "str"},
    "github_path": {"type": "str"},
    "github_url": {"type": "str", "default": rf.GITHUB_URL},
    "registration_token": {"type": "str", "no_log": True},
    "labels": {"type": "list", "elements": "str", "default": []},
    "runner_group": {"type": "str"},
    "environment": {"type": "dict", "default": {}},
    "http_proxy": {"type": "str"},
    "https_proxy": {"type": "str"},
    "no_proxy": {"type": "str"},
    "security_group": {"type": "str", "default": rf.DEFAULT_SECURITY_GROUP},
    "ingress_tcp_ports": {"type": "list", "elements": "int", "default": []},
    "key_pair": {"type": "bool", "default": False, "no_log": False},
    "key_dir": {"type": "path", "no_log": False},
    "config_drive": {"type": "bool", "default": True},
    "build_timeout": {"type": "int", "default": 3600},
}
RULE_KEYS = ("direction", "ethertype", "protocol", "port_range_min", "port_range_max")
REQUIRED_IF = [
    ("state", "present", ("image", "flavor", "network", "github_path", "registration_token")),
    ("key_pair", True, ("key_dir",)),
]


def check_options(module: AnsibleOpenStackModule) -> None:
    """Fail on options that cannot work, before anything is read or made."""
    p = module.params
    problems = [rf.check_prefix(p["prefix"]), rf.check_labels(p["labels"])]
    if p["state"] == "present":
        problems.append(rf.check_github_path(p["github_path"]))
    if p["count"] < 0:
        problems.append(f"count must be 0 or more (it is {p['count']})")
    if p["build_timeout"] <= 0:
        problems.append(f"build_timeout must be a positive number of seconds (it is {p['build_timeout']})")
    if p["key_pair"] and not os.path.isdir(p["key_dir"]):
        problems.append(f"key_dir {p['key_dir']!r} is not a directory on this host")
    bad_ports = [port for port in p["ingress_tcp_ports"] if not 1 <= port <= 65535]
    if bad_ports:
        problems.append(f"ingress_tcp_ports must be TCP ports (1-65535), not {bad_ports}")
    found = [problem for problem in problems if problem]
    if found:
        module.fail_json(msg="; ".join(found))


def server_view(server: Any) -> dict[str, Any]:
    """The returned view of a runner, plus what the reconcile plan reads."""
    view = to_dict(SERVER, server)
    return {**view, "task_state": getattr(server, "task_state", None)}


def returned(view: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in view.items() if k != "task_state"}


def runner_image(module: AnsibleOpenStackModule) -> dict[str, Any]:
    """The revision new runners boot from: the newest active one of ``image``; fail if there is none."""
    name = module.params["image"]
    current = rb.current_revision(image_revisions(module, name, own_only=False), name)
    if current is None:
        module.fail_json(
            msg=f"There is no active runner image named {name!r} on {module.cloud_label or 'the cloud'}: "
            "build one first with opensandbox.cloud.runner_image (images not made by it do not count)"
        )
    return current


def ensure_security_group(module: AnsibleOpenStackModule) -> dict[str, Any]:
    """The runners' security group, with the rules they need; returns what the module reports."""
    p = module.params
    net = module.conn.network
    project_id = module.conn.current_project_id
    current = find(module, SECURITY_GROUP, p["security_group"], project_id=project_id)
    result = ensure_present(
        module,
        SECURITY_GROUP,
        current,
        {"name": p["security_group"]},
        create=lambda wish: module.call(
            net.create_security_group,
            name=wish["name"],
            description="For self-hosted GitHub runners (opensandbox.cloud.runner_instance)",
        ),
    )
    group = result.resource
    existing = [dict(rule) for rule in (group.security_group_rules if group is not None else [])]
    missing = rf.missing_rules(existing, rf.wanted_rules(p["ingress_tcp_ports"]))
    if not module.check_mode:
        for rule in missing:
            module.call(net.create_security_group_rule, security_group_id=group.id, **rule)
    return {
        "id": group.id if group is not None else None,
        "name": p["security_group"],
        "rules_added": [{**dict.fromkeys(RULE_KEYS), **rule} for rule in missing],
        "changed": result.changed or bool(missing),
    }


class Fleet:
    """The runners of one prefix, and the changes made to them in this run."""

    def __init__(self, module: AnsibleOpenStackModule) -> None:
        self.module = module
        self.prefix = module.params["prefix"]
        compute = module.conn.compute
        listed = module.call(compute.servers) or []
        self.sdk = {s.id: s for s in listed}
        self.servers = [server_view(s) for s in listed]
        self.key_names = [k.name for k in module.call(compute.keypairs) or []]
        self.removed: list[dict[str, Any]] = []
        self.keys_removed: list[str] = []

    def plan(self) -> rf.Plan:
        p = self.module.params
        return rf.plan_reconcile(
            self.servers,
            prefix=self.prefix,
            count=p["count"],
            build_timeout=p["build_timeout"],
            now=datetime.now(timezone.utc),  # noqa: UP017 - modules run on Python 3.10 too
            key_names=self.key_names,
            absent=p["state"] == "absent",
        )

    def remove(self, plan: rf.Plan) -> None:
        """Delete the planned servers with their own key pairs, and the orphan key pairs."""
        m = self.module
        compute = m.conn.compute
        doomed = []
        for removal in plan.remove:
            server = removal.server
            self.removed.append(
                {"id": server["id"], "name": server["name"], "status": server["status"], "reason": removal.reason}
            )
            if not m.check_mode:
                m.call(compute.delete_server, server["id"], ignore_missing=True)
                doomed.append(server)
        for key in [rf.own_key(r.server) for r in plan.remove] + plan.orphan_keys:
            if key and key not in self.keys_removed:
                self.keys_removed.append(key)
                if not m.check_mode:
                    m.call(compute.delete_keypair, key, ignore_missing=True)
                    self.forget_key_file(key)
        if m.params["wait"] and not m.check_mode:
            wait_for_delete_all(m, SERVER, [self.sdk[server["id"]] for server in doomed + plan.going])

    def key_file(self, name: str) -> str | None:
        key_dir = self.module.params["key_dir"]
        return os.path.join(key_dir, f"{name}.key") if key_dir else None

    def forget_key_file(self, name: str) -> None:
        path = self.key_file(name)
        if path and os.path.exists(path):
            os.unlink(path)

    def create(self, plan: rf.Plan, image: dict[str, Any], flavor: Any, network: Any, group_id: str | None) -> list:
        """Create the missing runners; with wait, wait for them, deleting any that fail."""
        m = self.module
        p = m.params
        taken = {s["name"] for s in self.servers}
        url = rf.github_url(p["github_path"], p["github_url"])
        spec = rf.RunnerSpec(
            url=url,
            labels=tuple(p["labels"]),
            registration_token=p["registration_token"],
            runner_group=p["runner_group"],
            environment=p["environment"],
            http_proxy=p["http_proxy"],
            https_proxy=p["https_proxy"],
            no_proxy=p["no_proxy"],
        )
        names: list[str] = []
        while len(names) < plan.create:
            names.append(rf.new_runner_name(self.prefix, taken))
            taken.add(names[-1])
        if m.check_mode:
            return [{**dict.fromkeys(SERVER.keys()), "name": name} for name in names]
        made = []
        for name in names:
            made.append(self.launch(name, spec, image, flavor, network, group_id))
        if p["wait"]:
            made = self.wait_active(made)
        else:  # Nova's answer to a create has no status yet
            made = [m.call(m.conn.compute.get_server, server.id) for server in made]
        return [returned(server_view(s)) for s in made]

    def launch(self, name: str, spec: rf.RunnerSpec, image: dict, flavor: Any, network: Any, group_id: Any) -> Any:
        m = self.module
        compute = m.conn.compute
        p = m.params
        key_name = None
        if p["key_pair"]:
            keypair = m.call(compute.create_keypair, name=name)
            key_name = keypair.name
            path = self.key_file(name)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(keypair.private_key)
        try:
            return boot_server(
                m,
                name=name,
                image_id=image["id"],
                flavor_id=flavor.id,
                network_id=network.id,
                security_group=group_id,
                key_name=key_name,
                user_data=rf.runner_user_data(spec, name),
                metadata=rf.runner_metadata(self.prefix, spec.url, image["name"]),
                config_drive=p["config_drive"],
            )
        except BaseException:
            if key_name:  # the server was not made: its key pair goes
                best_effort(lambda: compute.delete_keypair(key_name, ignore_missing=True))
                self.forget_key_file(key_name)
            raise

    def wait_active(self, made: list[Any]) -> list[Any]:
        """Wait until every new runner is ACTIVE; delete those that fail or time out, then fail."""
        m = self.module
        timeout = m.params["timeout"]
        deadline = time.monotonic() + timeout
        settled = [
            wait_settled(m, SERVER, server, ready={"ACTIVE"}, timeout=max(0.0, deadline - time.monotonic()))
            for server in made
        ]
        ready = [s.resource for s in settled if s.ready]
        if len(ready) == len(made):
            return ready
        compute = m.conn.compute
        problems, failed = [], []
        for outcome in settled:
            server = outcome.resource
            if outcome.ready:
                continue
            failed.append(server)
            problems.append(
                f"{server.name} went to {server.status}: {outcome.reason or 'the cloud gives no reason'}"
                if outcome.outcome == FAILED
                else f"{server.name} was not ACTIVE within {timeout} s (status {server.status})"
            )
            m.call(compute.delete_server, server, ignore_missing=True)
            if server.key_name and server.key_name == server.name:
                m.call(compute.delete_keypair, server.key_name, ignore_missing=True)
                self.forget_key_file(server.key_name)
        wait_for_delete_all(m, SERVER, failed)
        m.fail_json(
            msg=f"{len(failed)} of {len(made)} new runner(s) of {self.prefix!r} failed and were deleted with their "
            f"key pairs: {'; '.join(problems)}."
            + (f" The other new runners are up: {', '.join(s.name for s in ready)}." if ready else ""),
            removed=[{"id": s.id, "name": s.name, "status": s.status} for s in failed],
        )


def main() -> None:
    module = AnsibleOpenStackModule(argument_spec=ARGUMENT_SPEC, with_wait=True, required_if=REQUIRED_IF)
    check_options(module)
    p = module.params
    fleet = Fleet(module)
    plan = fleet.plan()
    before = sorted(s["name"] for s in plan.keep + [r.server for r in plan.remove])

    image = group = flavor = network = None
    if p["state"] == "present":
        image = runner_image(module)
        flavor = find(module, FLAVOR, p["flavor"], required=True)
        network = find(module, NETWORK, p["network"], required=True)
        group = ensure_security_group(module)

    fleet.remove(plan)
    created = fleet.create(plan, image, flavor, network, group["id"]) if plan.create else []
    runners = sorted([returned(s) for s in plan.keep] + created, key=lambda s: s["name"] or "")
    after = sorted(s["name"] for s in runners)
    group_changed = bool(group and group.pop("changed"))
    module.exit_json(
        changed=plan.changes or group_changed,
        runners=runners,
        created=created,
        removed=fleet.removed,
        keypairs_removed=fleet.keys_removed,
        image=None
        if image is None
        else {
            "id": image["id"],
            "name": image["name"],
            "runner_version": (image.get("properties") or {}).get(rb.PROP_VERSION),
        },
        security_group=group,
        diff=build_diff({"runners": before}, {"runners": after}),
    )


if __name__ == "__main__":
    main()
