# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The resource kinds the collection's modules use (private to the collection).

Each ``Kind`` (see ``_resources``) names the SDK calls that get and list the resource,
the fields of its plain-dict view (the keys a module's RETURN documents) and where the
cloud keeps the reason for a failure. A module that returns more (a volume's snapshots,
say) adds keys to the view it returns; one that needs other fields makes its own kind
with ``dataclasses.replace(SERVER, fields=...)``.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.opensandbox.cloud.plugins.module_utils._resources import Kind

#: The first Block Storage microversion with user messages (``/messages``).
MESSAGES_MICROVERSION = "3.3"


# -- where the cloud says why ---------------------------------------------------------------


def cinder_message(conn: Any, resource: Any) -> str | None:
    """Cinder keeps no reason on a failed volume or snapshot; its newest user message about it says why."""
    messages = [
        m for m in conn.block_storage.messages(microversion=MESSAGES_MICROVERSION) if m.resource_uuid == resource.id
    ]
    if not messages:
        return None
    return max(messages, key=lambda m: m.created_at or "").user_message


def backup_fault(_conn: Any, backup: Any) -> str | None:
    return backup.fail_reason


def server_fault(_conn: Any, server: Any) -> str | None:
    return (server.fault or {}).get("message")


def stack_fault(_conn: Any, stack: Any) -> str | None:
    return stack.status_reason


# -- fields computed from several attributes -------------------------------------------------


def pool_of_host(host: str | None) -> str | None:
    """Cinder's ``host@backend#pool`` -> ``pool`` (the host is shown to admins only)."""
    if not host or "#" not in host:
        return None
    return host.split("#", 1)[1]


def volume_attachments(volume: Any) -> list[dict[str, Any]]:
    """A volume's attachments, sorted by server: ``server_id``, ``device``, ``attachment_id``, ``attached_at``."""
    found = [
        {
            "server_id": a.get("server_id"),
            "device": a.get("device"),
            "attachment_id": a.get("attachment_id"),
            "attached_at": a.get("attached_at"),
        }
        for a in volume.attachments or []
    ]
    return sorted(found, key=lambda a: (a["server_id"] or "", a["device"] or ""))


def attached_servers(volume: Any) -> list[str]:
    """The IDs of the servers a volume is attached to, sorted."""
    return sorted({a.get("server_id") for a in volume.attachments or [] if a.get("server_id")})


#: Glance's own image fields (as Glance names them); everything else an image has is a property.
GLANCE_CORE_FIELDS = frozenset(
    {
        "id", "name", "status", "visibility", "protected", "owner", "checksum", "size", "virtual_size",
        "container_format", "disk_format", "min_disk", "min_ram", "tags", "created_at", "updated_at",
        "os_hash_algo", "os_hash_value", "os_hidden", "file", "schema", "self", "direct_url", "locations",
    }
)  # fmt: skip


def glance_properties(image: Any) -> dict[str, Any]:
    """All of an image's properties, as Glance has them.

    The SDK keeps the well-known ones (``architecture``, ``os_distro``, ``hw_*`` ...) as
    attributes of its ``Image`` and only the others in ``properties``; a property Glance
    has is a property here, whichever way the SDK holds it.
    """
    raw = image.to_dict(computed=False, original_names=True)
    props = {k: v for k, v in raw.items() if k not in GLANCE_CORE_FIELDS and k != "properties" and v is not None}
    props.update(raw.get("properties") or {})
    return props


def _flavor_name(server: Any) -> str | None:
    flavor = server.flavor or {}
    return flavor.get("original_name") or flavor.get("name") or flavor.get("id")


# -- Block Storage ------------------------------------------------------------------------------------

VOLUME = Kind(
    "volume",
    get=lambda conn: conn.block_storage.get_volume,
    list=lambda conn: conn.block_storage.volumes,
    fault=cinder_message,
    fields=(
        ("id", "id"),
        ("name", "name"),
        ("description", "description"),
        ("size", "size"),
        ("status", "status"),
        ("volume_type", "volume_type"),
        ("availability_zone", "availability_zone"),
        ("bootable", "is_bootable"),
        ("multiattach", "is_multiattach"),
        ("encrypted", "is_encrypted"),
        ("metadata", lambda v: dict(v.metadata or {})),
        ("image_id", lambda v: (v.volume_image_metadata or {}).get("image_id")),
        ("snapshot_id", "snapshot_id"),
        ("source_volume_id", "source_volume_id"),
        ("attachments", volume_attachments),
        # The server it is attached to; comma-separated IDs for a multiattach volume on several.
        ("attached_to", lambda v: ",".join(attached_servers(v)) or None),
        ("pool", lambda v: pool_of_host(v.host)),
        ("project_id", "project_id"),
        ("created_at", "created_at"),
        ("updated_at", "updated_at"),
    ),
)

SNAPSHOT = Kind(
    "volume snapshot",
    get=lambda conn: conn.block_storage.get_snapshot,
    list=lambda conn: conn.block_storage.snapshots,
    fault=cinder_message,
    fields=(
        ("id", "id"),
        ("name", "name"),
        ("description", "description"),
        ("size", "size"),
        ("status", "status"),
        ("volume_id", "volume_id"),
        ("metadata", lambda s: dict(s.metadata or {})),
        ("created_at", "created_at"),
        ("updated_at", "updated_at"),
    ),
)

BACKUP = Kind(
    "volume backup",
    get=lambda conn: conn.block_storage.get_backup,
    list=lambda conn: conn.block_storage.backups,
    fault=backup_fault,
    fields=(
        ("id", "id"),
        ("name", "name"),
        ("description", "description"),
        ("size", "size"),
        ("status", "status"),
        ("volume_id", "volume_id"),
        ("snapshot_id", "snapshot_id"),
        ("incremental", "is_incremental"),
        ("has_dependent_backups", "has_dependent_backups"),
        ("availability_zone", "availability_zone"),
        ("container", "container"),
        ("fail_reason", "fail_reason"),
        ("created_at", "created_at"),
        ("updated_at", "updated_at"),
    ),
)

VOLUME_TYPE = Kind(
    "volume type",
    get=lambda conn: conn.block_storage.get_type,
    list=lambda conn: conn.block_storage.types,
    name_filter=False,
    # Cinder lists only public types, to admins too, unless is_public is "None"; others get theirs anyway.
    list_query={"is_public": "None"},
    fields=(
        ("id", "id"),
        ("name", "name"),
        ("description", "description"),
        ("is_public", "is_public"),
        ("extra_specs", lambda t: dict(t.extra_specs or {})),
    ),
)

QOS_SPEC = Kind(
    "QoS specs",
    get=lambda conn: conn.block_storage.get_qos_spec,
    list=lambda conn: conn.block_storage.qos_specs,
    name_filter=False,
    fields=(
        ("id", "id"),
        ("name", "name"),
        ("consumer", "consumer"),
        ("specs", lambda q: dict(q.specs or {})),
    ),
)

# -- Compute, Image, Orchestration, Networking, Identity ----------------------------------------------

SERVER = Kind(
    "server",
    get=lambda conn: conn.compute.get_server,
    list=lambda conn: conn.compute.servers,
    fault=server_fault,
    # A server in ERROR keeps that status while Nova deletes it: only the deadline fails the wait.
    delete_failed=(),
    fields=(
        ("id", "id"),
        ("name", "name"),
        ("status", "status"),
        ("flavor", _flavor_name),
        ("image_id", lambda s: (s.image or {}).get("id")),
        ("key_name", "key_name"),
        ("addresses", "addresses"),
        ("metadata", lambda s: dict(s.metadata or {})),
        ("availability_zone", "availability_zone"),
        ("fault", lambda s: (s.fault or {}).get("message")),
        ("created_at", "created_at"),
        ("updated_at", "updated_at"),
    ),
)

FLAVOR = Kind(
    "flavor",
    get=lambda conn: conn.compute.get_flavor,
    list=lambda conn: conn.compute.flavors,
    name_filter=False,
    fields=(("id", "id"), ("name", "name"), ("vcpus", "vcpus"), ("ram", "ram"), ("disk", "disk")),
)

KEYPAIR = Kind(
    "keypair",
    get=lambda conn: conn.compute.get_keypair,
    list=lambda conn: conn.compute.keypairs,
    name_filter=False,
    fields=(("name", "name"), ("type", "type"), ("fingerprint", "fingerprint"), ("public_key", "public_key")),
)

IMAGE = Kind(
    "image",
    get=lambda conn: conn.image.get_image,
    list=lambda conn: conn.image.images,
    fields=(
        ("id", "id"),
        ("name", "name"),
        ("status", "status"),
        ("visibility", "visibility"),
        ("disk_format", "disk_format"),
        ("container_format", "container_format"),
        ("size", "size"),
        ("checksum", "checksum"),
        ("hash_algo", "hash_algo"),
        ("hash_value", "hash_value"),
        ("min_disk", "min_disk"),
        ("min_ram", "min_ram"),
        ("owner", "owner_id"),
        ("protected", "is_protected"),
        ("tags", lambda i: sorted(i.tags or [])),
        ("properties", glance_properties),
        ("created_at", "created_at"),
        ("updated_at", "updated_at"),
    ),
)

STACK = Kind(
    "stack",
    get=lambda conn: conn.orchestration.get_stack,
    list=lambda conn: conn.orchestration.stacks,
    fault=stack_fault,
    fields=(
        ("id", "id"),
        ("name", "name"),
        ("status", "status"),
        ("status_reason", "status_reason"),
        ("description", "description"),
        ("parameters", lambda s: dict(s.parameters or {})),
        ("outputs", lambda s: list(s.outputs or [])),
        ("tags", lambda s: list(s.tags or [])),
        ("created_at", "created_at"),
        ("updated_at", "updated_at"),
    ),
)

NETWORK = Kind(
    "network",
    get=lambda conn: conn.network.get_network,
    list=lambda conn: conn.network.networks,
    fields=(
        ("id", "id"),
        ("name", "name"),
        ("status", "status"),
        ("shared", "is_shared"),
        ("external", "is_router_external"),
        ("subnet_ids", lambda n: sorted(n.subnet_ids or [])),
        ("project_id", "project_id"),
    ),
)

SECURITY_GROUP = Kind(
    "security group",
    get=lambda conn: conn.network.get_security_group,
    list=lambda conn: conn.network.security_groups,
    fields=(
        ("id", "id"),
        ("name", "name"),
        ("description", "description"),
        ("project_id", "project_id"),
        ("rules", lambda g: list(g.security_group_rules or [])),
    ),
)

PROJECT = Kind(
    "project",
    get=lambda conn: conn.identity.get_project,
    list=lambda conn: conn.identity.projects,
    fields=(("id", "id"), ("name", "name"), ("domain_id", "domain_id"), ("enabled", "is_enabled")),
)
