"""The default base image, built on this host without any container registry.

``stacksim images build`` runs ``debootstrap`` (a minimal Debian with
``openssh-server``, ``python3``, ``sudo`` and ``curl``), trims it, and imports
the tree into the engine as ``stacksim/base:<recipe>``, where ``<recipe>`` is
a hash of everything that goes into it: a changed recipe builds anew, an
unchanged one is found in the engine and reused (seconds). The boot agent is
not baked in: the driver mounts it into every instance, so changing it never
needs a rebuild.

Users are made at boot by the agent (the image's ``os_default_user``, else
``cirros``), so one image serves every user name.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stacksim.drivers.docker import engine

REPOSITORY = "stacksim/base"
SUITE = "bookworm"
PACKAGES = ("openssh-server", "python3", "sudo", "curl", "ca-certificates", "iproute2", "procps")
DEFAULT_MIRROR = "http://deb.debian.org/debian"
#: Run in the new tree: what every instance needs before its first boot.
SETUP = r"""
set -e
rm -f /etc/ssh/ssh_host_*
mkdir -p /run/sshd /etc/ssh/sshd_config.d
printf '%s\n' 'PasswordAuthentication no' 'KbdInteractiveAuthentication no' 'UseDNS no' \
  'PermitRootLogin prohibit-password' > /etc/ssh/sshd_config.d/stacksim.conf
printf '%s\n' '%sudo ALL=(ALL:ALL) NOPASSWD:ALL' > /etc/sudoers.d/stacksim-nopasswd
chmod 0440 /etc/sudoers.d/stacksim-nopasswd
apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/*.log /var/log/apt/* \
  /usr/share/doc/* /usr/share/man/* /usr/share/info/* /usr/share/locale/* /tmp/* /var/tmp/*
"""
#: Bump when the build changes in a way the hash above does not see.
RECIPE_VERSION = "1"


def recipe() -> str:
    text = "\n".join([RECIPE_VERSION, SUITE, *PACKAGES, SETUP])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def reference() -> str:
    """The tag of the base image this version of stacksim boots."""
    return f"{REPOSITORY}:{recipe()}"


def debian_mirror() -> str:
    """The Debian mirror apt uses here (the first ``deb.../debian`` URI in its sources)."""
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for source in sources:
        try:
            text = source.read_text()
        except OSError:
            continue
        for match in re.finditer(r"(?:^deb\s+(?:\[[^]]*\]\s+)?|^URIs:\s*)(\S+)", text, re.MULTILINE):
            uri = match.group(1)
            if uri.rstrip("/").endswith("/debian"):
                return uri
    return DEFAULT_MIRROR


@dataclass
class Built:
    reference: str
    cached: bool
    seconds: float
    size: int


def find(client: Any) -> Any | None:
    try:
        return client.images.get(reference())
    except engine.errors().ImageNotFound:
        return None


def ensure(client: Any, mirror: str | None = None, log: Any = print, force: bool = False) -> Built:
    """The base image: found in the engine, or built now (needs root, debootstrap and the mirror)."""
    started = time.monotonic()
    found = find(client)
    if found is not None and not force:
        return Built(reference(), True, time.monotonic() - started, found.attrs.get("Size", 0))
    if not engine.is_root():
        raise engine.DriverError(
            "building the base image needs root (debootstrap); run `stacksim images build` as root"
        )
    if shutil.which("debootstrap") is None:
        raise engine.DriverError("building the base image needs debootstrap: apt-get install debootstrap")
    mirror = mirror or debian_mirror()
    with tempfile.TemporaryDirectory(prefix="stacksim-base-", dir="/var/tmp") as tmp:
        root = Path(tmp) / "root"
        log(f"debootstrap {SUITE} from {mirror} with {', '.join(PACKAGES)} ...")
        _run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(PACKAGES)}",
                SUITE,
                str(root),
                mirror,
            ]
        )
        _run(["chroot", str(root), "/bin/sh", "-c", SETUP])
        archive = Path(tmp) / "root.tar"
        log("importing into the Docker engine ...")
        _run(["tar", "--numeric-owner", "--xattrs", "-C", str(root), "-cf", str(archive), "."])
        repository, tag = reference().split(":")
        client.api.import_image_from_file(
            str(archive),
            repository=repository,
            tag=tag,
            changes=[
                f"LABEL {engine.BASE_LABEL}={recipe()}",
                'ENV PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"',
                'CMD ["/bin/bash"]',
            ],
        )
    image = client.images.get(reference())
    image.tag(REPOSITORY, "latest")
    if found is not None and found.id != image.id:  # a forced rebuild: the old one is left untagged
        with contextlib.suppress(engine.errors().APIError):
            client.images.remove(found.id)
    return Built(reference(), False, time.monotonic() - started, image.attrs.get("Size", 0))


def listing(client: Any) -> list[dict[str, Any]]:
    """Every stacksim image in the engine: base images and Glance images of any state dir."""
    rows = []
    for image in client.images.list():
        tags = [t for t in image.tags if t.startswith(("stacksim/", "stacksim-"))]
        if not tags:
            continue
        labels = image.labels or {}
        if any(t.startswith(REPOSITORY) for t in tags):
            role = "base (current)" if reference() in tags else "base (old recipe)"
        else:
            role = f"glance image of {labels.get(engine.STATE_LABEL, 'a state dir')}"
        rows.append({"tags": sorted(tags), "id": image.short_id, "size": image.attrs.get("Size", 0), "role": role})
    return rows


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise engine.DriverError(f"{cmd[0]} failed ({proc.returncode}):\n{tail}")
