"""The state store: JSON records by kind and id, in SQLite.

Services never write SQL; they read and write plain dicts through this
class. Every write commits at once (WAL journal), so state survives
``kill -9``. Without a state dir the database lives in memory.

What keeps it correct and fast as the cloud grows:

- **One lock, one connection.** Every call and every :meth:`transaction`
  holds the store's lock, so a request thread, a lifecycle job and the event
  loop never see each other's half-made changes.
- **Safe updates.** :meth:`update` reads, changes and writes a record inside
  one transaction; each record has a revision, so a caller that read a record
  earlier and writes it later passes ``expect=`` and gets :class:`StaleRecord`
  instead of silently overwriting someone else's change.
- **Indexes.** Top-level fields that lists and lookups filter or sort on are
  indexed (SQLite expression indexes over the JSON): see :data:`INDEXES` and
  :meth:`index`. Each index is partial, for one kind (``WHERE kind = 'port'``),
  and made the first time a query of that kind can use it: a write updates only
  the indexes its kind is read by (a server's few, not every kind's eighteen),
  and each holds only its kind's records. :meth:`query` pushes equality
  filters, ordering, a marker and a limit down to SQL.
- **Counters.** :meth:`track` keeps per-project sums of a kind's records
  (instances, cores, RAM ...) up to date in the same transaction as each
  write (all of a transaction's moves in one statement, at its commit), so a
  quota check reads one row instead of every record.
- **Unique values.** :meth:`unique` keeps a table of values a kind's records
  hold (a port's fixed IPs per subnet), so "is it taken?" and "the lowest free
  one" are index look-ups, and two records can never hold the same value.
"""

from __future__ import annotations

import functools
import json
import math
import re
import sqlite3
import threading
from collections.abc import Callable, Hashable, Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import orjson

_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_:.\-]*$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL,
    id   TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
"""
# Per-connection tables, rebuilt at start from the records (so they need no migration).
_TEMP_SCHEMA = """
CREATE TEMP TABLE IF NOT EXISTS usage (
    kind TEXT NOT NULL, owner TEXT NOT NULL, name TEXT NOT NULL, value INTEGER NOT NULL,
    PRIMARY KEY (kind, owner, name)
);
CREATE TEMP TABLE IF NOT EXISTS claims (
    scope TEXT NOT NULL, value TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL,
    PRIMARY KEY (scope, value)
);
CREATE INDEX IF NOT EXISTS temp.claims_owner ON claims (kind, id);
"""

#: Field tuples a kind's records may be indexed by: what the services filter, sort and look
#: up by. A query of a kind makes (once) the one of them that serves it best, for that kind.
INDEXES: tuple[tuple[str, ...], ...] = (
    ("project_id", "created"),
    ("project_id", "created DESC"),  # newest first, ties oldest first: Nova's list order, no sort step
    ("project_id", "name"),
    ("project_id", "status"),
    ("name",),
    ("status",),
    ("network_id", "device_owner"),
    ("device_id",),
    ("port_id",),
    ("mac_address",),
    ("user_id",),
    ("domain_id",),
    ("target",),
    ("security_group_id",),
    ("server_id",),
    ("volume_id",),
    ("instance_uuid",),
    ("provider:network_type", "provider:segmentation_id"),
)

#: The page size of an in-memory store (SQLite's default is 4 KiB). All of such a database sits in
#: SQLite's page cache, and the commit after a b-tree balance that put sibling pages in order
#: (swapping them through a far page number) walks every cached page (bench/README.md, "round
#: four"). Twice the page size: half as many pages to walk and fewer balances, for a little more
#: copying per page written. A state file keeps the page size it was made with (its cache holds
#: only ``cache_size`` pages, so its walks stay short).
MEMORY_PAGE_SIZE = 8192

T = TypeVar("T")
Measure = Callable[[dict[str, Any]], int]
Derive = Callable[[dict[str, Any]], Iterable[tuple[str, str]]]
Release = Callable[[str, str], None]


class StaleRecord(Exception):
    """The record changed since the caller read it (its revision moved on)."""

    def __init__(self, kind: str, id: str, expected: int, current: int) -> None:
        super().__init__(f"{kind} {id} is at revision {current}, not {expected}")
        self.kind, self.id, self.expected, self.current = kind, id, expected, current


class MissingRecord(KeyError):
    """:meth:`Store.update` of a record that does not exist."""

    def __init__(self, kind: str, id: str) -> None:
        super().__init__(f"{kind} {id}")
        self.kind, self.id = kind, id


class Taken(Exception):
    """A write would give a unique value (see :meth:`Store.unique`) to a second record."""

    def __init__(self, scope: str, value: str, holder: str) -> None:
        super().__init__(f"{value} in {scope} is held by {holder}")
        self.scope, self.value, self.holder = scope, value, holder


def _loads(text: str) -> Any:
    """A stored record's JSON decoded: orjson, several times faster than ``json`` on the records a
    list reads; what it refuses (NaN, integers past 64 bits, lone surrogates) ``json`` reads as before."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


