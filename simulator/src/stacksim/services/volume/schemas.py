"""Request bodies of the Block Storage API: the wire format checked and turned into typed requests.

Each model mirrors the JSON schema Cinder validates that body with (types,
required members, whether other members are allowed at that microversion);
:func:`parse` reports the first failure in Cinder's words, naming the field:
``Invalid input for field/attribute size. Value: x. 'x' is not of type
'integer', 'string', 'null'``. Values themselves (sizes, lengths, valid
Unicode, statuses) are checked by the model, so Nova and Heat, which call it
directly, get the same checks.
"""

from __future__ import annotations

from typing import Any, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from stacksim import faults, toolkit
from stacksim.services.volume import common
from stacksim.services.volume.backups import NewBackup
from stacksim.services.volume.groups import GroupChanges, NewGroup
from stacksim.services.volume.snapshots import NewSnapshot
from stacksim.services.volume.transfers import NewTransfer
from stacksim.services.volume.volume_create import NewVolume
from stacksim.services.volume.volumes import ImageUpload

M = TypeVar("M", bound=BaseModel)

Text = str | None
Flag = bool | str | None
Size = int | str | None
Meta = dict[str, Any] | None


class _Open(BaseModel):
    """A body object that may hold members beyond those named (Cinder's ``additionalProperties: True``)."""

    model_config = ConfigDict(extra="allow", strict=True, populate_by_name=True)


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)


# -- errors ---------------------------------------------------------------------------------------------

_JSON_TYPES = {str: "string", int: "integer", bool: "boolean", dict: "object", list: "array", type(None): "null"}


def _type_words(model: type[BaseModel], field: str) -> str:
    info = model.model_fields.get(field)
    if info is None:
        return "'string'"
    kinds = get_args(info.annotation) or (info.annotation,)
    words = [_JSON_TYPES.get(getattr(k, "__origin__", k), "string") for k in kinds]
    return ", ".join(f"'{w}'" for w in dict.fromkeys(words))


def describe(model: type[BaseModel], exc: ValidationError, data: dict[str, Any], root: str) -> faults.BadRequest:
    """The first failure of ``data`` (the ``root`` object), as Cinder's schema check words it."""
    err = exc.errors()[0]
    loc = [p for p in err["loc"] if isinstance(p, str) and not p.startswith(("function", "union["))]
    kind = err["type"]
    field = loc[0] if loc else root
    if kind == "missing":
        return common.invalid_field(root, data, f"'{field}' is a required property")
    if kind == "extra_forbidden":
        return common.invalid_field(
            root, data, f"Additional properties are not allowed ({toolkit.printable(repr(field))} was unexpected)"
        )
    value = data.get(field)
    return common.invalid_field(
        field, value, f"{toolkit.printable(repr(value))} is not of type {_type_words(model, field)}"
    )


