"""Projects: their hierarchy (parents and subtree under a domain) and their tags."""

from __future__ import annotations

from typing import Any

from stacksim import faults
from stacksim.services.identity.common import DomainOwned, Record
from stacksim.services.identity.specs import ProjectSpec
from stacksim.store import atomic

#: Keystone's limit on a project's tags
MAX_TAGS = 80


def check_tag(tag: str, field: str = "tags") -> str:
    """A tag as Keystone takes it: 1-255 characters, no ``/`` or ``,`` (400 otherwise)."""
    if not 1 <= len(tag) <= 255 or "/" in tag or "," in tag:
        raise faults.BadRequest(
            f"Invalid input for field '{field}': {tag!r} is not a valid tag (1 to 255 characters, without '/' or ',')."
        )
    return tag


def check_tags(tags: list[str]) -> list[str]:
    for tag in tags:
        check_tag(tag)
    if len(tags) > MAX_TAGS:
        raise faults.BadRequest(f"Invalid input for field 'tags': at most {MAX_TAGS} tags are allowed.")
    if len(set(tags)) != len(tags):
        raise faults.BadRequest("Invalid input for field 'tags': the tags must be unique.")
    return list(tags)


class Projects(DomainOwned):
    kind = "project"
    label = "project"

    def listing(self, filters: dict[str, Any], tags: dict[str, list[str]] | None = None) -> list[Record]:
        """Projects equal to ``filters``, then by Keystone's tag filters: ``tags`` (has all),
        ``tags-any`` (has one), ``not-tags`` (lacks one of), ``not-tags-any`` (has none)."""
        found = self.find(**filters)
        for key, wanted in (tags or {}).items():
            want = set(wanted)

            def keep(record: Record, key: str = key, want: set[str] = want) -> bool:
                held = set(record.get("tags") or ())
                return {
                    "tags": want <= held,
                    "tags-any": bool(want & held),
                    "not-tags": not want <= held,
                    "not-tags-any": not want & held,
                }[key]

            found = [p for p in found if keep(p)]
        return found

    @atomic
    def create(self, spec: ProjectSpec) -> Record:
        try:
            self.identity.domains.get(spec.domain_id)
            parent = self.get(spec.parent_id) if spec.parent_id and spec.parent_id != spec.domain_id else None
        except faults.NotFound as exc:
            raise faults.BadRequest(exc.message) from None
        if parent is not None and parent["domain_id"] != spec.domain_id:
            raise faults.BadRequest(
                f"Cannot create project, since it specifies its domain_id {spec.domain_id}, but specifies "
                f"a parent in a different domain ({parent['domain_id']})."
            )
        self.unique_name(spec.name, spec.domain_id)
        parent_id = parent["id"] if parent else spec.domain_id
        return self.put_new(spec, parent_id=parent_id, is_domain=False, tags=check_tags(list(spec.tags)))

    @atomic
    def update(self, id: str, changes: dict[str, Any]) -> Record:
        record = self.get(id)
        if "domain_id" in changes and changes["domain_id"] != record["domain_id"]:
            raise faults.BadRequest(
                "Invalid input for field 'project/domain_id': a project cannot move to another domain."
            )
        if "parent_id" in changes and changes["parent_id"] != record["parent_id"]:
            raise faults.Forbidden("Update of `parent_id` is not allowed.")
        if "name" in changes and changes["name"] != record["name"]:
            self.unique_name(changes["name"], record["domain_id"])
        if changes.get("tags") is not None:
            changes = {**changes, "tags": check_tags(changes["tags"])}
        if changes.get("enabled") and not record["enabled"] and any(not p["enabled"] for p in self.parents(id)):
            raise faults.Forbidden(f"Cannot enable project {id} since it has disabled parents")
        return self.changed(id, changes)

    @atomic
    def delete(self, id: str) -> None:
        """Delete a leaf project and what hangs on it (grants, credentials, tokens, limits)."""
        self.get(id)
        if self.store.first(self.kind, parent_id=id):
            raise faults.Forbidden(
                f"Cannot delete the project {id} since it is not a leaf in the hierarchy. "
                "Use the cascade option if you want to delete a whole subtree."
            )
        identity = self.identity
        identity.assignments.forget_target(project_id=id)
        identity.app_creds.forget(project_id=id)
        identity.credentials.forget(project_id=id)
        identity.tokens.forget(project_id=id)
        identity.limits.forget(project_id=id)
        identity.catalog.forget_project(id)
        self.store.delete(self.kind, id)

    def delete_all_in(self, domain_id: str) -> None:
        """Every project of a domain, leaves first."""
        projects = self.find(domain_id=domain_id)
        depth = {p["id"]: len(self.parents(p["id"])) for p in projects}
        for project in sorted(projects, key=lambda p: depth[p["id"]], reverse=True):
            self.delete(project["id"])

    # -- hierarchy ------------------------------------------------------------------------

    def parents(self, id: str) -> list[Record]:
        """The projects above ``id``, nearest first (its domain is not one)."""
        found: list[Record] = []
        seen = {id}
        record = self.get(id)
        while record["parent_id"] and record["parent_id"] != record["domain_id"] and record["parent_id"] not in seen:
            seen.add(record["parent_id"])
            parent = self.store.get(self.kind, record["parent_id"])
            if parent is None:
                break
            found.append(parent)
            record = parent
        return found

    def subtree(self, id: str) -> list[Record]:
        """The projects below ``id``, level by level."""
        self.get(id)
        found: list[Record] = []
        level = [id]
        seen = {id}
        while level:
            children = [c for c in self.store.find_in(self.kind, "parent_id", level) if c["id"] not in seen]
            seen.update(c["id"] for c in children)
            found.extend(children)
            level = [c["id"] for c in children]
        return found

    # -- tags -----------------------------------------------------------------------------

    def tags(self, id: str) -> list[str]:
        return list(self.get(id).get("tags") or [])

    def has_tag(self, id: str, tag: str) -> None:
        """404 unless project ``id`` carries ``tag``."""
        if tag not in self.tags(id):
            raise faults.NotFound(f"Could not find project tag: {tag}.")

    @atomic
    def add_tag(self, id: str, tag: str) -> list[str]:
        tags = self.tags(id)
        if check_tag(tag.strip(), "tag") not in tags:
            tags.append(tag.strip())
        return self.changed(id, {"tags": check_tags(tags)})["tags"]

    @atomic
    def remove_tag(self, id: str, tag: str) -> None:
        tags = self.tags(id)
        if tag not in tags:
            raise faults.NotFound(f"Could not find project tag: {tag}.")
        self.changed(id, {"tags": [t for t in tags if t != tag]})

    def set_tags(self, id: str, tags: list[str]) -> list[str]:
        return self.update(id, {"tags": tags})["tags"]
