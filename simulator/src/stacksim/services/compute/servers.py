"""Nova's servers: state, rules and the jobs that move them through their states.

The API layer validates a request and calls a method here; anything that takes
time (booting, stopping, snapshotting) is a lifecycle job that asks the
compute driver to do the work and then records the new state. A server's
addresses are its Neutron ports; ports Nova made for it go with it.

Volumes are Cinder's: attaching one asks the volume model to attach it and
the driver to plug it; a server booted from a volume (``block_device_mapping_v2``)
gets its root volume made (from an image, a snapshot or blank) in its build.

Not implemented yet: rescue, shelve, migrate/live-migrate, evacuate, volume
swap and interface attach/detach.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import logging
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from stacksim import clock, faults
from stacksim.auth import Context
from stacksim.drivers.base import DriverError, DriverEvents, Instance, make_driver
from stacksim.drivers.view import CloudView
from stacksim.lifecycle import hold
from stacksim.store import MissingRecord

if TYPE_CHECKING:
    from stacksim.cloud import Cloud

log = logging.getLogger("stacksim.compute")

HOST = "stacksim"
ZONE = "nova"
DEVICE_OWNER = "compute:nova"
# Nova's power states.
NOSTATE, RUNNING, PAUSED, SHUTDOWN, SUSPENDED = 0, 1, 3, 4, 7

#: vm_state -> the status clients see (task states below override it).
STATUS = {
    "building": "BUILD",
    "active": "ACTIVE",
    "stopped": "SHUTOFF",
    "paused": "PAUSED",
    "suspended": "SUSPENDED",
    "resized": "VERIFY_RESIZE",
    "error": "ERROR",
    "deleted": "DELETED",
}
TASK_STATUS = {
    "rebooting": "REBOOT",
    "reboot_started": "REBOOT",
    "rebooting_hard": "HARD_REBOOT",
    "rebuilding": "REBUILD",
    "resize_prep": "RESIZE",
    "resize_migrating": "RESIZE",
    "resize_reverting": "REVERT_RESIZE",
    "image_snapshot": None,  # the status stays as it is while a snapshot is taken
}

#: action -> (allowed vm_states, task_state while it runs, vm_state, power_state after)
ACTIONS: dict[str, tuple[tuple[str, ...], str, str, int]] = {
    "start": (("stopped",), "powering-on", "active", RUNNING),
    "stop": (("active", "error"), "powering-off", "stopped", SHUTDOWN),
    "reboot": (("active", "stopped", "paused", "suspended", "error"), "rebooting", "active", RUNNING),
    "reboot_hard": (("active", "stopped", "paused", "suspended", "error"), "rebooting_hard", "active", RUNNING),
    "pause": (("active",), "pausing", "paused", PAUSED),
    "unpause": (("paused",), "unpausing", "active", RUNNING),
    "suspend": (("active",), "suspending", "suspended", SUSPENDED),
    "resume": (("suspended",), "resuming", "active", RUNNING),
    "rebuild": (("active", "stopped", "error"), "rebuilding", "active", RUNNING),
    "resize": (("active", "stopped"), "resize_prep", "resized", RUNNING),
    "confirm_resize": (("resized",), "resize_finish", "active", RUNNING),
    "revert_resize": (("resized",), "resize_reverting", "active", RUNNING),
}


ROOT_DEVICE = "/dev/vda"
#: a flavor extra spec: the seconds a server of that flavor spends in BUILD
BOOT_DELAY = "stacksim:boot_delay"
ATTACHABLE = ("active", "stopped", "paused", "suspended")
#: What a rebuild may change on the server record.
REBUILD_FIELDS = ("image_id", "name", "metadata", "user_data", "description", "key_name", "public_key")


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


def next_device(used: set[str]) -> str:
    for letter in "bcdefghijklmnopqrstuvwxyz":
        if f"/dev/vd{letter}" not in used:
            return f"/dev/vd{letter}"
    raise faults.BadRequest("No free device name is left on this server.")


def hash_host(project_id: str) -> str:
    """Nova's ``hostId``: the host hashed with the project, so projects can't compare hosts."""
    return hashlib.sha224((project_id + HOST).encode()).hexdigest()


def decode_user_data(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return base64.b64decode(text, validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        raise faults.BadRequest("User data needs to be valid base 64.") from None


def set_state(server: dict[str, Any], vm_state: str, task_state: str | None = None, power: int | None = None) -> None:
    server["vm_state"] = vm_state
    server["task_state"] = task_state
    if power is not None:
        server["power_state"] = power
    server["status"] = (TASK_STATUS.get(task_state) if task_state else None) or STATUS[vm_state]
    server["updated"] = clock.iso(clock.now(), micro=False)


class Servers:
    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud
        self.store = cloud.store
        self.driver = make_driver(
            cloud.settings.compute_driver,
            cloud.data_dir,
            DriverEvents(powered_off=self._powered_off, lost=self._lost),
        )
        self.driver.bind(CloudView(cloud))
        cloud.network.hooks = self.driver
        life = cloud.lifecycle
        life.register("server.build", self._build)
        life.register("server.action", self._act)
        life.register("server.delete", self._delete)
        life.register("server.powered_off", self._power_off_event)
        life.register("server.lost", self._lost_event)
        life.register("server.snapshot", self._snapshot)

    # -- reading ---------------------------------------------------------------------

    def get(self, ctx: Context, server_id: str) -> dict[str, Any]:
        server = self.store.get("server", server_id)
        if server is None or not ctx.owns_project(server["project_id"]):
            raise faults.NotFound(f"Instance {server_id} could not be found.")
        return server

    def visible(self, ctx: Context, all_projects: bool = False, project_id: str | None = None) -> list[dict[str, Any]]:
        if ctx.is_admin and all_projects:
            found = self.store.find("server", project_id=project_id) if project_id else self.store.find("server")
        else:
            found = self.store.find("server", project_id=ctx.project_id)
        return found

    def ports(self, server: dict[str, Any]) -> list[dict[str, Any]]:
        found = self.store.get_many("port", server["ports"])
        return [found[pid] for pid in server["ports"] if pid in found]

    # -- changing --------------------------------------------------------------------

    def modify(self, server_id: str, change: Callable[[dict[str, Any]], bool | None]) -> dict[str, Any]:
        """Change a server in one store transaction and return it as written.

        ``change`` edits the current record in place (it may raise to refuse,
        or return False to leave the record as it is); it runs under the
        store's lock, so it must not call the driver. NotFound if the server
        is gone.
        """

        def apply(server: dict[str, Any]) -> dict[str, Any] | None:
            return None if change(server) is False else server

        try:
            return self.store.update("server", server_id, apply)
        except MissingRecord:
            raise faults.NotFound(f"Instance {server_id} could not be found.") from None

    def _settle(self, server_id: str, change: Callable[[dict[str, Any]], bool | None]) -> None:
        """:meth:`modify` from a job: a server deleted meanwhile needs nothing more."""
        with contextlib.suppress(faults.NotFound):
            self.modify(server_id, change)

    # -- create ----------------------------------------------------------------------

    def create(self, ctx: Context, req: dict[str, Any]) -> list[dict[str, Any]]:
        """Record ``max_count`` servers with their ports and start building them.

        Everything is checked before anything is made; if making a port still
        fails, whatever was made is removed again.
        """
        compute = self.cloud.compute
        flavor = self._flavor(ctx, req["flavorRef"])
        boot_delay = self._boot_delay(flavor)
        bdms = self._block_devices(ctx, req.get("block_device_mapping_v2") or [])
        volume_root = any(b["boot_index"] == 0 and b["destination_type"] == "volume" for b in bdms)
        image = self._image(ctx, req.get("imageRef"), flavor, volume_root)
        key = self.key(ctx, req.get("key_name"))
        count = req.get("max_count") or req.get("min_count") or 1
        networks = self._networks(ctx, req.get("networks"), count)
        groups = self._security_groups(ctx, req.get("security_groups") or [{"name": "default"}])
        group_id = (req.get("scheduler_hints") or {}).get("group")
        if group_id:
            compute.server_groups.get(ctx, group_id)
        compute.hosts.check_zone(req.get("availability_zone"))
        # What the scheduler would find out: the servers are made, and fail in their build.
        no_host = not compute.hosts.accepting() or (group_id and not compute.server_groups.fits(group_id, count))
        reservation = f"r-{uuid.uuid4().hex[:8]}"
        made: list[dict[str, Any]] = []
        # One transaction: if a port cannot be made (an address in use, a quota), no
        # server, port or group membership of this request remains.
        with self.store.transaction():
            # Checked inside the transaction so two concurrent creates cannot both fit.
            compute.quotas.check(
                ctx.project_id, instances=count, cores=flavor["vcpus"] * count, ram=flavor["ram"] * count
            )
            for index in range(count):
                name = req["name"] if count == 1 else f"{req['name']}-{index + 1}"
                server = self._record(ctx, req, name, flavor, image, key, reservation, index, bdms)
                if no_host:
                    server["schedule_error"] = "No valid host was found. There are not enough hosts available."
                for net in networks:
                    self._attach_port(ctx, server, net, groups)
                self.store.put("server", server)
                if group_id:
                    compute.server_groups.add_member(group_id, server["id"])
                made.append(server)
        for server in made:
            self.cloud.lifecycle.schedule("server.build", server["id"], delay=boot_delay)
        return made

    @staticmethod
    def _boot_delay(flavor: dict[str, Any]) -> float | None:
        """The seconds a build takes, if the flavor says (``stacksim:boot_delay``: for testing
        what a client does while a server is in ``BUILD``); else ``--delay``."""
        try:
            return hold(flavor.get("extra_specs"), BOOT_DELAY)
        except ValueError as exc:
            raise faults.BadRequest(f"Flavor {flavor['id']}: {exc}") from None

    def _block_devices(self, ctx: Context, requested: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``block_device_mapping_v2`` checked and normalised (volumes must exist and be free)."""
        out = []
        for raw in requested:
            source, dest = raw.get("source_type", "image"), raw.get("destination_type", "local")
            if source not in ("image", "volume", "snapshot", "blank") or dest not in ("local", "volume"):
                raise faults.BadRequest(f"Block Device Mapping is Invalid: source {source} to {dest} is not supported.")
            boot = raw.get("boot_index")
            bdm = {
                "source_type": source,
                "destination_type": dest,
                "uuid": raw.get("uuid"),
                "boot_index": int(boot) if boot not in (None, "none", -1, "-1") else None,
                "volume_size": raw.get("volume_size"),
                "volume_id": None,
                "delete_on_termination": bool(raw.get("delete_on_termination", False)),
            }
            if dest == "local":
                if source != "image":
                    raise faults.BadRequest("Block Device Mapping is Invalid: only an image can be a local disk.")
                continue  # the ordinary image disk
            if source == "volume":
                volume = self.cloud.volume.get(ctx, bdm["uuid"] or "")
                if volume["status"] != "available":
                    raise faults.BadRequest(f"Invalid volume: volume {volume['id']} status must be 'available'.")
                bdm["volume_id"] = volume["id"]
            elif source == "image":
                self.cloud.image.get(ctx, bdm["uuid"] or "")
            elif source == "snapshot":
                self.cloud.volume.snapshots.get(ctx, bdm["uuid"] or "")
            if source != "volume" and not bdm["volume_size"] and source == "blank":
                raise faults.BadRequest("Block Device Mapping is Invalid: a blank volume needs a volume_size.")
            out.append(bdm)
        if sum(1 for b in out if b["boot_index"] == 0) > 1:
            raise faults.BadRequest(
                "Block Device Mapping is Invalid: Boot sequence for the instance and image/block "
                "device mapping combination is not valid."
            )
        return out

    def _flavor(self, ctx: Context, flavor_ref: str) -> dict[str, Any]:
        ref = str(flavor_ref).rstrip("/").rsplit("/", 1)[-1]
        try:
            return self.cloud.compute.flavors.get(ctx, ref)
        except faults.NotFound:
            raise faults.BadRequest(f"Flavor {ref} could not be found.") from None

    def _image(self, ctx: Context, image_ref: str | None, flavor: dict[str, Any], volume_boot: bool):
        if not image_ref:
            if volume_boot:
                return None
            raise faults.BadRequest("Missing imageRef attribute")
        ref = str(image_ref).rstrip("/").rsplit("/", 1)[-1]
        try:
            image = self.cloud.image.get(ctx, ref)
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

    def key(self, ctx: Context, name: str | None) -> dict[str, Any] | None:
        if not name:
            return None
        try:
            return self.cloud.compute.keypairs.get(ctx.user_id, name)
        except faults.NotFound:
            raise faults.BadRequest("Invalid key_name provided.") from None

    def _networks(self, ctx: Context, requested: Any, count: int) -> list[dict[str, Any]]:
        """The ports to make or take: ``[{"network": rec, "fixed_ip": ..}|{"port": rec}]``."""
        net = self.cloud.network
        if requested == "none":
            return []
        if requested in (None, "auto"):
            candidates = [n for n in net.networks(ctx) if not n.get("router:external") and n["status"] == "ACTIVE"]
            own = [n for n in candidates if n["project_id"] == ctx.project_id] or candidates
            if len(own) > 1:
                raise faults.Conflict("Multiple possible networks found, use a Network ID to be more specific.")
            if not own:
                if requested == "auto":
                    raise faults.BadRequest(f"Unable to automatically allocate a network for project {ctx.project_id}")
                return []
            return [{"network": own[0]}]
        wanted = []
        for item in requested:
            if item.get("port"):
                try:
                    port = net.port(ctx, item["port"])
                except faults.NotFound:
                    raise faults.BadRequest(f"Port id {item['port']} could not be found.") from None
                if port["device_id"]:
                    raise faults.Conflict(f"Port {port['id']} is still in use.")
                if count > 1:
                    raise faults.BadRequest("Unable to launch multiple instances with a single configured port ID.")
                wanted.append({"port": port})
                continue
            try:
                network = net.network(ctx, item.get("uuid") or "")
            except faults.NotFound:
                raise faults.BadRequest(f"Network {item.get('uuid')} could not be found.") from None
            wanted.append({"network": network, "fixed_ip": item.get("fixed_ip")})
        return wanted

    def _security_groups(self, ctx: Context, requested: list[dict[str, Any]]) -> list[str]:
        ids = []
        self.cloud.network.security.default_id(ctx.project_id)  # Neutron makes it on first use
        for item in requested:
            name = item.get("name", "")
            group = self.store.get("security_group", name)
            if group is None or group["project_id"] != ctx.project_id:
                group = self.store.first("security_group", project_id=ctx.project_id, name=name)
            if group is None:
                raise faults.BadRequest(f"Security group {name} not found for project {ctx.project_id}.")
            ids.append(group["id"])
        return ids

    def _record(self, ctx, req, name, flavor, image, key, reservation, index, bdms) -> dict[str, Any]:
        now = clock.iso(clock.now(), micro=False)
        server_id = str(uuid.uuid4())
        server = {
            "id": server_id,
            "name": name,
            "project_id": ctx.project_id,
            "user_id": ctx.user_id,
            "flavor": flavor,
            "key_name": key["name"] if key else None,
            "public_key": key["public_key"] if key else None,
            "metadata": req.get("metadata") or {},
            "tags": req.get("tags") or [],
            "description": req.get("description"),
            "user_data": req.get("user_data"),
            "config_drive": bool(req.get("config_drive")),
            "availability_zone": (req.get("availability_zone") or ZONE).split(":")[0],
            "host": HOST,
            "hostname": req.get("hostname") or _hostname(name),
            "access_ipv4": req.get("accessIPv4") or "",
            "access_ipv6": req.get("accessIPv6") or "",
            "created": now,
            "launched_at": None,
            "terminated_at": None,
            "fault": None,
            "locked": False,
            "locked_reason": None,
            "ports": [],
            "own_ports": [],
            "reservation_id": reservation,
            "launch_index": index,
            "instance_name": f"instance-{uuid.uuid4().hex[:8]}",
            "block_devices": bdms,
            "image_id": "" if any(b["boot_index"] == 0 for b in bdms) else (image["id"] if image else ""),
            "old_flavor": None,
            "power_state": NOSTATE,
        }
        set_state(server, "building", "scheduling")
        return server

    def _attach_port(self, ctx: Context, server: dict[str, Any], wanted: dict[str, Any], groups: list[str]) -> None:
        net = self.cloud.network
        if "port" in wanted:
            port = net.update_port(ctx, wanted["port"]["id"], {"device_id": server["id"], "device_owner": DEVICE_OWNER})
        else:
            attrs: dict[str, Any] = {
                "network_id": wanted["network"]["id"],
                "device_id": server["id"],
                "device_owner": DEVICE_OWNER,
                "project_id": ctx.project_id,
            }
            if wanted["network"].get("port_security_enabled", True):
                attrs["security_groups"] = groups
            if wanted.get("fixed_ip"):
                attrs["fixed_ips"] = [{"ip_address": wanted["fixed_ip"]}]
            port = net.create_port(ctx, **attrs)
            server["own_ports"].append(port["id"])
        server["ports"].append(port["id"])

    def _release_ports(self, server: dict[str, Any]) -> None:
        """Delete the ports Nova made for the server; give back the ones it was handed."""
        net = self.cloud.network
        for port_id in server["ports"]:
            with contextlib.suppress(faults.NotFound):  # already deleted through Neutron
                if port_id in server["own_ports"]:
                    net.delete_port(None, port_id)
                else:
                    net.unbind_port(None, port_id)

    # -- jobs ------------------------------------------------------------------------

    def instance(self, server: dict[str, Any]) -> Instance:
        image = self.cloud.image.record(server["image_id"]) if server["image_id"] else None
        return Instance(
            id=server["id"],
            name=server["name"],
            hostname=server["hostname"],
            flavor=server["flavor"],
            image=image,
            image_path=self.cloud.image.path(image["id"]) if image else None,
            user_data=decode_user_data(server.get("user_data")),
            metadata=server["metadata"],
            public_key=server.get("public_key"),
            ports=self.ports(server),
            config_drive=server["config_drive"],
        )

    def _fail(self, server_id: str, message: str, code: int = 500) -> None:
        def fail(server: dict[str, Any]) -> None:
            server["fault"] = {"code": code, "message": message, "created": clock.iso(clock.now(), micro=False)}
            set_state(server, "error", None, NOSTATE)

        self._settle(server_id, fail)

    def _build(self, job: dict[str, Any]) -> None:
        server = self.store.get("server", job["target"])
        if server is None or server["vm_state"] != "building":
            return  # deleted meanwhile, or a resumed job that already ran
        if server.get("schedule_error"):
            self._fail(server["id"], server["schedule_error"])
            return
        net = self.cloud.network
        try:
            for port_id in server["ports"]:
                net.bind_port(None, port_id, HOST, device_id=server["id"], device_owner=DEVICE_OWNER)
            self._boot_volumes(server)
            self.driver.spawn(self.instance(server))
            self._plug_volumes(server)
        except (DriverError, faults.ApiError, OSError) as exc:
            log.warning("build of server %s failed: %s", server["id"], exc)
            self._fail(server["id"], f"Build of instance failed: {exc}")
            return

        def built(current: dict[str, Any]) -> bool | None:
            if current["vm_state"] != "building":
                return False  # reset or failed meanwhile
            current["launched_at"] = clock.iso(clock.now())
            set_state(current, "active", None, RUNNING)
            return None

        self._settle(server["id"], built)

    def _plug_volumes(self, server: dict[str, Any]) -> None:
        """Have the driver plug every volume attached to the server (after a spawn)."""
        for attachment in self.volume_attachments(server):
            volume_id = attachment["volume_id"]
            self.driver.attach_volume(
                server["id"], volume_id, attachment["mountpoint"], self.cloud.volume.path(volume_id)
            )

    def _boot_volumes(self, server: dict[str, Any]) -> None:
        """Make (if need be) and attach the server's block-device volumes, the root one as /dev/vda."""
        volumes, ctx = self.cloud.volume, owner_context(server)
        for index, bdm in enumerate(server["block_devices"]):
            if bdm["volume_id"] is None:
                source = {"image": "image_ref", "snapshot": "snapshot_id"}.get(bdm["source_type"])
                made = volumes.create(
                    ctx,
                    size=bdm["volume_size"],
                    name=f"{server['name']}-volume",
                    **({source: bdm["uuid"]} if source else {}),
                )
                bdm["volume_id"] = made["id"]
                bdm["made_here"] = True

                def record_volume(current: dict[str, Any], i: int = index, volume_id: str = made["id"]) -> None:
                    current["block_devices"][i].update(volume_id=volume_id, made_here=True)

                self.modify(server["id"], record_volume)
                volumes.wait(made["id"], timeout=120.0)  # this job runs in a worker thread
            used = {a["mountpoint"] for a in self.volume_attachments(server)}
            device = ROOT_DEVICE if bdm["boot_index"] == 0 else next_device(used | {ROOT_DEVICE})
            if bdm["volume_id"] not in {a["volume_id"] for a in self.volume_attachments(server)}:
                volumes.attach(ctx, bdm["volume_id"], server["id"], device, host_name=HOST)

    # -- volume attachments ------------------------------------------------------------

    def volume_attachments(self, server: dict[str, Any]) -> list[dict[str, Any]]:
        return self.cloud.volume.attachments_of_server(server["id"])

    @staticmethod
    def deletes_with(server: dict[str, Any], volume_id: str) -> bool:
        """Is the volume deleted along with the server (``delete_on_termination``)?"""
        if volume_id in (server.get("delete_on_termination") or {}):
            return bool(server["delete_on_termination"][volume_id])
        return any(b["volume_id"] == volume_id and b["delete_on_termination"] for b in server["block_devices"])

    def attach_volume(
        self,
        ctx: Context,
        server: dict[str, Any],
        volume_id: str,
        device: str | None,
        delete_on_termination: bool = False,
    ) -> dict[str, Any]:
        """Attach a volume (Nova's ``os-volume_attachments`` create); blocking (the driver plugs it)."""
        if server["vm_state"] not in ATTACHABLE or server["task_state"] is not None:
            state = server["task_state"] or server["vm_state"]
            raise faults.Conflict(f"Cannot 'attach_volume' instance {server['id']} while it is in state {state}")
        used = {a["mountpoint"] for a in self.volume_attachments(server)} | {ROOT_DEVICE}
        if device and device in used:
            raise faults.BadRequest(f"The supplied device path ({device}) is in use.")
        device = device or next_device(used)
        attachment = self.cloud.volume.attach(ctx, volume_id, server["id"], device, host_name=HOST)
        try:
            self.driver.attach_volume(server["id"], volume_id, device, self.cloud.volume.path(volume_id))
        except DriverError as exc:
            self.cloud.volume.detach(ctx, volume_id, server["id"])
            raise faults.BadRequest(f"The volume could not be attached: {exc}") from None

        def remember(current: dict[str, Any]) -> None:
            flags = dict(current.get("delete_on_termination") or {}, **{volume_id: delete_on_termination})
            current["delete_on_termination"] = flags
            current["updated"] = clock.iso(clock.now(), micro=False)

        self.modify(server["id"], remember)
        return attachment

    def detach_volume(self, ctx: Context, server: dict[str, Any], volume_id: str) -> None:
        if server["vm_state"] not in ATTACHABLE or server["task_state"] is not None:
            state = server["task_state"] or server["vm_state"]
            raise faults.Conflict(f"Cannot 'detach_volume' instance {server['id']} while it is in state {state}")
        mine = [a for a in self.volume_attachments(server) if a["volume_id"] == volume_id]
        if not mine:
            raise faults.NotFound(f"volume_id not found: {volume_id}")
        if mine[0]["mountpoint"] == ROOT_DEVICE:
            raise faults.BadRequest("Cannot detach a root device volume")
        self.driver.detach_volume(server["id"], volume_id)
        self.cloud.volume.detach(ctx, volume_id, server["id"])

    def _release_volumes(self, server: dict[str, Any]) -> None:
        """On delete: detach every volume, and delete those marked delete_on_termination."""
        volumes, ctx = self.cloud.volume, owner_context(server)
        doomed = []
        for attachment in self.volume_attachments(server):
            if self.deletes_with(server, attachment["volume_id"]):
                doomed.append(attachment["volume_id"])
            with contextlib.suppress(faults.NotFound):
                volumes.detach(ctx, attachment["volume_id"], server["id"])
        for volume_id in doomed:
            with contextlib.suppress(faults.NotFound):
                volumes.delete(ctx, volume_id)

    def _powered_off(self, server_id: str) -> None:
        """The guest powered itself off (cloud-init power_state): record it once it is up."""
        self.cloud.lifecycle.schedule("server.powered_off", server_id)

    def _lost(self, server_id: str, reason: str) -> None:
        """The driver found the server's instance gone (after a restart): record it as an error."""
        self.cloud.lifecycle.schedule("server.lost", server_id, delay=0, reason=reason)

    def _lost_event(self, job: dict[str, Any]) -> None:
        server = self.store.get("server", job["target"])
        if server is not None and server["vm_state"] not in ("building", "deleted", "error"):
            self._fail(server["id"], job["args"]["reason"])

    def _power_off_event(self, job: dict[str, Any]) -> None:
        def stopped(server: dict[str, Any]) -> bool | None:
            if server["vm_state"] not in ("active", "building"):
                return False
            set_state(server, "stopped", None, SHUTDOWN)
            return None

        self._settle(job["target"], stopped)

    # -- actions ---------------------------------------------------------------------

    def check_action(self, server: dict[str, Any], action: str, ctx: Context) -> None:
        allowed = ACTIONS[action][0]
        label = "reboot" if action.startswith("reboot") else action
        if server["locked"] and not ctx.is_admin:
            raise faults.Conflict(f"Instance {server['id']} is locked")
        if server["task_state"] is not None:
            raise faults.Conflict(
                f"Cannot '{label}' instance {server['id']} while it is in task_state {server['task_state']}"
            )
        if server["vm_state"] not in allowed:
            raise faults.Conflict(
                f"Cannot '{label}' instance {server['id']} while it is in vm_state {server['vm_state']}"
            )

    def act(self, ctx: Context, server: dict[str, Any], action: str, **args: Any) -> dict[str, Any]:
        """Start an action: the server shows its task state until the job finishes it."""
        self.check_action(server, action, ctx)
        if action == "resize":
            flavor = self._flavor(ctx, args.pop("flavor_ref"))
            if flavor["id"] == server["flavor"]["id"]:
                raise faults.BadRequest("When resizing, instances must change flavor!")
            grow = {
                "cores": max(0, flavor["vcpus"] - server["flavor"]["vcpus"]),
                "ram": max(0, flavor["ram"] - server["flavor"]["ram"]),
            }
            if any(grow.values()):
                self.cloud.compute.quotas.check(server["project_id"], instances=0, **grow)
            args["flavor"] = flavor
        if action == "rebuild":
            image = self._image(ctx, args.get("image_ref"), server["flavor"], False)
            args["image_id"] = image["id"] if image else ""

        def begin(current: dict[str, Any]) -> None:
            self.check_action(current, action, ctx)  # again: another call may have started one
            set_state(current, current["vm_state"], ACTIONS[action][1])

        server = self.modify(server["id"], begin)
        self.cloud.lifecycle.schedule("server.action", server["id"], op=action, **args)
        return server

    def _act(self, job: dict[str, Any]) -> None:
        """Do an action's work with the driver, then record its outcome on the server as it is now."""
        server = self.store.get("server", job["target"])
        args = dict(job["args"])
        action = args.pop("op")
        _, task_state, vm_state, power = ACTIONS[action]
        if server is None or server["task_state"] != task_state:
            return
        driver, sid = self.driver, server["id"]
        rebuilt = {k: v for k, v in args.items() if k in REBUILD_FIELDS} if action == "rebuild" else {}
        try:
            if action == "start":
                driver.power_on(sid)
            elif action == "stop":
                driver.power_off(sid)
            elif action in ("reboot", "reboot_hard"):
                driver.reboot(sid, hard=action == "reboot_hard")
            elif action in ("pause", "unpause", "suspend", "resume"):
                getattr(driver, action)(sid)
            elif action == "rebuild":
                driver.destroy(sid)
                driver.spawn(self.instance({**server, **rebuilt}))
                self._plug_volumes(server)
            elif action == "resize":
                driver.resize(sid, args["flavor"])
            elif action == "revert_resize":
                driver.resize(sid, server["old_flavor"])
        except (DriverError, OSError) as exc:
            self._fail(sid, f"{action} failed: {exc}")
            return

        def finish(current: dict[str, Any]) -> bool | None:
            if current["task_state"] != task_state:
                return False  # overtaken: reset, or deleted
            current.update(rebuilt)
            if action == "resize":
                current["old_flavor"], current["flavor"] = current["flavor"], args["flavor"]
            elif action == "revert_resize":
                current["flavor"], current["old_flavor"] = current["old_flavor"], None
            elif action == "confirm_resize":
                current["old_flavor"] = None
            after = SHUTDOWN if action == "resize" and current["vm_state"] == "stopped" else power
            set_state(current, vm_state, None, after)
            return None

        self._settle(sid, finish)

    def lock(self, ctx: Context, server: dict[str, Any], reason: str | None) -> dict[str, Any]:
        def lock(current: dict[str, Any]) -> None:
            current.update(locked=True, locked_reason=reason, locked_by="admin" if ctx.is_admin else "owner")

        return self.modify(server["id"], lock)

    def unlock(self, ctx: Context, server: dict[str, Any]) -> dict[str, Any]:
        def unlock(current: dict[str, Any]) -> None:
            if current.get("locked_by") == "admin" and not ctx.is_admin:
                raise faults.Forbidden("Instance is locked by an administrator; only an administrator can unlock it.")
            current.update(locked=False, locked_reason=None, locked_by=None)

        return self.modify(server["id"], unlock)

    def reset_state(self, server: dict[str, Any], state: str) -> dict[str, Any]:
        return self.modify(server["id"], lambda current: set_state(current, state, None))

    def console(self, server: dict[str, Any], length: int | None) -> str:
        if server["vm_state"] == "building":
            raise faults.Conflict(f"Instance {server['id']} is not ready")
        try:
            return self.driver.console_output(server["id"], length)
        except DriverError as exc:
            raise faults.NotFound(f"Guest does not have a console available: {exc}") from None

    def update(self, server: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        """Set these fields on the server as it is now (the rest stays as others left it)."""
        return self.edit(server["id"], lambda current: current.update(changes))

    def edit(self, server_id: str, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """:meth:`modify`, stamping ``updated`` (what a user's change to a server does)."""

        def apply(server: dict[str, Any]) -> None:
            change(server)
            server["updated"] = clock.iso(clock.now(), micro=False)

        return self.modify(server_id, apply)

    def set_security_group(self, ctx: Context, server: dict[str, Any], name: str, add: bool) -> None:
        (group_id,) = self._security_groups(ctx, [{"name": name}])
        net = self.cloud.network
        ports = self.ports(server)
        if not add and not any(group_id in p["security_groups"] for p in ports):
            raise faults.NotFound(f"Security group {name} not in use on instance {server['id']}.")
        if add and ports and all(group_id in p["security_groups"] for p in ports):
            raise faults.BadRequest(f"Security group {name} is already associated with the instance {server['id']}")
        for port in ports:
            groups = [g for g in port["security_groups"] if g != group_id] + ([group_id] if add else [])
            net.update_port(ctx, port["id"], {"security_groups": groups})

    # -- snapshot (createImage) -------------------------------------------------------

    def create_image(self, ctx: Context, server: dict[str, Any], name: str, metadata: dict[str, str]) -> dict:
        if server["vm_state"] not in ("active", "stopped", "paused", "suspended"):
            raise faults.Conflict(
                f"Cannot 'createImage' instance {server['id']} while it is in vm_state {server['vm_state']}"
            )
        if server["task_state"] is not None:
            raise faults.Conflict(
                f"Cannot 'createImage' instance {server['id']} while it is in task_state {server['task_state']}"
            )
        source = self.cloud.image.record(server["image_id"]) if server["image_id"] else None
        props = {k: v for k, v in (metadata or {}).items()}
        props.update(image_type="snapshot", instance_uuid=server["id"], user_id=ctx.user_id)
        if source:
            props["base_image_ref"] = source["id"]
        disk_format, container_format = self.driver.snapshot_formats() or (
            (source or {}).get("disk_format") or "qcow2",
            (source or {}).get("container_format") or "bare",
        )
        image = self.cloud.image.create(
            ctx,
            name=name,
            disk_format=disk_format,
            container_format=container_format,
            min_disk=server["flavor"]["disk"],
            min_ram=(source or {}).get("min_ram") or 0,
            visibility="private",
            **props,
        )
        self.modify(server["id"], lambda current: set_state(current, current["vm_state"], "image_snapshot"))
        self.cloud.lifecycle.schedule("server.snapshot", server["id"], image_id=image["id"])
        return image

    def _snapshot(self, job: dict[str, Any]) -> None:
        server = self.store.get("server", job["target"])
        image_id = job["args"]["image_id"]
        images = self.cloud.image
        try:
            if server is None:
                raise DriverError("the server was deleted before its snapshot was taken")
            tmp = self.cloud.data_dir / f"snapshot-{image_id}.part"
            try:
                self.driver.snapshot(server["id"], tmp)
                images.import_file(image_id, tmp)
            finally:
                tmp.unlink(missing_ok=True)
        except (DriverError, faults.ApiError, OSError) as exc:
            log.warning("snapshot of server %s failed: %s", job["target"], exc)
            images.delete_failed(image_id)
        if server is not None:

            def taken(current: dict[str, Any]) -> bool | None:
                if current["task_state"] != "image_snapshot":
                    return False
                set_state(current, current["vm_state"], None)
                return None

            self._settle(server["id"], taken)

    # -- delete ----------------------------------------------------------------------

    def delete(self, ctx: Context, server: dict[str, Any], force: bool = False) -> None:
        def deleting(current: dict[str, Any]) -> None:
            if current["locked"] and not ctx.is_admin:
                raise faults.Conflict(f"Instance {current['id']} is locked")
            current["task_state"] = "deleting"

        if server["locked"] and not ctx.is_admin:
            raise faults.Conflict(f"Instance {server['id']} is locked")
        self.cloud.lifecycle.cancel(server["id"])
        self.modify(server["id"], deleting)
        self.cloud.lifecycle.schedule("server.delete", server["id"], delay=0 if force else None)

    def _delete(self, job: dict[str, Any]) -> None:
        server = self.store.get("server", job["target"])
        if server is None:
            return
        try:
            self.driver.destroy(server["id"])
        except DriverError as exc:
            log.warning("driver could not destroy server %s: %s", server["id"], exc)
        self._release_volumes(server)
        with self.store.transaction():
            self._release_ports(server)
            self.cloud.compute.server_groups.remove_member(server["id"])
            self.store.delete("server", server["id"])


def _hostname(name: str) -> str:
    """Nova's sanitised hostname: letters, digits and dashes, at most 63 characters."""
    cleaned = "".join(c if c.isalnum() or c == "-" else "-" for c in name.lower()).strip("-.")
    return (cleaned or "server")[:63]
