"""Records as Cinder's API shows them, per microversion and role.

Every view takes a :class:`Viewer` (the caller, the microversion, the base
URL and the model, for what a view looks up: a volume's type, its
attachments). Admin-only attributes appear where Cinder's policy shows them:
a volume's host and migration status and an attachment's host to admins,
``os-vol-tenant-attr:tenant_id`` in show and detail views only (not in what a
create or an update answers), a type's ``qos_specs_id`` to admins and its
``os-volume-type-access:is_public`` to members and admins.
"""

from __future__ import annotations

import urllib.parse
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stacksim.auth import Context
from stacksim.microversion import Version
from stacksim.services.volume.pools import BACKEND_HOST

if TYPE_CHECKING:
    from stacksim.services.volume.model import BlockStorage

#: The one volume service's uuid (``service_uuid``, 3.48).
SERVICE_UUID = str(uuid.uuid5(uuid.NAMESPACE_URL, f"stacksim:cinder-volume:{BACKEND_HOST}"))
MAX_VERSION = "3.70"


@dataclass(frozen=True)
class Viewer:
    """Who looks, at which microversion, and where links point."""

    bs: BlockStorage
    ctx: Context
    version: Version
    root_url: str  #: ``<base>/volume``

    @classmethod
    def latest(cls, bs: BlockStorage, ctx: Context) -> Viewer:
        return cls(bs, ctx, Version.parse(MAX_VERSION), f"{bs.cloud.settings.base_url}/volume")

    def since(self, version: str) -> bool:
        return self.version.at_least(version)

    @property
    def admin(self) -> bool:
        return self.ctx.is_admin

    @property
    def member(self) -> bool:
        return self.ctx.is_admin or "member" in self.ctx.roles

    def links(self, collection: str, item_id: str) -> list[dict[str, str]]:
        """``self`` (versioned) and ``bookmark`` (unversioned) links, with the caller's project id."""
        project = self.ctx.project_id or ""
        quoted = urllib.parse.quote(item_id, safe="")
        return [
            {"href": f"{self.root_url}/v3/{project}/{collection}/{quoted}", "rel": "self"},
            {"href": f"{self.root_url}/{project}/{collection}/{quoted}", "rel": "bookmark"},
        ]


# -- volumes ---------------------------------------------------------------------------------------------


def volume_attachments(viewer: Viewer, volume: dict[str, Any]) -> list[dict[str, Any]]:
    """A volume's completed attachments; the host only to admins (Cinder shows it to the service role)."""
    return [
        {
            "server_id": a["instance_uuid"],
            "attachment_id": a["id"],
            "attached_at": a["attach_time"],
            "host_name": a["attached_host"] if viewer.admin else None,
            "volume_id": volume["id"],
            "device": a["mountpoint"],
            "id": volume["id"],
        }
        for a in viewer.bs.attachments.attached(volume["id"])
    ]


