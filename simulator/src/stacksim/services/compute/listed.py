"""The encoded views of listed servers (and whole list replies), kept while the store has not
changed at all.

``GET /servers/detail`` builds the same views again and again while nothing changes
(clients poll), and building them is most of its work. A server's list view is a
function of the store's records (the server, its ports, networks, floating IPs,
security groups, volume attachments) and of what the call brings: its microversion and
the caller's roles, project and user (Nova's policy answers and the admin-only fields).
So a view encoded once is good for a call of the same shape while the store's
:meth:`~stacksim.store.Store.generation` (every write of any kind, and every rollback)
stays where it was when the view was made; the first write anywhere drops them all.
A list uses the kept views only if no write landed while it read its servers.

A whole reply is likewise a function of the store, the call's shape and its path and query
(the selection, filters, sort and paging are all worked out from them), so a poll that
asks again what it asked before, with nothing written since, gets the same bytes again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

import orjson

from stacksim.auth import Context
from stacksim.microversion import Version
from stacksim.store import Store

#: views kept at most (about 1.5 KB each: a 1,000-server list fits, memory stays small)
MAX_VIEWS = 5_000
#: whole replies kept at most
MAX_REPLIES = 32

Shape = tuple[Any, ...]


def shape(version: Version, ctx: Context) -> Shape:
    """What of a call a server's list view depends on besides the store."""
    return (version.major, version.minor, ctx.roles, ctx.project_id, ctx.user_id)


class ListedViews:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._generation = -1
        self._views: dict[tuple[Shape, str], bytes] = {}
        self._replies: dict[tuple[Any, ...], bytes] = {}

    def reply(self, generation: int, key: tuple[Any, ...]) -> bytes | None:
        """The reply kept for ``key`` (the call's shape, path and query) if the store is still at
        ``generation`` (read before anything else of the call)."""
        with self._lock:
            return self._replies.get(key) if self._generation == generation else None

    def keep_reply(self, generation: int, key: tuple[Any, ...], body: bytes) -> None:
        """Keep the reply made for ``key`` if nothing was written since ``generation``."""
        if self.store.generation() != generation:
            return
        with self._lock:
            self._renew(generation)
            if len(self._replies) >= MAX_REPLIES:
                self._replies.clear()
            self._replies[key] = body

    def encoded(
        self,
        generation: int,
        call_shape: Shape,
        servers: list[dict[str, Any]],
        render: Callable[[list[dict[str, Any]]], Iterable[dict[str, Any]]],
    ) -> list[bytes] | None:
        """Each server's view, JSON-encoded, in order: the kept ones if the store is still at
        ``generation`` (read before the servers were), the others made by ``render`` (and
        kept if nothing was written meanwhile). None if a view does not encode with orjson
        (the caller then encodes the usual way)."""
        fresh = self.store.generation() == generation
        found: dict[str, bytes] = {}
        if fresh:
            with self._lock:
                if self._generation == generation:
                    for server in servers:
                        view = self._views.get((call_shape, server["id"]))
                        if view is not None:
                            found[server["id"]] = view
        missing = [s for s in servers if s["id"] not in found]
        if missing:
            made: dict[str, bytes] = {}
            for server, view in zip(missing, render(missing), strict=True):
                try:
                    made[server["id"]] = orjson.dumps(view)
                except TypeError:  # orjson.JSONEncodeError: a lone surrogate, a huge integer
                    return None
            found.update(made)
            if fresh and self.store.generation() == generation:
                self._keep(generation, call_shape, made)
        return [found[s["id"]] for s in servers]

    def _keep(self, generation: int, call_shape: Shape, made: dict[str, bytes]) -> None:
        with self._lock:
            self._renew(generation)
            if len(self._views) + len(made) > MAX_VIEWS:
                self._views.clear()
            self._views.update(((call_shape, sid), view) for sid, view in made.items())

    def _renew(self, generation: int) -> None:
        """Drop what was kept at another generation (under the lock)."""
        if self._generation != generation:
            self._views.clear()
            self._replies.clear()
            self._generation = generation
