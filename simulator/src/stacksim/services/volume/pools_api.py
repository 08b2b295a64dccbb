"""The backend as admins see it: ``/scheduler-stats/get_pools``, ``/capabilities/{host}``; and for
everyone ``/os-availability-zone``, ``/extensions`` and ``/resource_filters`` (3.33)."""

from __future__ import annotations

from starlette.responses import Response

from stacksim import faults
from stacksim.services.volume import common, pools, routing
from stacksim.services.volume.routing import model, route
from stacksim.web import Call, reply


@route("/scheduler-stats/get_pools")
async def get_pools(call: Call) -> Response:
    common.require_admin(call.ctx, "scheduler_extension:scheduler_stats:get_pools")
    found = model(call).pools.stats()
    name = call.query.get("name")
    if name:
        found = [p for p in found if p["name"] == name or p["capabilities"]["pool_name"] == name]
    if not routing.flag_query(call, "detail"):
        found = [{"name": p["name"]} for p in found]
    return reply({"pools": found})


@route("/capabilities/{host}")
async def capabilities(call: Call) -> Response:
    common.require_admin(call.ctx, "volume_extension:capabilities")
    host = call.params["host"]
    if host.split("#", 1)[0] != pools.BACKEND_HOST:
        raise faults.NotFound(f"Service {host} could not be found.")
    return reply(
        {
            "namespace": f"OS::Storage::Capabilities::{pools.BACKEND_HOST}",
            "vendor_name": "Open Source",
            "volume_backend_name": pools.BACKEND,
            "pool_name": None,
            "driver_version": pools.DRIVER_VERSION,
            "storage_protocol": pools.STORAGE_PROTOCOL,
            "display_name": None,
            "description": None,
            "visibility": None,
            "replication_targets": [],
            "properties": {
                "thin_provisioning": {
                    "title": "Thin Provisioning",
                    "description": "Sets thin provisioning.",
                    "type": "boolean",
                },
                "compression": {"title": "Compression", "description": "Enables compression.", "type": "boolean"},
            },
        }
    )


@route("/os-availability-zone")
async def availability_zones(call: Call) -> Response:
    return reply({"availabilityZoneInfo": [{"zoneName": common.ZONE, "zoneState": {"available": True}}]})


@route("/extensions")
async def extensions(call: Call) -> Response:
    return reply({"extensions": []})


@route("/resource_filters")
async def resource_filters(call: Call) -> Response:
    routing.require_version(call, "3.33")
    wanted = call.query.get("resource")
    found = [
        {"resource": resource, "filters": list(filters)}
        for resource, filters in routing.RESOURCE_FILTERS.items()
        if wanted in (None, resource)
    ]
    return reply({"resource_filters": found})
