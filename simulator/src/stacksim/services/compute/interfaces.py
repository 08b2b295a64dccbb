"""A server's network interfaces: hot-plugging ports (``os-interface``) and fixed IPs
(``addFixedIp``/``removeFixedIp``, before microversion 2.44).

An attached interface is a Neutron port bound to the server; one Nova made
(from a network) is deleted when it is detached, one the user handed over is
unbound and left. The driver plugs and unplugs them while the instance is on
the host.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stacksim import faults
from stacksim.auth import Context
from stacksim.services.compute.clients import DEVICE_OWNER
from stacksim.services.compute.server_volumes import ON_HOST
from stacksim.services.compute.servers import check_state, check_unlocked

if TYPE_CHECKING:
    from stacksim.services.compute.model import Compute

#: The vm_states an interface may be attached in or detached from (Nova's).
PLUGGABLE = ("active", "paused", "stopped")


def port_not_found(port_id: str) -> faults.NotFound:
    return faults.NotFound(f"Port id {port_id} could not be found.")


class Interfaces:
    def __init__(self, compute: Compute) -> None:
        self.compute = compute
        self.servers = compute.servers
        self.neutron = compute.peers.network

    def list(self, ctx: Context, server_id: str) -> list[dict[str, Any]]:
        server = self.servers.owned(ctx, server_id, "os_compute_api:os-attach-interfaces:list")
        return self.servers.ports(server)

    def show(self, ctx: Context, server_id: str, port_id: str) -> dict[str, Any]:
        server = self.servers.owned(ctx, server_id, "os_compute_api:os-attach-interfaces:show")
        port = self.servers.ports(server)
        found = next((p for p in port if p["id"] == port_id), None)
        if found is None:
            raise faults.NotFound(f"Instance {server_id} does not have a port with id {port_id}")
        return found

    def attach(
        self,
        ctx: Context,
        server_id: str,
        network_id: str | None = None,
        port_id: str | None = None,
        fixed_ip: str | None = None,
    ) -> dict[str, Any]:
        """Hot-plug a port: ``port_id``, or a new one on ``network_id`` (the one usable network if
        neither is given); returns the port record."""
        server = self.servers.owned(ctx, server_id, "os_compute_api:os-attach-interfaces:create")
        if network_id and port_id:
            raise faults.BadRequest("Must not input both network_id and port_id")
        if fixed_ip and not network_id:
            raise faults.BadRequest("Must input network_id when request IP address")
        check_unlocked(ctx, server)
        check_state(server, "attach_interface", PLUGGABLE)
        net = self.neutron
        if port_id:
            try:
                port = net.port(ctx, port_id)
            except faults.NotFound:
                raise port_not_found(port_id) from None
            if port["device_id"]:
                raise faults.Conflict(f"Port {port_id} is still in use.")
            port = net.update_port(ctx, port_id, {"device_id": server["id"], "device_owner": DEVICE_OWNER})
            own = False
        else:
            network = self._network(ctx, network_id)
            attrs: dict[str, Any] = {
                "network_id": network["id"],
                "device_id": server["id"],
                "device_owner": DEVICE_OWNER,
                "project_id": server["project_id"],
            }
            if fixed_ip:
                attrs["fixed_ips"] = [{"ip_address": fixed_ip}]
            port = net.create_port(ctx, **attrs)
            own = True
        if server["vm_state"] in ON_HOST:
            port = net.bind_port(port["id"], server["id"])
            self.compute.driver.plug_port(server["id"], port)

        def plugged(current: dict[str, Any]) -> None:
            current["ports"].append(port["id"])
            if own:
                current["own_ports"].append(port["id"])

        self.servers.edit(server["id"], plugged)
        self.compute.history.record(ctx, server, "attach_interface", event="compute_attach_interface", done=True)
        return port

    def _network(self, ctx: Context, network_id: str | None) -> dict[str, Any]:
        if network_id:
            try:
                return self.neutron.network(ctx, network_id)
            except faults.NotFound:
                raise faults.NotFound(f"Network {network_id} could not be found.") from None
        usable = self.neutron.usable_networks(ctx)
        if len(usable) > 1:
            raise faults.BadRequest(
                "More than one possible network found. Specify network ID(s) to select which one(s) to connect to."
            )
        if not usable:
            raise faults.BadRequest(
                f"No specific network was requested and none are available for project '{ctx.project_id}'."
            )
        return usable[0]

    def detach(self, ctx: Context, server_id: str, port_id: str) -> None:
        server = self.servers.owned(ctx, server_id, "os_compute_api:os-attach-interfaces:delete")
        check_unlocked(ctx, server)
        check_state(server, "detach_interface", PLUGGABLE)
        if port_id not in server["ports"]:
            raise port_not_found(port_id)
        if server["vm_state"] in ON_HOST:
            self.compute.driver.unplug_port(server["id"], port_id)

        def unplugged(current: dict[str, Any]) -> None:
            current["ports"] = [p for p in current["ports"] if p != port_id]
            current["own_ports"] = [p for p in current["own_ports"] if p != port_id]

        self.servers.edit(server["id"], unplugged)
        if port_id in server["own_ports"]:
            self.neutron.delete_port(port_id)
        else:
            self.neutron.unbind_port(port_id)
        self.compute.history.record(ctx, server, "detach_interface", event="compute_detach_interface", done=True)

    # -- fixed IPs (os-multinic) --------------------------------------------------------------------

    def add_fixed_ip(self, ctx: Context, server_id: str, network_id: str) -> None:
        """Give the server's port on ``network_id`` one more address (from the first subnet with room)."""
        server = self.servers.owned(ctx, server_id, "os_compute_api:os-multinic:add")
        check_unlocked(ctx, server)
        for port in self.servers.ports(server):
            if port["network_id"] != network_id:
                continue
            for subnet_id in self.neutron.subnet_ids(network_id):
                wanted = [{"subnet_id": ip["subnet_id"], "ip_address": ip["ip_address"]} for ip in port["fixed_ips"]]
                try:
                    self.neutron.update_port(None, port["id"], {"fixed_ips": [*wanted, {"subnet_id": subnet_id}]})
                except faults.ApiError:
                    continue
                return
        raise faults.NotFound(f"Network could not be found for instance {server['id']}.")

    def remove_fixed_ip(self, ctx: Context, server_id: str, address: str) -> None:
        server = self.servers.owned(ctx, server_id, "os_compute_api:os-multinic:remove")
        check_unlocked(ctx, server)
        for port in self.servers.ports(server):
            kept = [ip for ip in port["fixed_ips"] if ip["ip_address"] != address]
            if len(kept) != len(port["fixed_ips"]):
                wanted = [{"subnet_id": ip["subnet_id"], "ip_address": ip["ip_address"]} for ip in kept]
                self.neutron.update_port(None, port["id"], {"fixed_ips": wanted})
                return
        raise faults.BadRequest(f"Instance {server['id']} does not have fixed IP '{address}'.")
