"""A server's states: Nova's vm_state, task_state and power_state, and the status clients see."""

from __future__ import annotations

from typing import Any

from stacksim import clock

# Nova's power states.
NOSTATE, RUNNING, PAUSED, SHUTDOWN, SUSPENDED = 0, 1, 3, 4, 7

#: vm_state -> {task_state: status}; ``None`` is the status without a task (Nova's ``_STATE_MAP``).
_STATUS: dict[str, dict[str | None, str]] = {
    "active": {
        None: "ACTIVE",
        "rebooting": "REBOOT",
        "reboot_started": "REBOOT",
        "rebooting_hard": "HARD_REBOOT",
        "rebuilding": "REBUILD",
        "resize_prep": "RESIZE",
        "resize_migrating": "RESIZE",
        "resize_finish": "RESIZE",
        "updating_password": "PASSWORD",
    },
    "building": {None: "BUILD"},
    "stopped": {None: "SHUTOFF", "resize_prep": "RESIZE", "resize_finish": "RESIZE", "rebuilding": "REBUILD"},
    "resized": {None: "VERIFY_RESIZE", "resize_reverting": "REVERT_RESIZE"},
    "paused": {None: "PAUSED"},
    "suspended": {None: "SUSPENDED"},
    "rescued": {None: "RESCUE"},
    "error": {None: "ERROR", "rebuilding": "REBUILD"},
    "deleted": {None: "DELETED"},
    "shelved": {None: "SHELVED"},
    "shelved_offloaded": {None: "SHELVED_OFFLOADED"},
}

#: Statuses the ``status`` list filter knows.
STATUSES = frozenset(s for by_task in _STATUS.values() for s in by_task.values())


def status(vm_state: str, task_state: str | None) -> str:
    by_task = _STATUS[vm_state]
    return by_task.get(task_state, by_task[None])


def set_state(
    server: dict[str, Any],
    vm_state: str,
    task_state: str | None = None,
    power: int | None = None,
    updated: str | None = None,
) -> None:
    """Give the record these states, the status they show and a new ``updated`` time (``updated``:
    that time as :func:`now` wrote it, when the caller has it already)."""
    server["vm_state"] = vm_state
    server["task_state"] = task_state
    if power is not None:
        server["power_state"] = power
    server["status"] = status(vm_state, task_state)
    server["updated"] = updated or clock.iso(clock.now(), micro=False)


def now() -> str:
    """Nova's time in server records and views: ISO 8601, seconds, ``Z``."""
    return clock.iso(clock.now(), micro=False)
