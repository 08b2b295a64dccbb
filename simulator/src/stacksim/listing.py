"""List calls, shared by the services: filters, ``fields``, sorting, pagination, links.

Everything here works on *views*, the plain dicts a service sends its clients,
so a list is filtered and sorted on exactly what the client sees. A service

1. parses the query string once: ``q = ListQuery.parse(call.query)``;
2. builds the views of the records the caller may see, in their natural order;
3. selects a page: ``page = select(views, q, filterable=..., matchers=...)``;
4. trims each item to ``q.fields`` with :func:`pick` and, when ``q.limit`` was
   given, adds :func:`links` (``rel`` next/previous) in its own envelope
   (Neutron ``<collection>_links``, Nova ``<collection>_links``, Cinder the same).

Semantics (those of Neutron's, which Nova and Cinder share in the main):

- any attribute may be a filter; a repeated key means OR (``?status=A&status=B``);
  values are compared by the type of the attribute (``true``/``1`` for booleans,
  numbers for integers, membership for lists);
- ``sort_key``/``sort_dir`` are repeatable and pair up; ties keep the natural order;
- ``limit`` + ``marker`` (an id) + ``page_reverse`` page through the sorted list;
  a marker the caller cannot see is an error, as in the real services.

Not implemented: filters on nested dicts unless a service gives a matcher.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from stacksim import clock, faults, toolkit
from stacksim.store import Store

#: Query keys that steer the list rather than filter it.
RESERVED = frozenset({"fields", "sort_key", "sort_dir", "limit", "marker", "page_reverse"})

TRUE, FALSE = toolkit.TRUE, toolkit.FALSE

#: ``matcher(view_value, wanted_values) -> bool`` for attributes that need more than equality.
Matcher = Callable[[Any, list[str]], bool]


def to_bool(text: str, name: str = "value") -> bool:
    return toolkit.to_bool(
        text, lambda _: faults.BadRequest(f"Invalid input for {name}. Reason: '{text}' cannot be converted to boolean.")
    )


@dataclass
class ListQuery:
    filters: dict[str, list[str]] = field(default_factory=dict)
    fields: list[str] = field(default_factory=list)
    sort: list[tuple[str, bool]] = field(default_factory=list)  #: (key, descending)
    limit: int | None = None
    marker: str | None = None
    page_reverse: bool = False

    @classmethod
    def parse(cls, params: Any, reserved: Collection[str] = RESERVED) -> ListQuery:
        """From a query string (anything with ``multi_items()`` or a mapping of lists)."""
        items = _multi_items(params)
        q = cls()
        keys: list[str] = []
        dirs: list[str] = []
        for name, value in items:
            if name == "fields":
                q.fields.extend(f for f in value.split(",") if f)
            elif name == "sort_key":
                keys.append(value)
            elif name == "sort_dir":
                dirs.append(value)
            elif name == "limit":
                q.limit = _limit(value)
            elif name == "marker":
                q.marker = value or None
            elif name == "page_reverse":
                q.page_reverse = to_bool(value, "page_reverse")
            elif name not in reserved:
                q.filters.setdefault(name, []).append(value)
        if dirs and len(dirs) != len(keys):
            raise faults.BadRequest("The number of sort_keys and sort_dirs must be same")
        for i, key in enumerate(keys):
            direction = dirs[i].lower() if dirs else "asc"
            if direction not in ("asc", "desc"):
                raise faults.BadRequest(f"{dirs[i]} is invalid value for sort_dirs, valid value is 'asc' and 'desc'")
            q.sort.append((key, direction == "desc"))
        return q


def _multi_items(params: Any) -> list[tuple[str, str]]:
    if hasattr(params, "multi_items"):
        return list(params.multi_items())
    items: list[tuple[str, str]] = []
    for name, value in (params or {}).items():
        values = value if isinstance(value, list | tuple) else [value]
        items.extend((name, str(v)) for v in values)
    return items


def whole_number(text: str, not_a_number: Exception, negative: Exception | None = None) -> int:
    """``text`` as an integer of 0 or more (a limit, an offset), else the service's error."""
    try:
        value = int(text)
    except ValueError:
        raise not_a_number from None
    if value < 0:
        raise negative or not_a_number
    return value


def _limit(text: str) -> int | None:
    value = whole_number(text, faults.BadRequest(f"Limit must be an integer 0 or greater and not '{text}'"))
    return value or None  # 0 means no limit


# -- matching ------------------------------------------------------------------------


