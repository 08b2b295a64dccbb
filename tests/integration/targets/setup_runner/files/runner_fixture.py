# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Set up, inspect and tear down what the runner integration targets need, with openstacksdk.

One SDK connection per call instead of one openstack CLI start per question:

- ``state --prefix P --network N``: JSON of the servers, key pairs, security groups and
  images whose names start with P, and the compute ports left on network N;
- ``up --prefix P --network N --cidr C [--flavor NAME:KEY=VALUE ...]``: a network with a
  subnet, and flavors with an extra spec (made as admin with ``--admin-cloud``);
- ``boot --prefix P --network N --image I --flavor F [--property K=V ...]``: boot a server
  named P (as a user would by hand), wait until it is ACTIVE and print its ID;
- ``down --prefix P --network N [--flavor NAME ...]``: remove all of that again.
"""

from __future__ import annotations

import argparse
import json

import openstack


def state(conn, prefix: str, network: str) -> dict:
    mine = [s for s in conn.compute.servers() if s.name.startswith(prefix)]
    net = conn.network.find_network(network)
    ports = list(conn.network.ports(network_id=net.id)) if net else []
    return {
        "servers": [
            {"id": s.id, "name": s.name, "status": s.status, "metadata": s.metadata, "key_name": s.key_name}
            for s in mine
        ],
        "keypairs": sorted(k.name for k in conn.compute.keypairs() if k.name.startswith(prefix)),
        "security_groups": sorted(g.name for g in conn.network.security_groups() if g.name.startswith(prefix)),
        "images": [
            {"id": i.id, "name": i.name, "status": i.status}
            for i in conn.image.images()
            if (i.name or "").startswith(prefix)
        ],
        "compute_ports": sorted(p.id for p in ports if (p.device_owner or "").startswith("compute:")),
    }


def up(conn, admin, network: str, cidr: str, flavors: list[str]) -> None:
    net = conn.network.find_network(network) or conn.network.create_network(name=network)
    if not list(conn.network.subnets(network_id=net.id)):
        conn.network.create_subnet(network_id=net.id, name=f"{network}-subnet", cidr=cidr, ip_version=4)
    for spec in flavors:
        name, extra = spec.split(":", 1)
        key, value = extra.split("=", 1)
        flavor = admin.compute.find_flavor(name) or admin.compute.create_flavor(name=name, ram=64, vcpus=1, disk=1)
        admin.compute.create_flavor_extra_specs(flavor, {key: value})


def boot(conn, name: str, network: str, image: str, flavor: str, properties: list[str]) -> str:
    server = conn.compute.create_server(
        name=name,
        image_id=conn.image.find_image(image, ignore_missing=False).id,
        flavor_id=conn.compute.find_flavor(flavor, ignore_missing=False).id,
        networks=[{"uuid": conn.network.find_network(network, ignore_missing=False).id}],
        metadata=dict(p.split("=", 1) for p in properties),
    )
    return conn.compute.wait_for_server(server, interval=0.1, wait=60).id


def down(conn, admin, prefix: str, network: str, flavors: list[str]) -> None:
    for server in [s for s in conn.compute.servers() if s.name.startswith(prefix)]:
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, interval=0.1, wait=60)
    for key in [k for k in conn.compute.keypairs() if k.name.startswith(prefix)]:
        conn.compute.delete_keypair(key)
    for image in [i for i in conn.image.images() if (i.name or "").startswith(prefix)]:
        conn.image.delete_image(image)
    for group in [g for g in conn.network.security_groups() if g.name.startswith(prefix)]:
        conn.network.delete_security_group(group)
    net = conn.network.find_network(network)
    if net:
        conn.network.delete_network(net)
    for name in flavors:
        flavor = admin.compute.find_flavor(name.split(":", 1)[0])
        if flavor:
            admin.compute.delete_flavor(flavor)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["state", "up", "boot", "down"])
    parser.add_argument("--cloud", required=True)
    parser.add_argument("--admin-cloud")
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--network", required=True)
    parser.add_argument("--cidr", default="10.77.0.0/24")
    parser.add_argument("--flavor", action="append", default=[])
    parser.add_argument("--image")
    parser.add_argument("--property", action="append", default=[])
    args = parser.parse_args()
    conn = openstack.connect(cloud=args.cloud)
    admin = openstack.connect(cloud=args.admin_cloud) if args.admin_cloud else conn
    if args.action == "state":
        print(json.dumps(state(conn, args.prefix, args.network)))
    elif args.action == "boot":
        print(boot(conn, args.prefix, args.network, args.image, args.flavor[0], args.property))
    elif args.action == "up":
        up(conn, admin, args.network, args.cidr, args.flavor)
    else:
        down(conn, admin, args.prefix, args.network, args.flavor)


if __name__ == "__main__":
    main()
