"""Request bodies and list queries of the Compute API, as Nova's JSON schemas accept them,
and their translation into the model's typed requests (:mod:`.inputs`).

Decoding belongs here (a server's base64 ``user_data``, a query's date-times);
rules about the cloud's state belong to the model. Fields a microversion adds
or removes are checked by the routes (:func:`.common.too_new` / ``too_old``)
before a body becomes a typed request. No text may hold a lone surrogate (it
cannot be stored or sent back): that is a 400 naming the field.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from stacksim import clock, faults, toolkit
from stacksim.microversion import Version
from stacksim.services.compute import inputs
from stacksim.services.compute.states import STATUSES

Name = Annotated[str, StringConstraints(min_length=1, max_length=255)]
Limit = Annotated[int, Field(ge=-1, le=2**31 - 1)]
_FLAVOR_ID = re.compile(r"^(?! )[a-zA-Z0-9. _-]+(?<! )$")
_SPEC_KEY = re.compile(r"^[a-zA-Z0-9-_:. ]{1,255}$")


def _surrogate_free(value: Any, where: str = "") -> None:
    if isinstance(value, str):
        if toolkit.has_lone_surrogate(value):
            shown = value.encode("utf-8", "backslashreplace").decode()
            raise ValueError(f"{where or 'a value'} ({shown}) holds a lone surrogate, which is not valid Unicode text")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _surrogate_free(key, where)
            _surrogate_free(item, str(key) if isinstance(key, str) else where)
    elif isinstance(value, list | tuple):
        for item in value:
            _surrogate_free(item, where)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _valid_text(cls, data: Any) -> Any:
        if not toolkit.surely_valid_text(data):
            _surrogate_free(data)  # to name where
        return data


def _no_edge_spaces(value: str) -> str:
    if value.strip() != value:
        raise ValueError("leading or trailing whitespace is not allowed")
    return value


# -- flavors ---------------------------------------------------------------------------------


class FlavorCreate(Body):
    name: Name
    ram: int = Field(ge=1, le=2**31 - 1)
    vcpus: int = Field(ge=1, le=2**31 - 1)
    disk: int = Field(ge=0, le=2**31 - 1)
    id: str | None = Field(default=None, min_length=1, max_length=255)
    ephemeral: int = Field(default=0, ge=0, le=2**31 - 1, alias="OS-FLV-EXT-DATA:ephemeral")
    swap: int = Field(default=0, ge=0, le=2**31 - 1)
    rxtx_factor: float = Field(default=1.0, gt=0)
    is_public: bool = Field(default=True, alias="os-flavor-access:is_public")
    description: str | None = Field(default=None, max_length=65535)  #: from 2.55

    _name = field_validator("name")(_no_edge_spaces)

    def request(self) -> inputs.FlavorRequest:
        return inputs.FlavorRequest(
            name=self.name,
            ram=self.ram,
            vcpus=self.vcpus,
            disk=self.disk,
            id=self.id,
            ephemeral=self.ephemeral,
            swap=self.swap,
            rxtx_factor=self.rxtx_factor,
            is_public=self.is_public,
            description=self.description,
        )

    @field_validator("id")
    @classmethod
    def _id(cls, value: str | None) -> str | None:
        if value is not None and not _FLAVOR_ID.match(value):
            raise ValueError(f"'{value}' does not match '{_FLAVOR_ID.pattern}'")
        return value


class FlavorUpdate(Body):
    description: str | None = Field(max_length=65535)


class ExtraSpecs(Body):
    extra_specs: dict[str, str | int | float | bool]

    @field_validator("extra_specs")
    @classmethod
    def _keys(cls, specs: dict[str, Any]) -> dict[str, Any]:
        for key, value in specs.items():
            if not _SPEC_KEY.match(key):
                raise ValueError(f"'{key}' is not a valid extra spec key")
            if len(str(value)) > 255:
                raise ValueError(f"the value of '{key}' is longer than 255 characters")
        return specs


def check_spec_key(key: str) -> bool:
    return bool(_SPEC_KEY.match(key))


class Tenant(Body):
    tenant: Name


class FlavorAction(Body):
    addTenantAccess: Tenant | None = None  # Nova's action names
    removeTenantAccess: Tenant | None = None


# -- keypairs -------------------------------------------------------------------------------------


class KeypairCreate(Body):
    name: str
    public_key: str | None = None
    type: Literal["ssh", "x509"] = "ssh"  #: from 2.2
    user_id: str | None = None  #: from 2.10


# -- quotas ---------------------------------------------------------------------------------------


class QuotaValues(Body):
    instances: Limit | None = None
    cores: Limit | None = None
    ram: Limit | None = None
    metadata_items: Limit | None = None
    key_pairs: Limit | None = None
    server_groups: Limit | None = None
    server_group_members: Limit | None = None
    #: removed in 2.57
    injected_files: Limit | None = None
    injected_file_content_bytes: Limit | None = None
    injected_file_path_bytes: Limit | None = None
    #: removed in 2.36 (quota sets) or 2.50 (quota classes)
    fixed_ips: Limit | None = None
    floating_ips: Limit | None = None
    security_groups: Limit | None = None
    security_group_rules: Limit | None = None
    networks: Limit | None = None

    def values(self) -> dict[str, int]:
        return {k: v for k, v in self.model_dump(exclude={"force"}).items() if v is not None}


class QuotaSetUpdate(QuotaValues):
    force: bool = False


# -- server groups ------------------------------------------------------------------------------


class GroupRules(Body):
    max_server_per_host: int = Field(ge=1)


class ServerGroupCreate(Body):
    name: Name
    policies: list[str] | None = Field(default=None, min_length=1, max_length=1)  #: before 2.64
    policy: str | None = None  #: from 2.64
    rules: GroupRules | None = None  #: from 2.64

    _name = field_validator("name")(_no_edge_spaces)


# -- services ---------------------------------------------------------------------------------------


class ServiceAction(Body):
    """The body of ``PUT /os-services/{enable,disable,...}`` before 2.53."""

    host: Name
    binary: Name
    disabled_reason: Name | None = None
    forced_down: bool | None = None


class ServiceUpdate(Body):
    """The body of ``PUT /os-services/{service_id}`` from 2.53."""

    status: Literal["enabled", "disabled"] | None = None
    disabled_reason: Name | None = None
    forced_down: bool | None = None


# -- servers ---------------------------------------------------------------------------------------

MAX_METADATA = 128


def _base64(value: str | None) -> bytes | None:
    if value is None:
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("User data needs to be valid base 64.") from None


def _last_part(ref: str | int) -> str:
    """An id, or the id at the end of a URL (Nova takes both for image and flavor refs)."""
    return str(ref).rstrip("/").rsplit("/", 1)[-1]


class NetworkItem(Body):
    uuid: str | None = None
    port: str | None = None
    fixed_ip: str | None = None
    tag: str | None = None  #: from 2.32


class BlockDeviceItem(BaseModel):
    """One ``block_device_mapping_v2`` entry (keys Nova takes but stacksim has no use for are kept aside)."""

    model_config = ConfigDict(extra="allow")

    source_type: str = "image"
    destination_type: str = "local"
    uuid: str | None = None
    boot_index: int | str | None = None
    volume_size: int | None = None
    delete_on_termination: bool = False
    device_name: str | None = None

    def typed(self) -> inputs.BlockDevice:
        boot = self.boot_index
        return inputs.BlockDevice(
            source_type=self.source_type,
            destination_type=self.destination_type,
            uuid=self.uuid,
            boot_index=int(boot) if boot not in (None, "none", -1, "-1") else None,
            volume_size=self.volume_size,
            delete_on_termination=self.delete_on_termination,
            device_name=self.device_name,
        )


Metadata = dict[
    Annotated[str, StringConstraints(min_length=1, max_length=255)], Annotated[str, StringConstraints(max_length=255)]
]


class ServerCreate(Body):
    name: Name
    imageRef: str | None = None
    flavorRef: str | int
    networks: Literal["auto", "none"] | list[NetworkItem] | None = None
    security_groups: list[dict[str, str]] | None = None
    key_name: str | None = None
    user_data: str | None = Field(default=None, max_length=65535)
    metadata: Metadata | None = None
    config_drive: bool | None = None
    availability_zone: str | None = None
    min_count: int = Field(default=1, ge=1)
    max_count: int | None = Field(default=None, ge=1)
    block_device_mapping_v2: list[BlockDeviceItem] | None = None
    description: str | None = Field(default=None, max_length=255)  #: from 2.19
    tags: list[str] | None = None  #: from 2.52
    hostname: str | None = None  #: from 2.90
    adminPass: str | None = None
    accessIPv4: str | None = None
    accessIPv6: str | None = None
    return_reservation_id: bool | None = None
    # Accepted and ignored, as a one-host cloud has nothing to do with them.
    personality: list[dict[str, Any]] | None = None
    trusted_image_certificates: list[str] | None = None
    host: str | None = None
    hypervisor_hostname: str | None = None
    OS_DCF_diskConfig: str | None = Field(default=None, alias="OS-DCF:diskConfig")

    @field_validator("metadata")
    @classmethod
    def _few_items(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is not None and len(value) > MAX_METADATA:
            raise ValueError(f"at most {MAX_METADATA} metadata items are allowed")
        return value

    @field_validator("user_data")
    @classmethod
    def _user_data(cls, value: str | None) -> str | None:
        _base64(value)
        return value

    def request(self, version: Version, hints: Mapping[str, Any] | None = None) -> inputs.ServerRequest:
        """The typed request; Nova's microversion rules for ``networks`` (required from 2.37)."""
        if self.networks is None and version.at_least("2.37"):
            raise faults.BadRequest(
                "Invalid input for field/attribute networks. Value: None. 'networks' is a required property"
            )
        networks: str | tuple[inputs.NetworkRequest, ...] | None
        if self.networks is None or isinstance(self.networks, str):
            networks = self.networks
        else:
            networks = tuple(
                [
                    inputs.NetworkRequest(network_id=n.uuid, port_id=n.port, fixed_ip=n.fixed_ip, tag=n.tag)
                    for n in self.networks
                ]
            )
        hints = dict(hints or {})
        group = hints.get("group")
        return inputs.ServerRequest(
            name=self.name,
            flavor_id=_last_part(self.flavorRef),
            image_id=_last_part(self.imageRef) if self.imageRef else None,
            networks=networks,
            security_groups=tuple([g.get("name", "") for g in self.security_groups]) if self.security_groups else (),
            key_name=self.key_name,
            user_data=_base64(self.user_data) if self.user_data else None,
            metadata=dict(self.metadata or {}),
            config_drive=bool(self.config_drive),
            availability_zone=self.availability_zone,
            min_count=self.min_count,
            max_count=self.max_count,
            block_devices=tuple([b.typed() for b in self.block_device_mapping_v2])
            if self.block_device_mapping_v2
            else (),
            description=self.description,
            tags=tuple(self.tags or ()),
            hostname=self.hostname,
            admin_pass=self.adminPass,
            access_ipv4=self.accessIPv4,
            access_ipv6=self.accessIPv6,
            group_id=str(group[0] if isinstance(group, list) else group) if group else None,
            scheduler_hints=hints,
        )


