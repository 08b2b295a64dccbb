# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Resource kinds, SDK resources as plain dicts, and finding by name or id (private to the collection).

A ``Kind`` says everything the kit needs to know about one sort of cloud resource: how
messages name it, the SDK calls that get one by id and list them (passed as functions
of the connection, so the call graph stays visible), the fields of its plain-dict view
(what a module's RETURN documents) and where the cloud says why it failed. The kinds
the collection uses are in ``_kinds``; a module may define its own, or adjust one with
``dataclasses.replace``.

- ``to_dict(kind, resource)``: the view, always with the same keys, plain data only.
- ``plain(value)``: any SDK value as JSON-safe data (resources, datetimes, sets ...).
- ``find(module, kind, name_or_id)``: by id, else by exact name; two matches fail with
  their ids; ``required=True`` fails with a message a person can act on when none does.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn, Union

if TYPE_CHECKING:
    from ansible_collections.opensandbox.cloud.plugins.module_utils._module import AnsibleOpenStackModule

#: Where a view's field comes from: an attribute name, or a function of the resource.
Getter = Union[str, Callable[[Any], Any]]  # noqa: UP007 - modules run on Python 3.10 targets too


@dataclass(frozen=True)
class Kind:
    """One sort of resource, as the kit sees it.

    ``get`` and ``list`` take the connection and return the SDK's own method, e.g.
    ``get=lambda conn: conn.block_storage.get_volume``. ``name_filter`` says whether
    ``list`` accepts ``name=`` (when not, everything is listed and matched here; a
    server-side filter is only a shortcut either way, the match is always exact).
    ``fault(conn, resource)`` returns the cloud's own reason for a failed resource.
    ``list_query`` is always passed to ``list`` (e.g. Cinder lists only public volume
    types, even to admins, unless asked for all). ``delete_failed`` says which statuses
    end a wait for its deletion as failed: ``None`` for OpenStack's failure statuses, an
    empty tuple when no status does (a Nova server keeps ``ERROR`` while it is deleted).
    """

    name: str
    get: Callable[[Any], Callable[..., Any]]
    list: Callable[[Any], Callable[..., Iterable[Any]]]
    fields: tuple[tuple[str, Getter], ...] = ()
    name_filter: bool = True
    fault: Callable[[Any, Any], Any] | None = None
    name_attr: str = "name"
    status_attr: str = "status"
    list_query: Mapping[str, Any] = field(default_factory=dict)
    delete_failed: Collection[str] | Callable[[Any], bool] | None = None

    def status(self, resource: Any) -> str | None:
        value = getattr(resource, self.status_attr, None)
        return None if value is None else str(value)

    def label(self, resource: Any) -> str:
        """``volume 'data' (3f2a...)``: how a message names one resource."""
        name = getattr(resource, self.name_attr, None)
        rid = getattr(resource, "id", None)
        if name and rid and name != rid:
            return f"{self.name} {name!r} ({rid})"
        return f"{self.name} {name or rid!r}"

    def keys(self) -> list[str]:
        """The keys of the view, in order."""
        return [key for key, _getter in self.fields]


def plain(value: Any) -> Any:
    """Turn SDK values into plain data Ansible can return: resources and munches become dicts,
    datetimes ISO 8601 strings, tuples lists, sets sorted lists; ``location`` is dropped."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if _is_sdk_resource(value):
        value = value.to_dict(computed=False)
    elif callable(getattr(value, "to_dict", None)) and not isinstance(value, Mapping):
        value = value.to_dict()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items() if k != "location"}
    if isinstance(value, (set, frozenset)):
        return sorted((plain(v) for v in value), key=str)
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _is_sdk_resource(value: Any) -> bool:
    # openstack.resource.Resource subclasses dict; its to_dict() is the faithful view.
    return isinstance(value, dict) and callable(getattr(value, "to_dict", None)) and hasattr(value, "_body")


def read_field(resource: Any, getter: Getter) -> Any:
    """One field of a view: a missing attribute is ``None``, never an error."""
    if callable(getter):
        return getter(resource)
    return getattr(resource, getter, None)


def to_dict(kind: Kind, resource: Any) -> dict[str, Any] | None:
    """The plain-dict view of ``resource``: exactly ``kind``'s fields, in order; ``None`` for ``None``.

    A kind without fields gives the SDK's own ``to_dict()`` (its keys follow the SDK version).
    """
    if resource is None:
        return None
    if not kind.fields:
        return plain(resource)
    return {key: plain(read_field(resource, getter)) for key, getter in kind.fields}


def find(
    module: AnsibleOpenStackModule,
    kind: Kind,
    name_or_id: str,
    *,
    required: bool = False,
    **query: Any,
) -> Any:
    """The resource whose id, else whose name, is ``name_or_id``; ``None`` if there is none.

    ``query`` narrows the listing (e.g. ``volume_id=`` for snapshots). Two or more with
    that name fail the module with their ids; ``required=True`` fails it when none matches.
    """
    found = module.call_tolerating((400, 404), kind.get(module.conn), name_or_id)
    if found is not None:
        return found
    params = {**kind.list_query, **query}
    if kind.name_filter:
        params["name"] = name_or_id
    listed = module.call(kind.list(module.conn), **params) or []
    matches = [item for item in listed if getattr(item, kind.name_attr, None) == name_or_id]
    if len(matches) > 1:
        ids = ", ".join(sorted(str(getattr(m, "id", "?")) for m in matches))
        module.fail_json(
            msg=f"{len(matches)} {kind.name}s are named {name_or_id!r} on {module.cloud_label or 'the cloud'} "
            f"(ids {ids}); give the id of the one you mean, or rename the others"
        )
    if matches:
        return matches[0]
    if required:
        not_found(module, kind, name_or_id)
    return None


def not_found(module: AnsibleOpenStackModule, kind: Kind, name_or_id: str, what: str = "") -> NoReturn:
    """Fail because no ``kind`` is named ``name_or_id`` (``what`` says what it was needed for)."""
    purpose = f" ({what})" if what else ""
    module.fail_json(
        msg=f"No {kind.name} named {name_or_id!r}{purpose} on {module.cloud_label or 'the cloud'}: none has that "
        f"name or id among those these credentials may see. Check the name, or use credentials of the project "
        f"that owns it."
    )
