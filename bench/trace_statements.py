"""What the store does per server create: SQL statements (with their callers), transactions and
JSON decodes, counted over a run of creates.

Run: .venv/bin/python bench/trace_statements.py [--requests 50] [--port P] [--callers] [--fill N] [--plans]
     [--pragma NAME=VALUE ...] [--save FILE] [--walks]

It runs ``stacksim serve`` (in memory, ``--delay 0``) in a child process whose store connection
has a ``set_trace_callback``, fills the demo project as ``profile_compute.py`` does (100 creates),
then counts over ``--requests`` creates on one connection (builds included): each statement
(values stripped), the store's transactions (outermost and nested), the commits (of a
transaction, and of each write made outside one), and JSON decodes (a stored record read, and
``_dumps``' round-trip check of a write). ``--callers`` also names, per statement, the code
outside ``store.py`` that issued it. ``--fill N`` first adds N servers without networks (100 a
request, as ``make bench``'s ``create_at_10000`` does), so the creates run at 100 + N servers.
``--plans`` also prints each statement's ``EXPLAIN QUERY PLAN`` (a SCAN, or a SEARCH whose index
does not cover the filter, grows with the project) and the time it held the store's connection
(the thread's CPU microseconds in each call, so waits for the GIL are not counted, though the
trace callback's own work is; compare at two sizes to see which statements grow), and the
transactions whose COMMIT took under and over 200 us. ``--pragma`` runs a PRAGMA on the store's
connection once it is open (``cache_size=-200000``, say); ``--save FILE`` copies the store's
database to a file at the end, to replay statements on it. ``--walks`` counts the commits that
walk SQLite's page cache (``pcache_walks.py``) and the pages they walk.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import tempfile
import time

from benchlib import Client, bulk_create, compute_project, create_servers, serve_measured, wait_built

_CHILD = r"""
import collections, json, os, re, signal, sys, threading, time, traceback
import orjson
if os.environ.get("TRACE_WALKS") == "1":  # before any connection opens
    sys.path.insert(0, os.environ["TRACE_BENCH"])
    import pcache_walks
    pcache_walks.install()
    walks_from = {}
from stacksim import store

out = os.environ["TRACE_OUT"]
want_callers = os.environ.get("TRACE_CALLERS") == "1"
on = threading.Event()
stmts, callers, counts = collections.Counter(), collections.defaultdict(collections.Counter), collections.Counter()
timings, samples = collections.defaultdict(list), {}
commits = (collections.Counter(), collections.Counter())

_lit = re.compile(r"'(?:[^']|'')*'|\b\d+\b")

def key_of(sql: str) -> str:
    return _lit.sub("?", " ".join(sql.split()))[:140]

class Timed:  # the store's connection, timing (thread CPU) each statement it runs (its first step: execute)
    def __init__(self, db):
        self._db = db
    def __getattr__(self, name):
        return getattr(self._db, name)
    def execute(self, sql, args=()):
        if not on.is_set():
            return self._db.execute(sql, args)
        t = time.thread_time_ns()  # this thread's CPU: no waits for the GIL or the lock in it
        cur = self._db.execute(sql, args)
        t = time.thread_time_ns() - t
        key = key_of(sql)
        timings[key].append(t)
        if key == "COMMIT":  # what the transaction ran, by how long its commit took
            commits[t > 200_000][tuple(state.get("ran", ()))] += 1
        samples.setdefault(key, (sql, list(args) if not isinstance(args, dict) else args))
        return cur

def plans(db) -> dict:
    out = {}
    for key, (sql, args) in samples.items():
        if sql.lstrip().split(None, 1)[0].upper() in ("BEGIN", "COMMIT", "ROLLBACK"):
            continue
        try:
            out[key] = [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql, args)]
        except Exception as exc:
            out[key] = [f"({exc})"]
    return out

def where() -> str:
    frames = [f for f in traceback.extract_stack()[:-2] if "stacksim" in f.filename and "store.py" not in f.filename]
    return " < ".join(f"{os.path.basename(f.filename)}:{f.name}" for f in reversed(frames[-3:]))

state = {"open": False}

def traced(sql: str) -> None:
    verb = sql.lstrip().split(None, 1)[0].upper()
    if verb == "BEGIN":
        state["open"] = True
        state["ran"] = []
    elif verb in ("COMMIT", "ROLLBACK"):
        state["open"] = False
    elif state["open"]:
        kind = re.search(r"'([a-z_]+)'", sql)  # (the statement's kind, for a short line)
        state.setdefault("ran", []).append(key_of(sql)[:60] + " " + (kind[0] if kind else ""))
    if on.is_set():
        key = key_of(sql)
        stmts[key] += 1
        if want_callers:  # (the stack walk would swamp the statements' timings)
            callers[key][where()] += 1
        if verb in ("COMMIT", "ROLLBACK"):
            counts["commit (of a transaction)"] += verb == "COMMIT"
        elif verb in ("INSERT", "UPDATE", "DELETE") and not state["open"]:
            counts["commit (a write outside a transaction)"] += 1

init = store.Store.__init__
def __init__(self, *args, **kwargs):
    init(self, *args, **kwargs)
    for pragma in filter(None, os.environ.get("TRACE_PRAGMAS", "").split(";")):
        self._db.execute("PRAGMA " + pragma)
    self._db.set_trace_callback(traced)
    self._db = Timed(self._db)
    stores.append(self)
