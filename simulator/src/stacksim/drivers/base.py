"""The compute driver interface: what an instance really is.

The compute service decides *what* happens to a server (states, quotas,
ports, volumes) and asks a driver to make it so; it never cares which
driver it is. Driver calls may block (a container start, a file copy): the
service makes them from worker threads, never from the event loop.

A driver reports what happens on its own (an instance that powers itself
off, as cloud-init's ``power_state`` does) through ``DriverEvents``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stacksim.drivers.view import CloudView


@dataclass
class Instance:
    """What a driver is told about a server when it is built or rebuilt."""

    id: str
    name: str
    hostname: str
    flavor: dict[str, Any]
    image: dict[str, Any] | None = None  #: the Glance image record, if booted from one
    image_path: Path | None = None  #: its data file
    user_data: str | None = None  #: decoded user data
    metadata: dict[str, str] = field(default_factory=dict)
    public_key: str | None = None
    ports: list[dict[str, Any]] = field(default_factory=list)  #: Neutron port records
    config_drive: bool = False


@dataclass
class DriverEvents:
    """Callbacks a driver uses to report what an instance did by itself."""

    powered_off: Callable[[str], None] = lambda instance_id: None
    #: the instance is gone from under the driver (found on a restart): the server goes to ERROR with the reason
    lost: Callable[[str, str], None] = lambda instance_id, reason: None


class DriverError(Exception):
    """A driver could not do what it was asked; the message goes into the server's fault."""


class NetworkHooks:
    """What the network service tells a compute driver when Neutron state an instance depends on changes.

    Each is called once the change is committed, on the caller's thread (often the
    event loop): an implementation must return at once and do its work elsewhere.
    """

    def security_group_rules_changed(self, group_id: str) -> None:
        """A rule of the group was added or removed."""

    def port_updated(self, port: dict[str, Any]) -> None:
        """A port's security groups, port security, fixed IPs or allowed address pairs changed."""

    def floating_ip_changed(self, floating_ip: dict[str, Any]) -> None:
        """A floating IP was associated, disassociated or deleted (the record as it is now)."""

    def network_deleted(self, network_id: str) -> None:
        """A network was deleted."""

    def router_interfaces_changed(self, router_id: str) -> None:
        """An interface was added to or removed from the router."""


class ComputeDriver(NetworkHooks, ABC):
    name: str = "base"
    #: :meth:`spawn` returns at once (no container, no download): a server's build may run in the
    #: thread of the call that asked for it instead of holding a job thread of its own
    quick: bool = False

    def __init__(self, data_dir: Path, events: DriverEvents | None = None) -> None:
        self.data_dir = data_dir
        self.events = events or DriverEvents()

    # -- optional hooks (no-ops unless a driver needs them) -------------------------------

    def bind(self, view: CloudView) -> None:
        """The cloud the driver serves, to read from (ports, rules, floating IPs); called once, first."""

    def start(self) -> None:
        """The cloud is bootstrapped and about to serve: reconcile instances with the servers."""

    def close(self) -> None:
        """The simulator stops: end background work (instances keep running)."""

    def reset(self) -> None:
        """The cloud went back to its bootstrap state: remove every instance and what it used."""

    def resize(self, instance_id: str, flavor: dict[str, Any]) -> None:
        """Apply a new flavor's limits to a running instance."""

    def rescue(self, instance_id: str, rescue: Instance) -> None:
        """Boot the instance from ``rescue.image`` with its own disk attached (Nova's rescue);
        by default the instance just keeps running."""

    def unrescue(self, instance_id: str) -> None:
        """Boot the instance from its own disk again, after :meth:`rescue`."""

    def diagnostics(self, instance_id: str) -> dict[str, Any]:
        """Measured figures for Nova's standard diagnostics (``memory_details``, ``cpu_details`` ...,
        and ``legacy``: the pre-2.48 flat ones); what is not given is reported as zero."""
        return {}

    def snapshot_formats(self) -> tuple[str, str] | None:
        """``(disk_format, container_format)`` of what :meth:`snapshot` writes (None: the source image's)."""
        return None

    @abstractmethod
    def spawn(self, instance: Instance) -> None:
        """Create and boot the instance; return once it runs."""

    @abstractmethod
    def destroy(self, instance_id: str) -> None:
        """Remove the instance; succeed if it is already gone."""

    @abstractmethod
    def power_off(self, instance_id: str) -> None: ...

    @abstractmethod
    def power_on(self, instance_id: str) -> None: ...

    @abstractmethod
    def reboot(self, instance_id: str, hard: bool = False) -> None: ...

    @abstractmethod
    def pause(self, instance_id: str) -> None: ...

    @abstractmethod
    def unpause(self, instance_id: str) -> None: ...

    @abstractmethod
    def suspend(self, instance_id: str) -> None: ...

    @abstractmethod
    def resume(self, instance_id: str) -> None: ...

    @abstractmethod
    def snapshot(self, instance_id: str, dest: Path) -> None:
        """Write the instance's disk as image data to ``dest``."""

    @abstractmethod
    def console_output(self, instance_id: str, length: int | None = None) -> str:
        """The last ``length`` lines of the console (all when None)."""

    @abstractmethod
    def plug_port(self, instance_id: str, port: dict[str, Any]) -> None: ...

    @abstractmethod
    def unplug_port(self, instance_id: str, port_id: str) -> None: ...

    @abstractmethod
    def attach_volume(self, instance_id: str, volume_id: str, device: str, path: Path) -> None: ...

    @abstractmethod
    def detach_volume(self, instance_id: str, volume_id: str) -> None: ...


def make_driver(name: str, data_dir: Path, events: DriverEvents | None = None) -> ComputeDriver:
    """The driver ``--compute-driver`` names (imported only when chosen)."""
    if name == "fake":
        from stacksim.drivers.fake import FakeDriver

        return FakeDriver(data_dir, events)
    if name == "docker":
        from stacksim.drivers.docker import DockerDriver

        return DockerDriver(data_dir, events)
    raise ValueError(f"unknown compute driver {name!r}")
