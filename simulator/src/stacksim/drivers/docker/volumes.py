"""Cinder volumes as loop devices: the guest's block device is Cinder's own file.

Attaching a volume binds a loop device to the file Cinder keeps for it (the
same one its snapshots, clones, backups and uploads read), and makes the
device node (``/dev/vdb`` ...) inside the running instance from the host,
through ``/proc/<pid>/root``. Every container may use loop devices by its
device cgroup (``b 7:* rwm``) but cannot make device nodes itself
(``CAP_MKNOD`` is dropped), so an instance reaches only the devices the host
gave it. A detach flushes the device's buffers into the file, then frees the
loop device; a restart of the instance makes its nodes again.

Needs root (``losetup``). Not done: resizing the loop device when a volume
is extended while attached.
"""

from __future__ import annotations

import contextlib
import os
import stat
import subprocess
from pathlib import Path

from stacksim.drivers.base import DriverError

LOOP_MAJOR = 7
#: Given to every container: loop devices (its nodes are made only by the host).
DEVICE_RULE = f"b {LOOP_MAJOR}:* rwm"


def _losetup(*args: str) -> str:
    proc = subprocess.run(["losetup", *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise DriverError(f"losetup {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout.strip()


def loop_of(path: Path) -> str | None:
    """The loop device already bound to ``path``, if any."""
    try:
        out = _losetup("-j", str(path))
    except DriverError:
        return None
    return out.split(":", 1)[0] if out else None


def bind(path: Path) -> str:
    """A loop device on ``path`` (the one it already has, or a new one)."""
    if not path.exists():
        raise DriverError(f"the volume's file {path} does not exist")
    return loop_of(path) or _losetup("--find", "--show", str(path))


def release(path: Path) -> None:
    """Flush and free the loop device of ``path``, if it has one."""
    device = loop_of(path)
    if device:
        subprocess.run(["blockdev", "--flushbufs", device], capture_output=True)
        _losetup("-d", device)


def flush(path: Path) -> None:
    device = loop_of(path)
    if device:
        subprocess.run(["blockdev", "--flushbufs", device], capture_output=True)


def make_node(pid: int, device: str, loop: str) -> None:
    """Make ``device`` (``/dev/vdb``) in the instance whose main process is ``pid``, for ``loop``."""
    rdev = os.stat(loop).st_rdev
    node = _inside(pid, device)
    with contextlib.suppress(FileNotFoundError):
        node.unlink()  # whatever the guest put there (unlink never follows a symlink)
    os.mknod(node, stat.S_IFBLK | 0o660, rdev)


def remove_node(pid: int, device: str) -> None:
    with contextlib.suppress(FileNotFoundError, DriverError):
        _inside(pid, device).unlink()


def _inside(pid: int, device: str) -> Path:
    name = Path(device).name
    if not device.startswith("/dev/") or "/" in device[5:] or not name:
        raise DriverError(f"bad device name {device}")
    return Path(f"/proc/{pid}/root/dev") / name
