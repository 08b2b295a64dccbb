"""``/os-availability-zone``, ``/os-hypervisors``, ``/os-services`` and ``/os-migrations``: the one
compute host.

Not implemented: deleting a service and ``os-hosts`` (removed in 2.43). There are never any
migrations (a one-host cloud migrates nothing; a resize is done in place), so the migration
lists are empty.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from stacksim import faults
from stacksim.services.compute import common, schemas
from stacksim.services.compute.common import api
from stacksim.services.compute.hosts import HOST, INTERNAL_ZONE, Hosts
from stacksim.web import Call, reply

#: ``hypervisor_version`` as the drivers report it (Nova's fake driver says 1000).
HYPERVISOR_VERSION = 1000


def _model(call: Call) -> Hosts:
    return call.cloud.compute.hosts


# -- availability zones ---------------------------------------------------------------------------


@api.route("/v2.1/os-availability-zone")
async def list_zones(call: Call) -> Response:
    zones = _model(call).zone_list(call.ctx)
    info = [{"zoneName": name, "zoneState": {"available": up}, "hosts": None} for name, up in zones.items()]
    return reply({"availabilityZoneInfo": info})


@api.route("/v2.1/os-availability-zone/detail")
async def list_zones_detail(call: Call) -> Response:
    model = _model(call)
    zones = model.zone_list(call.ctx, detail=True)
    hosts: dict[str, dict[str, dict[str, Any]]] = {}
    for service in model.services():
        if service["disabled"]:
            continue
        entry = {"available": model.is_up(service), "active": True, "updated_at": _updated_at(model, service)}
        hosts.setdefault(model.zone_of(service), {}).setdefault(service["host"], {})[service["binary"]] = entry
    info = [
        {"zoneName": zone, "zoneState": {"available": True}, "hosts": hosts[zone]}
        for zone in (INTERNAL_ZONE, *zones)
        if zone in hosts
    ]
    info += [
        {"zoneName": zone, "zoneState": {"available": False}, "hosts": None} for zone, up in zones.items() if not up
    ]
    return reply({"availabilityZoneInfo": info})


# -- hypervisors ------------------------------------------------------------------------------------


def _hypervisor_id(call: Call) -> str | int:
    record = _model(call).hypervisor()
    return record["id"] if common.since(call, "2.53") else record["number"]


def _server_refs(call: Call) -> list[dict[str, str]]:
    return [{"name": s.get("name", ""), "uuid": s["id"]} for s in _model(call).servers()]


def hypervisor_view(call: Call, detail: bool, with_servers: bool = False) -> dict[str, Any]:
    model = _model(call)
    record, service = model.hypervisor(), model.compute_service()
    body: dict[str, Any] = {
        "id": _hypervisor_id(call),
        "hypervisor_hostname": record["hostname"],
        "state": "up" if model.is_up(service) else "down",
        "status": "disabled" if service["disabled"] else "enabled",
    }
    if detail:
        body.update(
            {
                "hypervisor_type": model.hypervisor_type,
                "hypervisor_version": HYPERVISOR_VERSION,
                "host_ip": model.host_ip,
                "service": {
                    "id": service["id"] if common.since(call, "2.53") else service["number"],
                    "host": record["host"],
                    "disabled_reason": service["disabled_reason"],
                },
            }
        )
        if common.since(call, "2.88"):
            body["uptime"] = model.uptime()
        else:
            body.update(model.resources())
            body["cpu_info"] = model.cpu_info() if common.since(call, "2.28") else model.cpu_info_text()
    if with_servers:
        servers = _server_refs(call)
        if servers or common.since(call, "2.75"):
            body["servers"] = servers
    return body


def _with_servers(call: Call) -> bool:
    """The list calls' query from 2.53: ``with_servers``, and a hostname pattern that must match."""
    if not common.since(call, "2.53"):
        return False
    with_servers = common.flag(call.query.get("with_servers", "false"), "with_servers")
    pattern = call.query.get("hypervisor_hostname_pattern")
    if pattern is None:
        return with_servers
    if "limit" in call.query or "marker" in call.query:
        raise faults.BadRequest(
            "Paging over hypervisors with the hypervisor_hostname_pattern query parameter is not supported."
        )
    if pattern not in HOST:
        raise faults.NotFound(f"No hypervisor matching '{pattern}' could be found.")
    return with_servers


async def _list_hypervisors(call: Call, detail: bool) -> Response:
    _model(call).hypervisor_for(call.ctx, "list-detail" if detail else "list")
    items = [hypervisor_view(call, detail, _with_servers(call))]
    # One hypervisor: a limit never leaves a next page; a marker can only be that one.
    marker = call.query.get("marker") if common.since(call, "2.33") else None
    if "limit" in call.query and common.since(call, "2.33"):
        common.integer(call.query["limit"], "limit")
    if marker is not None:
        if marker != str(items[0]["id"]):
            raise faults.BadRequest(f"marker [{marker}] not found")
        items = []
    return reply({"hypervisors": items})


@api.route("/v2.1/os-hypervisors")
async def list_hypervisors(call: Call) -> Response:
    return await _list_hypervisors(call, detail=False)


@api.route("/v2.1/os-hypervisors/detail")
async def list_hypervisors_detail(call: Call) -> Response:
    return await _list_hypervisors(call, detail=True)


@api.route("/v2.1/os-hypervisors/statistics")
async def hypervisor_statistics(call: Call) -> Response:
    common.require_version_below(call, "2.88")
    _model(call).hypervisor_for(call.ctx, "statistics")
    return reply({"hypervisor_statistics": {"count": 1, **_model(call).resources()}})


