"""Remote consoles (2.6 on), console tokens (admins), the console page, and diagnostics (admins)."""

from __future__ import annotations

from starlette.responses import PlainTextResponse, Response

from stacksim import faults
from stacksim.services.compute import common, schemas
from stacksim.services.compute.common import api
from stacksim.web import Call, reply


@api.route("/v2.1/servers/{id}/remote-consoles", methods=("POST",))
async def create_remote_console(call: Call) -> Response:
    common.require_version(call, "2.6")
    body = await call.body(schemas.RemoteConsole, "remote_console")
    url = call.cloud.compute.consoles.remote(call.ctx, call.params["id"], body.protocol, body.type)
    return reply({"remote_console": {"protocol": body.protocol, "type": body.type, "url": url}})


@api.route("/v2.1/os-console-auth-tokens/{token}")
async def show_console_token(call: Call) -> Response:
    record = call.cloud.compute.consoles.token(call.ctx, call.params["token"])
    if record["console_type"] != "rdp-html5" and not common.since(call, "2.31"):
        raise faults.Unauthorized("The requested console type details are not accessible")
    keys = ("instance_uuid", "host", "port", "internal_access_path")
    return reply({"console": {k: record[k] for k in keys}})


@api.route("/vnc_lite.html", public=True)
async def console_page(call: Call) -> Response:
    """What a console URL opens: the guest's console log, for the token in ``path``."""
    path = call.query.get("path") or ""
    token = path.split("token=", 1)[-1] if "token=" in path else (call.query.get("token") or "")
    return PlainTextResponse(call.cloud.compute.consoles.page(token))


@api.route("/v2.1/servers/{id}/diagnostics")
async def diagnostics(call: Call) -> Response:
    standard = common.since(call, "2.48")
    return reply(call.cloud.compute.consoles.diagnostics(call.ctx, call.params["id"], standard))
