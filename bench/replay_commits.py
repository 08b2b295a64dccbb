"""What one COMMIT costs on an in-memory store as big as a project of 10,000 servers, outside stacksim.

Run: .venv/bin/python bench/replay_commits.py DB [--creates 1500] [--shrink 1000] [--pragma NAME=VALUE ...]
     [--page-size N] [--target URI] [--walks]

``DB`` is a store saved by ``trace_statements.py --fill 9900 --save DB``. It is copied into a
``:memory:`` connection (as stacksim's default store is), then each "create" inserts a server, its
instance action and its fake instance (copies of stored ones) in one transaction, and the COMMIT's
CPU time (this thread's, so other processes' load counts least) is collected. ``--shrink N`` first
deletes all but N servers (and as many actions and fake instances) and vacuums, for the same
records at the smaller size. Prints the commit's median, 90th percentile, most, mean, how many
took 200 us or more and the share that took 150 us or more, and the mean of the whole transaction.

``--page-size N`` copies the tables and indexes made anew at that page size (a fresh copy is more
orderly than the saved one: compare it with ``--page-size 4096``, not with the plain backup);
``--target`` copies into another database (``file:x?vfs=memdb``: SQLite's in-memory file);
``--walks`` counts the commits that walk SQLite's page cache and the pages they walk, per create
(``pcache_walks.py``).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
import uuid

import pcache_walks

_CREATED = ("server", "instance_action", "fake_instance")


def _open(target: str) -> sqlite3.Connection:
    uri = target.startswith("file:")
    return sqlite3.connect(target, isolation_level=None, uri=uri)


def _copy(path: str, db: sqlite3.Connection, page_size: int | None) -> None:
    """The saved store into ``db``: a backup, or (``page_size``: a backup cannot change it) its
    tables and indexes made anew at that page size and the rows copied."""
    with sqlite3.connect(path) as source:
        if page_size is None:
            source.backup(db)
            return
        db.execute(f"PRAGMA page_size={page_size}")
        made = source.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type DESC")
        made = made.fetchall()
    db.execute("ATTACH ? AS saved", (path,))
    for kind, name, sql in made:  # the tables first, then their indexes
        db.execute(sql)
        if kind == "table":
            db.execute(f'INSERT INTO main."{name}" SELECT * FROM saved."{name}"')
    db.execute("DETACH saved")


def replay(
    path: str,
    creates: int,
    shrink: int | None,
    pragmas: list[str],
    target: str = ":memory:",
    page_size: int | None = None,
    walks: bool = False,
) -> dict[str, float]:
    db = _open(target)
    for pragma in pragmas:
        db.execute("PRAGMA " + pragma)
    _copy(path, db, page_size)
    if shrink is not None:
        for kind in _CREATED:
            db.execute(
                "DELETE FROM records WHERE kind = ? AND rowid NOT IN "
                "(SELECT rowid FROM records WHERE kind = ? ORDER BY rowid LIMIT ?)",
                (kind, kind, shrink),
            )
        db.execute("VACUUM")
    model = {
        kind: json.loads(db.execute("SELECT data FROM records WHERE kind = ? LIMIT 1", (kind,)).fetchone()[0])
        for kind in _CREATED
    }
    taken, whole = [], []
    counted = dict(pcache_walks.COUNTS)
    for i in range(creates):
        server_id = str(uuid.uuid4())
        server = dict(model["server"], id=server_id, created=f"2027-01-01T00:00:{i:08d}Z")
        action = dict(model["instance_action"], id=str(uuid.uuid4()), server_id=server_id)
        instance = dict(model["fake_instance"], id=server_id)
        began = time.thread_time_ns()
        db.execute("BEGIN IMMEDIATE")
        for kind, record in zip(_CREATED, (server, action, instance), strict=True):
            row = (kind, record["id"], json.dumps(record))
            db.execute("INSERT INTO records (kind, id, data, rev) VALUES (?, ?, ?, 1)", row)
        start = time.thread_time_ns()
        db.execute("COMMIT")
        end = time.thread_time_ns()
        taken.append((end - start) / 1000)
        whole.append((end - began) / 1000)
    taken.sort()
    n = len(taken)
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.close()
    walked = {k: v - counted.get(k, 0) for k, v in pcache_walks.COUNTS.items()}
    return {
        "pages": pages,
        "median_us": round(taken[n // 2], 1),
        "p90_us": round(taken[n * 9 // 10], 1),
        "most_us": round(taken[-1], 1),
        "mean_us": round(sum(taken) / n, 1),
        "200us_or_more": sum(t >= 200 for t in taken),
        "150us_or_more_pct": round(100 * sum(t >= 150 for t in taken) / n, 1),
        "transaction_mean_us": round(sum(whole) / n, 1),
        **{f"{k}_per_create": round(walked.get(k, 0) / n, 3) for k in pcache_walks.COUNTED if walks},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("--creates", type=int, default=1500)
    parser.add_argument("--shrink", type=int, help="keep only this many servers (and their records)")
    parser.add_argument("--pragma", action="append", default=[])
    parser.add_argument("--target", default=":memory:", help="what to copy the store into (a URI: file:/x?vfs=memdb)")
    parser.add_argument("--page-size", type=int, help="copy into a database of this page size")
    parser.add_argument("--walks", action="store_true", help="count the commits that walk the page cache")
    args = parser.parse_args()
    if args.walks:
        pcache_walks.install()  # (before the first connection)
    print(replay(args.db, args.creates, args.shrink, args.pragma, args.target, args.page_size, args.walks))


if __name__ == "__main__":
    main()
