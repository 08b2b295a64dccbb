"""First-start set-up of networking: the external network ``public`` and its floating-IP pool.

The same shape as DevStack's: an admin-owned flat network on the physical
network ``public``, external but not shared, with ``public-subnet``
172.24.4.0/24 (gateway .1, pool .2-.254, no DHCP).
"""

from __future__ import annotations

from stacksim.services.identity.model import DEFAULT_DOMAIN
from stacksim.services.network.model import Networking

PUBLIC_NETWORK = "public"
PUBLIC_SUBNET = {
    "name": "public-subnet",
    "ip_version": 4,
    "cidr": "172.24.4.0/24",
    "gateway_ip": "172.24.4.1",
    "allocation_pools": [{"start": "172.24.4.2", "end": "172.24.4.254"}],
    "enable_dhcp": False,
}
_MARK = ("bootstrap", "network")


def bootstrap(network: Networking) -> None:
    """Once per cloud: later starts keep whatever users made of it (even a deleted ``public``)."""
    store = network.store
    if store.get(*_MARK) is not None:
        return
    admin = store.first("project", name="admin", domain_id=DEFAULT_DOMAIN)
    if admin is None:
        return
    with store.transaction():
        public = network.create_network(
            admin["id"],
            name=PUBLIC_NETWORK,
            description="External network for floating IPs and router gateways",
            **{"router:external": True, "shared": False},
        )
        network.create_subnet(admin["id"], network_id=public["id"], **PUBLIC_SUBNET)
        store.put(_MARK[0], {"id": _MARK[1], "public_network_id": public["id"]})
