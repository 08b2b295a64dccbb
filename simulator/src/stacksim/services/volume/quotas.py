"""Cinder's quotas: defaults, per-project limits, usage counted from the records, enforcement.

Usage is counted, not reserved: ``volumes`` and ``gigabytes`` from the
project's volumes (a volume being extended counts at its new size) plus the
sizes of its snapshots (Cinder counts snapshot gigabytes too), ``snapshots``,
``backups`` and ``backup_gigabytes`` from their records. A check runs in the
same store transaction as the write it guards, so two creates cannot both
take the last gigabyte. Per-type quotas (``volumes_<type>`` ...) are shown
with their defaults (-1) and may be set, but are not enforced.
"""

from __future__ import annotations

from typing import Any

from stacksim import faults
from stacksim.quotas import QuotaEngine, below_usage
from stacksim.services.volume import common
from stacksim.services.volume.pools import footprint
from stacksim.store import Store

KIND = "volume_quota"
CLASS_KIND = "volume_quota_class"
#: the quota class whose limits are every project's defaults
DEFAULT_CLASS = "default"
#: Cinder's ``[DEFAULT]`` quota options; -1 means unlimited.
DEFAULTS: dict[str, int] = {
    "volumes": 10,
    "snapshots": 10,
    "gigabytes": 1000,
    "backups": 10,
    "backup_gigabytes": 1000,
    "groups": 10,
    "per_volume_gigabytes": -1,
}
PER_TYPE = ("volumes", "gigabytes", "snapshots")


