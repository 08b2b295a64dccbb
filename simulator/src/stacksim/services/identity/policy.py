"""Keystone's default policy, as a stock deployment enforces it (``enforce_scope = False``).

Writes are ``admin_required`` (the ``admin`` role, on any scope) unless said
otherwise. Reads are open to an admin, a *system reader* (``reader`` on a
system-scoped token), a *domain reader* (``reader`` on a token scoped to the
record's domain) and, where Keystone says so, the record's owner. Each check
is named after Keystone's rule, which a refusal's message quotes.
"""

from __future__ import annotations

from stacksim import faults
from stacksim.auth import Context
from stacksim.services.identity.common import Record


def system_reader(ctx: Context) -> bool:
    return ctx.system and "reader" in ctx.roles


def admin_or_system_reader(ctx: Context) -> bool:
    return ctx.is_admin or system_reader(ctx)


def domain_reader(ctx: Context, domain_id: str | None) -> bool:
    return domain_id is not None and ctx.domain_id == domain_id and "reader" in ctx.roles


def reader_of_domain(ctx: Context, domain_id: str | None) -> bool:
    """Admin, system reader, or reader on ``domain_id``."""
    return admin_or_system_reader(ctx) or domain_reader(ctx, domain_id)


def enforce(ctx: Context, allowed: bool, rule: str) -> None:
    """403 naming ``identity:<rule>`` unless ``allowed`` (an admin always is)."""
    ctx.require(allowed, f"identity:{rule}")


# -- per resource: may the caller read this record? ---------------------------------------------


def get_domain(ctx: Context, record: Record) -> bool:
    own = record["id"] in (ctx.domain_id, ctx.project_domain_id, ctx.user_domain_id)
    return admin_or_system_reader(ctx) or own


def get_project(ctx: Context, record: Record) -> bool:
    return reader_of_domain(ctx, record["domain_id"]) or record["id"] == ctx.project_id


def get_user(ctx: Context, record: Record) -> bool:
    return reader_of_domain(ctx, record["domain_id"]) or record["id"] == ctx.user_id


def get_group(ctx: Context, record: Record) -> bool:
    return reader_of_domain(ctx, record["domain_id"])


def list_in_domain(ctx: Context) -> bool:
    """Listing domains, projects, users or groups: admins, system readers and domain readers
    (who then see their domain's only)."""
    return admin_or_system_reader(ctx) or domain_reader(ctx, ctx.domain_id)


def owner_or_reader(ctx: Context, user_id: str) -> bool:
    """Admin, system reader, or the user ``user_id`` itself."""
    return admin_or_system_reader(ctx) or user_id == ctx.user_id


def enforce_strictly(ctx: Context, allowed: bool, rule: str) -> None:
    """403 naming ``identity:<rule>`` unless ``allowed``, for rules that do not let every admin in
    (Keystone's system-scoped rules: access rules)."""
    if not allowed:
        raise forbidden(rule)


def forbidden(rule: str) -> faults.Forbidden:
    return faults.Forbidden(f"You are not authorized to perform the requested action: identity:{rule}.")


def restricted(ctx: Context, what: str) -> None:
    """403 if the caller's token comes from a restricted application credential, which may not
    manage ``what`` (application credentials, EC2 credentials), as Keystone."""
    if ctx.app_cred_restricted:
        raise faults.Forbidden(
            f"You are not authorized to perform the requested action: using method 'application_credential' "
            f"is not allowed for managing additional {what}."
        )
