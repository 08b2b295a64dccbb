"""The store's own guarantees: safe updates, SQL paging, counters, unique values, threads."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from stacksim.store import MEMORY_PAGE_SIZE, MissingRecord, StaleRecord, Store, Taken


@pytest.fixture
def store() -> Store:
    s = Store()
    yield s
    s.close()


def test_update_changes_in_one_transaction_and_counts_revisions(store: Store) -> None:
    store.put("thing", {"id": "a", "n": 0})
    record, rev = store.get_rev("thing", "a")
    assert rev == 1
    store.update("thing", "a", lambda r: dict(r, n=r["n"] + 1))
    assert store.get_rev("thing", "a") == ({"id": "a", "n": 1}, 2)
    with pytest.raises(StaleRecord):
        store.update("thing", "a", lambda r: dict(r, n=99), expect=rev)
    with pytest.raises(StaleRecord):
        store.put("thing", dict(record, n=99), expect=rev)
    assert store.get("thing", "a") == {"id": "a", "n": 1}
    with pytest.raises(MissingRecord):
        store.update("thing", "b", lambda r: r)


def test_update_that_raises_writes_nothing(store: Store) -> None:
    store.put("thing", {"id": "a", "n": 0})

    def bad(record: dict) -> dict:
        record["n"] = 5
        raise ValueError("no")

    with pytest.raises(ValueError):
        store.update("thing", "a", bad)
    assert store.get_rev("thing", "a") == ({"id": "a", "n": 0}, 1)


def test_concurrent_updates_lose_nothing(store: Store) -> None:
    store.put("thing", {"id": "a", "seen": []})

    def add(i: int) -> None:
        for j in range(20):
            store.update("thing", "a", lambda r, v=f"{i}-{j}": dict(r, seen=[*r["seen"], v]))

    threads = [threading.Thread(target=add, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store.get("thing", "a")["seen"]) == 160


def test_query_filters_sorts_and_pages_in_sql(store: Store) -> None:
    for i, created in enumerate(["b", "a", "c", "b", "a"]):
        store.put("row", {"id": f"r{i}", "project_id": "p" if i != 2 else "q", "created": created})
    newest = store.query("row", {"project_id": "p"}, order=[("created", True)])
    # ties keep the order the records were made in
    assert [r["id"] for r in newest] == ["r0", "r3", "r1", "r4"]
    page = store.query("row", {"project_id": "p"}, order=[("created", True)], after="r3", limit=2)
    assert [r["id"] for r in page] == ["r1", "r4"]
    assert [r["id"] for r in store.query("row", any_of={"id": ["r4", "r2"]})] == ["r2", "r4"]
    with pytest.raises(MissingRecord):
        store.query("row", {"project_id": "p"}, after="r2")
    assert sorted(store.get_many("row", ["r1", "r2", "nope"])) == ["r1", "r2"]


def test_id_filters_search_the_primary_key(store: Store) -> None:
    for i in range(50):
        store.put("row", {"id": f"r{i:02}", "project_id": "p", "created": str(i % 3)})
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    found = store.query("row", any_of={"id": ["r07", "r03", "nope"]})
    store._db.set_trace_callback(None)
    assert [r["id"] for r in found] == ["r03", "r07"]
    select = next(s for s in statements if s.startswith("SELECT data"))
    plan = " ".join(row[3] for row in store._db.execute(f"EXPLAIN QUERY PLAN {select}"))
    assert "SEARCH records USING" in plan and "(kind=? AND id=?)" in plan, plan
    # equality, sorting and paging by id mean the same as before
    assert [r["id"] for r in store.query("row", {"id": "r10"})] == ["r10"]
    page = store.query("row", {"project_id": "p"}, order=[("id", True)], after="r45", limit=3)
    assert [r["id"] for r in page] == ["r44", "r43", "r42"]


def test_tracked_sums_follow_every_write_and_rollback(store: Store) -> None:
    store.put("srv", {"id": "old", "project_id": "p", "cores": 2})
    store.track("srv", {"instances": lambda r: 1, "cores": lambda r: r["cores"]})
    assert store.usage("srv", "p") == {"instances": 1, "cores": 2}
    store.put("srv", {"id": "a", "project_id": "p", "cores": 4})
    store.update("srv", "a", lambda r: dict(r, cores=8))
    assert store.usage("srv", "p") == {"instances": 2, "cores": 10}
    with pytest.raises(RuntimeError), store.transaction():
        store.put("srv", {"id": "b", "project_id": "p", "cores": 1})
        raise RuntimeError
    assert store.usage("srv", "p") == {"instances": 2, "cores": 10}
    store.delete("srv", "old")
    store.delete_where("srv", project_id="p")
    assert store.usage("srv", "p") == {"instances": 0, "cores": 0}


def test_tracked_sums_follow_a_record_to_another_owner(store: Store) -> None:
    store.track("srv", {"instances": lambda r: 1, "cores": lambda r: r["cores"]})
    store.put("srv", {"id": "a", "project_id": "p", "cores": 4})
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    store.update("srv", "a", lambda r: dict(r, name="renamed"))  # nothing counted moves
    store._db.set_trace_callback(None)
    assert not [s for s in statements if "usage" in s]
    store.update("srv", "a", lambda r: dict(r, project_id="q", cores=2))
    assert store.usage("srv", "p") == {"instances": 0, "cores": 0}
    assert store.usage("srv", "q") == {"instances": 1, "cores": 2}
    store.update("srv", "a", lambda r: dict(r, project_id=None))  # counted for no one
    assert store.usage("srv", "q") == {"instances": 0, "cores": 0}


def _plan(store: Store, query: str) -> str:
    return " ".join(row[3] for row in store._db.execute(f"EXPLAIN QUERY PLAN {query}"))


def test_each_kind_is_indexed_only_by_what_its_queries_use(store: Store) -> None:
    for i in range(30):
        store.put("port", {"id": f"p{i}", "device_id": f"d{i % 3}", "project_id": "a", "created": str(i)})
        store.put("job", {"id": f"j{i}", "target": f"d{i % 3}"})
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    assert [r["id"] for r in store.find("port", device_id="d1")] == [f"p{i}" for i in range(1, 30, 3)]
    newest = store.query("port", {"project_id": "a"}, order=[("created", True)], limit=2)
    assert store.count("port", project_id="a") == 30
    store._db.set_trace_callback(None)
    assert [r["id"] for r in newest] == ["p9", "p8"]  # text order, as the records hold it
    selects = [s for s in statements if s.startswith("SELECT")]
    assert "USING INDEX px_port__device_id" in _plan(store, selects[0])
    assert "USING INDEX px_port__project_id__created_DESC" in _plan(store, selects[1])
    assert "USING INDEX px_port__project_id__created_DESC" in _plan(store, selects[2])  # no second index
    made = {r[0] for r in store._db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    # jobs were never queried by a field: writing one updates no index but the primary key
    assert {n for n in made if n.startswith("px_")} == {"px_port__device_id", "px_port__project_id__created_DESC"}
    # an index made in a transaction that rolls back is made again when next needed
    with pytest.raises(RuntimeError), store.transaction():
        store.find("job", target="d1")
        raise RuntimeError
    assert [r["id"] for r in store.find("job", target="d1")] == [f"j{i}" for i in range(1, 30, 3)]
    assert "USING INDEX px_job__target" in _plan(
        store, "SELECT data FROM records WHERE kind = 'job' AND json_extract(data, '$.\"target\"') = 'd1'"
    )


def test_indexes_over_every_kind_are_dropped_when_a_state_file_opens(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE records (kind TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (kind, id))"
    )
    old.execute("CREATE INDEX ix_device_id ON records (kind, json_extract(data, '$.\"device_id\"'))")
    old.execute("""INSERT INTO records VALUES ('port', 'p', '{"id": "p", "device_id": "d"}')""")
    old.commit()
    old.close()
    store = Store(str(path))
    try:
        names = [r[0] for r in store._db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")]
        assert "ix_device_id" not in names
        assert [r["id"] for r in store.find("port", device_id="d")] == ["p"]
    finally:
        store.close()


def test_an_in_memory_store_has_bigger_pages_and_a_state_file_keeps_its_own(tmp_path: Path) -> None:
    # (fewer pages for a commit to walk in memory: bench/README.md, "round four")
    memory = Store()
    try:
        assert memory._db.execute("PRAGMA page_size").fetchone()[0] == MEMORY_PAGE_SIZE > 4096
        assert memory._db.execute("PRAGMA temp.page_size").fetchone()[0] == 4096  # (a file, journalled to disk)
    finally:
        memory.close()
    path = tmp_path / "state.db"
    old = sqlite3.connect(path)
    old.execute("PRAGMA page_size=4096")
    old.execute(
        "CREATE TABLE records (kind TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (kind, id))"
    )
    old.commit()
    old.close()
    for i in range(2):  # made at 4 KiB, opened and written twice: the same file, the same pages
        store = Store(str(path))
        try:
            store.put("port", {"id": f"p{i}"})
            assert store._db.execute("PRAGMA page_size").fetchone()[0] == 4096
            assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        finally:
            store.close()
    store = Store(str(path))
    try:
        assert sorted(r["id"] for r in store.find("port")) == ["p0", "p1"]
    finally:
        store.close()


def test_unique_values_are_held_by_one_record(store: Store) -> None:
    store.unique("port", lambda r: [("subnet-1", ip) for ip in r["ips"]])
    store.put("port", {"id": "a", "ips": ["10.0.0.2", "10.0.0.3"]})
    with pytest.raises(Taken):
        store.put("port", {"id": "b", "ips": ["10.0.0.3"]})
    assert store.get("port", "b") is None
    assert store.holder("subnet-1", "10.0.0.3") == ("port", "a")
    store.put("port", {"id": "a", "ips": ["10.0.0.2"]})
    store.put("port", {"id": "b", "ips": ["10.0.0.3"]})
    assert store.values_in("subnet-1", "10.0.0.0", "10.0.0.9") == ["10.0.0.2", "10.0.0.3"]
    store.delete("port", "a")
    assert store.holder("subnet-1", "10.0.0.2") is None


def test_after_commit_runs_once_the_outer_transaction_commits(store: Store) -> None:
    seen: list[object] = []
    store.after_commit(lambda: seen.append("now"))  # no transaction open: at once
    with store.transaction():
        store.put("thing", {"id": "a"})
        with store.transaction():
            store.after_commit(lambda: seen.append(store.get("thing", "a")))
        assert seen == ["now"]  # the inner block's end is not a commit
    assert seen == ["now", {"id": "a"}]
    with pytest.raises(ValueError), store.transaction():
        store.after_commit(lambda: seen.append("never"))
        raise ValueError("rolled back")
    assert seen == ["now", {"id": "a"}]


def test_before_commit_runs_in_the_open_transaction_just_before_it_commits(store: Store) -> None:
    seen: list[object] = []
    with pytest.raises(RuntimeError, match="transaction open"):
        store.before_commit(lambda: None)  # nothing to run it before
    with store.transaction():
        store.put("thing", {"id": "a"})
        with store.transaction():
            store.before_commit(lambda: (seen.append(store.in_transaction()), store.put("thing", {"id": "b"})))
        assert seen == []  # the inner block's end is not a commit
    assert seen == [True] and store.get("thing", "b") == {"id": "b"}  # it ran inside, and its write landed
    assert not store.in_transaction()
    with pytest.raises(ValueError), store.transaction():
        store.before_commit(lambda: seen.append("never"))
        raise ValueError("rolled back")
    assert seen == [True]


def test_an_action_before_commit_that_raises_rolls_the_whole_transaction_back(store: Store) -> None:
    after: list[str] = []

    def fail() -> None:
        store.put("thing", {"id": "half"})
        raise KeyError("the job broke")

    with pytest.raises(KeyError, match="the job broke"), store.transaction():
        store.put("thing", {"id": "a"})
        store.after_commit(lambda: after.append("never"))
        store.before_commit(fail)
    assert store.get("thing", "a") is None and store.get("thing", "half") is None and after == []
    with store.transaction():  # the next transaction runs none of the failed one's actions
        store.put("thing", {"id": "c"})
    assert store.get("thing", "c") == {"id": "c"} and after == []


def test_in_transaction_is_true_only_in_the_thread_that_holds_it(store: Store) -> None:
    other: list[bool] = []
    with store.transaction():
        assert store.in_transaction()
        reader = threading.Thread(target=lambda: other.append(store.in_transaction()))
        reader.start()
        reader.join()
    assert other == [False] and not store.in_transaction()


def test_a_query_shape_made_once_binds_each_call_its_own_values(store: Store) -> None:
    for i in range(6):
        store.put("port", {"id": f"p{i}", "device_id": f"d{i % 2}" if i < 4 else None, "n": i})
        store.put("odd kind!", {"id": f"x{i}", "device_id": f"d{i % 2}"})  # no literal: the kind is bound
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    assert [r["id"] for r in store.find("port", device_id="d0")] == ["p0", "p2"]
    assert [r["id"] for r in store.find("port", device_id="d1")] == ["p1", "p3"]
    assert [r["id"] for r in store.find("port", device_id=None)] == ["p4", "p5"]  # IS NULL: another shape
    assert [r["id"] for r in store.query("port", {"device_id": "d0"}, order=[("n", True)], limit=1)] == ["p2"]
    assert [r["id"] for r in store.query("port", {"device_id": "d1"}, order=[["n", True]], limit=5)] == ["p3", "p1"]
    assert [r["id"] for r in store.find("odd kind!", device_id="d1")] == ["x1", "x3", "x5"]
    assert store.first("odd kind!", device_id="d0") == {"id": "x0", "device_id": "d0"}
    store._db.set_trace_callback(None)
    selects = [s for s in statements if s.startswith("SELECT data")]
    assert len(selects) == 7
    assert selects[0].endswith("= 'd0' ORDER BY rowid ASC") and selects[1].endswith("= 'd1' ORDER BY rowid ASC")
    assert "IS NULL" in selects[2]
    assert len(store._shapes) == 5


def test_a_cached_value_lasts_until_its_kinds_are_written(store: Store) -> None:
    store.put("limit", {"id": "p", "n": 1})
    reads: list[int] = []

    def read() -> int:
        reads.append(1)
        return store.get("limit", "p")["n"]

    assert [store.cached(("limit",), "p", read) for _ in range(3)] == [1, 1, 1]
    assert len(reads) == 1
    store.put("other", {"id": "x"})  # another kind: still good
    assert store.cached(("limit",), "p", read) == 1 and len(reads) == 1
    store.put("limit", {"id": "p", "n": 2})
    assert store.cached(("limit",), "p", read) == 2 and len(reads) == 2
    # read in a transaction that wrote the kind: its own value, not kept for anyone else
    with pytest.raises(RuntimeError), store.transaction():
        store.put("limit", {"id": "p", "n": 3})
        assert store.cached(("limit",), "p", read) == 3
        raise RuntimeError
    assert store.cached(("limit",), "p", read) == 2 and len(reads) == 4
    # read in a transaction that only read it: kept, and dropped if that transaction rolls back
    with pytest.raises(RuntimeError), store.transaction():
        assert store.cached(("limit",), "p", read) == 2
        raise RuntimeError
    assert store.cached(("limit",), "p", read) == 2 and len(reads) == 5
    assert store.cached(("limit",), "p", read) == 2 and len(reads) == 5
    store.delete("limit", "p")
    assert store.cached(("limit",), "p", lambda: None) is None


def test_a_delete_of_a_plain_kind_is_one_statement_and_still_rolls_back_with_its_transaction():
    store = Store()
    statements: list[str] = []
    store.put("job", {"id": "a"})
    store.put("job", {"id": "b"})
    store._db.set_trace_callback(statements.append)
    mark = store.writes(["job"])
    assert store.delete("job", "a") is True and store.delete("job", "a") is False
    assert [s.split()[0] for s in statements] == ["DELETE", "DELETE"]  # no BEGIN/COMMIT of its own
    assert store.writes(["job"]) == mark + 2
    with pytest.raises(RuntimeError), store.transaction():
        store.delete("job", "b")
        raise RuntimeError("rolled back")
    assert store.get("job", "b") == {"id": "b"}
    store.close()


def test_an_update_in_place_moves_sums_and_claims_from_the_record_as_it_was(store: Store) -> None:
    # The change edits the one decoded copy in place: what counters and claims compare is taken first.
    store.track("srv", {"cores": lambda r: r["cores"]})
    released: list[tuple[str, str]] = []
    store.unique("srv", lambda r: [("s", v) for v in r["values"]], lambda scope, value: released.append((scope, value)))
    store.put("srv", {"id": "a", "project_id": "p", "cores": 4, "values": ["x", "y"]})

    def change(record: dict) -> dict:
        record["cores"] = 6
        record["values"].remove("x")
        record["values"].append("z")
        return record

    store.update("srv", "a", change)
    assert store.usage("srv", "p") == {"cores": 6}
    assert store.holder("s", "x") is None and store.holder("s", "z") == ("srv", "a")
    assert released == [("s", "x")]

    def edit_and_keep(record: dict) -> None:
        record["cores"] = 100  # edited, but the change leaves the record as it is
        return None

    assert store.update("srv", "a", edit_and_keep) == {"id": "a", "project_id": "p", "cores": 6, "values": ["y", "z"]}
    assert store.usage("srv", "p") == {"cores": 6}


def test_an_update_of_a_record_read_in_its_transaction_reads_it_once(store: Store) -> None:
    store.track("srv", {"cores": lambda r: r["cores"]})
    store.put("srv", {"id": "a", "project_id": "p", "cores": 4})
    statements: list[str] = []
    with store.transaction():
        current = store.get_rev("srv", "a")
        store._db.set_trace_callback(statements.append)
        written = store.update("srv", "a", lambda r: dict(r, cores=2), current=current)
        store._db.set_trace_callback(None)
    assert written == {"id": "a", "project_id": "p", "cores": 2}
    assert store.get_rev("srv", "a") == (written, 2)
    assert store.usage("srv", "p") == {"cores": 2}
    assert not [s for s in statements if s.startswith("SELECT")]
    # The record moved on since it was read: the update reads it again and changes it as it is now.
    with store.transaction():
        current = store.get_rev("srv", "a")
        store.update("srv", "a", lambda r: dict(r, name="meanwhile"))
        store.update("srv", "a", lambda r: dict(r, cores=r["cores"] + 1), current=current)
    assert store.get_rev("srv", "a") == ({"id": "a", "project_id": "p", "cores": 3, "name": "meanwhile"}, 4)
    assert store.usage("srv", "p") == {"cores": 3}
    # ... or is gone: MissingRecord, as without ``current``
    with store.transaction():
        current = store.get_rev("srv", "a")
        store.delete("srv", "a")
        with pytest.raises(MissingRecord):
            store.update("srv", "a", lambda r: r, current=current)
    assert store.usage("srv", "p") == {"cores": 0}


def test_a_transactions_counter_moves_are_written_once_and_seen_inside_it(store: Store) -> None:
    store.track("srv", {"instances": lambda r: 1, "cores": lambda r: r["cores"]})
    store.track("prt", {"ports": lambda r: 1})
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    with store.transaction():
        store.add("prt", {"id": "p1", "project_id": "p"})
        store.add("srv", {"id": "s1", "project_id": "p", "cores": 2})
        store.add("srv", {"id": "s2", "project_id": "q", "cores": 1})
        assert not [s for s in statements if "usage" in s]  # not yet: at the commit, or when read
    store._db.set_trace_callback(None)
    assert len([s for s in statements if "INSERT INTO usage" in s]) == 1
    assert statements[-1] == "COMMIT"
    assert store.usage("srv", "p") == {"instances": 1, "cores": 2}
    assert store.usage("srv", "q") == {"instances": 1, "cores": 1}
    assert store.usage("prt", "p") == {"ports": 1}
    with store.transaction():
        store.add("srv", {"id": "s3", "project_id": "p", "cores": 4})
        assert store.usage("srv", "p") == {"instances": 2, "cores": 6}  # read inside: its own moves too
        store.delete("srv", "s3")
        store.add("srv", {"id": "s4", "project_id": "p", "cores": 8})
    assert store.usage("srv", "p") == {"instances": 2, "cores": 10}
    with pytest.raises(RuntimeError), store.transaction():
        store.add("srv", {"id": "s5", "project_id": "p", "cores": 16})
        assert store.usage("srv", "p") == {"instances": 3, "cores": 26}
        store.add("srv", {"id": "s6", "project_id": "p", "cores": 32})
        raise RuntimeError
    assert store.usage("srv", "p") == {"instances": 2, "cores": 10}  # neither the written nor the pending moves
