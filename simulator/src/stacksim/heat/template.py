"""HOT templates: reading them, their versions, sections and definitions.

Versions are Heat's, ``2013-05-23`` up to ``2021-04-16``, each also known by
its release name from Newton on (Heat has no alias for the older ones). The
template (and environment) text is read as JSON or YAML the way Heat reads it:
dates stay strings, so ``heat_template_version: 2016-10-14`` is the string.
CloudFormation templates (``AWSTemplateFormatVersion``) are not supported.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from stacksim.heat import errors, functions
from stacksim.heat.limits import DEFAULT, Limits, check_structure, check_text, load_json

#: (version, aliases) in order; the aliases are Heat's.
VERSIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("2013-05-23", ()),
    ("2014-10-16", ()),
    ("2015-04-30", ()),
    ("2015-10-15", ()),
    ("2016-04-08", ()),
    ("2016-10-14", ("newton",)),
    ("2017-02-24", ("ocata",)),
    ("2017-09-01", ("pike",)),
    ("2018-03-02", ("queens",)),
    ("2018-08-31", ("rocky",)),
    ("2021-04-16", ("wallaby",)),
)
VERSION_KEY = "heat_template_version"
CANONICAL = {alias: date for date, aliases in VERSIONS for alias in (date, *aliases)}
ORDER = [date for date, _ in VERSIONS]

BASE_SECTIONS = ("heat_template_version", "description", "parameter_groups", "parameters", "resources", "outputs")
RESOURCE_KEYS = ("type", "properties", "metadata", "depends_on", "deletion_policy", "update_policy", "description")
OUTPUT_KEYS = ("description", "value")
DELETION_POLICIES = ("Delete", "Retain", "Snapshot")


def at_least(version: str, wanted: str) -> bool:
    return ORDER.index(version) >= ORDER.index(wanted)


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's parser where PyYAML has it
    """YAML as Heat reads it: no timestamps (a date stays a string)."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str, limits: Limits = DEFAULT, what: str = "The template") -> Any:
    """YAML text as Heat reads it, refused (Heat's 400) before it is built if it nests deeper than
    ``max_template_depth`` or its aliases expand it past ``max_template_size`` values."""
    _check_yaml(text, limits, what)
    return yaml.load(text, Loader=_Loader)


def _check_yaml(text: str, limits: Limits, what: str) -> None:
    """One pass over the parser's events (no recursion, nothing built): depth, and the size each
    collection has once every alias in it is expanded."""
    budget, deepest = limits.max_template_size, limits.max_template_depth
    open_: list[list[Any]] = [[0, None]]  # per open collection: [expanded size so far, its anchor]
    anchors: dict[str, int] = {}

    def add(size: int) -> None:
        open_[-1][0] += size
        if open_[-1][0] > budget:
            raise limits.too_big(what)

    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.CollectionStartEvent):
            open_.append([1, event.anchor])
            if len(open_) - 1 > deepest:
                raise errors.HeatError(f"{what} nests deeper than {deepest} levels (max_template_depth).")
        elif isinstance(event, yaml.CollectionEndEvent):
            size, anchor = open_.pop()
            if anchor is not None:
                anchors[anchor] = size
            add(size)
        elif isinstance(event, yaml.ScalarEvent):
            check_text(event.value, what)
            if event.anchor is not None:
                anchors[event.anchor] = 1
            add(1)
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor not in anchors and any(anchor == event.anchor for _, anchor in open_):
                raise errors.HeatError(f"{what} has a YAML alias inside the collection it names.")
            add(anchors.get(event.anchor, 1))


def parse_template(data: Any, limits: Limits = DEFAULT) -> dict[str, Any]:
    """A template given as a map or as JSON/YAML text, checked as Heat checks it (and held to ``limits``)."""
    if isinstance(data, Mapping):
        check_structure(data, limits)
        return dict(data)
    if not isinstance(data, str):
        raise errors.HeatError("The template is not a JSON object or YAML mapping.")
    if len(data) > limits.max_template_size:
        raise errors.HeatError(
            f"Template size ({len(data)} bytes) exceeds maximum allowed size ({limits.max_template_size} bytes)."
        )
    try:
        parsed = load_json(data, limits) if data.lstrip().startswith("{") else load_yaml(data, limits)
    except (ValueError, yaml.YAMLError) as exc:
        raise errors.HeatError(f"Error parsing template: {exc}") from None
    if not isinstance(parsed, dict):
        raise errors.HeatError("The template is not a JSON object or YAML mapping.")
    if (
        VERSION_KEY not in parsed
        and "AWSTemplateFormatVersion" not in parsed
        and "HeatTemplateFormatVersion" not in parsed
    ):
        raise errors.HeatError("Template format version not found.")
    return parsed


