"""Small pieces every service shares: true/false words, ids and timestamps.

- Flags: :data:`TRUE`/:data:`FALSE` are oslo's ``bool_from_string`` words;
  :func:`to_bool` is the strict parse (each service passes its own error),
  :func:`is_true` the lenient one (anything else is false), and
  :func:`query_flag` reads a query parameter with a default.
- Ids: :func:`new_id` (a UUID, as Nova, Neutron, Cinder, Glance and Heat
  write them) and :func:`new_hex_id` (32 hex digits, Keystone's).
- Timestamps: :func:`timestamp` in the two styles the APIs use (ISO 8601 with
  ``Z``, with or without microseconds) and :func:`naive_timestamp` (Nova's and
  Cinder's database style: microseconds, no zone). Parsing is
  :func:`stacksim.clock.parse`.

Paging lives in :mod:`stacksim.listing`, quotas in :mod:`stacksim.quotas`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from stacksim import clock

TRUE = frozenset({"1", "t", "true", "on", "y", "yes"})
FALSE = frozenset({"0", "f", "false", "off", "n", "no"})


def to_bool(value: Any, error: Callable[[Any], Exception]) -> bool:
    """``value`` as a boolean: a bool as it is, else one of :data:`TRUE`/:data:`FALSE`
    (any case, spaces around); anything else raises ``error(value)``."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise error(value)


def is_true(value: Any) -> bool:
    """The lenient reading: true for the :data:`TRUE` words (or True), false for anything else."""
    return value is True or str(value).strip().lower() in TRUE


def query_flag(query: Mapping[str, str], name: str, default: bool = False, parse: Callable[[str], bool] = is_true):
    """The query parameter ``name`` read with ``parse`` (``default`` when it is absent)."""
    text = query.get(name)
    return default if text is None else parse(text)


def new_id() -> str:
    """A new resource id: a UUID in its usual text form."""
    return str(uuid.uuid4())


def new_hex_id() -> str:
    """A new Keystone-style id: 32 hex digits."""
    return uuid.uuid4().hex


def timestamp(micro: bool = False) -> str:
    """Now, as ``2026-01-02T03:04:05Z`` (Nova's and Neutron's views) or with ``.ffffffZ`` (Keystone, Glance)."""
    return clock.iso(clock.now(), micro=micro)


def naive_timestamp() -> str:
    """Now, as ``2026-01-02T03:04:05.000000`` (Nova's and Cinder's records: no zone)."""
    return clock.now().strftime("%Y-%m-%dT%H:%M:%S.%f")
