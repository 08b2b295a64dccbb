"""The resource plugin interface, and the declarative mapping most types are written in.

A plugin says what its type looks like and how to make it real:

- ``type_name`` (``OS::Nova::Server``), ``description``;
- ``properties_schema``: Heat's property names with :class:`Prop` (type,
  default, required, ``update_allowed``, ``immutable``, constraints, member
  schema); the engine checks and defaults the values and hands them over as
  ``self.props``. A changed property that is not ``update_allowed`` makes the
  engine replace the resource (a new one is made, then the old one deleted);
  an ``immutable`` one makes the update fail;
- ``attributes_schema``: the names ``get_attr`` may use (``show`` is always
  there), answered by :meth:`Resource.resolve_attribute`;
- the actions, each a ``handle_*`` that starts the work and a
  ``check_*_complete`` the engine calls until it returns True (raise to fail):
  create, update (in place), delete, suspend, resume, and
  :meth:`Resource.handle_check`;
- ``resource_id`` (the physical id), ``data`` (a small dict persisted with
  the resource) and :meth:`Resource.reference_id` (what ``get_resource`` gives).

Plugins work through the services' facades (``self.cloud.network`` ...) with
the stack owner's context (``self.ctx``), so what a stack makes is what the
other APIs show. Adding a type is one class in a family module, listed in that
module's ``TYPES``; a family module is listed in ``resources/__init__.py``.

The declarative mapping
-----------------------

A type backed by a service resource is a :class:`Mapped` class: its schemas and
one :class:`Table` that says, with no code of its own,

- ``service``: which facade it works through, a :class:`~stacksim.cloud.Cloud`
  attribute (``compute``, ``network``, ``volume``, ``image``, ``identity``,
  ``orchestration``; Heat's own types may name a part of their own service,
  ``orchestration.configs``);
- ``create``, ``update``, ``delete``, ``check``, ``suspend``, ``resume``: each a
  :class:`Call` of one facade method, ``fn(facade, ctx, [physical id,] request)``.
  The request is the call's typed ``request`` class (a dataclass of the
  service's ``model.py``), filled from the properties: a request field takes
  the property of the same name, unless ``fields`` says otherwise (another
  property's name, or a :class:`From` that computes it from properties).
  Without a request class the values go as keyword arguments; with neither
  the call gets only the id. Create sends every value that is not None; an
  update sends only the fields whose properties changed (a property changed
  to None sends None: an update request's fields all have defaults that mean
  "leave it"), and a :class:`Call` in ``update`` whose properties did not
  change is not made at all, so a tuple of calls can split an update (tags
  apart from the rest). Create's result gives the physical id (``id`` of a
  record or view, or the string itself);
- ``view``: ``fn(facade, ctx, physical id)``, the facade's view of the thing
  (a dict or a dataclass); a ``NotFound`` from it means the thing is gone;
- ``attributes``: where ``get_attr`` reads each attribute in the view: the
  view field of the same name by default, another field's name, or
  ``fn(res, view)``; ``show`` is the whole view;
- what *ready* means: each call's ``ready(view) -> bool`` (:class:`Status`
  for a status field; raise :class:`ResourceInError` to fail). The engine
  calls ``check_*_complete`` again whenever the lifecycle reports a change (a
  job ended, an API call was made: see :mod:`stacksim.heat.engine`), so a
  ready test only reads; nothing sleeps or polls on a timer. A delete is done
  when the view is gone (or, with a ``ready``, when it says so). A type
  without ``suspend``/``resume`` passes through them; ``check`` without a
  table entry checks that the view exists.

Anything a table cannot say stays a method: override ``handle_*`` or
``resolve_attribute`` in the class (and call ``super()``), or add
``validate_definition``/``implicit_dependencies`` as for any plugin.

A complete example (the request classes are the block-storage service's)::

    from stacksim.heat.constraints import Range
    from stacksim.heat.lookup import image
    from stacksim.heat.resources.base import Attr, Call, From, Mapped, Prop, Status, Table, physical_name
    from stacksim.services.volume.model import BlockStorage, VolumeCreate, VolumeUpdate


    class Volume(Mapped):
        type_name = "OS::Cinder::Volume"
        description = "A resource that implements Cinder volumes."
        properties_schema = {
            "name": Prop("string", "A name used to distinguish the volume.", update_allowed=True),
            "size": Prop("integer", "The size of the volume in GB.", constraints=(Range(min=1),)),
            "image": Prop("string", "The name or ID of the image to create the volume from."),
            "metadata": Prop("map", "Key/value pairs to associate with the volume.", default={}, update_allowed=True),
        }
        attributes_schema = {
            "display_name": Attr("Name of the volume.", "string"),
            "size": Attr("The size of the volume in GB.", "string"),
            "status": Attr("The current status of the volume.", "string"),
        }
        table = Table(
            service="volume",
            create=Call(
                BlockStorage.create_volume,
                VolumeCreate,  # name, size, image_id, metadata
                fields={
                    "name": physical_name(),
                    "image_id": From(("image",), lambda res, ref: ref and image(res.cloud, res.ctx, ref)["id"]),
                },
                ready=Status(ok=("available",), failed=("error",)),
            ),
            update=Call(BlockStorage.update_volume, VolumeUpdate, fields={"name": physical_name()}),
            delete=Call(BlockStorage.delete_volume),
            view=BlockStorage.volume,
            attributes={"display_name": "name"},
        )

    TYPES = (Volume,)

``size`` is not ``update_allowed``, so a new size replaces the volume; a new
name or metadata is one ``update_volume`` call with a ``VolumeUpdate`` that
carries only what changed; the stack goes on once ``volume(ctx, id).status``
is ``available`` and fails if it is ``error``. ``OS::Heat::SoftwareConfig`` and
its kin (:mod:`.heat`) are tables too, and ``tests/test_orchestration_mapping.py``
shows every entry of a table at work.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import operator
import random
import string
import time
from collections.abc import Callable, Iterator, Mapping
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


# -- the declarative mapping onto a service's facade ----------------------------------------------


@dataclass(frozen=True)
class From:
    """A request field computed from properties: ``fn(res, *their values)``.

    An update sends it when one of ``props`` changed (never, if ``props`` is
    empty: a value only a create sends).
    """

    props: tuple[str, ...]
    fn: Callable[..., Any]


def physical_name(prop: str = "name") -> From:
    """The property if it is set, else Heat's ``<stack>-<resource>-<12 chars>`` (also when it is cleared)."""
    return From((prop,), lambda res, value: value or res.physical_name())


