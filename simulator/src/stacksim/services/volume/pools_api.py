"""The backend as admins see it: ``/scheduler-stats/get_pools``, ``/capabilities/{host}``,
``/os-services``, and ``/os-availability-zone`` (for everyone), ``/extensions``."""

from __future__ import annotations

from starlette.responses import Response

from stacksim import faults
from stacksim.services.volume import api as common_api
from stacksim.services.volume import common, pools
from stacksim.services.volume.api import model, route, since
from stacksim.web import Call, reply


@route("/scheduler-stats/get_pools")
async def get_pools(call: Call) -> Response:
    common.require_admin(call.ctx, "scheduler_extension:scheduler_stats:get_pools")
    found = model(call).pools.stats()
    name = call.query.get("name")
    if name:
        found = [p for p in found if p["name"] == name or p["capabilities"]["pool_name"] == name]
    if not common_api.flag_query(call, "detail"):
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


@route("/os-services")
async def services(call: Call) -> Response:
    common.require_admin(call.ctx, "volume_extension:services:index")
    stamp = common.now()
    found = []
    for binary, host in (
        ("cinder-scheduler", pools.HOST),
        ("cinder-volume", pools.BACKEND_HOST),
        ("cinder-backup", pools.HOST),
    ):
        entry = {
            "binary": binary,
            "host": host,
            "zone": common.ZONE,
            "status": "enabled",
            "state": "up",
            "updated_at": stamp,
            "disabled_reason": None,
        }
        if since(call, "3.7"):
            entry["cluster"] = None
        if since(call, "3.49") and binary == "cinder-volume":
            entry["backend_state"] = "up"
        if call.query.get("binary") not in (None, binary) or call.query.get("host") not in (None, host):
            continue
        found.append(entry)
    return reply({"services": found})


@route("/os-availability-zone")
async def availability_zones(call: Call) -> Response:
    return reply({"availabilityZoneInfo": [{"zoneName": common.ZONE, "zoneState": {"available": True}}]})


@route("/extensions")
async def extensions(call: Call) -> Response:
    return reply({"extensions": []})