stores = []
store.Store.__init__ = __init__

begin = store.Store._begin
def _begin(self):
    if on.is_set():
        counts["transaction (outermost)" if self._depth == 0 else "transaction (nested)"] += 1
    begin(self)
store.Store._begin = _begin

real_loads = orjson.loads
class _Orjson:  # store.py's orjson, counting loads
    def __getattr__(self, name):
        return getattr(orjson, name)
    @staticmethod
    def loads(text):
        if on.is_set():
            caller = sys._getframe(1).f_code.co_name
            counts["decode in _dumps (round-trip check)" if caller == "_dumps" else "decode of a read"] += 1
        return real_loads(text)
store.orjson = _Orjson()

def start(*_):
    if os.environ.get("TRACE_WALKS") == "1":
        walks_from.update(pcache_walks.COUNTS)
    on.set()

def dump(*_):
    on.clear()
    db = stores[-1]
    if os.environ.get("TRACE_SAVE"):  # the store as it is now, to replay its statements outside stacksim
        import sqlite3
        with db._lock:
            dst = sqlite3.connect(os.environ["TRACE_SAVE"])
            db._db._db.backup(dst)
            dst.close()
    with db._lock:
        plan = plans(db._db._db)
    if os.environ.get("TRACE_WALKS") == "1":
        for name, value in pcache_walks.COUNTS.items():
            counts[f"page cache: {name}"] = value - walks_from.get(name, 0)
    times = {k: [t / 1000 for t in sorted(v)] for k, v in timings.items()}
    totals = {k: sum(v) / 1000 for k, v in timings.items()}
    with open(out, "w") as f:
        json.dump({
            "statements": stmts, "callers": callers, "counts": counts, "plans": plan, "us": times, "total_us": totals,
            "commits": [[[list(k), v] for k, v in c.items()] for c in commits],
        }, f)
    os._exit(0)

"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--port", type=int, default=8800 + 61)
    parser.add_argument("--callers", action="store_true")
    parser.add_argument("--fill", type=int, default=0)
    parser.add_argument("--plans", action="store_true")
    parser.add_argument("--pragma", action="append", default=[], help="run PRAGMA this on the store first")
    parser.add_argument("--save", help="at the end, copy the store's database to this file (SQLite backup)")
    parser.add_argument("--walks", action="store_true", help="count the page cache's walks (pcache_walks.py)")
    args = parser.parse_args()
    out = os.path.join(tempfile.mkdtemp(prefix="stacksim-trace-"), "trace.json")
    env = {
        "TRACE_OUT": out,
        "TRACE_CALLERS": "1" if args.callers else "0",
        "TRACE_PRAGMAS": ";".join(args.pragma),
        "TRACE_SAVE": args.save or "",
        "TRACE_WALKS": "1" if args.walks else "0",
        "TRACE_BENCH": os.path.dirname(os.path.abspath(__file__)),
    }
    proc = serve_measured(_CHILD, args.port, env)
    try:
        tok, _, body = compute_project(args.port)
        create_servers(args.port, tok, body, 100)
        if args.fill:
            client = Client(args.port, tok)
            bulk_create(client, body, args.fill)
            wait_built(client)
        os.kill(proc.pid, signal.SIGUSR1)
        time.sleep(0.2)
        create_servers(args.port, tok, body, args.requests, threads=1, prefix="trace")
        time.sleep(0.5)  # (the last build, if it ran after its reply)
        os.kill(proc.pid, signal.SIGUSR2)
        proc.wait(30)
        with open(out) as f:
            data = json.load(f)
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(30)
    n = args.requests
    total = sum(data["statements"].values())
    print(f"{n} creates at {100 + args.fill} servers: {total / n:.2f} statements per create")
    for sql, count in sorted(data["statements"].items(), key=lambda kv: -kv[1]):
        print(f"  {count / n:6.2f}  {sql}")
        if args.plans:
            us, total_us = data["us"].get(sql), data["total_us"].get(sql, 0)
            if us is not None:
                low, mid, p90, top = us[0], us[len(us) // 2], us[len(us) * 9 // 10], us[-1]
                print(
                    f"          us: {low:.1f} least, {mid:.1f} median, {p90:.1f} p90, {top:.1f} most;"
                    f" {total_us / n:.1f} per create"
                )
            for step in data["plans"].get(sql, []):
                print(f"          plan: {step}")
        if args.callers:
            for caller, c in sorted(data["callers"][sql].items(), key=lambda kv: -kv[1]):
                print(f"          {c / n:6.2f}  {caller}")
    if args.plans and data["us"].get("COMMIT"):
        commits = data["us"]["COMMIT"]
        share = sum(t >= 150 for t in commits) / len(commits)
        print(f"COMMITs of 150 us or more: {share:.1%} of {len(commits)}")
    if args.plans:
        for slow, label in ((0, "commits under 200 us"), (1, "commits of 200 us or more")):
            print(f"{label}, by what their transaction ran:")
            for ran, count in sorted(data["commits"][slow], key=lambda kv: -kv[1]):
                print(f"  {count / n:6.2f}  " + "\n          ".join(ran))
    for name, count in sorted(data["counts"].items()):
        print(f"{count / n:6.2f}  {name} per create")


if __name__ == "__main__":
    main()
