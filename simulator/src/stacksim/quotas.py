"""The quota engine the services share: limits, per-project overrides and the over-limit test.

Compute, Block Storage and Networking each keep their own API format, names,
defaults and error messages (in their ``quotas`` modules); what they share
lives here:

- :meth:`QuotaEngine.limits`: a project's limits, its overrides on the defaults;
- :meth:`QuotaEngine.set_limits`, :meth:`QuotaEngine.reset`,
  :meth:`QuotaEngine.overridden`: the overrides, one store record a project;
- :meth:`QuotaEngine.over`: which of the wanted resources would pass their
  limit. Usage is asked for only for the resources that are wanted and
  limited, so an unlimited quota costs nothing to check. Call it inside the
  store transaction that writes what it guards, so two creates cannot both
  take the last unit.

Usage itself is the service's: from :meth:`stacksim.store.Store.usage`
counters (servers) or indexed counts (:meth:`stacksim.store.Store.count`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from stacksim.store import Store

#: The limit that means "no limit".
UNLIMITED = -1

Usage = Callable[[list[str]], Mapping[str, int]]


class QuotaEngine:
    """Limits of one service, kept as ``{"id": project_id, "limits": {...}}`` records of ``kind``."""

    def __init__(self, store: Store, kind: str, defaults: Callable[[], dict[str, int]] | Mapping[str, int]) -> None:
        self.store = store
        self.kind = kind
        self._defaults = defaults

    def defaults(self) -> dict[str, int]:
        return dict(self._defaults() if callable(self._defaults) else self._defaults)

    def overrides(self, project_id: str) -> dict[str, int]:
        record = self.store.get(self.kind, project_id)
        return dict(record["limits"]) if record else {}

    def limits(self, project_id: str) -> dict[str, int]:
        return {**self.defaults(), **self.overrides(project_id)}

    def set_limits(self, project_id: str, values: Mapping[str, int]) -> dict[str, int]:
        """Merge ``values`` into the project's overrides (in one transaction); its limits after."""
        with self.store.transaction():
            record = self.store.get(self.kind, project_id) or {"id": project_id, "limits": {}}
            record["limits"].update(values)
            self.store.put(self.kind, record)
        return self.limits(project_id)

    def reset(self, project_id: str) -> None:
        """Back to the defaults."""
        self.store.delete(self.kind, project_id)

    def overridden(self) -> list[tuple[str, dict[str, int]]]:
        """Projects with overrides, and their limits."""
        return [(r["id"], self.limits(r["id"])) for r in self.store.find(self.kind)]

    @staticmethod
    def over(limits: Mapping[str, int], wanted: Mapping[str, int], usage: Usage) -> tuple[list[str], dict[str, int]]:
        """The resources (in ``wanted``'s order) that ``wanted`` more would take past their limit,
        and the usage of those asked about. ``usage(names)`` is called only if one is limited."""
        limited = [name for name, n in wanted.items() if n > 0 and limits.get(name, UNLIMITED) > UNLIMITED]
        if not limited:
            return [], {}
        used = dict(usage(limited))
        return [name for name in limited if used[name] + wanted[name] > limits[name]], used


def below_usage(values: Mapping[str, int], used: Mapping[str, int]) -> Iterable[tuple[str, int, int]]:
    """``(name, value, used)`` for each new limit (not unlimited) below what is in use."""
    for name, value in values.items():
        if name in used and value > UNLIMITED and value < used[name]:
            yield name, value, used[name]


def any_limited(limits: Mapping[str, Any], names: Iterable[str]) -> bool:
    return any(limits.get(n, UNLIMITED) > UNLIMITED for n in names)
