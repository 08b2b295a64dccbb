"""What the store does per server create: SQL statements (with their callers), transactions and
JSON decodes, counted over a run of creates.

Run: .venv/bin/python bench/trace_statements.py [--requests 50] [--port P] [--callers]

It runs ``stacksim serve`` (in memory, ``--delay 0``) in a child process whose store connection
has a ``set_trace_callback``, fills the demo project as ``profile_compute.py`` does (100 creates),
then counts over ``--requests`` creates on one connection (builds included): each statement
(values stripped), the store's transactions (outermost and nested), the commits (of a
transaction, and of each write made outside one), and JSON decodes (a stored record read, and
``_dumps``' round-trip check of a write). ``--callers`` also names, per statement, the code
outside ``store.py`` that issued it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import tempfile
import time

from benchlib import compute_project, create_servers, serve_measured

_CHILD = r"""
import collections, json, os, re, signal, sys, threading, traceback
import orjson
from stacksim import store

out = os.environ["TRACE_OUT"]
on = threading.Event()
stmts, callers, counts = collections.Counter(), collections.defaultdict(collections.Counter), collections.Counter()
_lit = re.compile(r"'(?:[^']|'')*'|\b\d+\b")

def where() -> str:
    frames = [f for f in traceback.extract_stack()[:-2] if "stacksim" in f.filename and "store.py" not in f.filename]
    return " < ".join(f"{os.path.basename(f.filename)}:{f.name}" for f in reversed(frames[-3:]))

state = {"open": False}

def traced(sql: str) -> None:
    verb = sql.lstrip().split(None, 1)[0].upper()
    if verb == "BEGIN":
        state["open"] = True
    elif verb in ("COMMIT", "ROLLBACK"):
        state["open"] = False
    if on.is_set():
        key = _lit.sub("?", " ".join(sql.split()))[:140]
        stmts[key] += 1
        callers[key][where()] += 1
        if verb in ("COMMIT", "ROLLBACK"):
            counts["commit (of a transaction)"] += verb == "COMMIT"
        elif verb in ("INSERT", "UPDATE", "DELETE") and not state["open"]:
            counts["commit (a write outside a transaction)"] += 1

init = store.Store.__init__
def __init__(self, *args, **kwargs):
    init(self, *args, **kwargs)
    self._db.set_trace_callback(traced)
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
    on.set()

def dump(*_):
    on.clear()
    with open(out, "w") as f:
        json.dump({"statements": stmts, "callers": callers, "counts": counts}, f)
    os._exit(0)

"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--port", type=int, default=8800 + 61)
    parser.add_argument("--callers", action="store_true")
    args = parser.parse_args()
    out = os.path.join(tempfile.mkdtemp(prefix="stacksim-trace-"), "trace.json")
    proc = serve_measured(_CHILD, args.port, {"TRACE_OUT": out})
    try:
        tok, _, body = compute_project(args.port)
        create_servers(args.port, tok, body, 100)
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
    print(f"{n} creates: {total / n:.2f} statements per create")
    for sql, count in sorted(data["statements"].items(), key=lambda kv: -kv[1]):
        print(f"  {count / n:6.2f}  {sql}")
        if args.callers:
            for caller, c in sorted(data["callers"][sql].items(), key=lambda kv: -kv[1]):
                print(f"          {c / n:6.2f}  {caller}")
    for name, count in sorted(data["counts"].items()):
        print(f"{count / n:6.2f}  {name} per create")


if __name__ == "__main__":
    main()
