"""The typed requests Compute's model takes (re-exported by :mod:`.model`, where callers import them).

:data:`KEEP` marks a field of an update or rebuild that stays as the server has it.
:func:`check_text` refuses text no reply could carry (a lone surrogate), whoever
made the request (the API's schemas refuse it first; Heat's templates reach the
model directly).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from stacksim import faults, toolkit


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


#: A field of an update or rebuild left as the server has it.
KEEP: Final[Any] = _Keep()


@dataclass(frozen=True)
class NetworkRequest:
    """One NIC of a new server: a network to make a port on (with a fixed IP if given), or a port."""

    network_id: str | None = None
    port_id: str | None = None
    fixed_ip: str | None = None
    tag: str | None = None


@dataclass(frozen=True)
class BlockDevice:
    """One entry of ``block_device_mapping_v2``."""

    source_type: str = "image"  #: image, volume, snapshot or blank
    destination_type: str = "local"  #: local or volume
    uuid: str | None = None  #: the image, volume or snapshot
    boot_index: int | None = None
    volume_size: int | None = None  #: GiB
    delete_on_termination: bool = False
    device_name: str | None = None


@dataclass(frozen=True)
class ServerRequest:
    """A server create (``min_count`` to ``max_count`` servers, as Nova makes them)."""

    name: str
    flavor_id: str
    image_id: str | None = None  #: None: boot from a volume of ``block_devices``
    #: "auto", "none", explicit NICs, or None (Nova's default before 2.37: the one usable network)
    networks: str | tuple[NetworkRequest, ...] | None = None
    security_groups: tuple[str, ...] = ()  #: names or ids; none: the project's ``default``
    key_name: str | None = None
    user_data: bytes | None = None  #: as the guest gets it (the API's base64 decoded)
    metadata: Mapping[str, str] = field(default_factory=dict)
    config_drive: bool = False
    availability_zone: str | None = None
    min_count: int = 1
    max_count: int | None = None
    block_devices: tuple[BlockDevice, ...] = ()
    description: str | None = None
    tags: tuple[str, ...] = ()
    hostname: str | None = None
    admin_pass: str | None = None
    access_ipv4: str | None = None
    access_ipv6: str | None = None
    group_id: str | None = None  #: the ``group`` scheduler hint
    scheduler_hints: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ServerChanges:
    """A server update; :data:`KEEP` leaves a field as it is."""

    name: Any = KEEP
    description: Any = KEEP
    hostname: Any = KEEP
    access_ipv4: Any = KEEP
    access_ipv6: Any = KEEP
    metadata: Any = KEEP  #: the whole new metadata
    tags: Any = KEEP  #: the whole new tag list


@dataclass(frozen=True)
class Rebuild:
    """A rebuild onto ``image_id``; :data:`KEEP` leaves a field as the server has it."""

    image_id: str
    name: Any = KEEP
    metadata: Any = KEEP
    description: Any = KEEP
    user_data: Any = KEEP  #: bytes, or None to remove it
    key_name: Any = KEEP  #: a key pair name, or None to remove the key
    admin_pass: str | None = None


@dataclass(frozen=True)
class ServerQuery:
    """What a server list asks for (Nova's filters, sort and page)."""

    detail: bool = False
    all_projects: bool = False
    project_id: str | None = None
    user_id: str | None = None
    name: str | None = None  #: a regular expression
    statuses: tuple[str, ...] = ()
    image_id: str | None = None
    flavor_id: str | None = None
    locked: bool | None = None
    changes_since: datetime | None = None
    changes_before: datetime | None = None
    deleted: bool | None = None  #: admins only
    tags: tuple[str, ...] = ()
    tags_any: tuple[str, ...] = ()
    not_tags: tuple[str, ...] = ()
    not_tags_any: tuple[str, ...] = ()
    ip: str | None = None  #: a regular expression over IPv4 addresses
    ip6: str | None = None
    availability_zone: str | None = None
    key_name: str | None = None
    reservation_id: str | None = None
    sort: tuple[tuple[str, bool], ...] = ()  #: (field, descending); none: newest first
    limit: int | None = None
    marker: str | None = None


@dataclass(frozen=True)
class KeypairRequest:
    name: str
    type: str = "ssh"
    public_key: str | None = None  #: None: generate one (the private half is returned once)
    user_id: str | None = None  #: another user's (admins only)


@dataclass(frozen=True)
class FlavorRequest:
    name: str
    ram: int
    vcpus: int
    disk: int
    id: str | None = None  #: None or "auto": a UUID
    ephemeral: int = 0
    swap: int = 0
    rxtx_factor: float = 1.0
    is_public: bool = True
    description: str | None = None
    extra_specs: Mapping[str, str] = field(default_factory=dict)
    projects: tuple[str, ...] = ()  #: the projects a private flavor is for


#: scalars that hold no text: skipped at once (most of a request's values)
_NO_TEXT = (int, float, bool, type(None), datetime)


def check_text(value: Any, where: str = "request") -> None:
    """BadRequest naming the field if any text in ``value`` (a request, a mapping, a list ...)
    holds a lone surrogate: it could be neither stored safely nor sent back."""
    if not toolkit.surely_valid_text(value):
        _check_text(value, where)


def _check_text(value: Any, where: str) -> None:
    """:func:`check_text` one value at a time, to name the field that holds the surrogate."""
    if isinstance(value, str):
        if toolkit.has_lone_surrogate(value):
            shown = value.encode("utf-8", "backslashreplace").decode()
            raise faults.BadRequest(
                f"Invalid input for field/attribute {where}. Value: {shown}. Not valid Unicode text."
            )
    elif isinstance(value, _NO_TEXT):
        return
    elif isinstance(value, list | tuple):
        for item in value:
            _check_text(item, where)
    elif isinstance(value, dict | Mapping):
        for key, item in value.items():
            _check_text(key, where)
            _check_text(item, str(key) if isinstance(key, str) else where)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for name in _field_names(type(value)):
            _check_text(getattr(value, name), name)


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))
