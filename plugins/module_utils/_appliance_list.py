# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Image lists and VO mappings, private to the opensandbox.cloud collection.

An image list is the EGI AppDB / HEPiX document Cloudkeeper reads::

    {"hv:imagelist": {"dc:identifier": ..., "dc:date:expires": ..., "ad:vo": ...,
                      "hv:images": [{"hv:image": {"dc:identifier": ..., "hv:uri": ...,
                                                  "sl:checksum:sha512": ..., ...}}]}}

AppDB serves it clear-signed as S/MIME (``multipart/signed``); the JSON part is
read from that, but the signature is not checked here (``signed`` says it was
there, so a caller can warn).

A VO mapping says which project receives a VO's appliances. Cloudkeeper-OS reads
it from ``mapping.json`` (``{"vo": {"project": "name"}}``) or, in older releases,
``voms.json`` (``{"vo": {"tenant": "name"}}``); both are accepted, and so is the
plain ``{"vo": "name"}``.
"""

from __future__ import annotations

import dataclasses
import email
import email.policy
import hashlib
import json
import os
from collections.abc import Mapping
from typing import Any

from ansible_collections.opensandbox.cloud.plugins.module_utils._appliance import (
    Appliance,
    ApplianceError,
    appliance_from_spec,
    format_date,
    parse_date,
)

#: The strongest checksum an entry gives is used.
CHECKSUM_KEYS = (
    ("sl:checksum:sha512", "sha512"),
    ("sl:checksum:sha256", "sha256"),
    ("sl:checksum:sha1", "sha1"),
    ("sl:checksum:md5", "md5"),
)
#: The entry keys Cloudkeeper digests to tell whether an appliance's metadata changed.
DIGEST_KEYS = frozenset(
    {
        "dc:identifier",
        "ad:mpuri",
        "dc:date:expires",
        "dc:title",
        "dc:description",
        "ad:group",
        "hv:ram_minimum",
        "hv:core_minimum",
        "hv:version",
        "sl:arch",
        "ad:base_mpuri",
        "ad:appid",
        "sl:os",
        "sl:osname",
        "sl:osversion",
    }
)
#: Entry keys that become appliance fields or image facts (the rest go to ``attributes``).
MAPPED_KEYS = DIGEST_KEYS | {"hv:uri", "hv:size", "hv:format"} | {key for key, _algorithm in CHECKSUM_KEYS}
MAPPING_KEYS = ("project", "tenant")


@dataclasses.dataclass(frozen=True)
class ImageList:
    identifier: str
    title: str = ""
    description: str = ""
    source: str = ""
    uri: str = ""
    version: str = ""
    vo: str = ""
    created: int | None = None
    expires: int | None = None
    signed: bool = False
    appliances: tuple[Appliance, ...] = ()

    def expired(self, now: int) -> bool:
        return self.expires is not None and self.expires <= now

    def summary(self) -> dict[str, Any]:
        """The list's own fields, as the module returns them."""
        return {
            "identifier": self.identifier,
            "title": self.title,
            "description": self.description,
            "source": self.source,
            "uri": self.uri,
            "version": self.version,
            "vo": self.vo,
            "created": format_date(self.created),
            "expires": format_date(self.expires),
            "signed": self.signed,
            "appliances": [a.identifier for a in self.appliances],
        }


# -- reading the document ---------------------------------------------------------------------


def document_from_text(text: str, origin: str) -> tuple[dict[str, Any], bool]:
    """Parse an image list's text: JSON, or JSON inside a clear-signed S/MIME message.

    Returns the document and whether it came signed. ``origin`` (a path or URL)
    names the source in error messages.
    """
    body = text.lstrip("\ufeff").strip()
    signed = False
    if "-----BEGIN PKCS7-----" in body:
        raise ApplianceError(
            f"image_list: {origin} is an opaque PKCS#7 message; give the list as JSON or clear-signed S/MIME "
            "(openssl smime -verify -in LIST -out LIST.json extracts it)"
        )
    if not body.startswith(("{", "[")):
        body, signed = _signed_content(body, origin), True
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise ApplianceError(f"image_list: {origin} is not valid JSON ({exc})") from None
    if not isinstance(document, dict):
        raise ApplianceError(f"image_list: {origin} must hold a JSON object with 'hv:imagelist'")
    return document, signed


def _signed_content(text: str, origin: str) -> str:
    message = email.message_from_string(text, policy=email.policy.compat32)
    if message.get_content_type() == "multipart/signed" and message.is_multipart():
        first = message.get_payload(0)
        payload = first.get_payload(decode=True) if not first.is_multipart() else None
        if payload:
            return payload.decode("utf-8", errors="replace")
    raise ApplianceError(f"image_list: {origin} is neither JSON nor a clear-signed (multipart/signed) S/MIME message")


