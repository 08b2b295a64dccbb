"""The config drive: ``openstack/latest`` as Nova writes it, for a real cloud-init in the image.

The driver mounts it read-only at ``/mnt/config`` and at cloud-init's seed
folder ``/var/lib/cloud/seed/config_drive``, so an image with cloud-init finds
it without a metadata service. Every instance gets one (this cloud has no
metadata service to fall back on).
"""

from __future__ import annotations

import ipaddress
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stacksim.drivers.base import Instance

MOUNTS = ("/mnt/config", "/var/lib/cloud/seed/config_drive")
NETWORK_DATA = "openstack/latest/network_data.json"


def read_network_data(folder: Path) -> dict[str, Any]:
    """The ``network_data.json`` of the drive under ``folder`` (written by the host: the guest sees it read-only)."""
    try:
        return json.loads((folder / NETWORK_DATA).read_text())
    except (OSError, ValueError):
        return {}


def meta_data(instance: Instance, default_user: str) -> dict[str, Any]:
    keys = []
    if instance.public_key:
        keys.append({"name": "default", "type": "ssh", "data": instance.public_key})
    return {
        "uuid": instance.id,
        "name": instance.name,
        "hostname": instance.hostname,
        "availability_zone": "nova",
        "launch_index": 0,
        "meta": dict(instance.metadata),
        "public_keys": {k["name"]: k["data"] for k in keys},
        "keys": keys,
        "devices": [],
        "default_user": default_user,
    }


def network_data(instance: Instance, subnet: Callable[[str], dict[str, Any] | None]) -> dict[str, Any]:
    links, networks, dns = [], [], []
    for index, port in enumerate(instance.ports):
        link = f"tap{port['id'][:11]}"
        links.append(
            {
                "id": link,
                "vif_id": port["id"],
                "type": "ovs",
                "mtu": 1500,
                "ethernet_mac_address": port.get("mac_address"),
            }
        )
        for number, fixed in enumerate(port.get("fixed_ips") or []):
            sub = subnet(fixed["subnet_id"]) or {}
            cidr = sub.get("cidr")
            if not cidr:
                continue
            net = ipaddress.ip_network(cidr)
            routes = []
            if sub.get("gateway_ip"):
                any_net = "0.0.0.0" if net.version == 4 else "::"
                routes.append(
                    {
                        "network": any_net,
                        "netmask": "0.0.0.0" if net.version == 4 else "::",
                        "gateway": sub["gateway_ip"],
                    }
                )
            for host_route in sub.get("host_routes") or []:
                destination = ipaddress.ip_network(host_route["destination"], strict=False)
                routes.append(
                    {
                        "network": str(destination.network_address),
                        "netmask": str(destination.netmask),
                        "gateway": host_route["nexthop"],
                    }
                )
            networks.append(
                {
                    "id": f"network{index}-{number}" if number else f"network{index}",
                    "type": "ipv4" if net.version == 4 else "ipv6",
                    "link": link,
                    "ip_address": fixed["ip_address"],
                    "netmask": str(net.netmask),
                    "routes": routes,
                    "network_id": port["network_id"],
                    "services": [{"type": "dns", "address": a} for a in sub.get("dns_nameservers") or []],
                }
            )
            dns += [a for a in sub.get("dns_nameservers") or [] if a not in dns]
    return {"links": links, "networks": networks, "services": [{"type": "dns", "address": a} for a in dns]}


def write(folder: Path, instance: Instance, default_user: str, subnet: Callable[[str], dict[str, Any] | None]) -> None:
    """(Re)write the drive's files under ``folder``."""
    shutil.rmtree(folder, ignore_errors=True)
    latest = folder / "openstack" / "latest"
    latest.mkdir(parents=True)
    (latest / "meta_data.json").write_text(json.dumps(meta_data(instance, default_user), indent=1))
    (folder / NETWORK_DATA).write_text(json.dumps(network_data(instance, subnet), indent=1))
    (latest / "vendor_data.json").write_text("{}")
    if instance.user_data is not None:
        (latest / "user_data").write_text(instance.user_data)
