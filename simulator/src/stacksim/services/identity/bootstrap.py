"""First-start set-up of the cloud, and the catalog kept in step on every start."""

from __future__ import annotations

from stacksim.services.identity.model import DEFAULT_DOMAIN, IMPLIED_ROLES, Identity
from stacksim.services.identity.passwords import verify_secret
from stacksim.services.identity.specs import Actor, DomainSpec, ProjectSpec, RegionSpec, RoleSpec, Target, UserSpec
from stacksim.services.registry import Service

REGION = "RegionOne"
#: user name -> (project name, role name)
BOOTSTRAP_USERS = {"admin": ("admin", "admin"), "demo": ("demo", "member"), "alt_demo": ("alt_demo", "member")}


def bootstrap(identity: Identity, password: str, services: list[Service]) -> None:
    store = identity.store
    with store.transaction():
        if store.get("domain", DEFAULT_DOMAIN) is None:
            _first_start(identity, password)  # its users have this password: no slow hash to check
        else:
            _reset_passwords(identity, password)
        for service in services:
            for entry in service.catalog():
                paths = dict.fromkeys(("public", "internal", "admin"), entry.endpoint)
                identity.catalog.ensure_service(entry.type, entry.name, service.description, REGION, paths)
    identity.tokens.prune()


def _first_start(identity: Identity, password: str) -> None:
    identity.domains.create(DomainSpec("Default", id=DEFAULT_DOMAIN, description="The default domain"))
    identity.catalog.regions.create(RegionSpec(id=REGION))
    roles = {name: identity.roles.create(RoleSpec(name))["id"] for name in ("admin", "member", "reader")}
    for prior, implied in IMPLIED_ROLES.items():
        identity.roles.imply(roles[prior], roles[implied])
    for user_name, (project_name, role_name) in BOOTSTRAP_USERS.items():
        project = identity.projects.create(
            ProjectSpec(project_name, DEFAULT_DOMAIN, description=f"Bootstrap project {project_name}")
        )
        user = identity.users.create(
            UserSpec(user_name, DEFAULT_DOMAIN, password=password, default_project_id=project["id"])
        )
        identity.assignments.grant(roles[role_name], Actor(user_id=user["id"]), Target(project_id=project["id"]))
        if role_name == "admin":
            identity.assignments.grant(roles["admin"], Actor(user_id=user["id"]), Target(system=True))


def _reset_passwords(identity: Identity, password: str) -> None:
    """The bootstrap users keep the configured password, so clouds.yaml always works."""
    for name in BOOTSTRAP_USERS:
        user = identity.store.first("user", name=name, domain_id=DEFAULT_DOMAIN)
        if user is not None and not verify_secret(password, user.get("password_hash")):
            identity.users.update(user["id"], {"password": password})
