"""Nova's model: everything Compute keeps, one part per attribute.

The Cloud holds it as ``cloud.compute``; the route modules and the servers
code reach each part through it (``cloud.compute.flavors.get(ctx, id)``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stacksim.services.compute.flavors import Flavors
from stacksim.services.compute.hosts import Hosts
from stacksim.services.compute.keypairs import Keypairs
from stacksim.services.compute.quotas import Quotas
from stacksim.services.compute.server_groups import ServerGroups
from stacksim.services.compute.servers import Servers

if TYPE_CHECKING:
    from stacksim.cloud import Cloud


class Compute:
    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud
        self.store = cloud.store
        settings = cloud.settings
        self.flavors = Flavors(self.store)
        self.keypairs = Keypairs(self.store)
        self.quotas = Quotas(self.store)
        self.server_groups = ServerGroups(self.store, self.quotas)
        self.hosts = Hosts(self.store, driver=settings.compute_driver, host_ip=settings.host, data_dir=cloud.data_dir)
        self.servers = Servers(cloud)
