"""QoS specs: named sets of keys with a consumer (``front-end``, ``back-end``, ``both``), associated
with volume types; a hypervisor applies the front-end ones (they travel in the connection info)."""

from __future__ import annotations

from typing import Any

from stacksim import faults
from stacksim.services.volume import common
from stacksim.services.volume.types import KIND, check_specs, not_found
from stacksim.store import Store

QOS_KIND = "volume_qos_specs"
QOS_CONSUMERS = ("front-end", "back-end", "both")


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
        name = common.check_name(name.strip(), "name") or ""
        specs = dict(specs)
        consumer = specs.pop("consumer", "back-end")
        self._check_consumer(consumer)
        checked = check_specs(specs, "qos_specs")
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
            checked = check_specs(specs, "qos_specs")
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
