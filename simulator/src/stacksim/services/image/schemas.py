"""Glance's JSON schemas (served at ``/v2/schemas/...``) and the bodies checked against them.

Bodies are validated with pydantic; a failure is reported the way Glance's
jsonschema check reports it (``Provided object does not match schema 'image':
'foo' is not one of [None, 'ami', ...]`` and the property that failed), so a
client sees which field is wrong and what it may be.
"""

from __future__ import annotations

import pprint
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from stacksim import faults, toolkit

DISK_FORMATS = ("ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop")
CONTAINER_FORMATS = ("ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed")
VISIBILITIES = ("community", "public", "private", "shared")
STATUSES = (
    "queued",
    "saving",
    "active",
    "killed",
    "deleted",
    "uploading",
    "importing",
    "pending_delete",
    "deactivated",
)
MEMBER_STATUSES = ("pending", "accepted", "rejected")
UUID_PATTERN = "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"

#: Attributes a client may never send (403 "Attribute 'x' is read-only.").
DISALLOWED = ("direct_url", "self", "file", "schema", "stores")
#: Attributes only Glance sets.
READ_ONLY = (
    "created_at",
    "updated_at",
    "status",
    "checksum",
    "size",
    "virtual_size",
    "direct_url",
    "self",
    "file",
    "schema",
    "id",
    "os_hash_algo",
    "os_hash_value",
)
RESERVED = ("location", "deleted", "deleted_at", "locations")
RESERVED_PREFIX = "os_glance"
#: Image attributes that are columns, not custom properties.
BASE = (
    "id",
    "name",
    "status",
    "visibility",
    "protected",
    "os_hidden",
    "checksum",
    "os_hash_algo",
    "os_hash_value",
    "owner",
    "size",
    "virtual_size",
    "container_format",
    "disk_format",
    "created_at",
    "updated_at",
    "tags",
    "min_ram",
    "min_disk",
)


def _prop(kind: Any, description: str, **more: Any) -> dict[str, Any]:
    return {"type": kind, "description": description, **more}


_NULL_STR = ["null", "string"]
_NULL_INT = ["null", "integer"]

IMAGE_PROPERTIES: dict[str, dict[str, Any]] = {
    "id": _prop("string", "An identifier for the image", pattern=UUID_PATTERN),
    "name": _prop(_NULL_STR, "Descriptive name for the image", maxLength=255),
    "status": _prop("string", "Status of the image", readOnly=True, enum=list(STATUSES)),
    "visibility": _prop("string", "Scope of image accessibility", enum=list(VISIBILITIES)),
    "protected": _prop("boolean", "If true, image will not be deletable."),
    "os_hidden": _prop("boolean", "If true, image will not appear in default image list response."),
    "checksum": _prop(_NULL_STR, "md5 hash of image contents.", readOnly=True, maxLength=32),
    "os_hash_algo": _prop(_NULL_STR, "Algorithm to calculate the os_hash_value", readOnly=True, maxLength=64),
    "os_hash_value": _prop(
        _NULL_STR,
        "Hexdigest of the image contents using the algorithm specified by the os_hash_algo",
        readOnly=True,
        maxLength=128,
    ),
    "owner": _prop(_NULL_STR, "Owner of the image", maxLength=255),
    "size": _prop(_NULL_INT, "Size of image file in bytes", readOnly=True),
    "virtual_size": _prop(_NULL_INT, "Virtual size of image in bytes", readOnly=True),
    "container_format": _prop(_NULL_STR, "Format of the container", enum=[None, *CONTAINER_FORMATS]),
    "disk_format": _prop(_NULL_STR, "Format of the disk", enum=[None, *DISK_FORMATS]),
    "created_at": _prop("string", "Date and time of image registration", readOnly=True),
    "updated_at": _prop("string", "Date and time of the last image modification", readOnly=True),
    "tags": _prop("array", "List of strings related to the image", items={"type": "string", "maxLength": 255}),
    "direct_url": _prop("string", "URL to access the image file kept in external store", readOnly=True),
    "min_ram": _prop("integer", "Amount of ram (in MB) required to boot image."),
    "min_disk": _prop("integer", "Amount of disk space (in GB) required to boot image."),
    "self": _prop("string", "An image self url", readOnly=True),
    "file": _prop("string", "An image file url", readOnly=True),
    "stores": _prop(
        "string",
        "Store in which image data resides.  Only present when the operator has enabled multiple stores.  "
        "May be a comma-separated list of store identifiers.",
        readOnly=True,
    ),
    "schema": _prop("string", "An image schema url", readOnly=True),
    "locations": _prop(
        "array",
        "A set of URLs to access the image file kept in external store",
        items={
            "type": "object",
            "properties": {"url": {"type": "string", "maxLength": 255}, "metadata": {"type": "object"}},
            "required": ["url", "metadata"],
        },
    ),
    # The custom properties of Glance's shipped schema-image.json.
    "kernel_id": _prop(
        _NULL_STR,
        "ID of image stored in Glance that should be used as the kernel when booting an AMI-style image.",
        pattern=UUID_PATTERN,
        is_base=False,
    ),
    "ramdisk_id": _prop(
        _NULL_STR,
        "ID of image stored in Glance that should be used as the ramdisk when booting an AMI-style image.",
        pattern=UUID_PATTERN,
        is_base=False,
    ),
    "instance_uuid": _prop(
        "string",
        "Metadata which can be used to record which instance this image is associated with. "
        "(Informational only, does not create an instance snapshot.)",
        is_base=False,
    ),
    "architecture": _prop(
        "string",
        "Operating system architecture as specified in "
        "https://docs.openstack.org/python-glanceclient/latest/cli/property-keys.html",
        is_base=False,
    ),
    "os_distro": _prop(
        "string",
        "Common name of operating system distribution as specified in "
        "https://docs.openstack.org/python-glanceclient/latest/cli/property-keys.html",
        is_base=False,
    ),
    "os_version": _prop("string", "Operating system version as specified by the distributor", is_base=False),
}

