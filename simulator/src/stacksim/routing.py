"""Which route of a service a request reaches, found as Starlette's ``Router`` finds it, but cheaply.

Starlette tries every route's regex in turn (a few hundred for the block-storage API) on every
request. :class:`Table` keeps the templates in a tree of their segments (a literal, or a parameter
that takes any non-empty segment) and walks it with the path's segments, so only the routes whose
template fits the path are found. They are taken in registration order, so the first route that
matches path and method still wins, else the first that matches the path (a 405).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Generic, TypeVar

from starlette.routing import compile_path

T = TypeVar("T")

#: paths whose candidate routes a table remembers (a create's or a list's path is the same each time)
CACHED_PATHS = 1024


class _Node:
    """The templates that go on past one segment: by literal segment, and by parameter."""

    __slots__ = ("literal", "param", "routes")

    def __init__(self) -> None:
        self.literal: dict[str, _Node] = {}
        self.param: _Node | None = None
        #: the indexes of the routes whose templates end here
        self.routes: list[int] = []

    def add(self, segments: list[str], index: int) -> None:
        node = self
        for segment in segments:
            if segment.startswith("{") and segment.endswith("}"):
                node.param = node.param or _Node()
                node = node.param
            else:
                node = node.literal.setdefault(segment, _Node())
        node.routes.append(index)

    def collect(self, segments: list[str], at: int, found: list[int]) -> None:
        """Add to ``found`` the routes whose templates fit ``segments[at:]``."""
        if at == len(segments):
            found.extend(self.routes)
            return
        segment = segments[at]
        child = self.literal.get(segment)
        if child is not None:
            child.collect(segments, at + 1, found)
        if self.param is not None and segment:  # a parameter is never empty ([^/]+)
            self.param.collect(segments, at + 1, found)


def route_path(scope: dict) -> str:
    """The path below the scope's ``root_path``, as Starlette's routes see it."""
    path: str = scope["path"]
    root = scope.get("root_path", "")
    if not root or not path.startswith(root):
        return path
    if path == root:
        return ""
    return path[len(root) :] if path[len(root)] == "/" else path


class Table(Generic[T]):
    """The routes of one service: (path template, methods, target), in the order they were added."""

    def __init__(self, routes: Sequence[tuple[str, frozenset[str], T]]) -> None:
        self.routes: list[tuple[re.Pattern[str], frozenset[str], T]] = []
        self._tree = _Node()
        #: the candidates of the paths seen, up to :data:`CACHED_PATHS` of them (the routes never change)
        self._seen: dict[str, list[tuple[re.Pattern[str], frozenset[str], T]]] = {}
        for index, (path, methods, target) in enumerate(routes):
            if "GET" in methods:  # as Starlette's Route: a GET route answers HEAD too
                methods = methods | {"HEAD"}
            self.routes.append((compile_path(path)[0], methods, target))
            if "{" in path and not re.fullmatch(r"(/([^{}/]*|\{\w+\}))+", path):
                raise ValueError(f"{path}: a parameter must be a whole segment, of no other type than str")
            self._tree.add(path.split("/")[1:], index)

    def _candidates(self, path: str) -> list[tuple[re.Pattern[str], frozenset[str], T]]:
        """The routes that may match ``path``, in order (each one's regex has the last word)."""
        found = self._seen.get(path)
        if found is None:
            found = self._walk(path)
            if len(self._seen) < CACHED_PATHS:  # the first paths seen: the collections, the first ids
                self._seen[path] = found
        return found

    def _walk(self, path: str) -> list[tuple[re.Pattern[str], frozenset[str], T]]:
        if path.endswith("\n"):  # a regex's ``$`` matches before a final newline: try them all, as Starlette
            return self.routes
        if not path.startswith("/"):
            return []
        found: list[int] = []
        self._tree.collect(path.split("/")[1:], 0, found)
        found.sort()
        return [self.routes[i] for i in found]

    def find(self, path: str, method: str) -> tuple[T | None, dict[str, str], bool]:
        """The target for ``method`` at ``path`` and its path parameters, and whether the path matched
        at all (a route for the path but not the method: the target is None and the answer a 405)."""
        partial = False
        for regex, methods, target in self._candidates(path):
            match = regex.match(path)
            if match:
                if not methods or method in methods:  # no methods: any (as Starlette)
                    return target, match.groupdict(), True
                partial = True
        return None, {}, partial

    def matches(self, path: str) -> bool:
        """Whether any route has ``path``, whatever its method."""
        return any(regex.match(path) for regex, _, _ in self._candidates(path))
