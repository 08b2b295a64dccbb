"""The storage backend, its pools and their capacity, and the scheduler's choice among them.

One backend, ``stacksim@lvm`` (``volume_backend_name`` ``lvm``), thick
provisioned, with the pools in :data:`POOLS`. Capacity is counted from the
volume records, never kept as a counter: a pool's allocated gigabytes are the
sizes of the volumes whose ``host`` names it (a volume being extended counts
at its new size), so nothing can drift and a failed create that never got a
host takes nothing. The choice is Cinder's filter scheduler in miniature: the
type's ``volume_backend_name`` must name the backend, its ``pool_name`` (if
any) pins the pool, and among the pools the volume fits in, the one with the
most free space wins (the capacity weigher).
"""

from __future__ import annotations

from typing import Any

from stacksim.services.volume import common
from stacksim.store import Store

HOST = "stacksim"
BACKEND = "lvm"
BACKEND_HOST = f"{HOST}@{BACKEND}"
#: pool name -> total capacity in GiB
POOLS: dict[str, int] = {"pool-a": 100, "pool-b": 500}
DRIVER_VERSION = "3.0.0"
STORAGE_PROTOCOL = "local"
VOLUME_KIND = "volume"


class NoValidBackend(Exception):
    """The scheduler found no pool for a request (Cinder's ``NoValidBackend``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"No valid backend was found. {reason}")


def pool_of(host: str | None) -> str | None:
    """``stacksim@lvm#pool-a`` -> ``pool-a``."""
    if not host or "#" not in host:
        return None
    return host.split("#", 1)[1]


def host_of(pool: str) -> str:
    return f"{BACKEND_HOST}#{pool}"


def footprint(volume: dict[str, Any]) -> int:
    """The gigabytes a volume holds in its pool (its new size while it is being extended)."""
    return max(int(volume["size"]), int(volume.get("new_size") or 0))


class Pools:
    def __init__(self, store: Store) -> None:
        self.store = store

    def allocated(self) -> dict[str, int]:
        used = dict.fromkeys(POOLS, 0)
        for volume in self.store.find(VOLUME_KIND):
            pool = pool_of(volume.get("host"))
            if pool in used:
                used[pool] += footprint(volume)
        return used

    def free(self, pool: str, used: dict[str, int] | None = None) -> int:
        used = self.allocated() if used is None else used
        return POOLS[pool] - used[pool]

    def stats(self) -> list[dict[str, Any]]:
        """Each pool's name and capabilities, as the scheduler reports them."""
        used = self.allocated()
        stamp = common.now()
        out = []
        for pool, total in POOLS.items():
            out.append(
                {
                    "name": host_of(pool),
                    "capabilities": {
                        "pool_name": pool,
                        "volume_backend_name": BACKEND,
                        "vendor_name": "Open Source",
                        "driver_version": DRIVER_VERSION,
                        "storage_protocol": STORAGE_PROTOCOL,
                        "total_capacity_gb": total,
                        "free_capacity_gb": total - used[pool],
                        "allocated_capacity_gb": used[pool],
                        "provisioned_capacity_gb": used[pool],
                        "reserved_percentage": 0,
                        "max_over_subscription_ratio": "1.0",
                        "thin_provisioning_support": False,
                        "thick_provisioning_support": True,
                        "multiattach": True,
                        "QoS_support": False,
                        "online_extend_support": True,
                        "timestamp": stamp,
                        "updated": stamp,
                    },
                }
            )
        return out

    def candidates(self, extra_specs: dict[str, str]) -> list[str]:
        """The pools a type may land in (before capacity is considered)."""
        backend = extra_specs.get("volume_backend_name")
        if backend is not None and backend != BACKEND:
            return []
        wanted = extra_specs.get("pool_name")
        if wanted is not None:
            return [wanted] if wanted in POOLS else []
        return list(POOLS)

    def choose(self, extra_specs: dict[str, str], size: int, used: dict[str, int] | None = None) -> str:
        """The pool a volume of ``size`` GiB goes to, or :class:`NoValidBackend`."""
        pools = self.candidates(extra_specs)
        if not pools:
            raise NoValidBackend("No weighed backends available")
        used = self.allocated() if used is None else used
        fitting = [p for p in pools if POOLS[p] - used[p] >= size]
        if not fitting:
            raise NoValidBackend(
                f"Insufficient free space for volume creation on host {BACKEND_HOST} "
                f"(requested / avail): {size}/{max(POOLS[p] - used[p] for p in pools)}"
            )
        # The capacity weigher: most free space first; ties go to the first pool.
        return max(fitting, key=lambda p: (POOLS[p] - used[p], -list(POOLS).index(p)))

    def fits(self, extra_specs: dict[str, str], pool: str) -> bool:
        return pool in self.candidates(extra_specs)
