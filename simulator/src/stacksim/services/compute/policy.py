"""Nova's default policy, as the model enforces it.

Every rule is named as in Nova (``os_compute_api:servers:create`` ...) and
maps to one of Nova's base check strings: ``admin`` (the admin role),
``member`` (``project_member_or_admin``: the member role on the target's
project, or admin), ``reader`` (``project_reader_or_admin``: the reader role,
which member and admin imply, on the target's project, or admin), ``user``
(admin, or the target's own user: keypairs) and ``any``. A refusal is Nova's
403: "Policy doesn't allow <rule> to be performed."

A server of another project is never found by a non-admin (404) before a
rule is asked, so the target's project is the server's own.
"""

from __future__ import annotations

from stacksim import faults
from stacksim.auth import Context

ADMIN, MEMBER, READER, USER, ANY = "admin", "member", "reader", "user", "any"

_SERVER_READS = ("index", "detail", "show", "show:flavor-extra-specs")
_SERVER_WRITES = (
    "create",
    "create:attach_volume",
    "create:attach_network",
    "create:trusted_certs",
    "delete",
    "update",
    "confirm_resize",
    "revert_resize",
    "reboot",
    "resize",
    "rebuild",
    "create_image",
    "start",
    "stop",
    "trigger_crash_dump",
)

