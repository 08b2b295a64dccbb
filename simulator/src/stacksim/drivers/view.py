"""What a compute driver may read of the cloud it serves (through the services' models).

Nova's compute agent asks Neutron for a port's details and security group
rules; a driver that makes networks and firewalls real asks this view. It
never changes the cloud's records; a driver may keep what its host holds as
records of kinds of its own (``host_store``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stacksim.cloud import Cloud
    from stacksim.store import Store

COMPUTE_OWNER = "compute:"


class CloudView:
    def __init__(self, cloud: Cloud) -> None:
        self._cloud = cloud

    @property
    def settings(self) -> Any:
        return self._cloud.settings

    @property
    def host_store(self) -> Store:
        """The cloud's store, for a driver's own kinds of record (durable as the cloud's state is)."""
        return self._cloud.store

    def _get(self, kind: str, id: str) -> dict[str, Any] | None:
        from stacksim import faults

        net = self._cloud.network
        try:
            return net.load(None, kind, id)
        except faults.NotFound:
            return None

    def network(self, network_id: str) -> dict[str, Any] | None:
        return self._get("network", network_id)

    def subnet(self, subnet_id: str) -> dict[str, Any] | None:
        return self._get("subnet", subnet_id)

    def subnets_of(self, network_id: str) -> list[dict[str, Any]]:
        found = (self.subnet(s) for s in self._cloud.network.subnet_ids(network_id))
        return [s for s in found if s is not None]

    def port(self, port_id: str) -> dict[str, Any] | None:
        return self._get("port", port_id)

    def instance_ports(self, instance_id: str) -> list[dict[str, Any]]:
        return self._cloud.network.ports(None, {"device_id": [instance_id]})

    def network_ports(self, network_id: str) -> list[dict[str, Any]]:
        """Every port on the network (instances', routers', unbound ones)."""
        return self._cloud.network.ports(None, {"network_id": [network_id]})

    def external_networks(self) -> list[dict[str, Any]]:
        return [n for n in self._cloud.network.networks(None) if n.get("router:external")]

    def rules(self, port: dict[str, Any]) -> list[dict[str, Any]]:
        """The rules of the port's security groups, each with ``prefixes``: the remote addresses (None: any).

        A rule with a remote group allows the fixed IPs of every port in that group.
        """
        net = self._cloud.network
        members: dict[str, list[str]] = {}
        out = []
        for group_id in port.get("security_groups") or []:
            for rule in net.rules_of(group_id):
                rule = dict(rule)
                remote = rule.get("remote_group_id")
                if remote:
                    if remote not in members:
                        members[remote] = self._members(remote)
                    rule["prefixes"] = members[remote]
                else:
                    prefix = rule.get("remote_ip_prefix")
                    rule["prefixes"] = None if prefix in (None, "0.0.0.0/0") else [prefix]
                out.append(rule)
        return out

    def _members(self, group_id: str) -> list[str]:
        return [
            ip["ip_address"]
            for p in self._cloud.network.ports(None)
            if group_id in (p.get("security_groups") or [])
            for ip in p["fixed_ips"]
        ]

    def floating_ips(self) -> list[tuple[str, str]]:
        """``(floating IP, fixed IP)`` of every associated floating IP of the cloud."""
        return [
            (f["floating_ip_address"], f["fixed_ip_address"])
            for f in self._cloud.network.floating_ips(None)
            if f.get("port_id") and f.get("fixed_ip_address")
        ]

    def routed_networks(self) -> list[list[tuple[str, str]]]:
        """For each router, the ``(network id, IPv4 CIDR)`` of the subnets it has interfaces on."""
        net = self._cloud.network
        out = []
        for router in net.routers(None):
            joined = []
            for port in net.router_interfaces(router["id"]):
                for fixed in port["fixed_ips"]:
                    subnet = self.subnet(fixed["subnet_id"])
                    if subnet and subnet["ip_version"] == 4:
                        joined.append((subnet["network_id"], subnet["cidr"]))
            if len(joined) > 1:
                out.append(joined)
        return out

    def server_states(self) -> dict[str, str]:
        """Every server's id and vm_state (for a restart's reconciliation)."""
        return self._cloud.compute.server_states()
