"""The services stacksim implements, each with its mount point and catalog entry.

An explicit list, not discovery: a service exists when it is named here.
"""

from __future__ import annotations

from dataclasses import dataclass

from stacksim.web import Api


@dataclass(frozen=True)
class Service:
    type: str  #: catalog type, e.g. ``identity``
    name: str  #: catalog name, e.g. ``keystone``
    prefix: str  #: path prefix on our port, e.g. ``/identity``
    endpoint: str  #: endpoint path in the catalog (may hold ``$(project_id)s``)
    api: Api
    description: str = ""


def services() -> list[Service]:
    from stacksim.services.identity.api import api as identity
    from stacksim.services.network.api import api as network

    return [
        Service("identity", "keystone", "/identity", "/identity", identity, "Identity Service"),
        Service("network", "neutron", "/network", "/network", network, "Neutron Networking Service"),
    ]
