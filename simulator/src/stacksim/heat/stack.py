"""A stack's definition: its template read with its environment and parameters.

:class:`StackDefinition` parses a template into resource and output
definitions (functions parsed for the template's version, conditions
applied, types looked up through the environment's registry), builds the
resource graph and validates it all the way Heat does, with Heat's messages:
sections and keywords, parameters and their constraints, resource types,
references (``get_resource``/``get_attr``/``depends_on``), attributes,
cycles, and each resource's properties against its type's schema (values
that need other resources stay unresolved and are checked when the resource
is made).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from stacksim.heat import errors, functions, graph
from stacksim.heat.constraints import Checker
from stacksim.heat.environment import Environment, looks_like_template
from stacksim.heat.functions import UNRESOLVED
from stacksim.heat.limits import DEFAULT, Limits
from stacksim.heat.parameters import Parameters
from stacksim.heat.resources.base import Resource, check_properties
from stacksim.heat.template import Template, parse_template

#: resolve a (registry-resolved) type name to a plugin class; None if unknown
TypeResolver = Callable[[str, "StackDefinition"], "type[Resource] | None"]


@dataclass
class ResourceDefinition:
    name: str
    type: str
    plugin: type[Resource]
    properties: Any
    metadata: Any
    depends_on: list[str]
    deletion_policy: str
    update_policy: Any
    description: str
    external_id: Any = None
    snippet: dict[str, Any] = field(default_factory=dict)


@dataclass
class OutputDefinition:
    name: str
    value: Any
    description: str | None


class Conditions:
    """The ``conditions`` section, evaluated on demand (Heat's rules and messages)."""

    def __init__(self, template: Template, scope_for: Callable[[], functions.Scope]) -> None:
        self._template = template
        self._scope_for = scope_for
        self._defs: dict[str, Any] = {}
        self._resolved: dict[str, bool] = {}
        self._resolving: set[str] = set()
        parser = template.parser(self.is_enabled)
        for name, body in template.conditions.items():
            try:
                self._defs[str(name)] = parser.parse_condition(body)
            except (TypeError, ValueError, KeyError) as exc:
                raise errors.StackValidationFailed(
                    functions._text(exc), path=["conditions", str(name)], error="Condition validation error"
                ) from None

    def is_enabled(self, name: Any) -> bool:
        if name is None:
            return True
        if isinstance(name, bool):
            return name
        if isinstance(name, functions.Function):
            value = name.result(self._scope_for())
            return True if value is UNRESOLVED else bool(value)
        if not isinstance(name, str) or name not in self._defs:
            raise ValueError(f'Invalid condition "{name}"')
        if name not in self._resolved:
            if name in self._resolving:
                raise ValueError(f'Circular definition for condition "{name}"')
            self._resolving.add(name)
            try:
                self._resolved[name] = self._evaluate(name)
            finally:
                self._resolving.discard(name)
        return self._resolved[name]

    def _evaluate(self, name: str) -> bool:
        definition = self._defs[name]
        if not isinstance(definition, bool | functions.Function):
            raise errors.StackValidationFailed(
                f'The definition of condition "{name}" is invalid: {definition}', error="Condition validation error"
            )
        if isinstance(definition, bool):
            return definition
        value = definition.result(self._scope_for())
        if value is UNRESOLVED:
            return True
        return bool(value)

    def all(self) -> dict[str, bool]:
        return {name: self.is_enabled(name) for name in self._defs}


class StackDefinition:
    """Everything a stack is made from, parsed and (on :meth:`validate`) checked."""

    def __init__(
        self,
        template: Any,
        *,
        files: Mapping[str, str] | None = None,
        environment: Environment | None = None,
        stack_name: str = "",
        stack_id: str = "",
        project_id: str = "",
        resolve_type: TypeResolver,
        strict: bool = True,
        validate_only: bool = False,
        depth: int = 0,
        facade: Mapping[str, Any] | None = None,
        limits: Limits = DEFAULT,
    ) -> None:
        limits.check_nesting(depth)
        self.limits = limits
        self.raw = parse_template(template, limits)
        self.files = dict(files or {})
        self.template = Template(self.raw, self.files)
        self.template.validate_structure()
        self.env = environment or Environment()
        self.depth = depth
        self.validate_only = validate_only
        self.facade = dict(facade or {})
        self.stack_name, self.stack_id, self.project_id = stack_name, stack_id, project_id
        self.resolve_type = resolve_type
        self.params = Parameters(
            self.template,
            self.env.parameters,
            self.env.parameter_defaults,
            {"OS::stack_name": stack_name, "OS::stack_id": stack_id, "OS::project_id": project_id},
            strict=strict,
        )
        self.conditions = Conditions(self.template, lambda: ValidationScope(self))
        parser = self.template.parser(self._condition)
        self.declared = [str(n) for n in self.template.resources]
        self.resources: dict[str, ResourceDefinition] = {}
        for name, body in self.template.resources.items():
            name = str(name)
            try:
                if not self._enabled(body.get("condition"), ["resources", name, "condition"]):
                    continue
                self.resources[name] = self._resource(name, body, parser)
            except (TypeError, ValueError, KeyError) as exc:
                raise errors.StackValidationFailed(functions._text(exc)) from None
        self.outputs: dict[str, OutputDefinition] = {}
        for name, body in self.template.outputs.items():
            name = str(name)
            try:
                if not self._enabled(body.get("condition"), ["outputs", name, "condition"]):
                    continue
                self.outputs[name] = OutputDefinition(name, parser.parse(body.get("value")), body.get("description"))
            except (TypeError, ValueError, KeyError) as exc:
                raise errors.StackValidationFailed(functions._text(exc)) from None
        self.requires = self._graph()

    # -- parsing ---------------------------------------------------------------------------------

    def _condition(self, condition: Any) -> bool:
        return self.conditions.is_enabled(condition)

    def _enabled(self, condition: Any, path: list[Any]) -> bool:
        if condition is None:
            return True
        if not isinstance(condition, str | bool):
            condition = self.template.parser().parse_condition(condition)
        try:
            return self.conditions.is_enabled(condition)
        except ValueError as exc:
            raise errors.StackValidationFailed(str(exc), path=path) from None

    def _resource(self, name: str, body: Mapping[str, Any], parser: functions.Parser) -> ResourceDefinition:
        type_name = body.get("type")
        if not isinstance(type_name, str):
            raise errors.StackValidationFailed(f'Resource {name} is missing "type"')
        plugin = self.plugin_for(type_name, name)
        depends = body.get("depends_on") or []
        if isinstance(depends, str):
            depends = [depends]
        if not isinstance(depends, list):
            raise errors.StackValidationFailed(
                f"Resource {name} depends_on type must be list or string, not {type(depends).__name__}",
            )
        policy = parser.parse(body.get("deletion_policy"))
        if isinstance(policy, functions.Function):
            policy = functions.resolve(policy, ValidationScope(self))
        policies = self.template.deletion_policies
        if policy is not None and policy is not UNRESOLVED:
            if policy not in policies:
                raise errors.StackValidationFailed(f'Invalid deletion policy "{policy}"')
            policy = policies[policy]
        properties = parser.parse(body.get("properties"))
        metadata = parser.parse(body.get("metadata"))
        for key, value, kind in (("properties", properties, "object"), ("metadata", metadata, "object")):
            if value is not None and not isinstance(value, Mapping | functions.Function):
                raise errors.StackValidationFailed(
                    f"Resource {name} {key} type must be {kind}", path=["resources", name, key]
                )
        return ResourceDefinition(
            name=name,
            type=type_name,
            plugin=plugin,
            properties=properties,
            metadata=metadata,
            depends_on=[str(d) for d in depends],
            deletion_policy=policy if isinstance(policy, str) else "Delete",
            update_policy=parser.parse(body.get("update_policy")),
            description=str(body.get("description") or ""),
            external_id=parser.parse(body.get("external_id")),
            snippet=dict(body),
        )

    def plugin_for(self, type_name: str, resource_name: str | None = None) -> type[Resource]:
        resolved = self.env.resolve_type(type_name, resource_name)
        plugin = self.resolve_type(resolved, self)
        if plugin is None:
            if looks_like_template(resolved) and resolved not in self.files:
                raise errors.StackValidationFailed(f'Could not fetch remote template "{resolved}": Invalid URL scheme')
            raise errors.ResourceTypeNotFound(type_name)
        return plugin

    def _graph(self) -> dict[str, set[str]]:
        requires: dict[str, set[str]] = {name: set() for name in self.resources}
        for name, defn in self.resources.items():
            needs = requires[name]
            for section, snippet in (("Properties", defn.properties), ("Metadata", defn.metadata)):
                for target, path in functions.dependencies(snippet, f"{name}.{section}"):
                    optional = path.startswith("?")
                    if target in self.resources:
                        needs.add(target)
                    elif target not in self.declared and not optional:
                        raise errors.InvalidTemplateReference(target, path.lstrip("?"))
            for target in defn.depends_on:
                if target in self.resources:
                    needs.add(target)
                elif target not in self.declared:
                    raise errors.InvalidTemplateReference(target, f"{name}.DependsOn")
            needs |= defn.plugin.implicit_dependencies(name, defn.properties, self.resources) & set(self.resources)
            needs.discard(name)
        for name, output in self.outputs.items():
            for target, path in functions.dependencies(output.value, f"{name}.Value"):
                if target not in self.declared and not path.startswith("?"):
                    raise errors.InvalidTemplateReference(target, "unknown")
        return requires

    # -- validation -----------------------------------------------------------------------------

    def label(self, name: str) -> str:
        plugin = self.resources[name].plugin if name in self.resources else None
        return f'{plugin.__name__ if plugin else "Resource"} "{name}"'

    def order(self) -> list[str]:
        return graph.order(self.requires, self.label)

    def validate(self, checker: Checker | None = None) -> None:
        """Heat's stack validation; raises the first problem found."""
        self.params.validate(checker, validate_value=not self.validate_only)
        self.order()
        scope = ValidationScope(self)
        for name, defn in self.resources.items():
            base = ["resources", name]
            functions.validate(defn.properties, scope, [*base, "properties"])
            functions.validate(defn.metadata, scope, [*base, "metadata"])
            if defn.external_id is not None:
                continue
            props = self.check_properties(defn, scope, checker, [*base, "properties"])
            defn.plugin.validate_definition(self, defn, props, checker)
        for name, output in self.outputs.items():
            functions.validate(output.value, scope, ["outputs", name, "value"])

    def check_properties(
        self, defn: ResourceDefinition, scope: functions.Scope, checker: Checker | None, path: list[Any]
    ) -> dict[str, Any]:
        try:
            values = functions.resolve(defn.properties, scope)
        except errors.StackValidationFailed:
            raise
        except (TypeError, ValueError, KeyError) as exc:
            raise errors.StackValidationFailed(functions._text(exc), path=path, error="Property error") from None
        schema = defn.plugin.schema_for(self, defn)
        return check_properties(schema, values, path, checker)


class ValidationScope:
    """Resolution while validating: parameters are known, resources are not made yet."""

    def __init__(self, defn: StackDefinition) -> None:
        self.defn = defn
        self.limits = defn.limits

    def param(self, name: str) -> Any:
        params = self.defn.params
        if self.defn.validate_only and name in params.schemas and not params.has_value(name):
            return UNRESOLVED
        return params.value(name)

    def file(self, key: str) -> str | None:
        return self.defn.files.get(key)

    def has_resource(self, name: str) -> bool:
        return name in self.defn.declared

    def ref(self, name: str) -> Any:
        return UNRESOLVED if name in self.defn.resources else None

    def attr(self, name: str, attr: str, path: list[Any]) -> Any:
        return UNRESOLVED if name in self.defn.resources else None

    def all_attrs(self, name: str) -> Any:
        return UNRESOLVED if name in self.defn.resources else None

    def attribute_known(self, name: str, attr: str) -> bool:
        defn = self.defn.resources.get(name)
        if defn is None:
            return True  # disabled by a condition: nothing to check
        return defn.plugin.attribute_known_for(self.defn, defn, attr)

    def condition(self, name: Any) -> bool:
        return self.defn.conditions.is_enabled(name)

    def facade(self, what: str) -> Any:
        return self.defn.facade.get(what, UNRESOLVED)
