"""Volume types (extra specs, project access, the default type) and QoS specs.

A volume type record keeps Cinder's API names, its ``extra_specs``, the
``projects`` given access to it when it is private, and the ``qos_specs_id``
it is associated with. ``__DEFAULT__`` is made on the first start, as Cinder
makes it, and is what a volume created without a type gets.

Extra specs the simulator acts on: ``volume_backend_name`` (must name the
backend, ``lvm``), ``pool_name`` (pins the pool), ``multiattach`` (``<is>
True`` lets a volume attach to several servers). Others are kept and shown.
"""

from __future__ import annotations

from typing import Any

from stacksim import faults
from stacksim.auth import Context
from stacksim.services.volume import common
from stacksim.store import Store

KIND = "volume_type"
QOS_KIND = "volume_qos_specs"
DEFAULT_NAME = "__DEFAULT__"
_DEFAULT_MARK = ("bootstrap", "volume_default_type")
#: The extra specs a non-admin may see (Cinder's user-visible ones).
USER_VISIBLE_SPECS = ("multiattach", "RESKEY:availability_zones", "replication_enabled")
QOS_CONSUMERS = ("front-end", "back-end", "both")
MULTIATTACH_TRUE = "<is> True"


def not_found(type_id: str) -> faults.NotFound:
    return faults.NotFound(f"Volume type {type_id} could not be found.")


def is_multiattach(record: dict[str, Any] | None) -> bool:
    return bool(record) and record["extra_specs"].get("multiattach") == MULTIATTACH_TRUE


def _check_specs(specs: Any, field: str = "extra_specs") -> dict[str, str]:
    if not isinstance(specs, dict):
        raise faults.BadRequest(f"Invalid input for field/attribute {field}. Value: {specs}. Expected a dict.")
    out = {}
    for key, value in specs.items():
        if not isinstance(key, str) or not 1 <= len(key) <= 255:
            raise faults.BadRequest(f"Invalid input for field/attribute {field}. Key '{key}' is not valid.")
        if isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str | int | float):
            raise faults.BadRequest(f"Invalid input for field/attribute {field}. Value: {value!r}. Expected a string.")
        value = str(value)
        if len(value) > 255:
            raise faults.BadRequest(
                f"Invalid input for field/attribute {field}. Value: {value}. Is longer than 255 characters."
            )
        out[key] = value
    return out


