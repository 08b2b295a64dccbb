"""Regions, services, endpoints, endpoint groups and project-endpoint associations (OS-EP-FILTER)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from stacksim import faults
from stacksim.auth import Context
from stacksim.services.identity import policy, schemas
from stacksim.services.identity.api import api, filters, link, model, related, resource, views
from stacksim.services.identity.catalog import EndpointGroups
from stacksim.services.identity.common import Record
from stacksim.services.identity.views import Views
from stacksim.web import Call, reply


def _everyone(*_: object) -> bool:
    return True


def _readers(ctx: Context, record: Record | None = None) -> bool:
    return policy.admin_or_system_reader(ctx)


resource(
    "region",
    lambda identity: identity.catalog.regions,
    (schemas.RegionCreate, schemas.RegionUpdate),
    query=("parent_region_id",),
    readable=_everyone,
    listable=_everyone,
)


@api.route("/v3/regions/{id}", methods=("PUT",))
async def create_region_with_id(call: Call) -> Response:
    call.ctx.require_admin("identity:create_region")
    body = await call.body(schemas.RegionCreate, root="region")
    if body.id is not None and body.id != call.params["id"]:
        raise faults.BadRequest(f'Conflicting region IDs specified: "{call.params["id"]}" != "{body.id}"')
    record = model(call).catalog.regions.create(body.spec(call.params["id"]))
    return reply({"region": views(call).record("regions", record)}, status=201)


resource(
    "service",
    lambda identity: identity.catalog.services,
    (schemas.ServiceCreate, schemas.ServiceUpdate),
    query=("type", "name"),
    readable=_readers,
    listable=_readers,
)


def _endpoints(call: Call) -> list[Record]:
    found = filters(call, "interface", "service_id", "region_id")
    if "region" in call.query:
        found["region_id"] = call.query["region"]
    return model(call).catalog.endpoints.find(**found)


resource(
    "endpoint",
    lambda identity: identity.catalog.endpoints,
    (schemas.EndpointCreate, schemas.EndpointUpdate),
    find=_endpoints,
    readable=_readers,
    listable=_readers,
    view=lambda call, record: views(call).endpoint(record),
)


# -- endpoint groups (OS-EP-FILTER) -----------------------------------------------------------------

_EP = "/v3/OS-EP-FILTER"

resource(
    "endpoint_group",
    lambda identity: identity.catalog.endpoint_groups,
    (schemas.EndpointGroupCreate, schemas.EndpointGroupUpdate),
    query=("name",),
    readable=_readers,
    listable=_readers,
    view=lambda call, record: views(call).endpoint_group(record),
    path=f"{_EP}/endpoint_groups",
)


def _group_project(call: Call) -> dict[str, Any]:
    id, project = call.params["id"], call.params["project"]
    association = model(call).catalog.endpoint_groups.association(id, project)
    self = views(call).url(f"/OS-EP-FILTER/endpoint_groups/{id}/projects/{project}")
    return {"project_endpoint_group": dict(association, links={"self": self})}


def _groups(call: Call) -> EndpointGroups:
    return model(call).catalog.endpoint_groups


related(
    f"{_EP}/endpoint_groups/{{id}}/endpoints",
    "list_endpoints_associated_with_endpoint_group",
    "endpoints",
    lambda call: _groups(call).endpoints(call.params["id"]),
    Views.endpoint,
)
related(
    f"{_EP}/endpoint_groups/{{id}}/projects",
    "list_projects_associated_with_endpoint_group",
    "projects",
    lambda call: _groups(call).projects(call.params["id"]),
    lambda shown, record: shown.record("projects", record),
)
link(
    f"{_EP}/endpoint_groups/{{id}}/projects/{{project}}",
    ("get_endpoint_group_in_project", "add_endpoint_group_to_project", "remove_endpoint_group_from_project"),
    check=_group_project,
    add=lambda call: _groups(call).associate(call.params["id"], call.params["project"]),
    remove=lambda call: _groups(call).dissociate(call.params["id"], call.params["project"]),
)
related(
    f"{_EP}/projects/{{project}}/endpoint_groups",
    "list_endpoint_groups_for_project",
    "endpoint_groups",
    lambda call: _groups(call).of_project(call.params["project"]),
    Views.endpoint_group,
)


# -- projects and single endpoints ---------------------------------------------------------------

related(
    f"{_EP}/projects/{{project}}/endpoints",
    "list_endpoints_for_project",
    "endpoints",
    lambda call: model(call).catalog.endpoints_of_project(call.params["project"]),
    Views.endpoint,
)
link(
    f"{_EP}/projects/{{project}}/endpoints/{{endpoint}}",
    ("check_endpoint_in_project", "add_endpoint_to_project", "remove_endpoint_from_project"),
    check=lambda call: model(call).catalog.check_endpoint(call.params["project"], call.params["endpoint"]),
    add=lambda call: model(call).catalog.add_endpoint(call.params["project"], call.params["endpoint"]),
    remove=lambda call: model(call).catalog.remove_endpoint(call.params["project"], call.params["endpoint"]),
)
related(
    f"{_EP}/endpoints/{{endpoint}}/projects",
    "list_projects_for_endpoint",
    "projects",
    lambda call: model(call).catalog.projects_of_endpoint(call.params["endpoint"]),
    lambda shown, record: shown.record("projects", record),
)
