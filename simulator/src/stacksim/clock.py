"""Time as the OpenStack APIs write it."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime, micro: bool = True) -> str:
    """``2026-01-02T03:04:05.000000Z`` (Keystone) or without fraction (Nova, Neutron)."""
    if moment.tzinfo is not UTC:  # now()'s are UTC already: one call less
        moment = moment.astimezone(UTC)
    if moment.year < 1000:  # strftime writes these years unpadded, isoformat pads them
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if micro else "%Y-%m-%dT%H:%M:%SZ")
    # isoformat: the same text as the strftime above, at about half the cost ("+00:00" cut off)
    return moment.isoformat(timespec="microseconds" if micro else "seconds")[:-6] + "Z"


def naive(moment: datetime) -> str:
    """``2026-01-02T03:04:05.000000`` in UTC, no zone (Nova's and Cinder's records)."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    if moment.year < 1000:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")
    return moment.isoformat(timespec="microseconds")[:-6]


def parse(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