def version_of(tmpl: Mapping[str, Any]) -> str:
    """The template's canonical version (a date), or Heat's InvalidTemplateVersion."""
    present = [k for k in (VERSION_KEY, "AWSTemplateFormatVersion", "HeatTemplateFormatVersion") if k in tmpl]
    if len(present) > 1:
        raise errors.InvalidTemplateVersion(f"Ambiguous versions ({', '.join(present)})")
    if not present:
        raise errors.InvalidTemplateVersion("Template version was not provided")
    key = present[0]
    value = tmpl[key]
    if key != VERSION_KEY:
        raise errors.InvalidTemplateVersion(
            f'"{key}: {value}". CloudFormation templates are not supported by stacksim; use "{VERSION_KEY}"'
        )
    if str(value) not in CANONICAL:
        available = ", ".join([*ORDER, *(a for _, aliases in VERSIONS for a in aliases)])
        raise errors.InvalidTemplateVersion(f'"{key}: {value}". "{key}" should be one of: {available}')
    return CANONICAL[str(value)]


class Template:
    """One template, with its version's sections, keys and functions."""

    def __init__(self, tmpl: Mapping[str, Any], files: Mapping[str, str] | None = None) -> None:
        self.t = dict(tmpl)
        self.files = dict(files or {})
        self.version = version_of(self.t)
        self.functions, self.condition_functions = functions.TABLES[self.version]

    # -- what this version allows -----------------------------------------------------

    @property
    def has_conditions(self) -> bool:
        return at_least(self.version, "2016-10-14")

    @property
    def sections(self) -> tuple[str, ...]:
        return (*BASE_SECTIONS, "conditions") if self.has_conditions else BASE_SECTIONS

    @property
    def resource_keys(self) -> tuple[str, ...]:
        return (*RESOURCE_KEYS, "external_id", "condition") if self.has_conditions else RESOURCE_KEYS

    @property
    def output_keys(self) -> tuple[str, ...]:
        return (*OUTPUT_KEYS, "condition") if self.has_conditions else OUTPUT_KEYS

    @property
    def deletion_policies(self) -> dict[str, str]:
        policies = {p: p for p in DELETION_POLICIES}
        if self.has_conditions:
            policies.update({p.lower(): p for p in DELETION_POLICIES})
        return policies

    # -- sections -------------------------------------------------------------------------

    def validate_structure(self) -> None:
        for key in self.t:
            if key not in self.sections:
                raise errors.InvalidTemplateSection(str(key))
        self._check_section("resources", "type", self.resource_keys)
        self._check_section("outputs", "value", self.output_keys)
        for name in ("parameters", "conditions"):
            section = self.t.get(name)
            if section is not None and not isinstance(section, Mapping):
                raise errors.StackValidationFailed(f'The section "{name}" must be a map.')
        groups = self.t.get("parameter_groups")
        if groups is not None and not isinstance(groups, list):
            raise errors.StackValidationFailed(
                "Parameter Groups error: parameter_groups: The parameter_groups should be a list."
            )

    def _check_section(self, section: str, required: str, allowed: tuple[str, ...]) -> None:
        data = self.t.get(section) or {}
        noun = section[:-1]
        if not isinstance(data, Mapping):
            raise errors.StackValidationFailed(
                f'"{section}" must contain a map of {noun} maps. Found a [{type(data)}] instead'
            )
        for _, body in sorted(data.items(), key=lambda kv: str(kv[0])):
            if not body:
                raise errors.StackValidationFailed(f"Each {noun} must contain a {required} key.")
            if not isinstance(body, Mapping):
                raise errors.StackValidationFailed(
                    f'"{section}" must contain a map of {noun} maps. Found a [{type(body)}] instead'
                )
            for key in body:
                if key not in allowed:
                    raise errors.StackValidationFailed(f'"{key}" is not a valid keyword inside a {noun} definition')
            if required not in body:
                raise errors.StackValidationFailed(f"Each {noun} must contain a {required} key.")

    @property
    def description(self) -> str:
        value = self.t.get("description")
        return "No description" if value is None else str(value)

    @property
    def parameters(self) -> dict[str, Any]:
        return dict(self.t.get("parameters") or {})

    @property
    def parameter_groups(self) -> list[Any]:
        return list(self.t.get("parameter_groups") or [])

    @property
    def resources(self) -> dict[str, Any]:
        return dict(self.t.get("resources") or {})

    @property
    def outputs(self) -> dict[str, Any]:
        return dict(self.t.get("outputs") or {})

    @property
    def conditions(self) -> dict[str, Any]:
        return dict(self.t.get("conditions") or {}) if self.has_conditions else {}

    def parser(self, is_enabled: Any = None) -> functions.Parser:
        return functions.Parser(self.functions, is_enabled, self.condition_functions)
