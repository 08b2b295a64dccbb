"""``POST /servers/{id}/action``: each action's body parsed, the model called, the answer rendered."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.responses import Response

from stacksim import faults
from stacksim.services.compute import common, schemas
from stacksim.services.compute.common import api
from stacksim.services.compute.model import KEEP, Compute
from stacksim.services.compute.servers_api import show
from stacksim.web import Call, parse, reply

Handler = Callable[[Call, Compute, str, Any], Response]

#: Actions without a body, or whose body is ignored: name -> the model's method.
SIMPLE = {
    "os-start": "start",
    "os-stop": "stop",
    "pause": "pause",
    "unpause": "unpause",
    "suspend": "suspend",
    "resume": "resume",
    "confirmResize": "confirm_resize",
    "revertResize": "revert_resize",
    "unrescue": "unrescue",
    "shelve": "shelve",
    "shelveOffload": "shelve_offload",
}
#: Actions a microversion removed (name -> first version without it).
REMOVED = {"addFixedIp": "2.44", "removeFixedIp": "2.44"}
for _name in ("os-getVNCConsole", "os-getSPICEConsole", "os-getSerialConsole", "os-getRDPConsole"):
    REMOVED[_name] = "2.6"

ACTIONS: dict[str, Handler] = {}


def action(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ACTIONS[name] = handler
        return handler

    return register


def _body(model: type, args: Any, name: str) -> Any:
    return parse(model, args if isinstance(args, dict) else {}, name)


@api.route("/v2.1/servers/{id}/action", methods=("POST",))
async def server_action(call: Call) -> Response:
    data = await call.json()
    if not isinstance(data, dict) or len(data) != 1:
        raise faults.BadRequest("There is no such action: the body must name exactly one action.")
    ((name, args),) = data.items()
    if name in REMOVED and common.since(call, REMOVED[name]):
        raise faults.NotFound("The resource could not be found.")
    compute: Compute = call.cloud.compute
    server_id = call.params["id"]
    if name in SIMPLE:
        getattr(compute, SIMPLE[name])(call.ctx, server_id)
        return reply(status=202)
    handler = ACTIONS.get(name)
    if handler is None:
        raise faults.BadRequest(f"There is no such action: {name}")
    return handler(call, compute, server_id, args)


@action("reboot")
def _reboot(call: Call, compute: Compute, server_id: str, args: Any) -> Response:
    body = _body(schemas.Reboot, args, "reboot")
    compute.reboot(call.ctx, server_id, hard=body.type == "HARD")
    return reply(status=202)


@action("resize")
def _resize(call: Call, compute: Compute, server_id: str, args: Any) -> Response:
    body = _body(schemas.Resize, args, "resize")
    compute.resize(call.ctx, server_id, body.flavor_id)
    return reply(status=202)


@action("rebuild")
def _rebuild(call: Call, compute: Compute, server_id: str, args: Any) -> Response:
    body = _body(schemas.RebuildBody, args, "rebuild")
    common.too_new("rebuild", body, call, {"description": "2.19", "key_name": "2.54", "user_data": "2.57"})
    compute.rebuild(call.ctx, server_id, body.request())
    return show(call, server_id, status=202)


@action("lock")
def _lock(call: Call, compute: Compute, server_id: str, args: Any) -> Response:
    body = _body(schemas.Lock, args, "lock")
    common.too_new("lock", body, call, {"locked_reason": "2.73"})
    compute.lock(call.ctx, server_id, body.locked_reason)
    return reply(status=202)


@action("unlock")
def _unlock(call: Call, compute: Compute, server_id: str, args: Any) -> Response:
    compute.unlock(call.ctx, server_id)
    return reply(status=202)


@action("createImage")
def _create_image(call: Call, compute: Compute, server_id: str, args: Any) -> Response:
    body = _body(schemas.CreateImage, args, "createImage")
    image = compute.create_image(call.ctx, server_id, body.name, body.metadata or {})
    location = f"{call.cloud.settings.base_url}/image/v2/images/{image['id']}"
    answer = {"image_id": image["id"]} if common.since(call, "2.45") else None
    return reply(answer, status=202, headers={"Location": location})


def _security_group(add: bool) -> Handler:
    def handle(call: Call, compute: Compute, server_id: str, args: Any) -> Response:
        name = "addSecurityGroup" if add else "removeSecurityGroup"
        body = _body(schemas.SecurityGroupName, args, name)
        compute.set_security_group(call.ctx, server_id, body.name, add=add)
        return reply(status=202)

    return handle


action("addSecurityGroup")(_security_group(True))
action("removeSecurityGroup")(_security_group(False))


@action("os-resetState")
def _reset_state(call: Call, compute: Compute, server_id: str, args: Any) -> Response:
    body = _body(schemas.ResetState, args, "os-resetState")
    compute.servers.reset_state(call.ctx, server_id, body.state)
    return reply(status=202)


@action("os-getConsoleOutput")
def _console_output(call: Call, compute: Compute, server_id: str, args: Any) -> Response:
    body = _body(schemas.ConsoleOutput, args, "os-getConsoleOutput")
    return reply({"output": compute.consoles.output(call.ctx, server_id, body.lines())})


@action("rescue")
def _rescue(call: Call, compute: Compute, server_id: str, args: Any) -> Response:
    body = _body(schemas.RescueBody, args, "rescue")
    image = body.rescue_image_ref.rstrip("/").rsplit("/", 1)[-1] if body.rescue_image_ref else None
    password = compute.rescue(call.ctx, server_id, image, body.adminPass)
    return reply({"adminPass": password})


@action("unshelve")
def _unshelve(call: Call, compute: Compute, server_id: str, args: Any) -> Response:
    body = _body(schemas.Unshelve, args, "unshelve")
    common.too_new("unshelve", body, call, {"availability_zone": "2.77", "host": "2.91"})
    zone: Any = body.availability_zone if "availability_zone" in body.model_fields_set else KEEP
    compute.unshelve(call.ctx, server_id, availability_zone=zone, host=body.host)
    return reply(status=202)


@action("addFixedIp")
def _add_fixed_ip(call: Call, compute: Compute, server_id: str, args: Any) -> Response:
    body = _body(schemas.AddFixedIp, args, "addFixedIp")
    compute.interfaces.add_fixed_ip(call.ctx, server_id, str(body.networkId))
    return reply(status=202)


@action("removeFixedIp")
def _remove_fixed_ip(call: Call, compute: Compute, server_id: str, args: Any) -> Response:
    body = _body(schemas.RemoveFixedIp, args, "removeFixedIp")
    compute.interfaces.remove_fixed_ip(call.ctx, server_id, body.address)
    return reply(status=202)


def _legacy_console(protocol: str, name: str) -> Handler:
    """The remote-console actions before 2.6 (``os-getVNCConsole`` ...)."""

    def handle(call: Call, compute: Compute, server_id: str, args: Any) -> Response:
        body = _body(schemas.LegacyConsole, args, name)
        url = compute.consoles.remote(call.ctx, server_id, protocol, body.type)
        return reply({"console": {"type": body.type, "url": url}})

    return handle


action("os-getVNCConsole")(_legacy_console("vnc", "os-getVNCConsole"))
action("os-getSPICEConsole")(_legacy_console("spice", "os-getSPICEConsole"))
action("os-getSerialConsole")(_legacy_console("serial", "os-getSerialConsole"))
action("os-getRDPConsole")(_legacy_console("rdp", "os-getRDPConsole"))