def parse(model: type[M], data: Any, root: str) -> M:
    """``data`` (the body's ``root`` object) checked by ``model``."""
    if not isinstance(data, dict):
        raise faults.BadRequest(f"Missing required element '{root}' in request body.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise describe(model, exc, data, root) from None


def _pick(body: BaseModel, name: str, alias: str) -> Any:
    """``name``, or its v1 alias (``display_name``) when only that was given."""
    given = body.model_fields_set
    return getattr(body, name) if name in given or alias not in given else getattr(body, alias)


# -- volumes --------------------------------------------------------------------------------------------


class VolumeCreate(_Open):
    name: Text = None
    description: Text = None
    display_name: Text = None
    display_description: Text = None
    volume_type: Text = None
    metadata: Meta = None
    snapshot_id: Text = None
    source_volid: Text = None
    consistencygroup_id: Text = None
    size: Size = None
    availability_zone: Text = None
    multiattach: Flag = None
    image_id: Text = None
    image_ref: Text = Field(None, alias="imageRef")
    group_id: Text = None
    backup_id: Text = None


class VolumeCreateStrict(VolumeCreate):
    """3.53: no other members."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)


def new_volume(data: Any, strict: bool, with_backup: bool) -> NewVolume:
    """``POST /volumes``'s ``volume`` (``backup_id`` from 3.47, nothing else allowed from 3.53)."""
    body = parse(VolumeCreateStrict if strict else VolumeCreate, data, "volume")
    if body.consistencygroup_id:
        raise common.invalid_input("consistencygroup_id: consistency groups are not supported; use groups.")
    return NewVolume(
        size=body.size,
        name=_pick(body, "name", "display_name"),
        description=_pick(body, "description", "display_description"),
        volume_type=body.volume_type or None,
        availability_zone=body.availability_zone or None,
        metadata=body.metadata,
        snapshot_id=body.snapshot_id or None,
        source_volid=body.source_volid or None,
        image_ref=body.image_ref or body.image_id or None,
        backup_id=(body.backup_id or None) if with_backup else None,
        group_id=body.group_id or None,
        multiattach=common.flag(body.multiattach or False, "multiattach"),
    )


class VolumeUpdate(_Closed):
    name: Text = None
    description: Text = None
    display_name: Text = None
    display_description: Text = None
    metadata: Meta = None


class SnapshotUpdate(_Closed):
    name: Text = None
    description: Text = None
    display_name: Text = None
    display_description: Text = None


def name_changes(body: BaseModel) -> dict[str, Any]:
    """The ``name`` and ``description`` an update gives (or their v1 aliases), and ``metadata``."""
    given = body.model_fields_set
    changes: dict[str, Any] = {}
    for key, alias in (("name", "display_name"), ("description", "display_description")):
        if key in given or alias in given:
            changes[key] = _pick(body, key, alias)
    if "metadata" in given:
        changes["metadata"] = body.metadata  # type: ignore[attr-defined]
    return changes


class ImageUploadBody(_Open):
    image_name: Text = None
    disk_format: Text = None
    container_format: Text = None
    visibility: Text = None
    protected: Flag = None
    force: Flag = None


def image_upload(data: Any, with_visibility: bool) -> ImageUpload:
    """``os-volume_upload_image`` (``visibility`` and ``protected`` from 3.1)."""
    body = parse(ImageUploadBody, data or {}, "os-volume_upload_image")
    protected = common.flag(body.protected, "protected") if with_visibility and body.protected is not None else None
    return ImageUpload(
        image_name=body.image_name or "",
        disk_format=body.disk_format or "raw",
        container_format=body.container_format or "bare",
        visibility=body.visibility if with_visibility else None,
        protected=protected,
    )


# -- snapshots, backups ------------------------------------------------------------------------------------


class SnapshotCreate(_Closed):
    volume_id: str
    name: Text = None
    description: Text = None
    display_name: Text = None
    display_description: Text = None
    force: Flag = None
    metadata: Meta = None


def new_snapshot(data: Any, force_is_invalid: bool) -> NewSnapshot:
    body = parse(SnapshotCreate, data, "snapshot")
    return NewSnapshot(
        volume_id=body.volume_id,
        name=_pick(body, "name", "display_name"),
        description=_pick(body, "description", "display_description"),
        metadata=body.metadata,
        force=body.force,
        force_is_invalid=force_is_invalid,
    )


class BackupCreate(_Closed):
    volume_id: str
    container: Text = None
    description: Text = None
    incremental: Flag = None
    force: Flag = None
    name: Text = None
    snapshot_id: Text = None
    metadata: Meta = None
    availability_zone: Text = None


def new_backup(data: Any, with_metadata: bool, with_zone: bool) -> NewBackup:
    """``POST /backups`` (``metadata`` from 3.43, ``availability_zone`` from 3.51)."""
    body = parse(BackupCreate, data, "backup")
    return NewBackup(
        volume_id=body.volume_id,
        name=body.name,
        description=body.description,
        metadata=body.metadata if with_metadata else None,
        container=body.container,
        incremental=body.incremental or False,
        force=body.force or False,
        snapshot_id=body.snapshot_id or None,
        availability_zone=body.availability_zone if with_zone else None,
    )


class BackupUpdate(_Closed):
    name: Text = None
    description: Text = None
    metadata: Meta = None


class BackupRestore(_Closed):
    volume_id: Text = None
    name: Text = None


# -- attachments ------------------------------------------------------------------------------------------


class AttachmentCreate(_Open):
    volume_uuid: str
    instance_uuid: Text = None
    connector: dict[str, Any] | None = None
    mode: Text = None


class AttachmentUpdate(_Open):
    connector: dict[str, Any]


# -- groups ------------------------------------------------------------------------------------------------


class GroupCreate(_Closed):
    group_type: str
    volume_types: list[str]
    name: Text = None
    description: Text = None
    availability_zone: Text = None


def new_group(data: Any) -> NewGroup:
    body = parse(GroupCreate, data, "group")
    return NewGroup(
        group_type=body.group_type,
        volume_types=body.volume_types,
        name=body.name,
        description=body.description,
        availability_zone=body.availability_zone,
    )


class GroupFromSource(_Closed):
    name: Text = None
    description: Text = None
    group_snapshot_id: Text = None
    source_group_id: Text = None


def group_from_source(data: Any) -> NewGroup:
    body = parse(GroupFromSource, data, "create-from-src")
    return NewGroup(
        name=body.name,
        description=body.description,
        group_snapshot_id=body.group_snapshot_id,
        source_group_id=body.source_group_id,
    )


class GroupUpdate(_Closed):
    name: Text = None
    description: Text = None
    add_volumes: Text = None
    remove_volumes: Text = None


def group_changes(data: Any) -> GroupChanges:
    """``PUT /groups/{id}``: ``add_volumes`` and ``remove_volumes`` are comma-separated ids."""
    body = parse(GroupUpdate, data, "group")
    given = body.model_fields_set

    def ids(text: str | None) -> list[str]:
        return [part.strip() for part in (text or "").split(",") if part.strip()]

    return GroupChanges(
        name=body.name if "name" in given else ...,
        description=body.description if "description" in given else ...,
        add_volumes=ids(body.add_volumes),
        remove_volumes=ids(body.remove_volumes),
    )


class GroupDelete(_Closed):
    delete_volumes: Flag = Field(None, alias="delete-volumes")


class GroupSnapshotCreate(_Closed):
    group_id: str
    name: Text = None
    description: Text = None


class TypeCreate(_Open):
    name: Any = None
    description: Text = None
    is_public: Flag = None
    access_is_public: Flag = Field(None, alias="os-volume-type-access:is_public")
    extra_specs: dict[str, Any] | None = None


class GroupTypeCreate(_Closed):
    name: str
    description: Text = None
    is_public: Flag = None
    group_specs: dict[str, Any] | None = None


class TypeUpdate(_Closed):
    name: Text = None
    description: Text = None
    is_public: Flag = None


class Encryption(_Open):
    provider: Text = None
    cipher: Text = None
    key_size: int | str | None = None
    control_location: Text = None


def encryption_spec(data: Any, creating: bool) -> dict[str, Any]:
    """A type's encryption spec (``provider`` and ``control_location`` required to create)."""
    body = parse(Encryption, data, "encryption")
    given = body.model_fields_set
    if creating:
        for key in ("provider", "control_location"):
            if key not in given:
                raise common.invalid_field("encryption", data, f"'{key}' is a required property")
    spec = {k: getattr(body, k) for k in ("provider", "cipher", "key_size", "control_location") if k in given}
    if spec.get("key_size") is not None:
        try:
            spec["key_size"] = int(spec["key_size"])
        except ValueError:
            raise common.invalid_input("key_size must be an integer.") from None
    for key in ("provider", "cipher"):
        if spec.get(key) is not None:
            common.check_name(spec[key], key)
    return spec


# -- transfers ------------------------------------------------------------------------------------------


class TransferCreate(_Closed):
    volume_id: str
    name: Text = None
    no_snapshots: Flag = None


def new_transfer(data: Any, with_snapshots: bool, allow_encrypted: bool) -> NewTransfer:
    """``POST /volume-transfers`` (3.55, with ``no_snapshots``) or ``/os-volume-transfer``."""
    body = parse(TransferCreate, data, "transfer")
    if body.no_snapshots is not None and not with_snapshots:
        raise common.invalid_field(
            "transfer", data, "Additional properties are not allowed ('no_snapshots' was unexpected)"
        )
    return NewTransfer(
        volume_id=body.volume_id,
        name=body.name,
        no_snapshots=common.flag(body.no_snapshots or False, "no_snapshots"),
        allow_encrypted=allow_encrypted,
    )


class TransferAccept(_Closed):
    auth_key: str


# -- admin bodies --------------------------------------------------------------------------------------------


class DefaultType(_Closed):
    volume_type: str


class ServiceBody(_Closed):
    binary: Text = None
    service: Text = None
    host: Text = None
    cluster: Text = None
    disabled_reason: Text = None


class FreezeBody(_Closed):
    host: Text = None
    cluster: Text = None
