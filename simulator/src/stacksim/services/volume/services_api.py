"""``/os-services`` (list, enable, disable, freeze, thaw) and ``/os-hosts`` (admins only)."""

from __future__ import annotations

from starlette.responses import Response

from stacksim import faults
from stacksim.services.volume import common, schemas, views
from stacksim.services.volume.hosts import ServiceChange
from stacksim.services.volume.routing import model, route, viewer
from stacksim.web import Call, reply

RULE = "volume_extension:services"


@route("/os-services")
async def list_services(call: Call) -> Response:
    common.require_admin(call.ctx, f"{RULE}:index")
    hosts = model(call).hosts
    backend = "up" if hosts.accepts_volumes() else "down"
    found = hosts.services(call.query.get("host"), call.query.get("binary"))
    return reply({"services": [views.service(viewer(call), s, backend) for s in found]})


@route("/os-services/{action}", methods=("PUT",))
async def service_action(call: Call) -> Response:
    common.require_admin(call.ctx, f"{RULE}:update")
    action = call.params["action"]
    data = await call.json()
    hosts = model(call).hosts
    if action in ("freeze", "thaw"):
        body = schemas.parse(schemas.FreezeBody, data, action)
        hosts.freeze(body.host, frozen=action == "freeze")
        return reply({})
    if action in ("enable", "disable", "disable-log-reason"):
        body = schemas.parse(schemas.ServiceBody, data, action)
        binary = body.binary or body.service
        if not binary:
            raise common.invalid_field(action, data, f"{data} is not valid under any of the given schemas")
        disabled = action != "enable"
        reason = body.disabled_reason if action == "disable-log-reason" else None
        state = hosts.change(ServiceChange(binary, body.host, disabled, reason))
        answer = {
            "host": state["host"],
            "service": body.service or "",
            "binary": body.binary or "",
            "status": "disabled" if disabled else "enabled",
            "disabled": disabled,
        }
        if action == "disable-log-reason":
            answer["disabled_reason"] = reason
        return reply(answer)
    if action == "failover_host":
        raise common.invalid_input("No replication targets are configured for stacksim@lvm.")
    if action in ("set-log", "get-log"):
        return reply(status=202) if action == "set-log" else reply({"log_levels": []})
    raise faults.NotFound("The resource could not be found.")


@route("/os-hosts")
async def list_hosts(call: Call) -> Response:
    common.require_admin(call.ctx, "volume_extension:hosts")
    return reply({"hosts": model(call).hosts.hosts(call.query.get("zone"))})


@route("/os-hosts/{host}")
async def show_host(call: Call) -> Response:
    common.require_admin(call.ctx, "volume_extension:hosts")
    bs = model(call)
    volumes = bs.volumes.list(call.ctx, all_projects=True)
    snapshots = bs.snapshots.list(call.ctx, all_projects=True)
    return reply({"host": bs.hosts.usage(call.params["host"], volumes, snapshots)})


@route("/os-hosts/{host}", methods=("PUT",))
async def update_host(call: Call) -> Response:
    common.require_admin(call.ctx, "volume_extension:hosts")
    raise faults.ApiError("Setting a host's status through os-hosts is not implemented by Cinder.", status=501)
