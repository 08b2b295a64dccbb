"""Every Compute route module, imported so their routes register on ``api``.

Order matters where paths overlap: a fixed path (``/flavors/detail``) must be
registered before the pattern it would match (``/flavors/{flavor_id}``); each
module keeps its own in that order.
"""

from __future__ import annotations

from stacksim.services.compute import (
    flavors_api,
    hosts_api,
    keypairs_api,
    quotas_api,
    server_groups_api,
    servers_api,
    volume_attachments_api,
)
from stacksim.services.compute.api import api

ROUTE_MODULES = (
    servers_api,
    volume_attachments_api,
    flavors_api,
    keypairs_api,
    quotas_api,
    server_groups_api,
    hosts_api,
)

__all__ = ["ROUTE_MODULES", "api"]
