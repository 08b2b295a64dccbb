"""The quick ways to timestamps and ids: the same text strftime wrote, random version 4 UUIDs."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from stacksim import clock, toolkit

MOMENTS = [
    datetime(2026, 1, 2, 3, 4, 5, 0, tzinfo=UTC),
    datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 6, 1, 1, 30, 0, 120, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    datetime(1999, 2, 28, 0, 0, 0, 1, tzinfo=timezone(timedelta(hours=-8))),
    datetime(999, 1, 1, 12, 0, 0, 5, tzinfo=UTC),
    datetime(1, 1, 1, 12, 0, 0, tzinfo=UTC),
]


@pytest.mark.parametrize("moment", MOMENTS)
def test_iso_and_naive_write_what_strftime_wrote(moment: datetime) -> None:
    utc = moment.astimezone(UTC)
    assert clock.iso(moment) == utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert clock.iso(moment, micro=False) == utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert clock.naive(moment) == utc.strftime("%Y-%m-%dT%H:%M:%S.%f")


def test_naive_timestamp_is_now_without_a_zone() -> None:
    before = datetime.now(UTC).replace(tzinfo=None)
    text = toolkit.naive_timestamp()
    after = datetime.now(UTC).replace(tzinfo=None)
    assert len(text) == len("2026-01-02T03:04:05.000000")
    assert before <= datetime.fromisoformat(text) <= after


def test_ids_are_random_version_4_uuids() -> None:
    ids = [toolkit.new_id() for _ in range(2000)]
    hexes = [toolkit.new_hex_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids) and len(set(hexes)) == len(hexes)
    for text in ids:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, text)
    for text in hexes:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant, parsed.hex) == (4, uuid.RFC_4122, text)
    # every hex digit turns up where it is random, and only 8, 9, a, b where the variant is
    assert {c for text in ids for c in text[24:]} == set("0123456789abcdef")
    assert {text[19] for text in ids} == set("89ab")
    assert toolkit.request_id().startswith("req-") and uuid.UUID(toolkit.request_id()[4:]).version == 4
