"""What one COMMIT costs on an in-memory store as big as a project of 10,000 servers, outside stacksim.

Run: .venv/bin/python bench/replay_commits.py DB [--creates 1500] [--shrink 1000] [--pragma NAME=VALUE ...]

``DB`` is a store saved by ``trace_statements.py --fill 9900 --save DB``. It is copied into a
``:memory:`` connection (as stacksim's default store is), then each "create" inserts a server, its
instance action and its fake instance (copies of stored ones) in one transaction, and the COMMIT's
CPU time (this thread's, so other processes' load counts least) is collected. ``--shrink N`` first
deletes all but N servers (and as many actions and fake instances) and vacuums, for the same
records at the smaller size. Prints the commit's median, 90th percentile, most, mean and how many
took 200 us or more.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
import uuid

_CREATED = ("server", "instance_action", "fake_instance")


def replay(path: str, creates: int, shrink: int | None, pragmas: list[str]) -> dict[str, float]:
    db = sqlite3.connect(":memory:", isolation_level=None)
    for pragma in pragmas:
        db.execute("PRAGMA " + pragma)
    with sqlite3.connect(path) as source:
        source.backup(db)
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
    taken = []
    for i in range(creates):
        server_id = str(uuid.uuid4())
        server = dict(model["server"], id=server_id, created=f"2027-01-01T00:00:{i:08d}Z")
        action = dict(model["instance_action"], id=str(uuid.uuid4()), server_id=server_id)
        instance = dict(model["fake_instance"], id=server_id)
        db.execute("BEGIN IMMEDIATE")
        for kind, record in zip(_CREATED, (server, action, instance), strict=True):
            row = (kind, record["id"], json.dumps(record))
            db.execute("INSERT INTO records (kind, id, data, rev) VALUES (?, ?, ?, 1)", row)
        start = time.thread_time_ns()
        db.execute("COMMIT")
        taken.append((time.thread_time_ns() - start) / 1000)
    taken.sort()
    n = len(taken)
    return {
        "pages": db.execute("PRAGMA page_count").fetchone()[0],
        "median_us": round(taken[n // 2], 1),
        "p90_us": round(taken[n * 9 // 10], 1),
        "most_us": round(taken[-1], 1),
        "mean_us": round(sum(taken) / n, 1),
        "200us_or_more": sum(t >= 200 for t in taken),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("--creates", type=int, default=1500)
    parser.add_argument("--shrink", type=int, help="keep only this many servers (and their records)")
    parser.add_argument("--pragma", action="append", default=[])
    args = parser.parse_args()
    print(replay(args.db, args.creates, args.shrink, args.pragma))


if __name__ == "__main__":
    main()
