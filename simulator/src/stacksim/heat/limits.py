"""What a template, a stack and a project may grow to: Heat's limits, and a few of stacksim's own.

The names and defaults are ``heat.conf``'s where Heat has the option
(``max_template_size``, ``max_nested_stack_depth``,
``max_resources_per_stack``, ``max_stacks_per_tenant``,
``max_json_body_size``); ``-1`` turns a count limit off, as in Heat. The
others are stacksim's, for what Heat leaves to its process's luck: how
deeply a template's maps and lists may nest (``max_template_depth``) and
how long a ``template_url`` may take to arrive (``template_fetch_timeout``).
A template that YAML aliases (or ``repeat``, or ``str_replace``) would grow
past ``max_template_size`` values is refused as too big, so a small
template cannot expand into a huge one.

``stacksim serve`` sets them from its options (see :class:`~stacksim.config.Settings`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from stacksim.heat import errors


@dataclass(frozen=True)
class Limits:
    max_template_size: int = 524288
    max_json_body_size: int = 1048576
    max_nested_stack_depth: int = 5
    max_resources_per_stack: int = 1000
    max_stacks_per_tenant: int = 512
    max_template_depth: int = 100
    template_fetch_timeout: float = 10.0

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        """The limits a :class:`~stacksim.config.Settings` gives (``heat_<name>``), Heat's defaults otherwise."""
        given = {f.name: getattr(settings, f"heat_{f.name}", None) for f in fields(cls)}
        return cls(**{name: value for name, value in given.items() if value is not None})

    def check_resources(self, count: int) -> None:
        """Heat's check of a stack (or a stack tree) with ``count`` resources."""
        if self.max_resources_per_stack != -1 and count > self.max_resources_per_stack:
            raise errors.RequestLimitExceeded("Maximum resources per stack exceeded.")

    def check_stacks(self, count: int) -> None:
        """Heat's check before a project that has ``count`` stacks makes another."""
        if self.max_stacks_per_tenant != -1 and count >= self.max_stacks_per_tenant:
            raise errors.RequestLimitExceeded(
                f"You have reached the maximum stacks per tenant, {self.max_stacks_per_tenant}. "
                "Please delete some stacks."
            )

    def check_nesting(self, depth: int) -> None:
        if depth > self.max_nested_stack_depth:
            raise errors.RequestLimitExceeded(f"Recursion depth exceeds {self.max_nested_stack_depth}.")

    def too_big(self, what: str) -> errors.HeatError:
        return errors.HeatError(
            f"{what} is too big: it expands to more than {self.max_template_size} values (max_template_size)."
        )


DEFAULT = Limits()


def check_text(text: str, what: str = "The template") -> None:
    """Text that can be stored and shown again: no lone surrogates (a ``\\ud800`` escape in JSON or YAML)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise errors.HeatError(f"{what} holds text that is not valid Unicode (a lone surrogate).") from None


def check_structure(value: Any, limits: Limits = DEFAULT, what: str = "The template") -> None:
    """A parsed value (a body's map, JSON text's result) held to the same depth and size, and to
    valid text, walked without recursion."""
    count = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        count += 1
        if count > limits.max_template_size:
            raise limits.too_big(what)
        if isinstance(item, str):
            check_text(item, what)
        elif isinstance(item, Mapping | list | tuple):
            if depth >= limits.max_template_depth:
                raise errors.HeatError(
                    f"{what} nests deeper than {limits.max_template_depth} levels (max_template_depth)."
                )
            children = [*item.keys(), *item.values()] if isinstance(item, Mapping) else item
            stack.extend((child, depth + 1) for child in children)


def load_json(text: str, limits: Limits = DEFAULT, what: str = "The template") -> Any:
    """JSON text, held to the limits (a nesting too deep for the decoder is one too)."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise errors.HeatError(
            f"{what} nests deeper than {limits.max_template_depth} levels (max_template_depth)."
        ) from None
    check_structure(data, limits, what)
    return data
