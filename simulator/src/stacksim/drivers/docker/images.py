"""Which Docker image an instance boots, from its Glance image.

- a property ``docker_image`` names an image already in the engine;
- an image whose data is a ``docker save`` tarball (``container_format:
  docker``, or any upload that is one) is loaded once, tagged
  ``stacksim-<hash>/glance:<image id>`` and reused while its checksum holds;
- anything else (the bootstrap cirros, qcow2 or raw uploads, boot from a
  volume) boots the base image.

The user the agent makes is the image's ``os_default_user``, else the one
its ``os_distro`` usually has, else ``cirros``.
"""

from __future__ import annotations

import json
import tarfile
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stacksim.drivers.base import DriverError
from stacksim.drivers.docker import baseimage, engine

PROGRAM_LABEL = "stacksim.program"
DISTRO_USERS = {
    "ubuntu": "ubuntu",
    "debian": "debian",
    "fedora": "fedora",
    "centos": "centos",
    "rocky": "rocky",
    "almalinux": "almalinux",
    "rhel": "cloud-user",
    "opensuse": "opensuse",
    "cirros": "cirros",
}


@dataclass
class Boot:
    reference: str  #: the Docker image
    program: list[str] = field(default_factory=list)  #: what the agent runs after the boot (none: it waits)
    default_user: str = "cirros"


def default_user(image: dict[str, Any] | None) -> str:
    props = (image or {}).get("properties") or {}
    if props.get("os_default_user"):
        return str(props["os_default_user"])
    return DISTRO_USERS.get(str(props.get("os_distro") or "").lower(), "cirros")


def is_docker_archive(path: Path) -> bool:
    """Is the file a ``docker save`` tarball (a tar with ``manifest.json``)?"""
    try:
        with tarfile.open(path) as tar:
            return any(m.name in ("manifest.json", "./manifest.json") for m in tar)
    except (tarfile.TarError, OSError):
        return False


class Images:
    def __init__(self, client: Any, scope: engine.Scope, index: Path) -> None:
        self.client = client
        self.scope = scope
        self.index = index  #: Glance image id -> (checksum, Docker image id) of what was loaded
        self._lock = threading.Lock()

    def resolve(self, image: dict[str, Any] | None, path: Path | None) -> Boot:
        user = default_user(image)
        props = (image or {}).get("properties") or {}
        if props.get("docker_image"):
            return self._program(self._get(str(props["docker_image"])), user)
        if image and path and path.exists() and (image.get("container_format") == "docker" or is_docker_archive(path)):
            return self._program(self._load(image, path), user)
        return Boot(baseimage.reference(), [], user)

    def _get(self, name: str) -> Any:
        try:
            return self.client.images.get(name)
        except engine.errors().ImageNotFound:
            raise DriverError(
                f"the Docker image {name} (the image's docker_image property) is not in the engine"
            ) from None

    def _program(self, docker_image: Any, user: str) -> Boot:
        config = docker_image.attrs.get("Config") or {}
        labels = config.get("Labels") or {}
        if engine.BASE_LABEL in labels:
            program: list[str] = []
        elif PROGRAM_LABEL in labels:
            program = json.loads(labels[PROGRAM_LABEL])
        else:
            program = [*(config.get("Entrypoint") or []), *(config.get("Cmd") or [])]
        return Boot(docker_image.id, program, labels.get("stacksim.default_user") or user)

    def _load(self, image: dict[str, Any], path: Path) -> Any:
        with self._lock:
            known = self._read_index().get(image["id"])
            if known and known[0] == image.get("checksum"):
                try:
                    return self.client.images.get(known[1])
                except engine.errors().ImageNotFound:
                    pass
            if not is_docker_archive(path):
                raise DriverError(f"image {image['id']} is container_format docker but not a docker save tarball")
            try:
                with path.open("rb") as data:
                    loaded = self.client.images.load(data)
            except engine.errors().APIError as exc:
                raise DriverError(f"Docker could not load image {image['id']}: {engine.explain(exc)}") from None
            if not loaded:
                raise DriverError(f"the tarball of image {image['id']} holds no image")
            docker_image = loaded[0]
            docker_image.tag(self.scope.image_repository(), image["id"])
            index = self._read_index()
            index[image["id"]] = [image.get("checksum"), docker_image.id]
            self.index.write_text(json.dumps(index))
            return docker_image

    def _read_index(self) -> dict[str, list[str]]:
        try:
            return json.loads(self.index.read_text())
        except (OSError, ValueError):
            return {}

    def commit(self, container: Any, program: list[str], user: str, dest: Path) -> None:
        """The container's file system as a new image, saved as a ``docker save`` tarball at ``dest``."""
        tag = f"snap-{uuid.uuid4().hex[:12]}"
        labels = {
            PROGRAM_LABEL: json.dumps(program),
            "stacksim.default_user": user,
            engine.STATE_LABEL: self.scope.state,
        }
        committed = container.commit(
            repository=self.scope.image_repository(),
            tag=tag,
            conf={"Labels": labels, "Entrypoint": ["/bin/sh"], "Cmd": []},
        )
        try:
            with dest.open("wb") as out:
                for chunk in committed.save(named=True):
                    out.write(chunk)
        except engine.errors().APIError as exc:
            raise DriverError(f"Docker could not save the snapshot: {engine.explain(exc)}") from None
