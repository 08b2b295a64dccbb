# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Waiting for a resource to reach a status, with a deadline and backoff (private to the collection).

``wait_for(module, kind, resource, ready=..., failed=..., timeout=...)`` re-reads the
resource (at once, then after 0.1 s, growing to at most 2 s between reads: a simulator
answers in milliseconds, a real cloud in seconds) until it is ready. It fails the module
when the resource goes to a failure status, with the cloud's own reason (a volume's
user message, a server's ``fault.message``, a stack's ``stack_status_reason``: the
kind's ``fault``), when it disappears, or at the deadline, saying what it waited for
and the last status it saw. ``wait_for_delete`` waits for a resource to be gone.

The first read is always a fresh one: the object a module holds may be stale (it says
``available`` from before the ``extend`` that was just sent).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn, Union

if TYPE_CHECKING:
    from ansible_collections.opensandbox.cloud.plugins.module_utils._module import AnsibleOpenStackModule
    from ansible_collections.opensandbox.cloud.plugins.module_utils._resources import Kind

#: Statuses (compared without regard to case), or a test of the resource.
Condition = Union[Collection[str], Callable[[Any], bool]]  # noqa: UP007 - modules run on Python 3.10 targets too
DEFAULT_TIMEOUT = 180


@dataclass(frozen=True)
class Backoff:
    """Delays that start at ``initial`` seconds and grow by ``factor`` up to ``cap``."""

    initial: float = 0.1
    factor: float = 1.5
    cap: float = 2.0

    def delays(self) -> Iterator[float]:
        delay = self.initial
        while True:
            yield delay
            delay = min(self.cap, delay * self.factor)


DEFAULT_BACKOFF = Backoff()


def is_failure_status(status: str | None) -> bool:
    """OpenStack's failure statuses: ``error``, ``error_*`` (Cinder), ``*_FAILED`` (Heat), ``killed`` (Glance)."""
    text = (status or "").lower()
    return text == "error" or text.startswith("error_") or text.endswith("_failed") or text == "killed"


def _holds(condition: Condition | None, kind: Kind, resource: Any) -> bool:
    if condition is None:
        return is_failure_status(kind.status(resource))
    if callable(condition):
        return bool(condition(resource))
    status = (kind.status(resource) or "").lower()
    return status in {s.lower() for s in condition}


def describe(condition: Condition) -> str:
    """What waiting for ``condition`` waits for, after "to": ``reach status available``,
    ``reach one of the statuses available, in-use``, or ``be <a test's name>``."""
    if callable(condition):
        return "be " + getattr(condition, "__name__", "ready").replace("_", " ")
    statuses = sorted(condition)
    if len(statuses) == 1:
        return f"reach status {statuses[0]}"
    return f"reach one of the statuses {', '.join(statuses)}"


def fault_reason(module: AnsibleOpenStackModule, kind: Kind, resource: Any) -> str | None:
    """The cloud's own reason for a failed resource, or ``None``; explaining never fails the module."""
    if kind.fault is None:
        return None
    try:
        reason = kind.fault(module.conn, resource)
    except Exception:  # pylint: disable=broad-exception-caught
        return None
    return " ".join(str(reason).split()) if reason else None


def wait_for(
    module: AnsibleOpenStackModule,
    kind: Kind,
    resource: Any,
    *,
    ready: Condition,
    failed: Condition | None = None,
    timeout: float | None = None,
    what: str | None = None,
    cleanup: Callable[[Any], Any] | None = None,
    backoff: Backoff = DEFAULT_BACKOFF,
) -> Any:
    """Re-read ``resource`` until ``ready`` holds; return the fresh resource.

    ``failed`` defaults to OpenStack's failure statuses (``is_failure_status``);
    ``timeout`` to the module's ``timeout`` option; ``what`` says in messages what
    ``ready`` means, after "to" (e.g. ``"be attached to server 'web'"``).
    ``cleanup(resource)`` runs when the resource fails, before the module fails, so a
    failed create leaves no orphan; it should call the SDK directly (its errors are
    reported in the message, not raised), e.g. ``lambda v: cinder.delete_volume(v)``.
    """
    goal = f"to {what or describe(ready)}"
    if timeout is None:
        timeout = module.params.get("timeout") or DEFAULT_TIMEOUT
    deadline = time.monotonic() + timeout
    get = kind.get(module.conn)
    delays = backoff.delays()
    label = kind.label(resource)
    while True:
        fresh = module.call_or_none(get, resource.id)
        if fresh is None:
            module.fail_json(msg=f"{label} disappeared while the module waited for it {goal}")
        resource = fresh
        if _holds(ready, kind, resource):
            return resource
        if _holds(failed, kind, resource):
            _fail_status(module, kind, resource, goal, cleanup)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            _fail_timeout(module, kind, resource, goal, timeout)
        time.sleep(min(next(delays), remaining))


def wait_for_delete(
    module: AnsibleOpenStackModule,
    kind: Kind,
    resource: Any,
    *,
    timeout: float | None = None,
    backoff: Backoff = DEFAULT_BACKOFF,
) -> None:
    """Re-read ``resource`` until the cloud no longer has it (404); fail on a failure status or timeout."""
    if timeout is None:
        timeout = module.params.get("timeout") or DEFAULT_TIMEOUT
    deadline = time.monotonic() + timeout
    get = kind.get(module.conn)
    delays = backoff.delays()
    while True:
        fresh = module.call_or_none(get, resource.id)
        if fresh is None:
            return
        resource = fresh
        if is_failure_status(kind.status(resource)):
            _fail_status(module, kind, resource, "to be deleted")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            _fail_timeout(module, kind, resource, "to be deleted", timeout)
        time.sleep(min(next(delays), remaining))


def _fail_status(
    module: AnsibleOpenStackModule,
    kind: Kind,
    resource: Any,
    goal: str,
    cleanup: Callable[[Any], Any] | None = None,
) -> NoReturn:
    reason = fault_reason(module, kind, resource) or "the cloud gives no reason"
    outcome = ""
    if cleanup is not None:
        try:
            cleanup(resource)
            outcome = f"; the failed {kind.name} was deleted"
        except Exception as exc:  # pylint: disable=broad-exception-caught
            outcome = f"; deleting the failed {kind.name} failed too ({' '.join(str(exc).split())}), delete it by hand"
    module.fail_json(
        msg=f"{kind.label(resource)} went to status {kind.status(resource)} while the module waited for it {goal}: "
        f"{reason}{outcome}"
    )


def _fail_timeout(module: AnsibleOpenStackModule, kind: Kind, resource: Any, goal: str, timeout: float) -> NoReturn:
    reason = fault_reason(module, kind, resource)
    module.fail_json(
        msg=f"Timed out after {timeout:g} s waiting for {kind.label(resource)} {goal}; its last status was "
        f"{kind.status(resource)}{f' ({reason})' if reason else ''}. Raise the timeout option, or look at the "
        f"{kind.name} in the cloud."
    )
