"""The dashboard's routes: log in and out, and the read-only pages.

Who views is the token in the ``stacksim_dashboard`` cookie, checked on every request as the
APIs check ``X-Auth-Token`` (an expired or revoked token sends the browser back to the login
page); the pages read through the services' models with that token's context.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import UTC
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from stacksim import clock, faults, limits
from stacksim.dashboard import assets, pages
from stacksim.dashboard.reads import PREFIX, Reader
from stacksim.services.identity.common import DEFAULT_DOMAIN
from stacksim.services.identity.specs import AuthRequest, Scope
from stacksim.web import unexpected

if TYPE_CHECKING:
    from stacksim.auth import Context
    from stacksim.cloud import Cloud

log = logging.getLogger("stacksim")

COOKIE = "stacksim_dashboard"
LOGIN = f"{PREFIX}/login"
HOME = f"{PREFIX}/topology"
#: the largest login form read
FORM_LIMIT = 8192
#: every page: only our own script and style, never framed, never cached, no referrer sent elsewhere
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # no-referrer would make browsers send "Origin: null"
    "Cache-Control": "no-store",
}
LOGIN_FAILED = "Login failed: the username, password or project is wrong, or the user has no role on that project."

Render = Callable[[Reader, Request], str]


def _html(body: str, status: int = 200) -> Response:
    return HTMLResponse(body, status_code=status, headers=HEADERS)


def _to_login() -> Response:
    response = RedirectResponse(LOGIN, status_code=303, headers=HEADERS)
    response.delete_cookie(COOKIE, path=PREFIX, httponly=True, samesite="strict")
    return response


def _same_origin(request: Request) -> bool:
    """A form post from our own pages (browsers send Origin on posts; a missing one is a non-browser
    client, which has no cookie of ours to abuse)."""
    origin = request.headers.get("origin")
    return origin is None or origin == f"{request.url.scheme}://{request.headers.get('host', '')}"


class Dashboard:
    """The ASGI app mounted at ``/dashboard`` (the dispatcher passes the scope with that root path)."""

    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud
        view = self._view
        routes = [
            Route("/", lambda request: RedirectResponse(HOME, status_code=303)),
            Route("/login", self._login_page, methods=["GET"]),
            Route("/login", self._login, methods=["POST"]),
            Route("/logout", self._logout, methods=["POST"]),
            Route("/static/dashboard.css", lambda r: Response(assets.CSS, media_type="text/css", headers=HEADERS)),
            Route("/static/dashboard.js", lambda r: Response(assets.JS, media_type="text/javascript", headers=HEADERS)),
            Route("/topology", view(lambda reader, r: pages.topology(reader))),
            Route("/servers", view(lambda reader, r: pages.servers(reader))),
            Route("/servers/{server_id}", view(lambda reader, r: pages.server(reader, r.path_params["server_id"]))),
            Route("/volumes", view(lambda reader, r: pages.volumes(reader))),
            Route("/images", view(lambda reader, r: pages.images(reader))),
            Route("/stacks", view(lambda reader, r: pages.stacks(reader))),
            Route(
                "/stacks/{stack_id}",
                view(lambda reader, r: pages.stack(reader, reader.stack(r.path_params["stack_id"]))),
            ),
            Route(
                "/stacks/{stack_id}/live",
                view(
                    lambda reader, r: pages.stack_live(reader, reader.stack(r.path_params["stack_id"])), fragment=True
                ),
            ),
        ]
        self.app = Starlette(routes=routes)

    async def __call__(self, scope: dict, receive: object, send: object) -> None:
        await self.app(scope, receive, send)

    # -- who views -----------------------------------------------------------------------------

    def _context(self, request: Request) -> Context | None:
        token = request.cookies.get(COOKIE)
        return self.cloud.auth.optional_context(token) if token else None

    def _view(self, render: Render, fragment: bool = False) -> Callable[[Request], object]:
        async def endpoint(request: Request) -> Response:
            def work() -> Response:
                ctx = self._context(request)
                if ctx is None:
                    return _html("", 401) if fragment else _to_login()
                try:
                    return _html(render(Reader(self.cloud, ctx), request))
                except faults.ApiError as err:  # the services' own 404 and 403
                    return _html(pages.error(ctx, err.status, err.message), err.status)

            try:
                return await run_in_threadpool(work)
            except Exception as exc:
                err = unexpected(request.scope, exc)
                return _html(pages.error(None, err.status, err.message), err.status)

        return endpoint

    # -- logging in and out --------------------------------------------------------------------

    async def _login_page(self, request: Request) -> Response:
        ctx = await run_in_threadpool(self._context, request)
        if ctx is not None:
            return RedirectResponse(HOME, status_code=303, headers=HEADERS)
        return _html(pages.login())

    async def _login(self, request: Request) -> Response:
        if not _same_origin(request):
            return _html(pages.error(None, 403, "Log in from the dashboard's own page."), 403)
        try:
            raw = await limits.read_body(request, FORM_LIMIT)
        except limits.BodyTooLarge:
            return _html(pages.login("The login form is too large."), 413)
        except ClientDisconnect:
            return Response(status_code=400)
        form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True).items()}
        username, password, project = (form.get(k, "") for k in ("username", "password", "project"))
        if not (username and password and project):
            return _html(pages.login("Give a username, a password and a project.", username, project), 400)
        # The same checks as POST /v3/auth/tokens: the identity service's own authentication.
        domain = {"id": DEFAULT_DOMAIN}
        auth = AuthRequest(
            methods=("password",),
            password={"name": username, "domain": domain, "password": password},
            scope=Scope(project={"name": project, "domain": domain}),
        )
        try:
            token, record = await run_in_threadpool(self.cloud.identity.tokens.authenticate, auth)
        except faults.ApiError as err:
            log.info("dashboard login of %r on project %r refused: %s", username, project, err.message)
            return _html(pages.login(LOGIN_FAILED, username, project), 401)
        expires = clock.parse(record["expires_at"]).astimezone(UTC)
        response = RedirectResponse(HOME, status_code=303, headers=HEADERS)
        response.set_cookie(
            COOKIE,
            token,
            max_age=max(0, int((expires - clock.now()).total_seconds())),
            expires=expires,
            path=PREFIX,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    async def _logout(self, request: Request) -> Response:
        if not _same_origin(request):
            return _html(pages.error(None, 403, "Log out from the dashboard's own page."), 403)
        token = request.cookies.get(COOKIE)
        if token:
            with contextlib.suppress(faults.NotFound):
                await run_in_threadpool(self.cloud.identity.tokens.revoke, token)
        return _to_login()
