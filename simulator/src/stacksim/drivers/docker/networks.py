"""Neutron networks as Docker bridge networks.

Each Neutron network an instance (or a floating IP) needs becomes one Docker
bridge network with the network's IPv4 subnets as its address pools. The
host's side of the bridge takes each subnet's gateway address, as a Neutron
router's interface would: the host plays the router, so instances reach it
(and the APIs it serves to them) at their gateway. When an instance's port
holds the gateway address (a router host of a sandbox, which routes for its
network) or the subnet has no gateway, the host takes the highest address no
port holds instead, so the instance keeps its gateway and the host still
reaches every fixed IP. That choice is made when the network is first needed;
a port that asks for the host's address later cannot be plugged (the boot
fails saying so). The bridge is named ``ss<hash>-<network id>`` so this
simulator's bridges share a prefix iptables can match.

Docker allows no two bridge networks with overlapping pools on one host, so
two Neutron networks with overlapping CIDRs (in this simulator or in another
one on the same host) cannot both have instances: the second boot fails with
a message naming the network that holds the range.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
import threading
from collections.abc import Callable
from typing import Any

from stacksim.drivers.base import DriverError
from stacksim.drivers.docker import engine


class Networks:
    def __init__(self, client: Any, scope: engine.Scope) -> None:
        self.client = client
        self.scope = scope
        self._lock = threading.Lock()

    def bridge_name(self, network_id: str) -> str:
        return f"{self.scope.prefix}-{network_id[:8]}"

    def find(self, network_id: str) -> Any | None:
        found = self.client.networks.list(filters=self.scope.filters(**{engine.NETWORK_LABEL: network_id}))
        return found[0] if found else None

    def ensure(self, network: dict[str, Any], subnets: list[dict[str, Any]], ports: list[dict[str, Any]]) -> Any:
        """The Docker network of a Neutron network (``ports``: those on it), made if it is not there yet."""
        with self._lock:
            existing = self.find(network["id"])
            if existing is not None:
                return existing
            v4 = [s for s in subnets if s.get("ip_version") == 4]
            if not v4:
                raise DriverError(f"network {network['id']} has no IPv4 subnet; the docker driver needs one")
            types = engine.types()
            pools = [types.IPAMPool(subnet=s["cidr"], gateway=host_side(s, ports)) for s in v4]
            name = self.bridge_name(network["id"])
            try:
                return self.client.networks.create(
                    name,
                    driver="bridge",
                    ipam=types.IPAMConfig(pool_configs=pools),
                    options={
                        "com.docker.network.bridge.name": name,
                        "com.docker.network.driver.mtu": str(network.get("mtu") or 1500),
                    },
                    labels=self.scope.labels(
                        **{engine.NETWORK_LABEL: network["id"], "stacksim.network.name": network.get("name") or ""}
                    ),
                    check_duplicate=True,
                )
            except engine.errors().APIError as exc:
                raise DriverError(self._why(network, v4, exc)) from None

    def _why(self, network: dict[str, Any], subnets: list[dict[str, Any]], exc: Exception) -> str:
        message = engine.explain(exc)
        if "overlap" not in message:
            return f"Docker could not make the network {network['id']}: {message}"
        wanted = [ipaddress.ip_network(s["cidr"]) for s in subnets]
        for other in self.client.networks.list():
            for pool in (other.attrs.get("IPAM") or {}).get("Config") or []:
                try:
                    held = ipaddress.ip_network(pool.get("Subnet", ""))
                except ValueError:
                    continue
                if any(held.version == w.version and held.overlaps(w) for w in wanted):
                    owner = (other.attrs.get("Labels") or {}).get(engine.STATE_LABEL)
                    whose = f"stacksim state dir {owner}" if owner else "something else on this host"
                    return (
                        f"the network {network['id']} ({', '.join(map(str, wanted))}) overlaps {held} of the "
                        f"Docker network {other.name} ({whose}); on one host the docker driver needs distinct CIDRs"
                    )
        return f"Docker could not make the network {network['id']}: {message}"

    @staticmethod
    def host_addresses(docker_network: Any) -> set[str]:
        """The addresses the host's side of a Docker network holds."""
        return {c["Gateway"] for c in (docker_network.attrs.get("IPAM") or {}).get("Config") or [] if c.get("Gateway")}

    def endpoint(self, ip: str) -> Any:
        return self.client.api.create_endpoint_config(ipv4_address=ip)

    def ours(self) -> list[Any]:
        return self.client.networks.list(filters=self.scope.filters())

    def remove_if_unused(self, network_ids: list[str]) -> None:
        """Remove the Docker networks of these Neutron networks if no container uses them."""
        with self._lock:
            for network_id in network_ids:
                net = self.find(network_id)
                if net is None:
                    continue
                net.reload()  # a listing does not show the containers
                if not net.attrs.get("Containers"):
                    try:
                        net.remove()
                    except engine.errors().APIError:
                        pass  # a container joined meanwhile, or it is already gone

    def remove_orphans(self, exists: Callable[[str], bool]) -> None:
        """Remove the Docker networks whose Neutron network is gone, once no container uses them:
        a network deleted while its last instance's container was still being removed stays
        behind otherwise."""
        for net in self.ours():
            network_id = (net.attrs.get("Labels") or {}).get(engine.NETWORK_LABEL)
            if network_id and not exists(network_id):
                self.remove_if_unused([network_id])


