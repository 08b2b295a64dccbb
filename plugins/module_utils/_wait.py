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
and the last status it saw; a ``cleanup`` given for a create runs first in both cases.
``wait_settled`` waits the same way but returns how the wait ended (``Settled``), for a
module that judges a failure itself (shows a console, cleans up several things).
``wait_for_delete`` waits for a resource to be gone, ``wait_for_delete_all`` for several
under one deadline.

The first read is always a fresh one: the object a module holds may be stale (it says
``available`` from before the ``extend`` that was just sent).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn, Union

from ansible_collections.opensandbox.cloud.plugins.module_utils._errors import best_effort

if TYPE_CHECKING:
    from ansible_collections.opensandbox.cloud.plugins.module_utils._module import AnsibleOpenStackModule
    from ansible_collections.opensandbox.cloud.plugins.module_utils._resources import Kind

#: Statuses (compared without regard to case), or a test of the resource.
Condition = Union[Collection[str], Callable[[Any], bool]]  # noqa: UP007 - modules run on Python 3.10 targets too
DEFAULT_TIMEOUT = 180
#: How a wait ended (``Settled.outcome``).
READY, FAILED, TIMED_OUT = "ready", "failed", "timed out"


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
    cleanup: Callable[[Any], Any] | None = None,
    **options: Any,
) -> Any:
    """Re-read ``resource`` until ``ready`` holds; return the fresh resource, or fail the module.

    ``options`` are ``wait_settled``'s (``failed``, ``timeout``, ``what``, ``backoff``).
    ``cleanup(resource)`` runs when the resource fails or the deadline passes, before the
    module fails, so a failed or timed-out create leaves no orphan; it should call the SDK
    directly (its errors are reported in the message, not raised), e.g.
    ``lambda v: cinder.delete_volume(v)``.
    """
    settled = wait_settled(module, kind, resource, ready=ready, **options)
    if settled.ready:
        return settled.resource
    _fail(module, kind, settled, cleanup)


@dataclass(frozen=True)
class Settled:
    """How a wait ended: ``outcome`` is ``READY``, ``FAILED`` (a failure status) or ``TIMED_OUT``.

    ``resource`` is the last one read (``None`` once a deleted one is gone); ``reason`` the
    cloud's own reason for a failure, if it gives one; ``message`` says on one line what
    went wrong (empty when ready), as ``wait_for`` would fail with it.
    """

    resource: Any
    outcome: str
    reason: str | None = None
    message: str = ""

    @property
    def ready(self) -> bool:
        return self.outcome == READY


def wait_settled(
    module: AnsibleOpenStackModule,
    kind: Kind,
    resource: Any,
    *,
    ready: Condition,
    failed: Condition | None = None,
    timeout: float | None = None,
    what: str | None = None,
    backoff: Backoff = DEFAULT_BACKOFF,
) -> Settled:
    """Re-read ``resource`` until ``ready`` holds, a failure status shows or the deadline passes.

    ``failed`` defaults to OpenStack's failure statuses (``is_failure_status``);
    ``timeout`` to the module's ``timeout`` option; ``what`` says in messages what
    ``ready`` means, after "to" (e.g. ``"be attached to server 'web'"``).
    Unlike ``wait_for``, a failure or the deadline ends the wait without failing the module:
    the module judges the ``Settled`` it gets (cleans up, shows more, fails its own way);
    a resource that disappears, or a read the cloud refuses, still fails the module.
    """
    timeout = _timeout(module, timeout)
    goal = f"to {what or describe(ready)}"
    return _settle(module, kind, resource, ready, failed, time.monotonic() + timeout, timeout, goal, backoff)


def wait_for_delete(
    module: AnsibleOpenStackModule,
    kind: Kind,
    resource: Any,
    *,
    timeout: float | None = None,
    backoff: Backoff = DEFAULT_BACKOFF,
    failed: Condition | None = None,
) -> None:
    """Re-read ``resource`` until the cloud no longer has it (404); fail on a failure status or timeout.

    ``failed`` defaults to the kind's ``delete_failed``, else OpenStack's failure statuses.
    """
    wait_for_delete_all(module, kind, [resource], timeout=timeout, backoff=backoff, failed=failed)


def wait_for_delete_all(
    module: AnsibleOpenStackModule,
    kind: Kind,
    resources: Iterable[Any],
    *,
    timeout: float | None = None,
    backoff: Backoff = DEFAULT_BACKOFF,
    failed: Condition | None = None,
) -> None:
    """``wait_for_delete`` for several resources deleted together, under one deadline."""
    timeout = _timeout(module, timeout)
    deadline = time.monotonic() + timeout
    if failed is None:
        failed = kind.delete_failed
    for resource in resources:
        settled = _settle(module, kind, resource, None, failed, deadline, timeout, "to be deleted", backoff)
        if not settled.ready:
            _fail(module, kind, settled)


def _timeout(module: AnsibleOpenStackModule, timeout: float | None) -> float:
    """The wait's timeout: the one given, else the module's ``timeout`` option, else ``DEFAULT_TIMEOUT``."""
    if timeout is not None:
        return timeout
    return module.params.get("timeout") or DEFAULT_TIMEOUT


def _settle(
    module: AnsibleOpenStackModule,
    kind: Kind,
    resource: Any,
    ready: Condition | None,
    failed: Condition | None,
    deadline: float,
    timeout: float,
    goal: str,
    backoff: Backoff,
) -> Settled:
    """The loop of every wait; ``ready=None`` waits for the resource to be gone."""
    get = kind.get(module.conn)
    delays = backoff.delays()
    label = kind.label(resource)
    while True:
        fresh = module.call_or_none(get, resource.id)
        if fresh is None:
            if ready is None:
                return Settled(None, READY)
            module.fail_json(msg=f"{label} disappeared while the module waited for it {goal}")
        resource = fresh
        if ready is not None and _holds(ready, kind, resource):
            return Settled(resource, READY)
        if _holds(failed, kind, resource):
            reason = fault_reason(module, kind, resource)
            message = (
                f"{kind.label(resource)} went to status {kind.status(resource)} while the module waited for it "
                f"{goal}: {reason or 'the cloud gives no reason'}"
            )
            return Settled(resource, FAILED, reason, message)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            reason = fault_reason(module, kind, resource)
            message = (
                f"Timed out after {timeout:g} s waiting for {kind.label(resource)} {goal}; its last status was "
                f"{kind.status(resource)}{f' ({reason})' if reason else ''}"
            )
            return Settled(resource, TIMED_OUT, reason, message)
        time.sleep(min(next(delays), remaining))


def _fail(
    module: AnsibleOpenStackModule,
    kind: Kind,
    settled: Settled,
    cleanup: Callable[[Any], Any] | None = None,
) -> NoReturn:
    """Fail with the settled wait's message: after the cleanup, saying how it went, and with a hint at a timeout."""
    timed_out = settled.outcome == TIMED_OUT
    outcome, deleted = "", False
    if cleanup is not None:
        which = "unfinished" if timed_out else "failed"
        problem = best_effort(lambda: cleanup(settled.resource))
        deleted = problem is None
        if deleted:
            outcome = f"; the {which} {kind.name} was deleted"
        else:
            outcome = f"; deleting the {which} {kind.name} failed too ({problem}), delete it by hand"
    if not timed_out:
        module.fail_json(msg=settled.message + outcome)
    look = "" if deleted else f", or look at the {kind.name} in the cloud"
    module.fail_json(msg=f"{settled.message}{outcome}. Raise the timeout option{look}.")
