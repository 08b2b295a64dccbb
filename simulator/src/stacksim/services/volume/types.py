"""Volume types: extra specs, project access, the default types, encryption specs.

A volume type record keeps Cinder's API names, its ``extra_specs``, the
``projects`` given access to it when it is private, and the ``qos_specs_id``
it is associated with. ``__DEFAULT__`` is made on the first start, as Cinder
makes it, and is what a volume created without a type gets, unless its
project has a default type of its own (3.62, ``/default-types``). A type may
have an encryption spec (``/types/{id}/encryption``).

Extra specs the simulator acts on: ``volume_backend_name`` (must name the
backend, ``lvm``), ``pool_name`` (pins the pool), ``multiattach`` (``<is>
True`` lets a volume attach to several servers). Others are kept and shown.

:class:`SpecTypes` is what volume types and group types share (names unique,
public or private, a dict of specs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stacksim import faults, toolkit
from stacksim.auth import Context
from stacksim.services.volume import common
from stacksim.store import Store

KIND = "volume_type"
DEFAULT_KIND = "volume_default_type"
ENCRYPTION_KIND = "volume_type_encryption"
DEFAULT_NAME = "__DEFAULT__"
_DEFAULT_MARK = ("bootstrap", "volume_default_type")
#: The extra specs a non-admin may see (Cinder's user-visible ones).
USER_VISIBLE_SPECS = ("multiattach", "RESKEY:availability_zones", "replication_enabled")
MULTIATTACH_TRUE = "<is> True"
CONTROL_LOCATIONS = ("front-end", "back-end")


def not_found(type_id: str) -> faults.NotFound:
    return faults.NotFound(f"Volume type {type_id} could not be found.")


def is_multiattach(record: dict[str, Any] | None) -> bool:
    return bool(record) and record["extra_specs"].get("multiattach") == MULTIATTACH_TRUE


def check_specs(specs: Any, field: str = "extra_specs") -> dict[str, str]:
    """Specs as Cinder takes them: keys of 1-255 characters, values strings (or numbers) up to 255."""
    if not isinstance(specs, dict):
        raise common.invalid_field(field, specs, "Expected a dict.")
    out = {}
    for key, value in specs.items():
        if not isinstance(key, str) or not 1 <= len(key) <= 255 or toolkit.has_lone_surrogate(key):
            raise faults.BadRequest(
                f"Invalid input for field/attribute {field}. Key '{toolkit.printable(str(key))}' is not valid."
            )
        if isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str | int | float):
            raise common.invalid_field(field, repr(value), "Expected a string.")
        value = str(value)
        if toolkit.has_lone_surrogate(value):
            raise common.invalid_field(field, value, common.NOT_UNICODE)
        if len(value) > 255:
            raise common.invalid_field(field, value, "Is longer than 255 characters.")
        out[key] = value
    return out


@dataclass(frozen=True)
class TypeNames:
    """How Cinder's messages name one kind of type."""

    kind: str  #: the store kind
    specs: str  #: the record field of its specs
    not_found: Callable[[str], faults.NotFound]
    by_name: str  #: "<kind> with name {name} could not be found."
    exists: str  #: "<kind> {name} already exists."
    no_spec: str  #: "<kind> {id} has no ... with key {key}."
    empty: str  #: "<kind> name can not be empty."