def volume(viewer: Viewer, record: dict[str, Any], detail: bool = True, shown: bool = True) -> dict[str, Any]:
    """A volume; ``shown``: for a show or a detailed list (where the extensions add their attributes),
    not for what a create or an update answers."""
    if not detail:
        return {"id": record["id"], "name": record["name"], "links": viewer.links("volumes", record["id"])}
    type_record = viewer.bs.types.record(record["volume_type_id"] or "")
    body: dict[str, Any] = {
        "id": record["id"],
        "name": record["name"],
        "description": record["description"],
        "status": record["status"],
        "size": record["size"],
        "availability_zone": record["availability_zone"],
        "created_at": record["created_at"],
        "updated_at": record["updated_at"],
        "attachments": volume_attachments(viewer, record),
        "volume_type": type_record["name"] if type_record else None,
        "snapshot_id": record["snapshot_id"],
        "source_volid": record["source_volid"],
        "metadata": dict(record["metadata"]),
        "links": viewer.links("volumes", record["id"]),
        "user_id": record["user_id"],
        "bootable": "true" if record["bootable"] else "false",
        "encrypted": bool(record.get("encrypted")),
        "replication_status": record["replication_status"],
        "consistencygroup_id": None,
        "multiattach": record["multiattach"],
    }
    if record.get("image_metadata"):
        body["volume_image_metadata"] = dict(record["image_metadata"])
    if viewer.admin:
        body["migration_status"] = record["migration_status"]
    if shown:
        body["os-vol-tenant-attr:tenant_id"] = record["project_id"]
        if viewer.admin:
            body["os-vol-host-attr:host"] = record["host"]
            body["os-vol-mig-status-attr:migstat"] = record["migration_status"]
            body["os-vol-mig-status-attr:name_id"] = None
    if viewer.since("3.13"):
        body["group_id"] = record.get("group_id")
    if viewer.since("3.21") and viewer.admin:
        body["provider_id"] = None
    if viewer.since("3.48"):
        body["service_uuid"] = SERVICE_UUID if record["host"] else None
        body["shared_targets"] = False
    if viewer.since("3.61") and viewer.admin:
        body["cluster_name"] = None
    if viewer.since("3.63"):
        body["volume_type_id"] = record["volume_type_id"]
    if viewer.since("3.64") and record.get("encryption_key_id"):
        body["encryption_key_id"] = record["encryption_key_id"]
    if viewer.since("3.65"):
        body["consumes_quota"] = record.get("consumes_quota", True)
    return body


def volume_summary(records: list[dict[str, Any]], with_metadata: bool) -> dict[str, Any]:
    """``/volumes/summary`` (3.12; distinct metadata values from 3.36)."""
    summary: dict[str, Any] = {"total_size": sum(r["size"] for r in records), "total_count": len(records)}
    if with_metadata:
        meta: dict[str, list[str]] = {}
        for record in records:
            for key, value in record["metadata"].items():
                if value not in meta.setdefault(key, []):
                    meta[key].append(value)
        summary["metadata"] = meta
    return summary


def type_brief(record: dict[str, Any] | None) -> dict[str, Any] | None:
    """The volume type as an image upload's answer carries it."""
    if record is None:
        return None
    return {
        "id": record["id"],
        "name": record["name"],
        "description": record["description"],
        "is_public": record["is_public"],
        "extra_specs": {},
        "qos_specs_id": record.get("qos_specs_id"),
        "deleted": False,
        "created_at": record["created_at"],
        "updated_at": record["updated_at"],
        "deleted_at": None,
    }


def image_upload(viewer: Viewer, record: dict[str, Any], image: dict[str, Any]) -> dict[str, Any]:
    """``os-volume_upload_image``'s answer: the volume and the image it becomes."""
    return {
        "id": record["id"],
        "updated_at": record["updated_at"],
        "status": "uploading",
        "display_description": record["description"],
        "size": record["size"],
        "volume_type": type_brief(viewer.bs.types.record(record["volume_type_id"] or "")),
        "image_id": image["id"],
        "container_format": image["container_format"],
        "disk_format": image["disk_format"],
        "image_name": image["name"],
        "protected": image["protected"],
        "visibility": image["visibility"],
    }


# -- snapshots, backups ----------------------------------------------------------------------------------


def snapshot(viewer: Viewer, record: dict[str, Any], detail: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": record["id"],
        "created_at": record["created_at"],
        "updated_at": record["updated_at"],
        "name": record["name"],
        "description": record["description"],
        "volume_id": record["volume_id"],
        "status": record["status"],
        "size": record["size"],
        "metadata": dict(record["metadata"]),
    }
    if not detail:
        return body
    body["os-extended-snapshot-attributes:progress"] = record["progress"]
    body["os-extended-snapshot-attributes:project_id"] = record["project_id"]
    if viewer.since("3.14"):
        body["group_snapshot_id"] = record.get("group_snapshot_id")
    if viewer.since("3.41"):
        body["user_id"] = record["user_id"]
    if viewer.since("3.65"):
        body["consumes_quota"] = record.get("consumes_quota", True)
    return body


