"""Small pieces every service shares: true/false words, ids and timestamps.

- Flags: :data:`TRUE`/:data:`FALSE` are oslo's ``bool_from_string`` words;
  :func:`to_bool` is the strict parse (each service passes its own error),
  :func:`is_true` the lenient one (anything else is false), and
  :func:`query_flag` reads a query parameter with a default.
- Ids: :func:`new_id` (a UUID, as Nova, Neutron, Cinder, Glance and Heat
  write them) and :func:`new_hex_id` (32 hex digits, Keystone's).
- Request ids: :data:`REQUEST_ID` holds the ``x-openstack-request-id`` of the API call being
  served (set by the HTTP layer); :func:`request_id` reads it, or makes one for work no call
  started (Heat's, a job's).
- Text: :func:`has_lone_surrogate` (text no UTF-8 can carry; :func:`surely_valid_text` the
  quick test a request passes first), :func:`printable` and
  :func:`mend_text` (:func:`mend_records` for a store).
- Timestamps: :func:`timestamp` in the two styles the APIs use (ISO 8601 with
  ``Z``, with or without microseconds) and :func:`naive_timestamp` (Nova's and
  Cinder's database style: microseconds, no zone). Parsing is
  :func:`stacksim.clock.parse`.

Paging lives in :mod:`stacksim.listing`, quotas in :mod:`stacksim.quotas`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from typing import Any

import orjson

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


def new_hex_id() -> str:
    """A new Keystone-style id: 32 hex digits, a random (version 4) UUID's, as ``uuid4().hex``.

    Made from 16 random bytes with the version and variant bits set, as :func:`uuid.uuid4`
    makes them, without building a UUID object (a create makes several ids).
    """
    h = os.urandom(16).hex()
    return f"{h[:12]}4{h[13:16]}{_VARIANT[h[16]]}{h[17:]}"


def new_id() -> str:
    """A new resource id: a random (version 4) UUID in its usual text form."""
    h = os.urandom(16).hex()  # as new_hex_id, one call less (a create makes several)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


#: the first hex digit of a UUID's variant byte with RFC 4122's variant bits (10xx)
_VARIANT = {d: "89ab"[int(d, 16) & 3] for d in "0123456789abcdef"}


#: The ``x-openstack-request-id`` of the API call being served (None outside one).
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)


def new_request_id() -> str:
    """A new ``x-openstack-request-id``: ``req-`` and a random UUID."""
    return f"req-{new_id()}"


def request_id() -> str:
    """The current API call's request id, or a new one in the same form."""
    return REQUEST_ID.get() or new_request_id()


def timestamp(micro: bool = False) -> str:
    """Now, as ``2026-01-02T03:04:05Z`` (Nova's and Neutron's views) or with ``.ffffffZ`` (Keystone, Glance)."""
    return clock.iso(clock.now(), micro=micro)


def naive_timestamp() -> str:
    """Now, as ``2026-01-02T03:04:05.000000`` (Nova's and Cinder's records: no zone)."""
    return clock.naive(clock.now())


# -- text ---------------------------------------------------------------------------------------------


#: a UTF-16 surrogate (in a Python string, always a lone one); a search, not a loop over the characters
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def has_lone_surrogate(value: Any) -> bool:
    """Does ``value`` (a string, or strings in lists and dict keys and values) hold a lone surrogate?

    JSON may carry ``"\\ud800"``, but it is no Unicode character: stored, it could
    never be sent again as UTF-8, so every later list of it would fail. Services
    refuse such text with a 400 at the door.
    """
    if isinstance(value, str):
        return LONE_SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(has_lone_surrogate(k) or has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_lone_surrogate(v) for v in value)
    return False


def _encodable(value: Any) -> Any:
    # what orjson has no encoding of: a mapping's items are text to check, anything else holds none
    if isinstance(value, Mapping):
        return dict(value)
    return None


def surely_valid_text(value: Any) -> bool:
    """True if no text in ``value`` (strings, mapping keys and values, lists, tuples, dataclasses'
    fields) holds a lone surrogate, in one pass in C: orjson refuses such text. False means it may
    (or holds something orjson will not encode, such as a key that is no string): look closer.
    """
    try:
        orjson.dumps(value, default=_encodable)
    except TypeError:  # orjson.JSONEncodeError is one
        return False
    return True


def printable(text: str) -> str:
    """``text`` safe to put in a UTF-8 message: lone surrogates become ``\\udXXX`` escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def mend_text(value: Any) -> Any:
    """``value`` with every lone surrogate (in strings, lists and dict keys and values) replaced by
    U+FFFD, for records stored before such text was refused."""
    if isinstance(value, str):
        return (
            value.encode("utf-16", "surrogatepass").decode("utf-16", "replace") if has_lone_surrogate(value) else value
        )
    if isinstance(value, dict):
        return {mend_text(k): mend_text(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mend_text(v) for v in value]
    return value


def mend_records(store: Any, kinds: Iterable[str]) -> None:
    """Mend (:func:`mend_text`) every record of ``kinds`` that holds a lone surrogate, in one
    transaction: a service's start repairs what an older stacksim stored, so its lists work."""
    with store.transaction():
        for kind in kinds:
            for record in store.find(kind):
                if has_lone_surrogate(record):
                    store.put(kind, mend_text(record))