IMAGE_LINKS = [
    {"rel": "self", "href": "{self}"},
    {"rel": "enclosure", "href": "{file}"},
    {"rel": "describedby", "href": "{schema}"},
]

MEMBER_PROPERTIES: dict[str, dict[str, Any]] = {
    "member_id": {"type": "string", "description": "An identifier for the image member (tenantId)"},
    "image_id": {"type": "string", "description": "An identifier for the image", "pattern": UUID_PATTERN},
    "created_at": {"type": "string", "description": "Date and time of image member creation"},
    "updated_at": {"type": "string", "description": "Date and time of last modification of image member"},
    "status": {"type": "string", "description": "The status of this image member", "enum": list(MEMBER_STATUSES)},
    "schema": {"readOnly": True, "type": "string"},
}


def image_schema() -> dict[str, Any]:
    return {
        "name": "image",
        "properties": IMAGE_PROPERTIES,
        "additionalProperties": {"type": "string"},
        "links": IMAGE_LINKS,
    }


def member_schema() -> dict[str, Any]:
    return {"name": "member", "properties": MEMBER_PROPERTIES, "additionalProperties": False}


def collection_schema(name: str, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "properties": {
            name: {"type": "array", "items": item},
            "schema": {"type": "string"},
            "first": {"type": "string"},
            "next": {"type": "string"},
        },
        "links": [
            {"rel": "first", "href": "{first}"},
            {"rel": "next", "href": "{next}"},
            {"rel": "describedby", "href": "{schema}"},
        ],
    }


# -- bodies ----------------------------------------------------------------------------

Str255 = Annotated[str, StringConstraints(max_length=255)]
Uuid = Annotated[str, StringConstraints(pattern=UUID_PATTERN)]