def matches(value: Any, wanted: list[str]) -> bool:
    """Does a view's value equal any of the wanted query values (compared by its type)?"""
    if isinstance(value, bool):
        return any(to_bool(w) == value for w in wanted)
    if isinstance(value, int | float):
        for w in wanted:
            try:
                if float(w) == value:
                    return True
            except ValueError:
                continue
        return False
    if value is None:
        return any(w in ("", "None", "null") for w in wanted)
    if isinstance(value, list):
        return any(matches(item, wanted) for item in value if not isinstance(item, dict | list))
    if isinstance(value, dict):
        return False
    return str(value) in wanted


def _split(wanted: list[str]) -> set[str]:
    return {t for w in wanted for t in w.split(",") if t}


#: The tag filters of Neutron, Nova and Cinder: ``tags`` (all of), ``tags-any``,
#: ``not-tags`` (not all of) and ``not-tags-any`` (none of); values are comma-separated.
TAG_MATCHERS: dict[str, tuple[str, Matcher]] = {
    "tags": ("tags", lambda tags, w: _split(w) <= set(tags or ())),
    "tags-any": ("tags", lambda tags, w: bool(_split(w) & set(tags or ()))),
    "not-tags": ("tags", lambda tags, w: not _split(w) <= set(tags or ())),
    "not-tags-any": ("tags", lambda tags, w: not _split(w) & set(tags or ())),
}


def changed_since(value: Any, wanted: list[str]) -> bool:
    """A matcher for ``changed_since`` (Neutron) or ``changes-since`` (Nova) on an ISO timestamp."""
    if not value:
        return False
    moment = clock.parse(str(value))
    for w in wanted:
        try:
            since = clock.parse(w)
        except ValueError:
            raise faults.BadRequest(f"Invalid input for operation: '{w}' is not a valid timestamp.") from None
        if moment >= since:
            return True
    return False


# -- sorting and paging ----------------------------------------------------------------


def _sort_value(value: Any) -> tuple:
    """A key that orders None first, then numbers and booleans, then text."""
    if value is None:
        return (0,)
    if isinstance(value, bool | int | float):
        return (1, float(value))
    return (2, str(value))


@dataclass
class Page:
    items: list[dict[str, Any]]
    has_next: bool = False
    has_previous: bool = False


def select(
    views: Iterable[dict[str, Any]],
    q: ListQuery,
    *,
    filterable: Collection[str] | None = None,
    sortable: Collection[str] | None = None,
    matchers: Mapping[str, tuple[str, Matcher]] | None = None,
    key: str = "id",
    reject_unknown: bool = True,
) -> Page:
    """Filter, sort and page ``views`` (given in their natural order).

    ``filterable``/``sortable`` name the attributes a client may filter or sort on
    (None: any); an unknown one is a 400 if ``reject_unknown``, else ignored.
    ``matchers`` maps a query key to ``(attribute, matcher)`` for the ones that
    need more than equality (tags, ``fixed_ips=ip_address=...``).
    """
    matchers = {**TAG_MATCHERS, **(matchers or {})}
    tests: list[tuple[str, list[str], Matcher]] = []
    for name, wanted in q.filters.items():
        if name in matchers:
            attribute, matcher = matchers[name]
            tests.append((attribute, wanted, matcher))
        elif filterable is None or name in filterable:
            tests.append((name, wanted, matches))
        elif reject_unknown:
            raise faults.BadRequest(f"[{name}] is invalid attribute for filtering")
    for sort_key, _ in q.sort:
        if sortable is not None and sort_key not in sortable:
            raise faults.BadRequest(f"{sort_key} is invalid attribute for sort_keys")

    ordered = list(views)
    for sort_key, descending in reversed(q.sort):
        ordered.sort(key=lambda v, k=sort_key: _sort_value(v.get(k)), reverse=descending)

    mark = None
    if q.marker is not None:
        mark = next((i for i, v in enumerate(ordered) if v.get(key) == q.marker), None)
        if mark is None:
            raise faults.NotFound(f"Marker {q.marker} could not be found.")

    chosen = [(i, v) for i, v in enumerate(ordered) if all(m(v.get(a), w) for a, w, m in tests)]
    if not q.page_reverse:
        rest = [(i, v) for i, v in chosen if mark is None or i > mark]
        page = rest[: q.limit] if q.limit else rest
        has_next = bool(q.limit) and len(rest) > len(page)
        has_previous = bool(page) and any(i < page[0][0] for i, _ in chosen)
        if not page and mark is not None:
            has_previous = any(i < mark for i, _ in chosen)
    else:
        rest = [(i, v) for i, v in chosen if mark is None or i < mark]
        page = rest[-q.limit :] if q.limit else rest
        has_previous = bool(q.limit) and len(rest) > len(page)
        has_next = bool(page) and any(i > page[-1][0] for i, _ in chosen)
        if not page and mark is not None:
            has_next = any(i > mark for i, _ in chosen)
    return Page([v for _, v in page], has_next=has_next, has_previous=has_previous)


