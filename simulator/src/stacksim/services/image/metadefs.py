"""Metadata definitions (Glance's metadefs): namespaces and what they hold.

A namespace (a unique name of up to 80 characters) has a display name, a
description, a visibility (``private`` or ``public``), ``protected`` and an
owner project; it holds objects (named groups of properties), properties
(JSON-schema typed, with a title), tags, and associations with resource types
(``OS::Glance::Image`` ..., with an optional property prefix). A resource type
is made when a namespace is first associated with it; the seeded ones
(:data:`SEEDED_RESOURCE_TYPES`) cannot be deleted.

Policy, as Glance's defaults: only admins create, change and delete; a reader
sees the public namespaces and its own project's (another's is a 404, never a
403), and what they hold. Nothing in a protected namespace may be deleted.

Not implemented: loading Glance's shipped definitions (``glance-manage
db_load_metadefs``): a fresh cloud has no namespaces.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from stacksim import faults, toolkit
from stacksim.auth import Context
from stacksim.store import Store
from stacksim.toolkit import new_id, timestamp

NAMESPACE = "metadef_namespace"
OBJECT = "metadef_object"
PROPERTY = "metadef_property"
TAG = "metadef_tag"
RESOURCE_TYPE = "metadef_resource_type"
ASSOCIATION = "metadef_resource_type_association"
KINDS = (NAMESPACE, OBJECT, PROPERTY, TAG, RESOURCE_TYPE, ASSOCIATION)
#: resource types a cloud starts with (as Glance's database is seeded)
SEEDED_RESOURCE_TYPES = (
    "OS::Glance::Image",
    "OS::Cinder::Volume",
    "OS::Nova::Flavor",
    "OS::Nova::Aggregate",
    "OS::Nova::Server",
)
NAME_LIMIT = 80
TAG_LIMIT = 255


def denied(action: str) -> faults.Forbidden:
    return faults.Forbidden(f"You are not authorized to complete {action} action.")


def _now() -> str:
    return timestamp()


def _name(value: Any, what: str, limit: int = NAME_LIMIT) -> str:
    """A metadef name: a non-empty string of at most ``limit`` characters, valid Unicode."""
    if not isinstance(value, str) or not value.strip():
        raise faults.BadRequest(f"Invalid input for field/attribute {what}: a non-empty string is required.")
    if toolkit.has_lone_surrogate(value):
        raise faults.BadRequest(
            f"Invalid input for field/attribute {what}: {toolkit.printable(value)!r} is not valid Unicode text."
        )
    if len(value) > limit:
        raise faults.BadRequest(f"Invalid input for field/attribute {what}: longer than {limit} characters.")
    return value


def _text(value: Any, what: str) -> Any:
    if toolkit.has_lone_surrogate(value):
        raise faults.BadRequest(f"Invalid input for field/attribute {what}: it holds text that is not valid Unicode.")
    return value


@dataclass(frozen=True)
class NamespaceSpec:
    """A namespace as a create or an update (a full replacement, as Glance's PUT) gives it."""

    namespace: str
    display_name: str | None = None
    description: str | None = None
    visibility: str | None = None
    protected: bool | None = None
    owner: str | None = None
    #: only at create: what the namespace holds from the start
    resource_type_associations: list[dict[str, Any]] = field(default_factory=list)
    properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    objects: list[dict[str, Any]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


class Metadefs:
    def __init__(self, store: Store) -> None:
        self.store = store

    # -- namespaces -------------------------------------------------------------------------------

    @staticmethod
    def _may_see(ctx: Context, record: dict[str, Any]) -> bool:
        return ctx.is_admin or record["visibility"] == "public" or record["owner"] == ctx.project_id

    def namespace(self, ctx: Context, name: str) -> dict[str, Any]:
        """The namespace if the caller may see it; 404 otherwise."""
        record = self.store.first(NAMESPACE, namespace=name)
        if record is None or not self._may_see(ctx, record):
            raise faults.NotFound(f"Metadata definition namespace={name} was not found.")
        return record

    def _writable(self, ctx: Context, name: str, action: str) -> dict[str, Any]:
        record = self.namespace(ctx, name)
        if not ctx.is_admin:
            raise denied(action)
        return record

    def namespaces(
        self, ctx: Context, visibility: str | None = None, resource_types: list[str] | None = None
    ) -> list[dict[str, Any]]:
        """The namespaces the caller may see (newest first), by visibility and associated resource type."""
        found = [r for r in self.store.find(NAMESPACE) if self._may_see(ctx, r)]
        if visibility:
            found = [r for r in found if r["visibility"] == visibility]
        if resource_types:
            linked = {a["namespace_id"] for a in self.store.find(ASSOCIATION) if a["name"] in resource_types}
            found = [r for r in found if r["id"] in linked]
        return sorted(found, key=lambda r: (r["created_at"], r["id"]), reverse=True)

    def _check_namespace(self, spec: NamespaceSpec) -> None:
        _name(spec.namespace, "namespace")
        for key in ("display_name", "description", "owner"):
            _text(getattr(spec, key), key)
        if spec.visibility not in (None, "public", "private"):
            raise faults.BadRequest(f"Invalid visibility value: {toolkit.printable(str(spec.visibility))}")

    def _taken(self, name: str, other_than: str | None = None) -> None:
        found = self.store.first(NAMESPACE, namespace=name)
        if found is not None and found["id"] != other_than:
            raise faults.Conflict(f"The metadata definition namespace={name} already exists.")

    def create_namespace(self, ctx: Context, spec: NamespaceSpec) -> dict[str, Any]:
        """A namespace, with the objects, properties, tags and associations it comes with (all or none)."""
        if not ctx.is_admin:
            raise denied("add_metadef_namespace")
        self._check_namespace(spec)
        with self.store.transaction():
            self._taken(spec.namespace)
            stamp = _now()
            record = self.store.put(
                NAMESPACE,
                {
                    "id": new_id(),
                    "namespace": spec.namespace,
                    "display_name": spec.display_name,
                    "description": spec.description,
                    "visibility": spec.visibility or "private",
                    "protected": bool(spec.protected),
                    "owner": spec.owner or ctx.project_id,
                    "created_at": stamp,
                    "updated_at": stamp,
                },
            )
            for association in spec.resource_type_associations:
                self._associate(record, association)
            for name, schema in spec.properties.items():
                self._add_property(record, {**schema, "name": name})
            for obj in spec.objects:
                self._add_object(record, obj)
            for tag in spec.tags:
                self._add_tag(record, tag)
            return record

    def update_namespace(self, ctx: Context, name: str, spec: NamespaceSpec) -> dict[str, Any]:
        """Replace the namespace's attributes (what is not given goes back to its default)."""
        self._check_namespace(spec)
        with self.store.transaction():
            record = self._writable(ctx, name, "modify_metadef_namespace")
            self._taken(spec.namespace, record["id"])
            record.update(
                namespace=spec.namespace,
                display_name=spec.display_name,
                description=spec.description,
                visibility=spec.visibility or "private",
                protected=bool(spec.protected),
                owner=spec.owner or ctx.project_id,
                updated_at=_now(),
            )
            return self.store.put(NAMESPACE, record)

    def delete_namespace(self, ctx: Context, name: str) -> None:
        with self.store.transaction():
            record = self._writable(ctx, name, "delete_metadef_namespace")
            if record["protected"]:
                raise faults.Forbidden(f"Metadata definition namespace {name} is protected and cannot be deleted.")
            for kind in (OBJECT, PROPERTY, TAG, ASSOCIATION):
                self.store.delete_where(kind, namespace_id=record["id"])
            self.store.delete(NAMESPACE, record["id"])

    def _children(self, ctx: Context, name: str, kind: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        namespace = self.namespace(ctx, name)
        found = self.store.find(kind, namespace_id=namespace["id"])
        return namespace, sorted(found, key=lambda r: (r["created_at"], r["name"]))

    def contents(self, ctx: Context, name: str) -> dict[str, list[dict[str, Any]]]:
        """What a namespace holds, by kind (for its show view)."""
        namespace = self.namespace(ctx, name)
        return {
            kind: sorted(
                self.store.find(kind, namespace_id=namespace["id"]), key=lambda r: (r["created_at"], r["name"])
            )
            for kind in (OBJECT, PROPERTY, TAG, ASSOCIATION)
        }

    def associations_of(self, namespace_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """Resource type associations by namespace id (for the list view)."""
        found: dict[str, list[dict[str, Any]]] = {}
        for record in self.store.find_in(ASSOCIATION, "namespace_id", namespace_ids):
            found.setdefault(record["namespace_id"], []).append(record)
        return found

    def delete_all(self, ctx: Context, name: str, kind: str) -> None:
        """``DELETE .../objects``, ``.../properties`` or ``.../tags``: every one of them."""
        action = {OBJECT: "delete_metadef_object", PROPERTY: "remove_metadef_property", TAG: "delete_metadef_tags"}
        with self.store.transaction():
            record = self._writable(ctx, name, action[kind])
            if record["protected"]:
                raise faults.Forbidden(f"Metadata definition namespace {name} is protected and cannot be deleted.")
            self.store.delete_where(kind, namespace_id=record["id"])

    # -- objects, properties, tags: one of a namespace -----------------------------------------------

    def _one(self, ctx: Context, name: str, kind: str, item: str, missing: Callable[[str, str], str]):
        namespace, found = self._children(ctx, name, kind)
        record = next((r for r in found if r["name"] == item), None)
        if record is None:
            raise faults.NotFound(missing(item, name))
        return namespace, record

    def object(self, ctx: Context, name: str, object_name: str) -> dict[str, Any]:
        return self._one(ctx, name, OBJECT, object_name, _object_missing)[1]

    def objects(self, ctx: Context, name: str) -> list[dict[str, Any]]:
        return self._children(ctx, name, OBJECT)[1]

    def _add_object(self, namespace: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        name = _name(body.get("name"), "name")
        if self.store.first(OBJECT, namespace_id=namespace["id"], name=name) is not None:
            raise faults.Conflict(
                f"A metadata definition object with name={name} already exists in namespace={namespace['namespace']}."
            )
        stamp = _now()
        return self.store.put(
            OBJECT,
            {
                "id": new_id(),
                "namespace_id": namespace["id"],
                "name": name,
                "description": _text(body.get("description"), "description"),
                "required": list(body.get("required") or []),
                "properties": _text(dict(body.get("properties") or {}), "properties"),
                "created_at": stamp,
                "updated_at": stamp,
            },
        )

    def create_object(self, ctx: Context, name: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.store.transaction():
            return self._add_object(self._writable(ctx, name, "add_metadef_object"), body)

    def update_object(self, ctx: Context, name: str, object_name: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.store.transaction():
            namespace = self._writable(ctx, name, "modify_metadef_object")
            record = self._one(ctx, name, OBJECT, object_name, _object_missing)[1]
            new_name = _name(body.get("name"), "name")
            other = self.store.first(OBJECT, namespace_id=namespace["id"], name=new_name)
            if other is not None and other["id"] != record["id"]:
                raise faults.Conflict(
                    f"A metadata definition object with name={new_name} already exists in namespace={name}."
                )
            record.update(
                name=new_name,
                description=_text(body.get("description"), "description"),
                required=list(body.get("required") or []),
                properties=_text(dict(body.get("properties") or {}), "properties"),
                updated_at=_now(),
            )
            return self.store.put(OBJECT, record)

    def property(self, ctx: Context, name: str, property_name: str, resource_type: str | None = None):
        """A property; with ``resource_type``, ``property_name`` carries that association's prefix."""
        namespace = self.namespace(ctx, name)
        if resource_type:
            association = self.store.first(ASSOCIATION, namespace_id=namespace["id"], name=resource_type)
            prefix = (association or {}).get("prefix")
            if prefix:
                if not property_name.startswith(prefix):
                    raise faults.NotFound(
                        f"Property {property_name} does not start with the expected resource type association "
                        f"prefix of '{prefix}'."
                    )
                property_name = property_name[len(prefix) :]
        return self._one(ctx, name, PROPERTY, property_name, _property_missing)[1]

    def properties(self, ctx: Context, name: str) -> list[dict[str, Any]]:
        return self._children(ctx, name, PROPERTY)[1]

    def _add_property(self, namespace: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        name = _name(body.get("name"), "name")
        if self.store.first(PROPERTY, namespace_id=namespace["id"], name=name) is not None:
            raise faults.Conflict(
                f"A metadata definition property with name={name} already exists in namespace={namespace['namespace']}."
            )
        stamp = _now()
        return self.store.put(
            PROPERTY,
            {
                "id": new_id(),
                "namespace_id": namespace["id"],
                "name": name,
                "schema": _property_schema(body),
                "created_at": stamp,
                "updated_at": stamp,
            },
        )

    def create_property(self, ctx: Context, name: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.store.transaction():
            return self._add_property(self._writable(ctx, name, "add_metadef_property"), body)

    def update_property(self, ctx: Context, name: str, property_name: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.store.transaction():
            namespace = self._writable(ctx, name, "modify_metadef_property")
            record = self._one(ctx, name, PROPERTY, property_name, _property_missing)[1]
            new_name = _name(body.get("name"), "name")
            other = self.store.first(PROPERTY, namespace_id=namespace["id"], name=new_name)
            if other is not None and other["id"] != record["id"]:
                raise faults.Conflict(
                    f"A metadata definition property with name={new_name} already exists in namespace={name}."
                )
            record.update(name=new_name, schema=_property_schema(body), updated_at=_now())
            return self.store.put(PROPERTY, record)

    def tag(self, ctx: Context, name: str, tag_name: str) -> dict[str, Any]:
        return self._one(ctx, name, TAG, tag_name, _tag_missing)[1]

    def tags(self, ctx: Context, name: str) -> list[dict[str, Any]]:
        return self._children(ctx, name, TAG)[1]

    def _add_tag(self, namespace: dict[str, Any], tag_name: Any) -> dict[str, Any]:
        tag_name = _name(tag_name, "name", TAG_LIMIT)
        taken = {t["name"].lower() for t in self.store.find(TAG, namespace_id=namespace["id"])}
        if tag_name.lower() in taken:
            raise faults.Conflict(
                f"A metadata tag with name={tag_name} already exists in namespace={namespace['namespace']}. "
                "(Please note that metadata tag names are case insensitive)."
            )
        stamp = _now()
        return self.store.put(
            TAG,
            {
                "id": new_id(),
                "namespace_id": namespace["id"],
                "name": tag_name,
                "created_at": stamp,
                "updated_at": stamp,
            },
        )

    def create_tag(self, ctx: Context, name: str, tag_name: str) -> dict[str, Any]:
        with self.store.transaction():
            return self._add_tag(self._writable(ctx, name, "add_metadef_tag"), tag_name)

    def create_tags(self, ctx: Context, name: str, tag_names: list[Any], append: bool) -> list[dict[str, Any]]:
        """Many tags at once; unless ``append``, they replace the namespace's tags."""
        with self.store.transaction():
            namespace = self._writable(ctx, name, "add_metadef_tags")
            lowered = [str(t).lower() for t in tag_names]
            if len(set(lowered)) != len(lowered):
                raise faults.Conflict("Duplicate tags in the request are not allowed.")
            if not append:
                self.store.delete_where(TAG, namespace_id=namespace["id"])
            return [self._add_tag(namespace, t) for t in tag_names]

    def update_tag(self, ctx: Context, name: str, tag_name: str, new_name: Any) -> dict[str, Any]:
        with self.store.transaction():
            namespace = self._writable(ctx, name, "modify_metadef_tag")
            record = self._one(ctx, name, TAG, tag_name, _tag_missing)[1]
            new_name = _name(new_name, "name", TAG_LIMIT)
            other = next(
                (
                    t
                    for t in self.store.find(TAG, namespace_id=namespace["id"])
                    if t["name"].lower() == new_name.lower()
                ),
                None,
            )
            if other is not None and other["id"] != record["id"]:
                raise faults.Conflict(f"A metadata tag with name={new_name} already exists in namespace={name}.")
            record.update(name=new_name, updated_at=_now())
            return self.store.put(TAG, record)

    def delete_item(self, ctx: Context, name: str, kind: str, item: str) -> None:
        """Delete one object, property or tag of a namespace."""
        action = {OBJECT: "delete_metadef_object", PROPERTY: "remove_metadef_property", TAG: "delete_metadef_tag"}
        missing = {OBJECT: _object_missing, PROPERTY: _property_missing, TAG: _tag_missing}
        label = {OBJECT: "object", PROPERTY: "property", TAG: "tag"}
        with self.store.transaction():
            namespace = self._writable(ctx, name, action[kind])
            record = self._one(ctx, name, kind, item, missing[kind])[1]
            if namespace["protected"]:
                raise faults.Forbidden(f"Metadata definition {label[kind]} {item} is protected and cannot be deleted.")
            self.store.delete(kind, record["id"])

    # -- resource types -------------------------------------------------------------------------------

    def seed(self) -> None:
        """The resource types every cloud has (once)."""
        with self.store.transaction():
            for name in SEEDED_RESOURCE_TYPES:
                if self.store.first(RESOURCE_TYPE, name=name) is None:
                    stamp = _now()
                    self.store.put(
                        RESOURCE_TYPE,
                        {"id": new_id(), "name": name, "protected": True, "created_at": stamp, "updated_at": stamp},
                    )

    def resource_types(self) -> list[dict[str, Any]]:
        return sorted(self.store.find(RESOURCE_TYPE), key=lambda r: r["name"])

    def associations(self, ctx: Context, name: str) -> list[dict[str, Any]]:
        return self._children(ctx, name, ASSOCIATION)[1]

    def _associate(self, namespace: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        type_name = _name(body.get("name"), "name")
        if self.store.first(ASSOCIATION, namespace_id=namespace["id"], name=type_name) is not None:
            raise faults.Conflict(
                f"The metadata definition resource-type association of resource-type={type_name} to "
                f"namespace={namespace['namespace']} already exists."
            )
        stamp = _now()
        if self.store.first(RESOURCE_TYPE, name=type_name) is None:
            self.store.put(
                RESOURCE_TYPE,
                {"id": new_id(), "name": type_name, "protected": False, "created_at": stamp, "updated_at": stamp},
            )
        return self.store.put(
            ASSOCIATION,
            {
                "id": new_id(),
                "namespace_id": namespace["id"],
                "name": type_name,
                "prefix": _text(body.get("prefix"), "prefix"),
                "properties_target": _text(body.get("properties_target"), "properties_target"),
                "created_at": stamp,
                "updated_at": stamp,
            },
        )

    def associate(self, ctx: Context, name: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.store.transaction():
            return self._associate(self._writable(ctx, name, "add_metadef_resource_type_association"), body)

    def dissociate(self, ctx: Context, name: str, type_name: str) -> None:
        with self.store.transaction():
            namespace = self._writable(ctx, name, "remove_metadef_resource_type_association")
            record = self.store.first(ASSOCIATION, namespace_id=namespace["id"], name=type_name)
            if record is None:
                raise faults.NotFound(f"Failed to find resource type {type_name} to delete")
            if namespace["protected"]:
                raise faults.Forbidden(
                    f"Metadata definition resource-type-association {type_name} is protected and cannot be deleted."
                )
            self.store.delete(ASSOCIATION, record["id"])


#: what a property's JSON schema may hold (Glance's PropertyType)
PROPERTY_FIELDS = (
    "type",
    "title",
    "description",
    "operators",
    "default",
    "readonly",
    "minimum",
    "maximum",
    "enum",
    "pattern",
    "minLength",
    "maxLength",
    "confidential",
    "items",
    "uniqueItems",
    "minItems",
    "maxItems",
    "additionalItems",
)
PROPERTY_TYPES = ("array", "boolean", "integer", "number", "object", "string")


def _property_schema(body: dict[str, Any]) -> dict[str, Any]:
    """A property's schema: ``type`` (one of JSON's) and ``title`` are required."""
    for key in ("type", "title"):
        if not body.get(key):
            raise faults.BadRequest(f"Invalid input for field/attribute {key}: Mandatory field missing.")
    if body["type"] not in PROPERTY_TYPES:
        raise faults.BadRequest(
            f"Invalid input for field/attribute type: Value should be one of: {', '.join(PROPERTY_TYPES)}"
        )
    return _text({k: body[k] for k in PROPERTY_FIELDS if body.get(k) is not None}, "property")


def _object_missing(item: str, name: str) -> str:
    return f"The metadata definition object with name={item} was not found in namespace={name}."


def _property_missing(item: str, name: str) -> str:
    return f"The metadata definition property with name={item} was not found in namespace={name}."


def _tag_missing(item: str, name: str) -> str:
    return f"The metadata definition tag with name={item} was not found in namespace={name}."