class SpecTypes:
    """Types with unique names, public or private, and a dict of specs: volume types and group types."""

    names: TypeNames

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- reading ---------------------------------------------------------------------------

    @staticmethod
    def can_see(ctx: Context, record: dict[str, Any]) -> bool:
        return record["is_public"] or ctx.is_admin or ctx.project_id in record.get("projects", [])

    def record(self, type_id: str) -> dict[str, Any] | None:
        return self.store.get(self.names.kind, type_id)

    def existing(self, type_id: str) -> dict[str, Any]:
        record = self.record(type_id)
        if record is None:
            raise self.names.not_found(type_id)
        return record

    def get(self, ctx: Context, type_id: str) -> dict[str, Any]:
        """By id; 404 if missing or private to others."""
        record = self.record(type_id)
        if record is None or not self.can_see(ctx, record):
            raise self.names.not_found(type_id)
        return record

    def find(self, ctx: Context, ref: str) -> dict[str, Any]:
        """By name or id, as a volume (or group) names its type."""
        record = self.store.first(self.names.kind, name=ref)
        if record is None or not self.can_see(ctx, record):
            record = self.record(ref)
            if record is None or not self.can_see(ctx, record):
                raise faults.NotFound(self.names.by_name.format(name=ref))
        return record

    def list(self, ctx: Context, is_public: bool | None = True) -> list[dict[str, Any]]:
        """Cinder's selection: ``True`` public ones (and private ones the project may use),
        ``False`` private ones, ``None`` all; non-admins always get ``True``."""
        records = self.store.find(self.names.kind)
        if not ctx.is_admin:
            is_public = True
        if is_public is None:
            return records
        if is_public:
            return [r for r in records if r["is_public"] or ctx.project_id in r.get("projects", [])]
        return [r for r in records if not r["is_public"]]

    # -- writing ---------------------------------------------------------------------------

    def _name(self, name: Any) -> str:
        if not isinstance(name, str) or not name.strip():
            raise common.invalid_input(self.names.empty)
        return common.check_name(name.strip(), "name") or ""

    def create(
        self, name: Any, *, description: Any = None, is_public: bool = True, specs: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        name = self._name(name)
        description = common.check_name(description, "description")
        checked = check_specs(specs or {}, self.names.specs)
        with self.store.transaction():
            if self.store.first(self.names.kind, name=name) is not None:
                raise faults.Conflict(self.names.exists.format(name=name))
            return self.store.put(
                self.names.kind,
                {
                    "id": common.new_id(),
                    "name": name,
                    "description": description,
                    "is_public": is_public,
                    self.names.specs: checked,
                    "projects": [],
                    **self._extra_fields(),
                    "created_at": common.now(),
                    "updated_at": None,
                },
            )

    def _extra_fields(self) -> dict[str, Any]:
        return {}

    def update(self, type_id: str, *, name: Any = None, description: Any = ..., is_public: bool | None = None):
        with self.store.transaction():
            record = self.existing(type_id)
            if name is not None:
                name = self._name(name)
                other = self.store.first(self.names.kind, name=name)
                if other is not None and other["id"] != type_id:
                    raise faults.Conflict(self.names.exists.format(name=name))
                self._check_rename(record, name)
                record["name"] = name
            if description is not ...:
                record["description"] = common.check_name(description, "description")
            if is_public is not None:
                record["is_public"] = is_public
            record["updated_at"] = common.now()
            return self.store.put(self.names.kind, record)

    def _check_rename(self, record: dict[str, Any], name: str) -> None:
        """A kind's own refusal of a rename."""

    # -- specs ----------------------------------------------------------------------------------

    def set_specs(self, type_id: str, specs: Any) -> dict[str, str]:
        checked = check_specs(specs, self.names.specs)
        with self.store.transaction():
            record = self.existing(type_id)
            self._check_specs_change(record)
            record[self.names.specs].update(checked)
            record["updated_at"] = common.now()
            self.store.put(self.names.kind, record)
        return checked

    def _check_specs_change(self, record: dict[str, Any]) -> None:
        """A kind's own refusal of a change of specs."""

    def spec(self, record: dict[str, Any], key: str) -> str:
        if key not in record[self.names.specs]:
            raise faults.NotFound(self.names.no_spec.format(id=record["id"], key=key))
        return record[self.names.specs][key]

    def delete_spec(self, type_id: str, key: str) -> None:
        with self.store.transaction():
            record = self.existing(type_id)
            self.spec(record, key)
            self._check_specs_change(record)
            del record[self.names.specs][key]
            record["updated_at"] = common.now()
            self.store.put(self.names.kind, record)


class VolumeTypes(SpecTypes):
    names = TypeNames(
        KIND,
        "extra_specs",
        not_found,
        "Volume type with name {name} could not be found.",
        "Volume Type {name} already exists.",
        "Volume Type {id} has no extra specs with key {key}.",
        "Volume type name can not be empty.",
    )

    def _extra_fields(self) -> dict[str, Any]:
        return {"qos_specs_id": None}

    # -- the default types ------------------------------------------------------------------

    def ensure_default(self) -> None:
        """Make ``__DEFAULT__`` on the first start (later starts keep what admins made of it)."""
        with self.store.transaction():
            if self.store.get(*_DEFAULT_MARK) is not None:
                return
            record = self.store.first(KIND, name=DEFAULT_NAME) or self.create(
                DEFAULT_NAME, description="Default Volume Type"
            )
            self.store.put(_DEFAULT_MARK[0], {"id": _DEFAULT_MARK[1], "type_id": record["id"]})

    def default_id(self) -> str | None:
        mark = self.store.get(*_DEFAULT_MARK)
        return mark["type_id"] if mark else None

    def default(self, project_id: str | None = None) -> dict[str, Any]:
        """The project's default type (3.62) if it has one, else the cloud's (``__DEFAULT__``)."""
        own = self.store.get(DEFAULT_KIND, project_id) if project_id else None
        type_id = own["volume_type_id"] if own else self.default_id()
        record = self.store.get(KIND, type_id) if type_id else None
        if record is None:
            raise faults.NotFound("Default volume type can not be found.")
        return record

    def project_default(self, project_id: str) -> dict[str, Any]:
        found = self.store.get(DEFAULT_KIND, project_id)
        if found is None:
            raise faults.NotFound(f"Default type for project {project_id} not found.")
        return found

    def project_defaults(self) -> list[dict[str, Any]]:
        return self.store.find(DEFAULT_KIND)

    def set_project_default(self, ctx: Context, project_id: str, ref: str) -> dict[str, Any]:
        """``PUT /default-types/{project}``: the type (by name or id) new volumes there get."""
        with self.store.transaction():
            try:
                record = self.find(ctx, ref)
            except faults.NotFound as exc:
                raise faults.BadRequest(exc.message) from None
            return self.store.put(
                DEFAULT_KIND, {"id": project_id, "project_id": project_id, "volume_type_id": record["id"]}
            )

    def unset_project_default(self, project_id: str) -> None:
        self.store.delete(DEFAULT_KIND, project_id)

    # -- reading ---------------------------------------------------------------------------

    def get(self, ctx: Context, type_id: str) -> dict[str, Any]:
        """By id (``default`` is the caller's default type); 404 if missing or private to others."""
        if type_id == "default":
            return self.default(ctx.project_id)
        return super().get(ctx, type_id)

    @staticmethod
    def visible_specs(ctx: Context, record: dict[str, Any]) -> dict[str, str]:
        if ctx.is_admin:
            return dict(record["extra_specs"])
        return {k: v for k, v in record["extra_specs"].items() if k in USER_VISIBLE_SPECS}

    # -- writing ---------------------------------------------------------------------------

    def _check_rename(self, record: dict[str, Any], name: str) -> None:
        if record["id"] == self.default_id() and name != record["name"]:
            raise common.invalid_type("The default volume type cannot be renamed.")

    def delete(self, type_id: str, volumes_of_type: int) -> None:
        """Remove a type no volume uses and no project has as its default."""
        with self.store.transaction():
            self.existing(type_id)
            if type_id == self.default_id():
                raise common.invalid_type("Default volume type can not be deleted.")
            if self.store.count(DEFAULT_KIND, volume_type_id=type_id):
                raise faults.BadRequest(f"The volume type {type_id} is a default volume type and cannot be deleted.")
            if volumes_of_type:
                raise faults.BadRequest(
                    f"Volume Type {type_id} deletion is not allowed with volumes present with the type."
                )
            self.store.delete(ENCRYPTION_KIND, type_id)
            self.store.delete(KIND, type_id)

    # -- access to private types -------------------------------------------------------------------

    def access(self, type_id: str) -> list[dict[str, str]]:
        record = self.existing(type_id)
        if record["is_public"]:
            raise faults.NotFound("Access list not available for public volume types.")
        return [{"volume_type_id": record["id"], "project_id": p} for p in record["projects"]]

    def _private(self, type_id: str) -> dict[str, Any]:
        record = self.existing(type_id)
        if record["is_public"]:
            raise faults.BadRequest(
                "Invalid volume type: Type access modification is not applicable to public volume type."
            )
        return record

    def add_access(self, type_id: str, project_id: str) -> None:
        with self.store.transaction():
            record = self._private(type_id)
            if project_id in record["projects"]:
                raise faults.Conflict(f"Volume type access for {type_id} / {project_id} combination already exists.")
            record["projects"].append(project_id)
            self.store.put(KIND, record)

    def remove_access(self, type_id: str, project_id: str) -> None:
        with self.store.transaction():
            record = self._private(type_id)
            if project_id not in record["projects"]:
                raise faults.NotFound(f"Volume type access not found for {type_id} / {project_id} combination.")
            record["projects"].remove(project_id)
            self.store.put(KIND, record)

    # -- encryption --------------------------------------------------------------------------------

    def encryption_of(self, type_id: str) -> dict[str, Any] | None:
        return self.store.get(ENCRYPTION_KIND, type_id)

    def set_encryption(
        self, type_id: str, spec: dict[str, Any], volumes_of_type: int, *, create: bool
    ) -> dict[str, Any]:
        """Create (``create``) or change a type's encryption spec; refused while volumes use the type."""
        with self.store.transaction():
            self.existing(type_id)
            current = self.encryption_of(type_id)
            if create and current is not None:
                raise faults.BadRequest(f"Volume type encryption for type {type_id} already exists.")
            if not create and current is None:
                raise faults.NotFound(f"Volume type encryption for type {type_id} does not exist.")
            if volumes_of_type:
                verb = "create encryption specs" if create else "update encryption specs"
                raise faults.BadRequest(f"Cannot {verb}. Volume type in use.")
            record = current or {
                "id": type_id,
                "volume_type_id": type_id,
                "encryption_id": common.new_id(),
                "provider": None,
                "cipher": None,
                "key_size": None,
                "control_location": "front-end",
                "created_at": common.now(),
                "updated_at": None,
                "deleted": False,
                "deleted_at": None,
            }
            record.update(spec)
            if not create:
                record["updated_at"] = common.now()
            if record["control_location"] not in CONTROL_LOCATIONS:
                raise common.invalid_field(
                    "control_location", record["control_location"], "Valid control location are: front-end, back-end"
                )
            if not record.get("provider"):
                raise common.invalid_field("provider", record.get("provider"), "'provider' is a required property")
            return self.store.put(ENCRYPTION_KIND, record)

    def delete_encryption(self, type_id: str, volumes_of_type: int) -> None:
        with self.store.transaction():
            self.existing(type_id)
            if self.encryption_of(type_id) is None:
                raise faults.NotFound(f"Volume type encryption for type {type_id} does not exist.")
            if volumes_of_type:
                raise faults.BadRequest("Cannot delete encryption specs. Volume type in use.")
            self.store.delete(ENCRYPTION_KIND, type_id)