def backup(viewer: Viewer, record: dict[str, Any], detail: bool = True) -> dict[str, Any]:
    links = viewer.links("backups", record["id"])
    if not detail:
        return {"id": record["id"], "name": record["name"], "links": links}
    body: dict[str, Any] = {
        "id": record["id"],
        "name": record["name"],
        "description": record["description"],
        "status": record["status"],
        "size": record["size"],
        "object_count": record["object_count"],
        "availability_zone": record["availability_zone"],
        "container": record["container"],
        "created_at": record["created_at"],
        "updated_at": record["updated_at"],
        "fail_reason": record["fail_reason"],
        "volume_id": record["volume_id"],
        "links": links,
        "is_incremental": record["is_incremental"],
        "has_dependent_backups": viewer.bs.backups.has_dependents(record["id"]),
        "snapshot_id": record["snapshot_id"],
        "data_timestamp": record["data_timestamp"],
    }
    if viewer.since("3.18") and viewer.admin:
        body["os-backup-project-attr:project_id"] = record["project_id"]
    if viewer.since("3.43"):
        body["metadata"] = dict(record["metadata"])
    if viewer.since("3.56"):
        body["user_id"] = record["user_id"]
    if viewer.since("3.64"):
        body["encryption_key_id"] = None
    return body


def restore(backup_record: dict[str, Any], volume_record: dict[str, Any]) -> dict[str, Any]:
    return {"backup_id": backup_record["id"], "volume_id": volume_record["id"], "volume_name": volume_record["name"]}


# -- attachments, messages -------------------------------------------------------------------------------


def attachment_summary(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": record["id"],
        "status": record["attach_status"],
        "instance": record["instance_uuid"],
        "volume_id": record["volume_id"],
    }


def attachment(record: dict[str, Any]) -> dict[str, Any]:
    return {
        **attachment_summary(record),
        "attached_at": record["attach_time"] or "",
        "detached_at": record["detach_time"] or "",
        "attach_mode": record["attach_mode"],
        "connection_info": record["connection_info"],
    }


def message(viewer: Viewer, record: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": record["id"],
        "request_id": record["request_id"],
        "resource_type": record["resource_type"],
        "resource_uuid": record["resource_uuid"],
        "event_id": record["event_id"],
        "message_level": record["message_level"],
        "user_message": record["user_message"],
        "created_at": record["created_at"],
        "guaranteed_until": record["guaranteed_until"],
        "links": viewer.links("messages", record["id"]),
    }


# -- types, QoS, encryption, default types ---------------------------------------------------------------


def volume_type(viewer: Viewer, record: dict[str, Any]) -> dict[str, Any]:
    """A volume type: every extra spec to admins, the user-visible ones to others; ``qos_specs_id``
    to admins; the type-access attribute to members and admins (Cinder's ``volume_type_access``)."""
    body: dict[str, Any] = {
        "id": record["id"],
        "name": record["name"],
        "description": record["description"],
        "is_public": record["is_public"],
        "extra_specs": viewer.bs.types.visible_specs(viewer.ctx, record),
    }
    if viewer.member:
        body["os-volume-type-access:is_public"] = record["is_public"]
    if viewer.admin:
        body["qos_specs_id"] = record.get("qos_specs_id")
    return body


def qos_specs(record: dict[str, Any]) -> dict[str, Any]:
    return {"id": record["id"], "name": record["name"], "consumer": record["consumer"], "specs": dict(record["specs"])}


def encryption(record: dict[str, Any] | None) -> dict[str, Any]:
    """A type's encryption spec (``{}`` if it has none), as Cinder returns its database row."""
    if record is None:
        return {}
    return {k: v for k, v in record.items() if k != "id"}


