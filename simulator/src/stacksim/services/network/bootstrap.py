"""First-start set-up of networking, as DevStack leaves it.

- The external network ``public``: admin-owned, flat on the physical network
  ``public``, external but not shared, the default external network (for
  auto-allocated topologies), with ``public-subnet`` 172.24.4.0/24 (gateway
  .1, floating IPs .2-.254, no DHCP).
- ``shared-default-subnetpool-v4``: a shared default IPv4 subnet pool
  (10.0.0.0/16, /26 subnets unless asked otherwise) that auto-allocation and
  ``use_default_subnetpool`` take subnets from. DevStack also makes an IPv6 one;
  this cloud leaves IPv6 to those who ask for it.
"""

from __future__ import annotations

from stacksim.services.identity.model import DEFAULT_DOMAIN
from stacksim.services.network.model import NetworkCreate, Networking, SubnetCreate, SubnetPoolCreate
from stacksim.services.network.schemas import Pool

PUBLIC_NETWORK = "public"
PUBLIC_CIDR = "172.24.4.0/24"
DEFAULT_POOL = SubnetPoolCreate(
    name="shared-default-subnetpool-v4",
    description="Shared default subnet pool for IPv4",
    prefixes=["10.0.0.0/16"],
    default_prefixlen=26,
    shared=True,
    is_default=True,
)
#: what each step leaves in the store, so it runs once per cloud (and once more for a cloud made before it)
_MARKS = (("bootstrap", "network"), ("bootstrap", "network-pools"))


def bootstrap(network: Networking) -> None:
    """Once per cloud: later starts keep whatever users made of it (even a deleted ``public``)."""
    store = network.store
    admin = store.first("project", name="admin", domain_id=DEFAULT_DOMAIN)
    if admin is None:
        return
    with store.transaction():
        if store.get(*_MARKS[0]) is None:
            public = network.create_network(
                admin["id"],
                NetworkCreate(
                    name=PUBLIC_NETWORK,
                    description="External network for floating IPs and router gateways",
                    router_external=True,
                    shared=False,
                    is_default=True,
                ),
            )
            network.create_subnet(
                admin["id"],
                SubnetCreate(
                    name="public-subnet",
                    network_id=public["id"],
                    ip_version=4,
                    cidr=PUBLIC_CIDR,
                    gateway_ip="172.24.4.1",
                    allocation_pools=[Pool(start="172.24.4.2", end="172.24.4.254")],
                    enable_dhcp=False,
                ),
            )
            store.put(_MARKS[0][0], {"id": _MARKS[0][1], "public_network_id": public["id"]})
        if store.get(*_MARKS[1]) is None:
            network.create_subnet_pool(admin["id"], DEFAULT_POOL)
            store.put(_MARKS[1][0], {"id": _MARKS[1][1]})
