"""Which route of a service a request reaches, found as Starlette's ``Router`` finds it, but cheaply.

Starlette tries every route's regex in turn (a few hundred for the block-storage API) on every
request. :class:`Table` gives the same answer from the few routes that could match at all: a
path can only match a template with as many slashes, whose first segment is the same literal
(or a parameter). Those candidates keep their registration order, so the first route that
matches path and method still wins, else the first that matches the path (a 405).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Generic, TypeVar

from starlette.routing import compile_path

T = TypeVar("T")

#: the bucket of templates whose first segment is a parameter (it matches any first segment)
_ANY = object()


def route_path(scope: dict) -> str:
    """The path below the scope's ``root_path``, as Starlette's routes see it."""
    path: str = scope["path"]
    root = scope.get("root_path", "")
    if not root or not path.startswith(root):
        return path
    if path == root:
        return ""
    return path[len(root) :] if path[len(root)] == "/" else path


def _key(path: str, first: object) -> tuple[int, object]:
    return path.count("/"), first


def _first_segment(path: str) -> str | None:
    """The first segment of ``path`` (``""`` for ``/``), None if it does not start with a slash."""
    if not path.startswith("/"):
        return None
    return path[1:].split("/", 1)[0]


class Table(Generic[T]):
    """The routes of one service: (path template, methods, target), in the order they were added."""

    def __init__(self, routes: Sequence[tuple[str, frozenset[str], T]]) -> None:
        self.routes: list[tuple[re.Pattern[str], frozenset[str], T]] = []
        buckets: dict[tuple[int, object], list[int]] = {}
        for index, (path, methods, target) in enumerate(routes):
            if "GET" in methods:  # as Starlette's Route: a GET route answers HEAD too
                methods = methods | {"HEAD"}
            self.routes.append((compile_path(path)[0], methods, target))
            first = _first_segment(path)
            buckets.setdefault(_key(path, _ANY if first is None or "{" in first else first), []).append(index)
        anywhere = {key[0]: indexes for key, indexes in buckets.items() if key[1] is _ANY}
        #: per (slashes, first segment): the candidate routes, in order
        self._candidates = {
            key: [self.routes[i] for i in sorted(indexes + anywhere.get(key[0], []))]
            for key, indexes in buckets.items()
        }

    def _candidates_for(self, path: str) -> list[tuple[re.Pattern[str], frozenset[str], T]]:
        if path.endswith("\n"):  # a regex's ``$`` matches before a final newline: try them all, as Starlette
            return self.routes
        first = _first_segment(path)
        if first is None:
            return []
        slashes = path.count("/")
        found = self._candidates.get((slashes, first))
        if found is None:
            found = self._candidates.get((slashes, _ANY), [])
        return found

    def find(self, path: str, method: str) -> tuple[T | None, dict[str, str], bool]:
        """The target for ``method`` at ``path`` and its path parameters, and whether the path matched
        at all (a route for the path but not the method: the target is None and the answer a 405)."""
        partial = False
        for regex, methods, target in self._candidates_for(path):
            match = regex.match(path)
            if match:
                if not methods or method in methods:  # no methods: any (as Starlette)
                    return target, match.groupdict(), True
                partial = True
        return None, {}, partial

    def matches(self, path: str) -> bool:
        """Whether any route has ``path``, whatever its method."""
        return any(regex.match(path) for regex, _, _ in self._candidates_for(path))
