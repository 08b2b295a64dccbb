"""Neutron v2.0's REST API: the resource route modules, and the service-wide routes.

The resources come from :mod:`.core_api` (networks, subnets, ports, subnet
pools, address scopes, RBAC policies), :mod:`.l3_api` (routers, floating IPs,
auto-allocated topology), :mod:`.secgroups_api`, :mod:`.qos_api` and
:mod:`.trunks_api`, each a family of :mod:`.resource_api` routes. Here: version
discovery, extensions, availability zones, service providers and quotas.
Routes parse, call the :class:`~.model.Networking` facade and render; the
rules are the facade's.
"""

from __future__ import annotations

from starlette.responses import Response

from stacksim import faults, listing
from stacksim.services.network import (  # noqa: F401 (each registers its routes)
    core_api,
    extensions,
    l3_api,
    qos_api,
    schemas,
    secgroups_api,
    trunks_api,
)
from stacksim.services.network.resource_api import REGISTERED, api, base_url, body_of, net_of
from stacksim.web import Call, reply

__all__ = ["api"]

VERSION = {"id": "v2.0", "status": "CURRENT"}


# -- version discovery ------------------------------------------------------------------------


@api.route("/", public=True)
async def versions(call: Call) -> Response:
    link = {"rel": "self", "href": f"{base_url(call)}/v2.0/"}
    return reply({"versions": [dict(VERSION, links=[link])]})


@api.route("/v2.0", public=True)
@api.route("/v2.0/", public=True)
async def version(call: Call) -> Response:
    base = f"{base_url(call)}/v2.0"
    resources = [
        {"name": r.singular, "collection": r.plural, "links": [{"rel": "self", "href": f"{base}/{r.path}"}]}
        for r in REGISTERED
    ]
    return reply({"resources": resources, "version": dict(VERSION, links=[{"rel": "self", "href": f"{base}/"}])})


# -- what the cloud offers -----------------------------------------------------------------------


@api.route("/v2.0/extensions")
async def list_extensions(call: Call) -> Response:
    return reply({"extensions": net_of(call).extensions()})


@api.route("/v2.0/extensions/{alias}")
async def show_extension(call: Call) -> Response:
    found = extensions.extension(call.params["alias"])
    if found is None:
        raise faults.NotFound(f"Extension with alias {call.params['alias']} does not exist", kind="HTTPNotFound")
    return reply({"extension": found})


def _listed(call: Call, key: str, items: list[dict]) -> Response:
    """A small fixed list, with Neutron's filters and ``fields``."""
    q = listing.ListQuery.parse(call.query)
    page = listing.select(items, q, filterable=tuple(items[0]) if items else ())
    return reply({key: [listing.pick(v, q.fields) for v in page.items]})


@api.route("/v2.0/availability_zones")
async def availability_zones(call: Call) -> Response:
    return _listed(call, "availability_zones", net_of(call).availability_zones())


@api.route("/v2.0/service-providers")
async def service_providers(call: Call) -> Response:
    return _listed(call, "service_providers", net_of(call).service_providers())


# -- quotas -----------------------------------------------------------------------------------------


def _project(call: Call) -> str:
    return call.params["project"].removesuffix(".json")


@api.route("/v2.0/quotas")
async def list_quotas(call: Call) -> Response:
    rows = [dict(limits, project_id=pid, tenant_id=pid) for pid, limits in net_of(call).quotas(call.ctx)]
    return reply({"quotas": rows})


@api.route("/v2.0/quotas/tenant")
@api.route("/v2.0/quotas/project")
async def own_quota_project(call: Call) -> Response:
    return reply({"tenant": {"tenant_id": call.ctx.project_id}, "project": {"project_id": call.ctx.project_id}})


@api.route("/v2.0/quotas/{project}")
async def show_quota(call: Call) -> Response:
    return reply({"quota": net_of(call).quota(call.ctx, _project(call))})


@api.route("/v2.0/quotas/{project}/default")
async def default_quota(call: Call) -> Response:
    return reply({"quota": net_of(call).quota_defaults(call.ctx, _project(call))})


@api.route("/v2.0/quotas/{project}/details")
@api.route("/v2.0/quotas/{project}/details.json")
async def quota_details(call: Call) -> Response:
    return reply({"quota": net_of(call).quota_details(call.ctx, _project(call))})


@api.route("/v2.0/quotas/{project}", methods=("PUT",))
async def update_quota(call: Call) -> Response:
    values = schemas.parse(schemas.QuotaValues, body_of(await call.json(), "quota"))
    return reply({"quota": net_of(call).update_quota(call.ctx, _project(call), values)})


@api.route("/v2.0/quotas/{project}", methods=("DELETE",))
async def reset_quota(call: Call) -> Response:
    net_of(call).reset_quota(call.ctx, _project(call))
    return reply(status=204)
