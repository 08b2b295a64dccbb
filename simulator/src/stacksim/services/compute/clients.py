"""What Nova asks of Neutron, Glance, Cinder and Keystone, through their models' interfaces only.

Nova has a client for each service it uses (``nova.network.neutron``,
``nova.image.glance``, ``nova.volume.cinder``); these are stacksim's, so the
rest of Compute never reaches into another service's records or parts. A
call made ``for the cloud`` (``who`` None) has admin rights, as Nova's own
service user does; one made with the caller's Context keeps the caller's.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stacksim import faults
from stacksim.auth import Context
from stacksim.services.image.images import KIND as IMAGE_KIND
from stacksim.services.network.ports import DevicePort

if TYPE_CHECKING:
    from stacksim.cloud import Cloud

HOST = "stacksim"
DEVICE_OWNER = "compute:nova"


def port_limit_exceeded(message: str = "Maximum number of ports exceeded") -> faults.Forbidden:
    """Nova's PortLimitExceeded (an OverQuota), which its API answers with 403."""
    return faults.Forbidden(message)


class _PortQuotaAsNovaSays:
    """Neutron's OverQuota as Nova answers it (PortLimitExceeded); every other error as it is. A
    plain context manager, not a generator's: every server create makes a port in one."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> bool:
        if isinstance(exc, faults.Conflict) and exc.kind == "OverQuota":
            raise port_limit_exceeded() from None
        return False


_port_quota_as_nova_says = _PortQuotaAsNovaSays()  # holds no state: one serves every call


class Neutron:
    def __init__(self, cloud: Cloud) -> None:
        self._cloud = cloud

    @functools.cached_property
    def _net(self) -> Any:  # looked up once: every create asks several times
        return self._cloud.network

    @property
    def hooks(self) -> Any:
        return self._net.hooks

    @hooks.setter
    def hooks(self, value: Any) -> None:
        self._net.hooks = value

    # -- reading ------------------------------------------------------------------------------

    def network(self, ctx: Context, network_id: str) -> dict[str, Any]:
        """NotFound if the caller cannot see it. Every create reads it: it comes from the store's
        cache (until a network is written), not to be changed."""
        return self._net.network(ctx, network_id, kept=True)

    def networks(self, ctx: Context | None, ids: Iterable[str] | None = None) -> list[dict[str, Any]]:
        where = None if ids is None else {"id": list(ids)}
        return self._net.networks(ctx, where)

    def subnet_ids(self, network_id: str) -> list[str]:
        return self._net.subnet_ids(network_id)

    def port(self, ctx: Context | None, port_id: str) -> dict[str, Any]:
        return self._net.port(ctx, port_id)

    def ports(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Ports by id (those that exist), whoever owns them."""
        ids = list(ids)
        if not ids:
            return {}
        return {p["id"]: p for p in self._net.ports(None, {"id": ids})}

    def floating_ips(self, port_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        """The floating IPs on these ports, by port id."""
        port_ids = list(port_ids)
        found: dict[str, list[dict[str, Any]]] = {}
        if port_ids:
            for fip in self._net.l3.floating_ips(None, {"port_id": port_ids}):
                found.setdefault(fip["port_id"], []).append(fip)
        return found

    def security_groups(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        ids = list(ids)
        if not ids:
            return {}
        return {g["id"]: g for g in self._net.security.groups(None, {"id": ids})}

    def security_group(self, ctx: Context, project_id: str, ref: str) -> dict[str, Any] | None:
        """A group of the project by id or name, as Nova resolves a server's ``security_groups``
        (the project's ``default`` is made on first use, as Neutron does)."""
        default = self._net.security.ensure_default(project_id)
        if ref == "default":  # a reserved name: no other group of the project has it
            return default
        with contextlib.suppress(faults.NotFound):
            group = self._net.security.group(ctx, ref)
            if group["project_id"] == project_id:
                return group
        named = [g for g in self._net.security.groups(ctx, {"name": [ref]}) if g["project_id"] == project_id]
        return named[0] if named else None

    def external_networks(self, ctx: Context) -> list[dict[str, Any]]:
        return [n for n in self._net.networks(ctx) if n.get("router:external")]

    def usable_networks(self, ctx: Context) -> list[dict[str, Any]]:
        """The networks Nova would pick from when none is named: the project's own (else the
        shared ones) that are active and not external."""
        candidates = [n for n in self._net.networks(ctx) if not n.get("router:external") and n["status"] == "ACTIVE"]
        return [n for n in candidates if n["project_id"] == ctx.project_id] or candidates

    # -- changing -------------------------------------------------------------------------------

    def port_quota(self, project_id: str) -> tuple[int, int] | None:
        """The project's port limit and the ports it has; None when unlimited."""
        return self._net.quota_usage(project_id, "port")

    def create_port(self, ctx: Context, **attrs: Any) -> dict[str, Any]:
        """Nova's ``_create_port_minimal``: Neutron's OverQuota becomes PortLimitExceeded, a 403 of
        the create or interface attach that asked for the port."""
        with _port_quota_as_nova_says:
            return self._net.create_port(ctx, **attrs)

    def reads_mark(self) -> int:
        """Take before reading a server's network and security groups: see :class:`DevicePort`."""
        return self._net.store.writes(DevicePort.READS)

    def create_server_port(self, ctx: Context, port: DevicePort) -> dict[str, Any]:
        """The port Nova makes for a server, from the network and groups it read for the create
        (OverQuota as :meth:`create_port` answers it)."""
        with _port_quota_as_nova_says:
            return self._net.create_device_port(ctx, port)

    def update_port(self, ctx: Context | None, port_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        return self._net.update_port(ctx, port_id, changes)

    def delete_port(self, port_id: str) -> None:
        with contextlib.suppress(faults.NotFound):  # deleted through Neutron already
            self._net.delete_port(None, port_id)

    def bind_port(self, port_id: str, server_id: str, made: dict[str, Any] | None = None) -> dict[str, Any]:
        """``made``: the port as :meth:`create_server_port` made it, in the transaction this runs in
        (not read again, unless it was written since; not changed)."""
        return self._net.bind_port(None, port_id, HOST, device_id=server_id, device_owner=DEVICE_OWNER, made=made)

    def unbind_port(self, port_id: str, clear_device: bool = True) -> None:
        with contextlib.suppress(faults.NotFound):
            self._net.unbind_port(None, port_id, clear_device=clear_device)


class Glance:
    def __init__(self, cloud: Cloud) -> None:
        self._cloud = cloud
        #: each image's data file (the same path as long as the process runs): every build asks
        self._paths: dict[str, Path] = {}

    @functools.cached_property
    def _images(self) -> Any:
        return self._cloud.image

    def get(self, ctx: Context, image_id: str) -> dict[str, Any]:
        """NotFound if the caller cannot see it."""
        return self._images.get(ctx, image_id)

    def kept(self, ctx: Context, image_id: str) -> dict[str, Any]:
        """:meth:`get` from :meth:`record`'s cache (every create reads its image): whether the caller
        may see it is decided on each call, as :meth:`get` does; the record is not to be changed."""
        image = self.record(image_id)
        if image is None or not self._images.visible(ctx, image):
            raise faults.NotFound(f"No image found with ID {image_id}")
        return image

    def record(self, image_id: str) -> dict[str, Any] | None:
        """The image whoever owns it (a server's own image, which may have become private): read by
        every build, kept until an image is written (or a transaction rolls back); not to be changed."""
        return self._cloud.store.cached((IMAGE_KIND,), ("record", image_id), lambda: self._images.record(image_id))

    def path(self, image_id: str) -> Path:
        path = self._paths.get(image_id)
        if path is None:
            path = self._paths[image_id] = self._images.path(image_id)
        return path

    def listed(self, ctx: Context) -> list[dict[str, Any]]:
        """What ``GET /v2/images`` lists to the caller, oldest first."""
        return self._images.listable(ctx, None, "accepted")

    def create(self, ctx: Context, **attrs: Any) -> dict[str, Any]:
        return self._images.create(ctx, **attrs)

    def import_file(self, image_id: str, path: Path) -> dict[str, Any]:
        return self._images.import_file(image_id, path)

    def discard(self, image_id: str) -> None:
        """Drop an image whose making failed, or that Nova made and no longer needs."""
        self._images.delete_failed(image_id)

    def delete(self, ctx: Context, image_id: str) -> None:
        self._images.delete(ctx, image_id)

    def set_properties(self, ctx: Context, image_id: str, values: dict[str, str], replace: bool) -> dict[str, Any]:
        """Set custom properties (all of them, with ``replace``), as the caller."""
        image = self.get(ctx, image_id)
        changes: list[tuple[str, str, Any]] = []
        if replace:
            changes += [("remove", key, None) for key in image["properties"] if key not in values]
        changes += [("add", key, value) for key, value in values.items()]
        return self._images.update(ctx, image_id, changes)

    def remove_property(self, ctx: Context, image_id: str, key: str) -> dict[str, Any]:
        return self._images.update(ctx, image_id, [("remove", key, None)])


class Cinder:
    def __init__(self, cloud: Cloud) -> None:
        self._cloud = cloud

    @property
    def _volumes(self) -> Any:
        return self._cloud.volume

    def get(self, ctx: Context, volume_id: str) -> dict[str, Any]:
        return self._volumes.get(ctx, volume_id)

    def snapshot(self, ctx: Context, snapshot_id: str) -> dict[str, Any]:
        return self._volumes.snapshot(ctx, snapshot_id)

    def attach(self, ctx: Context, volume_id: str, server_id: str, device: str) -> dict[str, Any]:
        return self._volumes.attach(ctx, volume_id, server_id, device, host_name=HOST)

    def detach(self, ctx: Context, volume_id: str, server_id: str) -> None:
        self._volumes.detach(ctx, volume_id, server_id)

    def attachments(self, server_id: str) -> list[dict[str, Any]]:
        return self._volumes.attachments_of_server(server_id)

    def attachments_of(self, server_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        return self._volumes.attachments_of_servers(server_ids)

    def path(self, volume_id: str) -> Path:
        return self._volumes.path(volume_id)

    def create(self, ctx: Context, **attrs: Any) -> dict[str, Any]:
        return self._volumes.create(ctx, **attrs)

    def wait(self, volume_id: str, timeout: float) -> dict[str, Any]:
        return self._volumes.wait(volume_id, timeout=timeout)

    def delete(self, ctx: Context, volume_id: str) -> None:
        self._volumes.delete(ctx, volume_id)


class Keystone:
    def __init__(self, cloud: Cloud) -> None:
        self._cloud = cloud

    def check_project(self, project_id: str) -> None:
        """Nova asks Keystone whether a project named in a URL or body exists: 400 if not."""
        try:
            self._cloud.identity.project(project_id)
        except faults.NotFound:
            raise faults.BadRequest(f"Project ID {project_id} is not a valid project.") from None


class Peers:
    """The clients, as ``compute.peers.network``, ``.image``, ``.volume`` and ``.identity``."""

    def __init__(self, cloud: Cloud) -> None:
        self.network = Neutron(cloud)
        self.image = Glance(cloud)
        self.volume = Cinder(cloud)
        self.identity = Keystone(cloud)
