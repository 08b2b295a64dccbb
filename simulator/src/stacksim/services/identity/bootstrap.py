"""First-start set-up of the cloud, and the catalog kept in step on every start."""

from __future__ import annotations

from stacksim.services.identity.model import DEFAULT_DOMAIN, IMPLIED_ROLES, Identity
from stacksim.services.identity.passwords import verify_secret
from stacksim.services.registry import Service

REGION = "RegionOne"
#: user name -> (project name, role name)
BOOTSTRAP_USERS = {"admin": ("admin", "admin"), "demo": ("demo", "member"), "alt_demo": ("alt_demo", "member")}


def bootstrap(identity: Identity, password: str, services: list[Service]) -> None:
    store = identity.store
    with store.transaction():
        if store.get("domain", DEFAULT_DOMAIN) is None:
            _first_start(identity, password)
        _reset_passwords(identity, password)
        for service in services:
            for entry in service.catalog():
                paths = dict.fromkeys(("public", "internal", "admin"), entry.endpoint)
                identity.ensure_service(entry.type, entry.name, service.description, REGION, paths)
    identity.prune_tokens()


def _first_start(identity: Identity, password: str) -> None:
    identity.create_domain("Default", id=DEFAULT_DOMAIN, description="The default domain")
    identity.store.put("region", {"id": REGION, "description": "", "parent_region_id": None})
    roles = {name: identity.create_role(name)["id"] for name in ("admin", "member", "reader")}
    for prior, implied in IMPLIED_ROLES.items():
        identity.imply(roles[prior], roles[implied])
    for user_name, (project_name, role_name) in BOOTSTRAP_USERS.items():
        project = identity.create_project(project_name, DEFAULT_DOMAIN, description=f"Bootstrap project {project_name}")
        user = identity.create_user(user_name, DEFAULT_DOMAIN, password, default_project_id=project["id"])
        identity.grant(roles[role_name], user["id"], project_id=project["id"])
        if role_name == "admin":
            identity.grant(roles["admin"], user["id"], system=True)


def _reset_passwords(identity: Identity, password: str) -> None:
    """The bootstrap users keep the configured password, so clouds.yaml always works."""
    for name in BOOTSTRAP_USERS:
        user = identity.store.first("user", name=name, domain_id=DEFAULT_DOMAIN)
        if user is not None and not verify_secret(password, user.get("password_hash")):
            identity.update_user(user["id"], {"password": password})