class ImageBody(BaseModel):
    """The writable attributes of an image, typed as Glance's schema types them.

    Every field is optional (a PATCH checks one at a time); an explicit null is
    checked like any other value, so ``"visibility": null`` fails as in Glance.
    """

    model_config = ConfigDict(extra="allow", strict=True)

    # ``= None`` means "not given"; the types stay non-optional on purpose so that an
    # explicit null is rejected as Glance rejects it. Type checkers flag that default,
    # hence the ``type: ignore[assignment]`` on those fields.
    id: Uuid = None  # type: ignore[assignment]
    name: Str255 | None = None
    visibility: Literal["community", "public", "private", "shared"] = None  # type: ignore[assignment]
    protected: bool = None  # type: ignore[assignment]
    os_hidden: bool = None  # type: ignore[assignment]
    owner: Str255 | None = None
    container_format: Literal[None, "ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"] = None
    disk_format: Literal[None, "ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"] = None
    tags: list[Str255] = None  # type: ignore[assignment]
    min_ram: int = None  # type: ignore[assignment]
    min_disk: int = None  # type: ignore[assignment]
    kernel_id: Uuid | None = None
    ramdisk_id: Uuid | None = None
    instance_uuid: str = None  # type: ignore[assignment]
    architecture: str = None  # type: ignore[assignment]
    os_distro: str = None  # type: ignore[assignment]
    os_version: str = None  # type: ignore[assignment]


_TYPE_NAMES = {
    "string_type": "string",
    "int_type": "integer",
    "bool_type": "boolean",
    "list_type": "array",
    "int_from_float": "integer",
}


def _type_words(kind: Any) -> str:
    return ", ".join(repr(k) for k in kind) if isinstance(kind, list) else repr(kind)


def _mismatch(schema_name: str, reason: str, keyword: str, where: str, rule: Any, instance: str, value: Any) -> str:
    rule_text = pprint.pformat(rule, width=72).replace("\n", "\n    ")
    return (
        f"Provided object does not match schema '{schema_name}': {reason}\n\n"
        f"Failed validating '{keyword}' in {where}:\n    {rule_text}\n\n"
        f"On {instance}:\n    {value!r}"
    )


def describe(exc: ValidationError, data: dict[str, Any]) -> str:
    """The first failure, in the words of Glance's jsonschema check."""
    err = exc.errors()[0]
    loc = [str(p) for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p.startswith("function")))]
    field = loc[0] if loc else ""
    prop = IMAGE_PROPERTIES.get(field, {"type": "string"})
    value = data.get(field)
    where = f"schema['properties']['{field}']"
    instance = f"instance['{field}']"
    rule: Any = prop
    if len(err["loc"]) > 1 and isinstance(err["loc"][1], int):  # an item of a list (tags)
        index = err["loc"][1]
        value = value[index] if isinstance(value, list) and index < len(value) else err.get("input")
        where += "['items']"
        instance += f"[{index}]"
        rule = prop.get("items", {})
    kind = err["type"]
    if kind == "literal_error":
        return _mismatch("image", f"{value!r} is not one of {prop['enum']!r}", "enum", where, prop, instance, value)
    if kind == "string_too_long":
        return _mismatch("image", f"{value!r} is too long", "maxLength", where, rule, instance, value)
    if kind == "string_pattern_mismatch":
        reason = f"{value!r} does not match {rule['pattern']!r}"
        return _mismatch("image", reason, "pattern", where, rule, instance, value)
    wanted = rule.get("type", _TYPE_NAMES.get(kind, "string"))
    return _mismatch("image", f"{value!r} is not of type {_type_words(wanted)}", "type", where, rule, instance, value)


def check_image(data: dict[str, Any]) -> None:
    """Validate image attributes (a create body, or one patched attribute)."""
    check_text(data)
    try:
        ImageBody.model_validate(data)
    except ValidationError as exc:
        raise faults.BadRequest(describe(exc, data)) from None
    for key, value in data.items():
        if key not in IMAGE_PROPERTIES and not isinstance(value, str):
            reason = f"{value!r} is not of type 'string'"
            where, rule = "schema['additionalProperties']", {"type": "string"}
            raise faults.BadRequest(_mismatch("image", reason, "type", where, rule, f"instance['{key}']", value))


def read_only(key: str) -> faults.Forbidden:
    return faults.Forbidden(f"Attribute '{key}' is read-only.")


def reserved(key: str) -> faults.Forbidden:
    return faults.Forbidden(f"Attribute '{key}' is reserved.")


def is_reserved(key: str) -> bool:
    return key in RESERVED or key.startswith(RESERVED_PREFIX)


