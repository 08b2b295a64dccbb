"""The ``docker`` driver: every instance is a container of a local Docker engine.

The mapping (each part in its own module):

- instance: a container named ``ss<hash>-<server id>`` whose hostname is the
  server's, labelled with the server id and this simulator's state dir; the
  flavor's ``ram`` is its memory limit, ``vcpus`` its CPU quota and shares;
- networks (:mod:`.networks`): a bridge per Neutron network with the
  subnet's CIDR; the container gets each port's fixed IP and MAC, and the
  routes of its subnets (:mod:`.routes`); an instance whose ports have
  allowed address pairs forwards (``net.ipv4.ip_forward``), as a router host;
- security groups, floating IPs and routers (:mod:`.firewall`): iptables in
  the instance's namespace, DNAT and forwarding between a router's networks
  on the host;
- volumes (:mod:`.volumes`): loop devices on Cinder's own files;
- images (:mod:`.images`, :mod:`.baseimage`): loaded ``docker save``
  tarballs, named local images, or the base image built by debootstrap;
- first boot (:mod:`.agent`, :mod:`.bootscript`, :mod:`.configdrive`): a
  cloud-init subset, a config drive, and the console as the container's
  output.

It needs root (iptables, ``nsenter``, loop devices) and a running engine;
:func:`check` says what is missing. Suspend is a pause (Docker cannot save a
container's memory to disk).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stacksim.drivers.base import ComputeDriver, DriverError, Instance
from stacksim.drivers.docker import (
    agent,
    baseimage,
    bootscript,
    configdrive,
    engine,
    firewall,
    images,
    routes,
    volumes,
)
from stacksim.drivers.docker.networks import Networks, interfaces, set_macs

if TYPE_CHECKING:
    from stacksim.drivers.view import CloudView

log = logging.getLogger("stacksim.docker")

BOOT_TIMEOUT = 60.0
STOP_TIMEOUT = 5


def check() -> str | None:
    """Why the docker driver cannot run here, if it cannot."""
    if not engine.is_root():
        return "the docker compute driver needs root (it sets up iptables, network namespaces and loop devices)"
    try:
        engine.client().close()
    except DriverError as exc:
        return str(exc)
    return None


class DockerDriver(ComputeDriver):
    name = "docker"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client = engine.client()
        self.scope = engine.Scope(self.data_dir)
        self.root = self.data_dir.resolve() / "docker"  # absolute: Docker binds only absolute paths
        self.root.mkdir(parents=True, exist_ok=True)
        self.networks = Networks(self.client, self.scope)
        self.images = images.Images(self.client, self.scope, self.root / "images.json")
        self.host_rules = firewall.HostRules(self.scope.prefix, self.scope.tag)
        self.view: CloudView = None  # type: ignore[assignment]  # set by bind(), before start()
        self._applied: dict[str, str] = {}  # instance id -> the ruleset loaded in its namespace
        self._interfaces: dict[str, dict[str, str]] = {}  # instance id -> {fixed IP: its interface}
        self._fips: list[tuple[str, str]] | None = None
        self._links: list[tuple[str, str, str, str]] | None = None
        self._base_ready = threading.Event()
        self._base_error: str | None = None
        self._poke = threading.Event()
        self._closing = threading.Event()
        self._events_stream: Any = None
        self._threads: list[threading.Thread] = []

    # -- wiring and lifecycle ---------------------------------------------------------

    def bind(self, view: CloudView) -> None:
        self.view = view

    def start(self) -> None:
        """The cloud is bootstrapped: the external network's bridge, the API guard, reconciliation, workers."""
        self._start_thread(self._ensure_base, "stacksim-docker-base")
        self._expose_api()
        self.reconcile()
        self._start_thread(self._sync_loop, "stacksim-docker-sync")
        self._start_thread(self._watch_events, "stacksim-docker-events")
        self._poke.set()

    def _start_thread(self, target: Any, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _ensure_base(self) -> None:
        try:
            built = baseimage.ensure(self.client, log=lambda line: log.warning("base image: %s", line))
            if not built.cached:
                log.warning("base image %s built in %.0f s", built.reference, built.seconds)
        except Exception as exc:  # reported to every boot that needs it
            self._base_error = f"the base image could not be built: {exc}"
            log.error("%s", self._base_error)
        self._base_ready.set()

    def _expose_api(self) -> None:
        """Let instances reach the APIs at the external network's gateway (the host's side of its bridge)."""
        settings = self.view.settings
        for network in self.view.external_networks():
            subnets = [s for s in self.view.subnets_of(network["id"]) if s["ip_version"] == 4 and s.get("gateway_ip")]
            if not subnets:
                continue
            try:
                self.networks.ensure(network, subnets, self.view.network_ports(network["id"]))
            except DriverError as exc:
                log.error("instances cannot reach the APIs: %s", exc)
                return
            settings.instance_host = subnets[0]["gateway_ip"]
            self.host_rules.guard_api(settings.instance_host, settings.port)
            return

    def close(self) -> None:
        self._closing.set()
        self._poke.set()
        with contextlib.suppress(Exception):
            if self._events_stream is not None:
                self._events_stream.close()
        if self.view is not None and self.view.settings.state_dir is None:
            purge(self.client, self.data_dir)  # in-memory state: nothing could find these again
        with contextlib.suppress(Exception):
            self.client.close()

    def reset(self) -> None:
        """Remove every container, network and image of this simulator but the external networks' bridges."""
        keep = {n["id"] for n in self.view.external_networks()}
        purge(self.client, self.data_dir, keep_networks=keep, keep_host_rules=True)
        self._applied.clear()
        self._interfaces.clear()
        self._poke.set()

    def reconcile(self) -> None:
        """After a restart: containers without a server go; servers without a running container say so."""
        servers = self.view.server_states()
        seen = set()
        for container in self.client.containers.list(all=True, filters=self.scope.filters()):
            server_id = container.labels.get(engine.SERVER_LABEL, "")
            if server_id not in servers or servers[server_id] == "deleted":
                log.warning("removing container %s: its server %s is gone", container.name, server_id)
                self._remove(server_id, container)
                continue
            seen.add(server_id)
            if servers[server_id] == "active" and container.status != "running":
                self.events.powered_off(server_id)
            elif container.status == "running":
                _mark(self._ready_marker(server_id))
        for server_id, state in servers.items():
            if server_id not in seen and state in ("active", "stopped", "paused", "suspended"):
                self.events.lost(server_id, "the instance's container is gone (removed outside stacksim)")

    # -- paths ---------------------------------------------------------------------------

    def _dir(self, instance_id: str) -> Path:
        return self.root / instance_id

    def _ready_marker(self, instance_id: str) -> Path:
        return self._dir(instance_id) / "agent" / "run" / "firewall"

    def _state(self, instance_id: str) -> dict[str, Any]:
        try:
            return json.loads((self._dir(instance_id) / "state.json").read_text())
        except (OSError, ValueError):
            return {"volumes": {}}

    def _save_state(self, instance_id: str, state: dict[str, Any]) -> None:
        (self._dir(instance_id) / "state.json").write_text(json.dumps(state))

    def _console(self, instance_id: str, *lines: str) -> None:
        path = self._dir(instance_id) / "console.log"
        if not path.parent.exists():
            return
        stamp = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
        with path.open("a") as fh:
            for line in lines:
                fh.write(f"{stamp} [stacksim] {line}\n")

    def _container(self, instance_id: str) -> Any:
        try:
            return self.client.containers.get(self.scope.container_name(instance_id))
        except engine.errors().NotFound:
            raise DriverError(f"instance {instance_id} has no container on this host") from None

    # -- boot ----------------------------------------------------------------------------

    def spawn(self, instance: Instance) -> None:
        self._base_ready.wait(timeout=900)
        made_networks: list[str] = []
        with contextlib.suppress(DriverError):
            self._remove(instance.id, self._container(instance.id))  # left by a build a crash cut off
        try:
            boot = self.images.resolve(instance.image, instance.image_path)
            if boot.reference == baseimage.reference() and self._base_error:
                raise DriverError(self._base_error)
            self._prepare(instance, boot)
            container = self._create(instance, boot, made_networks)
            self._save_state(instance.id, {"volumes": {}, "program": boot.program, "user": boot.default_user})
            self._start(instance.id, container)
        except Exception as exc:
            with contextlib.suppress(Exception):
                self._remove(instance.id, self._container(instance.id))
            shutil.rmtree(self._dir(instance.id), ignore_errors=True)
            self.networks.remove_if_unused(made_networks)  # only those this boot made
            message = engine.explain(exc) if not isinstance(exc, DriverError) else str(exc)
            raise DriverError(message) from None
        self._poke.set()  # other instances' remote-group rules now include this one

    def _prepare(self, instance: Instance, boot: images.Boot) -> None:
        folder = self._dir(instance.id)
        shutil.rmtree(folder, ignore_errors=True)
        (folder / "agent" / "boot").mkdir(parents=True)
        (folder / "agent" / "run").mkdir()
        (folder / "run").mkdir()
        (folder / "agent" / "init").write_text(agent.SCRIPT)
        (folder / "agent" / "instance-id").write_text(instance.id + "\n")
        scripts, notes = bootscript.compile_user_data(instance.user_data, instance.public_key, boot.default_user)
        for name, text in scripts.items():
            (folder / "agent" / "boot" / name).write_text(text)
        configdrive.write(folder / "config-drive", instance, boot.default_user, self.view.subnet)
        flavor = instance.flavor
        lines = [
            f"booting {instance.name} ({instance.id}) from "
            f"{(instance.image or {}).get('name') or 'a volume'} as Docker image {boot.reference[:19]}",
            f"flavor {flavor.get('name')}: {flavor.get('vcpus')} vCPU, {flavor.get('ram')} MiB RAM",
            f"default user {boot.default_user}",
            *notes,
        ]
        (folder / "console.log").write_text("")
        self._console(instance.id, *lines)

    def _create(self, instance: Instance, boot: images.Boot, made: list[str]) -> Any:
        attachments: list[tuple[Any, str]] = []  # (docker network, fixed IP)
        seen_networks = set()
        for port in instance.ports:
            network = self.view.network(port["network_id"])
            if network is None:
                raise DriverError(f"network {port['network_id']} of port {port['id']} does not exist")
            v4 = [ip for ip in port.get("fixed_ips") or [] if ":" not in ip["ip_address"]]
            if port["network_id"] in seen_networks:
                self._console(instance.id, f"port {port['id']}: a second port on one network is not plugged")
                continue
            seen_networks.add(port["network_id"])
            existed = self.networks.find(network["id"]) is not None
            docker_net = self.networks.ensure(
                network, self.view.subnets_of(network["id"]), self.view.network_ports(network["id"])
            )
            if not existed:
                made.append(network["id"])
            if not v4:  # Docker would pick an address Neutron does not know of
                raise DriverError(f"port {port['id']} has no IPv4 address; the docker driver needs one per port")
            ip = v4[0]["ip_address"]
            if ip in self.networks.host_addresses(docker_net):
                raise DriverError(
                    f"port {port['id']} asks for {ip}, which the host's side of network {network['id']} took "
                    "when the network was first used (no port held it then); give the port another address"
                )
            attachments.append((docker_net, ip))
            self._console(instance.id, f"eth{len(attachments) - 1}: {port.get('mac_address')} {ip}")
        folder = self._dir(instance.id)
        mount = engine.types().Mount
        mounts = [
            mount(agent.MOUNT, str(folder / "agent"), type="bind", read_only=True),
            mount(f"{agent.MOUNT}/run", str(folder / "agent" / "run"), type="bind"),
            *(mount(m, str(folder / "config-drive"), type="bind", read_only=True) for m in configdrive.MOUNTS),
        ]
        vcpus = max(1, int(instance.flavor.get("vcpus") or 1))
        kwargs: dict[str, Any] = {
            "name": self.scope.container_name(instance.id),
            "hostname": instance.hostname[:63],
            "entrypoint": ["/bin/sh", f"{agent.MOUNT}/init"],
            "command": boot.program or None,
            "labels": self.scope.labels(**{engine.SERVER_LABEL: instance.id, "stacksim.name": instance.name}),
            "mounts": mounts,
            "init": True,
            "detach": True,
            "cap_drop": ["MKNOD"],
            "device_cgroup_rules": [volumes.DEVICE_RULE],
            "cpu_shares": 1024 * vcpus,
            "cpu_period": 100000,
            "cpu_quota": 100000 * min(vcpus, os.cpu_count() or 1),
            "stop_signal": "SIGTERM",
        }
        # An instance whose ports may carry traffic that is not their own routes, as a router
        # host does; any other does not, as a stock guest (a new namespace would inherit the
        # host's setting, and a container cannot change it itself: /proc/sys is read-only inside).
        routes_traffic = any(port.get("allowed_address_pairs") for port in instance.ports)
        kwargs["sysctls"] = {"net.ipv4.ip_forward": "1" if routes_traffic else "0"}
        if routes_traffic:
            self._console(instance.id, "IP forwarding is on (a port has allowed address pairs)")
        ram = int(instance.flavor.get("ram") or 0)
        if ram:
            kwargs.update(mem_limit=f"{ram}m", memswap_limit=f"{ram}m")
        if attachments:
            first, ip = attachments[0]
            kwargs["network"] = first.name
            kwargs["networking_config"] = {first.name: self.networks.endpoint(ip)}
            mac = instance.ports[0].get("mac_address")
            if mac:
                kwargs["mac_address"] = mac
        else:
            kwargs["network_mode"] = "none"
        try:
            container = self.client.containers.create(boot.reference, **kwargs)
            for docker_net, ip in attachments[1:]:
                docker_net.connect(container, ipv4_address=ip)
        except engine.errors().APIError as exc:
            raise DriverError(f"Docker refused the container: {engine.explain(exc)}") from None
        return container

    def _start(self, instance_id: str, container: Any, wait: bool = True) -> None:
        """Start the container; set up its firewall and volumes, then let the agent go on; wait for sshd."""
        self._ready_marker(instance_id).unlink(missing_ok=True)  # the agent waits for it
        (self._dir(instance_id) / "agent" / "run" / "status").unlink(missing_ok=True)
        self._call(lambda _: container.start(), instance_id)
        container = self._container(instance_id)
        pid = int(container.attrs["State"]["Pid"])
        if not pid:
            raise DriverError(f"the container of instance {instance_id} did not start: {container.status}")
        ports = self.view.instance_ports(instance_id)
        if len(ports) > 1:
            set_macs(pid, ports)  # a link going down and up (routes through it go): before the routes
        self._interfaces[instance_id] = interfaces(pid)
        wanted, notes = routes.plan(configdrive.read_network_data(self._dir(instance_id) / "config-drive"))
        routes.apply(pid, wanted)
        self._console(instance_id, *(f"route {r}" for r in wanted), *notes)
        rules = self._ruleset(instance_id, pid)
        firewall.apply_in(pid, rules)
        self._applied[instance_id] = rules
        self._plug_all(instance_id, pid)
        _mark(self._ready_marker(instance_id))
        if wait:
            self._wait_up(instance_id, container)

    def _wait_up(self, instance_id: str, container: Any) -> None:
        status = self._dir(instance_id) / "agent" / "run" / "status"
        deadline = time.monotonic() + BOOT_TIMEOUT
        delay = 0.01
        while time.monotonic() < deadline:
            if status.exists():
                return
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
            if delay == 0.1:
                container.reload()
                if container.status != "running":
                    if status.exists() or (self._dir(instance_id) / "agent" / "run" / "power").exists():
                        # It booted, then powered itself off (user data) within one poll, and the
                        # exit handler may have taken the power file already: a finished boot.
                        return
                    tail = container.logs(tail=5).decode(errors="replace").strip()
                    raise DriverError(f"the instance stopped while booting: {tail}")
        raise DriverError(f"the instance did not finish booting within {BOOT_TIMEOUT:.0f} s")

    # -- firewall and floating IPs -----------------------------------------------------

    def _ruleset(self, instance_id: str, pid: int) -> str:
        if instance_id not in self._interfaces:  # running since before this simulator started
            self._interfaces[instance_id] = interfaces(pid)
        plugged = self._interfaces[instance_id]
        filters = []
        for port in self.view.instance_ports(instance_id):
            addresses = [ip["ip_address"] for ip in port["fixed_ips"] if ":" not in ip["ip_address"]]
            interface = next((plugged[a] for a in addresses if a in plugged), None)
            if interface is None:
                continue  # not plugged (a second port on one network): no interface to filter
            pairs = [p["ip_address"] for p in port.get("allowed_address_pairs") or [] if ":" not in p["ip_address"]]
            filters.append(
                firewall.PortFilter(
                    interface=interface,
                    addresses=addresses,
                    enabled=port.get("port_security_enabled", True),
                    rules=self.view.rules(port),
                    pairs=pairs,
                )
            )
        return firewall.instance_rules(filters)

    def _sync_loop(self) -> None:
        while not self._closing.is_set():
            self._poke.wait()
            if self._closing.is_set():
                return
            time.sleep(0.05)  # let a burst of changes (a stack, a server's ports) land first
            self._poke.clear()
            try:
                self.sync()
            except Exception:
                log.exception("could not bring the firewall in step")

    def sync(self) -> None:
        """Bring every running instance's rules and the floating IPs in step with Neutron."""
        pairs = sorted(self.view.floating_ips())
        if pairs != self._fips:
            self.host_rules.floating_ips(pairs)
            self._fips = pairs
        links = sorted(
            (self.networks.bridge_name(a), cidr_a, self.networks.bridge_name(b), cidr_b)
            for joined in self.view.routed_networks()
            for a, cidr_a in joined
            for b, cidr_b in joined
            if a != b
        )
        if links != self._links or (links and not self.host_rules.no_nat_first()):
            self.host_rules.routers(links)
            self._links = links
        for container in self.client.containers.list(filters=self.scope.filters()):
            instance_id = container.labels.get(engine.SERVER_LABEL, "")
            pid = int(container.attrs["State"]["Pid"] or 0)
            if not pid:
                continue
            rules = self._ruleset(instance_id, pid)
            if self._applied.get(instance_id) != rules:
                firewall.apply_in(pid, rules)
                self._applied[instance_id] = rules
        self.networks.remove_orphans(lambda network_id: self.view.network(network_id) is not None)

    def security_group_rules_changed(self, group_id: str) -> None:
        self._poke.set()

    def port_updated(self, port: dict[str, Any]) -> None:
        self._poke.set()

    def floating_ip_changed(self, floating_ip: dict[str, Any]) -> None:
        self._poke.set()

    def router_interfaces_changed(self, router_id: str) -> None:
        self._poke.set()

    def network_deleted(self, network_id: str) -> None:
        threading.Thread(
            target=self.networks.remove_if_unused, args=([network_id],), name="stacksim-docker-net", daemon=True
        ).start()

    # -- things the guest does by itself ---------------------------------------------------

    def _watch_events(self) -> None:
        filters = {"type": "container", "event": "die", **self.scope.filters()}
        while not self._closing.is_set():
            try:
                self._events_stream = self.client.events(decode=True, filters=filters)
                for event in self._events_stream:
                    self._died((event.get("Actor") or {}).get("Attributes") or {})
            except Exception:
                if self._closing.is_set():
                    return
                log.exception("lost the engine's event stream; listening again")
                time.sleep(1)

    def _died(self, attributes: dict[str, str]) -> None:
        instance_id = attributes.get(engine.SERVER_LABEL)
        if not instance_id:
            return
        self._applied.pop(instance_id, None)
        self._interfaces.pop(instance_id, None)
        power = self._dir(instance_id) / "agent" / "run" / "power"
        try:
            container = self._container(instance_id)
        except DriverError:
            return  # removed
        if container.status == "running":
            return  # a restart
        try:
            mode = _read_guest_file(power)
            power.unlink()
        except OSError:
            mode = ""
        if mode == "reboot":
            self._console(instance_id, "power_state: reboot")
            self._start(instance_id, container, wait=False)
            return
        if mode or not self._expected_stop(instance_id):
            self._console(instance_id, "the instance powered itself off")
            self.events.powered_off(instance_id)

    def _expected_stop(self, instance_id: str) -> bool:
        marker = self._dir(instance_id) / "stopping"
        if marker.exists():
            marker.unlink(missing_ok=True)
            return True
        return False

    def _stop(self, instance_id: str) -> Any:
        container = self._container(instance_id)
        (self._dir(instance_id) / "stopping").touch()
        container.stop(timeout=STOP_TIMEOUT)
        return container

    # -- actions ---------------------------------------------------------------------------

    def destroy(self, instance_id: str) -> None:
        with contextlib.suppress(DriverError):
            self._remove(instance_id, self._container(instance_id))
        for volume in self._state(instance_id).get("volumes", {}).values():
            with contextlib.suppress(DriverError):
                volumes.release(Path(volume["path"]))
        shutil.rmtree(self._dir(instance_id), ignore_errors=True)
        self._applied.pop(instance_id, None)
        self._interfaces.pop(instance_id, None)
        self._poke.set()

    def _remove(self, instance_id: str, container: Any) -> None:
        if instance_id:
            (self._dir(instance_id) / "stopping").parent.mkdir(parents=True, exist_ok=True)
            (self._dir(instance_id) / "stopping").touch()
        try:
            container.remove(force=True, v=True)
        except engine.errors().NotFound:
            pass
        except engine.errors().APIError as exc:
            raise DriverError(f"Docker could not remove {container.name}: {engine.explain(exc)}") from None

    def power_off(self, instance_id: str) -> None:
        self._console(instance_id, "power off requested")
        self._call(self._stop, instance_id)

    def power_on(self, instance_id: str) -> None:
        self._console(instance_id, "power on")
        self._start(instance_id, self._container(instance_id))

    def reboot(self, instance_id: str, hard: bool = False) -> None:
        self._console(instance_id, "hard reboot" if hard else "reboot")
        container = self._container(instance_id)
        if container.status == "paused":
            self._call(lambda _: container.unpause(), instance_id)
        (self._dir(instance_id) / "stopping").touch()
        if hard:
            self._call(lambda _: container.kill() if container.status == "running" else None, instance_id)
        else:
            self._call(lambda _: container.stop(timeout=STOP_TIMEOUT), instance_id)
        self._start(instance_id, container)

    def pause(self, instance_id: str) -> None:
        self._call(lambda i: self._container(i).pause(), instance_id)

    def unpause(self, instance_id: str) -> None:
        self._call(lambda i: self._container(i).unpause(), instance_id)

    def suspend(self, instance_id: str) -> None:
        self._console(instance_id, "suspend (the container is frozen)")
        self.pause(instance_id)

    def resume(self, instance_id: str) -> None:
        self._console(instance_id, "resume")
        self.unpause(instance_id)

    def resize(self, instance_id: str, flavor: dict[str, Any]) -> None:
        vcpus = max(1, int(flavor.get("vcpus") or 1))
        ram = int(flavor.get("ram") or 0)
        limits: dict[str, Any] = {
            "cpu_shares": 1024 * vcpus,
            "cpu_period": 100000,
            "cpu_quota": 100000 * min(vcpus, os.cpu_count() or 1),
        }
        if ram:
            limits.update(mem_limit=f"{ram}m", memswap_limit=f"{ram}m")
        self._call(lambda i: self._container(i).update(**limits), instance_id)
        self._console(instance_id, f"resized to {flavor.get('name')}: {vcpus} vCPU, {ram} MiB RAM")

    def _call(self, fn: Any, instance_id: str) -> Any:
        try:
            return fn(instance_id)
        except engine.errors().APIError as exc:
            raise DriverError(engine.explain(exc)) from None

    def snapshot(self, instance_id: str, dest: Path) -> None:
        state = self._state(instance_id)
        container = self._container(instance_id)
        for volume in state.get("volumes", {}).values():
            volumes.flush(Path(volume["path"]))
        self.images.commit(container, state.get("program") or [], state.get("user") or "cirros", dest)
        self._console(instance_id, f"snapshot written ({dest.stat().st_size} bytes)")

    def snapshot_formats(self) -> tuple[str, str]:
        return ("raw", "docker")

    def console_output(self, instance_id: str, length: int | None = None) -> str:
        path = self._dir(instance_id) / "console.log"
        if not path.exists():
            raise DriverError(f"instance {instance_id} has no console")
        lines = path.read_text().splitlines()
        with contextlib.suppress(DriverError, engine.errors().APIError):
            logs = self._container(instance_id).logs(timestamps=True).decode(errors="replace")
            lines += logs.splitlines()
        lines.sort(key=lambda line: line.split(" ", 1)[0])
        text = [line.split(" ", 1)[1] if " " in line else "" for line in lines]
        return "".join(f"{line}\n" for line in (text[-length:] if length else text))

    # -- ports and volumes ------------------------------------------------------------------

    def plug_port(self, instance_id: str, port: dict[str, Any]) -> None:
        self._console(instance_id, f"port {port['id']} is not hot-plugged (a rebuild plugs it)")

    def unplug_port(self, instance_id: str, port_id: str) -> None:
        self._console(instance_id, f"port {port_id} is not hot-unplugged (a rebuild unplugs it)")

    def attach_volume(self, instance_id: str, volume_id: str, device: str, path: Path) -> None:
        path = path.resolve()
        state = self._state(instance_id)
        state["volumes"][volume_id] = {"device": device, "path": str(path)}
        loop = volumes.bind(path)
        container = self._container(instance_id)
        if container.status in ("running", "paused"):
            volumes.make_node(int(container.attrs["State"]["Pid"]), device, loop)
        self._save_state(instance_id, state)
        self._console(instance_id, f"virtio_blk: {device} attached (volume {volume_id}, {loop})")

    def detach_volume(self, instance_id: str, volume_id: str) -> None:
        state = self._state(instance_id)
        volume = state["volumes"].pop(volume_id, None)
        if volume is None:
            return
        with contextlib.suppress(DriverError):
            container = self._container(instance_id)
            if container.status in ("running", "paused"):
                volumes.remove_node(int(container.attrs["State"]["Pid"]), volume["device"])
        volumes.release(Path(volume["path"]))
        self._save_state(instance_id, state)
        self._console(instance_id, f"virtio_blk: {volume['device']} detached (volume {volume_id})")

    def _plug_all(self, instance_id: str, pid: int) -> None:
        for volume in self._state(instance_id).get("volumes", {}).values():
            volumes.make_node(pid, volume["device"], volumes.bind(Path(volume["path"])))


def _mark(path: Path) -> None:
    """Make an empty file in a folder the guest can write to, never following a link it put there."""
    for _ in range(5):
        path.unlink(missing_ok=True)
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644))
            return
        except FileExistsError:
            continue  # the guest made something there again: remove it again
    raise DriverError(f"could not make {path.name} in the instance's run folder")


