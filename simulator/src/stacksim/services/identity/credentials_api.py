"""Application credentials, access rules, credentials and EC2 credentials."""

from __future__ import annotations

from starlette.responses import Response

from stacksim import faults
from stacksim.services.identity import policy, schemas
from stacksim.services.identity.api import api, filters, listing, model, views
from stacksim.services.identity.common import Record
from stacksim.web import Call, reply

# -- application credentials ------------------------------------------------------------------


@api.route("/v3/users/{user}/application_credentials", methods=("POST",))
async def create_app_cred(call: Call) -> Response:
    ctx, user_id = call.ctx, call.params["user"]
    policy.enforce_strictly(ctx, user_id == ctx.user_id, "create_application_credential")
    policy.restricted(ctx, "application credentials")
    if not ctx.project_id:
        raise faults.Forbidden("Creating an application credential needs a project-scoped token.")
    body = await call.body(schemas.AppCredCreate, root="application_credential")
    record, secret = model(call).app_creds.create(user_id, ctx.project_id, body.spec())
    return reply({"application_credential": views(call).app_cred(record, secret)}, status=201)


@api.route("/v3/users/{user}/application_credentials")
async def list_app_creds(call: Call) -> Response:
    user_id = call.params["user"]
    policy.enforce(call.ctx, policy.owner_or_reader(call.ctx, user_id), "list_application_credentials")
    shown = views(call)
    found = model(call).app_creds.find(user_id=user_id, **filters(call, "name"))
    return listing(call, "application_credentials", [shown.app_cred(r) for r in found])


@api.route("/v3/users/{user}/application_credentials/{id}")
async def show_app_cred(call: Call) -> Response:
    user_id = call.params["user"]
    policy.enforce(call.ctx, policy.owner_or_reader(call.ctx, user_id), "get_application_credential")
    record = model(call).app_creds.of_user(user_id, call.params["id"])
    return reply({"application_credential": views(call).app_cred(record)})


@api.route("/v3/users/{user}/application_credentials/{id}", methods=("DELETE",))
async def delete_app_cred(call: Call) -> Response:
    user_id = call.params["user"]
    call.ctx.require(user_id == call.ctx.user_id, "identity:delete_application_credential")
    policy.restricted(call.ctx, "application credentials")
    model(call).app_creds.delete(user_id, call.params["id"])
    return reply(status=204)


# -- access rules -----------------------------------------------------------------------------


def _rule_owner(call: Call, rule: str, writing: bool = False) -> str:
    """The user whose rules the path names; only that user or a system reader (admin to delete) may."""
    ctx, user_id = call.ctx, call.params["user"]
    system = policy.system_reader(ctx) and (ctx.is_admin or not writing)
    policy.enforce_strictly(ctx, system or user_id == ctx.user_id, rule)
    return user_id


@api.route("/v3/users/{user}/access_rules")
async def list_access_rules(call: Call) -> Response:
    user_id = _rule_owner(call, "list_access_rules")
    shown = views(call)
    found = model(call).app_creds.rules.find(user_id=user_id, **filters(call, "service", "path", "method"))
    return listing(call, "access_rules", [shown.access_rule(r) for r in found])


@api.route("/v3/users/{user}/access_rules/{id}")
async def show_access_rule(call: Call) -> Response:
    user_id = _rule_owner(call, "get_access_rule")
    record = model(call).app_creds.rules.of_user(user_id, call.params["id"])
    return reply({"access_rule": views(call).access_rule(record)})


@api.route("/v3/users/{user}/access_rules/{id}", methods=("DELETE",))
async def delete_access_rule(call: Call) -> Response:
    user_id = _rule_owner(call, "delete_access_rule", writing=True)
    model(call).app_creds.rules.delete(user_id, call.params["id"])
    return reply(status=204)


# -- credentials --------------------------------------------------------------------------------


def _delegated_in_bounds(call: Call, record: Record) -> None:
    """A token from an application credential reaches only the credentials of its own project."""
    if call.ctx.app_cred_id and record.get("project_id") != call.ctx.project_id:
        raise faults.Forbidden(
            "You are not authorized to perform the requested action: Credential project does not match the "
            "project scope of the delegated token."
        )


def _credential(call: Call, rule: str, reading: bool) -> Record:
    record = model(call).credentials.get(call.params["id"])
    owner = record["user_id"] == call.ctx.user_id
    policy.enforce(call.ctx, owner or (reading and policy.system_reader(call.ctx)), rule)
    _delegated_in_bounds(call, record)
    return record