# -- text UTF-8 cannot carry ------------------------------------------------------------------------


def check_text(data: dict[str, Any], schema_name: str = "image") -> None:
    """Refuse a lone surrogate anywhere in a body (a name, a property's key or value, a tag):
    stored, it could never be sent again, and every list that shows it would fail."""
    for key, value in data.items():
        if toolkit.has_lone_surrogate(key) or toolkit.has_lone_surrogate(value):
            shown = toolkit.printable(repr(value if toolkit.has_lone_surrogate(value) else key))
            raise faults.BadRequest(
                f"Provided object does not match schema '{schema_name}': {shown} is not valid Unicode text\n\n"
                f"Failed validating 'format' in schema['properties']['{toolkit.printable(str(key))}']"
            )


# -- metadata definitions and tasks: the schemas served and the bodies read --------------------------


def _typed(kind: Any, description: str, **more: Any) -> dict[str, Any]:
    return {"type": kind, "description": description, **more}


_STAMPS = {
    "created_at": _typed("string", "When it was made.", readOnly=True, format="date-time"),
    "updated_at": _typed("string", "When it last changed.", readOnly=True, format="date-time"),
}
_LINKS = {"self": {"type": "string"}, "schema": {"type": "string"}}
_JSON_TYPES = ["array", "boolean", "integer", "number", "object", "string", None]
METADEF_PROPERTY: dict[str, Any] = {
    "name": _typed("string", "The property's name.", maxLength=80),
    "title": _typed("string", "A title for people to read."),
    "description": _typed("string", "What the property means."),
    "operators": _typed("array", "Operators a value may use.", items={"type": "string"}),
    "type": _typed("string", "The JSON type of its values.", enum=_JSON_TYPES),
    "required": _typed("array", "Names of required sub-properties.", items={"type": "string"}, uniqueItems=True),
    "minimum": _typed("number", "The smallest value."),
    "maximum": _typed("number", "The largest value."),
    "maxLength": _typed("integer", "The longest a value may be.", minimum=0),
    "minLength": _typed("integer", "The shortest a value may be.", minimum=0, default=0),
    "pattern": _typed("string", "A regular expression values match.", format="regex"),
    "enum": _typed("array", "The values allowed."),
    "readonly": _typed("boolean", "Whether values may not be changed."),
    "default": {"description": "The value when none is given."},
    "items": _typed(
        "object",
        "The items of an array value.",
        properties={"type": {"type": "string", "enum": _JSON_TYPES}, "enum": {"type": "array"}},
    ),
    "maxItems": _typed("integer", "The most items.", minimum=0),
    "minItems": _typed("integer", "The fewest items.", minimum=0, default=0),
    "uniqueItems": _typed("boolean", "Whether items must differ.", default=False),
    "additionalItems": _typed("boolean", "Whether items beyond those described may come."),
}
_PROPERTIES_DEFINITION = {
    "property": {
        "type": "object",
        "additionalProperties": {"type": "object", "required": ["title", "type"], "properties": METADEF_PROPERTY},
    }
}
METADEF_ASSOCIATION: dict[str, Any] = {
    "name": _typed("string", "The resource type, such as OS::Glance::Image.", maxLength=80),
    "prefix": _typed("string", "What the namespace's property names get in front for this type.", maxLength=80),
    "properties_target": _typed("string", "Where on the resource the properties go.", maxLength=80),
    **_STAMPS,
}
METADEF_TAG: dict[str, Any] = {"name": _typed("string", "The tag.", maxLength=255), **_STAMPS}
METADEF_OBJECT: dict[str, Any] = {
    "name": _typed("string", "The object's name.", maxLength=80),
    "description": _typed("string", "What the object is."),
    "required": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
    "properties": {"$ref": "#/definitions/property"},
    **_STAMPS,
    **_LINKS,
}
METADEF_NAMESPACE: dict[str, Any] = {
    "namespace": _typed("string", "The namespace's unique name.", maxLength=80),
    "display_name": _typed("string", "A name for people to read.", maxLength=80),
    "description": _typed("string", "What the namespace is for.", maxLength=500),
    "visibility": _typed("string", "Who may see it.", enum=["public", "private"]),
    "protected": _typed("boolean", "If true, it may not be deleted."),
    "owner": _typed("string", "The owning project.", maxLength=255),
    **_STAMPS,
    "resource_type_associations": {"type": "array", "items": {"type": "object", "properties": METADEF_ASSOCIATION}},
    "properties": {"$ref": "#/definitions/property"},
    "objects": {"type": "array", "items": {"type": "object", "properties": METADEF_OBJECT}},
    "tags": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}},
    **_LINKS,
}
TASK_PROPERTIES: dict[str, Any] = {
    "id": _typed("string", "The task's id.", pattern=UUID_PATTERN),
    "type": _typed("string", "What the task does.", enum=["import", "api_image_import", "location_import"]),
    "status": _typed("string", "Where the task is.", enum=["pending", "processing", "success", "failure"]),
    "input": _typed(["null", "object"], "What the task was given."),
    "result": _typed(["null", "object"], "What the task made."),
    "owner": _typed("string", "The project the task is for."),
    "message": _typed("string", "Why it failed, when it did."),
    "image_id": _typed("string", "The image the task is about."),
    "request_id": _typed("string", "The request that made it."),
    "user_id": _typed("string", "Who made it."),
    "expires_at": _typed(["null", "string"], "When it may be removed."),
    **_STAMPS,
    "self": {"readOnly": True, "type": "string"},
    "schema": {"readOnly": True, "type": "string"},
}