def read_text_file(path: str, what: str) -> str:
    """A small local file's text, with an error that says which option and file failed."""
    try:
        with open(os.path.expanduser(path), encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise ApplianceError(f"{what}: cannot read {path}: {exc.strerror or exc}") from None


# -- parsing ------------------------------------------------------------------------------------


def parse_image_list(document: Mapping[str, Any], *, signed: bool = False) -> ImageList:
    """Turn an image list document into an :class:`ImageList` of checked appliances."""
    body = document.get("hv:imagelist", document)
    if not isinstance(body, Mapping):
        raise ApplianceError("image_list: 'hv:imagelist' must be an object")
    identifier = str(body.get("dc:identifier") or "").strip()
    if not identifier:
        raise ApplianceError("image_list: the list has no 'dc:identifier'")
    entries = body.get("hv:images")
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise ApplianceError("image_list: 'hv:images' must be a list")
    expires = parse_date(body.get("dc:date:expires"), "image_list 'dc:date:expires'")
    vo = str(body.get("ad:vo") or "").strip()
    appliances: list[Appliance] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        appliance = _appliance(entry, index, identifier, vo, expires)
        if appliance.identifier in seen:
            raise ApplianceError(f"image_list: appliance {appliance.identifier!r} is listed twice")
        seen.add(appliance.identifier)
        appliances.append(appliance)
    return ImageList(
        identifier=identifier,
        title=str(body.get("dc:title") or ""),
        description=str(body.get("dc:description") or ""),
        source=str(body.get("dc:source") or ""),
        uri=str(body.get("hv:uri") or ""),
        version=str(body.get("hv:version") or ""),
        vo=vo,
        created=parse_date(body.get("dc:date:created"), "image_list 'dc:date:created'"),
        expires=expires,
        signed=signed,
        appliances=tuple(appliances),
    )


def _appliance(entry: Any, index: int, list_id: str, vo: str, list_expires: int | None) -> Appliance:
    where = f"image_list 'hv:images'[{index}]"
    image = entry.get("hv:image", entry) if isinstance(entry, Mapping) else None
    if not isinstance(image, Mapping):
        raise ApplianceError(f"{where}: expected an object with 'hv:image'")
    name = image.get("dc:identifier") or f"#{index}"
    checksum, algorithm = "", "sha512"
    for key, algo in CHECKSUM_KEYS:
        if image.get(key):
            checksum, algorithm = str(image[key]), algo
            break
    operating_system = " ".join(str(image[k]).strip() for k in ("sl:os", "sl:osname", "sl:osversion") if image.get(k))
    spec = {
        "identifier": image.get("dc:identifier"),
        "title": image.get("dc:title"),
        "description": image.get("dc:description"),
        "mpuri": image.get("ad:mpuri"),
        "group": image.get("ad:group"),
        "ram": image.get("hv:ram_minimum"),
        "core": image.get("hv:core_minimum"),
        "version": image.get("hv:version"),
        "architecture": image.get("sl:arch"),
        "operating_system": operating_system,
        "vo": vo,
        "expiration_date": image.get("dc:date:expires") or list_expires,
        "image_list_identifier": list_id,
        "base_mpuri": image.get("ad:base_mpuri"),
        "appid": image.get("ad:appid"),
        "digest": cloudkeeper_digest(image),
        "attributes": {k: str(v) for k, v in image.items() if k not in MAPPED_KEYS and _scalar(v)},
        "image": {
            "location": image.get("hv:uri"),
            "format": image.get("hv:format"),
            "checksum": checksum,
            "checksum_algorithm": algorithm,
            "size": image.get("hv:size"),
        },
    }
    try:
        return appliance_from_spec(spec, field=f"{where} ({name})")
    except ApplianceError as exc:
        # Name the list's keys rather than the module's field names.
        raise ApplianceError(_list_terms(str(exc))) from None


def _list_terms(message: str) -> str:
    for ours, theirs in (
        (".image.location", " 'hv:uri'"),
        (".image.format", " 'hv:format'"),
        (".image.checksum_algorithm", " checksum"),
        (".image.checksum", " 'sl:checksum:sha512'"),
        (".image.size", " 'hv:size'"),
        (".identifier", " 'dc:identifier'"),
        (".ram", " 'hv:ram_minimum'"),
        (".core", " 'hv:core_minimum'"),
        (".expiration_date", " 'dc:date:expires'"),
    ):
        message = message.replace(f"){ours}:", f"){theirs}:")
    return message


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool)) and value != ""


def cloudkeeper_digest(image: Mapping[str, Any]) -> str:
    """The SHA-512 Cloudkeeper computes over an entry's descriptive keys (in the entry's order)."""
    picked = {key: value for key, value in image.items() if key in DIGEST_KEYS}
    text = json.dumps(picked, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha512(text.encode("utf-8")).hexdigest()


# -- VO mapping ---------------------------------------------------------------------------------


def vo_mapping(value: Any) -> dict[str, str]:
    """``{vo: project}`` from a dict or the path of a Cloudkeeper ``mapping.json``/``voms.json``.

    A VO's entry is a project name or ID, or an object with ``project`` (mapping.json)
    or ``tenant`` (voms.json).
    """
    if value in (None, "", {}):
        return {}
    origin = "vo_mapping"
    if isinstance(value, str):
        origin = f"vo_mapping ({value})"
        try:
            value = json.loads(read_text_file(value, "vo_mapping"))
        except ValueError as exc:
            raise ApplianceError(f"{origin}: not valid JSON ({exc})") from None
    if not isinstance(value, Mapping):
        raise ApplianceError(f"{origin}: expected an object of VO names, got {type(value).__name__}")
    mapping: dict[str, str] = {}
    for vo, target in value.items():
        if isinstance(target, Mapping):
            found = [target[key] for key in MAPPING_KEYS if target.get(key)]
            if not found:
                raise ApplianceError(f"{origin}: VO {vo!r} has neither 'project' nor 'tenant'")
            target = found[0]
        if not isinstance(target, str) or not target.strip():
            raise ApplianceError(f"{origin}: VO {vo!r} must map to a project name or ID")
        mapping[str(vo)] = target.strip()
    return mapping


def project_for_vo(mapping: Mapping[str, str], vo: str, appliance: str) -> str:
    """The project for ``vo``; an unmapped VO fails with the VOs that are mapped."""
    if vo in mapping:
        return mapping[vo]
    known = ", ".join(sorted(mapping)) or "none"
    shown = repr(vo) if vo else "(no VO)"
    raise ApplianceError(
        f"vo_mapping: appliance {appliance!r} belongs to VO {shown}, which vo_mapping does not map "
        f"to a project (mapped: {known}); add it to vo_mapping"
    )
