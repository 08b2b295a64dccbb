"""``/os-quota-sets`` (show, usage, defaults, admin update and delete), ``/os-quota-class-sets``
(admins: the ``default`` class sets every project's defaults) and ``/limits``.

Not implemented: nested quotas.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from stacksim import faults
from stacksim.services.volume import common, routing
from stacksim.services.volume.routing import model, route, since
from stacksim.web import Call, reply


def _own_or_admin(call: Call, project_id: str) -> None:
    if not call.ctx.is_admin and project_id != call.ctx.project_id:
        raise common.denied("volume_extension:quotas:show")


@route("/os-quota-sets/{target}")
async def show_quotas(call: Call) -> Response:
    project_id = call.params["target"]
    _own_or_admin(call, project_id)
    quotas = model(call).quotas
    limits = quotas.limits(project_id)
    body: dict[str, Any] = {"id": project_id}
    if routing.flag_query(call, "usage"):
        used = quotas.usage(project_id)
        for key, limit in limits.items():
            body[key] = {"limit": limit, "in_use": used.get(key, 0), "reserved": 0, "allocated": 0}
    else:
        body.update(limits)
    return reply({"quota_set": body})


@route("/os-quota-sets/{target}/defaults")
async def show_defaults(call: Call) -> Response:
    project_id = call.params["target"]
    _own_or_admin(call, project_id)
    return reply({"quota_set": {"id": project_id, **model(call).quotas.defaults()}})


@route("/os-quota-sets/{target}", methods=("PUT",))
async def update_quotas(call: Call) -> Response:
    common.require_admin(call.ctx, "volume_extension:quotas:update")
    body = await routing.body_of(call, "quota_set")
    body = {k: v for k, v in body.items() if k not in ("id", "tenant_id", "skip_validation")}
    if not body:
        raise faults.BadRequest("Missing required element 'quota_set' in request body.")
    limits = model(call).quotas.update(call.params["target"], body)
    return reply({"quota_set": limits})


@route("/os-quota-sets/{target}", methods=("DELETE",))
async def delete_quotas(call: Call) -> Response:
    common.require_admin(call.ctx, "volume_extension:quotas:delete")
    model(call).quotas.reset(call.params["target"])
    return reply(status=200)


@route("/os-quota-class-sets/{class_name}")
async def show_quota_class(call: Call) -> Response:
    common.require_admin(call.ctx, "volume_extension:quota_classes")
    name = call.params["class_name"]
    return reply({"quota_class_set": {"id": name, **model(call).quotas.class_limits(name)}})


@route("/os-quota-class-sets/{class_name}", methods=("PUT",))
async def update_quota_class(call: Call) -> Response:
    common.require_admin(call.ctx, "volume_extension:quota_classes:update")
    body = await routing.body_of(call, "quota_class_set")
    return reply({"quota_class_set": model(call).quotas.update_class(call.params["class_name"], body)})


@route("/limits")
async def limits(call: Call) -> Response:
    project_id = call.ctx.project_id or ""
    wanted = call.query.get("project_id")
    if wanted and since(call, "3.39") and wanted != project_id:
        common.require_admin(call.ctx, "limits_extension:used_limits")
        project_id = wanted
    quotas = model(call).quotas
    limit = quotas.limits(project_id)
    used = quotas.usage(project_id)
    absolute = {
        "maxTotalVolumes": limit["volumes"],
        "maxTotalSnapshots": limit["snapshots"],
        "maxTotalVolumeGigabytes": limit["gigabytes"],
        "maxTotalBackups": limit["backups"],
        "maxTotalBackupGigabytes": limit["backup_gigabytes"],
        "totalVolumesUsed": used["volumes"],
        "totalGigabytesUsed": used["gigabytes"],
        "totalSnapshotsUsed": used["snapshots"],
        "totalBackupsUsed": used["backups"],
        "totalBackupGigabytesUsed": used["backup_gigabytes"],
    }
    return reply({"limits": {"rate": [], "absolute": absolute}})