class ServerUpdate(Body):
    name: Name | None = None
    description: str | None = Field(default=None, max_length=255)  #: from 2.19
    hostname: str | None = None  #: from 2.90
    accessIPv4: str | None = None
    accessIPv6: str | None = None
    OS_DCF_diskConfig: str | None = Field(default=None, alias="OS-DCF:diskConfig")

    def changes(self) -> inputs.ServerChanges:
        given = self.model_fields_set
        values = {k: getattr(self, k) for k in ("name", "description", "hostname") if k in given}
        if "accessIPv4" in given:
            values["access_ipv4"] = self.accessIPv4
        if "accessIPv6" in given:
            values["access_ipv6"] = self.accessIPv6
        return inputs.ServerChanges(**values)


# -- server actions (each the object under the action's name) ------------------------------------


class Reboot(Body):
    type: str

    @field_validator("type")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value.upper() not in ("SOFT", "HARD"):
            raise ValueError(f"'{value}' is not one of ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft']")
        return value.upper()


class Resize(Body):
    flavorRef: str | int
    OS_DCF_diskConfig: str | None = Field(default=None, alias="OS-DCF:diskConfig")

    @property
    def flavor_id(self) -> str:
        return _last_part(self.flavorRef)


class RebuildBody(Body):
    imageRef: str
    name: Name | None = None
    metadata: Metadata | None = None
    description: str | None = Field(default=None, max_length=255)  #: from 2.19
    user_data: str | None = Field(default=None, max_length=65535)  #: from 2.57
    key_name: str | None = None  #: from 2.54
    adminPass: str | None = None
    preserve_ephemeral: bool | None = None
    accessIPv4: str | None = None
    accessIPv6: str | None = None
    personality: list[dict[str, Any]] | None = None
    trusted_image_certificates: list[str] | None = None
    hostname: str | None = None
    OS_DCF_diskConfig: str | None = Field(default=None, alias="OS-DCF:diskConfig")

    @field_validator("user_data")
    @classmethod
    def _user_data(cls, value: str | None) -> str | None:
        _base64(value)
        return value

    def request(self) -> inputs.Rebuild:
        given = self.model_fields_set
        keep = inputs.KEEP
        return inputs.Rebuild(
            image_id=_last_part(self.imageRef),
            name=self.name if "name" in given else keep,
            metadata=dict(self.metadata or {}) if "metadata" in given else keep,
            description=self.description if "description" in given else keep,
            user_data=_base64(self.user_data) if "user_data" in given else keep,
            key_name=self.key_name if "key_name" in given else keep,
            admin_pass=self.adminPass,
        )


