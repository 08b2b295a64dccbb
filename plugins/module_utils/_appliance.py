# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Appliances and their Glance image properties, private to the opensandbox.cloud collection.

An appliance (the EGI AppDB / Cloudkeeper model) is a virtual machine image with
metadata: who publishes it (``vo``, ``image_list_identifier``), what it is
(``title``, ``version``, ``operating_system`` ...) and until when it is valid
(``expiration_date``). Its fields are stored on the Glance image as the custom
properties Cloudkeeper-OS writes, so an image a Cloudkeeper deployment made is
recognised and adopted rather than uploaded a second time:

- ``APPLIANCE_ID`` (the identifier), ``APPLIANCE_IMAGE_LIST_ID``, and
  ``APPLIANCE_<FIELD>`` for every other field (``APPLIANCE_TITLE``,
  ``APPLIANCE_RAM`` ...), set only when the field has a value;
- ``APPLIANCE_EXPIRATION_DATE`` in seconds since the epoch, ``APPLIANCE_ATTRIBUTES``
  as a JSON object, ``APPLIANCE_RAM``/``APPLIANCE_CORE`` as decimal integers;
- ``APPLIANCE_STATUS``: ``ACTIVE``, or ``EOL`` once the appliance is retired;
- ``vmcatcher_event_ad_mpuri``, the marketplace URI again, for cloud-info-provider.

