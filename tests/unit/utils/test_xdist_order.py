# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The test order for ``pytest -n N --dist worksteal`` (tests/utils/xdist_order.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_SPEC = importlib.util.spec_from_file_location(
    "opensandbox_tests_xdist_order", Path(__file__).resolve().parents[2] / "utils" / "xdist_order.py"
)
xdist_order = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(xdist_order)

# Three long integration targets, a long Molecule scenario, and two files of short tests.
ITEMS = (
    [f"tests/a.py::test_{n}" for n in range(6)]
    + [f"tests/integration/test_targets.py::test_target[{t}]" for t in ("vol", "img", "heat", "info")]
    + ["tests/delivery/test_molecule.py::test_scenario[sim]"]
    + [f"simulator/tests/test_b.py::test_{n}" for n in range(4)]
)
RECORD = {
    "tests": {
        "tests/integration/test_targets.py::test_target[vol]": 100.0,
        "tests/integration/test_targets.py::test_target[img]": 80.0,
        "tests/integration/test_targets.py::test_target[heat]": 40.0,
        "tests/delivery/test_molecule.py::test_scenario[sim]": 120.0,
    },
    "files": {"tests/a.py": 3.0, "simulator/tests/test_b.py": 4.0, "tests/integration/test_targets.py": 222.0},
}


def _shares(order: list[str], workers: int) -> list[list[str]]:
    out, start = [], 0
    for size in xdist_order.shares(len(order), workers):
        out.append(order[start : start + size])
        start += size
    return out


def _seconds(share: list[str]) -> float:
    return sum(RECORD["tests"].get(t, 1.0) for t in share)


def test_every_test_once_in_shares_of_worksteals_sizes() -> None:
    assert xdist_order.shares(20, 3) == [6, 7, 7]  # xdist: len(pending) // workers left
    for workers in (2, 3, 4):
        order = xdist_order.plan(ITEMS, workers, str, RECORD)
        assert sorted(order) == sorted(ITEMS)


def test_the_long_tests_are_dealt_longest_first_to_the_least_loaded_share() -> None:
    shares = _shares(xdist_order.plan(ITEMS, 3, str, RECORD), 3)
    firsts = [share[0] for share in shares]
    # 120 and 100 open two shares, 80 the third, and 40 joins the lightest (80).
    assert firsts == [
        "tests/delivery/test_molecule.py::test_scenario[sim]",
        "tests/integration/test_targets.py::test_target[vol]",
        "tests/integration/test_targets.py::test_target[img]",
    ]
    assert shares[2][1] == "tests/integration/test_targets.py::test_target[heat]"
    loads = [_seconds(share) for share in shares]
    assert max(loads) - min(loads) <= 40


def test_a_files_short_tests_stay_together_in_their_order() -> None:
    order = xdist_order.plan(ITEMS, 2, str, RECORD)
    short_b = [t for t in order if t.startswith("simulator/tests/test_b.py")]
    start = order.index(short_b[0])
    assert order[start : start + len(short_b)] == short_b == [t for t in ITEMS if "test_b" in t]


def test_without_a_record_files_stay_whole_and_in_order() -> None:
    order = xdist_order.plan(ITEMS, 1, str, {})
    assert sorted(order) == sorted(ITEMS)
    for path in ("tests/a.py", "tests/integration/test_targets.py", "simulator/tests/test_b.py"):
        mine = [t for t in order if t.startswith(path)]
        start = order.index(mine[0])
        assert order[start : start + len(mine)] == mine == [t for t in ITEMS if t.startswith(path)]


def test_the_record_is_read_from_durations_output() -> None:
    log = [
        "============================= slowest durations =============================",
        "120.50s call     tests/delivery/test_molecule.py::test_scenario[sim]",
        "3.00s setup    tests/delivery/test_molecule.py::test_scenario[sim]",
        "6.00s call     simulator/tests/test_c.py::test_rules[403-Owner can't be updated.]",
        "0.40s call     simulator/tests/test_c.py::test_other",
        "0.01s teardown tests/a.py::test_0",
    ]
    record = xdist_order.record_from_log(log)
    assert record["tests"] == {
        "simulator/tests/test_c.py::test_rules[403-Owner can't be updated.]": 6.0,
        "tests/delivery/test_molecule.py::test_scenario[sim]": 120.5,
    }
    assert record["files"] == {"simulator/tests/test_c.py": 6.4, "tests/delivery/test_molecule.py": 123.5}


def test_tests_that_take_turns_on_one_lock_run_in_one_share_one_after_another() -> None:
    docker = {"tests/delivery/test_molecule.py::test_scenario[sim]", "simulator/tests/test_b.py::test_1"}
    order = xdist_order.plan(ITEMS, 3, str, RECORD, one_at_a_time=docker)
    assert sorted(order) == sorted(ITEMS)
    share = next(s for s in _shares(order, 3) if "simulator/tests/test_b.py::test_1" in s)
    assert share[:2] == ["tests/delivery/test_molecule.py::test_scenario[sim]", "simulator/tests/test_b.py::test_1"]


def test_a_file_with_a_costly_module_fixture_stays_whole() -> None:
    record = dict(RECORD, setup={"tests/integration/test_targets.py": 30.0})
    targets = [t for t in ITEMS if "test_targets" in t]
    for shared, whole in ((["tests/integration/test_targets.py"], True), ([], False)):
        order = xdist_order.plan(ITEMS, 3, str, record, shared_setup=shared)
        start = order.index(targets[0])
        assert (order[start : start + len(targets)] == targets) is whole
