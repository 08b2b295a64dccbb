#!/usr/bin/python
# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: runner_image
short_description: Build and keep a GitHub Actions runner image in Glance
version_added: 0.1.0
description:
  - Builds an image for self-hosted GitHub Actions runners the way image builders do on
    OpenStack clouds, and keeps its revisions in Glance.
  - "The build boots a builder server from O(base_image), with a throw-away key pair and a
    throw-away security group that lets nothing in, both made by the module. Its cloud-init
    user data installs the runner application at O(runner_version) from O(runner_url), the
    O(apt_packages), Docker (O(docker)), writes the proxy settings for apt, Docker and the
    environment, runs O(build_script), and ends with cloud-config C(power_state: poweroff),
    so the builder reaches C(SHUTOFF) when (and only when) the build succeeded."
  - The builder is then snapshotted into a new image named O(name) carrying properties that
    record the build (architecture, runner version, base image, a digest of the build inputs
    and the build time). The builder, its key pair and its security group are deleted
    afterwards, also when the build fails; an image whose snapshot failed is deleted too.
  - A builder that goes to C(ERROR), or does not power off within O(timeout), fails the
    module with the cloud's fault and the last lines of the builder's console.
  - With O(source=file), a prebuilt image file is uploaded instead.
  - Idempotent; the newest active image of O(name) made by this module is the current
    revision, the one M(opensandbox.cloud.runner_instance) boots. When its inputs digest
    matches the options, nothing is built; O(force=true) builds anyway.
  - O(keep_revisions) prunes older revisions of O(name), never one a server still uses.
  - Only images of O(name) owned by the current project and carrying the inputs digest are
    revisions; other images of that name are never touched.
author:
  - OpenSandbox contributors (@opensandbox)
