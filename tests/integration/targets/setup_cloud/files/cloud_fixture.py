# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Set up, inspect and tear down what the integration targets need, with plain REST calls.

Each call does all its steps in one process, with the standard library and PyYAML only
(no openstacksdk: its import and version discovery cost a second of CPU per call, and the
targets call this some forty times): a password token for the cloud of clouds.yaml, the
catalog's public endpoints, then the services' REST APIs.

- ``state --prefix P [--network N]``: JSON of the servers, key pairs, security groups,
  images, networks and ports whose names start with P, and the compute ports left on
  network N;
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
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import yaml

WAIT = 60
POLL = 0.1
#: The compute microversion of every call: boot's ``networks: none`` needs 2.37.
COMPUTE_MICROVERSION = "2.37"
#: The API version each service's path takes when its catalog endpoint names none.
VERSION_PATHS = {"identity": "v3", "image": "v2", "network": "v2.0"}
#: Where openstacksdk looks for clouds.yaml when OS_CLIENT_CONFIG_FILE is not set.
CLOUDS_YAML_PLACES = ("clouds.yaml", "~/.config/openstack/clouds.yaml", "/etc/openstack/clouds.yaml")


class Fail(Exception):
    """A step that did not do what it should; main() prints it and exits 1."""


def _clouds_yaml() -> dict[str, Any]:
    places = [os.environ["OS_CLIENT_CONFIG_FILE"]] if os.environ.get("OS_CLIENT_CONFIG_FILE") else CLOUDS_YAML_PLACES
    for place in places:
        path = Path(place).expanduser()
        if path.is_file():
            return yaml.safe_load(path.read_text()).get("clouds") or {}
    raise Fail(f"no clouds.yaml in {', '.join(places)}")


def _named(scope: dict[str, Any], kind: str) -> dict[str, str]:
    """``{"id": ...}`` or ``{"name": ...}`` of the user's or project's domain, as keystoneauth takes them."""
    if scope.get(f"{kind}_domain_id"):
        return {"id": scope[f"{kind}_domain_id"]}
    if scope.get(f"{kind}_domain_name"):
        return {"name": scope[f"{kind}_domain_name"]}
    return {"id": "default"}


class Cloud:
    """One cloud of clouds.yaml: its token and its services' endpoints."""

    def __init__(self, name: str, clouds: dict[str, Any]) -> None:
        if name not in clouds:
            raise Fail(f"cloud {name!r} is not in clouds.yaml (it has {', '.join(clouds) or 'none'})")
        config = clouds[name]
        auth = config.get("auth") or {}
        if config.get("auth_type", "password") != "password":
            raise Fail(f"cloud {name!r}: only password auth is supported, not {config['auth_type']!r}")
        project = (
            {"id": auth["project_id"]}
            if auth.get("project_id")
            else {"name": auth["project_name"], "domain": _named(auth, "project")}
        )
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {"name": auth["username"], "password": auth["password"], "domain": _named(auth, "user")}
                    },
                },
                "scope": {"project": project},
            }
        }
        self.token = ""
        self.region = config.get("region_name")
        self.interface = config.get("interface", "public")
        url = _versioned(auth["auth_url"], "identity") + "/auth/tokens"
        headers, token = self._send("POST", url, body)
        self.token = headers["X-Subject-Token"]
        self.catalog = token["token"]["catalog"]

    def endpoint(self, service: str) -> str:
        for entry in self.catalog:
            if entry["type"] == service:
                for point in entry["endpoints"]:
                    if point["interface"] == self.interface and self.region in (None, point.get("region")):
                        return _versioned(point["url"], service)
        raise Fail(f"no {self.interface} {service} endpoint in the catalog")

    def _send(
        self, method: str, url: str, body: Any = None, data: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[Any, Any]:
        headers = {"Accept": "application/json", **(headers or {})}
        if self.token:
            headers["X-Auth-Token"] = self.token
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=WAIT) as reply:
                text = reply.read()
                return reply.headers, json.loads(text) if text else None
        except urllib.error.HTTPError as err:
            raise HTTPFail(method, url, err.code, err.read().decode(errors="replace")) from None

    def call(self, method: str, service: str, path: str, body: Any = None, data: bytes | None = None) -> Any:
        """The JSON body of one call (``data``: raw bytes to send instead of a JSON ``body``)."""
        headers = {"Content-Type": "application/octet-stream"} if data is not None else {}
        return self._send(method, self.endpoint(service) + path, body, data, headers | _microversion(service))[1]

    def get(self, service: str, path: str) -> Any | None:
        """The body of a GET, or None when the cloud says 404."""
        try:
            return self.call("GET", service, path)
        except HTTPFail as err:
            if err.status == 404:
                return None
            raise

    def list(self, service: str, path: str, key: str, **query: str) -> list[dict[str, Any]]:
        """Every item of a collection, following next links (``<key>_links`` of Nova and Neutron, Glance's ``next``)."""
        url = self.endpoint(service) + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        items: list[dict[str, Any]] = []
        while url:
            page = self._send("GET", url, headers=_microversion(service))[1]
            items += page[key]
            nexts = [link["href"] for link in page.get(f"{key}_links", []) if link.get("rel") == "next"]
            url = nexts[0] if nexts else (urllib.parse.urljoin(url, page["next"]) if page.get("next") else "")
        return items

    def find(self, service: str, path: str, key: str, ref: str, *, required: bool = True) -> dict[str, Any] | None:
        """The resource whose ID or name is ``ref``, as openstacksdk's find_* looks: by ID, then by name."""
        single = key.rstrip("s")
        found = self.get(service, f"{path}/{urllib.parse.quote(ref, safe='')}")
        if found:
            return found if service == "image" else found[single]  # Glance's bodies are not wrapped
        listing = f"{path}/detail" if service == "compute" else path
        matches = [item for item in self.list(service, listing, key) if item.get("name") == ref]
        if len(matches) > 1:
            raise Fail(f"more than one {single} named {ref!r}")
        if not matches and required:
            raise Fail(f"no {single} named {ref!r}")
        return matches[0] if matches else None

    def wait(self, what: str, check: Any) -> Any:
        """``check()``'s first true value, looked for every POLL seconds for WAIT seconds."""
        deadline = time.monotonic() + WAIT
        while not (value := check()):
            if time.monotonic() > deadline:
                raise Fail(f"timed out after {WAIT}s waiting for {what}")
            time.sleep(POLL)
        return value

    def server_gone(self, server_id: str) -> None:
        self.wait(f"server {server_id} to be deleted", lambda: self.get("compute", f"/servers/{server_id}") is None)


