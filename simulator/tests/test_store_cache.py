"""What the caches built on the store rely on: ``Store.writes`` moves on with every write of the kinds
asked about (and every rollback), and the fast JSON paths read and answer what ``json`` did."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from stacksim.store import Store
from stacksim.web import reply


@pytest.fixture
def store() -> Iterator[Store]:
    s = Store()
    yield s
    s.close()


def test_writes_move_on_with_every_write_of_the_kinds(store: Store) -> None:
    seen = [store.writes(["a"])]

    def moved() -> bool:
        seen.append(store.writes(["a"]))
        return seen[-1] != seen[-2]

    store.put("a", {"id": "1", "n": 0})
    assert moved()
    store.update("a", "1", lambda r: {**r, "n": 1})
    assert moved()
    store.put("b", {"id": "1"})
    store.delete("b", "1")
    assert not moved()  # another kind
    store.delete("a", "1")
    assert moved()
    store.put("a", {"id": "2"})
    store.delete_where("a")
    assert moved()
    with pytest.raises(RuntimeError), store.transaction():
        store.get("a", "2")
        raise RuntimeError("rolled back, nothing written")
    assert moved()  # what was read inside a rolled-back transaction may have been uncommitted


def test_records_json_would_not_write_for_orjson_read_back_the_same(store: Store) -> None:
    odd = {"id": "x", "big": 2**80, "lone": "\ud800", "text": "é\u2028"}
    store.put("thing", odd)
    back = store.get("thing", "x")
    assert back is not None
    assert back["big"] == 2**80 and back["lone"] == "\ud800"
    assert back["text"] == "é\u2028"
    assert store.query("thing") == [back]


def test_replies_are_the_json_the_standard_encoder_writes() -> None:
    body = {"servers": [{"id": "a", "name": "é\u2028<>&", "n": 1, "f": 0.5, "none": None, "t": True, "l": [1, 2]}]}
    assert json.loads(reply(body).body) == body
    # what orjson refuses goes the standard way
    assert json.loads(reply({"big": 2**70}).body) == {"big": 2**70}
    assert json.loads(reply({1: "x"}).body) == {"1": "x"}
