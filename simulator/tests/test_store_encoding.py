"""How the store encodes records: orjson's text only where it decodes to exactly the record, and
``json``'s (as before) for everything orjson would change or refuse; :meth:`Store.add`."""

from __future__ import annotations

import enum
import json
import math
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from stacksim import store as store_module
from stacksim.store import StaleRecord, Store, Taken, _dumps


@pytest.fixture
def store() -> Store:
    s = Store()
    yield s
    s.close()


def _as_json(record: dict[str, Any]) -> str:
    return json.dumps(record, separators=(",", ":"))


class Text(str):
    pass


class Number(int):
    pass


class Colour(enum.StrEnum):
    RED = "red"


class Plain(enum.Enum):
    ONE = 1


# What orjson alone would store differently (NaN as null, tuples as lists, keys as text) or refuse
# (integers past 64 bits, lone surrogates, non-str keys): each is stored as json always stored it.
FALLBACK = [
    {"id": "a", "x": math.nan},
    {"id": "a", "x": [math.inf, -math.inf]},
    {"id": "a", "x": "\ud800"},
    {"id": "a", "x": {1: "one", None: "none", False: "no", 1.5: "half"}},
    {"id": "a", "x": (1, (2, 3))},
    {"id": "a", "x": Text("t"), "y": Number(3), "z": Colour.RED},
]

# What orjson stores: the same data, in text that may differ (non-ASCII written as it is).
PLAIN = [
    {"id": "a", "n": 0, "f": -0.0, "g": 0.1, "h": 1e300, "i": 5e-324, "j": 2**63 - 1, "k": -(2**63)},
    {"id": "a", "t": "é ☃ \u2028 \x00 \"'\\", "nested": {"l": [None, True, False, {"m": []}]}},
    {"id": "a", "empty": {}, "list": [], "s": ""},
]


@pytest.mark.parametrize("record", FALLBACK)
def test_what_orjson_would_change_is_stored_as_json_stored_it(store: Store, record: dict[str, Any]) -> None:
    assert _dumps(record) == _as_json(record)
    store.put("thing", record)
    got = store.get("thing", "a")
    assert json.dumps(got, sort_keys=True) == json.dumps(json.loads(_as_json(record)), sort_keys=True)


@pytest.mark.parametrize("record", PLAIN)
def test_plain_records_round_trip_exactly(store: Store, record: dict[str, Any]) -> None:
    store.put("thing", record)
    got = store.get("thing", "a")
    assert got == record
    # the same types too (1 stays an int, 1.0 a float, -0.0 negative)
    assert repr(got) == repr(record)
    assert json.loads(_dumps(record)) == json.loads(_as_json(record))


@pytest.mark.parametrize("value", [2**64, -(2**63) - 1, 10**30])
def test_integers_past_64_bits_are_written_as_json_writes_them(value: int) -> None:
    # (orjson refuses them; reading them back is json's or orjson's as before this encoder)
    assert _dumps({"id": "a", "x": value}) == f'{{"id":"a","x":{value}}}'


@pytest.mark.parametrize("value", [Plain.ONE, uuid.uuid4(), datetime.now(UTC), {1, 2}, b"x"])
def test_what_json_refuses_is_still_refused(store: Store, value: Any) -> None:
    with pytest.raises(TypeError):
        store.put("thing", {"id": "a", "x": value})
    assert store.get("thing", "a") is None


def test_sql_reads_fields_orjson_wrote(store: Store) -> None:
    store.put("thing", {"id": "a", "name": "é☃", "n": 1})
    store.put("thing", {"id": "b", "name": "plain", "n": 2})
    assert [r["id"] for r in store.find("thing", name="é☃")] == ["a"]
    assert [r["id"] for r in store.query("thing", order=[("name", True)])] == ["a", "b"]


def test_add_inserts_a_new_record_and_refuses_an_existing_one(store: Store) -> None:
    store.track("thing", {"n": lambda r: r["n"]})
    store.unique("thing", lambda r: [("scope", r["value"])])
    store.add("thing", {"id": "a", "n": 2, "value": "v1", "project_id": "p"})
    assert store.get_rev("thing", "a") == ({"id": "a", "n": 2, "value": "v1", "project_id": "p"}, 1)
    assert store.usage("thing", "p") == {"n": 2}
    assert store.holder("scope", "v1") == ("thing", "a")
    with pytest.raises(StaleRecord):
        store.add("thing", {"id": "a", "n": 5, "value": "v2", "project_id": "p"})
    with pytest.raises(Taken):
        store.add("thing", {"id": "b", "n": 5, "value": "v1", "project_id": "p"})
    # neither failed add left anything: the record, its sum and its claim are as they were
    assert store.get_rev("thing", "a") == ({"id": "a", "n": 2, "value": "v1", "project_id": "p"}, 1)
    assert store.get("thing", "b") is None
    assert store.usage("thing", "p") == {"n": 2}
    assert store.holder("scope", "v2") is None
    store.add("other", {"id": "x"})  # an untracked kind: one insert
    with pytest.raises(StaleRecord):
        store.add("other", {"id": "x", "again": True})
    assert store.get("other", "x") == {"id": "x"}


def test_a_record_written_by_orjson_survives_reopening(tmp_path: Path) -> None:
    path = str(tmp_path / "state.db")
    first = Store(path)
    first.add("thing", {"id": "a", "t": "é", "nan": math.nan})
    first.close()
    again = Store(path)
    got = again.get("thing", "a")
    again.close()
    assert got["t"] == "é" and math.isnan(got["nan"])


@pytest.mark.parametrize("record", PLAIN)
def test_plain_records_are_not_decoded_to_check_them(record: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    # (what the round trip would find is known from the types: see test_plain_records_round_trip_exactly)
    def no_decode(data: Any) -> Any:
        raise AssertionError("decoded")

    monkeypatch.setattr(store_module.orjson, "loads", no_decode)
    assert json.loads(_dumps(record)) == json.loads(_as_json(record))


@pytest.mark.parametrize(
    "value, plain",
    [
        ({"a": [1, "b", None, True, 1.5, {"c": []}]}, True),
        ({"a": [1, {"c": [math.nan]}]}, False),
        ({"a": {"b": math.inf}}, False),
        ({"a": (1,)}, False),
        ({"a": [Text("t")]}, False),
        ({"a": {"b": Number(1)}}, False),
        ({"a": Colour.RED}, False),
        ({"a": uuid.uuid4()}, False),
    ],
)
def test_what_is_plain(value: Any, plain: bool) -> None:
    assert store_module._plain(value) is plain
