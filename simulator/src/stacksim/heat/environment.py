"""Stack environments: parameters, parameter defaults and the resource registry.

The registry maps a resource type to another one (an alias, ``My::Server:
OS::Nova::Server``, wildcards included: ``OS::Networking::*: OS::Neutron::*``)
or to a template from ``files`` (a *template resource*, a nested stack);
``resources: {name: {type: target}}`` does the same for one resource only.
The ``openstack`` CLI and openstacksdk send the files a template or an
environment refers to in ``files``, keyed as they appear after their
rewriting (``file:///abs/path/server.yaml``).

Hooks (``pre-create`` ...) are accepted and ignored; ``event_sinks`` kept as given.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from stacksim.heat import errors
from stacksim.heat.limits import DEFAULT, Limits, check_structure
from stacksim.heat.template import load_yaml

SECTIONS = (
    "parameters",
    "parameter_defaults",
    "encrypted_param_names",
    "resource_registry",
    "event_sinks",
    "parameter_merge_strategies",
)
TEMPLATE_SUFFIXES = (".yaml", ".yml", ".template", ".json", ".hot")
MAX_ALIAS_HOPS = 16


def parse_environment(data: Any, limits: Limits = DEFAULT) -> dict[str, Any]:
    if data in (None, ""):
        return {}
    if isinstance(data, str):
        try:
            data = load_yaml(data, limits, "The environment")
        except errors.HeatError:
            raise
        except Exception as exc:
            raise errors.HeatError(f"Error parsing environment: {exc}") from None
        if data is None:
            return {}
    else:
        check_structure(data, limits, "The environment")
    if not isinstance(data, Mapping):
        raise errors.HeatError("The environment is not a valid YAML mapping data type.")
    for key in data:
        if key not in SECTIONS:
            raise errors.HeatError(f'environment has wrong section "{key}"')
    return copy.deepcopy(dict(data))


def looks_like_template(target: str) -> bool:
    return target.endswith(TEMPLATE_SUFFIXES) or "://" in target


@dataclass
class Environment:
    parameters: dict[str, Any] = field(default_factory=dict)
    parameter_defaults: dict[str, Any] = field(default_factory=dict)
    registry: dict[str, Any] = field(default_factory=dict)
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    event_sinks: list[Any] = field(default_factory=list)
    encrypted_param_names: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: Any, limits: Limits = DEFAULT) -> Environment:
        env = parse_environment(data, limits)
        registry = dict(env.get("resource_registry") or {})
        overrides: dict[str, dict[str, Any]] = {}
        per_resource = registry.pop("resources", None) or {}
        if not isinstance(per_resource, Mapping):
            raise errors.HeatError('"resources" in the resource_registry must be a map')
        for name, entry in per_resource.items():
            if isinstance(entry, Mapping):
                overrides[str(name)] = {k: v for k, v in entry.items() if not _is_hook(k)}
        registry.pop("base_url", None)
        for section in ("parameters", "parameter_defaults"):
            if env.get(section) is not None and not isinstance(env[section], Mapping):
                raise errors.HeatError(f'The "{section}" section of the environment must be a map')
        return cls(
            parameters=dict(env.get("parameters") or {}),
            parameter_defaults=dict(env.get("parameter_defaults") or {}),
            registry={k: v for k, v in registry.items() if not _is_hook(k)},
            overrides=overrides,
            event_sinks=list(env.get("event_sinks") or []),
            encrypted_param_names=list(env.get("encrypted_param_names") or []),
        )

    def as_dict(self) -> dict[str, Any]:
        registry: dict[str, Any] = dict(self.registry)
        registry["resources"] = {k: dict(v) for k, v in self.overrides.items()}
        return {
            "parameters": dict(self.parameters),
            "parameter_defaults": dict(self.parameter_defaults),
            "resource_registry": registry,
            "event_sinks": list(self.event_sinks),
            "encrypted_param_names": list(self.encrypted_param_names),
        }

    def merged(self, newer: Environment) -> Environment:
        """``newer`` patched over this one (a PATCH update's ``existing``)."""
        overrides = {k: dict(v) for k, v in self.overrides.items()}
        for name, entry in newer.overrides.items():
            overrides.setdefault(name, {}).update(entry)
        return Environment(
            parameters={**self.parameters, **newer.parameters},
            parameter_defaults={**self.parameter_defaults, **newer.parameter_defaults},
            registry={**self.registry, **newer.registry},
            overrides=overrides,
            event_sinks=newer.event_sinks or self.event_sinks,
            encrypted_param_names=sorted({*self.encrypted_param_names, *newer.encrypted_param_names}),
        )

    def nested(self) -> Environment:
        """The environment a nested stack inherits: the registry and parameter defaults."""
        return Environment(
            parameter_defaults=dict(self.parameter_defaults),
            registry=dict(self.registry),
            overrides={},
        )

    def resolve_type(self, type_name: str, resource_name: str | None = None) -> str:
        """Follow the registry from ``type_name`` to a built-in type or a template's file key."""
        current = type_name
        seen = [current]
        for _ in range(MAX_ALIAS_HOPS):
            target = None
            if resource_name is not None and current in self.overrides.get(resource_name, {}):
                target = self.overrides[resource_name][current]
            elif current in self.registry:
                target = self.registry[current]
            else:
                target = self._wildcard(current)
            if target is None or target == current:
                return current
            current = str(target)
            if current in seen:
                return current
            seen.append(current)
        return current

    def _wildcard(self, name: str) -> str | None:
        for pattern, target in self.registry.items():
            if isinstance(pattern, str) and pattern.endswith("*") and isinstance(target, str) and target.endswith("*"):
                prefix = pattern[:-1]
                if name.startswith(prefix):
                    return target[:-1] + name[len(prefix) :]
        return None


def _is_hook(key: Any) -> bool:
    return key == "hooks"