def host_side(subnet: dict[str, Any], ports: list[dict[str, Any]]) -> str:
    """The address the host's side of the bridge takes on an IPv4 subnet (see the module's docstring)."""
    held = {ip["ip_address"] for port in ports for ip in port.get("fixed_ips") or []}
    by_instance = {
        ip["ip_address"]
        for port in ports
        if not (port.get("device_owner") or "").startswith("network:")  # a router's interface is the host's
        for ip in port.get("fixed_ips") or []
    }
    gateway = subnet.get("gateway_ip")
    if gateway and gateway not in by_instance:
        return gateway
    net = ipaddress.ip_network(subnet["cidr"])
    candidate = net.broadcast_address - 1
    while candidate > net.network_address:  # the highest first: Neutron hands out the lowest first
        if str(candidate) not in held and str(candidate) != gateway:
            return str(candidate)
        candidate -= 1
    raise DriverError(f"subnet {subnet['id']} ({net}) has no address left for the host's side of its bridge")


def _links(pid: int) -> list[dict[str, Any]]:
    """``ip -j addr`` in the network namespace of process ``pid``."""
    shown = subprocess.run(["nsenter", f"--target={pid}", "--net", "ip", "-j", "addr"], capture_output=True, text=True)
    try:
        return json.loads(shown.stdout or "[]")
    except ValueError:
        return []


def interfaces(pid: int) -> dict[str, str]:
    """Each IPv4 address of the instance whose main process is ``pid``, and the interface it is on."""
    return {
        a["local"]: link["ifname"]
        for link in _links(pid)
        for a in link.get("addr_info", [])
        if a.get("family") == "inet" and link.get("ifname") != "lo"
    }


def set_macs(pid: int, ports: list[dict[str, Any]]) -> None:
    """Give each interface of the instance whose main process is ``pid`` its port's MAC.

    Docker sets the MAC of the first network only (API 1.41); the others are set
    here, by address, from the host (``ip`` in the instance's network namespace).
    """
    wanted = {
        ip["ip_address"]: port["mac_address"]
        for port in ports
        if port.get("mac_address")
        for ip in port.get("fixed_ips") or []
    }
    netns = ["nsenter", f"--target={pid}", "--net", "ip"]
    for link in _links(pid):
        mac = next((wanted[a["local"]] for a in link.get("addr_info", []) if a.get("local") in wanted), None)
        if mac and link.get("address") != mac:
            name = link["ifname"]
            for args in (["down"], ["address", mac], ["up"]):
                subprocess.run([*netns, "link", "set", "dev", name, *args], capture_output=True)
