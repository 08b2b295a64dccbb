"""Time as the OpenStack APIs write it."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime, micro: bool = True) -> str:
    """``2026-01-02T03:04:05.000000Z`` (Keystone) or without fraction (Nova, Neutron)."""
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ" if micro else "%Y-%m-%dT%H:%M:%SZ"
    return moment.astimezone(UTC).strftime(fmt)


def parse(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
