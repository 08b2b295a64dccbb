"""Volume transfers: a volume offered by one project and accepted, with its key, by another.

Creating a transfer of an ``available`` volume makes it ``awaiting-transfer``
and answers the ``auth_key`` once (only a salted hash is kept). Whoever
accepts with the transfer's id and key takes the volume (and its snapshots,
unless ``no_snapshots``) into their project, within its quotas; the transfer
is gone then, and so it is when the giver deletes it (the volume is
``available`` again). Policy: the giver's members create, see and delete; any
member may accept.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stacksim import faults
from stacksim.auth import Context
from stacksim.services.volume import common

if TYPE_CHECKING:
    from stacksim.services.volume.model import BlockStorage

KIND = "volume_transfer"
#: Cinder's ``volume_transfer_key_length``
KEY_LENGTH = 16
_KEY_CHARS = string.ascii_letters + string.digits


def not_found(transfer_id: str) -> faults.NotFound:
    return faults.NotFound(f"Transfer {transfer_id} could not be found.")


def _hash(salt: str, key: str) -> str:
    return hashlib.sha256(f"{salt}{key}".encode()).hexdigest()


@dataclass(frozen=True)
class NewTransfer:
    volume_id: str
    name: str | None = None
    no_snapshots: bool = False
    allow_encrypted: bool = False  #: 3.70: encrypted volumes may be transferred


class Transfers(common.Records):
    def __init__(self, bs: BlockStorage) -> None:
        super().__init__(bs, KIND, not_found)

    def create(self, ctx: Context, request: NewTransfer) -> tuple[dict[str, Any], str]:
        """Offer the volume: the transfer and its auth key (shown this once)."""
        common.require_member(ctx, "volume:create_transfer")
        volume_id = common.check_id(request.volume_id, "volume_id")
        name = common.check_name(request.name.strip() if isinstance(request.name, str) else request.name, "name")
        with self.store.transaction():
            volume = self.bs.volumes.get(ctx, volume_id)
            if volume["status"] != "available":
                raise common.invalid_volume("status must be available")
            if volume.get("encrypted") and not request.allow_encrypted:
                raise common.invalid_volume("transferring encrypted volume is not supported")
            if not request.no_snapshots:
                for snap in self.bs.snapshots.of_volume(volume_id):
                    if snap["status"] != "available":
                        raise common.invalid_snapshot(f"snapshot: {snap['id']} status must be available")
            key = "".join(secrets.choice(_KEY_CHARS) for _ in range(KEY_LENGTH))
            salt = secrets.token_hex(8)
            record = self.store.put(
                KIND,
                {
                    "id": common.new_id(),
                    "project_id": volume["project_id"],
                    "volume_id": volume_id,
                    "name": name,
                    "salt": salt,
                    "crypt_hash": _hash(salt, key),
                    "no_snapshots": bool(request.no_snapshots),
                    "source_project_id": volume["project_id"],
                    "destination_project_id": None,
                    "accepted": False,
                    "expires_at": None,
                    "created_at": common.now(),
                    "updated_at": None,
                },
            )
            self.bs.volumes.set_status(volume_id, "awaiting-transfer")
        return record, key

    def accept(self, ctx: Context, transfer_id: str, auth_key: Any) -> dict[str, Any]:
        """Take the volume into the caller's project: the transfer as it was accepted."""
        common.require_member(ctx, "volume:accept_transfer")
        if not isinstance(auth_key, str) or not auth_key:
            raise common.invalid_field("auth_key", auth_key, "Expected a non-empty string.")
        with self.store.transaction():
            record = self.record(transfer_id)
            if record is None:
                raise not_found(transfer_id)
            if not hmac.compare_digest(_hash(record["salt"], auth_key), record["crypt_hash"]):
                raise faults.BadRequest(f"Invalid auth key: Attempt to transfer {transfer_id} with invalid auth key.")
            volume = self.bs.volumes.record(record["volume_id"])
            if volume is None or volume["status"] != "awaiting-transfer":
                raise common.invalid_volume("status must be awaiting-transfer")
            project = ctx.project_id or ""
            snapshots = [] if record["no_snapshots"] else self.bs.snapshots.of_volume(volume["id"])
            self.bs.quotas.check(
                project,
                volumes=1,
                gigabytes=volume["size"] + sum(s["size"] for s in snapshots),
                snapshots=len(snapshots),
                volume_size=volume["size"],
            )
            self.bs.volumes.give(volume["id"], project, ctx.user_id)
            for snap in snapshots:
                self.bs.snapshots.set_status(snap["id"], snap["status"], project_id=project, user_id=ctx.user_id)
            self.store.delete(KIND, transfer_id)
            record.update(accepted=True, destination_project_id=project)
            return record

    def delete(self, ctx: Context, transfer_id: str) -> None:
        """Withdraw the offer: the volume is ``available`` again."""
        common.require_member(ctx, "volume:delete_transfer")
        with self.store.transaction():
            record = self.get(ctx, transfer_id)
            self.store.delete(KIND, transfer_id)
            self.bs.volumes.restore_status(record["volume_id"], "awaiting-transfer")

    def drop_volume(self, volume_id: str) -> None:
        """Forget the transfers of a volume that is gone."""
        self.store.delete_where(KIND, volume_id=volume_id)
