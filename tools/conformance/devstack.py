"""What DevStack leaves behind that the openstacksdk functional tests assume.

stacksim's bootstrap already gives DevStack's projects and users (``admin``,
``demo``, ``alt_demo``), the external network ``public`` with its subnet, the
``m1.*`` flavors and a CirrOS image. This adds, through the public API as a
DevStack run would, the rest of what the suite's jobs see:

- the clouds ``devstack`` (demo), ``devstack-alt`` (alt_demo), ``devstack-admin``
  (admin on project admin) and ``devstack-system-admin`` (admin, system scope);
- DevStack's flavors come from stacksim itself (``--flavors devstack``: ``cirros256``
  and ``ds512M`` ... ``ds4G`` besides ``m1.tiny`` ... ``m1.xlarge``, and not
  ``m1.nano``/``m1.micro``, which only DevStack's tempest set-up adds; the suite's
  flavor range-search tests count the ``m1.*`` flavors and want ``cirros256`` as
  the smallest);
- the demo project's ``private`` network with ``private-subnet`` 10.0.0.0/26,
  routed to ``public`` by ``router1`` (lib/neutron's initial network, IPv4 only:
  the IPv6 half of DevStack's default is left out, see docs/conformance.md).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openstack
import yaml

REGION = "RegionOne"
#: clouds.yaml name -> (user, project or None for system scope)
CLOUDS: dict[str, tuple[str, str | None]] = {
    "devstack": ("demo", "demo"),
    "devstack-alt": ("alt_demo", "alt_demo"),
    "devstack-admin": ("admin", "admin"),
    "devstack-system-admin": ("admin", None),
}
PRIVATE_NETWORK = "private"
PRIVATE_SUBNET = {"name": "private-subnet", "cidr": "10.0.0.0/26", "ip_version": 4, "gateway_ip": "10.0.0.1"}
ROUTER = "router1"


def write_clouds_yaml(path: Path, auth_url: str, password: str) -> None:
    """The four clouds DevStack writes to /etc/openstack/clouds.yaml, pointing at our simulator."""
    clouds: dict[str, Any] = {}
    for name, (user, project) in CLOUDS.items():
        auth: dict[str, Any] = {
            "auth_url": auth_url,
            "username": user,
            "password": password,
            "user_domain_id": "default",
        }
        if project is None:
            auth["system_scope"] = "all"
        else:
            auth.update(project_name=project, project_domain_id="default")
        clouds[name] = {
            "auth": auth,
            "region_name": REGION,
            "identity_api_version": 3,
            "volume_api_version": 3,
        }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        yaml.safe_dump({"clouds": clouds}, fh, sort_keys=False)


#: The flavor DevStack's SDK job ends up with (the smallest one with a disk).
FLAVOR = "cirros256"


@dataclass
class Prepared:
    image: str  #: the CirrOS image the tests boot
    flavor: str
    done: list[str]  #: what was created, one line each, for the report


def prepare(clouds_yaml: Path) -> Prepared:
    """Create DevStack's resources in the cloud ``clouds_yaml`` points at."""
    config = openstack.config.OpenStackConfig(config_files=[str(clouds_yaml)], load_envvars=False)
    admin = openstack.connection.Connection(config=config.get_one(cloud="devstack-admin"))
    demo = openstack.connection.Connection(config=config.get_one(cloud="devstack"))
    try:
        done = ["flavors: stacksim's --flavors devstack", _private_network(demo)]
        admin.compute.find_flavor(FLAVOR, ignore_missing=False)
        image = next(i.name for i in demo.image.images() if i.name.startswith("cirros") and i.disk_format == "qcow2")
    finally:
        admin.close()
        demo.close()
    return Prepared(image=image, flavor=FLAVOR, done=done)


def _private_network(demo: openstack.connection.Connection) -> str:
    public = demo.network.find_network("public", ignore_missing=False)
    net = demo.network.create_network(name=PRIVATE_NETWORK)
    subnet = demo.network.create_subnet(network_id=net.id, **PRIVATE_SUBNET)
    router = demo.network.create_router(name=ROUTER, external_gateway_info={"network_id": public.id})
    demo.network.add_interface_to_router(router, subnet_id=subnet.id)
    return f"network {PRIVATE_NETWORK} ({PRIVATE_SUBNET['cidr']}) in project demo, routed to public by {ROUTER}"
