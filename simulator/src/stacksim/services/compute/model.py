"""Nova's model: the one interface to Compute, for its routes, Heat and the other services.

:class:`Compute` (``cloud.compute``) takes typed requests (the dataclasses
below) and ids, never wire-format bodies, and holds every rule: validation,
Nova's default policy (:mod:`.policy`), quotas and allocation. Each method
takes the caller's :class:`~stacksim.auth.Context` first; a server of another
project is a 404 for a non-admin, a rule the caller's roles do not meet a 403.

The parts behind it, one concern each: :mod:`.servers` (records, reading,
listing, lock, delete), :mod:`.server_meta` (metadata and tags), :mod:`.build` (create and boot),
:mod:`.actions` (one registered step per server action), :mod:`.server_volumes`,
:mod:`.interfaces`, :mod:`.history` (instance actions), :mod:`.consoles`,
:mod:`.flavors`, :mod:`.keypairs`, :mod:`.quotas`, :mod:`.server_groups`,
:mod:`.hosts`, :mod:`.aggregates`, :mod:`.usage` and :mod:`.proxies` (images, floating IP pools). The route modules call
the parts for what only the API does and this class for the rest.

Errors are :mod:`stacksim.faults` exceptions with Nova's messages: 400 for a
bad request (a missing flavor, image or network is a 400 on create), 403
over quota or policy, 404 for what the caller cannot see, 409 for a server in
a state the operation does not allow.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from stacksim.auth import Context
from stacksim.drivers.base import DriverEvents, make_driver
from stacksim.drivers.view import CloudView
from stacksim.services.compute.actions import Actions
from stacksim.services.compute.aggregates import Aggregates
from stacksim.services.compute.build import Builder
from stacksim.services.compute.clients import Peers
from stacksim.services.compute.consoles import Consoles
from stacksim.services.compute.flavors import Flavors
from stacksim.services.compute.history import History
from stacksim.services.compute.hosts import Hosts
from stacksim.services.compute.inputs import (
    KEEP,
    BlockDevice,
    FlavorRequest,
    KeypairRequest,
    NetworkRequest,
    Rebuild,
    ServerChanges,
    ServerQuery,
    ServerRequest,
)
from stacksim.services.compute.interfaces import Interfaces
from stacksim.services.compute.keypairs import Keypairs
from stacksim.services.compute.listed import ListedViews
from stacksim.services.compute.proxies import Proxies
from stacksim.services.compute.quotas import Quotas
from stacksim.services.compute.server_groups import ServerGroups
from stacksim.services.compute.server_meta import ServerMeta
from stacksim.services.compute.server_volumes import ServerVolumes
from stacksim.services.compute.servers import Related, Servers
from stacksim.services.compute.usage import Usage

if TYPE_CHECKING:
    from stacksim.cloud import Cloud

__all__ = [
    "KEEP",
    "BlockDevice",
    "Compute",
    "FlavorRequest",
    "KeypairRequest",
    "NetworkRequest",
    "Rebuild",
    "ServerChanges",
    "ServerQuery",
    "ServerRequest",
]


# -- the facade ----------------------------------------------------------------------------------


class Compute:
    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud
        self.store = store = cloud.store
        settings = cloud.settings
        self.peers = Peers(cloud)
        self.quotas = Quotas(store, self.peers.identity.check_project)
        self.flavors = Flavors(store, self.peers.identity.check_project)
        self.keypairs = Keypairs(store, self.quotas)
        self.server_groups = ServerGroups(store, self.quotas)
        self.hosts = Hosts(store, driver=settings.compute_driver, host_ip=settings.host, data_dir=cloud.data_dir)
        self.aggregates = Aggregates(store, self.hosts)
        self.driver = make_driver(
            settings.compute_driver,
            cloud.data_dir,
            DriverEvents(powered_off=self._powered_off, lost=self._lost),
        )
        self.driver.bind(CloudView(cloud))
        self.peers.network.hooks = self.driver
        self.history = History(self)
        self.servers = Servers(self)
        self.listed_views = ListedViews(store)
        self.meta = ServerMeta(self)
        self.builder = Builder(self)
        self.actions = Actions(self)
        self.volumes = ServerVolumes(self)
        self.interfaces = Interfaces(self)
        self.consoles = Consoles(self)
        self.usage = Usage(self)
        self.proxies = Proxies(self)

    def _powered_off(self, server_id: str) -> None:
        self.actions.powered_off(server_id)

    def _lost(self, server_id: str, reason: str) -> None:
        self.actions.lost(server_id, reason)

    # -- servers ----------------------------------------------------------------------------------

    def create_servers(self, ctx: Context, req: ServerRequest) -> list[dict[str, Any]]:
        """Record ``max_count`` servers (``min_count`` at least, as quota allows) and build them.

        Returns the server records. Raises 400 for what the request names and
        cannot be used (flavor, image, key pair, network, port, volume),
        403 over quota or for a reader, 409 for a port in use or a network
        that is ambiguous. Nothing is left of a create that fails.
        """
        return self.builder.create(ctx, req)[0]

    def launch_servers(self, ctx: Context, req: ServerRequest) -> tuple[list[dict[str, Any]], Related]:
        """:meth:`create_servers`, with what the servers' views need from Neutron as the create
        made it (their ports and security groups), so a reply need not read it again."""
        return self.builder.create(ctx, req)

    def create_server(self, ctx: Context, req: ServerRequest) -> dict[str, Any]:
        """:meth:`create_servers` for one server (``min_count`` and ``max_count`` are ignored)."""
        (server,), _ = self.builder.create(ctx, dataclasses.replace(req, min_count=1, max_count=1))
        return server

    def server(self, ctx: Context, server_id: str) -> dict[str, Any]:
        """The server record (``os_compute_api:servers:show``); 404 if the caller cannot see it."""
        return self.servers.show(ctx, server_id)

    def list_servers(self, ctx: Context, query: ServerQuery) -> tuple[list[dict[str, Any]], bool]:
        """The servers ``query`` selects, and whether more follow the page."""
        return self.servers.select(ctx, query)

    def update_server(self, ctx: Context, server_id: str, changes: ServerChanges) -> dict[str, Any]:
        return self.servers.update(ctx, server_id, changes)

    def delete_server(self, ctx: Context, server_id: str, force: bool = False) -> None:
        """Delete the server (its ports Nova made, its ``delete_on_termination`` volumes)."""
        self.servers.delete(ctx, server_id, force=force)

    def start(self, ctx: Context, server_id: str) -> dict[str, Any]:
        return self.actions.run(ctx, server_id, "start")

    def stop(self, ctx: Context, server_id: str) -> dict[str, Any]:
        return self.actions.run(ctx, server_id, "stop")

    def reboot(self, ctx: Context, server_id: str, hard: bool = False) -> dict[str, Any]:
        return self.actions.run(ctx, server_id, "reboot_hard" if hard else "reboot")

    def pause(self, ctx: Context, server_id: str) -> dict[str, Any]:
        return self.actions.run(ctx, server_id, "pause")

    def unpause(self, ctx: Context, server_id: str) -> dict[str, Any]:
        return self.actions.run(ctx, server_id, "unpause")

    def suspend(self, ctx: Context, server_id: str) -> dict[str, Any]:
        return self.actions.run(ctx, server_id, "suspend")

    def resume(self, ctx: Context, server_id: str) -> dict[str, Any]:
        return self.actions.run(ctx, server_id, "resume")

    def resize(self, ctx: Context, server_id: str, flavor_id: str) -> dict[str, Any]:
        """Resize to another flavor: ``VERIFY_RESIZE`` until confirmed or reverted."""
        return self.actions.run(ctx, server_id, "resize", flavor_id=flavor_id)

    def confirm_resize(self, ctx: Context, server_id: str) -> dict[str, Any]:
        return self.actions.run(ctx, server_id, "confirm_resize")

    def revert_resize(self, ctx: Context, server_id: str) -> dict[str, Any]:
        return self.actions.run(ctx, server_id, "revert_resize")

    def rebuild(self, ctx: Context, server_id: str, req: Rebuild) -> dict[str, Any]:
        return self.actions.run(ctx, server_id, "rebuild", rebuild=req)

    def rescue(self, ctx: Context, server_id: str, image_id: str | None = None, admin_pass: str | None = None) -> str:
        """Boot the server from a rescue image (its own by default); returns the admin password."""
        return self.actions.rescue(ctx, server_id, image_id, admin_pass)

    def unrescue(self, ctx: Context, server_id: str) -> dict[str, Any]:
        return self.actions.run(ctx, server_id, "unrescue")

    def shelve(self, ctx: Context, server_id: str) -> dict[str, Any]:
        """Snapshot the server and free its host (``SHELVED_OFFLOADED``, as DevStack's
        ``shelved_offload_time = 0`` does at once)."""
        return self.actions.run(ctx, server_id, "shelve")

    def shelve_offload(self, ctx: Context, server_id: str) -> dict[str, Any]:
        return self.actions.run(ctx, server_id, "shelve_offload")

    def unshelve(
        self, ctx: Context, server_id: str, availability_zone: Any = KEEP, host: str | None = None
    ) -> dict[str, Any]:
        """Boot a shelved server again (``availability_zone``/``host``: only once offloaded)."""
        return self.actions.run(ctx, server_id, "unshelve", availability_zone=availability_zone, host=host)

    def create_image(self, ctx: Context, server_id: str, name: str, metadata: Mapping[str, str]) -> dict[str, Any]:
        """Snapshot the server into a new Glance image (returned; ``queued`` until written)."""
        return self.actions.create_image(ctx, server_id, name, dict(metadata))

    def lock(self, ctx: Context, server_id: str, reason: str | None = None) -> dict[str, Any]:
        return self.servers.lock(ctx, server_id, reason)

    def unlock(self, ctx: Context, server_id: str) -> dict[str, Any]:
        return self.servers.unlock(ctx, server_id)

    def set_security_group(self, ctx: Context, server_id: str, name: str, add: bool) -> None:
        """Add a security group (by name or id) to the server's ports, or remove it."""
        self.servers.set_security_group(ctx, server_id, name, add)

    def set_security_groups(self, ctx: Context, server_id: str, groups: tuple[str, ...]) -> None:
        """Make ``groups`` (names or ids) the server's security groups: add the missing, remove the rest."""
        self.servers.set_security_groups(ctx, server_id, groups)

    # -- what a server is connected to ---------------------------------------------------------

    def server_ports(self, ctx: Context, server_id: str) -> list[dict[str, Any]]:
        """The Neutron ports of the server, in the order they were attached."""
        return self.servers.ports(self.server(ctx, server_id))

    def addresses(self, ctx: Context, server_id: str) -> dict[str, list[dict[str, Any]]]:
        """The server's addresses by network name, as ``GET /servers/{id}/ips`` shows them,
        each with its ``port`` and (fixed ones) ``subnet_id`` too."""
        return self.servers.addresses(self.server(ctx, server_id), detailed=True)

    def attach_volume(
        self,
        ctx: Context,
        server_id: str,
        volume_id: str,
        device: str | None = None,
        delete_on_termination: bool = False,
    ) -> dict[str, Any]:
        """Attach a volume (blocking: the driver plugs it); returns Cinder's attachment record."""
        return self.volumes.attach(ctx, server_id, volume_id, device, delete_on_termination)

    def detach_volume(self, ctx: Context, server_id: str, volume_id: str) -> None:
        self.volumes.detach(ctx, server_id, volume_id)

    def attach_interface(
        self,
        ctx: Context,
        server_id: str,
        network_id: str | None = None,
        port_id: str | None = None,
        fixed_ip: str | None = None,
    ) -> dict[str, Any]:
        """Hot-plug a NIC: a new port on ``network_id`` (or the one usable network), or ``port_id``."""
        return self.interfaces.attach(ctx, server_id, network_id, port_id, fixed_ip)

    def detach_interface(self, ctx: Context, server_id: str, port_id: str) -> None:
        self.interfaces.detach(ctx, server_id, port_id)

    # -- key pairs, flavors, server groups -------------------------------------------------------

    def create_keypair(self, ctx: Context, req: KeypairRequest, allow_292: bool = True) -> tuple[dict, str | None]:
        """Import or generate a key pair; returns the record and the private key (generated only).

        ``allow_292``: names may hold ``@`` and ``.`` (Nova from microversion 2.92).
        """
        return self.keypairs.create(ctx, req, allow_292=allow_292)

    def keypair(self, ctx: Context, name: str, user_id: str | None = None) -> dict[str, Any]:
        return self.keypairs.get(ctx, name, user_id)

    def delete_keypair(self, ctx: Context, name: str, user_id: str | None = None) -> None:
        self.keypairs.delete(ctx, name, user_id)

    def flavor(self, ctx: Context, flavor_id: str) -> dict[str, Any]:
        return self.flavors.get(ctx, flavor_id)

    def find_flavor(self, ctx: Context, ref: str) -> dict[str, Any]:
        """A flavor by id or, failing that, by its unique name; NotFound otherwise."""
        return self.flavors.find(ctx, ref)

    def create_flavor(self, ctx: Context, req: FlavorRequest) -> dict[str, Any]:
        return self.flavors.create(ctx, req)

    def update_flavor(self, ctx: Context, flavor_id: str, description: str | None) -> dict[str, Any]:
        return self.flavors.update(ctx, flavor_id, description)

    def set_flavor_extra_specs(self, ctx: Context, flavor_id: str, specs: Mapping[str, str]) -> dict[str, str]:
        """Make ``specs`` all of the flavor's extra specs."""
        return self.flavors.replace_extra_specs(ctx, flavor_id, dict(specs))

    def set_flavor_access(self, ctx: Context, flavor_id: str, projects: tuple[str, ...]) -> list[dict[str, str]]:
        """Make ``projects`` all the projects a private flavor is for."""
        return self.flavors.replace_access(ctx, flavor_id, projects)

    def delete_flavor(self, ctx: Context, flavor_id: str) -> None:
        self.flavors.delete(ctx, flavor_id)

    def create_server_group(
        self, ctx: Context, name: str, policy: str, rules: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        return self.server_groups.create(ctx, name, policy, dict(rules or {}))

    def server_group(self, ctx: Context, group_id: str) -> dict[str, Any]:
        return self.server_groups.show(ctx, group_id)

    def delete_server_group(self, ctx: Context, group_id: str) -> None:
        self.server_groups.delete(ctx, group_id)

    # -- for the cloud itself --------------------------------------------------------------------------

    def server_states(self) -> dict[str, str]:
        """Every live server's id and vm_state (for a driver's reconciliation after a restart)."""
        return self.servers.states()

    def close(self) -> None:
        self.driver.close()
