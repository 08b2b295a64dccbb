"""What Heat's API shows: stacks, resources, events and outputs as its JSON bodies."""

from __future__ import annotations

from typing import Any

from stacksim.heat import errors
from stacksim.heat.run import StackRun


def stack_url(base: str, record: dict[str, Any]) -> str:
    return f"{base}/{record['project_id']}/stacks/{record['name']}/{record['id']}"


def status_of(record: dict[str, Any]) -> str:
    return f"{record['action']}_{record['status']}"


def stack_view(
    base: str,
    record: dict[str, Any],
    run: StackRun | None = None,
    *,
    detail: bool = False,
    outputs: bool = False,
    project: bool = False,
) -> dict[str, Any]:
    template = record.get("template") or {}
    description = template.get("description")
    description = "No description" if description is None else str(description)
    body: dict[str, Any] = {
        "id": record["id"],
        "stack_name": record["name"],
        "description": description,
        "creation_time": record["created"],
        "updated_time": record.get("updated"),
        "deletion_time": record.get("deleted"),
        "stack_status": status_of(record),
        "stack_status_reason": record.get("status_reason") or "",
        "stack_owner": record.get("username"),
        "parent": record.get("parent_id"),
        "stack_user_project_id": record["project_id"],
        "tags": record.get("tags") or None,
        "links": [{"href": stack_url(base, record), "rel": "self"}],
    }
    if project:
        body["project"] = record["project_id"]
    if detail:
        body.update(
            capabilities=[],
            disable_rollback=record.get("disable_rollback", True),
            notification_topics=[],
            timeout_mins=record.get("timeout_mins"),
            template_description=description,
            parameters=_parameters(run),
        )
        if outputs and run is not None:
            body["outputs"] = run.outputs()
    return body


def _parameters(run: StackRun | None) -> dict[str, str]:
    if run is None:
        return {}
    try:
        return run.defn.params.shown()
    except errors.HeatError:
        return {}


def resource_view(
    base: str,
    stack: dict[str, Any],
    record: dict[str, Any],
    required_by: list[str],
    *,
    parent_resource: str | None = None,
    detail: bool = False,
    run: StackRun | None = None,
) -> dict[str, Any]:
    url = stack_url(base, stack)
    body: dict[str, Any] = {
        "resource_name": record["name"],
        "logical_resource_id": record["name"],
        "physical_resource_id": record.get("physical_id") or "",
        "resource_status": status_of(record),
        "resource_status_reason": record.get("status_reason") or "",
        "resource_type": record["type"],
        "creation_time": record.get("created"),
        "updated_time": record.get("updated") or record.get("created"),
        "required_by": required_by,
        "links": [
            {"href": f"{url}/resources/{record['name']}", "rel": "self"},
            {"href": url, "rel": "stack"},
        ],
    }
    if record.get("nested_id"):
        nested = run.engine.store.get("heat_stack", record["nested_id"]) if run is not None else None
        if nested is not None:
            body["links"].append({"href": stack_url(base, nested), "rel": "nested"})
    if parent_resource is not None:
        body["parent_resource"] = parent_resource
    if detail:
        body["description"] = record.get("description") or ""
        body["attributes"] = run.attributes_of(record) if run is not None else {}
    return body


def event_view(
    base: str, stack: dict[str, Any], event: dict[str, Any], *, detail: bool = False, root: dict[str, Any] | None = None
) -> dict[str, Any]:
    url = stack_url(base, stack)
    res = event["resource_name"]
    body: dict[str, Any] = {
        "id": event["id"],
        "event_time": event["event_time"],
        "resource_name": res,
        "logical_resource_id": res,
        "physical_resource_id": event.get("physical_resource_id") or "",
        "resource_status": f"{event['resource_action']}_{event['resource_status']}",
        "resource_status_reason": event.get("resource_status_reason") or "",
        "links": [
            {"href": f"{url}/resources/{res}/events/{event['id']}", "rel": "self"},
            {"href": f"{url}/resources/{res}", "rel": "resource"},
            {"href": url, "rel": "stack"},
        ],
    }
    if root is not None:
        body["links"].append({"href": stack_url(base, root), "rel": "root_stack"})
    if detail:
        body["resource_type"] = event.get("resource_type")
        body["resource_properties"] = event.get("resource_properties") or {}
    return body