options:
  name:
    description:
      - Name of the image; every revision has this name.
    type: str
    required: true
  state:
    description:
      - V(present) makes sure the current revision is built from the given inputs.
      - V(absent) deletes every revision of O(name) that no server uses (the others are kept and reported).
    type: str
    choices: [present, absent]
    default: present
  source:
    description:
      - V(build) builds the image on a builder server booted from O(base_image).
      - V(file) uploads the prebuilt image O(filename).
    type: str
    choices: [build, file]
    default: build
  base_image:
    description:
      - Image (name or ID) the builder boots from, for example an Ubuntu cloud image.
      - Required with O(source=build).
    type: str
  flavor:
    description:
      - Flavor (name or ID) of the builder. Required with O(source=build).
    type: str
  network:
    description:
      - Network (name or ID) of the builder; it needs to reach O(runner_url) and the package mirrors.
      - Required with O(source=build).
    type: str
  runner_version:
    description:
      - Version of the GitHub Actions runner application to install, for example V(2.319.1).
      - Required with O(source=build); with O(source=file) it is only recorded.
    type: str
  runner_url:
    description:
      - Where to download the runner application archive from.
      - V({version}) and V({arch}) are replaced by O(runner_version) and O(architecture).
    type: str
    default: https://github.com/actions/runner/releases/download/v{version}/actions-runner-linux-{arch}-{version}.tar.gz
  architecture:
    description:
      - Architecture of the runner (GitHub's names); the image's C(architecture) property
        becomes V(x86_64) or V(aarch64).
    type: str
    choices: [x64, arm64]
    default: x64
  apt_packages:
    description:
      - Extra Debian/Ubuntu packages to install.
    type: list
    elements: str
    default: []
  docker:
    description:
      - Install Docker (the C(docker.io) package) and let the runner user use it.
    type: bool
    default: true
  http_proxy:
    description:
      - HTTP proxy for the build and the image, written for apt, Docker (daemon and client) and
        C(/etc/environment).
    type: str
  https_proxy:
    description:
      - HTTPS proxy, written like O(http_proxy).
    type: str
  no_proxy:
    description:
      - Hosts that bypass the proxy (comma-separated), written like O(http_proxy).
    type: str
  build_script:
    description:
      - Shell script run (as root) at the end of the build, after the runner application is installed.
      - A script that fails fails the build.
    type: str
  filename:
    description:
      - Path of the prebuilt image file to upload. Required with O(source=file).
    type: path
  disk_format:
    description:
      - Disk format of O(filename).
    type: str
    default: qcow2
  container_format:
    description:
      - Container format of O(filename).
    type: str
    default: bare
  properties:
    description:
      - Extra image properties for new revisions; the current revision gets them too (updated in place).
      - The properties the module records (see the description) and Glance's own image fields
        (V(name), V(visibility) ...) cannot be set here.
    type: dict
    default: {}
  force:
    description:
      - Build (or upload) a new revision even when the current one has the same inputs.
    type: bool
    default: false
  keep_revisions:
    description:
      - How many active revisions of O(name) to keep, newest first; older ones are deleted
        unless a server uses them. Revisions that failed are deleted too.
      - When not set, no revision is deleted.
    type: int
  timeout:
    description:
      - Seconds to wait for the builder to power off, and then for the snapshot to become active.
    type: int
    default: 1800
notes:
  - The builder allows no inbound traffic and its key pair's private key is thrown away; the
    build runs entirely from the user data, so its output is in the builder's console log.
  - The runner application is installed in C(/opt/actions-runner), owned by the user C(runner),
    which M(opensandbox.cloud.runner_instance) runs it as.
  - With stacksim's C(fake) compute driver nothing runs in the builder; it powers off as
    C(power_state) asks and its snapshot is a copy of the base image.
seealso:
  - module: opensandbox.cloud.runner_instance
  - module: opensandbox.cloud.runner_image_info
extends_documentation_fragment:
  - opensandbox.cloud.openstack
  - opensandbox.cloud.attributes
  - opensandbox.cloud.attributes.actiongroup
  - opensandbox.cloud.attributes.stateful_module
"""

EXAMPLES = r"""
- name: Build the runner image (a no-op when the current one has the same inputs)
  opensandbox.cloud.runner_image:
    cloud: mycloud
    name: runner-jammy
    base_image: ubuntu-22.04
    flavor: m1.medium
    network: build-net
    runner_version: 2.319.1
    apt_packages: [build-essential, python3-venv]
    http_proxy: http://proxy.example.com:3128
    https_proxy: http://proxy.example.com:3128
    no_proxy: localhost,127.0.0.1,.example.com
    build_script: |
      #!/bin/bash
      set -eu
      snap install --classic go
    keep_revisions: 2
  register: built

- name: Show the revision runners boot from
  ansible.builtin.debug:
    msg: "{{ built.image.id }} ({{ built.image.properties.runner_version }})"

- name: Upload a prebuilt image instead
  opensandbox.cloud.runner_image:
    cloud: mycloud
    name: runner-noble
    source: file
    filename: /srv/images/runner-noble.qcow2
    runner_version: 2.319.1

- name: Delete every revision no server uses
  opensandbox.cloud.runner_image:
    cloud: mycloud
    name: runner-jammy
    state: absent
"""

RETURN = r"""
image:
  description:
    - The current revision (the newest active one) after the run; V(null) when there is none.
    - In check mode, when a build would run, the predicted image (its id is V(null)).
  returned: always
  type: dict
  contains:
    id:
      description: Image ID.
      type: str
    name:
      description: Image name.
      type: str
      sample: runner-jammy
    status:
      description: Glance status.
      type: str
      sample: active
    visibility:
      description: Image visibility.
      type: str
      sample: private
    disk_format:
      description: Disk format.
      type: str
    container_format:
      description: Container format.
      type: str
    size:
      description: Size in bytes.
      type: int
    checksum:
      description: MD5 checksum of the data.
      type: str
    hash_algo:
      description: Algorithm of RV(image.hash_value).
      type: str
    hash_value:
      description: Secure hash of the data.
      type: str
    min_disk:
      description: Minimum disk size (GiB).
      type: int
    min_ram:
      description: Minimum RAM (MiB).
      type: int
    owner:
      description: ID of the owning project.
      type: str
    protected:
      description: Whether the image is protected from deletion.
      type: bool
    tags:
      description: Image tags.
      type: list
      elements: str
    properties:
      description:
        - Image properties, with those the module records - C(architecture), C(runner_version),
          C(runner_base_image), C(runner_base_image_id), C(runner_inputs_digest),
          C(runner_build_time) and C(runner_source).
      type: dict
      sample:
        architecture: x86_64
        runner_version: 2.319.1
        runner_inputs_digest: "sha256:4f1c..."
        runner_source: build
    created_at:
      description: When the image was created.
      type: str
    updated_at:
      description: When the image was last changed.
      type: str
revisions:
  description: The revisions of O(name) kept after the run, newest first.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Image ID.
      type: str
    status:
      description: Glance status.
      type: str
    runner_version:
      description: Runner version the revision holds.
      type: str
    inputs_digest:
      description: Digest of the build inputs.
      type: str
    built_at:
      description: When the revision was built.
      type: str
    current:
      description: Whether this is the current revision.
      type: bool
    in_use:
      description: Whether a server uses it (servers of the current project).
      type: bool
pruned:
  description:
    - The revisions deleted (or, in check mode, that would be deleted), newest first.
    - Same keys as RV(revisions).
  returned: always
  type: list
  elements: dict
build:
  description: What was built, when a new revision was (or in check mode, would be) made; else V(null).
  returned: always
  type: dict
  contains:
    reason:
      description: Why a new revision was made.
      type: str
      sample: the build inputs changed
    source:
      description: V(build) or V(file).
      type: str
    builder:
      description: Name of the builder server (deleted since); V(null) for O(source=file).
      type: str
    inputs_digest:
      description: Digest of the build inputs of the new revision.
      type: str
    console:
      description: The last lines of the builder's console.
      type: list
      elements: str
console:
  description: On a failed build, the last lines of the builder's console.
  returned: failure
  type: list
  elements: str
"""

import hashlib
import secrets
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from ansible_collections.opensandbox.cloud.plugins.module_utils import _runner_build as rb
from ansible_collections.opensandbox.cloud.plugins.module_utils._errors import best_effort
from ansible_collections.opensandbox.cloud.plugins.module_utils._glance import patch_image
from ansible_collections.opensandbox.cloud.plugins.module_utils._kinds import (
    FLAVOR,
    GLANCE_CORE_FIELDS,
    IMAGE,
    NETWORK,
    SERVER,
)
from ansible_collections.opensandbox.cloud.plugins.module_utils._module import AnsibleOpenStackModule
from ansible_collections.opensandbox.cloud.plugins.module_utils._resources import find, to_dict
from ansible_collections.opensandbox.cloud.plugins.module_utils._runner_cloud import (
    boot_server,
    console_tail,
    delete_images,
    image_revisions,
    revision_summary,
    used_image_ids,
)
from ansible_collections.opensandbox.cloud.plugins.module_utils._state import build_diff, predicted
from ansible_collections.opensandbox.cloud.plugins.module_utils._wait import FAILED, wait_for, wait_settled

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "name": {"type": "str", "required": True},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "source": {"type": "str", "choices": ["build", "file"], "default": "build"},
    "base_image": {"type": "str"},
    "flavor": {"type": "str"},
    "network": {"type": "str"},
    "runner_version": {"type": "str"},
    "runner_url": {"type": "str", "default": rb.DEFAULT_RUNNER_URL},
    "architecture": {"type": "str", "choices": sorted(rb.ARCHITECTURES), "default": "x64"},
    "apt_packages": {"type": "list", "elements": "str", "default": []},
    "docker": {"type": "bool", "default": True},
    "http_proxy": {"type": "str"},
    "https_proxy": {"type": "str"},
    "no_proxy": {"type": "str"},
    "build_script": {"type": "str"},
    "filename": {"type": "path"},
    "disk_format": {"type": "str", "default": "qcow2"},
    "container_format": {"type": "str", "default": "bare"},
    "properties": {"type": "dict", "default": {}},
    "force": {"type": "bool", "default": False},
    "keep_revisions": {"type": "int"},
    "timeout": {"type": "int", "default": 1800},
}
REQUIRED_BY_SOURCE = {
    "build": ("base_image", "flavor", "network", "runner_version"),
    "file": ("filename",),
}
BUILDER = replace(SERVER, name="builder server")
#: How much of the builder's console a build returns, and a failure shows.
CONSOLE_LINES = 25
#: Seconds allowed for deleting the builder once the build is over.
CLEANUP_TIMEOUT = 120


def check_options(module: AnsibleOpenStackModule) -> None:
    """Fail on options that cannot work together, before anything is read or made."""
    p = module.params
    if p["state"] == "present":
        missing = [o for o in REQUIRED_BY_SOURCE[p["source"]] if not p[o]]
        if missing:
            module.fail_json(msg=f"source={p['source']} needs the option(s) {', '.join(missing)}")
    problem = rb.check_runner_url(p["runner_url"])
    if problem:
        module.fail_json(msg=problem)
    if p["keep_revisions"] is not None and p["keep_revisions"] < 1:
        module.fail_json(msg=f"keep_revisions must be 1 or more (it is {p['keep_revisions']}); omit it to keep all")
    if p["timeout"] <= 0:
        module.fail_json(msg=f"timeout must be a positive number of seconds (it is {p['timeout']})")
    reserved = sorted(set(p["properties"]) & set(rb.MANAGED_PROPERTIES))
    if reserved:
        module.fail_json(msg=f"properties may not set {', '.join(reserved)}: the module records them itself")
    core = sorted(set(p["properties"]) & GLANCE_CORE_FIELDS)
    if core:
        module.fail_json(msg=f"properties may not set {', '.join(core)}: they are Glance's own image fields")


def build_spec(params: dict[str, Any]) -> rb.BuildSpec:
    return rb.BuildSpec(
        runner_version=params["runner_version"],
        runner_url=params["runner_url"],
        architecture=params["architecture"],
        apt_packages=tuple(params["apt_packages"]),
        docker=params["docker"],
        http_proxy=params["http_proxy"],
        https_proxy=params["https_proxy"],
        no_proxy=params["no_proxy"],
        build_script=params["build_script"],
    )


def file_sha256(module: AnsibleOpenStackModule, path: str) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        module.fail_json(msg=f"filename {path!r} cannot be read: {exc.strerror or exc}")
    return digest.hexdigest()


class Build:
    """One build on a builder server. ``cleanup`` deletes what it made that must not stay; it runs
    after success, before a failure is reported, and (best effort) when a cloud call failed the module."""

    def __init__(self, module: AnsibleOpenStackModule, spec: rb.BuildSpec, base: Any, digest: str) -> None:
        self.module = module
        self.spec = spec
        self.base = base
        self.digest = digest
        self.name = f"{module.params['name']}-builder-{secrets.token_hex(4)}"
        self.server: Any = None
        self.keypair: str | None = None
        self.security_group: str | None = None
        self.snapshot: Any = None  # deleted by cleanup until it is known good
        self.console: list[str] = []

    def run(self, flavor: Any, network: Any, properties: dict[str, str]) -> Any:
        m = self.module
        compute = m.conn.compute
        name, timeout = m.params["name"], m.params["timeout"]
        self.keypair = m.call(compute.create_keypair, name=self.name).name
        self.security_group = m.call(
            m.conn.network.create_security_group,
            name=self.name,
            description=f"Builder of runner image {name}, lets nothing in (opensandbox.cloud.runner_image)",
        ).id
        self.server = boot_server(
            m,
            name=self.name,
            image_id=self.base.id,
            flavor_id=flavor.id,
            network_id=network.id,
            security_group=self.security_group,
            key_name=self.keypair,
            user_data=rb.build_user_data(self.spec),
            metadata={"runner_image_builder": name, rb.PROP_DIGEST: self.digest},
        )
        server = self.wait_powered_off(timeout)
        self.console = console_tail(m, server, CONSOLE_LINES)
        self.snapshot = m.call(compute.create_server_image, server, name, metadata=properties)
        image = wait_for(m, IMAGE, self.snapshot, ready={"active"}, timeout=timeout)
        self.snapshot = None
        return image

    def wait_powered_off(self, timeout: int) -> Any:
        """Wait for SHUTOFF; on ERROR or at the deadline, clean up and fail with the console's last lines."""
        m = self.module
        settled = wait_settled(m, BUILDER, self.server, ready={"SHUTOFF"}, timeout=timeout)
        server = settled.resource
        if settled.ready:
            return server
        console = console_tail(m, server, CONSOLE_LINES)
        if settled.outcome == FAILED:
            problem = f"it went to {server.status}: {settled.reason or 'the cloud gives no reason'}"
        else:
            problem = f"it did not power off within {timeout} s (its status is {server.status})"
        left = self.cleanup()
        shown = " | ".join(console[-10:]) if console else "(the builder has no console output)"
        m.fail_json(
            msg=f"Building runner image {m.params['name']!r} on {self.name} failed: {problem}. "
            f"{left or 'The builder, its key pair and its security group were deleted.'} "
            f"Last console lines: {shown}",
            console=console,
        )

    def cleanup(self) -> str | None:
        """Delete the builder, its key pair, its security group and an unfinished snapshot; say what is left."""
        conn = self.module.conn
        compute = conn.compute
        problems: list[str | None] = []
        if self.snapshot is not None:
            snapshot, self.snapshot = self.snapshot, None
            problems.append(best_effort(lambda: conn.image.delete_image(snapshot, ignore_missing=True)))
        if self.server is not None:
            server, self.server = self.server, None

            def delete_server() -> None:
                compute.delete_server(server, ignore_missing=True)
                compute.wait_for_delete(server, interval=0.2, wait=CLEANUP_TIMEOUT)

            problems.append(best_effort(delete_server))
        if self.keypair:
            keypair, self.keypair = self.keypair, None
            problems.append(best_effort(lambda: compute.delete_keypair(keypair, ignore_missing=True)))
        if self.security_group:
            group, self.security_group = self.security_group, None
            problems.append(best_effort(lambda: conn.network.delete_security_group(group, ignore_missing=True)))
        problems = [problem for problem in problems if problem]
        if problems:
            return f"Cleaning up after {self.name} failed; delete what is left by hand: {'; '.join(problems)}."
        return None


def build_image(module: AnsibleOpenStackModule, spec: rb.BuildSpec, base: Any, digest: str, props: dict) -> tuple:
    """Build a new revision on a builder server: the image and what to return about the build."""
    p = module.params
    flavor = find(module, FLAVOR, p["flavor"], required=True)
    network = find(module, NETWORK, p["network"], required=True)
    build = Build(module, spec, base, digest)
    try:
        image = build.run(flavor, network, props)
    except BaseException:
        # A failed cloud call has already reported the failure: remove what the build made, best effort.
        build.cleanup()
        raise
    left = build.cleanup()
    if left:
        module.fail_json(msg=f"Runner image {p['name']!r} was built ({image.id}), but: {left}")
    return image, {"source": "build", "builder": build.name, "console": build.console}


def upload_image(module: AnsibleOpenStackModule, sha256: str, props: dict) -> tuple:
    """Upload ``filename`` as a new revision: the image and what to return about it."""
    p = module.params
    image = module.call(
        module.conn.image.create_image,
        p["name"],
        filename=p["filename"],
        sha256=sha256,
        disk_format=p["disk_format"],
        container_format=p["container_format"],
        allow_duplicates=True,
        properties=props,
    )
    try:
        image = wait_for(module, IMAGE, image, ready={"active"}, timeout=p["timeout"])
    except BaseException:
        best_effort(lambda: module.conn.image.delete_image(image, ignore_missing=True))
        raise
    return image, {"source": "file", "builder": None, "console": []}


def update_properties(module: AnsibleOpenStackModule, current: dict[str, Any], wanted: dict) -> dict[str, Any]:
    """Give the current revision the wanted extra properties; return its (predicted) view."""
    changes = rb.properties_to_update(current.get("properties") or {}, wanted)
    if not changes:
        return current
    if module.check_mode:
        return {**current, "properties": {**(current.get("properties") or {}), **changes}}
    return to_dict(IMAGE, patch_image(module, current["id"], changes))


def summary(views: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """What ``diff`` compares: the current revision and the revisions kept."""
    current = rb.current_revision(views, name)
    return {
        "current": None
        if current is None
        else {
            "id": current.get("id"),
            "runner_version": (current.get("properties") or {}).get(rb.PROP_VERSION),
            "inputs_digest": rb.digest_of(current),
            "properties": current.get("properties"),
        },
        "revisions": [v.get("id") for v in views],
    }


def finish(
    module: AnsibleOpenStackModule,
    before: dict[str, Any],
    kept: list[dict[str, Any]],
    pruned: list[dict[str, Any]],
    used: set[str],
    *,
    build: dict[str, Any] | None = None,
) -> None:
    """Exit with the current revision, the revisions kept and pruned, and the diff."""
    name = module.params["name"]
    after = summary(kept, name)
    current = rb.current_revision(kept, name)
    current_id = current.get("id") if current else None
    module.exit_json(
        changed=after != before or bool(build or pruned),
        image=current,
        revisions=[revision_summary(v, current_id, used) for v in kept],
        pruned=[revision_summary(v, None, used) for v in pruned],
        build=build,
        diff=build_diff(before, after),
    )


def main() -> None:
    module = AnsibleOpenStackModule(argument_spec=ARGUMENT_SPEC)
    check_options(module)
    p = module.params
    name = p["name"]
    revisions = image_revisions(module, name)
    used = used_image_ids(module)
    before = summary(revisions, name)

    if p["state"] == "absent":
        in_use = [v for v in revisions if v["id"] in used]
        doomed = [v for v in revisions if v["id"] not in used]
        delete_images(module, doomed)
        if in_use:
            module.warn(
                f"{len(in_use)} revision(s) of {name!r} are used by servers and were kept: "
                + ", ".join(v["id"] for v in in_use)
            )
        finish(module, before, in_use, doomed, used)

    if p["source"] == "build":
        base = find(module, IMAGE, p["base_image"], required=True)
        if base.status != "active":
            module.fail_json(msg=f"base_image {p['base_image']!r} ({base.id}) is {base.status}, not active")
        spec: rb.BuildSpec | None = build_spec(p)
        digest = rb.inputs_digest(spec, base.id)
    else:
        spec = base = None
        sha256 = file_sha256(module, p["filename"])
        digest = rb.file_digest(sha256, p["architecture"], p["runner_version"])

    current = rb.current_revision(revisions, name)
    reason = rb.needs_build(current, digest, p["force"])
    views = list(revisions)
    build = None
    if reason:
        props = rb.image_properties(
            spec,
            digest=digest,
            source=p["source"],
            base_image=to_dict(IMAGE, base),
            built_at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),  # noqa: UP017 - Python 3.10
            architecture=p["architecture"],
            runner_version=p["runner_version"],
            extra=p["properties"],
        )
        if module.check_mode:
            made = predicted(IMAGE, {"name": name, "status": "active", "properties": props})
            build = {"source": p["source"], "builder": None, "console": []}
        else:
            image, build = (
                build_image(module, spec, base, digest, props)
                if p["source"] == "build"
                else upload_image(module, sha256, props)
            )
            made = to_dict(IMAGE, image)
        build.update(reason=reason, inputs_digest=digest)
        views.insert(0, made)
    else:
        updated = update_properties(module, current, p["properties"])
        views = [updated if v["id"] == updated["id"] else v for v in views]

    plan = rb.plan_revisions(views, name, p["keep_revisions"], used)
    delete_images(module, plan.prune)
    finish(module, before, plan.kept, plan.prune, used, build=build)


if __name__ == "__main__":
    main()