class CreateImage(Body):
    name: Name
    metadata: Metadata | None = None


class SecurityGroupName(Body):
    name: Name


class Lock(Body):
    locked_reason: str | None = Field(default=None, max_length=255)  #: from 2.73


class ResetState(Body):
    state: Literal["active", "error"]


class ConsoleOutput(Body):
    length: int | str | None = None

    def lines(self) -> int | None:
        if self.length is None:
            return None
        try:
            value = int(self.length)
        except ValueError:
            raise faults.BadRequest(f"Invalid input for field/attribute length. Value: {self.length}.") from None
        return value if value > 0 else None


class RescueBody(Body):
    adminPass: str | None = None
    rescue_image_ref: str | None = None


class Unshelve(Body):
    availability_zone: str | None = None  #: from 2.77
    host: str | None = None  #: from 2.91


class AddFixedIp(Body):
    networkId: str | int


class RemoveFixedIp(Body):
    address: str


class RemoteConsole(Body):
    protocol: Literal["vnc", "spice", "serial", "rdp", "mks"]
    type: Literal["novnc", "xvpvnc", "rdp-html5", "spice-html5", "serial", "webmks", "spice-direct"]


class LegacyConsole(Body):
    type: str


# -- metadata and tags -----------------------------------------------------------------------------