def sort_page(
    records: Iterable[dict[str, Any]],
    order: Sequence[tuple[str, bool]],
    *,
    marker: str | None = None,
    offset: int | None = None,
    limit: int | None = None,
    sort_value: Callable[[Any], Any] = _sort_value,
) -> tuple[list[dict[str, Any]], bool]:
    """Records sorted (``(field, descending)`` pairs, ties in the given order), then the
    ones after ``marker`` (an id; KeyError if it is not there), less ``offset``, cut at
    ``limit``: ``(page, more_follow)``. For lists the store cannot sort (see :func:`fetch_page`)."""
    ordered = list(records)
    for name, descending in reversed(order):
        ordered.sort(key=lambda r, f=name: sort_value(r.get(f)), reverse=descending)
    if marker:
        index = next((i for i, r in enumerate(ordered) if r.get("id") == marker), None)
        if index is None:
            raise KeyError(marker)
        ordered = ordered[index + 1 :]
    if offset:
        ordered = ordered[offset:]
    if limit is None:
        return ordered, False
    return ordered[:limit], len(ordered) > limit


def fetch_page(
    store: Store,
    kind: str,
    *,
    equal: dict[str, Any] | None = None,
    any_of: dict[str, list[Any]] | None = None,
    order: list[tuple[str, bool]] | None = None,
    marker: str | None = None,
    limit: int | None = None,
    keep: Callable[[dict[str, Any]], bool] | None = None,
    batch: int = 200,
) -> tuple[list[dict[str, Any]], bool]:
    """One page of records straight from the store: ``(records, more_follow)``.

    ``equal``, ``any_of``, ``order`` (``(field, descending)``, ties oldest
    first), ``marker`` and ``limit`` are done in SQL (see
    :meth:`Store.query`); ``keep`` is a test for what SQL cannot ask (a regular
    expression, a nested field), applied as records stream by, so a page costs
    what it holds and not what the project holds. A marker that is not among
    the selected records raises :class:`stacksim.store.MissingRecord`.
    """
    args: dict[str, Any] = {"equal": equal, "any_of": any_of, "order": order or ()}
    if limit is None:
        rows = store.query(kind, after=marker, **args)
        return ([r for r in rows if keep(r)] if keep else rows), False
    if keep is None:
        rows = store.query(kind, after=marker, limit=limit + 1, **args)
        return rows[:limit], len(rows) > limit
    chosen: list[dict[str, Any]] = []
    after = marker
    while True:
        rows = store.query(kind, after=after, limit=batch, **args)
        for row in rows:
            if keep(row):
                if len(chosen) == limit:
                    return chosen, True
                chosen.append(row)
        if len(rows) < batch:
            return chosen, False
        after = rows[-1]["id"]


def pick(view: dict[str, Any], fields: Collection[str]) -> dict[str, Any]:
    """``view`` trimmed to ``fields`` (all of it when none are asked for)."""
    if not fields:
        return view
    return {k: v for k, v in view.items() if k in fields}


def links(url: str, params: Any, page: Page, q: ListQuery, key: str = "id") -> list[dict[str, str]]:
    """``rel`` next/previous links for a page of a list called with ``limit``.

    ``url`` is the collection's public URL; ``params`` the query string the
    call came with (kept, except the marker and direction, which are replaced).
    """
    if not q.limit:
        return []
    kept = [(k, v) for k, v in _multi_items(params) if k not in ("marker", "page_reverse", "limit")]
    kept.append(("limit", str(q.limit)))
    found: list[dict[str, str]] = []
    if page.has_next and page.items:
        query = urllib.parse.urlencode([*kept, ("marker", str(page.items[-1][key]))])
        found.append({"rel": "next", "href": f"{url}?{query}"})
    elif page.has_next and q.marker:
        query = urllib.parse.urlencode([*kept, ("marker", q.marker)])
        found.append({"rel": "next", "href": f"{url}?{query}"})
    if page.has_previous and page.items:
        query = urllib.parse.urlencode([*kept, ("marker", str(page.items[0][key])), ("page_reverse", "True")])
        found.append({"rel": "previous", "href": f"{url}?{query}"})
    elif page.has_previous and q.marker:
        query = urllib.parse.urlencode([*kept, ("marker", q.marker), ("page_reverse", "True")])
        found.append({"rel": "previous", "href": f"{url}?{query}"})
    return found