#: where a request field comes from: a property's name, or a :class:`From`
Source = str | From


@dataclass(frozen=True)
class Status:
    """A ``ready`` test on a status field: True at one of ``ok``; :class:`ResourceInError` at one of ``failed``.

    ``reason`` names the view field that says why it failed (a fault message), if there is one.
    """

    ok: tuple[str, ...]
    failed: tuple[str, ...] = ()
    field: str = "status"
    reason: str | None = None

    def __call__(self, view: Any) -> bool:
        value = field_of(view, self.field)
        if value in self.failed:
            raise ResourceInError(str(value), str((field_of(view, self.reason) if self.reason else None) or "Unknown"))
        return value in self.ok

    def mismatch(self, view: Any) -> str:
        wanted = self.ok[0] if len(self.ok) == 1 else list(self.ok)
        return f"'{self.field}': expected '{wanted}', got '{field_of(view, self.field)}'"


class NotReady(Exception):
    """A CHECK found the physical resource in a state other than ready."""


_SKIPPED = object()


@dataclass(frozen=True)
class Call:
    """One facade call: ``fn(facade, ctx, [physical id,] request)``, and what ready means after it.

    ``request`` is the service's typed request (a dataclass); its fields take
    the properties of the same names, ``fields`` adds or overrides sources
    (request field -> property name or :class:`From`). Without ``request`` the
    values are keyword arguments. ``fn`` may be None for a ``check`` that only
    tests ``ready`` on the view.
    """

    fn: Callable[..., Any] | None
    request: type | None = None
    fields: Mapping[str, Source] = field(default_factory=dict)
    ready: Callable[[Any], bool] | None = None

    def sources(self, schema: Mapping[str, Prop]) -> dict[str, Source]:
        auto: dict[str, Source] = {}
        if self.request is not None and dataclasses.is_dataclass(self.request):
            auto = {f.name: f.name for f in dataclasses.fields(self.request) if f.init and f.name in schema}
        return {**auto, **self.fields}

    def values(self, res: Resource, changed: set[str] | None = None) -> dict[str, Any]:
        """The request's values: all that are set (a create), or those whose properties changed (an update)."""
        out: dict[str, Any] = {}
        for name, source in self.sources(res.properties_schema).items():
            props = (source,) if isinstance(source, str) else source.props
            if changed is not None and not changed.intersection(props):
                continue
            if isinstance(source, str):
                value = res.props.get(source)
            else:
                value = source.fn(res, *(res.props.get(p) for p in source.props))
            if value is None and changed is None:
                continue
            out[name] = value
        return out

    def invoke(self, res: Mapped, *ids: str, changed: set[str] | None = None) -> Any:
        """Make the call (an update's only if one of its properties changed; else ``_SKIPPED``)."""
        if self.fn is None:
            return None
        values = self.values(res, changed)
        if changed is not None and not values:
            return _SKIPPED
        args = (res.facade, res.ctx, *ids)
        if self.request is not None:
            return self.fn(*args, self.request(**values))
        return self.fn(*args, **values)


