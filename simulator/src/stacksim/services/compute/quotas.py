"""Nova's quotas: defaults, the ``default`` quota class, per-project limits, usage and enforcement.

Usage is counted from the records, as Nova counts it since Pike (no
reservations): servers (kind ``server``) give instances, cores and RAM from
their embedded flavor, summed by the store as each server is written
(:meth:`~stacksim.store.Store.track`), so a check reads one row whatever the
project holds; server groups are an indexed count. Limits and the over-limit
test are the shared :class:`stacksim.quotas.QuotaEngine`. Per-user quotas are
not implemented: a ``user_id`` query is ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stacksim import faults
from stacksim.auth import Context
from stacksim.quotas import QuotaEngine, below_usage
from stacksim.services.compute import policy
from stacksim.store import Store

KIND = "compute_quota"
CLASS_KIND = "compute_quota_class"
DEFAULT_CLASS = "default"

#: Nova's ``[quota]`` defaults; -1 means unlimited. The last four are the
#: nova-network ones, still shown (never enforced) before microversion 2.36.
DEFAULTS: dict[str, int] = {
    "instances": 10,
    "cores": 20,
    "ram": 51200,
    "metadata_items": 128,
    "injected_files": 5,
    "injected_file_content_bytes": 10240,
    "injected_file_path_bytes": 255,
    "key_pairs": 100,
    "server_groups": 10,
    "server_group_members": 10,
    "fixed_ips": -1,
    "floating_ips": 10,
    "security_groups": 10,
    "security_group_rules": 20,
}
NETWORK_QUOTAS = ("fixed_ips", "floating_ips", "security_groups", "security_group_rules")
INJECTED_QUOTAS = ("injected_files", "injected_file_content_bytes", "injected_file_path_bytes")
SERVER_GROUP_QUOTAS = ("server_groups", "server_group_members")
#: Server statuses that hold no quota any more.
GONE = frozenset({"DELETED"})
#: What the store sums over each project's servers.
SERVER_USAGE = ("instances", "cores", "ram")


def counts(server: dict[str, Any]) -> bool:
    """Does the server still count (not deleted)?"""
    return server.get("status") not in GONE and not server.get("deleted")


def live_servers(store: Store, **equal: Any) -> list[dict[str, Any]]:
    """Server records that still count (not deleted)."""
    return [s for s in store.find("server", **equal) if counts(s)]


def flavor_sizes(server: dict[str, Any]) -> tuple[int, int]:
    flavor = server.get("flavor") or {}
    return int(flavor.get("vcpus") or 0), int(flavor.get("ram") or 0)


# What each server write adds to its project's usage (the store calls these on every write of a
# server: counts() and flavor_sizes() written out, one call each instead of three).
def _instances(server: dict[str, Any]) -> int:
    return int(server.get("status") not in GONE and not server.get("deleted"))


def _cores(server: dict[str, Any]) -> int:
    if server.get("status") in GONE or server.get("deleted"):
        return 0
    return int((server.get("flavor") or {}).get("vcpus") or 0)


def _ram(server: dict[str, Any]) -> int:
    if server.get("status") in GONE or server.get("deleted"):
        return 0
    return int((server.get("flavor") or {}).get("ram") or 0)


class Quotas:
    def __init__(self, store: Store, check_project: Callable[[str], None] = lambda project_id: None) -> None:
        self.store = store
        #: raises Nova's 400 for a project Keystone does not know
        self.check_project = check_project
        self.engine = QuotaEngine(store, KIND, self.defaults)
        self.classes = QuotaEngine(store, CLASS_KIND, DEFAULTS)
        store.track(
            "server",
            {"instances": _instances, "cores": _cores, "ram": _ram},
        )

    # -- limits ------------------------------------------------------------------------

    def class_limits(self, name: str = DEFAULT_CLASS) -> dict[str, int]:
        """A quota class; only ``default`` changes what projects get, as in Nova."""
        base = DEFAULTS if name == DEFAULT_CLASS else self.class_limits(DEFAULT_CLASS)
        return {**base, **self.classes.overrides(name)}

    def defaults(self) -> dict[str, int]:
        return self.class_limits(DEFAULT_CLASS)

    def limits(self, project_id: str) -> dict[str, int]:
        """The project's limits (read again only once its quota or the classes change)."""
        return dict(self.store.cached((KIND, CLASS_KIND), project_id, lambda: self.engine.limits(project_id)))

    # -- usage -----------------------------------------------------------------------------

    def usage(self, project_id: str, names: list[str] | None = None) -> dict[str, int]:
        """What the project uses of each quota (per-user ones, key_pairs and members, show 0);
        with ``names``, of those only."""
        used = dict.fromkeys(names or DEFAULTS, 0)
        if any(n in SERVER_USAGE for n in used):
            servers = self.store.usage("server", project_id)
            used.update((n, servers[n]) for n in SERVER_USAGE if n in used)
        if "server_groups" in used:
            used["server_groups"] = self.store.count("server_group", project_id=project_id)
        return used

    def detail(self, project_id: str) -> dict[str, dict[str, int]]:
        used = self.usage(project_id)
        return {k: {"limit": v, "in_use": used[k], "reserved": 0} for k, v in self.limits(project_id).items()}

    # -- for the API (Nova's policy) ----------------------------------------------------------

    def show(self, ctx: Context, project_id: str, detail: bool = False) -> dict[str, Any]:
        """A project's limits (with ``detail``, and their usage): its readers' and admins'."""
        policy.authorize(ctx, f"os_compute_api:os-quota-sets:{'detail' if detail else 'show'}", project_id)
        self.check_project(project_id)
        return self.detail(project_id) if detail else self.limits(project_id)

    def absolute(self, ctx: Context, project_id: str | None) -> tuple[dict[str, int], dict[str, int]]:
        """``GET /limits``: the limits and usage of the caller's project (admins: any)."""
        policy.authorize(ctx, "os_compute_api:limits")
        project_id = project_id or ctx.project_id or ""
        if project_id != ctx.project_id:
            policy.authorize(ctx, "os_compute_api:limits:other_project")
        return self.limits(project_id), self.usage(project_id)

    def defaults_for(self, ctx: Context, project_id: str) -> dict[str, int]:
        policy.authorize(ctx, "os_compute_api:os-quota-sets:defaults")
        self.check_project(project_id)
        return self.defaults()

    def set(self, ctx: Context, project_id: str, values: dict[str, int], force: bool = False) -> dict[str, int]:
        policy.authorize(ctx, "os_compute_api:os-quota-sets:update")
        self.check_project(project_id)
        return self.update(project_id, values, force=force)

    def clear(self, ctx: Context, project_id: str) -> None:
        policy.authorize(ctx, "os_compute_api:os-quota-sets:delete")
        self.reset(project_id)

    def show_class(self, ctx: Context, name: str) -> dict[str, int]:
        policy.authorize(ctx, "os_compute_api:os-quota-class-sets:show")
        return self.class_limits(name)

    def set_class(self, ctx: Context, name: str, values: dict[str, int]) -> dict[str, int]:
        policy.authorize(ctx, "os_compute_api:os-quota-class-sets:update")
        return self.update_class(name, values)

    # -- enforcement -------------------------------------------------------------------------

    def check(self, project_id: str, instances: int = 0, cores: int = 0, ram: int = 0) -> None:
        """Raise Forbidden (Nova's 403 for a server create over quota) if the project cannot
        take ``instances`` more servers using ``cores`` vCPUs and ``ram`` MiB in all.

        The message is Nova's: "Quota exceeded for cores: Requested 4, but already used 18 of
        20 cores". Call it in the same store transaction that writes the servers.
        """
        self._check(project_id, self.limits(project_id), instances, cores, ram)

    def _check(self, project_id: str, limits: dict[str, int], instances: int, cores: int, ram: int) -> None:
        wanted = {"instances": instances, "cores": cores, "ram": ram}
        overs, used = self.engine.over(limits, wanted, lambda names: self.usage(project_id, names))
        if overs:

            def each(values: dict[str, int]) -> str:
                return ", ".join(str(values[k]) for k in overs)

            names = ", ".join(overs)
            raise faults.Forbidden(
                f"Quota exceeded for {names}: Requested {each(wanted)}, but already used {each(used)} "
                f"of {each(limits)} {names}"
            )

    def fit(self, project_id: str, flavor: dict[str, Any], least: int, most: int) -> int:
        """How many of ``least`` to ``most`` servers of ``flavor`` the project may have more, as
        Nova counts a multiple create: as many as fit, if at least ``least`` do; else the 403
        for ``least``. Call it in the store transaction that writes the servers."""
        limits = self.limits(project_id)
        room = self.headroom(project_id, flavor["vcpus"], flavor["ram"], limits)
        count = most if room is None else min(most, room)
        if count < least:
            count = least
        self._check(project_id, limits, count, flavor["vcpus"] * count, flavor["ram"] * count)
        return count

    def headroom(self, project_id: str, vcpus: int, ram: int, limits: dict[str, int] | None = None) -> int | None:
        """How many more servers of this size the project may have (None: unlimited); ``limits``:
        the project's, if the caller has read them."""
        limits = limits if limits is not None else self.limits(project_id)
        sizes = (("instances", 1), ("cores", vcpus), ("ram", ram))
        limited = [(name, each) for name, each in sizes if limits[name] >= 0 and each > 0]
        if not limited:
            return None  # nothing to count (the usage is not read)
        used = self.usage(project_id, [name for name, _ in limited])
        return min(max(0, (limits[name] - used[name]) // each) for name, each in limited)

    # -- updates ------------------------------------------------------------------------------

    def update(self, project_id: str, values: dict[str, int], force: bool = False) -> dict[str, int]:
        """Set some of a project's limits; unless ``force``, none may go below what is in use."""
        _no_networks(values)
        with self.store.transaction():
            if not force:
                for name, value, used in below_usage(values, self.usage(project_id, list(values))):
                    raise faults.BadRequest(
                        f"Quota limit {value} for {name} must be greater than or equal to already used "
                        f"and reserved {used}."
                    )
            return self.engine.set_limits(project_id, values)

    def reset(self, project_id: str) -> None:
        """Back to the defaults (Nova's DELETE of a quota set)."""
        self.engine.reset(project_id)

    def update_class(self, name: str, values: dict[str, int]) -> dict[str, int]:
        _no_networks(values)
        self.classes.set_limits(name, values)
        return self.class_limits(name)


def _no_networks(values: dict[str, int]) -> None:
    if "networks" in values:
        raise faults.BadRequest("The networks quota is disabled")
