"""Every Block Storage route module, imported so their routes register on ``api``.

Order matters where paths overlap: a fixed path (``/volumes/detail``) must be
registered before the pattern it would match (``/volumes/{volume_id}``); each
module keeps its own in that order.
"""

from __future__ import annotations

from stacksim.services.volume import (
    attachments_api,
    backups_api,
    messages_api,
    pools_api,
    qos_api,
    quotas_api,
    snapshots_api,
    types_api,
    volumes_api,
)
from stacksim.services.volume.api import api

ROUTE_MODULES = (
    volumes_api,
    snapshots_api,
    types_api,
    qos_api,
    backups_api,
    attachments_api,
    quotas_api,
    pools_api,
    messages_api,
)

__all__ = ["ROUTE_MODULES", "api"]