One property is ours: ``APPLIANCE_IMAGE_CHECKSUM`` (``<algorithm>:<hex digest>``)
records the checksum the image data was verified against, so a later run knows
whether the listed image is the one already uploaded. Images without it (made by
Cloudkeeper) are compared through Glance's own ``checksum`` (md5) and
``os_hash_value`` (``hash_value`` in the SDK's image).

Everything here is pure: no cloud, no SDK, no network.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
from collections.abc import Mapping
from typing import Any

ID_PROPERTY = "APPLIANCE_ID"
LIST_PROPERTY = "APPLIANCE_IMAGE_LIST_ID"
STATUS_PROPERTY = "APPLIANCE_STATUS"
CHECKSUM_PROPERTY = "APPLIANCE_IMAGE_CHECKSUM"
MPURI_COMPAT_PROPERTY = "vmcatcher_event_ad_mpuri"
ACTIVE = "ACTIVE"
EOL = "EOL"

#: Appliance fields in the order Cloudkeeper's protocol lists them.
TEXT_FIELDS = (
    "title",
    "description",
    "mpuri",
    "group",
    "version",
    "architecture",
    "operating_system",
    "vo",
    "image_list_identifier",
    "base_mpuri",
    "appid",
    "digest",
)
INT_FIELDS = ("ram", "core")
FIELDS = ("identifier", *TEXT_FIELDS, *INT_FIELDS, "expiration_date", "attributes")

#: The image property of each appliance field.
FIELD_PROPERTIES = {
    field: {"identifier": ID_PROPERTY, "image_list_identifier": LIST_PROPERTY}.get(field, f"APPLIANCE_{field.upper()}")
    for field in FIELDS
}
#: Every property this collection writes (``APPLIANCE_STATUS`` is handled on its own).
MANAGED_PROPERTIES = (*FIELD_PROPERTIES.values(), CHECKSUM_PROPERTY, MPURI_COMPAT_PROPERTY)

#: Checksum algorithms an image list may name, with the length of their hex digests.
CHECKSUM_ALGORITHMS = {"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}
#: Image formats, and the Glance (disk_format, container_format) each is stored as.
IMAGE_FORMATS = {
    "raw": ("raw", "bare"),
    "qcow2": ("qcow2", "bare"),
    "vmdk": ("vmdk", "bare"),
    "ova": ("vmdk", "ova"),
}
DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
UTC = datetime.timezone.utc  # noqa: UP017 - datetime.UTC is Python 3.11+; managed nodes may run 3.10
_HEX = re.compile(r"^[0-9a-f]+$")


class ApplianceError(ValueError):
    """Input that cannot describe an appliance; the message names the field and the problem."""


@dataclasses.dataclass(frozen=True)
class ImageSource:
    """Where an appliance's image data comes from and what it must be."""

    location: str
    format: str
    checksum: str
    checksum_algorithm: str = "sha512"
    size: int | None = None
    username: str | None = dataclasses.field(default=None, repr=False)
    password: str | None = dataclasses.field(default=None, repr=False)

    @property
    def remote(self) -> bool:
        return is_url(self.location)

    @property
    def tagged_checksum(self) -> str:
        """``<algorithm>:<hex>``, as ``APPLIANCE_IMAGE_CHECKSUM`` stores it."""
        return f"{self.checksum_algorithm}:{self.checksum}"

    def to_dict(self) -> dict[str, Any]:
        """What a module returns about the image (never the credentials)."""
        return {
            "location": self.location,
            "format": self.format,
            "checksum": self.checksum,
            "checksum_algorithm": self.checksum_algorithm,
            "size": self.size,
        }


@dataclasses.dataclass(frozen=True)
class Appliance:
    """An appliance as a list or the module's options describe it."""

    identifier: str
    title: str = ""
    description: str = ""
    mpuri: str = ""
    group: str = ""
    version: str = ""
    architecture: str = ""
    operating_system: str = ""
    vo: str = ""
    image_list_identifier: str = ""
    base_mpuri: str = ""
    appid: str = ""
    digest: str = ""
    ram: int | None = None
    core: int | None = None
    #: Seconds since the epoch (UTC), or None when it never expires.
    expiration_date: int | None = None
    attributes: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    image: ImageSource | None = None

    @property
    def name(self) -> str:
        """The Glance image name: the title, as Cloudkeeper names it, else the identifier."""
        return self.title or self.identifier

    def expired(self, now: int) -> bool:
        return self.expiration_date is not None and self.expiration_date <= now

    def fields(self) -> dict[str, Any]:
        """The appliance's fields as plain values (the expiration date as ISO 8601)."""
        out = {field: getattr(self, field) for field in FIELDS}
        out["expiration_date"] = format_date(self.expiration_date)
        out["attributes"] = dict(self.attributes)
        return out


# -- values ----------------------------------------------------------------------------------


def is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def parse_date(value: Any, field: str = "expiration_date") -> int | None:
    """Seconds since the epoch from an ISO 8601 date/time, a date, or a number of seconds.

    Image lists write ``2499-12-31T22:00:00Z``; a time without a zone is UTC.
    Empty values mean "no date".
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ApplianceError(f"{field}: expected a date such as 2030-12-31T00:00:00Z, got {value!r}")
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, datetime.date):
        moment = datetime.datetime(value.year, value.month, value.day)
    else:
        text = str(value).strip()
        if re.fullmatch(r"-?\d+", text):
            return int(text)
        try:
            moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise ApplianceError(f"{field}: {text!r} is not a date such as 2030-12-31T00:00:00Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def format_date(epoch: int | None) -> str | None:
    if epoch is None:
        return None
    return datetime.datetime.fromtimestamp(epoch, UTC).strftime(DATE_FORMAT)


def _int_field(value: Any, field: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ApplianceError(f"{field}: expected a whole number, got {value!r}")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ApplianceError(f"{field}: expected a whole number, got {value!r}") from None
    if number < 0:
        raise ApplianceError(f"{field}: must not be negative, got {number}")
    return number


def _text_field(value: Any, field: str) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        raise ApplianceError(f"{field}: expected text, got {type(value).__name__}")
    return str(value).strip()


def version_key(version: str | None) -> tuple[tuple[int, int, str], ...]:
    """A sort key for versions: digit runs compare as numbers, other runs as text.

    ``1.10`` > ``1.9``, ``3.3.0-1`` > ``3.3.0``, ``20141029`` > ``20140901``; a missing
    version sorts first.
    """
    parts = re.findall(r"\d+|[^\d]+", version or "")
    return tuple((1, int(part), "") if part.isdigit() else (0, 0, part) for part in parts)


def compare_versions(left: str | None, right: str | None) -> int:
    """-1, 0 or 1 as ``left`` is older than, the same as, or newer than ``right``."""
    a, b = version_key(left), version_key(right)
    return (a > b) - (a < b)


# -- building appliances ----------------------------------------------------------------------


def image_source(spec: Mapping[str, Any], field: str = "image") -> ImageSource:
    """Check an image description (module options or a parsed list entry)."""
    location = _text_field(spec.get("location"), f"{field}.location")
    if not location:
        raise ApplianceError(f"{field}.location: give a local path or an http(s) URL of the image")
    fmt = _text_field(spec.get("format"), f"{field}.format").lower() or "raw"
    if fmt not in IMAGE_FORMATS:
        raise ApplianceError(f"{field}.format: {fmt!r} is not one of {', '.join(IMAGE_FORMATS)}")
    algorithm = _text_field(spec.get("checksum_algorithm"), f"{field}.checksum_algorithm").lower() or "sha512"
    checksum = _text_field(spec.get("checksum"), f"{field}.checksum").lower()
    if ":" in checksum:  # "sha256:abc..." names its own algorithm
        algorithm, checksum = checksum.split(":", 1)
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise ApplianceError(
            f"{field}.checksum_algorithm: {algorithm!r} is not one of {', '.join(CHECKSUM_ALGORITHMS)}"
        )
    if not checksum:
        raise ApplianceError(
            f"{field}.checksum: the image's {algorithm} checksum is required; "
            "the data is verified against it before anything is created"
        )
    if not _HEX.match(checksum) or len(checksum) != CHECKSUM_ALGORITHMS[algorithm]:
        raise ApplianceError(
            f"{field}.checksum: expected {CHECKSUM_ALGORITHMS[algorithm]} hex digits for {algorithm}, "
            f"got {len(checksum)} characters"
        )
    return ImageSource(
        location=location,
        format=fmt,
        checksum=checksum,
        checksum_algorithm=algorithm,
        size=_int_field(spec.get("size"), f"{field}.size"),
        username=spec.get("username") or None,
        password=spec.get("password") or None,
    )


def appliance_from_spec(
    spec: Mapping[str, Any],
    *,
    field: str = "appliance",
    require_image: bool = True,
) -> Appliance:
    """Check and normalise an appliance description (the module's options or a list entry)."""
    identifier = _text_field(spec.get("identifier"), f"{field}.identifier")
    if not identifier:
        raise ApplianceError(f"{field}.identifier: every appliance needs its identifier")
    values: dict[str, Any] = {"identifier": identifier}
    for name in TEXT_FIELDS:
        values[name] = _text_field(spec.get(name), f"{field}.{name}")
    for name in INT_FIELDS:
        values[name] = _int_field(spec.get(name), f"{field}.{name}")
    values["expiration_date"] = parse_date(spec.get("expiration_date"), f"{field}.expiration_date")
    attributes = spec.get("attributes") or {}
    if not isinstance(attributes, Mapping):
        raise ApplianceError(f"{field}.attributes: expected a dictionary, got {type(attributes).__name__}")
    values["attributes"] = dict(attributes)
    image = spec.get("image")
    if image:
        if not isinstance(image, Mapping):
            raise ApplianceError(f"{field}.image: expected a dictionary with location, format and checksum")
        values["image"] = image_source(image, f"{field}.image")
    elif require_image:
        raise ApplianceError(f"{field}.image: give the image's location, format and checksum")
    return Appliance(**values)


# -- properties ------------------------------------------------------------------------------


def appliance_properties(appliance: Appliance, status: str = ACTIVE) -> dict[str, str]:
    """The image properties that describe ``appliance`` (Cloudkeeper-OS's names, strings only)."""
    props: dict[str, str] = {}
    for field in FIELDS:
        value = getattr(appliance, field)
        if value in (None, "") or (field == "attributes" and not value):
            continue
        text = json.dumps(dict(value), sort_keys=True, separators=(",", ":")) if field == "attributes" else str(value)
        props[FIELD_PROPERTIES[field]] = text
    if appliance.mpuri:
        props[MPURI_COMPAT_PROPERTY] = appliance.mpuri
    if appliance.image is not None:
        props[CHECKSUM_PROPERTY] = appliance.image.tagged_checksum
    props[STATUS_PROPERTY] = status
    return props


def is_appliance_image(properties: Mapping[str, Any]) -> bool:
    return bool(properties.get(ID_PROPERTY))


def status_of(properties: Mapping[str, Any]) -> str:
    """``ACTIVE`` or ``EOL``; images Cloudkeeper made before it wrote a status count as active."""
    return EOL if str(properties.get(STATUS_PROPERTY, "")).upper() == EOL else ACTIVE


def appliance_from_properties(properties: Mapping[str, Any]) -> dict[str, Any]:
    """Rebuild an appliance's fields from an image's properties, tolerating what others wrote.

    Values that do not parse (a non-numeric ``APPLIANCE_RAM``, attributes that are
    not JSON) are returned as found rather than failing: the image is someone
    else's record, and the caller only reads it.
    """
    out: dict[str, Any] = {}
    for field, key in FIELD_PROPERTIES.items():
        raw = properties.get(key)
        if field in INT_FIELDS:
            try:
                out[field] = _int_field(raw, field)
            except ApplianceError:
                out[field] = raw
        elif field == "expiration_date":
            try:
                out[field] = format_date(parse_date(raw))
            except ApplianceError:
                out[field] = raw
        elif field == "attributes":
            out[field] = _attributes(raw)
        else:
            out[field] = "" if raw is None else str(raw)
    return out


def _attributes(raw: Any) -> Any:
    if raw in (None, ""):
        return {}
    if isinstance(raw, Mapping):
        return dict(raw)
    try:
        value = json.loads(raw)
    except (TypeError, ValueError):
        return raw
    return value if isinstance(value, dict) else raw


def property_changes(current: Mapping[str, Any], wanted: Mapping[str, str]) -> dict[str, str | None]:
    """What to set (a value) or remove (None) so the managed properties become ``wanted``.

    Only properties this collection manages are touched; ``APPLIANCE_STATUS`` is
    compared too when ``wanted`` has it.
    """
    changes: dict[str, str | None] = {}
    for key, value in wanted.items():
        if current.get(key) is None or str(current.get(key)) != value:
            changes[key] = value
    for key in MANAGED_PROPERTIES:
        if key not in wanted and current.get(key) not in (None, ""):
            changes[key] = None
    return changes


def stored_checksum(properties: Mapping[str, Any]) -> tuple[str, str] | None:
    """``(algorithm, hex)`` from ``APPLIANCE_IMAGE_CHECKSUM``, if it is there and well formed."""
    raw = str(properties.get(CHECKSUM_PROPERTY) or "")
    algorithm, _sep, digest = raw.partition(":")
    if algorithm in CHECKSUM_ALGORITHMS and digest:
        return algorithm, digest.lower()
    return None


def same_image_data(image: Mapping[str, Any], source: ImageSource) -> bool | None:
    """Whether a Glance image holds the data ``source`` describes; None when it cannot be told.

    ``image`` is the image as a plain dict (``checksum``, ``hash_algo``,
    ``hash_value``, ``size`` and ``properties``). Glance's own hashes are trusted
    first, then the checksum recorded when the data was verified.
    """
    if source.size is not None and image.get("size") is not None and int(image["size"]) != source.size:
        return False
    algorithm, wanted = source.checksum_algorithm, source.checksum
    if algorithm == "md5" and image.get("checksum"):
        return str(image["checksum"]).lower() == wanted
    if image.get("hash_algo") == algorithm and image.get("hash_value"):
        return str(image["hash_value"]).lower() == wanted
    recorded = stored_checksum(image.get("properties") or {})
    if recorded and recorded[0] == algorithm:
        return recorded[1] == wanted
    return None
