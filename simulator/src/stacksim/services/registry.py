"""The services stacksim implements, each with its mount point and catalog entry.

An explicit list, not discovery: a service exists when it is named here.
"""

from __future__ import annotations

from dataclasses import dataclass

from stacksim.web import Api


@dataclass(frozen=True)
class CatalogEntry:
    """One more catalog type a service is listed under (Cinder is ``block-storage`` and ``volumev3``)."""

    type: str
    name: str
    endpoint: str


@dataclass(frozen=True)
class Service:
    type: str  #: catalog type, e.g. ``identity``
    name: str  #: catalog name, e.g. ``keystone``
    prefix: str  #: path prefix on our port, e.g. ``/identity``
    endpoint: str  #: endpoint path in the catalog (may hold ``$(project_id)s``)
    api: Api
    description: str = ""
    also: tuple[CatalogEntry, ...] = ()  #: extra catalog types for the same mount

    def catalog(self) -> list[CatalogEntry]:
        """Every catalog entry of the service: its own, then the extra ones."""
        return [CatalogEntry(self.type, self.name, self.endpoint), *self.also]


def services() -> list[Service]:
    from stacksim.services.compute.api import api as compute
    from stacksim.services.identity.api import api as identity
    from stacksim.services.image.api import api as image
    from stacksim.services.network.api import api as network
    from stacksim.services.orchestration.api import api as orchestration
    from stacksim.services.volume.api import api as volume

    return [
        Service("identity", "keystone", "/identity", "/identity", identity, "Identity Service"),
        Service("network", "neutron", "/network", "/network", network, "Neutron Networking Service"),
        Service("compute", "nova", "/compute", "/compute/v2.1", compute, "Nova Compute Service"),
        Service("image", "glance", "/image", "/image", image, "Glance Image Service"),
        Service(
            "block-storage",
            "cinder",
            "/volume",
            "/volume/v3",
            volume,
            "Cinder Volume Service",
            also=(CatalogEntry("volumev3", "cinderv3", "/volume/v3/$(project_id)s"),),
        ),
        Service(
            "orchestration",
            "heat",
            "/orchestration",
            "/orchestration/v1/$(project_id)s",
            orchestration,
            "Heat Orchestration Service",
        ),
    ]
