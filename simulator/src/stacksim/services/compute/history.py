"""Instance actions (``os-instance-actions``): what was done to a server, by whom, and how it went.

Each user action on a server (create, stop, resize, attach_volume ...) is a
record of kind ``instance_action`` named by the API request's id (the
``x-openstack-request-id`` the caller got), with the events its work went
through (``compute_stop_instance`` ...: start and finish time, result, and
for a failure the error). A deleted server's actions stay, as Nova keeps them.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from stacksim import clock, faults, toolkit
from stacksim.auth import Context
from stacksim.services.compute import policy
from stacksim.services.compute.clients import HOST
from stacksim.toolkit import naive_timestamp

if TYPE_CHECKING:
    from stacksim.services.compute.model import Compute

KIND = "instance_action"


class History:
    def __init__(self, compute: Compute) -> None:
        self.compute = compute
        self.store = compute.store

    def record(
        self,
        ctx: Context,
        server: dict[str, Any],
        action: str,
        event: str | None = None,
        done: bool = False,
        at: str | None = None,
        write: bool = True,
    ) -> dict[str, Any]:
        """Note that ``ctx`` started ``action`` on ``server`` (and its first ``event``; ``done``: it
        already finished; ``at``: when, as :func:`naive_timestamp` writes it, if the caller has it).
        ``write=False``: the record is only made, for a caller that writes it later."""
        now = at or naive_timestamp()
        request_id = toolkit.request_id()
        record = {
            "id": f"{server['id']}:{request_id}:{action}",
            "instance_uuid": server["id"],
            "server_id": server["id"],
            "action": action,
            "request_id": request_id,
            "user_id": ctx.user_id,
            "project_id": ctx.project_id or server["project_id"],
            "start_time": now,
            "updated_at": now,
            "message": None,
            "events": [],
        }
        if event is not None:
            record["events"].append(
                {
                    "event": event,
                    "start_time": now,
                    "finish_time": now if done else None,
                    "result": "Success" if done else None,
                    "traceback": None,
                    "host": HOST,
                    "details": None,
                }
            )
        return self.store.put(KIND, record) if write else record

    def finish(
        self,
        server_id: str,
        event: str,
        error: str | None = None,
        at: str | None = None,
        action: dict[str, Any] | None = None,
    ) -> None:
        """The newest unfinished ``event`` of the server ended (with ``error`` if it failed; ``at``:
        when, as :func:`naive_timestamp` writes it, if the caller has it). ``action``: the server's
        only action, as :meth:`record` made it (not written) in the transaction this runs in (a build of a server
        its own create is making), finished and written here; none is searched for."""

        def done(record: dict[str, Any]) -> dict[str, Any] | None:
            for entry in record["events"]:
                if entry["event"] == event and entry["finish_time"] is None:
                    now = at or naive_timestamp()
                    entry.update(finish_time=now, result="Error" if error else "Success")
                    if error:
                        entry.update(traceback=f"Traceback (most recent call last):\n{error}", details=error)
                        record["message"] = "Error"
                    record["updated_at"] = now
                    return record
            return None

        if action is not None:  # one write: no transaction of its own
            done(action)
            self.store.put(KIND, action)
            return
        with self.store.transaction():  # read and written in one step: no second read of the record
            for record in self.of(server_id):
                if done(record) is not None:
                    self.store.put(KIND, record)
                    return

    def of(self, server_id: str) -> list[dict[str, Any]]:
        """The server's actions, newest first."""
        found = self.store.find(KIND, server_id=server_id)
        return sorted(found, key=lambda r: r["start_time"], reverse=True)

    def get(self, server_id: str, request_id: str) -> dict[str, Any]:
        for record in self.of(server_id):
            if record["request_id"] == request_id:
                return record
        raise faults.NotFound(f"Action {request_id} not found")

    # -- reading (os-instance-actions) -------------------------------------------------------------

    def _server(self, ctx: Context, server_id: str, rule: str, deleted_too: bool) -> dict[str, Any]:
        servers = self.compute.servers
        server = servers.any(ctx, server_id) if deleted_too else servers.get(ctx, server_id)
        policy.authorize(ctx, f"os_compute_api:os-instance-actions:{rule}", server["project_id"])
        return server

    def list(
        self,
        ctx: Context,
        server_id: str,
        *,
        deleted_too: bool = False,
        since: datetime | None = None,
        before: datetime | None = None,
        limit: int | None = None,
        marker: str | None = None,
    ) -> tuple[list[dict[str, Any]], bool]:
        """The server's actions, newest first (``deleted_too``: of a deleted server as well, from
        2.21), changed in ``[since, before]``, paged by request id: ``(page, more_follow)``."""
        self._server(ctx, server_id, "list", deleted_too)
        if since and before and before < since:
            raise faults.BadRequest("The value of changes-since must be less than or equal to changes-before.")
        found = self.of(server_id)
        if since:
            found = [a for a in found if clock.parse(a["updated_at"]) >= since]
        if before:
            found = [a for a in found if clock.parse(a["updated_at"]) <= before]
        if marker is not None:
            index = next((i for i, a in enumerate(found) if a["request_id"] == marker), None)
            if index is None:
                raise faults.BadRequest(f"Marker {marker} could not be found.")
            found = found[index + 1 :]
        if limit is None:
            return found, False
        return found[:limit], len(found) > limit

    def show(self, ctx: Context, server_id: str, request_id: str, deleted_too: bool = False) -> tuple[dict, bool, bool]:
        """The action, and whether ``ctx`` may see its events' tracebacks and details (admins)."""
        server = self._server(ctx, server_id, "show", deleted_too)
        events = policy.allowed(ctx, "os_compute_api:os-instance-actions:events", server["project_id"])
        details = policy.allowed(ctx, "os_compute_api:os-instance-actions:events:details", server["project_id"])
        return self.get(server_id, request_id), events, details