#: an attribute's source in the view: a field name, or ``fn(res, view)``
AttrSource = str | Callable[["Mapped", Any], Any]


@dataclass(frozen=True)
class Table:
    """What a :class:`Mapped` type does, through which facade calls (see the module's docstring)."""

    service: str
    create: Call | None = None
    update: Call | tuple[Call, ...] = ()
    delete: Call | None = None
    view: Callable[..., Any] | None = None
    check: Call | None = None
    suspend: Call | None = None
    resume: Call | None = None
    attributes: Mapping[str, AttrSource] = field(default_factory=dict)

    @property
    def updates(self) -> tuple[Call, ...]:
        return self.update if isinstance(self.update, tuple) else (self.update,)


def field_of(view: Any, name: str) -> Any:
    """A field of a view, a dict or an object (a dataclass)."""
    if isinstance(view, Mapping):
        return view.get(name)
    return getattr(view, name, None)


def as_plain(view: Any) -> Any:
    """A view as ``show`` gives it: a dict (a dataclass's fields), or the value itself."""
    if dataclasses.is_dataclass(view) and not isinstance(view, type):
        return dataclasses.asdict(view)
    return view


def id_of(made: Any) -> str:
    """The physical id a create's result gives: its ``id``, or the result itself."""
    if isinstance(made, str):
        return made
    found = field_of(made, "id")
    if not found:
        raise TypeError(f"a create call returned no id: {made!r}")
    return str(found)


class Mapped(Resource):
    """A resource type that is a :class:`Table` of calls to one service's facade."""

    table: ClassVar[Table]

    @property
    def facade(self) -> Any:
        """The service's facade the table names (``cloud.network`` ...)."""
        return operator.attrgetter(self.table.service)(self.cloud)

    def view(self) -> Any:
        """The facade's view of the physical resource; None if there is none (never made, or gone)."""
        if not self.resource_id or self.table.view is None:
            return None
        try:
            return self.table.view(self.facade, self.ctx, self.resource_id)
        except Exception as exc:
            if self.gone(exc):
                return None
            raise

    def _existing(self) -> Any:
        view = self.view()
        if view is None:
            raise faults.NotFound(f"The resource {self.type_name} ({self.resource_id}) could not be found.")
        return view

    def _ready(self, calls: tuple[Call | None, ...]) -> bool:
        tests = [c.ready for c in calls if c is not None and c.ready is not None]
        if not tests:
            return True
        view = self._existing()
        return all(test(view) for test in tests)

    # -- the actions, from the table ----------------------------------------------------------

    def handle_create(self) -> None:
        create = self.table.create
        self.resource_id = id_of(create.invoke(self)) if create is not None else self.physical_name()

    def check_create_complete(self) -> bool:
        return self._ready((self.table.create,))

    def handle_update(self, changed: dict[str, Any], old: dict[str, Any]) -> None:
        calls = self.table.updates
        made = [call.invoke(self, self.resource_id or "", changed=set(changed)) for call in calls]
        self._updated = tuple(call for call, result in zip(calls, made, strict=True) if result is not _SKIPPED)

    def check_update_complete(self) -> bool:
        return self._ready(getattr(self, "_updated", self.table.updates))

    def handle_delete(self) -> None:
        if self.table.delete is None or not self.resource_id:
            return
        try:
            self.table.delete.invoke(self, self.resource_id)
        except Exception as exc:
            if not self.gone(exc):
                raise

    def check_delete_complete(self) -> bool:
        if self.table.delete is None:
            return True
        view = self.view()
        if view is None:
            return True
        ready = self.table.delete.ready
        return ready is not None and ready(view)

    def handle_suspend(self) -> None:
        if self.table.suspend is not None:
            self.table.suspend.invoke(self, self.resource_id or "")

    def check_suspend_complete(self) -> bool:
        return self._ready((self.table.suspend,))

    def handle_resume(self) -> None:
        if self.table.resume is not None:
            self.table.resume.invoke(self, self.resource_id or "")

    def check_resume_complete(self) -> bool:
        return self._ready((self.table.resume,))

    def handle_check(self) -> None:
        check = self.table.check
        if check is not None:
            check.invoke(self, self.resource_id or "")
        if self.table.view is None:
            return
        view = self._existing()
        if check is not None and check.ready is not None and not check.ready(view):
            ready = check.ready
            raise NotReady(ready.mismatch(view) if isinstance(ready, Status) else f"{self.type_name} is not ready")

    # -- attributes, from the view ------------------------------------------------------------

    def resolve_attribute(self, attr: str) -> Any:
        view = self.view()
        if view is None:
            return None
        source = self.table.attributes.get(attr, attr)
        return source(self, view) if callable(source) else field_of(view, source)

    def show(self) -> Any:
        return as_plain(self.view())
