"""The Compute API: every route module, imported so its routes register on ``api``.

Order matters where paths overlap: a fixed path (``/flavors/detail``) must be
registered before the pattern it would match (``/flavors/{flavor_id}``); each
module keeps its own in that order, and :mod:`.servers_api` (``/servers/detail``)
comes before the modules with ``/servers/{id}/...`` paths.
"""

from __future__ import annotations

from stacksim.services.compute import (
    aggregates_api,
    consoles_api,
    flavors_api,
    hosts_api,
    instance_actions_api,
    interfaces_api,
    keypairs_api,
    proxies_api,
    quotas_api,
    server_actions_api,
    server_groups_api,
    server_meta_api,
    servers_api,
    usage_api,
    versions_api,
    volume_attachments_api,
)
from stacksim.services.compute.common import api

ROUTE_MODULES = (
    versions_api,
    servers_api,
    server_actions_api,
    server_meta_api,
    volume_attachments_api,
    interfaces_api,
    instance_actions_api,
    consoles_api,
    flavors_api,
    keypairs_api,
    quotas_api,
    server_groups_api,
    hosts_api,
    aggregates_api,
    usage_api,
    proxies_api,
)

__all__ = ["ROUTE_MODULES", "api"]
