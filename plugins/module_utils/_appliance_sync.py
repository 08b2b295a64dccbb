# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The appliance sync planner, private to the opensandbox.cloud collection.

Given what should be (appliances, each with the project it belongs in) and what
Glance has (the images carrying the appliances' properties), :func:`plan` says
what to do, in the order to do it:

1. ``add`` an image for an appliance that has none holding its data (new, a new
   version, or moved to another project);
2. ``update`` the properties, name, ``min_ram`` or visibility of the image that
   already holds the data (and make it ``ACTIVE`` again if it was retired);
3. ``retire`` images that are no longer current: ``APPLIANCE_STATUS=EOL`` and
   private, as Cloudkeeper-OS does;
4. ``delete`` retired images that a newer image of the same appliance supersedes
   and that no server uses; with ``purge`` (or ``expired='remove'``), every image
   of an appliance that is going away; and uploads that never finished.

An appliance that is going away (``state=absent``, missing from the list, or
expired) keeps its newest image, retired, unless it is purged. The planner is
pure: it reads image dicts (see :func:`image_record`) and asks ``in_use`` whether
a server runs on an image.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ansible_collections.opensandbox.cloud.plugins.module_utils._appliance import (
    ACTIVE,
    EOL,
    FIELD_PROPERTIES,
    ID_PROPERTY,
    IMAGE_FORMATS,
    STATUS_PROPERTY,
    Appliance,
    appliance_from_properties,
    appliance_properties,
    property_changes,
    same_image_data,
    status_of,
    version_key,
)

EXPIRED_POLICIES = ("ignore", "retire", "remove")
RETIRED_VISIBILITY = "private"
#: Image attributes (not properties) an update may change.
UPDATABLE_ATTRIBUTES = ("name", "min_ram", "visibility")
#: Placeholder id of an image that an ``add`` will create.
NEW = None


@dataclasses.dataclass(frozen=True)
class Wish:
    """An appliance that should be in Glance, in the project (id) its VO maps to."""

    appliance: Appliance
    project_id: str


@dataclasses.dataclass
class Action:
    """One step of a plan.

    ``kind`` is ``add``, ``update``, ``retire`` or ``delete``; ``changes`` holds, for
    ``update`` and ``retire``, the image attributes to set and the properties to set
    (a value) or remove (None).
    """

    kind: str
    identifier: str
    reason: str
    image_id: str | None = None
    wish: Wish | None = None
    changes: dict[str, Any] = dataclasses.field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The action as the module reports it."""
        out: dict[str, Any] = {
            "action": self.kind,
            "identifier": self.identifier,
            "image_id": self.image_id,
            "reason": self.reason,
        }
        if self.wish is not None:
            out["project_id"] = self.wish.project_id
            out["version"] = self.wish.appliance.version
        if self.changes:
            out["changes"] = sorted(self.changes)
        return out


@dataclasses.dataclass
class Plan:
    actions: list[Action]
    #: Image records as they are, and as they will be once the plan has run.
    before: list[dict[str, Any]]
    after: list[dict[str, Any]]

    @property
    def changed(self) -> bool:
        return bool(self.actions)


# -- image records ---------------------------------------------------------------------------


def image_record(image: Mapping[str, Any]) -> dict[str, Any]:
    """A Glance image (a plain dict, custom properties under ``properties``) as an appliance record.

    This is what the modules return for every appliance image: the appliance's
    fields rebuilt from the properties, its ``status`` (``ACTIVE``/``EOL``) and the
    image's own facts.
    """
    props = image.get("properties") or {}
    record = appliance_from_properties(props)
    record.update(
        status=status_of(props),
        image_id=image.get("id"),
        image_name=image.get("name"),
        image_status=image.get("status"),
        project_id=image.get("owner"),
        visibility=image.get("visibility"),
        disk_format=image.get("disk_format"),
        container_format=image.get("container_format"),
        size=image.get("size"),
        min_ram=image.get("min_ram"),
        created_at=image.get("created_at"),
    )
    return record


def image_attributes(wish: Wish, visibility: str) -> dict[str, Any]:
    """The Glance attributes (not properties) an appliance's image is created with."""
    appliance = wish.appliance
    disk_format, container_format = IMAGE_FORMATS[appliance.image.format if appliance.image else "raw"]
    return {
        "name": appliance.name,
        "disk_format": disk_format,
        "container_format": container_format,
        "visibility": visibility,
        "min_ram": appliance.ram or 0,
        "owner": wish.project_id,
    }


def _newest_first(images: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    def key(image: Mapping[str, Any]) -> tuple[Any, ...]:
        props = image.get("properties") or {}
        return (version_key(props.get(FIELD_PROPERTIES["version"])), str(image.get("created_at") or ""))

    return sorted(images, key=key, reverse=True)


def _holds(image: Mapping[str, Any], wish: Wish) -> bool:
    """Whether ``image`` already holds the wished appliance's data, in the right project."""
    if image.get("owner") != wish.project_id or image.get("status") != "active":
        return False
    source = wish.appliance.image
    if source is None:
        raise ValueError(f"appliance {wish.appliance.identifier!r} has no image to compare")
    same = same_image_data(image, source)
    if same is None:  # no comparable checksum (an adopted image): trust an equal version
        version = (image.get("properties") or {}).get(FIELD_PROPERTIES["version"])
        return bool(wish.appliance.version) and version == wish.appliance.version
    return same


# -- planning -------------------------------------------------------------------------------------


class _Planner:
    def __init__(self, visibility: str, in_use: Callable[[str], bool]) -> None:
        self.visibility = visibility
        self.in_use = in_use
        self.adds: list[Action] = []
        self.updates: list[Action] = []
        self.retires: list[Action] = []
        self.deletes: list[Action] = []
        self.after: list[dict[str, Any]] = []

    def actions(self) -> list[Action]:
        return [*self.adds, *self.updates, *self.retires, *self.deletes]

    # Outcomes of a single image.
    def _keep(self, image: Mapping[str, Any], props: Mapping[str, Any] | None = None, **attrs: Any) -> None:
        merged = {**image, **attrs, "properties": {**(image.get("properties") or {}), **(props or {})}}
        merged["properties"] = {k: v for k, v in merged["properties"].items() if v is not None}
        self.after.append(image_record(merged))

    def _keep_retired(self, image: Mapping[str, Any], changes: Mapping[str, Any]) -> None:
        self._keep(image, {STATUS_PROPERTY: EOL}, **{k: v for k, v in changes.items() if k in UPDATABLE_ATTRIBUTES})

    def delete(self, identifier: str, image: Mapping[str, Any], reason: str) -> None:
        self.deletes.append(Action("delete", identifier, reason, image_id=image.get("id")))

    def _retire(self, identifier: str, image: Mapping[str, Any], reason: str) -> dict[str, Any]:
        """Make ``image`` EOL and private (if it is not already); returns the changes."""
        changes: dict[str, Any] = {}
        if status_of(image.get("properties") or {}) != EOL:
            changes[STATUS_PROPERTY] = EOL
        if image.get("visibility") != RETIRED_VISIBILITY:
            changes["visibility"] = RETIRED_VISIBILITY
        if changes:
            self.retires.append(Action("retire", identifier, reason, image_id=image.get("id"), changes=changes))
        return changes

    def _retire_superseded(self, identifier: str, images: Sequence[Mapping[str, Any]], reason: str) -> None:
        """Older or replaced images: retired, then deleted unless a server still runs on them."""
        for image in images:
            changes = self._retire(identifier, image, reason)
            if self.in_use(str(image.get("id"))):
                self._keep_retired(image, changes)
            else:
                self.delete(identifier, image, f"{reason}; no server uses it")

    # Whole appliances.
    def present(self, wish: Wish, images: Sequence[Mapping[str, Any]]) -> None:
        identifier = wish.appliance.identifier
        images = _newest_first(images)
        holding = [i for i in images if _holds(i, wish)]
        # Prefer an image that is already ACTIVE, then the newest.
        holding.sort(key=lambda i: status_of(i.get("properties") or {}) != ACTIVE)
        keep = holding[0] if holding else None
        if keep is None:
            reason = "new version" if images else "new appliance"
            if images and all(i.get("owner") != wish.project_id for i in images):
                reason = "moved to another project"
            self.adds.append(Action("add", identifier, reason, wish=wish))
            wanted = appliance_properties(wish.appliance, ACTIVE)
            self._keep({"id": NEW, "status": "active", **image_attributes(wish, self.visibility)}, wanted)
        else:
            self._update(wish, keep)
        others = [i for i in images if i is not keep]
        self._retire_superseded(identifier, others, "superseded by a newer image of the appliance")

    def _update(self, wish: Wish, image: Mapping[str, Any]) -> None:
        changes: dict[str, Any] = dict(
            property_changes(image.get("properties") or {}, appliance_properties(wish.appliance, ACTIVE))
        )
        attrs = image_attributes(wish, self.visibility)
        for key in UPDATABLE_ATTRIBUTES:
            if image.get(key) != attrs[key]:
                changes[key] = attrs[key]
        if changes:
            was_eol = status_of(image.get("properties") or {}) == EOL
            reason = "listed again: made ACTIVE" if was_eol else "appliance metadata changed"
            action = Action("update", wish.appliance.identifier, reason, image_id=image.get("id"), changes=changes)
            self.updates.append(action)
        props = {k: v for k, v in changes.items() if k not in UPDATABLE_ATTRIBUTES}
        self._keep(image, props, **{k: v for k, v in changes.items() if k in UPDATABLE_ATTRIBUTES})

    def absent(self, identifier: str, images: Sequence[Mapping[str, Any]], *, delete: bool, reason: str) -> None:
        if delete:
            for image in images:
                self.delete(identifier, image, reason)
            return
        ordered = _newest_first(images)
        if not ordered:
            return
        newest, older = ordered[0], ordered[1:]
        self._keep_retired(newest, self._retire(identifier, newest, reason))
        self._retire_superseded(identifier, older, "superseded by a newer image of the appliance")


def plan(
    wishes: Sequence[Wish],
    images: Iterable[Mapping[str, Any]],
    *,
    now: int,
    state: str = "present",
    purge: bool = False,
    expired: str = "retire",
    list_expired: bool = False,
    visibility: str = "private",
    in_use: Callable[[str], bool] = lambda _image_id: False,
) -> Plan:
    """Plan how Glance's appliance ``images`` become ``wishes``.

    ``images`` are the images in scope (one appliance's, or one image list's),
    already as plain dicts. Every image in scope whose appliance is not wished
    for is treated as absent: retired (its newest image kept, EOL) or, with
    ``purge``, deleted. With ``state='absent'`` every wished appliance goes too.
    ``list_expired`` makes every appliance expired (the image list itself is).
    """
    if expired not in EXPIRED_POLICIES:
        raise ValueError(f"expired must be one of {', '.join(EXPIRED_POLICIES)}")
    images = list(images)
    by_identifier: dict[str, list[Mapping[str, Any]]] = {}
    for image in images:
        ident = str((image.get("properties") or {}).get(ID_PROPERTY) or "")
        if ident:
            by_identifier.setdefault(ident, []).append(image)
    planner = _Planner(visibility, in_use)
    for ident, found in by_identifier.items():
        # An image whose upload never finished holds nothing worth keeping.
        for image in [i for i in found if i.get("status") not in ("active", "deactivated")]:
            planner.delete(ident, image, f"upload never finished (image status {image.get('status')})")
            found.remove(image)
    wished = set()
    for wish in wishes:
        ident = wish.appliance.identifier
        wished.add(ident)
        found = by_identifier.get(ident, [])
        is_expired = list_expired or wish.appliance.expired(now)
        if state == "absent":
            planner.absent(ident, found, delete=purge, reason="purged" if purge else "retired (state=absent)")
        elif is_expired and expired == "remove":
            planner.absent(ident, found, delete=True, reason="expired (expired=remove)")
        elif is_expired and expired == "retire":
            planner.absent(ident, found, delete=False, reason="expired")
        else:
            planner.present(wish, found)
    for ident in sorted(set(by_identifier) - wished):
        reason = "purged: no longer listed" if purge else "no longer listed"
        planner.absent(ident, by_identifier[ident], delete=purge, reason=reason)
    before = sorted((image_record(i) for i in images), key=record_order)
    after = sorted(planner.after, key=record_order)
    return Plan(actions=planner.actions(), before=before, after=after)


def record_order(record: Mapping[str, Any]) -> tuple[str, str, str]:
    """Sort key of appliance records: by appliance, oldest image first (a predicted new image last)."""
    return (str(record.get("identifier")), str(record.get("created_at") or "~"), str(record.get("image_id") or ""))