class Quotas:
    """Per-project limits over the defaults, which are the ``default`` quota class's (admins may
    change any class's limits; only ``default`` is applied, as Cinder's ``use_default_quota_class``)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.classes = QuotaEngine(store, CLASS_KIND, self._built_in)
        self.engine = QuotaEngine(store, KIND, self.defaults)

    # -- limits ---------------------------------------------------------------------------------

    def _type_names(self) -> list[str]:
        return [t["name"] for t in self.store.find("volume_type")]

    def _built_in(self) -> dict[str, int]:
        limits = dict(DEFAULTS)
        for name in self._type_names():
            for resource in PER_TYPE:
                limits[f"{resource}_{name}"] = -1
        return limits

    def defaults(self) -> dict[str, int]:
        return self.classes.limits(DEFAULT_CLASS)

    def limits(self, project_id: str) -> dict[str, int]:
        return self.engine.limits(project_id)

    def _checked(self, values: dict[str, Any]) -> dict[str, int]:
        known = self._built_in()
        checked: dict[str, int] = {}
        for key, value in values.items():
            if key not in known:
                raise faults.BadRequest(f"Bad key(s) in quota set: {key}")
            try:
                number = int(value)
            except (TypeError, ValueError):
                number = None
            if number is None or isinstance(value, bool) or number < -1:
                raise common.invalid_input(f"Quota value {value} for {key} must be an integer of at least -1.")
            checked[key] = number
        return checked

    def class_limits(self, class_name: str) -> dict[str, int]:
        return self.classes.limits(class_name)

    def update_class(self, class_name: str, values: dict[str, Any]) -> dict[str, int]:
        """Set a quota class's limits (``default``: every project's defaults)."""
        name = common.check_name(class_name, "quota_class_name")
        if not name:
            raise common.invalid_input("quota_class_name has a minimum character requirement of 1.")
        return self.classes.set_limits(name, self._checked(values))

    def update(self, project_id: str, values: dict[str, Any]) -> dict[str, int]:
        checked = self._checked(values)
        with self.store.transaction():
            for key, number, used in below_usage(checked, self.usage(project_id)):
                raise common.invalid_input(
                    f"Quota limit {number} for {key} must be equal or greater than existing resources. "
                    f"Current usage is {used}."
                )
            return self.engine.set_limits(project_id, checked)

    def reset(self, project_id: str) -> None:
        self.engine.reset(project_id)

    # -- usage ------------------------------------------------------------------------------------

    def usage(self, project_id: str) -> dict[str, int]:
        volumes = [v for v in self.store.find("volume", project_id=project_id) if v.get("consumes_quota", True)]
        snapshots = self.store.find("volume_snapshot", project_id=project_id)
        backups = self.store.find("volume_backup", project_id=project_id)
        groups = self.store.count("volume_group", project_id=project_id)
        used = dict.fromkeys(self.defaults(), 0)
        used["volumes"] = len(volumes)
        used["gigabytes"] = sum(footprint(v) for v in volumes) + sum(s["size"] for s in snapshots)
        used["snapshots"] = len(snapshots)
        used["backups"] = len(backups)
        used["backup_gigabytes"] = sum(b["size"] for b in backups)
        used["groups"] = groups
        types = {t["id"]: t["name"] for t in self.store.find("volume_type")}
        for volume in volumes:
            name = types.get(volume.get("volume_type_id"))
            if name is not None:
                used[f"volumes_{name}"] += 1
                used[f"gigabytes_{name}"] += footprint(volume)
        for snap in snapshots:
            name = types.get(snap.get("volume_type_id"))
            if name is not None:
                used[f"snapshots_{name}"] += 1
                used[f"gigabytes_{name}"] += snap["size"]
        used["per_volume_gigabytes"] = 0
        return used

    # -- enforcement --------------------------------------------------------------------------------

    def check(
        self,
        project_id: str,
        *,
        volumes: int = 0,
        gigabytes: int = 0,
        snapshots: int = 0,
        backups: int = 0,
        backup_gigabytes: int = 0,
        groups: int = 0,
        volume_size: int | None = None,
    ) -> None:
        """Raise Cinder's 413 if adding these to the project's usage would pass a limit.

        Call it inside the transaction that makes the new resource.
        """
        limits = self.limits(project_id)
        wanted = {
            "volumes": volumes,
            "snapshots": snapshots,
            "gigabytes": gigabytes,
            "backups": backups,
            "backup_gigabytes": backup_gigabytes,
            "groups": groups,
        }
        overs, used = QuotaEngine.over(limits, wanted, lambda _: self.usage(project_id))
        per_volume = limits["per_volume_gigabytes"]
        if volume_size is not None and per_volume != -1 and volume_size > per_volume:
            raise common.over_quota(
                "VolumeSizeExceedsLimit",
                f"Requested volume size {volume_size} is larger than maximum allowed limit {per_volume}.",
            )
        if not overs:
            return
        checks = (
            (
                "volumes",
                volumes,
                "VolumeLimitExceeded",
                f"Maximum number of volumes allowed ({limits['volumes']}) exceeded for quota 'volumes'.",
            ),
            (
                "snapshots",
                snapshots,
                "SnapshotLimitExceeded",
                f"Maximum number of snapshots allowed ({limits['snapshots']}) exceeded",
            ),
            (
                "gigabytes",
                gigabytes,
                "VolumeSizeExceedsAvailableQuota",
                f"Requested volume or snapshot exceeds allowed gigabytes quota. Requested {gigabytes}G, "
                f"quota is {limits['gigabytes']}G and {used.get('gigabytes')}G has been consumed.",
            ),
            (
                "backups",
                backups,
                "BackupLimitExceeded",
                f"Maximum number of backups allowed ({limits['backups']}) exceeded",
            ),
            (
                "backup_gigabytes",
                backup_gigabytes,
                "VolumeBackupSizeExceedsAvailableQuota",
                f"Requested backup exceeds allowed Backup gigabytes quota. Requested {backup_gigabytes}G, "
                f"quota is {limits['backup_gigabytes']}G and {used.get('backup_gigabytes')}G has been consumed.",
            ),
            (
                "groups",
                groups,
                "GroupLimitExceeded",
                f"Maximum number of groups allowed ({limits['groups']}) exceeded",
            ),
        )
        for resource, _, exception, message in checks:
            if resource in overs:
                raise common.over_quota(exception, message)