RULES: dict[str, str] = {
    **{f"os_compute_api:servers:{r}": READER for r in _SERVER_READS},
    **{f"os_compute_api:servers:{r}": MEMBER for r in _SERVER_WRITES},
    "os_compute_api:servers:index:get_all_tenants": ADMIN,
    "os_compute_api:servers:detail:get_all_tenants": ADMIN,
    "os_compute_api:servers:allow_all_filters": ADMIN,
    "os_compute_api:servers:show:host_status": ADMIN,
    "os_compute_api:servers:create:forced_host": ADMIN,
    "os_compute_api:os-extended-server-attributes": ADMIN,
    "os_compute_api:os-admin-actions:reset_state": ADMIN,
    "os_compute_api:os-lock-server:lock": MEMBER,
    "os_compute_api:os-lock-server:unlock": MEMBER,
    "os_compute_api:os-lock-server:unlock:unlock_override": ADMIN,
    "os_compute_api:os-pause-server:pause": MEMBER,
    "os_compute_api:os-pause-server:unpause": MEMBER,
    "os_compute_api:os-suspend-server:suspend": MEMBER,
    "os_compute_api:os-suspend-server:resume": MEMBER,
    "os_compute_api:os-rescue": MEMBER,
    "os_compute_api:os-unrescue": MEMBER,
    "os_compute_api:os-shelve:shelve": MEMBER,
    "os_compute_api:os-shelve:unshelve": MEMBER,
    "os_compute_api:os-shelve:unshelve_to_host": ADMIN,
    "os_compute_api:os-shelve:shelve_offload": ADMIN,
    "os_compute_api:os-console-output": MEMBER,
    "os_compute_api:os-remote-consoles": MEMBER,
    "os_compute_api:os-console-auth-tokens": ADMIN,
    "os_compute_api:os-server-diagnostics": ADMIN,
    "os_compute_api:os-security-groups:list": READER,
    "os_compute_api:os-security-groups:add": MEMBER,
    "os_compute_api:os-security-groups:remove": MEMBER,
    "os_compute_api:ips:index": READER,
    "os_compute_api:ips:show": READER,
    "os_compute_api:os-attach-interfaces:list": READER,
    "os_compute_api:os-attach-interfaces:show": READER,
    "os_compute_api:os-attach-interfaces:create": MEMBER,
    "os_compute_api:os-attach-interfaces:delete": MEMBER,
    "os_compute_api:os-multinic:add": MEMBER,
    "os_compute_api:os-multinic:remove": MEMBER,
    "os_compute_api:os-volumes-attachments:index": READER,
    "os_compute_api:os-volumes-attachments:show": READER,
    "os_compute_api:os-volumes-attachments:create": MEMBER,
    "os_compute_api:os-volumes-attachments:update": MEMBER,
    "os_compute_api:os-volumes-attachments:delete": MEMBER,
    "os_compute_api:os-volumes-attachments:swap": ADMIN,  # Nova: the service role (or admin)
    "os_compute_api:server-metadata:index": READER,
    "os_compute_api:server-metadata:show": READER,
    "os_compute_api:server-metadata:create": MEMBER,
    "os_compute_api:server-metadata:update_all": MEMBER,
    "os_compute_api:server-metadata:update": MEMBER,
    "os_compute_api:server-metadata:delete": MEMBER,
    "os_compute_api:os-server-tags:index": READER,
    "os_compute_api:os-server-tags:show": READER,
    "os_compute_api:os-server-tags:update": MEMBER,
    "os_compute_api:os-server-tags:update_all": MEMBER,
    "os_compute_api:os-server-tags:delete": MEMBER,
    "os_compute_api:os-server-tags:delete_all": MEMBER,
    "os_compute_api:os-instance-actions:list": READER,
    "os_compute_api:os-instance-actions:show": READER,
    "os_compute_api:os-instance-actions:events": ADMIN,
    "os_compute_api:os-instance-actions:events:details": ADMIN,
    "os_compute_api:os-server-groups:create": MEMBER,
    "os_compute_api:os-server-groups:delete": MEMBER,
    "os_compute_api:os-server-groups:index": READER,
    "os_compute_api:os-server-groups:index:all_projects": ADMIN,
    "os_compute_api:os-server-groups:show": READER,
    "os_compute_api:os-keypairs:index": USER,
    "os_compute_api:os-keypairs:create": USER,
    "os_compute_api:os-keypairs:delete": USER,
    "os_compute_api:os-keypairs:show": USER,
    "os_compute_api:os-flavor-manage:create": ADMIN,
    "os_compute_api:os-flavor-manage:update": ADMIN,
    "os_compute_api:os-flavor-manage:delete": ADMIN,
    "os_compute_api:os-flavor-access": ADMIN,
    "os_compute_api:os-flavor-access:add_tenant_access": ADMIN,
    "os_compute_api:os-flavor-access:remove_tenant_access": ADMIN,
    "os_compute_api:os-flavor-extra-specs:index": READER,
    "os_compute_api:os-flavor-extra-specs:show": READER,
    "os_compute_api:os-flavor-extra-specs:create": ADMIN,
    "os_compute_api:os-flavor-extra-specs:update": ADMIN,
    "os_compute_api:os-flavor-extra-specs:delete": ADMIN,
    "os_compute_api:os-quota-sets:show": READER,
    "os_compute_api:os-quota-sets:detail": READER,
    "os_compute_api:os-quota-sets:defaults": ANY,
    "os_compute_api:os-quota-sets:update": ADMIN,
    "os_compute_api:os-quota-sets:delete": ADMIN,
    "os_compute_api:os-quota-class-sets:show": ADMIN,
    "os_compute_api:os-quota-class-sets:update": ADMIN,
    "os_compute_api:limits": ANY,
    "os_compute_api:limits:other_project": ADMIN,
    "os_compute_api:os-availability-zone:list": ANY,
    "os_compute_api:os-availability-zone:detail": ADMIN,
    **{f"os_compute_api:os-hypervisors:{r}": ADMIN for r in ("list", "list-detail", "statistics", "show")},
    **{f"os_compute_api:os-hypervisors:{r}": ADMIN for r in ("uptime", "search", "servers")},
    "os_compute_api:os-services:list": ADMIN,
    "os_compute_api:os-services:update": ADMIN,
    "os_compute_api:os-services:delete": ADMIN,
    **{
        f"os_compute_api:os-aggregates:{r}": ADMIN
        for r in ("index", "create", "show", "update", "delete", "add_host", "remove_host", "set_metadata")
    },
    "os_compute_api:os-migrations:index": ADMIN,  # Nova: project_manager_or_admin (no manager role here)
    "os_compute_api:os-migrations:index:all_projects": ADMIN,
    "os_compute_api:servers:migrations:index": ADMIN,  # Nova: project_manager_or_admin
    "os_compute_api:os-simple-tenant-usage:show": READER,
    "os_compute_api:os-simple-tenant-usage:list": ADMIN,
    "os_compute_api:os-floating-ip-pools": ANY,
    "os_compute_api:extensions": ANY,
}


def denied(rule: str) -> faults.Forbidden:
    return faults.Forbidden(f"Policy doesn't allow {rule} to be performed.")


def allowed(ctx: Context, rule: str, project_id: str | None = None, user_id: str | None = None) -> bool:
    """Does ``rule`` let ``ctx`` act on a target of ``project_id`` (and ``user_id``)?

    The target defaults to the caller's own project and user, as Nova's does.
    """
    check = RULES[rule]
    if check == ANY or ctx.is_admin:
        return True
    if check == USER:
        return (user_id or ctx.user_id) == ctx.user_id
    if check == ADMIN:
        return False
    target = project_id if project_id is not None else ctx.project_id
    if target is None or target != ctx.project_id:
        return False
    wanted = {"member"} if check == MEMBER else {"member", "reader"}
    return bool(wanted & ctx.roles)


def authorize(ctx: Context, rule: str, project_id: str | None = None, user_id: str | None = None) -> None:
    """Raise Nova's 403 unless :func:`allowed`."""
    if not allowed(ctx, rule, project_id, user_id):
        raise denied(rule)
