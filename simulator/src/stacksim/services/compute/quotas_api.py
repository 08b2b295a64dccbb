"""``/os-quota-sets``, ``/os-quota-class-sets`` and ``/limits``.

Not implemented: per-user quotas (``user_id`` is ignored) and unified limits.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from stacksim.services.compute import common, schemas
from stacksim.services.compute.common import api
from stacksim.services.compute.quotas import INJECTED_QUOTAS, NETWORK_QUOTAS, SERVER_GROUP_QUOTAS, Quotas
from stacksim.web import Call, reply

#: quota -> the absolute limits that show it, and the usage key, in ``GET /limits``.
ABSOLUTE = {
    "ram": ("maxTotalRAMSize",),
    "instances": ("maxTotalInstances",),
    "cores": ("maxTotalCores",),
    "key_pairs": ("maxTotalKeypairs",),
    "floating_ips": ("maxTotalFloatingIps",),
    "metadata_items": ("maxServerMeta", "maxImageMeta"),
    "injected_files": ("maxPersonality",),
    "injected_file_content_bytes": ("maxPersonalitySize",),
    "security_groups": ("maxSecurityGroups",),
    "security_group_rules": ("maxSecurityGroupRules",),
    "server_groups": ("maxServerGroups",),
    "server_group_members": ("maxServerGroupMembers",),
}
USED = {
    "ram": "totalRAMUsed",
    "instances": "totalInstancesUsed",
    "cores": "totalCoresUsed",
    "floating_ips": "totalFloatingIpsUsed",
    "security_groups": "totalSecurityGroupsUsed",
    "server_groups": "totalServerGroupsUsed",
}


def _model(call: Call) -> Quotas:
    return call.cloud.compute.quotas


def _hidden(call: Call, quota_class: bool = False) -> set[str]:
    """The quotas the call's microversion no longer shows (or, for classes, not yet)."""
    hidden: set[str] = set()
    if quota_class:
        hidden |= set(NETWORK_QUOTAS) if common.since(call, "2.50") else set(SERVER_GROUP_QUOTAS)
    elif common.since(call, "2.36"):
        hidden |= set(NETWORK_QUOTAS)
    if common.since(call, "2.57"):
        hidden |= set(INJECTED_QUOTAS)
    return hidden


def _shown(call: Call, values: dict[str, Any], quota_class: bool = False) -> dict[str, Any]:
    hidden = _hidden(call, quota_class)
    return {k: v for k, v in values.items() if k not in hidden}


def _check_body(call: Call, root: str, body: schemas.QuotaValues, quota_class: bool = False) -> dict[str, int]:
    removed = {name: ("2.50" if quota_class else "2.36") for name in (*NETWORK_QUOTAS, "networks")}
    removed.update(dict.fromkeys(INJECTED_QUOTAS, "2.57"))
    common.too_old(root, body, call, removed)
    return body.values()


# -- quota sets ---------------------------------------------------------------------------------


@api.route("/v2.1/os-quota-sets/{project_id}")
async def show_quota_set(call: Call) -> Response:
    project_id = call.params["project_id"]
    return reply({"quota_set": {"id": project_id, **_shown(call, _model(call).show(call.ctx, project_id))}})


@api.route("/v2.1/os-quota-sets/{project_id}/detail")
async def show_quota_set_detail(call: Call) -> Response:
    project_id = call.params["project_id"]
    detail = _model(call).show(call.ctx, project_id, detail=True)
    return reply({"quota_set": {"id": project_id, **_shown(call, detail)}})


@api.route("/v2.1/os-quota-sets/{project_id}/defaults")
async def show_quota_set_defaults(call: Call) -> Response:
    project_id = call.params["project_id"]
    return reply({"quota_set": {"id": project_id, **_shown(call, _model(call).defaults_for(call.ctx, project_id))}})


@api.route("/v2.1/os-quota-sets/{project_id}", methods=("PUT",))
async def update_quota_set(call: Call) -> Response:
    body = await call.body(schemas.QuotaSetUpdate, "quota_set")
    values = _check_body(call, "quota_set", body)
    limits = _model(call).set(call.ctx, call.params["project_id"], values, force=body.force)
    return reply({"quota_set": _shown(call, limits)})


@api.route("/v2.1/os-quota-sets/{project_id}", methods=("DELETE",))
async def delete_quota_set(call: Call) -> Response:
    _model(call).clear(call.ctx, call.params["project_id"])
    return reply(status=202)


# -- quota classes ----------------------------------------------------------------------------------


@api.route("/v2.1/os-quota-class-sets/{class_name}")
async def show_quota_class(call: Call) -> Response:
    name = call.params["class_name"]
    values = _shown(call, _model(call).show_class(call.ctx, name), quota_class=True)
    return reply({"quota_class_set": {"id": name, **values}})


@api.route("/v2.1/os-quota-class-sets/{class_name}", methods=("PUT",))
async def update_quota_class(call: Call) -> Response:
    body = await call.body(schemas.QuotaValues, "quota_class_set")
    values = _check_body(call, "quota_class_set", body, quota_class=True)
    limits = _model(call).set_class(call.ctx, call.params["class_name"], values)
    return reply({"quota_class_set": _shown(call, limits, quota_class=True)})


# -- limits -------------------------------------------------------------------------------------------


@api.route("/v2.1/limits")
async def show_limits(call: Call) -> Response:
    limits, used = _model(call).absolute(call.ctx, call.query.get("tenant_id"))
    hidden: set[str] = set()
    if common.since(call, "2.36"):
        hidden |= {"floating_ips", "security_groups", "security_group_rules"}
    if common.since(call, "2.57"):
        hidden |= {"injected_files", "injected_file_content_bytes"}
    absolute: dict[str, int] = {}
    for quota, names in ABSOLUTE.items():
        if quota in hidden:
            continue
        for name in names:
            if name == "maxImageMeta" and common.since(call, "2.39"):
                continue
            absolute[name] = limits[quota]
    for quota, name in USED.items():
        if quota not in hidden:
            absolute[name] = used[quota]
    return reply({"limits": {"rate": [], "absolute": absolute}})