def default_type(record: dict[str, Any]) -> dict[str, Any]:
    return {"project_id": record["project_id"], "volume_type_id": record["volume_type_id"]}


# -- groups ---------------------------------------------------------------------------------------------------


def group_type(viewer: Viewer, record: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": record["id"],
        "name": record["name"],
        "description": record["description"],
        "is_public": record["is_public"],
    }
    if viewer.admin:
        body["group_specs"] = dict(record["group_specs"])
    return body


def group(viewer: Viewer, record: dict[str, Any], detail: bool = True, list_volume: bool = False) -> dict[str, Any]:
    if not detail:
        return {"id": record["id"], "name": record["name"]}
    body: dict[str, Any] = {
        "id": record["id"],
        "status": record["status"],
        "availability_zone": record["availability_zone"],
        "created_at": record["created_at"],
        "name": record["name"],
        "description": record["description"],
        "group_type": record["group_type_id"],
        "volume_types": list(record["volume_type_ids"]),
    }
    if viewer.since("3.14"):
        body["group_snapshot_id"] = record["group_snapshot_id"]
        body["source_group_id"] = record["source_group_id"]
    if viewer.since("3.25") and list_volume:
        body["volumes"] = [v["id"] for v in viewer.bs.volumes.of_group(record["id"])]
    if viewer.since("3.38"):
        body["replication_status"] = record["replication_status"]
    if viewer.since("3.58") and viewer.admin:
        body["project_id"] = record["project_id"]
    return body


def group_snapshot(viewer: Viewer, record: dict[str, Any], detail: bool = True) -> dict[str, Any]:
    if not detail:
        return {"id": record["id"], "name": record["name"], "group_type_id": record["group_type_id"]}
    body: dict[str, Any] = {
        "id": record["id"],
        "group_id": record["group_id"],
        "group_type_id": record["group_type_id"],
        "status": record["status"],
        "created_at": record["created_at"],
        "name": record["name"],
        "description": record["description"],
    }
    if viewer.since("3.58") and viewer.admin:
        body["project_id"] = record["project_id"]
    return body


# -- transfers -----------------------------------------------------------------------------------------------


def transfer(
    viewer: Viewer, record: dict[str, Any], detail: bool = True, auth_key: str | None = None
) -> dict[str, Any]:
    """A transfer; the one a create answers carries its ``auth_key``."""
    links = viewer.links("os-volume-transfer", record["id"])
    if not detail:
        return {"id": record["id"], "volume_id": record["volume_id"], "name": record["name"], "links": links}
    body: dict[str, Any] = {
        "id": record["id"],
        "created_at": record["created_at"],
        "name": record["name"],
        "volume_id": record["volume_id"],
        "links": links,
    }
    if auth_key is not None:
        body["auth_key"] = auth_key
    if viewer.since("3.55"):
        body["no_snapshots"] = record["no_snapshots"]
    if viewer.since("3.57"):
        body.update(
            destination_project_id=record["destination_project_id"],
            source_project_id=record["source_project_id"],
            accepted=record["accepted"],
        )
    return body


# -- hosts and services ------------------------------------------------------------------------------------


def service(viewer: Viewer, state: dict[str, Any], backend_state: str | None) -> dict[str, Any]:
    """An ``os-services`` entry (with the ``os-extended-services`` attributes, which Cinder loads)."""
    body: dict[str, Any] = {
        "binary": state["binary"],
        "host": state["host"],
        "zone": "nova",
        "status": "disabled" if state["disabled"] else "enabled",
        "state": "up",
        "updated_at": state["updated_at"],
    }
    if viewer.since("3.49") and state["binary"] == "cinder-volume":
        body["backend_state"] = backend_state
    if viewer.since("3.7"):
        body["cluster"] = None
    body["disabled_reason"] = state["disabled_reason"]
    if state["binary"] == "cinder-volume":
        body.update(replication_status="disabled", active_backend_id=None, frozen=state["frozen"])
    return body
