"""Group types (3.11): like volume types, for groups; admins manage them and their ``group_specs``.

Cinder's database makes ``default_cgsnapshot_type`` (the type consistency
groups were migrated to), and so does the first start here; it cannot be used
for new groups. There is no default group type (``default_group_type`` is not
set), so ``/group_types/default`` is a 404 as in a default Cinder.
"""

from __future__ import annotations

from typing import Any

from stacksim import faults
from stacksim.services.volume.types import SpecTypes, TypeNames

KIND = "volume_group_type"
CGSNAPSHOT_TYPE = "default_cgsnapshot_type"


def not_found(type_id: str) -> faults.NotFound:
    return faults.NotFound(f"Group type {type_id} could not be found.")


class GroupTypes(SpecTypes):
    names = TypeNames(
        KIND,
        "group_specs",
        not_found,
        "Group type with name {name} could not be found.",
        "Group Type {name} already exists.",
        "Group Type {id} has no specs with key {key}.",
        "Group type name can not be empty.",
    )

    def ensure_default(self) -> None:
        """``default_cgsnapshot_type``, as Cinder's database migration makes it."""
        with self.store.transaction():
            if self.store.first(KIND, name=CGSNAPSHOT_TYPE) is None:
                self.create(
                    CGSNAPSHOT_TYPE,
                    description="Default group type for migrating cgsnapshot",
                    specs={"consistent_group_snapshot_enabled": "<is> True"},
                )

    def default(self) -> dict[str, Any]:
        raise faults.NotFound("Default group type can not be found.")

    def for_new_group(self, ctx: Any, ref: str) -> dict[str, Any]:
        """The group type a new group names (by name or id); the migration type is refused."""
        record = self.find(ctx, ref)
        if record["name"] == CGSNAPSHOT_TYPE:
            raise faults.BadRequest(
                f"Group_type {record['id']} is reserved for migrating CGs to groups. Migrated group can only "
                "be operated by CG APIs."
            )
        return record

    def delete(self, type_id: str, groups_of_type: int) -> None:
        with self.store.transaction():
            self.existing(type_id)
            if groups_of_type:
                raise faults.BadRequest(
                    f"Group Type {type_id} deletion is not allowed with groups present with the type."
                )
            self.store.delete(KIND, type_id)
