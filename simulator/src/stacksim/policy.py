"""Rules every service shares, checked in the web layer before a handler runs.

- **reader is read-only.** A token whose effective roles hold neither ``member``
  nor ``admin`` may not change anything: POST, PUT, PATCH and DELETE answer 403,
  as the services' default policies (project member for every write) say. The
  exceptions are the writes those policies give to the owner or to readers,
  listed in :data:`READER_WRITES`.
- **Application credential access rules.** A token made from an application
  credential with access rules may only make the requests one of its rules
  allows (service type, method, and a path with ``*``/``**``/``{name}``
  wildcards), as keystonemiddleware checks them; anything else is 401.

Each service still checks its own finer rules (owner, project, admin).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stacksim import faults
from stacksim.auth import forbidden

if TYPE_CHECKING:
    from stacksim.auth import Context

#: methods that change nothing
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: the roles that may write (``admin`` implies ``member``, but tokens carry both anyway)
WRITER_ROLES = frozenset({"member", "admin"})


@dataclass(frozen=True)
class ReaderWrite:
    """A write a reader may make: by service type, method and route template."""

    service: str
    method: str
    route: str
    #: the body must hold exactly this one key (an action), or None for any body
    action: str | None = None
    why: str = ""


#: Writes the services' default policies allow without ``member`` (each with the policy's name).
READER_WRITES: tuple[ReaderWrite, ...] = (
    # Keystone: the token subject revokes its own token; a user manages their own
    # application credentials, access rules and credentials, and changes their password.
    ReaderWrite("identity", "DELETE", "/v3/auth/tokens", why="identity:revoke_token (admin or token subject)"),
    ReaderWrite(
        "identity",
        "POST",
        "/v3/users/{user}/application_credentials",
        why="identity:create_application_credential (owner)",
    ),
    ReaderWrite(
        "identity",
        "DELETE",
        "/v3/users/{user}/application_credentials/{id}",
        why="identity:delete_application_credential (owner)",
    ),
    ReaderWrite("identity", "DELETE", "/v3/users/{user}/access_rules/{id}", why="identity:delete_access_rule (owner)"),
    ReaderWrite("identity", "POST", "/v3/users/{id}/password", why="a user changes their own password"),
    ReaderWrite("identity", "POST", "/v3/credentials", why="identity:create_credential (admin or owner)"),
    ReaderWrite("identity", "PATCH", "/v3/credentials/{id}", why="identity:update_credential (admin or owner)"),
    ReaderWrite("identity", "DELETE", "/v3/credentials/{id}", why="identity:delete_credential (admin or owner)"),
    # Nova: key pairs belong to users, not projects.
    ReaderWrite("compute", "POST", "/v2.1/os-keypairs", why="os_compute_api:os-keypairs:create (admin or user)"),
    ReaderWrite(
        "compute", "DELETE", "/v2.1/os-keypairs/{name}", why="os_compute_api:os-keypairs:delete (admin or user)"
    ),
    # Heat: a preview creates nothing; a check reads; a signal is the stack's own business.
    ReaderWrite("orchestration", "POST", "/v1/{project_id}/stacks/preview", why="stacks:preview (project reader)"),
    ReaderWrite(
        "orchestration",
        "POST",
        "/v1/{project_id}/stacks/{stack_name}/{stack_id}/actions",
        action="check",
        why="actions:check (project reader)",
    ),
    ReaderWrite(
        "orchestration",
        "POST",
        "/v1/{project_id}/stacks/{stack_name}/{stack_id}/resources/{resource_name}/signal",
        why="resource:signal (project reader or stack user)",
    ),
    # Cinder: showing a volume's image metadata is a read sent as an action.
    *(
        ReaderWrite(
            "block-storage",
            "POST",
            f"{prefix}/volumes/{{volume_id}}/action",
            action="os-show_image_metadata",
            why="volume_extension:volume_image_metadata:show (project reader)",
        )
        for prefix in ("/v3", "/v3/{project_id}")
    ),
)


def _reader_writes() -> dict[tuple[str, str, str], ReaderWrite]:
    return {(w.service, w.method, w.route): w for w in READER_WRITES}


_BY_ROUTE = _reader_writes()


#: Services whose models check their own default policy for readers, with that service's
#: wording (Nova's "Policy doesn't allow os_compute_api:... to be performed.", Cinder's,
#: Glance's): the web layer leaves their writes to them and is the backstop for the others.
OWN_READER_POLICY = frozenset({"compute", "image", "block-storage"})


def may_write(ctx: Context) -> bool:
    """Whether the token's roles allow writes at all (``member`` or ``admin``)."""
    return bool(ctx.roles & WRITER_ROLES) or ctx.is_admin


def check_write(ctx: Context, service: str, method: str, route: str, body: Any = None) -> None:
    """Refuse a write by a token without ``member``/``admin`` unless the default policy allows it.

    ``route`` is the route's template (``/v2.1/servers/{id}``); ``body`` the decoded
    JSON body (for actions whose policy depends on the action), or None.
    """
    if method in READ_METHODS or service in OWN_READER_POLICY or may_write(ctx):
        return
    allowed = _BY_ROUTE.get((service, method, route))
    if allowed is not None and (allowed.action is None or _only_key(body) == allowed.action):
        return
    raise forbidden(f"{method} {route} needs the member role; the token's roles are {_roles(ctx)}")


def _only_key(body: Any) -> str | None:
    if isinstance(body, dict) and len(body) == 1:
        return next(iter(body))
    return None


def _roles(ctx: Context) -> str:
    return ", ".join(sorted(ctx.roles)) or "none"


# -- application credential access rules ---------------------------------------------------------


def check_access_rules(
    ctx: Context, services: Iterable[str], method: str, path: str, challenge: dict[str, str] | None = None
) -> None:
    """Refuse (401) a request that none of the token's access rules allows.

    ``services``: the catalog types the service answers to; ``path``: the request's
    path below the service's mount (``/v2.1/servers``).
    """
    if ctx.access_rules is None:
        return
    types = set(services)
    if any(ctx.permits(service, method, path) for service in types):
        return
    raise faults.Unauthorized(
        f"The request you have made requires authentication: the application credential's access rules "
        f"do not allow {method} {path} on {'/'.join(sorted(types))}.",
        headers=challenge,
    )