def _read_guest_file(path: Path) -> str:
    """A short file the guest wrote (a link is refused, so the host reads only that folder)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd) as fh:
        return fh.read(64).strip()


def purge(
    client: Any, data_dir: Path, keep_networks: set[str] | frozenset[str] = frozenset(), keep_host_rules: bool = False
) -> dict[str, int]:
    """Remove everything of the simulator with this data dir from the engine and the host.

    ``keep_networks`` (Neutron network ids) and ``keep_host_rules`` are for a reset of a
    running simulator, which keeps its external network and its iptables chains.
    """
    scope = engine.Scope(data_dir)
    counts = {"containers": 0, "networks": 0, "images": 0}
    for container in client.containers.list(all=True, filters=scope.filters()):
        with contextlib.suppress(engine.errors().APIError):
            container.remove(force=True, v=True)
            counts["containers"] += 1
    for network in client.networks.list(filters=scope.filters()):
        if (network.attrs.get("Labels") or {}).get(engine.NETWORK_LABEL) in keep_networks:
            continue
        with contextlib.suppress(engine.errors().APIError):
            network.remove()
            counts["networks"] += 1
    for image in client.images.list(name=scope.image_repository()):
        with contextlib.suppress(engine.errors().APIError):
            client.images.remove(image.id, force=True)
            counts["images"] += 1
    if not keep_host_rules:
        firewall.HostRules(scope.prefix, scope.tag).remove()
    for folder in (data_dir / "docker").glob("*/"):
        with contextlib.suppress(OSError, ValueError, DriverError):
            for volume in json.loads((folder / "state.json").read_text()).get("volumes", {}).values():
                volumes.release(Path(volume["path"]))
        shutil.rmtree(folder, ignore_errors=True)
    return counts
