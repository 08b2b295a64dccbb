"""Nova's quotas: defaults, the ``default`` quota class, per-project limits, usage and enforcement.

Usage is counted from the records, as Nova counts it since Pike (no
reservations): servers (kind ``server``) give instances, cores and RAM from
their embedded flavor; server groups and keypairs are counted where they are
stored. Per-user quotas are not implemented: a ``user_id`` query is ignored.
"""

from __future__ import annotations

from typing import Any

from stacksim import faults
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


def live_servers(store: Store, **equal: Any) -> list[dict[str, Any]]:
    """Server records that still count (not deleted)."""
    return [s for s in store.find("server", **equal) if s.get("status") not in GONE and not s.get("deleted")]


def flavor_sizes(server: dict[str, Any]) -> tuple[int, int]:
    flavor = server.get("flavor") or {}
    return int(flavor.get("vcpus") or 0), int(flavor.get("ram") or 0)


class Quotas:
    def __init__(self, store: Store) -> None:
        self.store = store

    # -- limits ------------------------------------------------------------------------

    def class_limits(self, name: str = DEFAULT_CLASS) -> dict[str, int]:
        """A quota class; only ``default`` changes what projects get, as in Nova."""
        record = self.store.get(CLASS_KIND, name)
        base = DEFAULTS if name == DEFAULT_CLASS else self.class_limits(DEFAULT_CLASS)
        return {**base, **(record["limits"] if record else {})}

    def defaults(self) -> dict[str, int]:
        return self.class_limits(DEFAULT_CLASS)

    def limits(self, project_id: str) -> dict[str, int]:
        record = self.store.get(KIND, project_id)
        return {**self.defaults(), **(record["limits"] if record else {})}

    # -- usage -----------------------------------------------------------------------------

    def usage(self, project_id: str) -> dict[str, int]:
        """What the project uses of each quota (per-user ones, key_pairs and members, show 0)."""
        servers = live_servers(self.store, project_id=project_id)
        used = dict.fromkeys(DEFAULTS, 0)
        used["instances"] = len(servers)
        used["cores"] = sum(flavor_sizes(s)[0] for s in servers)
        used["ram"] = sum(flavor_sizes(s)[1] for s in servers)
        used["server_groups"] = self.store.count("server_group", project_id=project_id)
        return used

    def detail(self, project_id: str) -> dict[str, dict[str, int]]:
        used = self.usage(project_id)
        return {k: {"limit": v, "in_use": used[k], "reserved": 0} for k, v in self.limits(project_id).items()}

    # -- enforcement -------------------------------------------------------------------------

    def check(self, project_id: str, instances: int = 0, cores: int = 0, ram: int = 0) -> None:
        """Raise Forbidden (Nova's 403 for a server create over quota) if the project cannot
        take ``instances`` more servers using ``cores`` vCPUs and ``ram`` MiB in all.

        The message is Nova's: "Quota exceeded for cores: Requested 4, but already used 18 of
        20 cores". Call it in the same store transaction that writes the servers.
        """
        limits, used = self.limits(project_id), self.usage(project_id)
        wanted = {"instances": instances, "cores": cores, "ram": ram}
        overs = [k for k, n in wanted.items() if n > 0 and 0 <= limits[k] < used[k] + n]
        if overs:

            def each(values: dict[str, int]) -> str:
                return ", ".join(str(values[k]) for k in overs)

            names = ", ".join(overs)
            raise faults.Forbidden(
                f"Quota exceeded for {names}: Requested {each(wanted)}, but already used {each(used)} "
                f"of {each(limits)} {names}"
            )

    def headroom(self, project_id: str, vcpus: int, ram: int) -> int | None:
        """How many more servers of this size the project may have (None: unlimited)."""
        limits, used = self.limits(project_id), self.usage(project_id)
        room = []
        for name, each in (("instances", 1), ("cores", vcpus), ("ram", ram)):
            if limits[name] >= 0 and each > 0:
                room.append(max(0, (limits[name] - used[name]) // each))
        return min(room) if room else None

    # -- updates ------------------------------------------------------------------------------

    def update(self, project_id: str, values: dict[str, int], force: bool = False) -> dict[str, int]:
        """Set some of a project's limits; unless ``force``, none may go below what is in use."""
        with self.store.transaction():
            if not force:
                used = self.usage(project_id)
                for name, value in values.items():
                    if 0 <= value < used[name]:
                        raise faults.BadRequest(
                            f"Quota limit {value} for {name} must be greater than or equal to already used "
                            f"and reserved {used[name]}."
                        )
            record = self.store.get(KIND, project_id) or {"id": project_id, "limits": {}}
            record["limits"].update(values)
            self.store.put(KIND, record)
        return self.limits(project_id)

    def reset(self, project_id: str) -> None:
        """Back to the defaults (Nova's DELETE of a quota set)."""
        self.store.delete(KIND, project_id)

    def update_class(self, name: str, values: dict[str, int]) -> dict[str, int]:
        record = self.store.get(CLASS_KIND, name) or {"id": name, "limits": {}}
        record["limits"].update(values)
        self.store.put(CLASS_KIND, record)
        return self.class_limits(name)
