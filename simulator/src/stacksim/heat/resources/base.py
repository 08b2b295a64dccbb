"""The resource plugin interface: one class per resource type.

A plugin says what its type looks like and how to make it real:

- ``type_name`` (``OS::Nova::Server``), ``description``;
- ``properties_schema``: Heat's property names with :class:`Prop` (type,
  default, required, ``update_allowed``, ``immutable``, constraints, member
  schema); the engine checks and defaults the values and hands them over as
  ``self.props``;
- ``attributes_schema``: the names ``get_attr`` may use (``show`` is always
  there), answered by :meth:`Resource.resolve_attribute`;
- the actions, each a ``handle_*`` that starts the work and a
  ``check_*_complete`` the engine calls until it returns True (raise to fail):
  create, update (in place; a change to a property that is not
  ``update_allowed`` replaces the resource instead), delete, suspend, resume,
  and :meth:`Resource.handle_check`;
- ``resource_id`` (the physical id), ``data`` (a small dict persisted with
  the resource) and :meth:`Resource.reference_id` (what ``get_resource`` gives).

Plugins work through the services' models (``self.cloud.network`` ...) with the
stack owner's context (``self.ctx``), so what a stack makes is what the other
APIs show. Adding a type is one class in a family module, listed in that
module's ``TYPES``; a family module is listed in ``resources/__init__.py``.
"""

from __future__ import annotations

import contextlib
import contextvars
import random
import string
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from stacksim import faults
from stacksim.heat import errors
from stacksim.heat.constraints import Checker, Constraint, CustomConstraint, str_to_num
from stacksim.heat.functions import UNRESOLVED, select

if TYPE_CHECKING:
    from stacksim.auth import Context
    from stacksim.cloud import Cloud
    from stacksim.heat.run import StackRun
    from stacksim.heat.stack import ResourceDefinition, StackDefinition

PROP_TYPES = ("string", "integer", "number", "boolean", "map", "list", "any")


@dataclass(frozen=True)
class Prop:
    type: str
    description: str = ""
    required: bool = False
    default: Any = None
    update_allowed: bool = False
    immutable: bool = False
    constraints: tuple[Constraint, ...] = ()
    #: members of a map (name -> Prop) or the items of a list (a Prop)
    schema: Any = None
    support_status: str = "SUPPORTED"

    def as_dict(self) -> dict[str, Any]:
        """The property as ``GET /resource_types/{type}`` shows it."""
        out: dict[str, Any] = {
            "type": self.type if self.type != "any" else "string",
            "description": self.description,
            "required": self.required,
            "update_allowed": self.update_allowed,
            "immutable": self.immutable,
        }
        if self.default is not None:
            out["default"] = self.default
        if self.constraints:
            out["constraints"] = [c.as_dict() for c in self.constraints]
        if isinstance(self.schema, Prop):
            out["schema"] = {"*": self.schema.as_dict()}
        elif isinstance(self.schema, Mapping):
            out["schema"] = {k: v.as_dict() for k, v in self.schema.items()}
        return out


@dataclass(frozen=True)
class Attr:
    description: str
    type: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"description": self.description}
        if self.type:
            out["type"] = self.type
        return out


SHOW = Attr("Detailed information about resource.", "map")


class ResourceInError(Exception):
    """The physical resource went to an error state."""

    def __init__(self, status: str, reason: str) -> None:
        super().__init__(f'Went to status {status} due to "{reason}"')


class ResourceUnknownStatus(Exception):
    def __init__(self, status: str, reason: str, result: str = "Resource failed") -> None:
        super().__init__(f'{result} - Unknown status {status} due to "{reason}"')


class NotCheckable(Exception):
    """The type has no ``handle_check``: CHECK reports it as not supported."""


class UpdateReplace(Exception):
    """Raised by ``handle_update``: this change needs a new physical resource."""


# -- property values ------------------------------------------------------------------------


def _failed(path: list[Any], message: str) -> errors.StackValidationFailed:
    return errors.StackValidationFailed(message, path=path, error="Property error")


