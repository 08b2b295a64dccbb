"""Constraints on parameter and property values, with Heat's messages.

``length``, ``range``, ``modulo``, ``allowed_values``, ``allowed_pattern`` and
``custom_constraint`` (checked against the cloud by a :data:`Checker`, see
:mod:`stacksim.heat.lookup`). A constraint's ``description``, when given,
replaces the default message, as in Heat.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable, Mapping
from typing import Any

from stacksim.heat import errors

#: ``checker(constraint_name, value)`` raises ValueError(message) when the value fails.
Checker = Callable[[str, Any], None]


def str_to_num(value: Any) -> int | float:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return value
    try:
        return int(value)
    except (TypeError, ValueError):
        return float(value)


class Constraint:
    key = ""

    def __init__(self, description: str | None = None) -> None:
        self.description = description

    def check(self, value: Any, checker: Checker | None = None) -> None:
        """Raise ValueError (with the description, or Heat's message) if ``value`` fails."""
        if not self.valid(value, checker):
            raise ValueError(self.description or self.message(value))

    def valid(self, value: Any, checker: Checker | None) -> bool:
        raise NotImplementedError

    def message(self, value: Any) -> str:
        raise NotImplementedError

    def body(self) -> Any:
        raise NotImplementedError

    def as_dict(self) -> dict[str, Any]:
        out = {self.key: self.body()}
        if self.description is not None:
            out["description"] = self.description
        return out


class Range(Constraint):
    key = "range"

    def __init__(self, min: Any = None, max: Any = None, description: str | None = None) -> None:
        super().__init__(description)
        for bound in (min, max):
            if bound is not None and (not isinstance(bound, numbers.Number) or isinstance(bound, bool)):
                raise errors.InvalidSchemaError("min/max must be numeric")
        if min is None and max is None:
            raise errors.InvalidSchemaError(f"{self.key} must have min and/or max")
        self.min, self.max = min, max

    def _measure(self, value: Any) -> Any:
        return str_to_num(value)

    def valid(self, value: Any, checker: Checker | None) -> bool:
        measured = self._measure(value)
        return (self.min is None or measured >= self.min) and (self.max is None or measured <= self.max)

    def message(self, value: Any) -> str:
        return f"{value} is out of range (min: {self.min}, max: {self.max})"

    def body(self) -> Any:
        return {k: v for k, v in (("min", self.min), ("max", self.max)) if v is not None}


class Length(Range):
    key = "length"

    def __init__(self, min: Any = None, max: Any = None, description: str | None = None) -> None:
        for bound in (min, max):
            if bound is not None and not isinstance(bound, int):
                raise errors.InvalidSchemaError("min/max length must be integral")
        super().__init__(min, max, description)

    def _measure(self, value: Any) -> Any:
        return len(value)

    def message(self, value: Any) -> str:
        return f"length ({len(value)}) is out of range (min: {self.min}, max: {self.max})"


class Modulo(Constraint):
    key = "modulo"

    def __init__(self, step: Any = None, offset: Any = None, description: str | None = None) -> None:
        super().__init__(description)
        if step is None or offset is None:
            raise errors.InvalidSchemaError("modulo must have both step and offset")
        for value in (step, offset):
            if not isinstance(value, numbers.Number) or isinstance(value, bool):
                raise errors.InvalidSchemaError("step/offset must be numeric")
            if int(value) != value:
                raise errors.InvalidSchemaError("step/offset must be integer")
        step, offset = int(step), int(offset)
        if step == 0:
            raise errors.InvalidSchemaError("step cannot be 0.")
        if abs(offset) >= abs(step):
            raise errors.InvalidSchemaError("offset must be smaller (by absolute value) than step.")
        if step * offset < 0:
            raise errors.InvalidSchemaError("step and offset must be both positive or both negative.")
        self.step, self.offset = step, offset

    def valid(self, value: Any, checker: Checker | None) -> bool:
        return str_to_num(value) % self.step == self.offset

    def message(self, value: Any) -> str:
        return f"{value} is not a multiple of {self.step} with an offset of {self.offset}"

    def body(self) -> Any:
        return {"step": self.step, "offset": self.offset}


class AllowedValues(Constraint):
    key = "allowed_values"

    def __init__(self, allowed: Any, description: str | None = None) -> None:
        super().__init__(description)
        if not isinstance(allowed, list | tuple):
            raise errors.InvalidSchemaError("AllowedValues must be a list")
        self.allowed = tuple(allowed)

    def valid(self, value: Any, checker: Checker | None) -> bool:
        if isinstance(value, list):
            return all(self._allowed(v) for v in value)
        return self._allowed(value)

    def _allowed(self, value: Any) -> bool:
        if value in self.allowed:
            return True
        # A number parameter arrives as text; compare numbers as numbers.
        try:
            return str_to_num(value) in [str_to_num(a) for a in self.allowed]
        except (TypeError, ValueError):
            return False

    def message(self, value: Any) -> str:
        return f'"{value}" is not an allowed value [{", ".join(str(a) for a in self.allowed)}]'

    def body(self) -> Any:
        return list(self.allowed)


class AllowedPattern(Constraint):
    key = "allowed_pattern"

    def __init__(self, pattern: Any, description: str | None = None) -> None:
        super().__init__(description)
        if not isinstance(pattern, str):
            raise errors.InvalidSchemaError("AllowedPattern must be a string")
        try:
            self.match = re.compile(pattern).match
        except re.error as exc:
            raise errors.InvalidSchemaError(f"Invalid allowed_pattern {pattern!r}: {exc}") from None
        self.pattern = pattern

    def valid(self, value: Any, checker: Checker | None) -> bool:
        found = self.match(str(value))
        return found is not None and found.end() == len(str(value))

    def message(self, value: Any) -> str:
        return f'"{value}" does not match pattern "{self.pattern}"'

    def body(self) -> Any:
        return self.pattern


class CustomConstraint(Constraint):
    key = "custom_constraint"

    def __init__(self, name: Any, description: str | None = None) -> None:
        super().__init__(description)
        if not isinstance(name, str):
            raise errors.InvalidSchemaError("custom_constraint must be a string")
        self.name = name

    def check(self, value: Any, checker: Checker | None = None) -> None:
        if checker is None:
            return  # nothing to check against (validation without a cloud)
        try:
            checker(self.name, value)
        except ValueError as exc:
            raise ValueError(self.description or str(exc)) from None

    def body(self) -> Any:
        return self.name


KINDS: dict[str, type[Constraint]] = {
    c.key: c for c in (Range, Length, Modulo, AllowedValues, AllowedPattern, CustomConstraint)
}


def from_dict(data: Any, allowed: tuple[str, ...], owner: str) -> Constraint:
    """One constraint from a template's ``constraints`` list item."""
    if not isinstance(data, Mapping):
        raise errors.InvalidSchemaError(f"Invalid parameter constraints for parameter {owner}, expected a list")
    description = data.get("description")
    kinds = [k for k in data if k != "description"]
    if len(kinds) != 1 or kinds[0] not in allowed:
        bad = ", ".join(str(k) for k in kinds) or "(none)"
        raise errors.InvalidSchemaError(f"Invalid key '{bad}' for parameter constraints")
    kind = kinds[0]
    body = data[kind]
    cls = KINDS[kind]
    if cls in (Range, Length, Modulo):
        if not isinstance(body, Mapping):
            raise errors.InvalidSchemaError(f"Invalid {kind} constraint for parameter {owner}")
        keys = ("step", "offset") if cls is Modulo else ("min", "max")
        unknown = set(body) - set(keys)
        if unknown:
            raise errors.InvalidSchemaError(f"Invalid key '{', '.join(sorted(unknown))}' for {kind} constraint")
        return cls(*(body.get(k) for k in keys), description=description)
    return cls(body, description=description)