def _credential_view(call: Call, record: Record) -> dict:
    return views(call).record("credentials", record)


@api.route("/v3/credentials")
async def list_credentials(call: Call) -> Response:
    ctx = call.ctx
    found = model(call).credentials.find(**filters(call, "user_id", "type"))
    if not policy.admin_or_system_reader(ctx):
        found = [c for c in found if c["user_id"] == ctx.user_id]
    if ctx.app_cred_id:
        found = [c for c in found if c.get("project_id") == ctx.project_id]
    return listing(call, "credentials", [_credential_view(call, c) for c in found])


@api.route("/v3/credentials", methods=("POST",))
async def create_credential(call: Call) -> Response:
    body = await call.body(schemas.CredentialCreate, root="credential")
    call.ctx.require(body.user_id == call.ctx.user_id, "identity:create_credential")
    if body.type.lower() == "ec2":
        policy.restricted(call.ctx, "credentials")
    spec = body.spec()
    if call.ctx.app_cred_id and spec.project_id != call.ctx.project_id:
        _delegated_in_bounds(call, {"project_id": spec.project_id})
    record = model(call).credentials.create(spec, app_cred_id=call.ctx.app_cred_id)
    return reply({"credential": _credential_view(call, record)}, status=201)


@api.route("/v3/credentials/{id}")
async def show_credential(call: Call) -> Response:
    record = _credential(call, "get_credential", reading=True)
    return reply({"credential": _credential_view(call, record)})


@api.route("/v3/credentials/{id}", methods=("PATCH",))
async def update_credential(call: Call) -> Response:
    record = _credential(call, "update_credential", reading=False)
    changes = (await call.body(schemas.CredentialUpdate, root="credential")).model_dump(exclude_unset=True)
    if changes.get("user_id") not in (None, record["user_id"]):
        call.ctx.require_admin("identity:update_credential")
    return reply({"credential": _credential_view(call, model(call).credentials.update(record["id"], changes))})


@api.route("/v3/credentials/{id}", methods=("DELETE",))
async def delete_credential(call: Call) -> Response:
    record = _credential(call, "delete_credential", reading=False)
    model(call).credentials.delete(record["id"])
    return reply(status=204)


# -- EC2 credentials ----------------------------------------------------------------------------


def _ec2_user(call: Call, rule: str, writing: bool) -> str:
    ctx, user_id = call.ctx, call.params["user"]
    owner = user_id == ctx.user_id and (not writing or "member" in ctx.roles)
    policy.enforce(ctx, owner or (not writing and policy.system_reader(ctx)), rule)
    return user_id


@api.route("/v3/users/{user}/credentials/OS-EC2")
async def list_ec2(call: Call) -> Response:
    user_id = _ec2_user(call, "ec2_list_credentials", writing=False)
    found = model(call).credentials.ec2_of_user(user_id)
    if call.ctx.app_cred_id:
        found = [c for c in found if c.get("project_id") == call.ctx.project_id]
    shown = views(call)
    return listing(call, "credentials", [shown.ec2(c) for c in found])


@api.route("/v3/users/{user}/credentials/OS-EC2", methods=("POST",))
async def create_ec2(call: Call) -> Response:
    user_id = _ec2_user(call, "ec2_create_credential", writing=True)
    policy.restricted(call.ctx, "credentials")
    body = await call.body(schemas.Ec2Create)
    model(call).users.get(user_id)
    if call.ctx.app_cred_id and body.tenant_id != call.ctx.project_id:
        _delegated_in_bounds(call, {"project_id": body.tenant_id})
    record = model(call).credentials.create_ec2(user_id, body.tenant_id, app_cred_id=call.ctx.app_cred_id)
    return reply({"credential": views(call).ec2(record)}, status=201)


@api.route("/v3/users/{user}/credentials/OS-EC2/{access}")
async def show_ec2(call: Call) -> Response:
    user_id = _ec2_user(call, "ec2_get_credential", writing=False)
    record = model(call).credentials.ec2(user_id, call.params["access"])
    _delegated_in_bounds(call, record)
    return reply({"credential": views(call).ec2(record)})


@api.route("/v3/users/{user}/credentials/OS-EC2/{access}", methods=("DELETE",))
async def delete_ec2(call: Call) -> Response:
    user_id = _ec2_user(call, "ec2_delete_credential", writing=True)
    record = model(call).credentials.ec2(user_id, call.params["access"])
    _delegated_in_bounds(call, record)
    model(call).credentials.delete_ec2(user_id, call.params["access"])
    return reply(status=204)