def _find_hypervisor(call: Call) -> None:
    """404 (400 for a malformed uuid from 2.53) unless the URL names our hypervisor."""
    given = call.params["hypervisor_id"]
    if common.since(call, "2.53"):
        if not common.is_uuid(given):
            raise faults.BadRequest(f"Invalid uuid {given}")
    elif not given.lstrip("-").isdigit():
        raise faults.NotFound(f"Hypervisor with ID '{given}' could not be found.")
    if given != str(_hypervisor_id(call)):
        raise faults.NotFound(f"Hypervisor with ID '{given}' could not be found.")


@api.route("/v2.1/os-hypervisors/{hypervisor_id}")
async def show_hypervisor(call: Call) -> Response:
    _model(call).hypervisor_for(call.ctx, "show")
    _find_hypervisor(call)
    with_servers = common.since(call, "2.53") and common.flag(call.query.get("with_servers", "false"), "with_servers")
    return reply({"hypervisor": hypervisor_view(call, True, with_servers)})


@api.route("/v2.1/os-hypervisors/{hypervisor_id}/uptime")
async def hypervisor_uptime(call: Call) -> Response:
    common.require_version_below(call, "2.88")
    _model(call).hypervisor_for(call.ctx, "uptime")
    _find_hypervisor(call)
    body = hypervisor_view(call, False)
    body["uptime"] = _model(call).uptime()
    return reply({"hypervisor": body})


def _legacy_search(call: Call, with_servers: bool) -> Response:
    common.require_version_below(call, "2.53")
    _model(call).hypervisor_for(call.ctx, "search" if not with_servers else "servers")
    pattern = call.params["pattern"]
    if pattern not in HOST:
        raise faults.NotFound(f"No hypervisor matching '{pattern}' could be found.")
    return reply({"hypervisors": [hypervisor_view(call, False, with_servers)]})


@api.route("/v2.1/os-hypervisors/{pattern}/search")
async def search_hypervisors(call: Call) -> Response:
    return _legacy_search(call, with_servers=False)


@api.route("/v2.1/os-hypervisors/{pattern}/servers")
async def hypervisor_servers(call: Call) -> Response:
    return _legacy_search(call, with_servers=True)


# -- services ------------------------------------------------------------------------------------------


def _updated_at(model: Hosts, service: dict[str, Any]) -> str | None:
    """A live service reports in all the time; a forced-down one shows its last change."""
    return common.now() if model.is_up(service) else service.get("updated_at")


def service_view(call: Call, service: dict[str, Any]) -> dict[str, Any]:
    model = _model(call)
    body = {
        "id": service["id"] if common.since(call, "2.53") else service["number"],
        "binary": service["binary"],
        "host": service["host"],
        "zone": model.zone_of(service),
        "status": "disabled" if service["disabled"] else "enabled",
        "state": "up" if model.is_up(service) else "down",
        "updated_at": _updated_at(model, service),
        "disabled_reason": service["disabled_reason"],
    }
    if common.since(call, "2.11"):
        body["forced_down"] = service["forced_down"]
    return body


@api.route("/v2.1/os-services")
async def list_services(call: Call) -> Response:
    services = _model(call).list_services(call.ctx, call.query.get("host"), call.query.get("binary"))
    return reply({"services": [service_view(call, s) for s in services]})


@api.route("/v2.1/os-services/{ref}", methods=("PUT",))
async def update_service(call: Call) -> Response:
    if common.since(call, "2.53"):
        return await _update_service(call)
    return await _service_action(call, call.params["ref"])


async def _service_action(call: Call, action: str) -> Response:
    actions = ["enable", "disable", "disable-log-reason"] + (["force-down"] if common.since(call, "2.11") else [])
    if action not in actions:
        raise faults.NotFound("Unknown action")
    body = await call.body(schemas.ServiceAction)
    _model(call).set_service(call.ctx, action, body.host, body.binary, body.disabled_reason, body.forced_down)
    out: dict[str, Any] = {"host": body.host, "binary": body.binary}
    if action == "force-down":
        out["forced_down"] = body.forced_down
    else:
        out["status"] = "enabled" if action == "enable" else "disabled"
        if action == "disable-log-reason":
            out["disabled_reason"] = body.disabled_reason
    return reply({"service": out})


async def _update_service(call: Call) -> Response:
    ref = call.params["ref"]
    if not common.is_uuid(ref):
        raise faults.BadRequest(f"Invalid uuid {ref}")
    body = await call.body(schemas.ServiceUpdate)
    service = _model(call).change_service(call.ctx, ref, body.status, body.disabled_reason, body.forced_down)
    return reply({"service": service_view(call, service)})


# -- migrations ---------------------------------------------------------------------------------------


@api.route("/v2.1/os-migrations")
async def list_migrations(call: Call) -> Response:
    """Nova's migration list: none ever happen here; the query is still checked as Nova checks it."""
    _model(call).migrations(call.ctx, call.query.get("project_id"))
    if common.since(call, "2.59"):
        schemas.whole(call.query, "limit")
        schemas.moment(call.query, "changes-since")
        if call.query.get("marker"):
            raise faults.BadRequest(f"Marker {call.query['marker']} could not be found.")
    if common.since(call, "2.66"):
        schemas.moment(call.query, "changes-before")
    return reply({"migrations": []})


@api.route("/v2.1/servers/{id}/migrations")
async def list_server_migrations(call: Call) -> Response:
    common.require_version(call, "2.23")
    return reply({"migrations": call.cloud.compute.servers.migrations(call.ctx, call.params["id"])})
