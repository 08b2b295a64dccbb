"""Keeping secrets out of the log: query strings carry tokens (``?token=`` of Heat's
signal URLs, ``Signature=`` of signed ones), which the access log would print."""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl, urlencode

#: query parameters whose values are secrets, by name
SECRET = re.compile(r"token|pass|secret|signature|key|auth|credential", re.IGNORECASE)
MASK = "***"


def mask_query(target: str) -> str:
    """``target`` (a path with its query) with the values of secret-looking parameters masked."""
    path, sep, query = target.partition("?")
    if not sep:
        return target
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(SECRET.search(name) for name, _ in pairs):
        return target
    masked = [(name, MASK if SECRET.search(name) else value) for name, value in pairs]
    return f"{path}?{urlencode(masked, safe='*')}"


class QueryMask(logging.Filter):
    """Masks secret query values in the string arguments of a log record (uvicorn's access log)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, str) and "?" in a for a in record.args):
            record.args = tuple(mask_query(a) if isinstance(a, str) and "?" in a else a for a in record.args)
        return True


def mask_access_log() -> None:
    """Install :class:`QueryMask` on uvicorn's access log (once)."""
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, QueryMask) for f in logger.filters):
        logger.addFilter(QueryMask())
