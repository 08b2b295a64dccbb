# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Order the tests so that ``pytest -n N --dist worksteal`` keeps every worker busy to the end.

xdist's worksteal scheduler gives worker *i* the *i*-th contiguous share of the collected
tests (by count), then moves tests from the end of the fullest queue to a worker that runs
dry. In collection order the few tests that take minutes (Molecule scenarios, integration
targets, ansible-test sanity) fell into one or two shares and started late, so a run ended
with one worker on a long scenario and a core idle. ``plan`` lays each share out instead:
the long tests, as a recorded run timed them (``tests/durations.json``), are dealt longest
first to the share with the least work, each share starts with its longest, and the rest of
each file stays together in the order of its weight, so what a dry worker steals from a
share's end is short. A file whose module-scoped fixtures took long to set up (a docker-driven
simulator, an AWX runner's environment) stays whole, so that set-up runs once. The tests that
take turns on one host-wide lock (those that run a docker-driven simulator) go to one share,
one after another, so that no worker waits on another's turn.

``python tests/utils/xdist_order.py LOG`` rewrites ``tests/durations.json`` from the output of
``make test PYTEST_ARGS=--durations=0`` (only the order depends on it: a stale or missing
figure makes a slower run, never a wrong one).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import TypeVar

DURATIONS = Path(__file__).resolve().parents[1] / "durations.json"
LONG_S = 5.0  # a test whose own call takes this long is placed on its own
UNKNOWN_S = 0.3  # a test the record does not name (about the suite's median)

T = TypeVar("T")


def shares(count: int, workers: int) -> list[int]:
    """How many tests worksteal hands each worker first (its own arithmetic)."""
    sizes, left = [], count
    for i in range(workers):
        sizes.append(left // (workers - i))
        left -= sizes[-1]
    return sizes


def _units(
    items: Sequence[T], nodeid: Callable[[T], str], record: dict, shared_setup: Collection[str]
) -> list[tuple[float, int, list[T]]]:
    """(seconds, first position, tests): each long test alone, the rest of each file together."""
    calls, files, setups = record.get("tests", {}), record.get("files", {}), record.get("setup", {})
    by_file: dict[str, list[tuple[int, T]]] = {}
    for pos, item in enumerate(items):
        by_file.setdefault(nodeid(item).split("::", 1)[0], []).append((pos, item))
    units = []
    for path, members in by_file.items():
        whole = path in shared_setup and setups.get(path, 0.0) >= LONG_S
        rest, long_s = [], 0.0
        for pos, item in members:
            seconds = calls.get(nodeid(item), 0.0)
            if seconds >= LONG_S and not whole:
                units.append((seconds, pos, [item]))
                long_s += seconds
            else:
                rest.append((pos, item))
        if rest:
            seconds = max(files.get(path, 0.0) - long_s, UNKNOWN_S * len(rest))
            units.append((seconds, rest[0][0], [item for _pos, item in rest]))
    return units


def _by_weight(units: list[tuple[float, int, list[T]]]) -> list[tuple[float, int, list[T]]]:
    return sorted(units, key=lambda u: (-u[0], u[1]))


def plan(
    items: Sequence[T],
    workers: int,
    nodeid: Callable[[T], str],
    record: dict,
    shared_setup: Collection[str] = (),
    one_at_a_time: Collection[str] = (),
) -> list[T]:
    """``items`` reordered into ``workers`` shares of equal recorded work (see the module's doc).

    ``shared_setup``: the files (as in node ids) with module-scoped fixtures;
    ``one_at_a_time``: the node ids of the tests that take turns on one lock.
    """
    turns = [item for item in items if nodeid(item) in one_at_a_time]
    units = _units([item for item in items if nodeid(item) not in one_at_a_time], nodeid, record, shared_setup)
    if turns:
        parts = _by_weight(_units(turns, nodeid, record, shared_setup))
        units.append((sum(u[0] for u in parts), min(u[1] for u in parts), [t for u in parts for t in u[2]]))
    sizes = shares(len(items), workers)
    buckets: list[list[tuple[float, int, list[T]]]] = [[] for _worker in range(workers)]
    load, room = [0.0] * workers, list(sizes)
    for seconds, pos, tests in _by_weight(units):
        while tests:
            fits = [i for i in range(workers) if room[i] >= len(tests)]
            if fits:  # the least-loaded share that holds it whole
                i, part = min(fits, key=lambda i: load[i]), len(tests)
            else:  # a file bigger than any share's room: split it over the emptiest shares
                i = max((i for i in range(workers) if room[i]), key=lambda i: room[i])
                part = room[i]
            share = seconds * part / len(tests)
            buckets[i].append((share, pos, tests[:part]))
            load[i] += share
            room[i] -= part
            seconds, tests = seconds - share, tests[part:]
    ordered = []
    for bucket in buckets:
        for unit in _by_weight(bucket):
            ordered.extend(unit[2])
    return ordered


def load_record(path: Path = DURATIONS) -> dict:
    """The recorded durations, or nothing (then ``plan`` only regroups by file)."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


_LINE = re.compile(r"^([0-9.]+)s (setup|call|teardown)\s+(.+?)\s*$")


def record_from_log(lines: Sequence[str]) -> dict:
    """Per-test call seconds (the long ones), per-file totals and set-up seconds from ``--durations=0``."""
    calls: dict[str, float] = {}
    files: dict[str, float] = {}
    setups: dict[str, float] = {}
    for line in lines:
        match = _LINE.match(line)
        if not match:
            continue
        seconds, phase, node = float(match.group(1)), match.group(2), match.group(3)
        path = node.split("::", 1)[0]
        files[path] = files.get(path, 0.0) + seconds
        if phase == "call":
            calls[node] = calls.get(node, 0.0) + seconds
        elif phase == "setup":
            setups[path] = setups.get(path, 0.0) + seconds
    return {
        "tests": {node: round(s, 1) for node, s in sorted(calls.items()) if s >= LONG_S},
        "files": {path: round(s, 1) for path, s in sorted(files.items()) if s >= 1.0},
        "setup": {path: round(s, 1) for path, s in sorted(setups.items()) if s >= 1.0},
    }


def main(argv: Sequence[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-3], file=sys.stderr)
        return 2
    record = record_from_log(Path(argv[1]).read_text().splitlines())
    DURATIONS.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    print(f"{DURATIONS}: {len(record['tests'])} long tests, {len(record['files'])} files")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
