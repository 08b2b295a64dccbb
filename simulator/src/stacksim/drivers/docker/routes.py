"""An instance's routes, from its config drive's ``network_data.json``, as cloud-init sets them.

Docker gives a container one default route, via the host's side of its first
network. A Neutron instance routes by its subnets instead: a default route via
each subnet's gateway and the subnet's host routes, which Nova writes into
``network_data.json`` (see :mod:`.configdrive`). A container may not change its
own routes (Docker gives it no ``CAP_NET_ADMIN``), so the driver sets them from
the host, in the instance's network namespace, at every start and before the
boot agent goes on, as cloud-init would at boot.

Routes the guest could not have set are left out and named on the console:
one via the instance's own address (a router host that is its network's
gateway), one to a network the instance is on (its connected route stays), one
whose next hop is on none of the instance's networks. Default routes via the
gateways of several networks are kept in the order of the ports, with metrics
0, 1, ... (the first port's gateway wins, as with one interface per subnet).
"""

from __future__ import annotations

import ipaddress
import subprocess
from dataclasses import dataclass
from typing import Any

from stacksim.drivers.base import DriverError


@dataclass(frozen=True)
class Route:
    destination: str  #: a CIDR, ``0.0.0.0/0`` for the default route
    gateway: str
    metric: int = 0

    def __str__(self) -> str:
        where = "default" if self.destination == "0.0.0.0/0" else self.destination
        return f"{where} via {self.gateway}" + (f" metric {self.metric}" if self.metric else "")


def plan(network_data: dict[str, Any]) -> tuple[list[Route], list[str]]:
    """The IPv4 routes to set, and a note for each one left out."""
    networks = [n for n in network_data.get("networks") or [] if n.get("type") == "ipv4"]
    own = {n["ip_address"] for n in networks}
    connected = [ipaddress.ip_interface(f"{n['ip_address']}/{n['netmask']}").network for n in networks]
    routes: list[Route] = []
    notes: list[str] = []
    seen: set[ipaddress.IPv4Network] = set()
    defaults = 0
    for network in networks:
        for route in network.get("routes") or []:
            destination = ipaddress.ip_network(f"{route['network']}/{route['netmask']}", strict=False)
            gateway = route["gateway"]
            what = f"route {destination} via {gateway} left out"
            if destination in seen and destination.prefixlen:
                continue  # an earlier network's route to the same place wins
            if gateway in own:
                notes.append(f"{what}: the gateway is this instance's own address")
            elif destination in connected:
                notes.append(f"{what}: the instance is on that network")
            elif not any(ipaddress.ip_address(gateway) in net for net in connected):
                notes.append(f"{what}: the gateway is on none of the instance's networks")
            else:
                seen.add(destination)
                metric = defaults if destination.prefixlen == 0 else 0
                defaults += destination.prefixlen == 0
                routes.append(Route(str(destination), gateway, metric))
    return routes, notes


def apply(pid: int, routes: list[Route]) -> None:
    """Replace the routes Docker set in the network namespace of process ``pid`` with ``routes``."""
    batch = ["route flush exact 0.0.0.0/0"]
    batch += [f"route replace {r.destination} via {r.gateway} metric {r.metric}" for r in routes]
    proc = subprocess.run(
        ["nsenter", f"--target={pid}", "--net", "ip", "-force", "-batch", "-"],
        input="\n".join(batch) + "\n",
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise DriverError(f"could not set the instance's routes: {(proc.stderr or proc.stdout).strip()}")
