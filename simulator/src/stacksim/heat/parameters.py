"""Template parameters: their schemas, the values a stack gets, and their checks.

Types ``string``, ``number``, ``json``, ``comma_delimited_list`` and
``boolean``; keys ``type``, ``label``, ``description``, ``default``,
``hidden``, ``immutable``, ``constraints`` (``tags`` from 2018-03-02); the
``modulo`` constraint from 2017-02-24. A value comes from the user (the
``parameters`` of the request and of the environment), else from the
environment's ``parameter_defaults``, else from the template's ``default``.
The pseudo parameters ``OS::stack_name``, ``OS::stack_id`` and
``OS::project_id`` are always there.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from stacksim import toolkit
from stacksim.heat import constraints, errors
from stacksim.heat.constraints import Checker
from stacksim.heat.limits import DEFAULT, load_json
from stacksim.heat.template import Template, at_least

TYPES = ("string", "number", "json", "comma_delimited_list", "boolean")
#: How template validation names each type (Heat's CFN names).
VALIDATE_TYPES = {
    "string": "String",
    "number": "Number",
    "json": "Json",
    "comma_delimited_list": "CommaDelimitedList",
    "boolean": "Boolean",
}
PSEUDO = ("OS::stack_name", "OS::stack_id", "OS::project_id")
HIDDEN_TEXT = "******"
_BOOL_WORDS = ", ".join(f"'{w}'" for w in sorted(toolkit.TRUE | toolkit.FALSE))


def to_bool(value: Any) -> bool:
    return toolkit.to_bool(
        value, lambda _: ValueError(f"Unrecognized value '{value}', acceptable values are: {_BOOL_WORDS}")
    )


def convert(kind: str, value: Any) -> Any:
    """A value given as text (or already typed) as the parameter's type; ValueError if it is not one."""
    if kind == "string":
        if isinstance(value, Mapping | list):
            return json.dumps(value)
        return "" if value is None else str(value)
    if kind == "number":
        return constraints.str_to_num(value)
    if kind == "boolean":
        return to_bool(value)
    if kind == "json":
        if isinstance(value, Mapping | list):
            return value
        if value in (None, ""):
            return {}
        try:
            parsed = load_json(value, DEFAULT, "The value")
        except (TypeError, ValueError) as exc:
            raise ValueError(f"Value must be valid JSON: {exc}") from None
        if not isinstance(parsed, Mapping | list):
            raise ValueError(f"Value must be valid JSON: {value}")
        return parsed
    if kind == "comma_delimited_list":
        if isinstance(value, list):
            return [str(v) if not isinstance(v, str) else v for v in value]
        if value in (None, ""):
            return []
        if not isinstance(value, str):
            raise ValueError(f"Value must be a comma-delimited list string: {value}")
        return value.split(",")
    raise ValueError(f"Invalid type ({kind})")


class ParamSchema:
    def __init__(self, name: str, data: Any, version: str) -> None:
        self.name = name
        if not isinstance(data, Mapping):
            raise errors.InvalidSchemaError(f"Invalid parameter schema for parameter ({name}): it must be a map")
        keys = ["type", "description", "default", "label", "hidden", "constraints", "immutable"]
        if at_least(version, "2018-03-02"):
            keys.append("tags")
        for key in data:
            if key not in keys:
                raise errors.InvalidSchemaError(f"Invalid key '{key}' for parameter ({name})")
        if "type" not in data:
            raise errors.InvalidSchemaError(f"Missing parameter type for parameter: {name}")
        kind = data["type"]
        if kind not in TYPES:
            raise errors.InvalidSchemaError(f"Invalid type ({kind})")
        self.type: str = kind
        self.label = data.get("label")
        self.description = data.get("description")
        self.default = data.get("default")
        self.has_default = "default" in data and data["default"] is not None
        self.hidden = bool(constraints_bool(data.get("hidden", False), name, "hidden"))
        self.immutable = bool(constraints_bool(data.get("immutable", False), name, "immutable"))
        self.tags = list(data.get("tags") or [])
        allowed = _ALLOWED[kind]
        if kind == "number" and at_least(version, "2017-02-24"):
            allowed = (*allowed, "modulo")
        items = data.get("constraints") or []
        if not isinstance(items, list):
            raise errors.InvalidSchemaError(f"Invalid parameter constraints for parameter {name}, expected a list")
        self.constraints = [constraints.from_dict(c, allowed, name) for c in items]

    def set_default(self, value: Any) -> None:
        self.default = value
        self.has_default = value is not None

    def check(self, value: Any, checker: Checker | None) -> Any:
        """The typed value, checked against the constraints; ValueError with Heat's reason if not."""
        typed = convert(self.type, value)
        for constraint in self.constraints:
            constraint.check(typed, checker)
        return typed

    def validate_info(self, user_value: Any = None) -> dict[str, Any]:
        """The parameter as ``POST /validate`` reports it."""
        info: dict[str, Any] = {
            "Type": VALIDATE_TYPES[self.type],
            "Description": self.description or "",
            "Label": self.label or self.name,
            "NoEcho": "true" if self.hidden else "false",
        }
        if self.has_default:
            info["Default"] = self.default
        if user_value is not None:
            info["Value"] = user_value
        if self.tags:
            info["Tags"] = self.tags
        for c in self.constraints:
            if isinstance(c, constraints.AllowedValues):
                info["AllowedValues"] = list(c.allowed)
            elif isinstance(c, constraints.AllowedPattern):
                info["AllowedPattern"] = c.pattern
            elif isinstance(c, constraints.Length):
                if c.min is not None:
                    info["MinLength"] = c.min
                if c.max is not None:
                    info["MaxLength"] = c.max
            elif isinstance(c, constraints.Range):
                if c.min is not None:
                    info["MinValue"] = c.min
                if c.max is not None:
                    info["MaxValue"] = c.max
            elif isinstance(c, constraints.CustomConstraint):
                info["CustomConstraint"] = c.name
            if c.description:
                info["ConstraintDescription"] = c.description
        info["Immutable"] = self.immutable
        return info


