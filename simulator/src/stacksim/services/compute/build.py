"""Making servers: the create request's checks, the records and ports, and the build job.

Everything a create names is checked before anything is made; the servers,
their ports and group memberships are then written in one store
transaction, so a port that cannot be made (an address in use, a quota)
leaves nothing behind. The build is a lifecycle job: it binds the ports,
makes and attaches the boot volumes (``block_device_mapping_v2``), has the
driver spawn the instance and plug the volumes, and records ``ACTIVE`` (or
``ERROR`` with a fault). A flavor's ``stacksim:boot_delay`` extra spec keeps
its servers in ``BUILD`` that long.
"""

from __future__ import annotations

import base64
import logging
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stacksim import clock, faults
from stacksim.auth import Context
from stacksim.drivers.base import DriverError, Instance
from stacksim.lifecycle import hold
from stacksim.services.compute import policy
from stacksim.services.compute.clients import DEVICE_OWNER, HOST, port_limit_exceeded
from stacksim.services.compute.flavors import KIND as FLAVOR
from stacksim.services.compute.flavors import Flavors
from stacksim.services.compute.history import KIND as HISTORY
from stacksim.services.compute.inputs import BlockDevice, NetworkRequest, ServerRequest, check_text
from stacksim.services.compute.servers import KIND, Related
from stacksim.services.compute.states import NOSTATE, RUNNING, set_state
from stacksim.services.network.ports import DevicePort
from stacksim.toolkit import new_id

if TYPE_CHECKING:
    from stacksim.services.compute.model import Compute

log = logging.getLogger("stacksim.compute")

ZONE = "nova"
ROOT_DEVICE = "/dev/vda"
#: a flavor extra spec: the seconds a server of that flavor spends in BUILD
BOOT_DELAY = "stacksim:boot_delay"
#: Nova's limit on user data, base64-encoded as the API carries it.
MAX_USER_DATA = 65535
BUILD_EVENT = "compute__do_build_and_run_instance"
#: what a hostname may not hold: \w is str.isalnum's letters and digits, and "_"
_NOT_HOSTNAME = re.compile(r"[^\w-]|_")


@dataclass(slots=True)
class _Made:
    """What a create made a server with (see :meth:`Builder._made_here`): the server as written, its
    create action (written when its build finishes it, or just before the create commits, whichever
    comes first: ``unwritten`` until then), and the ports the create made for it, by id. The server
    and the ports are not to be changed (copy first); the action is its build's to finish."""

    server: dict[str, Any]
    action: dict[str, Any]
    ports: dict[str, dict[str, Any]]
    unwritten: bool = True


def hostname(name: str) -> str:
    """Nova's sanitised hostname: letters, digits and dashes, at most 63 characters."""
    cleaned = _NOT_HOSTNAME.sub("-", name.lower()).strip("-.")
    return (cleaned or "server")[:63]


def encode_user_data(data: bytes | None) -> str | None:
    """User data as a server record keeps (and Nova shows) it: base64, within Nova's limit."""
    if not data:
        return None
    text = base64.b64encode(data).decode()
    if len(text) > MAX_USER_DATA:
        raise faults.BadRequest(
            f"User data too large. User data must be no larger than {MAX_USER_DATA} bytes once base64 encoded. "
            f"Your data is {len(text)} bytes"
        )
    return text


def decode_user_data(text: str | None) -> str | None:
    """What the guest reads of a record's user data."""
    if not text:
        return None
    return base64.b64decode(text).decode("utf-8", errors="replace")