def coerce(prop: Prop, value: Any, path: list[Any], checker: Checker | None) -> Any:
    """``value`` as the property's type, its members checked and its constraints met."""
    if value is UNRESOLVED:
        return value
    kind = prop.type
    try:
        if kind == "string":
            if isinstance(value, str):
                typed: Any = value
            elif isinstance(value, bool | int | float):
                typed = str(value)
            else:
                raise ValueError(f"Value must be a string; got {value!r}")
        elif kind == "integer":
            if isinstance(value, bool):
                raise ValueError(f"Value '{value}' is not an integer")
            try:
                typed = int(value)
            except (TypeError, ValueError):
                raise ValueError(f"Value '{value}' is not an integer") from None
            if isinstance(value, float) and value != typed:
                raise ValueError(f"Value '{value}' is not an integer")
        elif kind == "number":
            typed = str_to_num(value)
        elif kind == "boolean":
            if isinstance(value, bool):
                typed = value
            elif str(value).lower() in ("true", "false"):
                typed = str(value).lower() == "true"
            else:
                raise ValueError(f'"{str(value).lower()}" is not a valid boolean')
        elif kind == "map":
            if not isinstance(value, Mapping):
                raise ValueError(f'"{value}" is not a map')
            typed = dict(value)
            if isinstance(prop.schema, Mapping):
                typed = check_properties(prop.schema, typed, path, checker)
        elif kind == "list":
            if isinstance(value, str) or not isinstance(value, list | tuple):
                raise ValueError(f'"{value!r}" is not a list')
            typed = list(value)
            if isinstance(prop.schema, Prop):
                typed = [coerce(prop.schema, item, [*path, i], checker) for i, item in enumerate(typed)]
        else:
            typed = value
    except errors.StackValidationFailed:
        raise
    except (TypeError, ValueError) as exc:
        raise _failed(path, str(exc)) from None
    if any(v is UNRESOLVED for v in _leaves(typed)):
        return typed
    for constraint in prop.constraints:
        if isinstance(constraint, CustomConstraint) and typed in (None, ""):
            continue
        try:
            constraint.check(typed, checker)
        except (TypeError, ValueError) as exc:
            raise _failed(path, str(exc)) from None
    return typed


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, Mapping):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


def check_properties(
    schema: Mapping[str, Prop], values: Any, path: list[Any], checker: Checker | None
) -> dict[str, Any]:
    """Heat's property checks: unknown names, required ones, types, constraints; defaults filled in.

    ``path`` prefixes error paths (``resources.server.properties`` at
    validation, ``server.Properties`` when the resource is made, as in Heat).
    """
    if values is None:
        values = {}
    if values is UNRESOLVED:
        return {k: p.default for k, p in schema.items()}
    if not isinstance(values, Mapping):
        raise _failed(path, f'"{values}" is not a map')
    for key in values:
        if key not in schema:
            raise _failed(path, f"Unknown Property {key}")
    out: dict[str, Any] = {}
    for key, prop in schema.items():
        value = values.get(key)
        if value is None:
            if prop.default is not None:
                out[key] = prop.default
                continue
            if prop.required:
                raise _failed(path, f"Property {key} not assigned")
            out[key] = None
            continue
        out[key] = coerce(prop, value, [*path, key], checker)
    return out


def short_id(seed: str) -> str:
    """Heat's 12-character id part of a physical resource name (stable for a resource)."""
    rng = random.Random(seed)
    return "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(12))


# -- checks whose answer changes with time ---------------------------------------------------------


class Recheck:
    """When the engine's step under way was asked to look again, whatever changes (monotonic seconds)."""

    at: float | None = None


_RECHECK: contextvars.ContextVar[Recheck | None] = contextvars.ContextVar("stacksim_heat_recheck", default=None)


@contextlib.contextmanager
def rechecking() -> Iterator[Recheck]:
    """The engine's side: collect what :func:`recheck_after` asks during one step."""
    hint = Recheck()
    token = _RECHECK.set(hint)
    try:
        yield hint
    finally:
        _RECHECK.reset(token)


def recheck_after(seconds: float) -> None:
    """For a ``check_*_complete`` whose answer changes with time alone (a wait condition's
    time-out): the engine looks again after ``seconds`` even if nothing else changed. Other
    checks need not call it: the engine looks again whenever a job ends or an API call is made."""
    hint = _RECHECK.get()
    if hint is not None:
        at = time.monotonic() + max(0.0, seconds)
        hint.at = at if hint.at is None else min(hint.at, at)


# -- the plugin base class -------------------------------------------------------------------------


