"""Keystone v3's REST API over the identity model.

Not implemented yet: groups, federation, OAuth, trusts, credentials,
policies, limits, project tags sub-resources and access-rule endpoints.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from starlette.responses import Response

from stacksim import faults, toolkit
from stacksim.crud import Crud, crud_routes
from stacksim.services.identity import schemas
from stacksim.services.identity.model import AUTH_FAILED, DEFAULT_DOMAIN, Identity
from stacksim.web import Api, Call, reply

api = Api("keystone")

VERSION = {
    "id": "v3.14",
    "status": "stable",
    "updated": "2020-04-07T00:00:00Z",
    "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}],
}
HIDDEN = {"password_hash", "secret_hash", "role_ids", "path"}


def _model(call: Call) -> Identity:
    return call.cloud.identity


def _url(call: Call, path: str = "") -> str:
    return f"{call.cloud.settings.base_url}/identity/v3{path}"


def _view(call: Call, collection: str, record: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in record.items() if k not in HIDDEN}
    body["links"] = {"self": _url(call, f"/{collection}/{record['id']}")}
    return body


def _listing(call: Call, collection: str, records: list[dict[str, Any]], view=None) -> Response:
    view = view or (lambda r: _view(call, collection, r))
    return reply(
        {
            collection: [view(r) for r in records],
            "links": {"self": str(call.request.url), "previous": None, "next": None},
        }
    )


def _flag(text: str | None) -> bool | None:
    """A query flag: absent is None; empty or a false word is False; anything else True."""
    if text is None:
        return None
    return text != "" and text.strip().lower() not in toolkit.FALSE


def _filters(call: Call, *names: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in names:
        if name in call.query:
            found[name] = call.query[name]
    if "enabled" in call.query:
        found["enabled"] = _flag(call.query["enabled"])
    return found


# -- version discovery -------------------------------------------------------


@api.route("/", public=True)
async def versions(call: Call) -> Response:
    version = dict(VERSION, links=[{"rel": "self", "href": _url(call, "/")}])
    return reply({"versions": {"values": [version]}}, status=300)


@api.route("/v3", public=True)
@api.route("/v3/", public=True)
async def version(call: Call) -> Response:
    return reply({"version": dict(VERSION, links=[{"rel": "self", "href": _url(call, "/")}])})


# -- tokens ----------------------------------------------------------------------


def _authenticate(call: Call, auth: schemas.Auth) -> tuple[dict[str, Any], dict[str, Any]]:
    """Check the credentials; return the user and the token arguments they earn."""
    model = _model(call)
    ident = auth.identity
    method = ident.methods[0]
    payload = getattr(ident, method)
    if payload is None:
        raise faults.BadRequest(f"Invalid input for field 'identity/{method}': the method is listed but not given.")
    if method == "password":
        ref = payload.get("user") or {}
        try:
            user = model.find_by_name("user", ref)
        except faults.NotFound:
            raise faults.Unauthorized(AUTH_FAILED) from None
        if not isinstance(ref.get("password"), str):
            raise faults.BadRequest("Invalid input for field 'identity/password/user/password': a string is required.")
        model.check_password(user, ref["password"])
        return user, {"methods": ["password"]}
    if method == "token":
        source = model.token_record(str(payload.get("id", "")))
        if source is None:
            raise faults.Unauthorized("The token given for re-authentication is invalid, expired or revoked.")
        if source.get("app_cred_id"):
            raise faults.Forbidden("A token created with an application credential cannot be rescoped.")
        user = model.user(source["user_id"])
        return user, {
            "methods": sorted(set(source["methods"]) | {"token"}),
            "expires_at": source["expires_at"],
            "audit_ids": source["audit_ids"],
        }
    cred = model.check_app_cred(payload)
    if auth.scope:
        raise faults.Unauthorized("Application credentials cannot request a scope.")
    user = model.user(cred["user_id"])
    return user, {"methods": ["application_credential"], "project_id": cred["project_id"], "app_cred_id": cred["id"]}


def _scope(call: Call, user: dict[str, Any], scope: Any) -> dict[str, Any]:
    model = _model(call)
    if scope == "unscoped":
        return {}
    if not scope:
        default = user.get("default_project_id")
        if default and model.store.get("project", default) and model.roles_on(user["id"], project_id=default):
            return {"project_id": default}
        return {}
    if "project" in scope:
        try:
            project = model.find_by_name("project", scope["project"])
        except faults.NotFound as exc:
            raise faults.Unauthorized(exc.message) from None
        if not project["enabled"]:
            raise faults.Unauthorized(f"Project {project['id']} is disabled.")
        return {"project_id": project["id"]}
    if "domain" in scope:
        try:
            domain = model.find_domain(scope["domain"])
        except faults.NotFound as exc:
            raise faults.Unauthorized(exc.message) from None
        return {"domain_id": domain["id"]}
    if "system" in scope:
        return {"system": True}
    raise faults.BadRequest("Invalid input for field 'auth/scope': expected 'project', 'domain' or 'system'.")


def _catalog(call: Call, project_id: str | None) -> list[dict[str, Any]]:
    store, base = call.cloud.store, call.cloud.settings.base_url
    catalog = []
    for service in store.find("service", enabled=True):
        endpoints = []
        for ep in store.find("endpoint", service_id=service["id"], enabled=True):
            if "$(project_id)s" in ep["path"] and not project_id:
                continue
            url = base + ep["path"].replace("$(project_id)s", project_id or "")
            endpoints.append(
                {
                    "id": ep["id"],
                    "interface": ep["interface"],
                    "region": ep["region_id"],
                    "region_id": ep["region_id"],
                    "url": url,
                }
            )
        catalog.append({"id": service["id"], "type": service["type"], "name": service["name"], "endpoints": endpoints})
    return catalog


def _ref(record: dict[str, Any], store) -> dict[str, Any]:
    domain = store.get("domain", record["domain_id"])
    return {
        "id": record["id"],
        "name": record["name"],
        "domain": {"id": record["domain_id"], "name": domain["name"] if domain else None},
    }


def _token_body(call: Call, record: dict[str, Any], catalog: bool = True) -> dict[str, Any]:
    model, store = _model(call), call.cloud.store
    user = model.user(record["user_id"])
    token: dict[str, Any] = {
        "methods": record["methods"],
        "user": dict(_ref(user, store), password_expires_at=user.get("password_expires_at")),
        "audit_ids": record["audit_ids"],
        "issued_at": record["issued_at"],
        "expires_at": record["expires_at"],
    }
    if record["project_id"]:
        token["project"] = _ref(model.project(record["project_id"]), store)
        token["is_domain"] = False
    elif record["domain_id"]:
        domain = model.domain(record["domain_id"])
        token["domain"] = {"id": domain["id"], "name": domain["name"]}
    elif record["system"]:
        token["system"] = {"all": True}
    roles = model.scoped_roles(record)
    if roles:
        token["roles"] = [{"id": r["id"], "name": r["name"]} for r in roles]
    if record.get("app_cred_id"):
        cred = store.get("app_cred", record["app_cred_id"])
        token["application_credential"] = {
            "id": cred["id"],
            "name": cred["name"],
            "restricted": not cred["unrestricted"],
        }
    if catalog and (record["project_id"] or record["domain_id"] or record["system"]):
        token["catalog"] = _catalog(call, record["project_id"])
    return {"token": token}


@api.route("/v3/auth/tokens", methods=("POST",), public=True)
async def issue_token(call: Call) -> Response:
    auth = await call.body(schemas.Auth, root="auth")
    user, args = _authenticate(call, auth)
    if "project_id" not in args:
        args.update(_scope(call, user, auth.scope))
    token, record = _model(call).issue_token(user["id"], **args)
    body = _token_body(call, record, catalog="nocatalog" not in call.query)
    return reply(body, status=201, headers={"X-Subject-Token": token})


def _subject(call: Call) -> tuple[str, dict[str, Any]]:
    token = call.header("x-subject-token")
    if not token:
        raise faults.BadRequest("The X-Subject-Token header is required.")
    record = _model(call).token_record(token)
    if record is None:
        raise faults.NotFound("Could not find token: the subject token is invalid, expired or revoked.")
    call.ctx.require(record["user_id"] == call.ctx.user_id, "identity:validate_token")
    return token, record


@api.route("/v3/auth/tokens", methods=("GET",))
async def validate_token(call: Call) -> Response:
    token, record = _subject(call)
    body = _token_body(call, record, catalog="nocatalog" not in call.query)
    return reply(body, headers={"X-Subject-Token": token})


@api.route("/v3/auth/tokens", methods=("HEAD",))
async def check_token(call: Call) -> Response:
    token, _ = _subject(call)
    return reply(status=200, headers={"X-Subject-Token": token})


@api.route("/v3/auth/tokens", methods=("DELETE",))
async def revoke_token(call: Call) -> Response:
    token, _record = _subject(call)
    _model(call).revoke_token(token)
    return reply(status=204)


@api.route("/v3/auth/catalog")
async def auth_catalog(call: Call) -> Response:
    return reply({"catalog": _catalog(call, call.ctx.project_id), "links": {"self": str(call.request.url)}})


@api.route("/v3/auth/projects")
async def auth_projects(call: Call) -> Response:
    projects = [p for p in _model(call).user_projects(call.ctx.user_id) if p["enabled"]]
    return _listing(call, "projects", projects)


@api.route("/v3/auth/domains")
async def auth_domains(call: Call) -> Response:
    domains = [d for d in _model(call).user_domains(call.ctx.user_id) if d["enabled"]]
    return _listing(call, "domains", domains)


@api.route("/v3/auth/system")
async def auth_system(call: Call) -> Response:
    held = _model(call).roles_on(call.ctx.user_id, system=True)
    return reply({"system": [{"all": True}] if held else [], "links": {"self": str(call.request.url)}})


# -- domains, projects, users, roles: one CRUD family ----------------------------------


Getter = Callable[[Identity, str], dict[str, Any]]
Updater = Callable[[Identity, str, dict[str, Any]], dict[str, Any]]
Deleter = Callable[[Identity, str], None]


def _crud(
    singular: str,
    plural: str,
    filters: tuple[str, ...],
    model: tuple[Getter, Updater, Deleter],
    bodies: tuple[type[BaseModel], type[BaseModel]],
    create: Callable[[Call, Any], dict[str, Any]],
    owner: Callable[[Call, dict[str, Any]], bool] | None = None,
) -> Crud:
    """A Keystone resource: admin-only but for ``get``, which ``owner`` may do too."""
    get, update, delete = model
    return Crud(
        singular=singular,
        plural=plural,
        path=f"/v3/{plural}",
        view=lambda call, record: _view(call, plural, record),
        listing=lambda call, records: _listing(call, plural, records),
        rule=lambda verb: f"identity:{verb}_{plural if verb == 'list' else singular}",
        find=lambda call: call.cloud.store.find(singular, **_filters(call, *filters)),
        get=lambda call, id: get(_model(call), id),
        create=create,
        create_body=bodies[0],
        update=lambda call, id, changes: update(_model(call), id, changes),
        update_body=bodies[1],
        delete=lambda call, id: delete(_model(call), id),
        admin_verbs=frozenset({"list", "create", "update", "delete"} | (set() if owner else {"get"})),
        owner=owner,
    )


def _create_domain(call: Call, body: schemas.DomainCreate) -> dict[str, Any]:
    values = body.model_dump()
    return _model(call).create_domain(values.pop("name"), **values)


def _create_project(call: Call, body: schemas.ProjectCreate) -> dict[str, Any]:
    values = body.model_dump()
    values.pop("is_domain")
    domain_id = values.pop("domain_id") or call.ctx.project_domain_id or DEFAULT_DOMAIN
    return _model(call).create_project(values.pop("name"), domain_id, **values)


def _create_user(call: Call, body: schemas.UserCreate) -> dict[str, Any]:
    values = body.model_dump()
    domain_id = values.pop("domain_id") or call.ctx.project_domain_id or DEFAULT_DOMAIN
    return _model(call).create_user(values.pop("name"), domain_id, **values)


def _create_role(call: Call, body: schemas.RoleCreate) -> dict[str, Any]:
    values = body.model_dump()
    return _model(call).create_role(values.pop("name"), **values)


def _own_domain(call: Call, record: dict[str, Any]) -> bool:
    return record["id"] in (call.ctx.domain_id, call.ctx.project_domain_id, call.ctx.user_domain_id)


def _own_project(call: Call, record: dict[str, Any]) -> bool:
    return record["id"] == call.ctx.project_id


def _own_user(call: Call, record: dict[str, Any]) -> bool:
    return record["id"] == call.ctx.user_id


_M = Identity
#: singular -> the model's show, update and delete
_CALLS = {
    "domain": (_M.domain, _M.update_domain, _M.delete_domain),
    "project": (_M.project, _M.update_project, _M.delete_project),
    "user": (_M.user, _M.update_user, _M.delete_user),
    "role": (_M.role, _M.update_role, _M.delete_role),
}
#: singular -> list filters, bodies (create, update), create
_RULES = {
    "domain": (("name",), (schemas.DomainCreate, schemas.DomainUpdate), _create_domain),
    "project": (("name", "domain_id", "parent_id"), (schemas.ProjectCreate, schemas.ProjectUpdate), _create_project),
    "user": (("name", "domain_id"), (schemas.UserCreate, schemas.UserUpdate), _create_user),
    "role": (("name", "domain_id"), (schemas.RoleCreate, schemas.RoleUpdate), _create_role),
}
#: who, besides an admin, may show one (roles: admins only)
_OWNERS = {"domain": _own_domain, "project": _own_project, "user": _own_user}
for _singular, (_filters_of, _bodies, _create) in _RULES.items():
    _crud_args = (_filters_of, _CALLS[_singular], _bodies, _create, _OWNERS.get(_singular))
    crud_routes(api, _crud(_singular, f"{_singular}s", *_crud_args))


# -- users' own calls ---------------------------------------------------------------


@api.route("/v3/users/{id}/password", methods=("POST",))
async def change_password(call: Call) -> Response:
    if call.params["id"] != call.ctx.user_id:
        raise faults.Forbidden("You are not authorized to perform the requested action: identity:change_password.")
    body = await call.body(schemas.PasswordChange, root="user")
    _model(call).change_password(call.params["id"], body.original_password, body.password)
    return reply(status=204)


@api.route("/v3/users/{id}/projects")
async def user_projects(call: Call) -> Response:
    call.ctx.require(call.params["id"] == call.ctx.user_id, "identity:list_user_projects")
    model = _model(call)
    model.user(call.params["id"])
    return _listing(call, "projects", model.user_projects(call.params["id"]))


@api.route("/v3/users/{id}/groups")
async def user_groups(call: Call) -> Response:
    call.ctx.require(call.params["id"] == call.ctx.user_id, "identity:list_groups_for_user")
    _model(call).user(call.params["id"])
    return _listing(call, "groups", [])  # groups are not implemented, so nobody is in one


# -- roles and assignments ------------------------------------------------------------


@api.route("/v3/role_inferences")
async def role_inferences(call: Call) -> Response:
    call.ctx.require_admin("identity:list_role_inference_rules")
    model, rules = _model(call), {}
    for rule in call.cloud.store.find("implied_role"):
        rules.setdefault(rule["prior_role_id"], []).append(rule["implied_role_id"])

    def brief(role_id: str) -> dict[str, Any]:
        role = model.role(role_id)
        return {"id": role["id"], "name": role["name"], "links": {"self": _url(call, f"/roles/{role_id}")}}

    inferences = [{"prior_role": brief(p), "implies": [brief(i) for i in imp]} for p, imp in rules.items()]
    return reply({"role_inferences": inferences, "links": {"self": str(call.request.url)}})


_GRANT_TARGETS = {
    "projects": "project_id",
    "domains": "domain_id",
}


def _grant_args(call: Call) -> dict[str, Any]:
    kind = call.params.get("kind")
    if kind is None:
        return {"system": True}
    if kind not in _GRANT_TARGETS:
        raise faults.NotFound(f"The resource could not be found: {call.request.url.path}")
    return {_GRANT_TARGETS[kind]: call.params["target"]}


def _role_brief(call: Call, role: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": role["id"],
        "name": role["name"],
        "domain_id": role.get("domain_id"),
        "links": {"self": _url(call, f"/roles/{role['id']}")},
    }


async def _list_grants(call: Call) -> Response:
    call.ctx.require_admin("identity:list_grants")
    model = _model(call)
    model.user(call.params["user"])
    args = _grant_args(call)
    found = model.assignments(user_id=call.params["user"], **args)
    roles = [model.role(a["role_id"]) for a in found]
    return _listing(call, "roles", roles, view=lambda r: _role_brief(call, r))


async def _put_grant(call: Call) -> Response:
    call.ctx.require_admin("identity:create_grant")
    _model(call).grant(call.params["role"], call.params["user"], **_grant_args(call))
    return reply(status=204)


async def _check_grant(call: Call) -> Response:
    call.ctx.require_admin("identity:check_grant")
    model = _model(call)
    model.role(call.params["role"])
    model.user(call.params["user"])
    if not model.has_grant(call.params["role"], call.params["user"], **_grant_args(call)):
        raise faults.NotFound(
            f"Could not find role assignment with role: {call.params['role']}, user: {call.params['user']}."
        )
    return reply(status=204)


async def _delete_grant(call: Call) -> Response:
    call.ctx.require_admin("identity:revoke_grant")
    _model(call).revoke(call.params["role"], call.params["user"], **_grant_args(call))
    return reply(status=204)


for _base in ("/v3/{kind}/{target}/users/{user}/roles", "/v3/system/users/{user}/roles"):
    api.route(_base)(_list_grants)
    api.route(_base + "/{role}", methods=("PUT",))(_put_grant)
    api.route(_base + "/{role}", methods=("GET", "HEAD"))(_check_grant)
    api.route(_base + "/{role}", methods=("DELETE",))(_delete_grant)


@api.route("/v3/role_assignments")
async def list_role_assignments(call: Call) -> Response:
    q = call.query
    call.ctx.require(q.get("user.id") == call.ctx.user_id, "identity:list_role_assignments")
    model, store = _model(call), call.cloud.store
    equal: dict[str, Any] = {}
    if q.get("user.id"):
        equal["user_id"] = q["user.id"]
    if q.get("scope.project.id"):
        equal["project_id"] = q["scope.project.id"]
    if q.get("scope.domain.id"):
        equal["domain_id"] = q["scope.domain.id"]
    if q.get("scope.system"):
        equal["system"] = True
    if "group.id" in q:
        return _listing(call, "role_assignments", [])  # no groups
    rows = [(a, a["role_id"]) for a in model.assignments(**equal)]
    if _flag(q.get("effective")):
        rows = [(a, rid) for a, _ in rows for rid in sorted(model.implied({a["role_id"]}))]
        rows = list({(a["id"], rid): (a, rid) for a, rid in rows}.values())
    if q.get("role.id"):
        rows = [(a, rid) for a, rid in rows if rid == q["role.id"]]
    names = _flag(q.get("include_names"))

    def view(row: tuple[dict[str, Any], str]) -> dict[str, Any]:
        a, role_id = row
        role, user = store.get("role", role_id), store.get("user", a["user_id"])
        out: dict[str, Any] = {"role": {"id": role_id}, "user": {"id": a["user_id"]}}
        if a["project_id"]:
            scope: dict[str, Any] = {"project": {"id": a["project_id"]}}
            target = f"/projects/{a['project_id']}"
        elif a["domain_id"]:
            scope = {"domain": {"id": a["domain_id"]}}
            target = f"/domains/{a['domain_id']}"
        else:
            scope, target = {"system": {"all": True}}, "/system"
        out["scope"] = scope
        if names:
            out["role"]["name"] = role["name"] if role else None
            out["user"].update(_ref(user, store) if user else {})
            if a["project_id"]:
                project = store.get("project", a["project_id"])
                scope["project"].update(_ref(project, store) if project else {})
            elif a["domain_id"]:
                domain = store.get("domain", a["domain_id"])
                scope["domain"]["name"] = domain["name"] if domain else None
        out["links"] = {"assignment": _url(call, f"{target}/users/{a['user_id']}/roles/{a['role_id']}")}
        return out

    return _listing(call, "role_assignments", rows, view=view)


# -- application credentials ----------------------------------------------------------


def _app_cred_view(call: Call, record: dict[str, Any], secret: str | None = None) -> dict[str, Any]:
    store = call.cloud.store
    roles = [store.get("role", rid) for rid in record["role_ids"]]
    body = _view(call, f"users/{record['user_id']}/application_credentials", record)
    body["roles"] = [{"id": r["id"], "name": r["name"], "domain_id": r.get("domain_id")} for r in roles if r]
    if secret is not None:
        body["secret"] = secret
    return body


def _own_creds(call: Call, action: str, writing: bool = False) -> str:
    user_id = call.params["user"]
    call.ctx.require(user_id == call.ctx.user_id, action)
    if writing and call.ctx.app_cred_restricted:
        raise faults.Forbidden(
            f"You are not authorized to perform the requested action: {action} "
            "(a restricted application credential cannot manage application credentials)."
        )
    return user_id


@api.route("/v3/users/{user}/application_credentials", methods=("POST",))
async def create_app_cred(call: Call) -> Response:
    user_id = _own_creds(call, "identity:create_application_credential", writing=True)
    if user_id != call.ctx.user_id:
        raise faults.Forbidden("Application credentials can only be created by their own user.")
    if not call.ctx.project_id:
        raise faults.Forbidden("Creating an application credential needs a project-scoped token.")
    body = (await call.body(schemas.AppCredCreate, root="application_credential")).model_dump()
    roles = body.pop("roles")
    record, secret = _model(call).create_app_cred(
        user_id, call.ctx.project_id, body.pop("name"), body.pop("secret"), roles, **body
    )
    return reply({"application_credential": _app_cred_view(call, record, secret)}, status=201)


@api.route("/v3/users/{user}/application_credentials")
async def list_app_creds(call: Call) -> Response:
    user_id = _own_creds(call, "identity:list_application_credentials")
    found = call.cloud.store.find("app_cred", user_id=user_id, **_filters(call, "name"))
    return _listing(call, "application_credentials", found, view=lambda r: _app_cred_view(call, r))


@api.route("/v3/users/{user}/application_credentials/{id}")
async def show_app_cred(call: Call) -> Response:
    user_id = _own_creds(call, "identity:get_application_credential")
    record = _model(call).app_cred(user_id, call.params["id"])
    return reply({"application_credential": _app_cred_view(call, record)})


@api.route("/v3/users/{user}/application_credentials/{id}", methods=("DELETE",))
async def delete_app_cred(call: Call) -> Response:
    user_id = _own_creds(call, "identity:delete_application_credential", writing=True)
    _model(call).delete_app_cred(user_id, call.params["id"])
    return reply(status=204)


# -- regions, services, endpoints (read) --------------------------------------------------


def _endpoint_view(call: Call, ep: dict[str, Any]) -> dict[str, Any]:
    body = _view(call, "endpoints", ep)
    body.update(url=call.cloud.settings.base_url + ep["path"], region=ep["region_id"])
    return body


def _catalog_part(singular: str, filters: Callable[[Call], dict[str, Any]], admin: bool, view=None) -> Crud:
    """A read-only Keystone catalog resource (regions, services, endpoints)."""
    plural = f"{singular}s"
    shown = view or (lambda call, record: _view(call, plural, record))

    def get(call: Call, id: str) -> dict[str, Any]:
        record = call.cloud.store.get(singular, id)
        if record is None:
            raise faults.NotFound(f"Could not find {singular}: {id}.")
        return record

    return Crud(
        singular=singular,
        plural=plural,
        path=f"/v3/{plural}",
        view=shown,
        listing=lambda call, records: _listing(call, plural, records, view=lambda r: shown(call, r)),
        rule=lambda verb: f"identity:{verb}_{plural if verb == 'list' else singular}",
        find=lambda call: call.cloud.store.find(singular, **filters(call)),
        get=get,
        admin_verbs=frozenset({"list", "get"} if admin else ()),
    )


def _endpoint_filters(call: Call) -> dict[str, Any]:
    equal = _filters(call, "interface", "service_id", "region_id")
    if "region" in call.query:
        equal["region_id"] = call.query["region"]
    return equal


crud_routes(api, _catalog_part("region", lambda call: _filters(call, "parent_region_id"), admin=False))
crud_routes(api, _catalog_part("service", lambda call: _filters(call, "type", "name"), admin=True))
crud_routes(api, _catalog_part("endpoint", _endpoint_filters, admin=True, view=_endpoint_view))
