"""Nova's server records: reading and listing them, what users change on them, and delete.

A server is a record of kind ``server`` while it lives. Deleting one runs a
job that destroys the instance, releases its volumes and ports and replaces
the record by a tombstone (kind ``deleted_server``, ``status`` DELETED), as
Nova keeps a soft-deleted row: lists asked with ``changes-since`` or
``changes-before`` show tombstones, admins list them with ``deleted=true``,
a ``marker`` may name one, usage reports count their hours and their
instance actions stay readable. ``GET /servers/{id}`` of a deleted server is 404.

Every change goes through :meth:`Servers.modify`: read, change and write in
one store transaction, never across a driver call.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from stacksim import clock, faults, listing
from stacksim.auth import Context
from stacksim.drivers.base import DriverError
from stacksim.services.compute import policy
from stacksim.services.compute.inputs import KEEP, ServerChanges, ServerQuery, check_text
from stacksim.services.compute.server_meta import check_metadata, check_tags, metadata_limit
from stacksim.services.compute.states import NOSTATE, set_state
from stacksim.store import MissingRecord
from stacksim.toolkit import naive_timestamp

if TYPE_CHECKING:
    from stacksim.services.compute.model import Compute

log = logging.getLogger("stacksim.compute")

KIND = "server"
GONE = "deleted_server"
#: Sort fields the store orders by itself (text that a server record always holds).
SQL_SORTABLE = frozenset({"created", "updated", "name", "id", "status", "vm_state", "project_id", "user_id"})


def not_found(server_id: str) -> faults.NotFound:
    return faults.NotFound(f"Instance {server_id} could not be found.")


def owner_context(server: dict[str, Any]) -> Context:
    """The server's own project and user, for work its jobs do on their behalf."""
    return Context(
        token_id="",
        user_id=server["user_id"],
        user_name="",
        user_domain_id="default",
        roles=frozenset({"member", "reader"}),
        project_id=server["project_id"],
    )


def conflict(server: dict[str, Any], action: str, attr: str = "vm_state") -> faults.Conflict:
    """Nova's 409 for an action the server's state does not allow."""
    return faults.Conflict(f"Cannot '{action}' instance {server['id']} while it is in {attr} {server[attr]}")


def check_state(server: dict[str, Any], action: str, vm_states: tuple[str, ...], tasks: tuple = (None,)) -> None:
    if server["vm_state"] not in vm_states:
        raise conflict(server, action)
    if server["task_state"] not in tasks:
        raise conflict(server, action, "task_state")


def check_unlocked(ctx: Context, server: dict[str, Any]) -> None:
    if server["locked"] and not ctx.is_admin:
        raise faults.Conflict(f"Instance {server['id']} is locked")


class Related:
    """What the views of some servers need from Neutron, Cinder and server groups, read in a
    few batched reads for all of them (not a handful of reads per server). Each part is read
    when first asked for: a create's reply needs only the ports' security groups."""

    def __init__(self, compute: Compute, servers: list[dict[str, Any]]) -> None:
        self._net = compute.peers.network
        self._compute = compute
        self._live = [s for s in servers if s["vm_state"] != "deleted"]

    @functools.cached_property
    def ports(self) -> dict[str, dict[str, Any]]:
        return self._net.ports(pid for s in self._live for pid in s["ports"])

    @functools.cached_property
    def networks(self) -> dict[str, dict[str, Any]]:
        return {n["id"]: n for n in self._net.networks(None, {p["network_id"] for p in self.ports.values()})}

    @functools.cached_property
    def floating(self) -> dict[str, list[dict[str, Any]]]:
        return self._net.floating_ips(self.ports)

    @functools.cached_property
    def security_groups(self) -> dict[str, dict[str, Any]]:
        return self._net.security_groups({g for p in self.ports.values() for g in p["security_groups"]})

    @functools.cached_property
    def attachments(self) -> dict[str, list[dict[str, Any]]]:
        ids = [s["id"] for s in self._live]
        return self._compute.peers.volume.attachments_of(ids) if ids else {}

    @functools.cached_property
    def server_groups(self) -> dict[str, list[str]]:
        return self._compute.server_groups.groups_of_servers([s["id"] for s in self._live])

    def holding(self, ports: dict[str, dict[str, Any]], groups: dict[str, dict[str, Any]]) -> Related:
        """Take the servers' ports (all of them, by id) and security groups from a caller that
        holds them already (a create): the groups only if they are all the ports' groups."""
        self.__dict__["ports"] = ports
        wanted = {g for p in ports.values() for g in p["security_groups"]}
        if wanted <= groups.keys():
            self.__dict__["security_groups"] = {g: groups[g] for g in wanted}
        return self

    def ports_of(self, server: dict[str, Any]) -> list[dict[str, Any]]:
        return [self.ports[pid] for pid in server["ports"] if pid in self.ports]