@dataclass
class Runtime:
    """What a resource acts with: the cloud, the stack owner's rights, its stack's run."""

    cloud: Cloud
    ctx: Context
    run: StackRun
    checker: Checker | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Resource:
    type_name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    properties_schema: ClassVar[dict[str, Prop]] = {}
    attributes_schema: ClassVar[dict[str, Attr]] = {}
    #: get_attr may name attributes outside the schema (groups, nested stacks)
    dynamic_attributes: ClassVar[bool] = False
    #: a replacement deletes the old physical resource before making the new one
    replace_delete_first: ClassVar[bool] = False
    #: the longest physical name this type takes
    name_limit: ClassVar[int] = 255
    support_status: ClassVar[str] = "SUPPORTED"

    def __init__(self, rt: Runtime, name: str, record: dict[str, Any]) -> None:
        self.rt = rt
        self.name = name
        self.record = record
        self.props: dict[str, Any] = dict(record.get("properties") or {})

    # -- conveniences -----------------------------------------------------------------

    @property
    def cloud(self) -> Cloud:
        return self.rt.cloud

    @property
    def ctx(self) -> Context:
        return self.rt.ctx

    @property
    def store(self) -> Any:
        return self.rt.cloud.store

    @property
    def resource_id(self) -> str | None:
        return self.record.get("physical_id") or None

    @resource_id.setter
    def resource_id(self, value: str | None) -> None:
        self.record["physical_id"] = value or ""

    @property
    def data(self) -> dict[str, Any]:
        return self.record.setdefault("data", {})

    def physical_name(self) -> str:
        """``<stack>-<resource>-<12 chars>``, as Heat names what a template does not name."""
        suffix = short_id(self.record.get("uuid") or self.name)
        name = f"{self.rt.run.name}-{self.name}-{suffix}"
        if len(name) > self.name_limit:
            keep = self.name_limit - len(suffix) - 1
            name = f"{name[:keep]}-{suffix}"
        return name

    def name_or_physical(self, key: str = "name") -> str:
        return self.props.get(key) or self.physical_name()

    # -- validation -------------------------------------------------------------------

    @classmethod
    def implicit_dependencies(cls, name: str, properties: Any, definitions: Mapping[str, Any]) -> set[str]:
        """Resources this one needs although its properties do not name them (Heat's add_dependencies)."""
        return set()

    @classmethod
    def attribute_known(cls, attr: str) -> bool:
        return cls.dynamic_attributes or attr == "show" or attr in cls.attributes_schema

    @classmethod
    def attribute_known_for(cls, stack: StackDefinition, defn: ResourceDefinition, attr: str) -> bool:
        return cls.attribute_known(attr)

    @classmethod
    def schema_for(cls, stack: StackDefinition, defn: ResourceDefinition) -> dict[str, Prop]:
        return cls.properties_schema

    @classmethod
    def validate_definition(
        cls, stack: StackDefinition, defn: ResourceDefinition, props: dict[str, Any], checker: Checker | None
    ) -> None:
        """Checks across properties (values may be unresolved while a stack is validated).

        Called when the stack is validated and again, with every value known,
        just before the resource is made. Raise StackValidationFailed.
        """

    # -- actions (override) ---------------------------------------------------------------

    def handle_create(self) -> None:
        pass

    def check_create_complete(self) -> bool:
        return True

    def handle_update(self, changed: dict[str, Any], old: dict[str, Any]) -> None:
        """Apply ``changed`` (new values of the update-allowed properties that changed) in place."""

    def check_update_complete(self) -> bool:
        return True

    def handle_delete(self) -> None:
        pass

    def check_delete_complete(self) -> bool:
        return True

    def handle_suspend(self) -> None:
        pass

    def check_suspend_complete(self) -> bool:
        return True

    def handle_resume(self) -> None:
        pass

    def check_resume_complete(self) -> bool:
        return True

    def handle_check(self) -> None:
        raise NotCheckable

    def handle_signal(self, details: Any) -> None:
        """A signal (``POST .../resources/{name}/signal``); types that take none refuse it."""
        raise errors.HeatError("Signal is not supported for resource.")

    def signal_token(self) -> str | None:
        """A secret that lets a caller without a Keystone token signal this resource."""
        return None

    # -- what templates read -----------------------------------------------------------

    def abort(self) -> None:
        """The action under way was stopped (a failure elsewhere, a cancel, a time-out)."""

    def needs_update(self) -> bool:
        """Changed although its properties did not (a template resource's template)."""
        return False

    def reference_id(self) -> Any:
        return self.resource_id if self.resource_id is not None else self.name

    def get_attribute_path(self, attr: str, path: list[Any]) -> Any:
        """``get_attr: [name, attr, path...]``; types whose attributes take the path override this."""
        return select(self.get_attribute(attr), path)

    def get_attribute(self, attr: str) -> Any:
        if attr == "show":
            return self.show()
        if not self.attribute_known(attr):
            raise errors.InvalidTemplateAttribute(self.name, attr)
        return self.resolve_attribute(attr)

    def all_attributes(self) -> dict[str, Any]:
        return {name: self.get_attribute(name) for name in self.attributes_schema}

    def resolve_attribute(self, attr: str) -> Any:
        return None

    def show(self) -> Any:
        return None

    # -- helpers for plugins ----------------------------------------------------------------

    @staticmethod
    def gone(exc: BaseException) -> bool:
        """Is this the error a model raises for a physical resource that no longer exists?"""
        return isinstance(exc, faults.NotFound)

    def nested_stack_id(self) -> str | None:
        return None


def schema_dict(cls: type[Resource]) -> dict[str, Any]:
    """``GET /resource_types/{type}``: the type's properties, attributes and status."""
    attributes = {k: v.as_dict() for k, v in cls.attributes_schema.items()}
    attributes.setdefault("show", SHOW.as_dict())
    return {
        "resource_type": cls.type_name,
        "properties": {k: v.as_dict() for k, v in cls.properties_schema.items()},
        "attributes": attributes,
        "support_status": {"status": cls.support_status, "version": None, "message": None, "previous_status": None},
        "description": cls.description,
    }
