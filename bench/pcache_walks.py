"""Count the commits that walk SQLite's page cache, in this process (bench only: never in stacksim).

``install()`` (before the process opens any SQLite connection) puts a thin wrapper, through
ctypes, around SQLite's own page cache (pcache1, ``SQLITE_CONFIG_GETPCACHE2``/``PCACHE2``). It
changes nothing SQLite does; it counts what costs a commit time on a big in-memory database:

Every commit ends with ``xTruncate(dbSize + 1)``. pcache1 works only if a page key at or past that
limit was ever used since the last truncate (its ``iMaxKey``), and walks its WHOLE hash table (one
slot per cached page or more, then every page) when that key is a cache's size or more past it.
``balance_nonroot`` (a b-tree page split or merge over siblings) puts the siblings in page-number
order by swapping two pages' keys through a temporary one, the pending-byte page
(``PENDING_BYTE / page_size + 1``: 262,145 at 4 KiB), far past any database here: the next commit
walks every page of an in-memory database (all of it is in its cache).

What it counts (``COUNTS``): ``truncates``; ``walks``, those with a key a cache's size or more
past the limit (pcache1's "scan the entire hash table" branch; its hash size, not in its
interface, is taken as the cache's page count, which it is at least); ``pages_walked``, the cached
pages of those caches then (the hash slots walked are as many or up to twice as many more);
``swaps``, rekeys to a key past every page fetched (the temporary key); ``walk_us``, the thread
CPU of the walking truncates.
"""

from __future__ import annotations

import collections
import ctypes
import time

COUNTS: collections.Counter[str] = collections.Counter()
COUNTED = ("swaps", "walks", "pages_walked", "walk_us")

_KEY = ctypes.c_uint
_FETCH = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, _KEY, ctypes.c_int)
_REKEY = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, _KEY, _KEY)
_TRUNCATE = ctypes.CFUNCTYPE(None, ctypes.c_void_p, _KEY)
_DESTROY = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
_PAGECOUNT = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)


class _Methods(ctypes.Structure):  # sqlite3_pcache_methods2
    _fields_ = [
        ("iVersion", ctypes.c_int),
        ("pArg", ctypes.c_void_p),
        ("xInit", ctypes.c_void_p),
        ("xShutdown", ctypes.c_void_p),
        ("xCreate", ctypes.c_void_p),
        ("xCachesize", ctypes.c_void_p),
        ("xPagecount", _PAGECOUNT),
        ("xFetch", _FETCH),
        ("xUnpin", ctypes.c_void_p),
        ("xRekey", _REKEY),
        ("xTruncate", _TRUNCATE),
        ("xDestroy", _DESTROY),
        ("xShrink", ctypes.c_void_p),
    ]


_CONFIG_PCACHE2, _CONFIG_GETPCACHE2 = 18, 19
_kept: list[object] = []  # the wrappers and SQLite's methods: alive as long as the process
_max_key: dict[int, int] = {}  # per cache: the largest key used since its last truncate (pcache1's iMaxKey)


def install(library: str = "libsqlite3.so.0") -> None:
    """Wrap the page cache (once, before any connection is opened in this process)."""
    if _kept:
        return
    lib = ctypes.CDLL(library)
    base = _Methods()
    lib.sqlite3_shutdown()  # sqlite3_config is refused once SQLite is initialised
    if lib.sqlite3_config(_CONFIG_GETPCACHE2, ctypes.byref(base)):
        raise RuntimeError("could not read SQLite's page cache methods")
    fetch, rekey, truncate, destroy, pagecount = (
        base.xFetch,
        base.xRekey,
        base.xTruncate,
        base.xDestroy,
        base.xPagecount,
    )

    @_FETCH
    def on_fetch(cache: int, key: int, create: int) -> int | None:
        page = fetch(cache, key, create)
        if page and create and key > _max_key.get(cache, 0):
            _max_key[cache] = key
        return page

    @_REKEY
    def on_rekey(cache: int, page: int, old: int, new: int) -> None:
        if new > _max_key.get(cache, 0):
            _max_key[cache] = new
            COUNTS["swaps"] += 1
        rekey(cache, page, old, new)

    @_TRUNCATE
    def on_truncate(cache: int, limit: int) -> None:
        COUNTS["truncates"] += 1
        top = _max_key.get(cache, 0)
        if limit > top:
            truncate(cache, limit)
            return
        pages = pagecount(cache)
        walks = top - limit >= max(pages, 1)
        start = time.thread_time_ns()
        truncate(cache, limit)
        if walks:
            COUNTS["walks"] += 1
            COUNTS["pages_walked"] += pages
            COUNTS["walk_us"] += (time.thread_time_ns() - start) // 1000
        _max_key[cache] = limit - 1

    @_DESTROY
    def on_destroy(cache: int) -> None:
        _max_key.pop(cache, None)
        destroy(cache)

    mine = _Methods.from_buffer_copy(base)
    mine.xFetch, mine.xRekey, mine.xTruncate, mine.xDestroy = on_fetch, on_rekey, on_truncate, on_destroy
    _kept.extend([lib, base, mine, on_fetch, on_rekey, on_truncate, on_destroy])
    if lib.sqlite3_config(_CONFIG_PCACHE2, ctypes.byref(mine)):
        raise RuntimeError("could not set the page cache methods")
    lib.sqlite3_initialize()
