"""Credentials (``/v3/credentials``) and the EC2 view of them (``/v3/users/{id}/credentials/OS-EC2``).

A credential is an opaque ``blob`` a user keeps in Keystone, of a ``type``
(``ec2``, ``totp``, ``cert`` ...). An EC2 credential's blob is a JSON object
with its ``access`` key (whose SHA-256 is the credential's id) and ``secret``.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from stacksim import faults
from stacksim.services.identity.common import Part, Record, conflict, new_id
from stacksim.services.identity.specs import CredentialSpec
from stacksim.store import atomic

EC2 = "ec2"
#: what an EC2 blob binds the credential to; it may not change afterwards
_EC2_BOUND = ("trust_id", "app_cred_id", "access_token_id", "access_id")


def ec2_id(access: str) -> str:
    return hashlib.sha256(access.encode()).hexdigest()


def ec2_blob(blob: str) -> dict[str, Any]:
    """An EC2 credential's blob as a dict; 400 unless it is a JSON object with an ``access`` key."""
    try:
        data = json.loads(blob)
    except ValueError:
        raise faults.BadRequest("Invalid blob in credential") from None
    if not data or not isinstance(data, dict):
        raise faults.BadRequest("Expecting to find blob in credential.")
    if data.get("access") is None:
        raise faults.BadRequest("Expecting to find access in credential.")
    return data


class Credentials(Part):
    kind = "credential"
    label = "credential"

    @atomic
    def create(self, spec: CredentialSpec, app_cred_id: str | None = None) -> Record:
        self.identity.users.get(spec.user_id)
        if spec.project_id is not None:
            self.identity.projects.get(spec.project_id)
        blob, id = spec.blob, spec.id or new_id()
        if spec.type.lower() == EC2:
            if not spec.project_id:
                raise faults.BadRequest("Invalid input for field 'credential/project_id': an ec2 credential needs it.")
            data = ec2_blob(blob)
            if app_cred_id is not None:
                data["app_cred_id"] = app_cred_id
                blob = json.dumps(data)
            id = ec2_id(data["access"])
        if self.store.get(self.kind, id) is not None:
            raise conflict("credential", f"Duplicate ID, {id}")
        return self.put_new(spec, id=id, blob=blob)

    @atomic
    def update(self, id: str, changes: dict[str, Any]) -> Record:
        record = self.get(id)
        merged = {**record, **changes}
        if merged["type"].lower() == EC2:
            old = ec2_blob(record["blob"]) if record["type"].lower() == EC2 else {}
            new = ec2_blob(merged["blob"])
            for key in _EC2_BOUND:
                if old.get(key) != new.get(key):
                    raise faults.BadRequest(f"{key} can not be updated for credential")
            if not merged.get("project_id"):
                raise faults.BadRequest("Invalid input for field 'credential/project_id': an ec2 credential needs it.")
        if changes.get("user_id"):
            self.identity.users.get(changes["user_id"])
        if changes.get("project_id"):
            self.identity.projects.get(changes["project_id"])
        return self.changed(id, changes)

    @atomic
    def delete(self, id: str) -> None:
        self.get(id)
        self.store.delete(self.kind, id)

    def forget(self, user_id: str | None = None, project_id: str | None = None) -> None:
        self.store.delete_where(self.kind, **({"user_id": user_id} if user_id else {"project_id": project_id}))

    # -- EC2 ------------------------------------------------------------------------------------

    def create_ec2(self, user_id: str, project_id: str, app_cred_id: str | None = None) -> Record:
        """A new EC2 key pair of ``user_id`` for ``project_id`` (both must exist)."""
        try:
            self.identity.projects.get(project_id)
        except faults.NotFound as exc:
            raise faults.BadRequest(exc.message) from None
        blob = {"access": uuid.uuid4().hex, "secret": uuid.uuid4().hex, "trust_id": None}
        spec = CredentialSpec(user_id=user_id, type=EC2, blob=json.dumps(blob), project_id=project_id)
        return self.create(spec, app_cred_id=app_cred_id)

    def ec2(self, user_id: str, access: str) -> Record:
        """The EC2 credential whose access key is ``access`` (401 if there is none, as Keystone)."""
        self.identity.users.get(user_id)
        record = self.store.get(self.kind, ec2_id(access))
        if record is None or record["type"].lower() != EC2 or record["user_id"] != user_id:
            raise faults.Unauthorized("EC2 access key not found.")
        return record

    def ec2_of_user(self, user_id: str) -> list[Record]:
        self.identity.users.get(user_id)
        return [c for c in self.find(user_id=user_id) if c["type"].lower() == EC2]

    def delete_ec2(self, user_id: str, access: str) -> None:
        self.store.delete(self.kind, self.ec2(user_id, access)["id"])
