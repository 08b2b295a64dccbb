"""Software configs: what ``OS::Heat::SoftwareConfig`` (and its kin) keep, one record each.

A config belongs to the project that made it; another project (unless
admin) cannot see it, as in Heat. Kept as ``software_config`` records.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from stacksim import clock, faults
from stacksim.auth import Context
from stacksim.store import Store

KIND = "software_config"


@dataclass(frozen=True)
class SoftwareConfigCreate:
    """A new software config (Heat's ``POST /software_configs`` body)."""

    name: str
    config: str = ""
    group: str = "Heat::Ungrouped"
    options: dict[str, Any] = field(default_factory=dict)
    inputs: list[Any] = field(default_factory=list)
    outputs: list[Any] = field(default_factory=list)


class SoftwareConfigs:
    def __init__(self, store: Store) -> None:
        self.store = store

    def create(self, ctx: Context, request: SoftwareConfigCreate) -> dict[str, Any]:
        record = {
            "id": str(uuid.uuid4()),
            "name": request.name,
            "group": request.group or "Heat::Ungrouped",
            "config": request.config or "",
            "options": dict(request.options or {}),
            "inputs": list(request.inputs or []),
            "outputs": list(request.outputs or []),
            "project_id": ctx.project_id,
            "creation_time": clock.iso(clock.now(), micro=False),
        }
        return self.store.put(KIND, record)

    def get(self, ctx: Context, config_id: str) -> dict[str, Any]:
        """The config; ``NotFound`` if there is none the caller may see."""
        record = self.store.get(KIND, config_id)
        if record is None or not (ctx.is_admin or record.get("project_id") == ctx.project_id):
            raise faults.NotFound(f"Software config with id {config_id} not found", kind="NotFound")
        return record

    def content(self, ctx: Context, ref: Any) -> str | None:
        """The ``config`` of the software config ``ref`` names, or None if it names none."""
        if not isinstance(ref, str):
            return None
        try:
            return self.get(ctx, ref)["config"]
        except faults.NotFound:
            return None

    def delete(self, ctx: Context, config_id: str) -> None:
        self.get(ctx, config_id)
        self.store.delete(KIND, config_id)