def constraints_bool(value: Any, name: str, key: str) -> bool:
    try:
        return to_bool(value)
    except ValueError:
        raise errors.InvalidSchemaError(f"Invalid value for '{key}' of parameter ({name}): {value}") from None


_ALLOWED: dict[str, tuple[str, ...]] = {
    "string": ("length", "allowed_values", "allowed_pattern", "custom_constraint"),
    "number": ("range", "allowed_values", "custom_constraint"),
    "json": ("length", "allowed_values", "custom_constraint"),
    "comma_delimited_list": ("length", "allowed_values", "custom_constraint"),
    "boolean": ("allowed_values", "custom_constraint"),
}


class Parameters:
    """The parameters of one stack: schemas, the values it was given, and the pseudo ones."""

    def __init__(
        self,
        template: Template,
        user: Mapping[str, Any] | None = None,
        defaults: Mapping[str, Any] | None = None,
        pseudo: Mapping[str, Any] | None = None,
        strict: bool = True,
    ) -> None:
        section = template.parameters
        self.schemas: dict[str, ParamSchema] = {}
        for name, data in section.items():
            self.schemas[str(name)] = ParamSchema(str(name), data, template.version)
        self.user = dict(user or {})
        self.defaults = dict(defaults or {})
        for name, value in self.defaults.items():
            if name in self.schemas:
                self.schemas[name].set_default(value)
        self.pseudo = dict(pseudo or {})
        if strict:
            for name in self.user:
                if name not in self.schemas:
                    raise errors.UnknownUserParameter(name)
        self._values: dict[str, Any] = {}
        self._groups = template.parameter_groups

    def __contains__(self, name: str) -> bool:
        return name in self.schemas or name in PSEUDO

    def raw(self, name: str) -> Any:
        """The value as given (user value, else the default); UserParameterMissing if none."""
        if name in self.user:
            return self.user[name]
        schema = self.schemas[name]
        if schema.has_default:
            return schema.default
        raise errors.UserParameterMissing(name)

    def value(self, name: str) -> Any:
        if name in PSEUDO:
            return self.pseudo.get(name)
        if name not in self.schemas:
            raise errors.UserParameterMissing(name)
        if name not in self._values:
            raw = self.raw(name)
            try:
                self._values[name] = convert(self.schemas[name].type, raw)
            except ValueError as exc:
                raise errors.StackValidationFailed(f"Parameter '{name}' is invalid: {exc}") from None
        return self._values[name]

    def has_value(self, name: str) -> bool:
        return name in self.user or (name in self.schemas and self.schemas[name].has_default)

    def validate(self, checker: Checker | None = None, validate_value: bool = True) -> None:
        """Every parameter has a valid value (Heat's messages); parameter groups are sound."""
        self.validate_groups()
        if not validate_value:
            for name, schema in self.schemas.items():
                if schema.has_default:
                    self._check(name, schema.default, None)
            return
        for name, schema in self.schemas.items():
            if name in self.user:
                self._values[name] = self._check(name, self.user[name], checker)
            elif schema.has_default:
                self._values[name] = self._check(name, schema.default, checker)
            else:
                raise errors.UserParameterMissing(name)

    def _check(self, name: str, value: Any, checker: Checker | None) -> Any:
        try:
            return self.schemas[name].check(value, checker)
        except (ValueError, TypeError) as exc:
            raise errors.StackValidationFailed(f"Parameter '{name}' is invalid: {exc}") from None

    def validate_groups(self) -> None:
        seen: set[str] = set()
        for group in self._groups:
            if not isinstance(group, Mapping) or "parameters" not in group:
                raise errors.StackValidationFailed(
                    "Parameters must be provided for each Parameter Group.", error="Parameter Groups error"
                )
            names = group["parameters"]
            if not isinstance(names, list):
                raise errors.StackValidationFailed("The parameters should be a list.", error="Parameter Groups error")
            for name in names:
                if name in seen:
                    raise errors.StackValidationFailed(
                        f"The {name} parameter must be assigned to one parameter group only.",
                        error="Parameter Groups error",
                    )
                seen.add(name)
                if name not in self.schemas:
                    raise errors.StackValidationFailed(
                        f"The grouped parameter {name} does not reference a valid parameter.",
                        error="Parameter Groups error",
                    )

    def shown(self) -> dict[str, str]:
        """The ``parameters`` of ``stack show``: every value as text, hidden ones masked."""
        out: dict[str, str] = {k: str(v) for k, v in self.pseudo.items()}
        for name, schema in self.schemas.items():
            if not self.has_value(name):
                continue
            if schema.hidden:
                out[name] = HIDDEN_TEXT
                continue
            try:
                value = self.value(name)
            except errors.HeatError:
                value = self.raw(name)
            if isinstance(value, list) and schema.type == "comma_delimited_list":
                out[name] = ",".join(value)
            elif isinstance(value, Mapping | list):
                out[name] = json.dumps(value)
            elif isinstance(value, bool):
                out[name] = str(value)
            else:
                out[name] = str(value)
        return out

    def immutable_changes(self, new: Parameters) -> list[str]:
        """The immutable parameters ``new`` gives another value (for a stack update)."""
        changed = []
        for name, schema in self.schemas.items():
            if not schema.immutable or name not in new.schemas:
                continue
            old_value = self.raw(name) if self.has_value(name) else None
            new_value = new.raw(name) if new.has_value(name) else None
            if old_value != new_value:
                changed.append(name)
        return changed