class MetadataBody(Body):
    metadata: Metadata


class MetaItem(Body):
    meta: Metadata


class TagsBody(Body):
    tags: list[str] = Field(max_length=50)


# -- volume and interface attachments -------------------------------------------------------------


class VolumeAttachmentCreate(Body):
    volumeId: str
    device: str | None = None
    tag: str | None = None  #: from 2.49
    delete_on_termination: bool = False  #: from 2.79


class VolumeAttachmentUpdate(Body):
    volumeId: str
    device: str | None = None  #: these four from 2.85, and only unchanged
    tag: str | None = None
    serverId: str | None = None
    id: str | None = None
    delete_on_termination: bool | None = None  #: from 2.85


class FixedIp(Body):
    ip_address: str | None = None
    subnet_id: str | None = None


class InterfaceAttachmentCreate(Body):
    net_id: str | None = None
    port_id: str | None = None
    fixed_ips: list[FixedIp] | None = Field(default=None, max_length=1)
    tag: str | None = None  #: from 2.49

    @property
    def fixed_ip(self) -> str | None:
        return self.fixed_ips[0].ip_address if self.fixed_ips else None


# -- aggregates ------------------------------------------------------------------------------------


class AggregateCreate(Body):
    name: Name
    availability_zone: Name | None = None

    _name = field_validator("name")(_no_edge_spaces)


class AggregateUpdate(Body):
    name: Name | None = None
    availability_zone: Name | None = None


class AggregateHost(Body):
    host: Name


class AggregateMetadata(Body):
    metadata: dict[Annotated[str, StringConstraints(min_length=1, max_length=255)], str | None]


# -- list queries -----------------------------------------------------------------------------------


def moment(query: Mapping[str, str], name: str) -> datetime | None:
    """A date-time query parameter (``changes-since`` ...), or Nova's 400 naming it."""
    text = query.get(name)
    if text is None:
        return None
    try:
        return clock.parse(text)
    except ValueError:
        raise faults.BadRequest(
            f"Invalid input for query parameters {name}. Value: {text}. '{text}' is not a 'date-time'"
        ) from None


def whole(query: Mapping[str, str], name: str, minimum: int = 0) -> int | None:
    text = query.get(name)
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        raise faults.BadRequest(
            f"Invalid input for query parameters {name}. Value: {text}. '{text}' is not a 'integer'"
        ) from None
    if value < minimum:
        raise faults.BadRequest(f"Invalid input for query parameters {name}: must be >= {minimum}")
    return value