# Anything but plain dicts, lists, strings, numbers and None goes to ``default``, which has none: a
# TypeError, so :func:`_dumps` hands it to ``json`` (which stores subclasses as before and refuses the rest).
_PLAIN = orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _dumps(record: dict[str, Any]) -> str:
    """A record as stored JSON: orjson's text where it decodes to exactly the record, else ``json``'s.

    orjson is several times faster, but it writes NaN and infinities as null, refuses integers past
    64 bits, lone surrogates and non-str keys (``json`` writes those keys as text), and turns a UUID
    or an enum into its value (``json`` refuses them). Each of those fails the round trip (or raises),
    so it is encoded as ``json`` always did; tuples (stored as lists) go that way too.
    """
    try:
        data = orjson.dumps(record, option=_PLAIN)
    except TypeError:  # orjson.JSONEncodeError is one
        return json.dumps(record, separators=(",", ":"))
    if not _plain(record) and orjson.loads(data) != record:
        return json.dumps(record, separators=(",", ":"))
    return data.decode()


def _plain(value: Any) -> bool:
    """Does orjson's text of ``value`` decode to exactly it, without decoding it to see? Yes if it
    holds only dicts, lists, str, int, bool, None and finite floats of exactly those types: orjson
    writes each of them as it is (shortest round-trip floats) or refuses it (lone surrogates, ints
    past 64 bits, non-str keys: :func:`_dumps` then writes ``json``'s). Anything else (NaN,
    tuples, subclasses, enums) is left to the round-trip check. Cheaper than that decode."""
    kind = type(value)
    if kind is dict or kind is list:
        for item in value.values() if kind is dict else value:
            cls = type(item)
            if cls is str or item is None or cls is int or cls is bool:
                continue  # (the common cases without a call)
            if not _plain(item):
                return False
        return True
    if kind is float:
        return math.isfinite(value)
    return kind is str or value is None or kind is int or kind is bool


def _path(field: str) -> str:
    """A JSON path literal for a checked top-level field (inlined so expression indexes match);
    ``id`` is the key column, which always holds the record's id, so its primary key serves
    filters on ids (a page's ports, say) instead of a scan of every record of the kind."""
    if field == "id":
        return "id"
    if not _FIELD.match(field):
        raise ValueError(f"bad field name {field!r}")
    return f"json_extract(data, '$.\"{field}\"')"


class _Transaction:
    """What :meth:`Store.transaction` returns (a class: cheaper to enter than a generator's)."""

    __slots__ = ("_store",)

    def __init__(self, store: Store) -> None:
        self._store = store

    def __enter__(self) -> None:
        self._store._begin()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        self._store._end(failed=kind is not None)


