"""The ASGI application: ``/health`` and each service under its path prefix."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.responses import JSONResponse

from stacksim import __version__
from stacksim.cloud import Cloud
from stacksim.config import Settings
from stacksim.web import RequestId


class _Dispatcher:
    """Routes by path prefix; ``/identity`` and ``/identity/`` reach the same root."""

    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud
        self.mounts = [(s.prefix, s.api.app(cloud)) for s in cloud.services]

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        path = scope["path"]
        if path == "/health":
            await self._health(scope, receive, send)
            return
        for prefix, app in self.mounts:
            if path == prefix or path.startswith(prefix + "/"):
                sub = dict(scope, root_path=scope.get("root_path", "") + prefix)
                if path == prefix:
                    sub["path"] = prefix + "/"
                await app(sub, receive, send)
                return
        await JSONResponse(
            {"error": {"code": 404, "title": "Not Found", "message": f"No service is mounted at {path}."}}, 404
        )(scope, receive, send)

    async def _health(self, scope: dict, receive: Any, send: Any) -> None:
        body = {"status": "ok", "version": __version__, "services": {s.type: "running" for s in self.cloud.services}}
        await JSONResponse(body)(scope, receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.cloud.lifecycle.start(asyncio.get_running_loop())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.cloud.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def create_app(settings: Settings, cloud: Cloud | None = None) -> Any:
    cloud = cloud or Cloud(settings)
    cloud.start()
    return RequestId(_Dispatcher(cloud))
