"""What the Compute route modules share: the API object, microversions, links, paging, body checks.

Route modules register their handlers on :data:`api`; :mod:`.api` imports them all.
"""

from __future__ import annotations

import hashlib
import re
import urllib.parse
import uuid
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from stacksim import faults, listing, toolkit
from stacksim.microversion import Microversions, Version
from stacksim.toolkit import naive_timestamp as now  # noqa: F401 - Nova's timestamps, for the route modules
from stacksim.web import Api, Call

MIN_VERSION = "2.1"
MAX_VERSION = "2.96"
MICROVERSIONS = Microversions("compute", MIN_VERSION, MAX_VERSION, legacy_header="X-OpenStack-Nova-API-Version")

api = Api("nova", MICROVERSIONS)


def base_url(call: Call) -> str:
    return f"{call.cloud.settings.base_url}/compute/v2.1"


def host_id(project_id: str, host: str | None) -> str:
    """Nova's ``hostId``: the host hashed with the project, so projects can't compare hosts."""
    return hashlib.sha224((project_id + host).encode()).hexdigest() if host else ""


def version(call: Call) -> Version:
    assert call.version is not None  # every non-public Compute route negotiates one
    return call.version


def since(call: Call, text: str) -> bool:
    """Is the call's microversion ``text`` or later?"""
    return version(call).at_least(text)


def require_version(call: Call, first: str) -> None:
    """A method that only exists from microversion ``first`` is a 404 before it, as in Nova."""
    if not since(call, first):
        raise faults.NotFound("The resource could not be found.")


def require_version_below(call: Call, removed: str) -> None:
    """A method removed in microversion ``removed`` is a 404 from it on."""
    if since(call, removed):
        raise faults.NotFound("The resource could not be found.")


def is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


#: what ``urllib.parse.quote`` leaves as it is (ids are uuids: quoting them is a copy)
_UNQUOTED = re.compile(r"[A-Za-z0-9_.~-]+")


class Links:
    """Links under one call's compute endpoint (its URLs worked out once, for views of many records)."""

    def __init__(self, call: Call) -> None:
        self.root = f"{call.cloud.settings.base_url}/compute"
        self.versioned = f"{self.root}/v2.1"

    def of(self, collection: str, id: str) -> list[dict[str, str]]:
        """``self`` (versioned) and ``bookmark`` (unversioned) links, as Nova writes them."""
        id = str(id)
        quoted = id if _UNQUOTED.fullmatch(id) else urllib.parse.quote(id, safe="")
        return [
            {"rel": "self", "href": f"{self.versioned}/{collection}/{quoted}"},
            {"rel": "bookmark", "href": f"{self.root}/{collection}/{quoted}"},
        ]


def links(call: Call, collection: str, id: str) -> list[dict[str, str]]:
    """``self`` (versioned) and ``bookmark`` (unversioned) links, as Nova writes them."""
    return Links(call).of(collection, id)


def flag(text: str, name: str) -> bool:
    """A strict boolean query parameter (Nova's ``bool_from_string(strict=True)``)."""
    return toolkit.to_bool(
        text,
        lambda _: faults.BadRequest(f"Invalid input for query parameters {name}. Value: {text}. Expected a boolean."),
    )


def integer(text: str, name: str, minimum: int = 0) -> int:
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise faults.BadRequest(
            f"Invalid input for query parameters {name}. Value: {text}. "
            f"'{text}' is not an integer of at least {minimum}."
        )
    return value


def page(
    call: Call,
    records: Iterable[dict[str, Any]],
    *,
    key: str = "id",
    sort_keys: dict[str, str] | None = None,
    default_sort: list[tuple[str, bool]] | None = None,
    paged: bool = True,
    marker_error: str = "marker [{}] not found",
) -> tuple[list[dict[str, Any]], bool, listing.ListQuery]:
    """Sort and page ``records`` by the call's ``sort_key``/``sort_dir``/``limit``/``marker``.

    ``sort_keys`` maps the sort keys Nova accepts to record fields (None: no
    sorting by the client). Returns the page, whether more follow, and the query.
    Filters are the caller's business; Nova's lists take their own.
    """
    q = listing.ListQuery.parse(call.query)
    q.filters.clear()
    if not paged:
        q.limit, q.marker = None, None
    sort: list[tuple[str, bool]] = []
    for name, descending in q.sort:
        if sort_keys is None or name not in sort_keys:
            raise faults.BadRequest(f"Invalid input for query parameters sort_key. Value: {name}.")
        sort.append((sort_keys[name], descending))
    q.sort = sort or list(default_sort or [])
    try:
        chosen = listing.select(records, q, key=key)
    except faults.NotFound:
        raise faults.BadRequest(marker_error.format(q.marker)) from None
    return chosen.items, chosen.has_next, q


def next_links(call: Call, collection: str, items: list[dict[str, Any]], has_next: bool, key: str = "id") -> list:
    """Nova's ``<collection>_links``: one ``next`` link when a limited page has more after it."""
    if not has_next or not items:
        return []
    kept = [(k, v) for k, v in call.query.multi_items() if k != "marker"]
    query = urllib.parse.urlencode([*kept, ("marker", str(items[-1][key]))])
    return [{"rel": "next", "href": f"{base_url(call)}/{collection}?{query}"}]


def too_new(root: str, model: BaseModel, call: Call, gates: dict[str, str]) -> None:
    """Reject body fields the call's microversion does not know yet, as Nova's schemas do."""
    for field, first in gates.items():
        if field in model.model_fields_set and not since(call, first):
            info = type(model).model_fields[field]
            name = info.alias or field
            raise faults.BadRequest(
                f"Invalid input for field/attribute {root}. Additional properties are not allowed "
                f"('{name}' was unexpected)"
            )


def too_old(root: str, model: BaseModel, call: Call, gates: dict[str, str]) -> None:
    """Reject body fields the call's microversion no longer takes (``gates``: field -> removed in)."""
    for field, removed in gates.items():
        if field in model.model_fields_set and since(call, removed):
            info = type(model).model_fields[field]
            name = info.alias or field
            raise faults.BadRequest(
                f"Invalid input for field/attribute {root}. Additional properties are not allowed "
                f"('{name}' was unexpected)"
            )