def _all_tenants(query: Mapping[str, str]) -> bool:
    """Nova's ``is_all_tenants``: present with an empty value, or a true word; 400 for nonsense."""
    text = query.get("all_tenants")
    if text is None:
        return False
    if not text:
        return True
    return toolkit.to_bool(text, lambda _: faults.BadRequest(f"Invalid input received: Unrecognized value '{text}'"))


#: Nova's server sort keys -> record fields (those it ignores: skipped).
SERVER_SORT = {
    "created_at": "created",
    "updated_at": "updated",
    "display_name": "name",
    "display_description": "description",
    "uuid": "id",
    "access_ip_v4": "access_ipv4",
    "access_ip_v6": "access_ipv6",
    "availability_zone": "availability_zone",
    "config_drive": "config_drive",
    "host": "host",
    "hostname": "hostname",
    "image_ref": "image_id",
    "key_name": "key_name",
    "launch_index": "launch_index",
    "launched_at": "launched_at",
    "locked_by": "locked_by",
    "node": "host",
    "power_state": "power_state",
    "progress": "progress",
    "project_id": "project_id",
    "task_state": "task_state",
    "terminated_at": "terminated_at",
    "user_id": "user_id",
    "vm_state": "vm_state",
    "locked": "locked",
}


def server_query(query: Any, version: Version, detail: bool, admin: bool) -> inputs.ServerQuery:
    """A server list's query string as the model's typed query (non-admins' admin-only filters
    are dropped, as Nova drops them)."""
    q = query
    all_tenants = _all_tenants(q)
    project = q.get("project_id") or q.get("tenant_id")
    if project and admin and not all_tenants:
        all_tenants = True
    keys = q.getlist("sort_key")
    dirs = q.getlist("sort_dir") or ["desc"]
    dirs = dirs + [dirs[-1]] * (len(keys) - len(dirs))
    sort = []
    for key, direction in zip(keys, dirs, strict=False):
        if direction not in ("asc", "desc"):
            raise faults.BadRequest(f"Invalid input for query parameters sort_dir. Value: {direction}.")
        field = {"created": "created", "updated": "updated", "name": "name", "id": "id"}.get(key) or SERVER_SORT.get(
            key
        )
        if field is None:
            continue  # a key Nova ignores (or an unknown one, which its schema of old let through)
        if key in ("host", "node") and not admin:
            continue
        sort.append((field, direction == "desc"))
    flavor = q.get("flavor")
    image = q.get("image") or q.get("image_ref")
    since_226 = version.at_least("2.26")

    def tags(name: str) -> tuple[str, ...]:
        text = q.get(name) if since_226 else None
        return tuple(t for t in text.split(",") if t) if text else ()

    deleted = q.get("deleted")
    statuses = tuple(s.upper() for s in q.getlist("status"))
    if any(s not in STATUSES for s in statuses):
        if version.at_least("2.38"):
            raise faults.BadRequest("Invalid status value")
        statuses = ("",)  # Nova answers an empty list before 2.38
    return inputs.ServerQuery(
        detail=detail,
        all_projects=all_tenants,
        project_id=project if admin else None,
        user_id=q.get("user_id") if admin or version.at_least("2.83") else None,
        name=q.get("name") or q.get("display_name") if admin else q.get("name"),
        statuses=statuses,
        image_id=_last_part(image) if image else None,
        flavor_id=_last_part(flavor) if flavor else None,
        locked=_flag(q["locked"], "locked") if "locked" in q and version.at_least("2.73") else None,
        changes_since=moment(q, "changes-since"),
        changes_before=moment(q, "changes-before") if version.at_least("2.66") else None,
        deleted=toolkit.is_true(deleted) if admin and deleted is not None else None,
        tags=tags("tags"),
        tags_any=tags("tags-any"),
        not_tags=tags("not-tags"),
        not_tags_any=tags("not-tags-any"),
        ip=q.get("ip"),
        ip6=q.get("ip6") if version.at_least("2.5") else None,
        availability_zone=q.get("availability_zone") if admin or version.at_least("2.83") else None,
        key_name=q.get("key_name") if admin or version.at_least("2.83") else None,
        reservation_id=q.get("reservation_id"),
        sort=tuple(sort),
        limit=whole(q, "limit"),
        marker=q.get("marker") or None,
    )


def _flag(text: str, name: str) -> bool:
    return toolkit.to_bool(
        text,
        lambda _: faults.BadRequest(f"Invalid input for query parameters {name}. Value: {text}. Expected a boolean."),
    )