class Store:
    def __init__(self, database: str = ":memory:") -> None:
        if database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        # Queries name their kind as a literal (so partial indexes serve them): more statements to keep.
        self._db = sqlite3.connect(database, check_same_thread=False, isolation_level=None, cached_statements=1024)
        self._lock = threading.RLock()
        self._depth = 0
        self._tracked: dict[str, tuple[str, dict[str, Measure]]] = {}
        self._unique: dict[str, tuple[Derive, Release | None]] = {}
        self._rollback_hooks: list[Callable[[], None]] = []
        self._after_commit: list[Callable[[], None]] = []
        self._before_commit: list[Callable[[], None]] = []
        self._holder: int | None = None  # the thread whose transaction is open (see in_transaction)
        #: what :meth:`cached` keeps: (kinds, key) -> (the kinds' writes() when read, the value)
        self._cached: dict[tuple[tuple[str, ...], Hashable], tuple[int, Any]] = {}
        self._dirty: set[str] = set()  # the kinds the open transaction wrote
        #: the open transaction's moves of the counters, (kind, owner, name) -> amount: written in
        #: one statement at its commit, or before the counters are read (see :meth:`_count`)
        self._moved: dict[tuple[str, str, str], int] = {}
        #: writes (puts and deletes) so far, per kind: see :meth:`writes`
        self._writes: dict[str, int] = {}
        self._all_writes = 0
        self._rollbacks = 0
        if database == ":memory:":  # (before the first table: it is fixed from then on)
            self._db.execute(f"PRAGMA page_size={MEMORY_PAGE_SIZE}")
        else:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(records)")}
        if "rev" not in columns:  # a state dir from before revisions
            self._db.execute("ALTER TABLE records ADD COLUMN rev INTEGER NOT NULL DEFAULT 1")
        # The TEMP tables keep SQLite's default page size (a TEMP database takes the size last set):
        # theirs is a file whose journal goes to disk past 64 KiB, which 8 KiB pages crossed.
        self._db.execute("PRAGMA temp.page_size=4096")
        self._db.executescript(_TEMP_SCHEMA)
        #: the field tuples a kind may be indexed by (INDEXES and those :meth:`index` adds)
        self._indexable: list[tuple[str, ...]] = list(INDEXES)
        #: the query shapes looked at (kind; equality, then order fields): whether an index serves them
        self._indexed: dict[tuple[str, tuple[str, ...]], bool] = {}
        self._made: set[tuple[str, tuple[str, ...]]] = set()  # (kind, fields) with their index
        #: a simple query's shape -> its SQL, its key in _indexed, whether the kind is bound (see _simple_query)
        self._shapes: dict[tuple[Any, ...], tuple[str, tuple[Any, ...], bool]] = {}
        # Indexes over every kind, from before the partial ones: every write paid for all of them.
        for (name,) in self._db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'ix!_%' ESCAPE '!'"
        ).fetchall():
            self._db.execute(f'DROP INDEX IF EXISTS "{name}"')

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def index(self, *fields: str) -> None:
        """Let records be indexed by these top-level fields (idempotent): each kind whose queries
        filter or sort by them gets its own partial index when it is first queried so.

        A field may end in `` DESC``: the index then serves "that field descending,
        ties in the order made" without a sort step.
        """
        for field in fields:
            _path(field.removesuffix(" DESC"))  # a bad name fails here, not in a query
        with self._lock:
            if fields not in self._indexable:
                self._indexable.append(fields)
                self._indexed.clear()  # a query may be served better now

    def _ensure_index(self, kind: str, equal: Iterable[str], order: Sequence[tuple[str, bool]]) -> None:
        """Make (once) the partial index of ``kind`` that serves a query best: the indexable field
        tuple whose leading fields the query's equality filters and then its order cover most."""
        key = _index_key(kind, equal, order)
        if key in self._indexed or _literal(kind) is None:
            return
        best, most = None, 0
        fields_equal = set(equal)
        if "id" not in fields_equal:  # the primary key serves those
            for fields in self._indexable:
                covered, rest = 0, list(order)
                for field in fields:
                    name, desc = field.removesuffix(" DESC"), field.endswith(" DESC")
                    if name in fields_equal:
                        covered += 1
                    elif rest and rest[0] == (name, desc):
                        rest.pop(0)
                        covered += 1
                    else:
                        break
                # on a tie, one this kind has already (a count by project uses the list's index)
                if covered > most or (covered and covered == most and (kind, fields) in self._made):
                    best, most = fields, covered
        if best is not None:
            name = re.sub(r"\W", "_", f"px_{kind}__" + "__".join(best))
            parts = [f.rsplit(" ", 1) if f.endswith(" DESC") else (f, "") for f in best]
            columns = ", ".join(f"{_path(f)} {how}".rstrip() for f, how in parts)
            self._db.execute(
                f'CREATE INDEX IF NOT EXISTS "{name}" ON records ({columns}) WHERE kind = {_literal(kind)}'
            )
            self._made.add((kind, best))
        self._indexed[key] = best is not None

    # -- transactions -----------------------------------------------------------------

    def transaction(self) -> _Transaction:
        """Group writes so they land together or not at all (nests): ``with store.transaction():``.

        The store's lock is held throughout: other threads wait, and see
        either none of the writes or all of them.
        """
        return _Transaction(self)

    def _begin(self) -> None:
        self._lock.acquire()
        if self._depth == 0:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except BaseException:
                self._lock.release()
                raise
            self._holder = threading.get_ident()
        self._depth += 1

    def _end(self, failed: bool) -> None:
        """Leave a transaction: the outer one commits, or (``failed``) rolls back."""
        committed: list[Callable[[], None]] = []
        error: BaseException | None = None
        try:
            if self._depth == 1 and not failed:
                try:  # still inside the transaction: what they write lands with it, or nothing does
                    while self._before_commit:
                        self._before_commit.pop(0)()
                except BaseException as exc:
                    failed, error = True, exc
            self._depth -= 1
            if self._depth:
                return
            self._holder = None
            self._before_commit.clear()
            self._dirty.clear()
            if not failed and self._moved:
                try:
                    self._write_moves()
                except BaseException as exc:  # nothing of the transaction may land then
                    failed, error = True, exc
            if failed:
                self._moved.clear()
                self._rollbacks += 1  # what was read inside it, uncommitted, is stale now
                self._db.execute("ROLLBACK")
                self._indexed.clear()  # an index made inside it is gone too
                self._made.clear()
                self._after_commit.clear()
                for hook in self._rollback_hooks:
                    hook()
                if error is not None:
                    raise error
                return
            self._db.execute("COMMIT")
            committed, self._after_commit = self._after_commit, []
        finally:
            self._lock.release()
        for action in committed:  # outside the lock: what they start may read the store
            action()

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run ``action`` once the open transaction commits (at once if none is open); never if it
        rolls back. For telling others of a change only when it is there to be seen."""
        with self._lock:
            if self._depth:
                self._after_commit.append(action)
                return
        action()

    def in_transaction(self) -> bool:
        """Whether this thread has a transaction open."""
        return self._holder == threading.get_ident()

    def before_commit(self, action: Callable[[], None]) -> None:
        """Run ``action`` in this thread's open transaction just before it commits (in the order
        given; what it writes commits with the rest, and if it raises, the transaction rolls back
        and the error goes on). Never if the transaction rolls back."""
        if not self.in_transaction():
            raise RuntimeError("before_commit needs a transaction open in this thread")
        self._before_commit.append(action)

    def on_rollback(self, hook: Callable[[], None]) -> None:
        """Call ``hook`` after a transaction rolls back (to drop caches built on its writes)."""
        self._rollback_hooks.append(hook)

    def writes(self, kinds: Iterable[str]) -> int:
        """A number that moves on with every write (put, update or delete) of a record of these
        kinds and every rolled-back transaction: a cache of what was read from them is good while
        it stays the same. Take it *before* reading, so a write that lands between the reads
        makes the result stale rather than unnoticed."""
        return self._rollbacks + sum(self._writes.get(kind, 0) for kind in kinds)

    def generation(self) -> int:
        """:meth:`writes` of every kind: it stays the same only while nothing at all is written."""
        return self._rollbacks + self._all_writes

    def _wrote(self, kind: str) -> None:
        self._writes[kind] = self._writes.get(kind, 0) + 1
        self._all_writes += 1
        if self._depth:
            self._dirty.add(kind)

    def cached(self, kinds: tuple[str, ...], key: Hashable, make: Callable[[], T]) -> T:
        """What ``make()`` read from records of ``kinds``, kept (under ``key``) until one of them is
        written or a transaction rolls back: for what is read often and changed rarely (quota
        limits). A value read in a transaction that wrote those kinds itself is not kept (it is not
        committed yet). The caller must not change what it gets."""
        mark = self.writes(kinds)
        hit = self._cached.get((kinds, key))
        if hit is not None and hit[0] == mark:
            return hit[1]
        with self._lock:
            value = make()
            if not (self._depth and self._dirty.intersection(kinds)):
                if len(self._cached) >= 4096:  # (one entry per project: stay bounded whatever)
                    self._cached.clear()
                self._cached[(kinds, key)] = (mark, value)
        return value

    # -- reading ----------------------------------------------------------------------

    def get(self, kind: str, id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT data FROM records WHERE kind = ? AND id = ?", (kind, id)).fetchone()
        return _loads(row[0]) if row else None

    def get_rev(self, kind: str, id: str) -> tuple[dict[str, Any], int] | None:
        """A record and its revision (for a later ``update(..., expect=rev)``)."""
        with self._lock:
            row = self._db.execute("SELECT data, rev FROM records WHERE kind = ? AND id = ?", (kind, id)).fetchone()
        return (_loads(row[0]), row[1]) if row else None

    def get_many(self, kind: str, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The records of ``kind`` with these ids, by id, in one read (missing ones left out)."""
        wanted = list(dict.fromkeys(ids))
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            with self._lock:
                rows = self._db.execute(
                    f"SELECT id, data FROM records WHERE kind = ? AND id IN ({marks})", (kind, *chunk)
                ).fetchall()
            found.update((r[0], _loads(r[1])) for r in rows)
        return found

    def find(self, kind: str, **equal: Any) -> list[dict[str, Any]]:
        """Records of ``kind`` whose top-level fields equal the given values, oldest first."""
        return self.query(kind, equal)

    def find_in(self, kind: str, field: str, values: Iterable[Any], **equal: Any) -> list[dict[str, Any]]:
        """Records whose ``field`` is one of ``values`` (and the rest equal), oldest first: one read."""
        return self.query(kind, equal, any_of={field: list(values)})

    def first(self, kind: str, **equal: Any) -> dict[str, Any] | None:
        found = self.query(kind, equal, limit=1)
        return found[0] if found else None

    def kinds(self) -> list[str]:
        """Every kind of record the store holds, sorted."""
        with self._lock:
            return [row[0] for row in self._db.execute("SELECT DISTINCT kind FROM records ORDER BY kind")]

    def count(self, kind: str, **equal: Any) -> int:
        where, args = _where(kind, equal)
        with self._lock:
            self._ensure_index(kind, equal, ())
            return self._db.execute(f"SELECT COUNT(*) FROM records WHERE {where}", args).fetchone()[0]

    def query(
        self,
        kind: str,
        equal: dict[str, Any] | None = None,
        *,
        any_of: dict[str, Sequence[Any]] | None = None,
        order: Sequence[tuple[str, bool]] = (),
        after: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Records filtered, sorted and paged in SQL.

        ``equal``: top-level field -> value (None matches a missing or null
        field); ``any_of``: field -> the values it may take; ``order``:
        ``(field, descending)`` pairs, ties in the order the records were made
        (the fields should never be null: SQL puts nulls first); ``after``: the
        id of the record the page starts after (:class:`MissingRecord` if it is
        not among the records selected); ``limit``: at most this many.
        """
        if not any_of and after is None:
            return self._simple_query(kind, equal or {}, order, limit)
        where, args = _where(kind, equal or {})
        for field, values in (any_of or {}).items():
            values = list(values)
            if not values:
                return []
            where += f" AND {_path(field)} IN ({','.join('?' * len(values))})"
            args.extend(values)
        terms = [f"{_path(f)} {'DESC' if desc else 'ASC'}" for f, desc in order]
        order_sql = ", ".join([*terms, "rowid ASC"])
        with self._lock:
            self._ensure_index(kind, [*(equal or {}), *(any_of or {})], order)
            if after is not None:
                cols = ", ".join([*(_path(f) for f, _ in order), "rowid"])
                mark = self._db.execute(
                    f"SELECT {cols} FROM records WHERE {where} AND id = ?", [*args, after]
                ).fetchone()
                if mark is None:
                    raise MissingRecord(kind, after)
                later, later_args = _after(order, mark)
                where += f" AND ({later})"
                args.extend(later_args)
            sql = f"SELECT data FROM records WHERE {where} ORDER BY {order_sql}"
            if limit is not None:
                sql += " LIMIT ?"
                args.append(limit)
            rows = self._db.execute(sql, args).fetchall()
        return [_loads(r[0]) for r in rows]

    def _simple_query(
        self, kind: str, equal: dict[str, Any], order: Sequence[tuple[str, bool]], limit: int | None
    ) -> list[dict[str, Any]]:
        """:meth:`query` by equal fields, an order and a limit: its SQL made once per shape (the
        services ask a few dozen shapes, over and over), then only the values bound."""
        shape = (kind, tuple((f, v is None) for f, v in equal.items()), tuple(map(tuple, order)), limit is not None)
        made = self._shapes.get(shape)
        if made is None:
            where, _ = _where(kind, equal)
            terms = [f"{_path(f)} {'DESC' if desc else 'ASC'}" for f, desc in order]
            sql = f"SELECT data FROM records WHERE {where} ORDER BY {', '.join([*terms, 'rowid ASC'])}"
            if limit is not None:
                sql += " LIMIT ?"
            index_key = _index_key(kind, equal, order)
            if len(self._shapes) >= 4096:  # (shapes come from the code, but stay bounded whatever asks)
                self._shapes.clear()
            made = self._shapes[shape] = (sql, index_key, _literal(kind) is None)
        sql, index_key, kind_bound = made
        args: list[Any] = [kind] if kind_bound else []
        args += [v for v in equal.values() if v is not None]
        if limit is not None:
            args.append(limit)
        with self._lock:
            if index_key not in self._indexed:
                self._ensure_index(kind, equal, order)
            rows = self._db.execute(sql, args).fetchall()
        return [_loads(r[0]) for r in rows]

    # -- writing ----------------------------------------------------------------------

    def put(self, kind: str, record: dict[str, Any], expect: int | None = None) -> dict[str, Any]:
        """Insert or replace ``record`` (keyed by its ``id``).

        With ``expect``, the record must still be at that revision
        (:class:`StaleRecord` otherwise; 0 means it must not exist yet).
        """
        with self._lock:
            if expect is None and kind not in self._tracked and kind not in self._unique:
                self._write(kind, record)
                return record
            with self.transaction():
                row = self._db.execute("SELECT data, rev FROM records WHERE kind = ? AND id = ?", (kind, record["id"]))
                old = row.fetchone()
                if expect is not None and (old[1] if old else 0) != expect:
                    raise StaleRecord(kind, record["id"], expect, old[1] if old else 0)
                self._write(kind, record, self._facts(kind, _loads(old[0])) if old else None)
        return record

    def add(self, kind: str, record: dict[str, Any]) -> dict[str, Any]:
        """Insert a record that is new (its id just made): :meth:`put` without reading first whether
        it is there, so one statement fewer. :class:`StaleRecord` (and nothing written) if it is."""
        with self._lock:
            if kind not in self._tracked and kind not in self._unique:
                self._write(kind, record, new=True)
                return record
            with self.transaction():
                self._write(kind, record, new=True)
        return record

    def update(
        self,
        kind: str,
        id: str,
        change: Callable[[dict[str, Any]], dict[str, Any] | None],
        expect: int | None = None,
        current: tuple[dict[str, Any], int] | None = None,
    ) -> dict[str, Any]:
        """Read, change and write one record in one transaction; returns what was written.

        ``change`` gets the current record and returns the new one (or None to
        leave it as it is); it may raise to abandon the update. It runs under
        the store's lock: it must not wait on anything (no driver calls, no
        ``await``). :class:`MissingRecord` if there is no such record,
        :class:`StaleRecord` if ``expect`` is given and the revision moved on.

        ``current``: the record and its revision as the caller read them (:meth:`get_rev`) in
        the transaction this update runs in, so it is not read again: ``change`` gets (and may
        edit) that very dict, and it is written if the record is still at that revision. If it
        moved on (something the caller did wrote it meanwhile), the update runs as without
        ``current``, on the record as it is now; if the change leaves it as it is, the
        caller's dict is returned as ``change`` left it.
        """
        with self.transaction():
            if current is not None and expect is None:
                record, rev = current
                was = self._facts(kind, record)
                new = change(record)
                if new is None:
                    return record
                if new.get("id") != id:
                    raise ValueError("an update must keep the record's id")
                if self._write(kind, new, was, rev=rev):
                    return new
            row = self._db.execute("SELECT data, rev FROM records WHERE kind = ? AND id = ?", (kind, id)).fetchone()
            if row is None:
                raise MissingRecord(kind, id)
            if expect is not None and row[1] != expect:
                raise StaleRecord(kind, id, expect, row[1])
            # Decoded once: what counters and claims need of the record as it was is taken
            # before the change edits it in place. A change that leaves it as it is gets a
            # second decode, so what is returned is the record as stored, whatever it did.
            record = _loads(row[0])
            was = self._facts(kind, record)
            new = change(record)
            if new is None:
                return _loads(row[0])
            if new.get("id") != id:
                raise ValueError("an update must keep the record's id")
            self._write(kind, new, was)
            return new

    def delete(self, kind: str, id: str) -> bool:
        if kind not in self._tracked and kind not in self._unique:
            # One statement, atomic on its own: no transaction to open (a finished job's record).
            with self._lock:
                self._wrote(kind)
                return self._db.execute("DELETE FROM records WHERE kind = ? AND id = ?", (kind, id)).rowcount > 0
        with self.transaction():
            old = self.get(kind, id)
            self._wrote(kind)
            cur = self._db.execute("DELETE FROM records WHERE kind = ? AND id = ?", (kind, id))
            if old is not None:
                self._account(kind, self._facts(kind, old), None)
        return cur.rowcount > 0

    def delete_where(self, kind: str, **equal: Any) -> int:
        with self.transaction():
            if kind in self._tracked or kind in self._unique:
                for old in self.find(kind, **equal):
                    self._account(kind, self._facts(kind, old), None)
            self._wrote(kind)
            where, args = _where(kind, equal)
            self._ensure_index(kind, equal, ())
            return self._db.execute(f"DELETE FROM records WHERE {where}", args).rowcount

    def _write(
        self, kind: str, record: dict[str, Any], old: _Facts | None = None, new: bool = False, rev: int | None = None
    ) -> bool:
        """Write ``record`` (``old``: the :meth:`_facts` of what it replaces, for counters and claims;
        ``new``: there must be none; ``rev``: only over the record at that revision, else write
        nothing and return False)."""
        self._wrote(kind)
        data = _dumps(record)
        if rev is not None:
            cur = self._db.execute(
                "UPDATE records SET data = ?, rev = rev + 1 WHERE kind = ? AND id = ? AND rev = ?",
                (data, kind, record["id"], rev),
            )
            if not cur.rowcount:
                return False
        elif new:
            try:
                self._db.execute(
                    "INSERT INTO records (kind, id, data, rev) VALUES (?, ?, ?, 1)", (kind, record["id"], data)
                )
            except sqlite3.IntegrityError:
                row = self._db.execute("SELECT rev FROM records WHERE kind = ? AND id = ?", (kind, record["id"]))
                raise StaleRecord(kind, record["id"], 0, row.fetchone()[0]) from None
        else:
            self._db.execute(
                "INSERT INTO records (kind, id, data, rev) VALUES (?, ?, ?, 1) "
                "ON CONFLICT (kind, id) DO UPDATE SET data = excluded.data, rev = records.rev + 1",
                (kind, record["id"], data),
            )
        if kind in self._tracked or kind in self._unique:
            self._account(kind, old, record)
        return True

    # -- counters -----------------------------------------------------------------------

    def track(self, kind: str, measures: dict[str, Measure], by: str = "project_id") -> None:
        """Keep the sums of ``measures`` over the records of ``kind``, per value of ``by``.

        Read them with :meth:`usage`. They are kept in the transaction of each
        write through this store, so they are exact whatever rolls back.
        """
        with self.transaction():
            self._tracked[kind] = (by, measures)
            self._write_moves()
            self._db.execute("DELETE FROM usage WHERE kind = ?", (kind,))
            for record in self.find(kind):
                self._count(kind, None, record)

    def usage(self, kind: str, owner: str) -> dict[str, int]:
        """The tracked sums of ``kind`` for ``owner`` (every measure, 0 when there is nothing)."""
        names = self._tracked[kind][1]
        with self._lock:
            self._write_moves()  # (only the open transaction's, which this thread holds, can be there)
            rows = self._db.execute("SELECT name, value FROM usage WHERE kind = ? AND owner = ?", (kind, owner))
            found = dict(rows.fetchall())
        return {name: int(found.get(name, 0)) for name in names}

    def _count(self, kind: str, old: _Facts | None, new: dict[str, Any] | None) -> None:
        """Move the sums from ``old`` (its :meth:`_facts`; None: a new record) to ``new`` (None: a
        deleted one); a record rewritten for the same owner moves only the measures that changed
        (a build moves none)."""
        by, measures = self._tracked[kind]
        before, had = (old.owner, old.amounts) if old is not None else (None, None)
        after = new.get(by) if new is not None else None
        amounts: list[tuple[Any, str, int]] = []
        for name, measure in measures.items():
            was = had[name] if had is not None else 0
            now = measure(new) if new is not None and after is not None else 0
            if before is not None and before == after:
                amounts.append((after, name, now - was))
                continue
            amounts += [(before, name, -was), (after, name, now)]
        moved = self._moved
        for owner, name, amount in amounts:
            if amount:
                key = (kind, str(owner), name)
                moved[key] = moved.get(key, 0) + amount
        if not self._depth:
            self._write_moves()

    def _write_moves(self) -> None:
        """Write the counters' pending moves: one statement for all of them (a create's server
        and port move four sums), at the transaction's commit, or before a read of the counters."""
        rows = [(*key, amount) for key, amount in self._moved.items() if amount]
        self._moved.clear()
        for start in range(0, len(rows), 200):  # (within SQLite's limit on bound values)
            chunk = rows[start : start + 200]
            self._db.execute(
                f"INSERT INTO usage (kind, owner, name, value) VALUES {','.join(['(?, ?, ?, ?)'] * len(chunk))} "
                "ON CONFLICT (kind, owner, name) DO UPDATE SET value = value + excluded.value",
                [value for row in chunk for value in row],
            )

    # -- unique values ------------------------------------------------------------------

    def unique(self, kind: str, derive: Derive, on_release: Release | None = None) -> None:
        """Let each record of ``kind`` hold the ``(scope, value)`` pairs ``derive`` gives, exclusively.

        A write that would give a pair another record holds raises
        :class:`Taken` (and writes nothing); :meth:`holder` and
        :meth:`values_in` answer from an index. ``on_release(scope, value)`` is
        called when a write or delete lets a pair go (a rolled-back transaction
        calls the :meth:`on_rollback` hooks instead).
        """
        with self.transaction():
            self._unique[kind] = (derive, on_release)
            self._db.execute("DELETE FROM claims WHERE kind = ?", (kind,))
            for record in self.find(kind):
                self._claim(kind, record, strict=False)

    def holder(self, scope: str, value: str) -> tuple[str, str] | None:
        """The ``(kind, id)`` of the record holding ``value`` in ``scope``, if any."""
        with self._lock:
            row = self._db.execute("SELECT kind, id FROM claims WHERE scope = ? AND value = ?", (scope, value))
            found = row.fetchone()
        return (found[0], found[1]) if found else None

    def values_in(self, scope: str, low: str, high: str, limit: int | None = None) -> list[str]:
        """The held values of ``scope`` between ``low`` and ``high`` (text order), ascending."""
        sql = "SELECT value FROM claims WHERE scope = ? AND value >= ? AND value <= ? ORDER BY value"
        args: list[Any] = [scope, low, high]
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        with self._lock:
            return [r[0] for r in self._db.execute(sql, args).fetchall()]

    def _claim(self, kind: str, record: dict[str, Any], strict: bool = True) -> None:
        for scope, value in self._unique[kind][0](record):
            try:
                self._db.execute(
                    "INSERT INTO claims (scope, value, kind, id) VALUES (?, ?, ?, ?)",
                    (scope, value, kind, record["id"]),
                )
            except sqlite3.IntegrityError:
                held = self._db.execute("SELECT kind, id FROM claims WHERE scope = ? AND value = ?", (scope, value))
                other = held.fetchone()
                if (other and tuple(other) == (kind, record["id"])) or not strict:
                    continue  # the record names the same value twice (or old state is read as it is)
                raise Taken(scope, value, f"{other[0]} {other[1]}" if other else "?") from None

    def _facts(self, kind: str, record: dict[str, Any]) -> _Facts | None:
        """What counters and claims need of a record as it was (None for a kind with neither):
        taken before a change edits it in place, so an update decodes the record once."""
        tracked, unique = self._tracked.get(kind), self._unique.get(kind)
        if tracked is None and unique is None:
            return None
        owner, amounts = None, None
        if tracked is not None:
            by, measures = tracked
            owner = record.get(by)
            if owner is not None:
                amounts = {name: measure(record) for name, measure in measures.items()}
        claims = set(unique[0](record)) if unique is not None else set()
        return _Facts(record.get("id"), owner, amounts, claims)

    def _account(self, kind: str, old: _Facts | None, new: dict[str, Any] | None) -> None:
        if kind in self._tracked:
            self._count(kind, old, new)
        if kind in self._unique:
            derive, on_release = self._unique[kind]
            kept = set(derive(new)) if new is not None else set()
            if old is not None and new is not None and old.claims == kept:
                return  # the same claims (a port bound or renamed): nothing to move
            record_id = new["id"] if new is not None else old.id if old is not None else None
            if old is not None:  # a record that was not there holds no claims
                self._db.execute("DELETE FROM claims WHERE kind = ? AND id = ?", (kind, record_id))
            if new is not None:
                self._claim(kind, new)
            if old is not None and on_release is not None:
                for pair in old.claims - kept:
                    on_release(*pair)