class VolumeTypes:
    def __init__(self, store: Store) -> None:
        self.store = store

    # -- the default type -----------------------------------------------------------------

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

    def default(self) -> dict[str, Any]:
        type_id = self.default_id()
        record = self.store.get(KIND, type_id) if type_id else None
        if record is None:
            raise faults.NotFound("Default volume type can not be found.")
        return record

    # -- reading ---------------------------------------------------------------------------

    @staticmethod
    def can_see(ctx: Context, record: dict[str, Any]) -> bool:
        return record["is_public"] or ctx.is_admin or ctx.project_id in record["projects"]

    def record(self, type_id: str) -> dict[str, Any] | None:
        return self.store.get(KIND, type_id)

    def get(self, ctx: Context, type_id: str) -> dict[str, Any]:
        """By id (``default`` is the default type); 404 if missing or private to others."""
        if type_id == "default":
            return self.default()
        record = self.store.get(KIND, type_id)
        if record is None or not self.can_see(ctx, record):
            raise not_found(type_id)
        return record

    def find(self, ctx: Context, ref: str) -> dict[str, Any]:
        """By name or id, as a volume create or retype names a type."""
        record = self.store.first(KIND, name=ref)
        if record is None or not self.can_see(ctx, record):
            record = self.store.get(KIND, ref)
            if record is None or not self.can_see(ctx, record):
                raise faults.NotFound(f"Volume type with name {ref} could not be found.")
        return record

    def list(self, ctx: Context, is_public: bool | None = True) -> list[dict[str, Any]]:
        """Cinder's selection: ``True`` public ones (and private ones the project may use),
        ``False`` private ones, ``None`` all; non-admins always get ``True``."""
        records = self.store.find(KIND)
        if not ctx.is_admin:
            is_public = True
        if is_public is None:
            return records
        if is_public:
            return [r for r in records if r["is_public"] or ctx.project_id in r["projects"]]
        return [r for r in records if not r["is_public"]]

    @staticmethod
    def visible_specs(ctx: Context, record: dict[str, Any]) -> dict[str, str]:
        if ctx.is_admin:
            return dict(record["extra_specs"])
        return {k: v for k, v in record["extra_specs"].items() if k in USER_VISIBLE_SPECS}

    # -- writing ---------------------------------------------------------------------------

    def create(
        self,
        name: str,
        *,
        description: str | None = None,
        is_public: bool = True,
        extra_specs: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        name = (name or "").strip()
        if not name:
            raise common.invalid_input("Volume type name can not be empty.")
        specs = _check_specs(extra_specs or {})
        with self.store.transaction():
            if self.store.first(KIND, name=name) is not None:
                raise faults.Conflict(f"Volume Type {name} already exists.")
            return self.store.put(
                KIND,
                {
                    "id": common.new_id(),
                    "name": name,
                    "description": description,
                    "is_public": is_public,
                    "extra_specs": specs,
                    "projects": [],
                    "qos_specs_id": None,
                    "created_at": common.now(),
                    "updated_at": None,
                },
            )

    def existing(self, type_id: str) -> dict[str, Any]:
        record = self.store.get(KIND, type_id)
        if record is None:
            raise not_found(type_id)
        return record

    def update(
        self, type_id: str, *, name: str | None = None, description: Any = ..., is_public: bool | None = None
    ) -> dict[str, Any]:
        with self.store.transaction():
            record = self.existing(type_id)
            if name is not None:
                name = name.strip()
                if not name:
                    raise common.invalid_input("Volume type name can not be empty.")
                other = self.store.first(KIND, name=name)
                if other is not None and other["id"] != type_id:
                    raise faults.Conflict(f"Volume Type {name} already exists.")
                if type_id == self.default_id() and name != record["name"]:
                    raise common.invalid_type("The default volume type cannot be renamed.")
                record["name"] = name
            if description is not ...:
                record["description"] = description
            if is_public is not None:
                record["is_public"] = is_public
            record["updated_at"] = common.now()
            return self.store.put(KIND, record)

    def delete(self, type_id: str) -> None:
        with self.store.transaction():
            self.existing(type_id)
            if type_id == self.default_id():
                raise common.invalid_type("Default volume type can not be deleted.")
            if self.store.count("volume", volume_type_id=type_id):
                raise faults.BadRequest(
                    f"Volume Type {type_id} deletion is not allowed with volumes present with the type."
                )
            self.store.delete(KIND, type_id)

    # -- extra specs ----------------------------------------------------------------------------

    def set_extra_specs(self, type_id: str, specs: Any) -> dict[str, str]:
        checked = _check_specs(specs)
        with self.store.transaction():
            record = self.existing(type_id)
            record["extra_specs"].update(checked)
            record["updated_at"] = common.now()
            self.store.put(KIND, record)
        return checked

    @staticmethod
    def extra_spec(record: dict[str, Any], key: str) -> str:
        if key not in record["extra_specs"]:
            raise faults.NotFound(f"Volume Type {record['id']} has no extra specs with key {key}.")
        return record["extra_specs"][key]

    def delete_extra_spec(self, type_id: str, key: str) -> None:
        with self.store.transaction():
            record = self.existing(type_id)
            self.extra_spec(record, key)
            del record["extra_specs"][key]
            record["updated_at"] = common.now()
            self.store.put(KIND, record)

    # -- access to private types -------------------------------------------------------------------

    def access(self, type_id: str) -> list[dict[str, str]]:
        record = self.existing(type_id)
        if record["is_public"]:
            raise faults.NotFound("Access list not available for public volume types.")
        return [{"volume_type_id": record["id"], "project_id": p} for p in record["projects"]]

    def add_access(self, type_id: str, project_id: str) -> None:
        with self.store.transaction():
            record = self.existing(type_id)
            if record["is_public"]:
                raise faults.BadRequest(
                    "Invalid volume type: Type access modification is not applicable to public volume type."
                )
            if project_id in record["projects"]:
                raise faults.Conflict(f"Volume type access for {type_id} / {project_id} combination already exists.")
            record["projects"].append(project_id)
            self.store.put(KIND, record)

    def remove_access(self, type_id: str, project_id: str) -> None:
        with self.store.transaction():
            record = self.existing(type_id)
            if record["is_public"]:
                raise faults.BadRequest(
                    "Invalid volume type: Type access modification is not applicable to public volume type."
                )
            if project_id not in record["projects"]:
                raise faults.NotFound(f"Volume type access not found for {type_id} / {project_id} combination.")
            record["projects"].remove(project_id)
            self.store.put(KIND, record)


class QosSpecs:
    """QoS specs: named sets of keys with a consumer, associated with volume types."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, qos_id: str) -> dict[str, Any]:
        record = self.store.get(QOS_KIND, qos_id)
        if record is None:
            raise faults.NotFound(f"No such QoS spec {qos_id}.")
        return record

    def list(self) -> list[dict[str, Any]]:
        return self.store.find(QOS_KIND)

    def create(self, name: Any, specs: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(name, str) or not name.strip():
            raise faults.BadRequest("Please specify a name for QoS specs.")
        name = name.strip()
        specs = dict(specs)
        consumer = specs.pop("consumer", "back-end")
        self._check_consumer(consumer)
        checked = _check_specs(specs, "qos_specs")
        with self.store.transaction():
            if self.store.first(QOS_KIND, name=name) is not None:
                raise faults.Conflict(f"QoS Specs {name} already exists.")
            return self.store.put(
                QOS_KIND,
                {
                    "id": common.new_id(),
                    "name": name,
                    "consumer": consumer,
                    "specs": checked,
                    "created_at": common.now(),
                },
            )

    @staticmethod
    def _check_consumer(consumer: Any) -> None:
        if consumer not in QOS_CONSUMERS:
            raise faults.BadRequest(f"Invalid qos specs: Valid consumer of QoS specs are: {list(QOS_CONSUMERS)}")

    def set_keys(self, qos_id: str, specs: Any) -> dict[str, str]:
        if not isinstance(specs, dict) or not specs:
            raise faults.BadRequest("Missing required element 'qos_specs' in request body.")
        specs = dict(specs)
        with self.store.transaction():
            record = self.get(qos_id)
            if "consumer" in specs:
                self._check_consumer(specs["consumer"])
                record["consumer"] = specs.pop("consumer")
            checked = _check_specs(specs, "qos_specs")
            record["specs"].update(checked)
            self.store.put(QOS_KIND, record)
        return {**checked, **({"consumer": record["consumer"]} if "consumer" in specs else {})}

    def delete_keys(self, qos_id: str, keys: Any) -> None:
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise faults.BadRequest("Missing required element 'keys' in request body.")
        with self.store.transaction():
            record = self.get(qos_id)
            for key in keys:
                if key not in record["specs"]:
                    raise faults.NotFound(f"QoS spec {qos_id} has no spec with key {key}.")
                del record["specs"][key]
            self.store.put(QOS_KIND, record)

    def associations(self, qos_id: str) -> list[dict[str, Any]]:
        self.get(qos_id)
        return [
            {"association_type": "volume_type", "name": t["name"], "id": t["id"]}
            for t in self.store.find(KIND, qos_specs_id=qos_id)
        ]

    def associate(self, qos_id: str, type_id: str) -> None:
        with self.store.transaction():
            self.get(qos_id)
            record = self.store.get(KIND, type_id)
            if record is None:
                raise not_found(type_id)
            current = record.get("qos_specs_id")
            if current and current != qos_id:
                raise common.invalid_type(f"Type {type_id} is already associated with another qos specs: {current}")
            record["qos_specs_id"] = qos_id
            self.store.put(KIND, record)

    def disassociate(self, qos_id: str, type_id: str) -> None:
        with self.store.transaction():
            self.get(qos_id)
            record = self.store.get(KIND, type_id)
            if record is None:
                raise not_found(type_id)
            if record.get("qos_specs_id") == qos_id:
                record["qos_specs_id"] = None
                self.store.put(KIND, record)

    def disassociate_all(self, qos_id: str) -> None:
        with self.store.transaction():
            self.get(qos_id)
            for record in self.store.find(KIND, qos_specs_id=qos_id):
                record["qos_specs_id"] = None
                self.store.put(KIND, record)

    def delete(self, qos_id: str, force: bool = False) -> None:
        with self.store.transaction():
            self.get(qos_id)
            associated = self.store.find(KIND, qos_specs_id=qos_id)
            if associated and not force:
                raise faults.BadRequest(f"QoS Specs {qos_id} is still associated with entities.")
            for record in associated:
                record["qos_specs_id"] = None
                self.store.put(KIND, record)
            self.store.delete(QOS_KIND, qos_id)

    def front_end(self, type_record: dict[str, Any] | None) -> dict[str, str] | None:
        """The specs a hypervisor applies for a type (front-end or both), as connection info carries."""
        if not type_record or not type_record.get("qos_specs_id"):
            return None
        record = self.store.get(QOS_KIND, type_record["qos_specs_id"])
        if record is None or record["consumer"] not in ("front-end", "both"):
            return None
        return dict(record["specs"])
