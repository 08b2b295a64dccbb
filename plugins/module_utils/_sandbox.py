# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Sandbox stacks in the cloud, for heat_sandbox and heat_sandbox_info (private to the collection).

What the state kit does not cover, because it is Heat's own: the stack's stored
template, environment and files (to tell an unchanged sandbox from a changed one),
Heat's preview of an update, the reasons a stack failed (from its events), the facts
the topology checks need (images, flavors, key pairs, networks, quota and usage), and
the servers of a stack made from a raw template.

The stored template and the preview are read and sent as raw requests: the SDK's
``StackTemplate`` adds fields of its own to the template, and its preview call drops
Heat's answer.
"""

from __future__ import annotations

import copy
import datetime
import json
from collections.abc import Mapping
from typing import Any

from ansible_collections.opensandbox.cloud.plugins.module_utils._kinds import STACK
from ansible_collections.opensandbox.cloud.plugins.module_utils._resources import to_dict
from ansible_collections.opensandbox.cloud.plugins.module_utils._topology_checks import (
    CloudFacts,
    FlavorSize,
    QuotaUse,
)

CHANGE_KINDS = ("added", "updated", "replaced", "deleted")
ENVIRONMENT_SECTIONS = ("parameters", "parameter_defaults", "resource_registry", "event_sinks")
# How deep into nested stacks (template resources, groups) a raw template's servers are looked for.
NESTED_DEPTH = 5


def in_progress(stack: Any) -> bool:
    return (getattr(stack, "status", None) or "").endswith("_IN_PROGRESS")


def settled(stack: Any) -> bool:
    """The stack is not in the middle of an action (its status does not end in ``_IN_PROGRESS``)."""
    return not in_progress(stack)


def rollback_pending(stack: Any) -> bool:
    """A create or update failed and Heat is about to roll it back.

    Heat records ``CREATE_FAILED``/``UPDATE_FAILED`` before it starts the rollback, so a
    reader may see that status for a moment; on a stack with rollback enabled it is only
    a step. (It stays only if the action was cancelled without rollback, which these
    modules never do: a wait then ends at its deadline, naming the status.)
    """
    return stack.status in ("CREATE_FAILED", "UPDATE_FAILED") and getattr(stack, "is_rollback_disabled", None) is False


def finished(stack: Any) -> bool:
    """The stack's action is over, its rollback included."""
    return settled(stack) and not rollback_pending(stack)


def never(_stack: Any) -> bool:
    """For ``wait_for(failed=never)``: wait for the action to end, and judge its outcome afterwards."""
    return False


