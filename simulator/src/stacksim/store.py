"""The state store: JSON records by kind and id, in SQLite.

Services never write SQL; they read and write plain dicts through this
class. Every write commits at once (WAL journal), so state survives
``kill -9``. Without a state dir the database lives in memory.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_:.\-]*$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL,
    id   TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
"""


class Store:
    def __init__(self, database: str = ":memory:") -> None:
        if database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(database, check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        self._depth = 0
        if database != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes so they land together or not at all (nests)."""
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._db.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if outer:
                    self._db.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self._db.execute("COMMIT")

    def get(self, kind: str, id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT data FROM records WHERE kind = ? AND id = ?", (kind, id)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, kind: str, record: dict[str, Any]) -> dict[str, Any]:
        """Insert or replace ``record`` (keyed by its ``id``)."""
        data = json.dumps(record, separators=(",", ":"))
        with self._lock:
            self._db.execute(
                "INSERT INTO records (kind, id, data) VALUES (?, ?, ?) "
                "ON CONFLICT (kind, id) DO UPDATE SET data = excluded.data",
                (kind, record["id"], data),
            )
        return record

    def delete(self, kind: str, id: str) -> bool:
        with self._lock:
            cur = self._db.execute("DELETE FROM records WHERE kind = ? AND id = ?", (kind, id))
        return cur.rowcount > 0

    def find(self, kind: str, **equal: Any) -> list[dict[str, Any]]:
        """Records of ``kind`` whose top-level fields equal the given values, oldest first."""
        where, args = _where(kind, equal)
        with self._lock:
            rows = self._db.execute(f"SELECT data FROM records WHERE {where} ORDER BY rowid", args).fetchall()
        return [json.loads(r[0]) for r in rows]

    def first(self, kind: str, **equal: Any) -> dict[str, Any] | None:
        found = self.find(kind, **equal)
        return found[0] if found else None

    def count(self, kind: str, **equal: Any) -> int:
        where, args = _where(kind, equal)
        with self._lock:
            return self._db.execute(f"SELECT COUNT(*) FROM records WHERE {where}", args).fetchone()[0]

    def delete_where(self, kind: str, **equal: Any) -> int:
        where, args = _where(kind, equal)
        with self._lock:
            return self._db.execute(f"DELETE FROM records WHERE {where}", args).rowcount


def _where(kind: str, equal: dict[str, Any]) -> tuple[str, list[Any]]:
    clauses = ["kind = ?"]
    args: list[Any] = [kind]
    for field, value in equal.items():
        if not _FIELD.match(field):
            raise ValueError(f"bad field name {field!r}")
        path = f'$."{field}"'
        if value is None:
            clauses.append("json_extract(data, ?) IS NULL")
            args.append(path)
        else:
            clauses.append("json_extract(data, ?) = ?")
            args.extend((path, value))
    return " AND ".join(clauses), args
