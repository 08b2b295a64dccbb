"""The ``fake`` driver: an instance is a record with a console log, nothing runs.

It behaves enough like a booted guest for clients to tell: the console shows
a boot and the user data the guest received, a snapshot copies the image the
server booted from, and cloud-config's ``power_state: {mode: poweroff}``
powers the instance off once it is up, as cloud-init would.

Fault injection, for testing what a client does with a failed boot: a
flavor with the extra spec ``stacksim:boot_fault`` fails every boot with that
text as the reason (the server goes to ``ERROR`` with it as its fault).
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stacksim import clock
from stacksim.drivers.base import ComputeDriver, DriverError, Instance
from stacksim.drivers.userdata import wants_poweroff

if TYPE_CHECKING:
    from stacksim.drivers.view import CloudView
    from stacksim.store import Store


#: the store's kind for a fake instance: {"id", "image": the path it booted from, "console": its log}
INSTANCE = "fake_instance"


class FakeDriver(ComputeDriver):
    name = "fake"
    quick = True  # an instance is one record

    # An instance is one record in the cloud's store, so it is as durable as the server it
    # belongs to, a reset removes it with the other records, and stopping the simulator has
    # nothing to remove however many there are (a folder each made an in-memory cloud's exit
    # delete tens of thousands of files). Older state dirs kept a folder per instance under
    # ``fake-instances``: those are read, and moved into the store at their next change.
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.root = self.data_dir / "fake-instances"
        self.store: Store = None  # type: ignore[assignment]  # set by bind(), before any instance

    def bind(self, view: CloudView) -> None:
        self.store = view.host_store

    def _dir(self, instance_id: str) -> Path:
        return self.root / instance_id

    def _instance(self, instance_id: str) -> dict[str, Any] | None:
        found = self.store.get(INSTANCE, instance_id)
        if found is None and self._dir(instance_id).is_dir():  # from an older stacksim
            folder = self._dir(instance_id)
            found = {
                "id": instance_id,
                "image": _read(folder / "image").strip(),
                "console": _read(folder / "console.log"),
            }
        return found

    def _log(self, instance_id: str, *lines: str) -> None:
        text = _stamped(lines)
        with self.store.transaction():
            instance = self._instance(instance_id)
            if instance is None:
                raise DriverError(f"instance {instance_id} does not exist on this host")
            self.store.put(INSTANCE, {**instance, "console": instance["console"] + text})
        if self._dir(instance_id).is_dir():
            shutil.rmtree(self._dir(instance_id), ignore_errors=True)

    def spawn(self, instance: Instance) -> None:
        fault = (instance.flavor.get("extra_specs") or {}).get("stacksim:boot_fault")
        if fault:
            raise DriverError(str(fault))
        image = instance.image["name"] if instance.image else "volume"
        lines = [
            f"stacksim fake hypervisor: booting {instance.name} ({instance.id}) from {image}",
            f"flavor {instance.flavor.get('name')}: {instance.flavor.get('vcpus')} vCPU, "
            f"{instance.flavor.get('ram')} MiB RAM, {instance.flavor.get('disk')} GiB disk",
        ]
        for index, port in enumerate(instance.ports):
            ips = ", ".join([ip["ip_address"] for ip in port.get("fixed_ips", [])])
            lines.append(f"eth{index}: {port.get('mac_address')} {ips}")
        lines.append(f"cloud-init: hostname {instance.hostname}")
        if instance.public_key:
            lines.append(f"cloud-init: authorized key {instance.public_key.split()[-1][:40]}")
        if instance.user_data:
            lines.append("cloud-init: user data received:")
            lines.extend(f"  {line}" for line in instance.user_data.splitlines())
        else:
            lines.append("cloud-init: no user data")
        lines.append(f"{instance.hostname} login:")
        record = {"id": instance.id, "image": str(instance.image_path or ""), "console": _stamped(lines)}
        self.store.put(INSTANCE, record)
        if instance.user_data and wants_poweroff(instance.user_data):
            self._log(instance.id, "cloud-init: power_state: powering off")
            self.events.powered_off(instance.id)

    def destroy(self, instance_id: str) -> None:
        self.store.delete(INSTANCE, instance_id)
        shutil.rmtree(self._dir(instance_id), ignore_errors=True)

    def reset(self) -> None:
        self.store.delete_where(INSTANCE)  # (a reset of the records has removed them already)

    def power_off(self, instance_id: str) -> None:
        self._log(instance_id, "reboot: Power down")

    def power_on(self, instance_id: str) -> None:
        self._log(instance_id, "booting again", "login:")

    def reboot(self, instance_id: str, hard: bool = False) -> None:
        self._log(instance_id, "reboot: hard reset" if hard else "reboot: Restarting system", "login:")

    def pause(self, instance_id: str) -> None:
        self._log(instance_id, "paused")

    def unpause(self, instance_id: str) -> None:
        self._log(instance_id, "unpaused")

    def suspend(self, instance_id: str) -> None:
        self._log(instance_id, "PM: suspend entry (deep)")

    def resume(self, instance_id: str) -> None:
        self._log(instance_id, "PM: resume from suspend")

    def rescue(self, instance_id: str, rescue: Instance) -> None:
        image = rescue.image["name"] if rescue.image else "its own image"
        self._log(instance_id, f"rescue: booting from {image}, the instance's disk attached as /dev/vdb", "login:")

    def unrescue(self, instance_id: str) -> None:
        self._log(instance_id, "unrescue: booting from the instance's own disk again", "login:")

    def snapshot(self, instance_id: str, dest: Path) -> None:
        instance = self._instance(instance_id)
        source = instance["image"] if instance else ""
        if source and Path(source).exists():
            shutil.copyfile(source, dest)
        else:  # booted from a volume, or the image data is gone: an empty disk
            dest.write_bytes(b"")
        self._log(instance_id, f"snapshot written ({dest.stat().st_size} bytes)")

    def console_output(self, instance_id: str, length: int | None = None) -> str:
        instance = self._instance(instance_id)
        if instance is None:
            raise DriverError(f"instance {instance_id} has no console")
        lines = instance["console"].splitlines(keepends=True)
        return "".join(lines[-length:] if length else lines)

    def plug_port(self, instance_id: str, port: dict[str, Any]) -> None:
        self._log(instance_id, f"hotplug: new interface {port.get('mac_address')}")

    def unplug_port(self, instance_id: str, port_id: str) -> None:
        self._log(instance_id, f"hotplug: interface of port {port_id} removed")

    def attach_volume(self, instance_id: str, volume_id: str, device: str, path: Path) -> None:
        self._log(instance_id, f"virtio_blk: {device} attached (volume {volume_id})")

    def detach_volume(self, instance_id: str, volume_id: str) -> None:
        self._log(instance_id, f"virtio_blk: volume {volume_id} detached")


def _stamped(lines: Sequence[str]) -> str:
    stamp = clock.now().time().isoformat("seconds")  # strftime's "%H:%M:%S", at a fifth of its cost
    text = f"\n[{stamp}] ".join(lines)  # one join, no generator: a build writes several lines
    return f"[{stamp}] {text}\n" if lines else ""


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""