def addresses(server: dict[str, Any], related: Related, detailed: bool = False) -> dict[str, list[dict[str, Any]]]:
    """The server's addresses by network name: fixed ones and the floating IPs on its ports
    (with ``detailed``, each also names its ``port`` and, if fixed, its ``subnet_id``)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for port in related.ports_of(server):
        network = related.networks.get(port["network_id"]) or {"name": port["network_id"]}
        entries = out.setdefault(network["name"], [])
        for ip in port["fixed_ips"]:
            entry = _address(ip["ip_address"], "fixed", port)
            if detailed:
                entry.update(port=port["id"], subnet_id=ip["subnet_id"])
            entries.append(entry)
        for fip in related.floating.get(port["id"], ()):
            entry = _address(fip["floating_ip_address"], "floating", port)
            if detailed:
                entry["port"] = port["id"]
            entries.append(entry)
    return out


def _address(address: str, kind: str, port: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": 6 if ":" in address else 4,
        "addr": address,
        "OS-EXT-IPS:type": kind,
        "OS-EXT-IPS-MAC:mac_addr": port["mac_address"],
    }


def deletes_with(server: dict[str, Any], volume_id: str) -> bool:
    """Is the volume deleted along with the server (``delete_on_termination``)?"""
    if volume_id in (server.get("delete_on_termination") or {}):
        return bool(server["delete_on_termination"][volume_id])
    return any(b["volume_id"] == volume_id and b["delete_on_termination"] for b in server["block_devices"])


class Servers:
    def __init__(self, compute: Compute) -> None:
        self.compute = compute
        self.store = compute.store
        self.peers = compute.peers
        self.lifecycle = compute.cloud.lifecycle
        self.lifecycle.register("server.delete", self._delete_job)

    # -- reading ------------------------------------------------------------------------------

    def record(self, server_id: str) -> dict[str, Any] | None:
        return self.store.get(KIND, server_id)

    def get(self, ctx: Context, server_id: str) -> dict[str, Any]:
        """The live server if the caller may see it (its project's, or any for admins); else 404."""
        server = self.record(server_id)
        if server is None or not ctx.owns_project(server["project_id"]):
            raise not_found(server_id)
        return server

    def owned(self, ctx: Context, server_id: str, rule: str) -> dict[str, Any]:
        """:meth:`get`, then Nova's policy ``rule`` on the server's project (403 if it says no)."""
        server = self.get(ctx, server_id)
        policy.authorize(ctx, rule, server["project_id"], server["user_id"])
        return server

    def show(self, ctx: Context, server_id: str) -> dict[str, Any]:
        return self.owned(ctx, server_id, "os_compute_api:servers:show")

    def any(self, ctx: Context, server_id: str) -> dict[str, Any]:
        """:meth:`get`, or the deleted server's tombstone (Nova's ``read_deleted='yes'``)."""
        server = self.record(server_id) or self.store.get(GONE, server_id)
        if server is None or not ctx.owns_project(server["project_id"]):
            raise not_found(server_id)
        return server

    def states(self) -> dict[str, str]:
        return {s["id"]: s["vm_state"] for s in self.store.find(KIND)}

    def related(self, servers: list[dict[str, Any]]) -> Related:
        return Related(self.compute, servers)

    def ports(self, server: dict[str, Any]) -> list[dict[str, Any]]:
        found = self.peers.network.ports(server["ports"])
        return [found[pid] for pid in server["ports"] if pid in found]

    def addresses(self, server: dict[str, Any], detailed: bool = False) -> dict[str, list[dict[str, Any]]]:
        if server["vm_state"] == "building":
            return {}  # Nova hides them while the server builds
        return addresses(server, self.related([server]), detailed)

    def network_addresses(self, ctx: Context, server_id: str, network: str) -> list[dict[str, Any]]:
        """The addresses on one network (``GET /servers/{id}/ips/{network}``)."""
        server = self.owned(ctx, server_id, "os_compute_api:ips:show")
        found = self.addresses(server)
        if network not in found:
            raise faults.NotFound("Instance is not a member of specified network")
        return found[network]

    def security_groups(self, ctx: Context, server_id: str) -> list[dict[str, Any]]:
        """The security groups on the server's ports (``os-security-groups`` of a server)."""
        server = self.owned(ctx, server_id, "os_compute_api:os-security-groups:list")
        related = self.related([server])
        seen: dict[str, dict[str, Any]] = {}
        for port in related.ports_of(server):
            for gid in port["security_groups"]:
                if gid in related.security_groups:
                    seen.setdefault(gid, related.security_groups[gid])
        return list(seen.values())

    def migrations(self, ctx: Context, server_id: str) -> list[dict[str, Any]]:
        """The server's live migrations in progress: none, on one host."""
        self.owned(ctx, server_id, "os_compute_api:servers:migrations:index")
        return []

    # -- listing ---------------------------------------------------------------------------------

    def select(self, ctx: Context, q: ServerQuery) -> tuple[list[dict[str, Any]], bool]:
        """The servers a list asks for, Nova's way: the caller's project unless an admin asks for
        all (``all_tenants``: 403 for others, as Nova's policy says); deleted ones with
        ``changes-since``/``changes-before`` or an admin's ``deleted``; newest first by default."""
        rule = "detail" if q.detail else "index"
        policy.authorize(ctx, f"os_compute_api:servers:{rule}")
        if q.all_projects:
            policy.authorize(ctx, f"os_compute_api:servers:{rule}:get_all_tenants")
        if q.changes_since and q.changes_before and q.changes_before < q.changes_since:
            raise faults.BadRequest("The value of changes-since must be less than or equal to changes-before.")
        equal: dict[str, Any] = {}
        if not q.all_projects:
            equal["project_id"] = ctx.project_id
        elif q.project_id:
            equal["project_id"] = q.project_id
        admin = ctx.is_admin
        if admin and q.user_id:
            equal["user_id"] = q.user_id
        any_of: dict[str, list[Any]] = {}
        if q.statuses:
            if "DELETED" in q.statuses and not admin:
                raise faults.Forbidden("Only administrators may list deleted instances")
            any_of["status"] = sorted(set(q.statuses))
        if q.image_id:
            equal["image_id"] = q.image_id
        if q.locked is not None:
            equal["locked"] = q.locked
        keep = self._tests(q, admin)
        order = list(q.sort) or [("created", True)]
        deleted = q.deleted if admin else None
        with_gone = (
            bool(deleted) or (deleted is None and (q.changes_since or q.changes_before)) or ("DELETED" in q.statuses)
        )
        live = deleted is not True
        marker_gone = q.marker and self.record(q.marker) is None and self.store.get(GONE, q.marker) is not None
        try:
            if live and not with_gone and not marker_gone and all(f in SQL_SORTABLE for f, _ in order):
                return listing.fetch_page(
                    self.store,
                    KIND,
                    equal=equal,
                    any_of=any_of,
                    order=order,
                    marker=q.marker,
                    limit=q.limit,
                    keep=keep,
                )
            records: list[dict[str, Any]] = self.store.query(KIND, equal, any_of=any_of) if live else []
            if with_gone:
                records += self.store.query(GONE, equal, any_of=any_of)
            records = [s for s in records if keep(s)] if keep else records
            marker = q.marker
            if marker_gone and not any(r["id"] == marker for r in records):
                records.append(self.store.get(GONE, marker) or {})
            page, more = listing.sort_page(
                records, order, marker=marker, limit=q.limit, sort_value=lambda v: (v is None, str(v))
            )
            return page, more
        except (MissingRecord, KeyError):
            raise faults.BadRequest(f"marker [{q.marker}] not found") from None

    def _tests(self, q: ServerQuery, admin: bool) -> Callable[[dict[str, Any]], bool] | None:
        """The filters the store cannot answer, as tests on each record."""
        tests: list[Callable[[dict[str, Any]], bool]] = []
        if q.name:
            name = _regex(q.name, "name")
            tests.append(lambda s: bool(name.search(s["name"])))
        if q.flavor_id:
            tests.append(lambda s: s["flavor"]["id"] == q.flavor_id)
        if q.changes_since:
            since = q.changes_since
            tests.append(lambda s: clock.parse(s["updated"]) >= since)
        if q.changes_before:
            before = q.changes_before
            tests.append(lambda s: clock.parse(s["updated"]) <= before)
        for wanted, every, negate in (
            (q.tags, True, False),
            (q.tags_any, False, False),
            (q.not_tags, True, True),
            (q.not_tags_any, False, True),
        ):
            if wanted:
                tests.append(_tag_test(set(wanted), every, negate))
        for pattern, version in ((q.ip, 4), (q.ip6, 6)):
            if pattern:
                tests.append(self._ip_test(_regex(pattern, "ip" if version == 4 else "ip6"), version))
        if q.availability_zone:
            zone = _regex(q.availability_zone, "availability_zone")
            tests.append(lambda s: bool(zone.search(s["availability_zone"] or "")))
        if q.key_name:
            key = _regex(q.key_name, "key_name")
            tests.append(lambda s: bool(key.search(s["key_name"] or "")))
        if q.reservation_id:
            tests.append(lambda s: s["reservation_id"] == q.reservation_id)
        if not tests:
            return None
        return lambda s: all(t(s) for t in tests)

    def _ip_test(self, pattern: re.Pattern[str], version: int) -> Callable[[dict[str, Any]], bool]:
        def test(server: dict[str, Any]) -> bool:
            found = self.addresses(server) if server["vm_state"] != "deleted" else {}
            return any(
                a["version"] == version and pattern.search(a["addr"]) for entries in found.values() for a in entries
            )

        return test

    # -- changing ---------------------------------------------------------------------------------

    def modify(
        self,
        server_id: str,
        change: Callable[[dict[str, Any]], bool | None],
        current: tuple[dict[str, Any], int] | None = None,
    ) -> dict[str, Any]:
        """Change a server in one store transaction and return it as written.

        ``change`` edits the current record in place (it may raise to refuse,
        or return False to leave the record as it is); it runs under the
        store's lock, so it must not call the driver. NotFound if the server
        is gone. ``current``: the record and its revision as the caller's open
        transaction read them, so they are not read again (see :meth:`Store.update`).
        """

        def apply(server: dict[str, Any]) -> dict[str, Any] | None:
            return None if change(server) is False else server

        try:
            return self.store.update(KIND, server_id, apply, current=current)
        except MissingRecord:
            raise not_found(server_id) from None

    def settle(
        self,
        server_id: str,
        change: Callable[[dict[str, Any]], bool | None],
        current: tuple[dict[str, Any], int] | None = None,
    ) -> None:
        """:meth:`modify` from a job: a server deleted meanwhile needs nothing more."""
        try:  # noqa: SIM105 (not contextlib.suppress: three calls fewer for every build)
            self.modify(server_id, change, current)
        except faults.NotFound:
            pass

    def edit(self, server_id: str, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """:meth:`modify`, stamping ``updated`` (what a user's change to a server does)."""

        def apply(server: dict[str, Any]) -> None:
            change(server)
            server["updated"] = clock.iso(clock.now(), micro=False)

        return self.modify(server_id, apply)

    def fail(self, server_id: str, message: str, code: int = 500) -> None:
        """The server goes to ERROR with a fault (a build or an action that failed)."""

        def fail(server: dict[str, Any]) -> None:
            server["fault"] = {"code": code, "message": message, "created": clock.iso(clock.now(), micro=False)}
            set_state(server, "error", None, NOSTATE)

        self.settle(server_id, fail)

    def update(self, ctx: Context, server_id: str, changes: ServerChanges) -> dict[str, Any]:
        """Set the fields ``changes`` gives on the server as it is now (the rest as others left it)."""
        self.owned(ctx, server_id, "os_compute_api:servers:update")
        check_text(changes)
        values = {
            "name": changes.name,
            "description": changes.description,
            "hostname": changes.hostname,
            "access_ipv4": changes.access_ipv4,
            "access_ipv6": changes.access_ipv6,
        }
        values = {k: ("" if v is None and k.startswith("access") else v) for k, v in values.items() if v is not KEEP}
        if changes.metadata is not KEEP:
            values["metadata"] = check_metadata(dict(changes.metadata), metadata_limit(self.compute, ctx))
        if changes.tags is not KEEP:
            values["tags"] = check_tags(list(changes.tags))
        return self.edit(server_id, lambda current: current.update(values))

    # -- lock, reset, security groups --------------------------------------------------------------

    def lock(self, ctx: Context, server_id: str, reason: str | None) -> dict[str, Any]:
        self.owned(ctx, server_id, "os_compute_api:os-lock-server:lock")

        def lock(current: dict[str, Any]) -> None:
            current.update(locked=True, locked_reason=reason, locked_by="admin" if ctx.is_admin else "owner")

        server = self.modify(server_id, lock)
        self.compute.history.record(ctx, server, "lock")
        return server

    def unlock(self, ctx: Context, server_id: str) -> dict[str, Any]:
        self.owned(ctx, server_id, "os_compute_api:os-lock-server:unlock")

        def unlock(current: dict[str, Any]) -> None:
            if current.get("locked_by") == "admin" and not ctx.is_admin:
                policy.authorize(ctx, "os_compute_api:os-lock-server:unlock:unlock_override")
            current.update(locked=False, locked_reason=None, locked_by=None)

        server = self.modify(server_id, unlock)
        self.compute.history.record(ctx, server, "unlock")
        return server

    def reset_state(self, ctx: Context, server_id: str, state: str) -> dict[str, Any]:
        """Nova's ``os-resetState`` (admins): ``active`` or ``error``, clearing the task."""
        self.owned(ctx, server_id, "os_compute_api:os-admin-actions:reset_state")
        server = self.modify(server_id, lambda current: set_state(current, state, None))
        self.compute.history.record(ctx, server, "resetState")
        return server

    def set_security_group(self, ctx: Context, server_id: str, name: str, add: bool) -> None:
        server = self.owned(ctx, server_id, f"os_compute_api:os-security-groups:{'add' if add else 'remove'}")
        net = self.peers.network
        group = net.security_group(ctx, server["project_id"], name)
        if group is None:
            raise faults.NotFound(f"Security group {name} not found for project {server['project_id']}.")
        ports = self.ports(server)
        held = [group["id"] in p["security_groups"] for p in ports]
        if not add and not any(held):
            raise faults.NotFound(f"Security group {name} not in use on instance {server['id']}.")
        if add and ports and all(held):
            raise faults.BadRequest(f"Security group {name} is already associated with the instance {server['id']}")
        for port in ports:
            groups = [g for g in port["security_groups"] if g != group["id"]] + ([group["id"]] if add else [])
            net.update_port(ctx, port["id"], {"security_groups": groups})

    def set_security_groups(self, ctx: Context, server_id: str, wanted: tuple[str, ...]) -> None:
        current = self.security_groups(ctx, server_id)
        for ref in wanted:
            if not any(ref in (g["id"], g["name"]) for g in current):
                self.set_security_group(ctx, server_id, ref, add=True)
        for group in current:
            if group["id"] not in wanted and group["name"] not in wanted:
                self.set_security_group(ctx, server_id, group["id"], add=False)

    # -- delete ----------------------------------------------------------------------------------------

    def delete(self, ctx: Context, server_id: str, force: bool = False) -> None:
        """Start deleting the server: ``task_state`` deleting until its job has freed everything."""
        server = self.owned(ctx, server_id, "os_compute_api:servers:delete")
        check_unlocked(ctx, server)

        def deleting(current: dict[str, Any]) -> None:
            check_unlocked(ctx, current)
            current["task_state"] = "deleting"

        self.lifecycle.cancel(server_id)
        server = self.modify(server_id, deleting)
        self.compute.history.record(ctx, server, "delete", event="compute_terminate_instance")
        self.lifecycle.schedule("server.delete", server_id, delay=0 if force else None)

    def _delete_job(self, job: dict[str, Any]) -> None:
        server = self.record(job["target"])
        if server is None:
            return
        try:
            self.compute.driver.destroy(server["id"])
        except DriverError as exc:
            log.warning("driver could not destroy server %s: %s", server["id"], exc)
        self.compute.volumes.release(server)
        gone = dict(server, task_state=None, locked=False)
        set_state(gone, "deleted", None, NOSTATE)
        stamp = naive_timestamp()
        gone.update(terminated_at=stamp, deleted_at=stamp, ports=[], own_ports=[])
        with self.store.transaction():
            self.compute.builder.release_ports(server)
            self.compute.server_groups.remove_member(server["id"])
            self.store.delete(KIND, server["id"])
            self.store.put(GONE, gone)
        self.compute.history.finish(server["id"], "compute_terminate_instance")


def _regex(pattern: str, name: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error:
        raise faults.BadRequest(f"Invalid input for query parameters {name}. Value: {pattern}.") from None


def _tag_test(tags: set[str], every: bool, negate: bool) -> Callable[[dict[str, Any]], bool]:
    def test(server: dict[str, Any]) -> bool:
        held = set(server["tags"])
        found = tags <= held if every else bool(tags & held)
        return found != negate

    return test
