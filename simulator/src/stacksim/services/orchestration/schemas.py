"""Heat's request bodies, read into the model's typed requests with Heat's messages.

Each body is checked by a pydantic model whose validators give Heat's own
wording (``Invalid timeout value x``, ``The files must be a map`` ...); a
bad body is Heat's 400 with that message. What a value means for the cloud
(a stack name taken, a template that does not validate) is the model's to say.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from stacksim.heat import errors
from stacksim.services.orchestration.model import (
    EventQuery,
    MarkUnhealthy,
    ResourceQuery,
    StackCreate,
    StackQuery,
    StackUpdate,
    TemplateSource,
)
from stacksim.toolkit import query_flag, to_bool

ACTIONS = ("suspend", "resume", "check", "cancel_update", "cancel_without_rollback")


def _flag(value: Any) -> bool | None:
    if value is None:
        return None
    return to_bool(value, lambda v: ValueError(f"Unrecognized value '{v}', acceptable values are: true, false"))


def _timeout(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        minutes = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"Invalid timeout value {value}") from None
    if minutes <= 0:
        raise ValueError(f"Invalid timeout value {value}")
    return minutes


def _tags(value: Any) -> list[str] | None:
    if value in (None, "", []):
        return None
    if isinstance(value, str):
        return [t.strip() for t in value.split(",") if t.strip()]
    if isinstance(value, list):
        return [str(t) for t in value]
    raise ValueError("Invalid tags, not a list or a comma-separated string")


def _map_of(what: str) -> Any:
    def check(value: Any) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ValueError(f"The {what} must be a map")
        return value

    return check


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


Flag = Annotated[bool | None, BeforeValidator(_flag)]
Timeout = Annotated[int | None, BeforeValidator(_timeout)]
Tags = Annotated[list[str] | None, BeforeValidator(_tags)]
Files = Annotated[dict[str, Any], BeforeValidator(_map_of("files"))]
Parameters = Annotated[dict[str, Any], BeforeValidator(_map_of("parameters"))]
Text = Annotated[str | None, BeforeValidator(_text)]


class TemplateBody(BaseModel):
    """What every body that carries a template has (``POST /validate`` is only this)."""

    model_config = ConfigDict(extra="ignore")

    template: Any = None
    template_url: Text = None
    files: Files = {}
    environment: Any = None
    parameters: Parameters = {}

    def source(self) -> TemplateSource:
        return TemplateSource(
            template=self.template,
            template_url=self.template_url,
            files={str(k): str(v) for k, v in self.files.items()},
            environment=self.environment,
            parameters=dict(self.parameters),
        )


class StackBody(TemplateBody):
    """``POST /stacks`` (and ``/stacks/preview``), ``PUT``/``PATCH`` of a stack."""

    stack_name: Any = None
    disable_rollback: Flag = None
    timeout_mins: Timeout = None
    tags: Tags = None
    adopt_stack_data: Any = None
    clear_parameters: list[str] = []


class MarkBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    mark_unhealthy: Flag = None
    resource_status_reason: Any = None


def _parse(model: type[Any], data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise errors.HeatError(_message(exc)) from None


def _message(exc: ValidationError) -> str:
    """Heat's message for the first bad field: the validator's own words where it has them."""
    err = exc.errors()[0]
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, ValueError):
        return str(cause)
    where = ".".join(str(p) for p in err["loc"])
    return f"Invalid input for field '{where}': {err['msg']}"


def template_source(data: Any) -> TemplateSource:
    return _parse(TemplateBody, data).source()


def stack_create(data: Any) -> StackCreate:
    body = _parse(StackBody, data)
    return StackCreate(
        name=body.stack_name,
        source=body.source(),
        disable_rollback=True if body.disable_rollback is None else body.disable_rollback,
        timeout_mins=body.timeout_mins,
        tags=body.tags,
        adopt=bool(body.adopt_stack_data),
    )


def stack_update(data: Any, patch: bool) -> StackUpdate:
    body = _parse(StackBody, data)
    return StackUpdate(
        source=body.source(),
        patch=patch,
        clear_parameters=tuple(str(p) for p in body.clear_parameters),
        disable_rollback=body.disable_rollback,
        timeout_mins=body.timeout_mins,
        tags=body.tags,
        set_tags="tags" in body.model_fields_set,
    )


def stack_action(data: Any) -> str:
    """The one action a ``POST .../actions`` body names."""
    if not isinstance(data, dict) or len(data) != 1:
        raise errors.HeatError("Multiple actions specified" if data else "No action specified")
    (action,) = data
    if action not in ACTIONS:
        raise errors.HeatError(f"Invalid action {action} specified")
    return action


def mark_unhealthy(data: Any) -> MarkUnhealthy:
    body = _parse(MarkBody, data)
    if body.mark_unhealthy is None:
        raise errors.HeatError("Missing required parameter mark_unhealthy in the request body")
    return MarkUnhealthy(mark=body.mark_unhealthy, reason=str(body.resource_status_reason or ""))


#: the filters ``GET /stacks`` takes (Heat's names)
STACK_FILTERS = (
    "name",
    "stack_name",
    "id",
    "status",
    "stack_status",
    "action",
    "tenant",
    "username",
    "owner_id",
    "project_id",
    "tenant_id",
)


def whole(query: Any, name: str) -> int | None:
    """A query parameter that must be a whole number (Heat's message if it is not)."""
    value = query.get(name)
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise errors.HeatError(f"Only integer is acceptable by '{name}'. Got '{value}'.") from None


def stack_query(query: Any) -> StackQuery:
    """``GET /stacks``'s query string."""
    filters: dict[str, list[str]] = {}
    for key, value in query.multi_items():
        if key in STACK_FILTERS:
            filters.setdefault(key, []).append(value)
    tags = {
        name: {t for t in query[name].split(",") if t}
        for name in ("tags", "tags_any", "not_tags", "not_tags_any")
        if query.get(name) is not None
    }
    return StackQuery(
        global_tenant=query_flag(query, "global_tenant"),
        all_projects=bool(query.get("tenant")),
        show_deleted=query_flag(query, "show_deleted"),
        show_nested=query_flag(query, "show_nested"),
        filters=filters,
        tag_filters=tags,
        sort_keys=tuple(k for keys in query.getlist("sort_keys") for k in keys.split(",") if k),
        descending=(query.get("sort_dir") or "desc").lower() == "desc",
        marker=query.get("marker") or None,
        limit=whole(query, "limit"),
    )


def resource_query(query: Any) -> ResourceQuery:
    """``GET .../resources``'s query string."""
    return ResourceQuery(
        nested_depth=whole(query, "nested_depth") or 0,
        names=tuple(query.getlist("name")),
        types=tuple(query.getlist("type")),
        ids=tuple(query.getlist("id")),
        physical_ids=tuple(query.getlist("physical_resource_id")),
        statuses=tuple(query.getlist("status")),
        actions=tuple(query.getlist("action")),
    )


def event_query(query: Any, resource: str | None = None) -> EventQuery:
    """``GET .../events`` (of a stack, or of one of its resources)'s query string."""
    return EventQuery(
        resource=resource,
        nested_depth=0 if resource else (whole(query, "nested_depth") or 0),
        filters={
            key: tuple(query.getlist(key))
            for key in ("resource_name", "resource_action", "resource_status", "resource_type")
            if query.getlist(key)
        },
        descending=(query.get("sort_dir") or "asc").lower() == "desc",
        marker=query.get("marker") or None,
        limit=whole(query, "limit"),
    )