class HTTPFail(Fail):
    def __init__(self, method: str, url: str, status: int, body: str) -> None:
        super().__init__(f"{method} {url}: HTTP {status}: {body}")
        self.status = status


def _microversion(service: str) -> dict[str, str]:
    return {"OpenStack-API-Version": f"compute {COMPUTE_MICROVERSION}"} if service == "compute" else {}


def _versioned(url: str, service: str) -> str:
    """The endpoint with its API version (catalogs name Nova's, but usually not Keystone's, Glance's or Neutron's)."""
    url = url.rstrip("/")
    if re.search(r"/v\d+(\.\d+)?$", url) or service not in VERSION_PATHS:
        return url
    return f"{url}/{VERSION_PATHS[service]}"


def _starts(items: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    return [item for item in items if (item.get("name") or "").startswith(prefix)]


def _properties(pairs: list[str]) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in pairs)


def state(conn: Cloud, args: argparse.Namespace) -> None:
    net = conn.find("network", "/networks", "networks", args.network, required=False) if args.network else None
    ports = conn.list("network", "/ports", "ports", network_id=net["id"]) if net else []
    keypairs = [k["keypair"] for k in conn.list("compute", "/os-keypairs", "keypairs")]
    found = {
        "servers": [
            {key: s[key] for key in ("id", "name", "status", "metadata", "key_name")}
            for s in _starts(conn.list("compute", "/servers/detail", "servers"), args.prefix)
        ],
        "keypairs": sorted(k["name"] for k in _starts(keypairs, args.prefix)),
        "security_groups": sorted(
            g["name"] for g in _starts(conn.list("network", "/security-groups", "security_groups"), args.prefix)
        ),
        "images": [
            {"id": i["id"], "name": i["name"], "status": i["status"]}
            for i in _starts(conn.list("image", "/images", "images"), args.prefix)
        ],
        "networks": sorted(n["name"] for n in _starts(conn.list("network", "/networks", "networks"), args.prefix)),
        "ports": sorted(p["name"] for p in _starts(conn.list("network", "/ports", "ports"), args.prefix)),
        "compute_ports": sorted(p["id"] for p in ports if (p.get("device_owner") or "").startswith("compute:")),
    }
    print(json.dumps(found))


def up(conn: Cloud, args: argparse.Namespace) -> None:
    net = conn.find("network", "/networks", "networks", args.network, required=False)
    if not net:
        net = conn.call("POST", "network", "/networks", {"network": {"name": args.network}})["network"]
    if not conn.list("network", "/subnets", "subnets", network_id=net["id"]):
        subnet = {"network_id": net["id"], "name": f"{args.network}-subnet", "cidr": args.cidr, "ip_version": 4}
        conn.call("POST", "network", "/subnets", {"subnet": subnet})
    for spec in args.flavor:
        name, extra = spec.split(":", 1)
        key, value = extra.split("=", 1)
        flavor = args.admin.find("compute", "/flavors", "flavors", name, required=False)
        if not flavor:
            wish = {"name": name, "ram": 64, "vcpus": 1, "disk": 1}
            flavor = args.admin.call("POST", "compute", "/flavors", {"flavor": wish})["flavor"]
        args.admin.call("POST", "compute", f"/flavors/{flavor['id']}/os-extra_specs", {"extra_specs": {key: value}})


