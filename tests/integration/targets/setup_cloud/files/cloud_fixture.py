# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Set up, inspect and tear down what the integration targets need, with openstacksdk.

One SDK connection per call instead of one openstack CLI start (or one module run) per
step; each call does all its steps in one process:

- ``state --prefix P --network N``: JSON of the servers, key pairs, security groups and
  images whose names start with P, and the compute ports left on network N;
- ``up --network N --cidr C [--flavor NAME:KEY=VALUE ...]``: a network with a subnet, and
  flavors with an extra spec (made as admin with ``--admin-cloud``);
- ``boot --name S --image I --flavor F [--network N] [--property K=V ...] [--as-admin]``:
  boot a server (as a user would by hand; without ``--network``, with no network at all),
  wait until it is ACTIVE and print JSON with its ``id`` and ``image_id``;
- ``servers [--delete NAME_OR_ID ...] [--as-admin]``: delete servers (that are there) and
  wait until they are gone;
- ``console ID``: print a server's console log;
- ``image --name NAME --file F [--project P] [--property K=V ...]``: upload an image as
  admin (into project P) and print JSON with its ``id`` and ``owner`` (the project's ID);
- ``down --prefix P [--network N] [--flavor NAME ...]``: delete the servers, key pairs,
  images and security groups whose names start with P, the network and the flavors.
"""

from __future__ import annotations

import argparse
import json

import openstack

WAIT = 60


def state(conn, args) -> None:
    mine = [s for s in conn.compute.servers() if s.name.startswith(args.prefix)]
    net = conn.network.find_network(args.network)
    ports = list(conn.network.ports(network_id=net.id)) if net else []
    found = {
        "servers": [
            {"id": s.id, "name": s.name, "status": s.status, "metadata": s.metadata, "key_name": s.key_name}
            for s in mine
        ],
        "keypairs": sorted(k.name for k in conn.compute.keypairs() if k.name.startswith(args.prefix)),
        "security_groups": sorted(g.name for g in conn.network.security_groups() if g.name.startswith(args.prefix)),
        "images": [
            {"id": i.id, "name": i.name, "status": i.status}
            for i in conn.image.images()
            if (i.name or "").startswith(args.prefix)
        ],
        "compute_ports": sorted(p.id for p in ports if (p.device_owner or "").startswith("compute:")),
    }
    print(json.dumps(found))


def up(conn, args) -> None:
    net = conn.network.find_network(args.network) or conn.network.create_network(name=args.network)
    if not list(conn.network.subnets(network_id=net.id)):
        conn.network.create_subnet(network_id=net.id, name=f"{args.network}-subnet", cidr=args.cidr, ip_version=4)
    for spec in args.flavor:
        name, extra = spec.split(":", 1)
        key, value = extra.split("=", 1)
        flavor = args.admin.compute.find_flavor(name) or args.admin.compute.create_flavor(
            name=name, ram=64, vcpus=1, disk=1
        )
        args.admin.compute.create_flavor_extra_specs(flavor, {key: value})


def boot(conn, args) -> None:
    cloud = args.admin if args.as_admin else conn
    image = cloud.image.find_image(args.image, ignore_missing=False)
    networks = [{"uuid": cloud.network.find_network(args.network, ignore_missing=False).id}] if args.network else "none"
    server = cloud.compute.create_server(
        name=args.name,
        image_id=image.id,
        flavor_id=cloud.compute.find_flavor(args.flavor, ignore_missing=False).id,
        networks=networks,
        metadata=dict(p.split("=", 1) for p in args.property),
    )
    server = cloud.compute.wait_for_server(server, interval=0.1, wait=WAIT)
    print(json.dumps({"id": server.id, "image_id": image.id}))


def servers(conn, args) -> None:
    cloud = args.admin if args.as_admin else conn
    doomed = [cloud.compute.find_server(ref, ignore_missing=True) for ref in args.delete]
    for server in filter(None, doomed):
        cloud.compute.delete_server(server)
    for server in filter(None, doomed):
        cloud.compute.wait_for_delete(server, interval=0.1, wait=WAIT)


def console(conn, args) -> None:
    print(conn.compute.get_server_console_output(args.server)["output"])


def image(conn, args) -> None:
    owner = {"owner": args.admin.identity.find_project(args.project, ignore_missing=False).id} if args.project else {}
    made = args.admin.image.create_image(
        args.name,
        filename=args.file,
        disk_format="raw",
        container_format="bare",
        allow_duplicates=True,
        wait=True,
        **owner,
        **dict(p.split("=", 1) for p in args.property),
    )
    print(json.dumps({"id": made.id, "owner": made.owner}))


def down(conn, args) -> None:
    prefix = args.prefix
    doomed = [s for s in conn.compute.servers() if s.name.startswith(prefix)]
    for server in doomed:
        conn.compute.delete_server(server)
    for server in doomed:
        conn.compute.wait_for_delete(server, interval=0.1, wait=WAIT)
    for key in [k for k in conn.compute.keypairs() if k.name.startswith(prefix)]:
        conn.compute.delete_keypair(key)
    for found in [i for i in conn.image.images() if (i.name or "").startswith(prefix)]:
        conn.image.delete_image(found)
    for group in [g for g in conn.network.security_groups() if g.name.startswith(prefix)]:
        conn.network.delete_security_group(group)
    net = conn.network.find_network(args.network) if args.network else None
    if net:
        conn.network.delete_network(net)
    for name in args.flavor:
        flavor = args.admin.compute.find_flavor(name.split(":", 1)[0])
        if flavor:
            args.admin.compute.delete_flavor(flavor)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cloud", required=True)
    parser.add_argument("--admin-cloud")
    actions = parser.add_subparsers(dest="action", required=True)
    act = actions.add_parser("state")
    act.add_argument("--prefix", required=True)
    act.add_argument("--network", required=True)
    act = actions.add_parser("up")
    act.add_argument("--network", required=True)
    act.add_argument("--cidr", default="10.77.0.0/24")
    act.add_argument("--flavor", action="append", default=[])
    act = actions.add_parser("boot")
    act.add_argument("--name", required=True)
    act.add_argument("--image", required=True)
    act.add_argument("--flavor", required=True)
    act.add_argument("--network")
    act.add_argument("--property", action="append", default=[])
    act.add_argument("--as-admin", action="store_true")
    act = actions.add_parser("servers")
    act.add_argument("--delete", action="append", default=[])
    act.add_argument("--as-admin", action="store_true")
    act = actions.add_parser("console")
    act.add_argument("server")
    act = actions.add_parser("image")
    act.add_argument("--name", required=True)
    act.add_argument("--file", required=True)
    act.add_argument("--project")
    act.add_argument("--property", action="append", default=[])
    act = actions.add_parser("down")
    act.add_argument("--prefix", required=True)
    act.add_argument("--network")
    act.add_argument("--flavor", action="append", default=[])
    return parser.parse_args(argv)


def main() -> None:
    args = parse()
    conn = openstack.connect(cloud=args.cloud)
    args.admin = openstack.connect(cloud=args.admin_cloud) if args.admin_cloud else conn
    {"state": state, "up": up, "boot": boot, "servers": servers, "console": console, "image": image, "down": down}[
        args.action
    ](conn, args)


if __name__ == "__main__":
    main()