class Builder:
    def __init__(self, compute: Compute) -> None:
        self.compute = compute
        self.store = compute.store
        self.peers = compute.peers
        self.lifecycle = compute.cloud.lifecycle
        self.lifecycle.register("server.build", self._build, inline=compute.driver.quick)
        #: the servers an open create transaction made, by id (each create's removed after its
        #: commit, all of them after a rollback): a build that runs before that commits is given
        #: what they were made with, which nothing else can have changed yet (see :meth:`_made_here`)
        self._fresh: dict[str, _Made] = {}
        self.store.on_rollback(self._fresh.clear)

    # -- create --------------------------------------------------------------------------------

    def create(self, ctx: Context, req: ServerRequest) -> tuple[list[dict[str, Any]], Related]:
        """The servers made, and what their views need from Neutron as the create left it (the
        ports it made or took and their security groups: the reply reads neither again)."""
        compute = self.compute
        policy.authorize(ctx, "os_compute_api:servers:create")
        check_text(req)
        if req.availability_zone and ":" in req.availability_zone:
            policy.authorize(ctx, "os_compute_api:servers:create:forced_host")
        if req.networks not in (None, "auto", "none"):
            policy.authorize(ctx, "os_compute_api:servers:create:attach_network")
        if req.block_devices and any(b.source_type == "volume" for b in req.block_devices):
            policy.authorize(ctx, "os_compute_api:servers:create:attach_volume")
        if req.max_count is not None and req.max_count < req.min_count:
            raise faults.BadRequest("min_count must be <= max_count")
        user_data = encode_user_data(req.user_data)
        flavor = self.flavor(ctx, req.flavor_id)
        boot_delay = self._boot_delay(flavor)
        bdms = self._block_devices(ctx, req.block_devices)
        volume_root = bool(bdms) and any(b["boot_index"] == 0 and b["destination_type"] == "volume" for b in bdms)
        image = self.image(ctx, req.image_id, flavor, volume_root)
        key = compute.keypairs.for_server(ctx, req.key_name)
        wanted = req.max_count or req.min_count
        read_at = self.peers.network.reads_mark()  # before the networks and groups are read
        networks = self._networks(ctx, req.networks, wanted)
        group_records = self._security_groups(ctx, req.security_groups or ("default",))
        if req.group_id:
            compute.server_groups.get(ctx, req.group_id)
        compute.hosts.check_zone(req.availability_zone)
        reservation = f"r-{os.urandom(4).hex()}"  # 8 random hex digits
        made: list[dict[str, Any]] = []
        actions: list[_Made] = []
        ports: dict[str, dict[str, Any]] = {}
        # One transaction: if a port cannot be made (an address in use, a quota), no
        # server, port or group membership of this request remains.
        with self.store.transaction():
            # Checked inside the transaction so two concurrent creates cannot both fit.
            fit = self._fit_ports(ctx.project_id or "", networks, req.min_count, wanted)
            count = compute.quotas.fit(ctx.project_id or "", flavor, req.min_count, fit)
            # What the scheduler would find out: the servers are made, and fail in their build.
            no_host = not compute.hosts.accepting() or bool(
                req.group_id and not compute.server_groups.fits(req.group_id, count)
            )
            for index in range(count):
                name = req.name if count == 1 else f"{req.name}-{index + 1}"
                moment = clock.now()  # the server's created and updated, and its action's start
                created = clock.iso(moment, micro=False)
                server = self._record(ctx, req, name, flavor, image, key, reservation, index, bdms, user_data, created)
                if no_host:
                    server["schedule_error"] = "No valid host was found. There are not enough hosts available."
                own: dict[str, dict[str, Any]] = {}
                for net in networks:
                    port = self._attach_port(ctx, server, net, group_records, read_at)
                    ports[port["id"]] = port
                    if port["id"] in server["own_ports"]:
                        own[port["id"]] = port
                self.store.add(KIND, server)
                if req.group_id:
                    compute.server_groups.add_member(req.group_id, server["id"])
                at = clock.naive(moment)
                action = compute.history.record(ctx, server, "create", event=BUILD_EVENT, at=at, write=False)
                self._fresh[server["id"]] = entry = _Made(server, action, own)
                actions.append(entry)
                made.append(server)
            # The builds' jobs commit with their servers: a kill -9 can leave no server in BUILD
            # without the job a restart resumes (nothing else would ever move it on).
            for server in made:
                self.lifecycle.schedule("server.build", server["id"], delay=boot_delay)
            # After the builds that run before the commit (registered later, so run later): the
            # actions no build finished are written as they began; each is written once a create.
            self.store.before_commit(lambda: self._write_actions(actions))
            self.store.after_commit(lambda: self._forget(actions))
        related = compute.servers.related(made).holding(ports, {g["id"]: g for g in group_records})
        return made, related

    def _write_actions(self, made: list[_Made]) -> None:
        for each in made:
            if each.unwritten:
                each.unwritten = False
                self.store.put(HISTORY, each.action)

    def _forget(self, made: list[_Made]) -> None:
        for each in made:
            self._fresh.pop(each.server["id"], None)

    def _fit_ports(self, project_id: str, networks: list[dict[str, Any]], least: int, most: int) -> int:
        """How many of ``least`` to ``most`` servers the port quota leaves room for, as Nova's
        ``validate_networks`` counts before it builds: fewer than ``most`` if at least ``least``
        fit, else PortLimitExceeded (403). Ports handed over by id need no room."""
        needed = len([wanted for wanted in networks if "network" in wanted])
        quota = self.peers.network.port_quota(project_id) if needed else None
        if quota is None:
            return most
        limit, used = quota
        if used > limit:
            raise port_limit_exceeded(f"The number of defined ports: {used} is over the limit: {limit}")
        fits = min(most, (limit - used) // needed)
        if fits < least:
            raise port_limit_exceeded()
        return fits

    @staticmethod
    def _boot_delay(flavor: dict[str, Any]) -> float | None:
        """The seconds a build takes, if the flavor says (``stacksim:boot_delay``: for testing
        what a client does while a server is in ``BUILD``); else ``--delay``."""
        try:
            return hold(flavor.get("extra_specs"), BOOT_DELAY)
        except ValueError as exc:
            raise faults.BadRequest(f"Flavor {flavor['id']}: {exc}") from None

    def flavor(self, ctx: Context, flavor_id: str) -> dict[str, Any]:
        """The flavor a server asks for (a URL's last part will do); 400 if it is not there.

        Every create reads it, so the record is kept until a flavor is written (or a transaction
        rolls back): not to be changed (a server record holds it as it is)."""
        ref = str(flavor_id).rstrip("/").rsplit("/", 1)[-1]
        kept = self.store.cached((FLAVOR,), ("record", ref), lambda: self.store.get(FLAVOR, ref))
        if kept is not None and Flavors.can_see(ctx, kept):
            return kept
        try:
            return self.compute.flavors.get(ctx, ref)
        except faults.NotFound:
            raise faults.BadRequest(f"Flavor {ref} could not be found.") from None

    def image(
        self, ctx: Context, image_ref: str | None, flavor: dict[str, Any], volume_boot: bool
    ) -> dict[str, Any] | None:
        """The image to boot (or rebuild) from, checked against the flavor; 400 if unusable. Kept
        until an image is written (:meth:`Glance.kept`): not to be changed."""
        if not image_ref:
            if volume_boot:
                return None
            raise faults.BadRequest("Missing imageRef attribute")
        ref = str(image_ref).rstrip("/").rsplit("/", 1)[-1]
        try:
            image = self.peers.image.kept(ctx, ref)
        except faults.NotFound:
            raise faults.BadRequest(f"Image {ref} could not be found.") from None
        if image["status"] != "active":
            raise faults.BadRequest(f"Image {ref} is not active.")
        size_gib = (image.get("size") or 0) / 2**30
        if flavor["disk"] and (flavor["disk"] < (image.get("min_disk") or 0) or flavor["disk"] < size_gib):
            raise faults.BadRequest("Flavor's disk is too small for requested image.")
        if flavor["ram"] < (image.get("min_ram") or 0):
            raise faults.BadRequest("Flavor's memory is too small for requested image.")
        return image

    def _block_devices(self, ctx: Context, requested: tuple[BlockDevice, ...]) -> list[dict[str, Any]]:
        """``block_device_mapping_v2`` checked and normalised (volumes must exist and be free)."""
        out = []
        volumes = self.peers.volume
        for raw in requested:
            source, dest = raw.source_type, raw.destination_type
            if source not in ("image", "volume", "snapshot", "blank") or dest not in ("local", "volume"):
                raise faults.BadRequest(f"Block Device Mapping is Invalid: source {source} to {dest} is not supported.")
            bdm = {
                "source_type": source,
                "destination_type": dest,
                "uuid": raw.uuid,
                "boot_index": raw.boot_index,
                "volume_size": raw.volume_size,
                "volume_id": None,
                "delete_on_termination": raw.delete_on_termination,
            }
            if dest == "local":
                if source != "image":
                    raise faults.BadRequest("Block Device Mapping is Invalid: only an image can be a local disk.")
                continue  # the ordinary image disk
            if source == "volume":
                volume = volumes.get(ctx, raw.uuid or "")
                if volume["status"] != "available":
                    raise faults.BadRequest(f"Invalid volume: volume {volume['id']} status must be 'available'.")
                bdm["volume_id"] = volume["id"]
            elif source == "image":
                self.peers.image.get(ctx, raw.uuid or "")
            elif source == "snapshot":
                volumes.snapshot(ctx, raw.uuid or "")
            elif not raw.volume_size:
                raise faults.BadRequest("Block Device Mapping is Invalid: a blank volume needs a volume_size.")
            out.append(bdm)
        if len(out) > 1 and sum(1 for b in out if b["boot_index"] == 0) > 1:
            raise faults.BadRequest(
                "Block Device Mapping is Invalid: Boot sequence for the instance and image/block "
                "device mapping combination is not valid."
            )
        return out

    def _networks(self, ctx: Context, requested: Any, count: int) -> list[dict[str, Any]]:
        """The ports to make or take: ``[{"network": rec, "fixed_ip": ..}|{"port": rec}]``."""
        net = self.peers.network
        if requested == "none":
            return []
        if requested in (None, "auto"):
            own = net.usable_networks(ctx)
            if len(own) > 1:
                raise faults.Conflict("Multiple possible networks found, use a Network ID to be more specific.")
            if not own:
                if requested == "auto":
                    raise faults.BadRequest(f"Unable to automatically allocate a network for project {ctx.project_id}")
                return []
            return [{"network": own[0]}]
        wanted = []
        item: NetworkRequest
        for item in requested:
            if item.port_id:
                try:
                    port = net.port(ctx, item.port_id)
                except faults.NotFound:
                    raise faults.BadRequest(f"Port id {item.port_id} could not be found.") from None
                if port["device_id"]:
                    raise faults.Conflict(f"Port {port['id']} is still in use.")
                if count > 1:
                    raise faults.BadRequest("Unable to launch multiple instances with a single configured port ID.")
                wanted.append({"port": port})
                continue
            try:
                network = net.network(ctx, item.network_id or "")
            except faults.NotFound:
                raise faults.BadRequest(f"Network {item.network_id} could not be found.") from None
            wanted.append({"network": network, "fixed_ip": item.fixed_ip})
        return wanted

    def _security_groups(self, ctx: Context, requested: tuple[str, ...]) -> list[dict[str, Any]]:
        found = []
        for name in requested:
            group = self.peers.network.security_group(ctx, ctx.project_id or "", name)
            if group is None:
                raise faults.BadRequest(f"Security group {name} not found for project {ctx.project_id}.")
            found.append(group)
        return found

    def _record(
        self, ctx, req, name, flavor, image, key, reservation, index, bdms, user_data, created
    ) -> dict[str, Any]:
        server = {
            "id": new_id(),
            "name": name,
            "project_id": ctx.project_id,
            "user_id": ctx.user_id,
            "flavor": flavor,
            "key_name": key["name"] if key else None,
            "public_key": key["public_key"] if key else None,
            "metadata": dict(req.metadata),
            "tags": list(req.tags),
            "description": req.description,
            "user_data": user_data,
            "config_drive": bool(req.config_drive),
            "availability_zone": (req.availability_zone or self.compute.hosts.host_zone()).split(":")[0],
            "requested_zone": (req.availability_zone or "").split(":")[0] or None,
            "host": HOST,
            "hostname": req.hostname or hostname(name),
            "access_ipv4": req.access_ipv4 or "",
            "access_ipv6": req.access_ipv6 or "",
            "created": created,
            "launched_at": None,
            "terminated_at": None,
            "fault": None,
            "locked": False,
            "locked_reason": None,
            "ports": [],
            "own_ports": [],
            "reservation_id": reservation,
            "launch_index": index,
            "instance_name": f"instance-{os.urandom(4).hex()}",
            "block_devices": bdms,
            "image_id": "" if bdms and any(b["boot_index"] == 0 for b in bdms) else (image["id"] if image else ""),
            "old_flavor": None,
            "power_state": NOSTATE,
        }
        set_state(server, "building", "scheduling", updated=created)
        return server

    def _attach_port(
        self,
        ctx: Context,
        server: dict[str, Any],
        wanted: dict[str, Any],
        groups: list[dict[str, Any]],
        read_at: int,
    ) -> dict[str, Any]:
        """Make (or take) the server's port on ``wanted``, from the network and security ``groups``
        the create read (``read_at``: the store's mark from before it read them)."""
        net = self.peers.network
        if "port" in wanted:
            port = net.update_port(ctx, wanted["port"]["id"], {"device_id": server["id"], "device_owner": DEVICE_OWNER})
        else:
            request = DevicePort(
                network=wanted["network"],
                project_id=server["project_id"],
                device_id=server["id"],
                device_owner=DEVICE_OWNER,
                read_at=read_at,
                security_groups=tuple(groups) if wanted["network"].get("port_security_enabled", True) else None,
                fixed_ip=wanted.get("fixed_ip"),
            )
            port = net.create_server_port(ctx, request)
            server["own_ports"].append(port["id"])
        server["ports"].append(port["id"])
        return port

    def release_ports(self, server: dict[str, Any]) -> None:
        """Delete the ports Nova made for the server; give back the ones it was handed."""
        net = self.peers.network
        for port_id in server["ports"]:
            if port_id in server["own_ports"]:
                net.delete_port(port_id)
            else:
                net.unbind_port(port_id)

    # -- the build ----------------------------------------------------------------------------------

    def instance(
        self, server: dict[str, Any], image_id: str | None = None, ports: list[dict[str, Any]] | None = None
    ) -> Instance:
        """What the driver is told about the server (booted from ``image_id`` if given; ``ports``:
        its ports as the caller just wrote them, in the server's order, else read)."""
        images = self.peers.image
        image_id = image_id or server["image_id"]
        image = images.record(image_id) if image_id else None
        return Instance(
            id=server["id"],
            name=server["name"],
            hostname=server["hostname"],
            flavor=server["flavor"],
            image=image,
            image_path=images.path(image["id"]) if image else None,
            user_data=decode_user_data(server.get("user_data")),
            metadata=server["metadata"],
            public_key=server.get("public_key"),
            ports=ports if ports is not None else self.compute.servers.ports(server),
            config_drive=server["config_drive"],
        )

    def _build(self, job: dict[str, Any]) -> None:
        made = self._made_here(job["target"])  # (asked before this opens a transaction of its own)
        if self.compute.driver.quick:
            # Nothing here waits (no driver work to speak of) unless there are volumes to make: the
            # build's steps land in one transaction, one commit instead of three, and the same
            # records as before. The server is read in it with its revision (or, made in this very
            # transaction, taken as its create wrote it: revision 1), and marked ACTIVE without a
            # second read (nothing else can write it while the transaction holds the store; if the
            # build's own steps did, the update reads it again).
            with self.store.transaction():
                found = (dict(made.server), 1) if made is not None else self.store.get_rev(KIND, job["target"])
                server = self._buildable(found[0] if found else None, made)
                if server is None:
                    return
                if not server["block_devices"]:
                    self._boot(server, found[1] if found else None, made)
                    self.lifecycle.finished_with(job)  # the job's end commits with the build
                    return
            # a server with volumes to make waits for them: not in a transaction (read again in it)
        self._boot_outside(job["target"], made)

    def _boot_outside(self, server_id: str, made: _Made | None = None) -> None:
        server = self._buildable(self.compute.servers.record(server_id), made)
        if server is not None:
            self._boot(server, made=made)

    def _buildable(self, server: dict[str, Any] | None, made: _Made | None = None) -> dict[str, Any] | None:
        """The server if its build is to run now; None if deleted meanwhile, a resumed job that
        already ran, or one the scheduler found no host for (failed here)."""
        if server is None or server["vm_state"] != "building":
            return None  # deleted meanwhile, or a resumed job that already ran
        if server.get("schedule_error"):
            self.compute.servers.fail(server["id"], server["schedule_error"])
            self._finish(server["id"], made, error=server["schedule_error"])
            return None
        return server

    def _finish(self, server_id: str, made: _Made | None, error: str | None = None, at: str | None = None) -> None:
        """The build's event ended: in the create action it was given (written now), else as found."""
        if made is None:
            self.compute.history.finish(server_id, BUILD_EVENT, error=error, at=at)
            return
        made.unwritten = False
        self.compute.history.finish(server_id, BUILD_EVENT, error=error, at=at, action=made.action)

    def _made_here(self, server_id: str) -> _Made | None:
        """What a server was made with, if the build runs in the transaction that made it (its
        create's, before that commits: a job that calls this has opened none of its own yet).
        Nothing outside that transaction has seen the server yet: it has no volume attached but
        its own block devices', no action but its create's, and its own ports as they were made."""
        if not self.store.in_transaction():
            return None
        return self._fresh.get(server_id)

    def _boot(self, server: dict[str, Any], rev: int | None = None, made: _Made | None = None) -> None:
        """The build proper: bind the ports, attach the volumes, spawn, and mark the server ACTIVE
        (or failed, with the reason). ``rev``: the server's revision as read in the transaction
        this runs in, so marking it ACTIVE need not read it again; ``made``: see :meth:`_made_here`."""
        servers = self.compute.servers
        own = made.ports if made is not None else {}
        bind = self.peers.network.bind_port
        try:
            bound = [bind(port_id, server["id"], own.get(port_id)) for port_id in server["ports"]]
            self.compute.volumes.boot_volumes(server)
            self.compute.driver.spawn(self.instance(server, ports=bound))
            if made is None or server["block_devices"]:  # (else nothing can be attached to it)
                self.compute.volumes.plug_all(server)
        except (DriverError, faults.ApiError, OSError) as exc:
            log.warning("build of server %s failed: %s", server["id"], exc)
            servers.fail(server["id"], f"Build of instance failed: {exc}")
            self._finish(server["id"], made, error=str(exc))
            return

        moment = clock.now()  # launched, updated and the build event's end: one instant
        launched = clock.naive(moment)

        def built(current: dict[str, Any]) -> bool | None:
            if current["vm_state"] != "building":
                return False  # reset or failed meanwhile
            current["launched_at"] = launched
            set_state(current, "active", None, RUNNING, updated=clock.iso(moment, micro=False))
            return None

        def land() -> None:  # the state and its event land together
            servers.settle(server["id"], built, (server, rev) if rev is not None else None)
            self._finish(server["id"], made, at=launched)

        if rev is not None:  # (read in the build's transaction, which is still open)
            land()
            return
        with self.store.transaction():
            land()