def _schema(name: str, properties: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"name": name, "properties": properties, "additionalProperties": False, **more}


def _collection(name: str, key: str, item: dict[str, Any], **more: Any) -> dict[str, Any]:
    body = collection_schema(name, item)
    if key != name:
        body["properties"][key] = body["properties"].pop(name)
    body.update(more)
    return body


def metadef_schemas() -> dict[str, dict[str, Any]]:
    """``/v2/schemas/metadefs/<name>``: each metadata definition's JSON schema and its list's."""
    namespace = _schema("namespace", METADEF_NAMESPACE, required=["namespace"], definitions=_PROPERTIES_DEFINITION)
    obj = _schema("object", METADEF_OBJECT, required=["name"], definitions=_PROPERTIES_DEFINITION)
    prop = _schema("property", METADEF_PROPERTY, required=["name", "title", "type"])
    association = _schema("resource_type_association", METADEF_ASSOCIATION, required=["name"])
    tag = _schema("tag", METADEF_TAG, required=["name"])
    return {
        "namespace": namespace,
        "namespaces": _collection("namespaces", "namespaces", namespace, definitions=_PROPERTIES_DEFINITION),
        "object": obj,
        "objects": _collection("objects", "objects", obj, definitions=_PROPERTIES_DEFINITION),
        "property": prop,
        "properties": {
            "name": "properties",
            "properties": {
                "properties": {"$ref": "#/definitions/property"},
                **collection_schema("x", {})["properties"],
            },
            "definitions": _PROPERTIES_DEFINITION,
        },
        "resource_type": association,
        "resource_types": _collection("resource_type_associations", "resource_type_associations", association),
        "tag": tag,
        "tags": _collection("tags", "tags", tag),
    }


def task_schema() -> dict[str, Any]:
    return {"name": "task", "properties": TASK_PROPERTIES}


def tasks_schema() -> dict[str, Any]:
    stub = {k: v for k, v in TASK_PROPERTIES.items() if k not in ("input", "result", "message")}
    return collection_schema("tasks", {"name": "task", "properties": stub})


#: attributes a metadef body may not carry (Glance answers 403)
METADEF_READ_ONLY = ("created_at", "updated_at", "self", "schema")


def metadef_body(body: Any, schema_name: str) -> dict[str, Any]:
    """A metadata definition body: an object, no read-only attribute, valid Unicode."""
    if not isinstance(body, dict):
        raise faults.BadRequest(
            f"Provided object does not match schema '{schema_name}': {body!r} is not of type 'object'"
        )
    for key in METADEF_READ_ONLY:
        if key in body:
            raise read_only(key)
    check_text(body, schema_name)
    return body