def boot(conn: Cloud, args: argparse.Namespace) -> None:
    cloud = args.admin if args.as_admin else conn
    image = cloud.find("image", "/images", "images", args.image)
    flavor = cloud.find("compute", "/flavors", "flavors", args.flavor)
    networks: Any = (
        [{"uuid": cloud.find("network", "/networks", "networks", args.network)["id"]}] if args.network else "none"
    )
    wish = {
        "name": args.name,
        "imageRef": image["id"],
        "flavorRef": flavor["id"],
        "networks": networks,
        "metadata": _properties(args.property),
    }
    server_id = cloud.call("POST", "compute", "/servers", {"server": wish})["server"]["id"]

    def active() -> bool:
        server = cloud.call("GET", "compute", f"/servers/{server_id}")["server"]
        if server["status"] == "ERROR":
            raise Fail(f"server {args.name} went to ERROR: {server.get('fault', {}).get('message', '')}")
        return server["status"] == "ACTIVE"

    cloud.wait(f"server {args.name} to be ACTIVE", active)
    print(json.dumps({"id": server_id, "image_id": image["id"]}))


def servers(conn: Cloud, args: argparse.Namespace) -> None:
    cloud = args.admin if args.as_admin else conn
    doomed = [cloud.find("compute", "/servers", "servers", ref, required=False) for ref in args.delete]
    for server in filter(None, doomed):
        cloud.call("DELETE", "compute", f"/servers/{server['id']}")
    for server in filter(None, doomed):
        cloud.server_gone(server["id"])


def console(conn: Cloud, args: argparse.Namespace) -> None:
    print(conn.call("POST", "compute", f"/servers/{args.server}/action", {"os-getConsoleOutput": {}})["output"])


def image(conn: Cloud, args: argparse.Namespace) -> None:
    admin = args.admin
    wish = {"name": args.name, "disk_format": "raw", "container_format": "bare", **_properties(args.property)}
    if args.project:
        wish["owner"] = admin.find("identity", "/projects", "projects", args.project)["id"]
    made = admin.call("POST", "image", "/images", wish)
    data = Path(args.file).read_bytes()
    admin.call("PUT", "image", f"/images/{made['id']}/file", data=data)

    def active() -> dict[str, Any] | None:
        found = admin.call("GET", "image", f"/images/{made['id']}")
        return found if found["status"] == "active" else None

    made = admin.wait(f"image {args.name} to be active", active)
    print(json.dumps({"id": made["id"], "owner": made["owner"]}))


def down(conn: Cloud, args: argparse.Namespace) -> None:
    prefix = args.prefix
    doomed = _starts(conn.list("compute", "/servers/detail", "servers"), prefix)
    for server in doomed:
        conn.call("DELETE", "compute", f"/servers/{server['id']}")
    for server in doomed:
        conn.server_gone(server["id"])
    for key in _starts([k["keypair"] for k in conn.list("compute", "/os-keypairs", "keypairs")], prefix):
        conn.call("DELETE", "compute", f"/os-keypairs/{urllib.parse.quote(key['name'], safe='')}")
    for found in _starts(conn.list("image", "/images", "images"), prefix):
        conn.call("DELETE", "image", f"/images/{found['id']}")
    for group in _starts(conn.list("network", "/security-groups", "security_groups"), prefix):
        conn.call("DELETE", "network", f"/security-groups/{group['id']}")
    net = conn.find("network", "/networks", "networks", args.network, required=False) if args.network else None
    if net:
        conn.call("DELETE", "network", f"/networks/{net['id']}")
    for name in args.flavor:
        flavor = args.admin.find("compute", "/flavors", "flavors", name.split(":", 1)[0], required=False)
        if flavor:
            args.admin.call("DELETE", "compute", f"/flavors/{flavor['id']}")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cloud", required=True)
    parser.add_argument("--admin-cloud")
    actions = parser.add_subparsers(dest="action", required=True)
    act = actions.add_parser("state")
    act.add_argument("--prefix", required=True)
    act.add_argument("--network")
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


ACTIONS = {"state": state, "up": up, "boot": boot, "servers": servers, "console": console, "image": image, "down": down}


def main() -> None:
    args = parse()
    try:
        clouds = _clouds_yaml()
        conn = Cloud(args.cloud, clouds)
        # The admin cloud logs in only for the steps that use it.
        admin_needed = args.admin_cloud and args.admin_cloud != args.cloud and _uses_admin(args)
        args.admin = Cloud(args.admin_cloud, clouds) if admin_needed else conn
        ACTIONS[args.action](conn, args)
    except Fail as err:
        sys.exit(f"cloud_fixture {args.action}: {err}")


def _uses_admin(args: argparse.Namespace) -> bool:
    return args.action == "image" or getattr(args, "as_admin", False) or bool(getattr(args, "flavor", None))


if __name__ == "__main__":
    main()