def plain_data(value: Any) -> Any:
    """``value`` as JSON would carry it: YAML dates (``heat_template_version: 2018-08-31``) become strings."""
    if isinstance(value, Mapping):
        return {str(k): plain_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_data(v) for v in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def normalized_environment(environment: Mapping[str, Any] | None, parameters: Mapping[str, Any] | None = None):
    """An environment as Heat stores it, with the stack's ``parameters`` merged in, empty sections left out."""
    env = copy.deepcopy(dict(environment or {}))
    if parameters:
        env["parameters"] = {**(env.get("parameters") or {}), **parameters}
    found: dict[str, Any] = {}
    for section in ENVIRONMENT_SECTIONS:
        value = env.get(section)
        if section == "resource_registry" and isinstance(value, Mapping):
            value = {k: v for k, v in value.items() if not (k == "resources" and not v)}
        if value:
            found[section] = plain_data(value)
    return found


def _stack_path(stack: Any, tail: str) -> str:
    return f"/stacks/{stack.name}/{stack.id}/{tail}"


def _raw(module: Any, method: str, path: str, **kwargs: Any) -> Any:
    """A request to the orchestration endpoint; an HTTP error fails the module like any SDK call."""
    from openstack import exceptions  # pylint: disable=import-outside-toplevel

    orchestration = module.conn.orchestration
    call = orchestration.get if method == "GET" else orchestration.put

    def request() -> Any:
        response = call(path, **kwargs)
        exceptions.raise_from_response(response)
        return response.json()

    request.__name__ = f"orchestration {method} {path}"
    return module.call(request)


def stored_template(module: Any, stack: Any) -> dict[str, Any]:
    return _raw(module, "GET", _stack_path(stack, "template"))


def stored_environment(module: Any, stack: Any) -> dict[str, Any]:
    return normalized_environment(_raw(module, "GET", _stack_path(stack, "environment")))


def stored_files(module: Any, stack: Any) -> dict[str, Any]:
    return _raw(module, "GET", _stack_path(stack, "files")) or {}


def preview_update(module: Any, stack: Any, body: Mapping[str, Any]) -> dict[str, list[str]]:
    """Heat's plan for an update: the resources it would add, update in place, replace and delete."""
    answer = _raw(module, "PUT", _stack_path(stack, "preview"), json=dict(body))
    changes = answer.get("resource_changes") or {}
    return {kind: sorted(r.get("resource_name") for r in changes.get(kind) or []) for kind in CHANGE_KINDS}


def failure_reasons(module: Any, stack: Any) -> list[str]:
    """Why a stack action failed, from its events: each failed resource with Heat's reason, oldest first.

    The stack's own failure event only repeats its first resource's reason, so it is
    kept only when no resource says anything.
    """
    events = module.call(module.conn.orchestration.stack_events, stack) or []
    reasons: list[str] = []
    own: list[str] = []
    for event in events:
        status = event.resource_status or ""
        reason = " ".join((event.resource_status_reason or "").split())
        if not status.endswith("_FAILED") or not reason:
            continue
        if event.resource_name == stack.name and event.physical_resource_id == stack.id:
            own.append(reason)
            continue
        line = f"{event.resource_name}: {reason}"
        if line not in reasons:
            reasons.append(line)
    return reasons or own or ([stack.status_reason] if getattr(stack, "status_reason", None) else [])


def stack_view(stack: Any) -> dict[str, Any]:
    """The kit's view of a stack, with its outputs as ``key``/``value``/``description``, sorted by key."""
    view = to_dict(STACK, stack)
    outputs = [
        {"key": o.get("output_key"), "value": o.get("output_value"), "description": o.get("description")}
        for o in view.get("outputs") or []
    ]
    view["outputs"] = sorted(outputs, key=lambda o: o["key"] or "")
    view["tags"] = sorted(view.get("tags") or [])
    return view


def server_hosts(module: Any, stack: Any) -> list[dict[str, Any]]:
    """The servers of a stack made from a raw template: name, server ID, address on each network, floating IP."""
    conn = module.conn
    # The SDK's resource listing drops nested_depth; servers inside template resources count too.
    listed = _raw(module, "GET", _stack_path(stack, f"resources?nested_depth={NESTED_DEPTH}")).get("resources") or []
    ids = {
        r.get("physical_resource_id"): r.get("resource_name")
        for r in listed
        if r.get("resource_type") == "OS::Nova::Server" and r.get("physical_resource_id")
    }
    if not ids:
        return []
    hosts = []
    for server in module.call(conn.compute.servers, details=True) or []:
        if server.id not in ids:
            continue
        addresses: dict[str, str] = {}
        floating = None
        for network, entries in sorted((server.addresses or {}).items()):
            for entry in entries:
                if entry.get("OS-EXT-IPS:type") == "floating":
                    floating = floating or entry.get("addr")
                else:
                    addresses.setdefault(network, entry.get("addr"))
        hosts.append(
            {
                "name": server.name,
                "role": ids[server.id],
                "server_name": server.name,
                "server_id": server.id,
                "addresses": addresses,
                "floating_ip": floating,
            }
        )
    return sorted(hosts, key=lambda h: h["name"] or "")


def network_cidrs(module: Any, stack: Any) -> dict[str, str]:
    """The CIDRs of the networks a stack's hosts are on, as Neutron has them, by the names the hosts use.

    A sandbox's ``nodes`` output names each network as the topology does; its subnet is
    the stack's resource ``subnet_<name>``. A raw template's servers name their networks
    as Neutron does. Both names are given, one listing of subnets and networks for all.
    """
    conn = module.conn
    subnets = module.call(conn.network.subnets) or []
    names = {n.id: n.name for n in module.call(conn.network.networks) or []}
    cidrs: dict[str, str] = {}
    for subnet in sorted(subnets, key=lambda s: (s.ip_version or 4, s.cidr or "")):
        name = names.get(subnet.network_id)
        if name and subnet.cidr:
            cidrs.setdefault(name, subnet.cidr)
    by_id = {s.id: s.cidr for s in subnets}
    for resource in module.call(conn.orchestration.resources, stack) or []:
        if resource.resource_type == "OS::Neutron::Subnet" and (resource.name or "").startswith("subnet_"):
            cidr = by_id.get(resource.physical_resource_id)
            if cidr:
                cidrs[resource.name[len("subnet_") :]] = cidr
    return cidrs


def _names_and_ids(items: Any, name_attr: str = "name") -> set[str]:
    found: set[str] = set()
    for item in items or []:
        for value in (getattr(item, name_attr, None), getattr(item, "id", None)):
            if value:
                found.add(value)
    return found


def cloud_facts(module: Any, *, need_keypairs: bool, need_networks: bool, need_volumes: bool) -> CloudFacts:
    """Read what the topology checks compare against: one listing or limits call per kind."""
    conn = module.conn
    images = _names_and_ids(module.call(conn.image.images))
    flavors: dict[str, FlavorSize] = {}
    for flavor in module.call(conn.compute.flavors, details=True) or []:
        size = FlavorSize(vcpus=flavor.vcpus or 0, ram=flavor.ram or 0)
        flavors[flavor.name] = size
        flavors[flavor.id] = size
    keypairs = _names_and_ids(module.call(conn.compute.keypairs)) if need_keypairs else set()
    networks = _names_and_ids(module.call(conn.network.networks)) if need_networks else set()
    quota: dict[str, QuotaUse] = {}
    limits = module.call(conn.compute.get_limits).absolute
    quota["instances"] = QuotaUse(_limit(limits.instances), _int(limits.instances_used))
    quota["cores"] = QuotaUse(_limit(limits.total_cores), _int(limits.total_cores_used))
    quota["ram"] = QuotaUse(_limit(limits.total_ram), _int(limits.total_ram_used))
    details = module.call(conn.network.get_quota, conn.current_project_id, details=True)
    for kind, attr in (
        ("networks", "networks"),
        ("subnets", "subnets"),
        ("ports", "ports"),
        ("routers", "routers"),
        ("floating_ips", "floating_ips"),
        ("security_groups", "security_groups"),
    ):
        entry = getattr(details, attr, None) or {}
        quota[kind] = QuotaUse(_limit(entry.get("limit")), _int(entry.get("used")) + _int(entry.get("reserved")))
    if need_volumes:
        volume = module.call(conn.block_storage.get_limits).absolute
        quota["volumes"] = QuotaUse(_limit(volume.max_total_volumes), _int(volume.total_volumes_used))
        quota["gigabytes"] = QuotaUse(_limit(volume.max_total_volume_gigabytes), _int(volume.total_gigabytes_used))
    return CloudFacts(images=images, flavors=flavors, keypairs=keypairs, networks=networks, quota=quota)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _limit(value: Any) -> int:
    """A quota limit; one the cloud does not report counts as unlimited (-1)."""
    return -1 if value is None else _int(value)


def same_data(first: Any, second: Any) -> bool:
    """Equal as JSON data (tuples and lists alike, YAML dates as strings)."""
    return json.dumps(plain_data(first), sort_keys=True) == json.dumps(plain_data(second), sort_keys=True)
