"""How Keystone shows each record: the fields it shows (never a hash), links, names and catalogs."""

from __future__ import annotations

import json
from typing import Any

from stacksim.services.identity.assignments import AssignmentRow
from stacksim.services.identity.catalog import endpoint_url
from stacksim.services.identity.common import PRIVATE, Record
from stacksim.services.identity.model import Identity
from stacksim.services.identity.tokens import is_scoped


class Views:
    """Renders records for one request: ``base`` is the cloud's base URL (``http://host:port``)."""

    def __init__(self, identity: Identity, base: str) -> None:
        self.identity = identity
        self.base = base
        self.v3 = f"{base}/identity/v3"

    def url(self, path: str = "") -> str:
        return f"{self.v3}{path}"

    def record(self, collection: str, record: Record) -> dict[str, Any]:
        """A record with its private fields dropped and its ``links.self``."""
        body = {k: v for k, v in record.items() if k not in PRIVATE}
        body["links"] = {"self": self.url(f"/{collection}/{record['id']}")}
        return body

    def ref(self, record: Record) -> dict[str, Any]:
        """A user or project as a token or an assignment names it: id, name and domain."""
        domain = self.identity.domains.peek(record["domain_id"])
        return {
            "id": record["id"],
            "name": record["name"],
            "domain": {"id": record["domain_id"], "name": domain["name"] if domain else None},
        }

    # -- projects -------------------------------------------------------------------------------

    def project(self, record: Record, expand: dict[str, bool] | None = None, user_id: str | None = None):
        """A project, with ``parents``/``subtree`` as ``?parents_as_list`` and the like ask
        (the ``_as_list`` forms only show the projects ``user_id`` has a role on, as Keystone)."""
        body = self.record("projects", record)
        expand = expand or {}
        projects = self.identity.projects
        if expand.get("parents_as_list") or expand.get("parents_as_ids"):
            parents = projects.parents(record["id"])
            if expand.get("parents_as_list"):
                body["parents"] = [{"project": self.record("projects", p)} for p in self._mine(parents, user_id)]
            else:
                body["parents"] = _parent_ids([p["id"] for p in parents] + [record["domain_id"]])
        if expand.get("subtree_as_list") or expand.get("subtree_as_ids"):
            subtree = projects.subtree(record["id"])
            if expand.get("subtree_as_list"):
                body["subtree"] = [{"project": self.record("projects", p)} for p in self._mine(subtree, user_id)]
            else:
                body["subtree"] = _subtree_ids(record["id"], subtree)
        return body

    def _mine(self, projects: list[Record], user_id: str | None) -> list[Record]:
        if user_id is None:
            return projects
        mine = {p["id"] for p in self.identity.assignments.projects_of(user_id)}
        return [p for p in projects if p["id"] in mine]

    # -- roles ------------------------------------------------------------------------------------

    def role_brief(self, role: Record) -> dict[str, Any]:
        return {
            "id": role["id"],
            "name": role["name"],
            "domain_id": role.get("domain_id"),
            "links": {"self": self.url(f"/roles/{role['id']}")},
        }

    def role_link(self, role: Record) -> dict[str, Any]:
        """A role in an inference rule: id, name and link."""
        return {"id": role["id"], "name": role["name"], "links": {"self": self.url(f"/roles/{role['id']}")}}

    def inference(self, prior: Record, implies: Record | list[Record], path: str) -> dict[str, Any]:
        implied = [self.role_link(r) for r in implies] if isinstance(implies, list) else self.role_link(implies)
        return {
            "role_inference": {"prior_role": self.role_link(prior), "implies": implied},
            "links": {"self": self.url(path)},
        }

    def assignment(self, row: AssignmentRow, names: bool) -> dict[str, Any]:
        """One row of ``GET /v3/role_assignments`` (with names when ``include_names``)."""
        target = row.target
        out: dict[str, Any] = {}
        if target.project_id:
            out["scope"] = {"project": {"id": target.project_id}}
            link = f"/projects/{target.project_id}"
        elif target.domain_id:
            out["scope"] = {"domain": {"id": target.domain_id}}
            link = f"/domains/{target.domain_id}"
        else:
            out["scope"] = {"system": {"all": True}}
            link = "/system"
        links: dict[str, str] = {}
        if row.user_id:
            out["user"] = {"id": row.user_id}
            if "group_id" in row.indirect:
                links["membership"] = self.url(f"/groups/{row.indirect['group_id']}/users/{row.user_id}")
                link += f"/groups/{row.indirect['group_id']}"
            else:
                link += f"/users/{row.user_id}"
        else:
            out["group"] = {"id": row.group_id}
            link += f"/groups/{row.group_id}"
        out["role"] = {"id": row.role_id}
        prior = row.indirect.get("role_id")
        link += f"/roles/{prior or row.role_id}"
        links["assignment"] = self.url(link)
        if prior:
            links["prior_role"] = self.url(f"/prior_role/{prior}/implies/{row.role_id}")
        out["links"] = links
        if names:
            self._name(out)
        return out

    def _name(self, out: dict[str, Any]) -> None:
        identity = self.identity
        role = identity.roles.peek(out["role"]["id"])
        out["role"]["name"] = role["name"] if role else None
        for key, part in (("user", identity.users), ("group", identity.groups)):
            record = part.peek(out[key]["id"]) if key in out else None
            if record:
                out[key].update(self.ref(record))
        scope = out["scope"]
        if "project" in scope:
            project = identity.projects.peek(scope["project"]["id"])
            if project:
                scope["project"].update(self.ref(project))
        elif "domain" in scope:
            domain = identity.domains.peek(scope["domain"]["id"])
            scope["domain"]["name"] = domain["name"] if domain else None

    # -- credentials ------------------------------------------------------------------------------

    def app_cred(self, record: Record, secret: str | None = None) -> dict[str, Any]:
        roles = self.identity.roles.many(record["role_ids"])
        body = self.record(f"users/{record['user_id']}/application_credentials", record)
        body["roles"] = [{"id": r["id"], "name": r["name"], "domain_id": r.get("domain_id")} for r in roles]
        rules = self.identity.app_creds.access_rules(record)
        if rules:
            body["access_rules"] = rules
        if secret is not None:
            body["secret"] = secret
        return body

    def access_rule(self, record: Record) -> dict[str, Any]:
        body = {k: record[k] for k in ("id", "service", "method", "path")}
        body["links"] = {"self": self.url(f"/users/{record['user_id']}/access_rules/{record['id']}")}
        return body

    def ec2(self, record: Record) -> dict[str, Any]:
        blob = json.loads(record["blob"])
        return {
            "user_id": record["user_id"],
            "tenant_id": record.get("project_id"),
            "access": blob.get("access"),
            "secret": blob.get("secret"),
            "trust_id": blob.get("trust_id"),
            "links": {"self": self.url(f"/users/{record['user_id']}/credentials/OS-EC2/{blob.get('access')}")},
        }

    # -- the catalog ------------------------------------------------------------------------------

    def endpoint(self, record: Record) -> dict[str, Any]:
        body = self.record("endpoints", record)
        body.update(url=endpoint_url(record, self.base), region=record.get("region_id"))
        return body

    def endpoint_group(self, record: Record) -> dict[str, Any]:
        body = dict(record)
        body["links"] = {"self": self.url(f"/OS-EP-FILTER/endpoint_groups/{record['id']}")}
        return body

    def catalog(self, project_id: str | None) -> list[dict[str, Any]]:
        return self.identity.catalog.entries(project_id, self.base)

    # -- tokens -------------------------------------------------------------------------------

    def token(self, record: Record, with_catalog: bool = True) -> dict[str, Any]:
        identity = self.identity
        user = identity.users.get(record["user_id"])
        token: dict[str, Any] = {
            "methods": record["methods"],
            "user": dict(self.ref(user), password_expires_at=user.get("password_expires_at")),
            "audit_ids": record["audit_ids"],
            "issued_at": record["issued_at"],
            "expires_at": record["expires_at"],
        }
        if record["project_id"]:
            token["project"] = self.ref(identity.projects.get(record["project_id"]))
            token["is_domain"] = False
        elif record["domain_id"]:
            domain = identity.domains.get(record["domain_id"])
            token["domain"] = {"id": domain["id"], "name": domain["name"]}
        elif record["system"]:
            token["system"] = {"all": True}
        roles = identity.tokens.roles(record)
        if roles:
            token["roles"] = [{"id": r["id"], "name": r["name"]} for r in roles]
        if record.get("app_cred_id"):
            cred = identity.app_creds.get(record["app_cred_id"])
            token["application_credential"] = {
                "id": cred["id"],
                "name": cred["name"],
                "restricted": not cred["unrestricted"],
            }
            rules = identity.app_creds.access_rules(cred)
            if rules:
                token["application_credential"]["access_rules"] = rules
        if with_catalog and is_scoped(record):
            token["catalog"] = self.catalog(record["project_id"])
        return {"token": token}


def _parent_ids(chain: list[str]) -> dict[str, Any] | None:
    """Keystone's nested ``parents_as_ids``: ``{parent: {grandparent: ... {domain: None}}}``."""
    nested: dict[str, Any] | None = None
    for id in reversed(chain):
        nested = {id: nested}
    return nested


def _subtree_ids(root: str, subtree: list[Record]) -> dict[str, Any] | None:
    """Keystone's nested ``subtree_as_ids``: ``{child: {grandchild: None}, ...}`` (None: no children)."""
    children: dict[str, list[str]] = {}
    for project in subtree:
        children.setdefault(project["parent_id"], []).append(project["id"])

    def below(id: str) -> dict[str, Any] | None:
        if id not in children:
            return None
        return {child: below(child) for child in children[id]}

    return below(root)