class _Facts(NamedTuple):
    """What :meth:`Store._facts` takes of a record: its id, its owner and measures (if its kind is
    tracked and it has an owner), and the claims it holds."""

    id: Any
    owner: Any
    amounts: dict[str, int] | None
    claims: set[tuple[str, str]]


_KIND = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


def _literal(kind: str) -> str | None:
    """The kind as an SQL literal, if it is a plain name: a query names it so for SQLite to use the
    kind's partial indexes (``WHERE kind = 'port'``), which a bound parameter would not."""
    return f"'{kind}'" if _KIND.match(kind) else None


def _index_key(kind: str, equal: Iterable[str], order: Sequence[tuple[str, bool]]) -> tuple[Any, ...]:
    """A query's shape as far as the indexes go: its kind, equality fields and order."""
    return (kind, (*sorted(equal), "|", *(f"{f} {'DESC' if d else ''}" for f, d in order)))


def _where(kind: str, equal: dict[str, Any]) -> tuple[str, list[Any]]:
    literal = _literal(kind)
    clauses = [f"kind = {literal}" if literal else "kind = ?"]
    args: list[Any] = [] if literal else [kind]
    for field, value in equal.items():
        if value is None:
            clauses.append(f"{_path(field)} IS NULL")
        else:
            clauses.append(f"{_path(field)} = ?")
            args.append(value)
    return " AND ".join(clauses), args


def _after(order: Sequence[tuple[str, bool]], mark: Sequence[Any]) -> tuple[str, list[Any]]:
    """SQL for "sorts after the row whose sort values (and rowid) are ``mark``"."""
    keys = [(_path(f), desc) for f, desc in order] + [("rowid", False)]
    alternatives: list[str] = []
    args: list[Any] = []
    for i, (expr, desc) in enumerate(keys):
        same = [f"{keys[j][0]} = ?" for j in range(i)]
        alternatives.append("(" + " AND ".join([*same, f"{expr} {'<' if desc else '>'} ?"]) + ")")
        args.extend([*mark[:i], mark[i]])
    return " OR ".join(alternatives), args


def atomic(method: Callable[..., Any]) -> Callable[..., Any]:
    """A model method that runs in one transaction of its object's ``store``: what it reads
    and what it writes are one step, which no other thread's write can come between."""

    @functools.wraps(method)
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        with self.store.transaction():
            return method(self, *args, **kwargs)

    return run
