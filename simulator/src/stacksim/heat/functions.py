"""HOT intrinsic functions: parsing, validation, dependencies and resolution.

A template snippet is *parsed* into a tree where every one-key map naming a
function of the template's version becomes a :class:`Function`; maps naming
no function stay plain data (as in Heat: ``{str_split: ...}`` in a
2013-05-23 template is just a map). Functions a later version removed
(``Fn::Select`` from 2015-10-15 ...) parse into :class:`Removed`, which fails
validation with Heat's message. ``if`` is a macro: it picks its branch while
parsing, from the template's conditions.

A tree is then *resolved* against a :class:`Scope` (parameters, resources,
files, conditions). While a stack is only being validated, references to
resources resolve to :data:`UNRESOLVED`, and any function given an
unresolved argument is unresolved too, so validation checks what it can.

Error messages are Heat's. Not implemented: ``yaql`` (fails validation with
a message saying so) and ``Fn::MemberListToMap``.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import math
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from stacksim.heat import errors
from stacksim.heat.limits import DEFAULT, Limits, load_json


class _Unresolved:
    """A value not known yet (a resource's id or attribute while validating)."""

    _instance: _Unresolved | None = None

    def __new__(cls) -> _Unresolved:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unresolved>"


UNRESOLVED = _Unresolved()


def has_unresolved(value: Any) -> bool:
    if value is UNRESOLVED:
        return True
    if isinstance(value, Mapping):
        return any(has_unresolved(k) or has_unresolved(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_unresolved(v) for v in value)
    return False


class Scope(Protocol):
    """What a function needs from the stack it is resolved in."""

    def param(self, name: str) -> Any: ...

    def file(self, key: str) -> str | None: ...

    def has_resource(self, name: str) -> bool: ...

    def ref(self, name: str) -> Any: ...

    def attr(self, name: str, attr: str, path: list[Any]) -> Any: ...

    def all_attrs(self, name: str) -> Any: ...

    def attribute_known(self, name: str, attr: str) -> bool: ...

    def condition(self, name: Any) -> bool: ...

    def facade(self, what: str) -> Any: ...

    #: what results may grow to (:class:`~stacksim.heat.limits.Limits`)
    limits: Limits


def _is_list(value: Any) -> bool:
    return isinstance(value, list | tuple)


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _within(scope: Scope, fn_name: str, size: int) -> None:
    """Refuse a result of ``size`` values (or characters) past ``max_template_size`` before it is made,
    so a function cannot grow a small template into a huge one."""
    limit = getattr(scope, "limits", DEFAULT).max_template_size
    if size > limit:
        raise ValueError(
            f'The result of "{fn_name}" would hold {size} values, more than the {limit} a template may '
            "(max_template_size)"
        )


def _weight(value: Any) -> int:
    """How many values (a string: its characters) ``value`` holds."""
    if isinstance(value, str):
        return max(1, len(value))
    if isinstance(value, Mapping):
        return 1 + sum(_weight(k) + _weight(v) for k, v in value.items())
    if _is_list(value):
        return 1 + sum(_weight(v) for v in value)
    return 1


class Function:
    """One intrinsic function call in a parsed snippet."""

    def __init__(self, fn_name: str, args: Any) -> None:
        self.fn_name = fn_name
        self.args = args
        self.check()

    def check(self) -> None:
        """Argument checks Heat makes when the template is parsed."""

    def validate(self, scope: Scope) -> None:
        """Checks Heat makes when the stack is validated (arguments first)."""
        validate(self.args, scope, [])

    def dependencies(self, path: str) -> Iterator[tuple[str, str]]:
        """``(resource name, path)`` for each resource this call refers to."""
        return dependencies(self.args, f"{path}.{self.fn_name}")

    def attrs_of(self, resource: str) -> Iterator[Any]:
        return attrs_needed(self.args, resource)

    def result(self, scope: Scope) -> Any:
        args = resolve(self.args, scope)
        if has_unresolved(args):
            return UNRESOLVED
        return self.compute(args, scope)

    def compute(self, args: Any, scope: Scope) -> Any:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{{{self.fn_name}: {self.args!r}}}"


# -- tree walking ------------------------------------------------------------------------


def resolve(snippet: Any, scope: Scope) -> Any:
    if isinstance(snippet, Function):
        return snippet.result(scope)
    if isinstance(snippet, Mapping):
        return {k: resolve(v, scope) for k, v in snippet.items()}
    if _is_list(snippet):
        return [resolve(v, scope) for v in snippet]
    return snippet


def validate(snippet: Any, scope: Scope, path: list[Any]) -> None:
    """Validate every function in ``snippet``; errors name where (``<path>.<fn>: ...``)."""
    if isinstance(snippet, Function):
        try:
            snippet.validate(scope)
        except errors.StackValidationFailed:
            raise
        except (errors.HeatError, ValueError, TypeError, KeyError) as exc:
            message = exc.message if isinstance(exc, errors.HeatError) else _text(exc)
            raise errors.StackValidationFailed(message, path=[*path, snippet.fn_name]) from None
    elif isinstance(snippet, Mapping):
        for key, value in snippet.items():
            validate(value, scope, [*path, key])
    elif _is_list(snippet):
        for index, value in enumerate(snippet):
            validate(value, scope, [*path, index])


def _text(exc: BaseException) -> str:
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    return str(exc)


def dependencies(snippet: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(snippet, Function):
        yield from snippet.dependencies(path)
    elif isinstance(snippet, Mapping):
        for key, value in snippet.items():
            yield from dependencies(value, f"{path}.{key}")
    elif _is_list(snippet):
        for index, value in enumerate(snippet):
            yield from dependencies(value, f"{path}[{index}]")


def attrs_needed(snippet: Any, resource: str) -> Iterator[Any]:
    if isinstance(snippet, Function):
        yield from snippet.attrs_of(resource)
    elif isinstance(snippet, Mapping):
        for value in snippet.values():
            yield from attrs_needed(value, resource)
    elif _is_list(snippet):
        for value in snippet:
            yield from attrs_needed(value, resource)


def contains_function(snippet: Any, kinds: tuple[type, ...]) -> bool:
    if isinstance(snippet, kinds):
        return True
    if isinstance(snippet, Function):
        return contains_function(snippet.args, kinds)
    if isinstance(snippet, Mapping):
        return any(contains_function(v, kinds) for v in snippet.values())
    if _is_list(snippet):
        return any(contains_function(v, kinds) for v in snippet)
    return False


# -- parsing -------------------------------------------------------------------------------

Macro = Callable[["Parser", str, Any], Any]


class Parser:
    """Turns snippets into trees with one version's function table."""

    def __init__(
        self,
        table: Mapping[str, Any],
        conditions: Callable[[Any], bool] | None = None,
        condition_table: Mapping[str, Any] | None = None,
    ) -> None:
        self.table = table
        self.is_enabled = conditions
        self.condition_table = condition_table or {}

    def parse(self, snippet: Any) -> Any:
        if isinstance(snippet, Mapping):
            if len(snippet) == 1:
                (key, value), *_ = snippet.items()
                if key in self.table:
                    kind = self.table[key]
                    if isinstance(kind, type) and issubclass(kind, MacroFunction):
                        return kind.expand(self, key, value)
                    return kind(key, self.parse(value))
            parsed = {k: self.parse(v) for k, v in snippet.items()}
            return {k: v for k, v in parsed.items() if v is not Ellipsis}
        if _is_list(snippet):
            return [v for v in (self.parse(item) for item in snippet) if v is not Ellipsis]
        return snippet

    def parse_condition(self, snippet: Any) -> Any:
        """A condition expression: only the condition functions; others are invalid here."""
        return Parser(_condition_table(self.table, self.condition_table)).parse(snippet)


def _condition_table(functions: Mapping[str, Any], conditions: Mapping[str, Any]) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for name, kind in functions.items():
        table[name] = kind if kind is Removed else Invalid
    table.update(conditions)
    return table


# -- the functions ---------------------------------------------------------------------------


class Invalid(Function):
    def check(self) -> None:
        raise ValueError(f'The function "{self.fn_name}" is invalid in this context')


class Removed(Function):
    """A function an earlier HOT version had and this one does not."""

    def validate(self, scope: Scope) -> None:
        raise errors.InvalidTemplateVersion(f"The function {self.fn_name} is not supported in this version of HOT.")

    def result(self, scope: Scope) -> Any:
        self.validate(scope)


class Unsupported(Function):
    """A function of Heat's that this simulator does not evaluate."""

    def validate(self, scope: Scope) -> None:
        raise errors.NotSupported(f'The function "{self.fn_name}" in stacksim')

    def result(self, scope: Scope) -> Any:
        self.validate(scope)


class GetParam(Function):
    def result(self, scope: Scope) -> Any:
        args = resolve(self.args, scope)
        if has_unresolved(args):
            return UNRESOLVED
        if not args:
            raise ValueError(f'Function "{self.fn_name}" must have arguments')
        if isinstance(args, str):
            name, path = args, []
        elif _is_list(args):
            name, path = args[0], list(args[1:])
        else:
            raise TypeError(f'Argument to "{self.fn_name}" must be string or list')
        if not isinstance(name, str):
            raise TypeError(f'Parameter name in "{self.fn_name}" must be string')
        value = scope.param(name)
        if value is UNRESOLVED:
            return value
        try:
            for key in path:
                value = self._step(value, key)
        except (KeyError, IndexError, TypeError):
            return ""
        return value

    def _step(self, collection: Any, key: Any) -> Any:
        if not isinstance(collection, Mapping | list | tuple):
            raise TypeError(f'"{self.fn_name}" can\'t traverse path')
        if not isinstance(key, str | int):
            raise TypeError(f'Path components in "{self.fn_name}" must be strings')
        if _is_list(collection) and isinstance(key, str):
            try:
                key = int(key)
            except ValueError:
                raise TypeError(
                    f"Path components in '{self.fn_name}' must be a string that can be parsed into an integer."
                ) from None
        return collection[key]


class GetResource(Function):
    def _name(self) -> Any:
        return self.args

    def dependencies(self, path: str) -> Iterator[tuple[str, str]]:
        yield from dependencies(self.args, f"{path}.{self.fn_name}")
        name = self._name()
        if isinstance(name, str):
            yield name, path

    def validate(self, scope: Scope) -> None:
        super().validate(scope)
        if isinstance(self.args, str) and not scope.has_resource(self.args):
            raise errors.InvalidTemplateReference(self.args, "unknown")

    def result(self, scope: Scope) -> Any:
        name = resolve(self.args, scope)
        if not isinstance(name, str) or not scope.has_resource(name):
            raise errors.InvalidTemplateReference(str(name), "unknown")
        return scope.ref(name)


class GetAtt(Function):
    """``get_attr: [resource, attribute, path...]`` (2014-10-16 and 2015-04-30)."""

    #: 2015-10-15 on: ``[resource]`` alone gives all of its attributes
    allow_all = False
    #: 2013-05-23: the path selects from the attribute's value
    then_select = False

    def check(self) -> None:
        args = self.args
        if self.allow_all:
            if not args:
                raise ValueError(
                    f'Arguments to "{self.fn_name}" can be of the next forms: '
                    "[resource_name] or [resource_name, attribute, (path), ...]"
                )
            if not _is_list(args):
                raise TypeError(f'Argument to "{self.fn_name}" must be a list')
            if len(args) == 1:
                return
        if not _is_list(args):
            raise TypeError(f'Argument to "{self.fn_name}" must be a list')
        if len(args) < 2:
            raise ValueError(
                f'Arguments to "{self.fn_name}" must be of the form [resource_name, attribute, (path), ...]'
            )

    @property
    def resource_name(self) -> Any:
        return self.args[0]

    @property
    def attribute(self) -> Any:
        return self.args[1] if len(self.args) > 1 else None

    def dependencies(self, path: str) -> Iterator[tuple[str, str]]:
        yield from dependencies(self.args, f"{path}.{self.fn_name}")
        if isinstance(self.resource_name, str):
            yield self.resource_name, path

    def attrs_of(self, resource: str) -> Iterator[Any]:
        yield from attrs_needed(self.args, resource)
        if self.resource_name == resource:
            yield self.attribute

    def validate(self, scope: Scope) -> None:
        super().validate(scope)
        name = self.resource_name
        if not isinstance(name, str):
            return
        if not scope.has_resource(name):
            raise errors.InvalidTemplateReference(name, "unknown")
        attr = self.attribute
        if attr is None and self.allow_all:
            return
        if isinstance(attr, str) and not scope.attribute_known(name, attr):
            raise errors.InvalidTemplateAttribute(name, attr)

    def result(self, scope: Scope) -> Any:
        args = resolve(self.args, scope)
        if has_unresolved(args):
            return UNRESOLVED
        name = args[0]
        if not isinstance(name, str) or not scope.has_resource(name):
            raise errors.InvalidTemplateReference(str(name), "unknown")
        if len(args) == 1:
            return scope.all_attrs(name)
        attr, path = args[1], list(args[2:])
        if self.then_select:
            return select(scope.attr(name, attr, []), path)
        return scope.attr(name, attr, path)


class GetAttThenSelect(GetAtt):
    then_select = True


class GetAttAllAttributes(GetAtt):
    allow_all = True


def select(value: Any, path: Sequence[Any]) -> Any:
    """Heat's ``select_from_attribute``: follow keys and indices, None when they lead nowhere."""
    try:
        for key in path:
            if value is UNRESOLVED:
                return value
            if not isinstance(value, Mapping | list | tuple):
                raise TypeError("Can't traverse attribute path")
            if not isinstance(key, str | int):
                raise TypeError("Path components in attributes must be strings")
            value = value[key]
    except (KeyError, IndexError, TypeError):
        return None
    return value


class GetFile(Function):
    def compute(self, args: Any, scope: Scope) -> Any:
        if not isinstance(args, str):
            raise TypeError(f'Argument to "{self.fn_name}" must be a string')
        content = scope.file(args)
        if content is None:
            raise ValueError(f'No content found in the "files" section for {self.fn_name} path: {args}')
        return content


class Replace(Function):
    """``str_replace`` up to 2015-04-30: params must be strings or numbers."""

    strict = False
    allow_empty = True

    def check(self) -> None:
        if not isinstance(self.args, Mapping):
            raise TypeError(f'Arguments to "{self.fn_name}" must be a map')
        if "params" not in self.args or "template" not in self.args:
            example = (
                f"{self.fn_name}:\n              template: This is var1 template var2\n"
                "              params:\n                var1: a\n                var2: string"
            )
            raise KeyError(f'"{self.fn_name}" syntax should be {example}')
        if not isinstance(self.args["params"], Mapping | Function):
            raise TypeError(f'"{self.fn_name}" parameters must be a mapping')

    def replacement(self, value: Any, param: str) -> str:
        if value is None:
            return ""
        if not isinstance(value, str | int | float | bool):
            raise TypeError(f'"{self.fn_name}" params must be strings or numbers, param {param} is not valid')
        return str(value)

    def compute(self, args: Any, scope: Scope) -> Any:
        template, mapping = args["template"], args["params"]
        if not isinstance(template, str):
            raise TypeError(f'"{self.fn_name}" template must be a string')
        if not isinstance(mapping, Mapping):
            raise TypeError(f'"{self.fn_name}" params must be a map')
        keys = sorted(sorted(mapping), key=len, reverse=True)
        unused = set(mapping)
        grows = sum(template.count(k) * len(self.replacement(mapping[k], k)) for k in keys if isinstance(k, str) and k)
        _within(scope, self.fn_name, len(template) + grows)

        def replace(strings: list[str], remaining: list[Any]) -> list[str]:
            if not remaining:
                return strings
            placeholder = remaining[0]
            if not isinstance(placeholder, str):
                raise TypeError(f'"{self.fn_name}" param placeholders must be strings')
            value = self.replacement(mapping[placeholder], placeholder)
            joined = []
            for text in strings:
                parts = text.split(placeholder)
                if len(parts) > 1:
                    unused.discard(placeholder)
                joined.append(value.join(replace(parts, remaining[1:])))
            return joined

        result = replace([template], keys)[0]
        if self.strict and unused:
            missing = ",".join(sorted(sorted(unused), key=len, reverse=True))
            raise ValueError(f"The following params were not found in the template: {missing}")
        return result


class ReplaceJson(Replace):
    """``str_replace`` from 2015-10-15: lists and maps are substituted as JSON."""

    def replacement(self, value: Any, param: str) -> str:
        def empty() -> ValueError:
            return ValueError(
                f"{self.fn_name} has an undefined or empty value for param {param}, must be a defined non-empty value"
            )

        if value is None:
            if self.allow_empty:
                return ""
            raise empty()
        if isinstance(value, Mapping | list | tuple):
            if not self.allow_empty and len(value) == 0:
                raise empty()
            return _dumps(value)
        if not isinstance(value, str | int | float | bool):
            raise TypeError(f'"{self.fn_name}" params must be strings, numbers, list or map.')
        text = str(value)
        if not self.allow_empty and not text:
            raise empty()
        return text


class ReplaceJsonStrict(ReplaceJson):
    strict = True


class ReplaceJsonVeryStrict(ReplaceJsonStrict):
    allow_empty = False


class Join(Function):
    """``list_join`` up to 2015-04-30: one list of strings."""

    def _example(self) -> str:
        return f'"{self.fn_name}" : [ " ", [ "str1", "str2"]]'

    def check(self) -> None:
        message = f'Incorrect arguments to "{self.fn_name}" should be: {self._example()}'
        if not _is_list(self.args):
            raise TypeError(message)
        if len(self.args) != 2:
            raise ValueError(message)

    def compute(self, args: Any, scope: Scope) -> Any:
        delim, strings = args
        if strings is None:
            strings = []
        if not _is_list(strings):
            raise TypeError(f'"{self.fn_name}" must operate on a list')
        if not isinstance(delim, str):
            raise TypeError(f'"{self.fn_name}" delimiter must be a string')
        out = []
        for item in strings:
            if item is None:
                item = ""
            if not isinstance(item, str):
                raise TypeError(f"Items to join must be strings not {repr(item)[:200]}")
            out.append(item)
        _within(scope, self.fn_name, sum(map(len, out)) + len(delim) * len(out))
        return delim.join(out)


class JoinMultiple(Function):
    """``list_join`` from 2015-10-15: several lists; maps and lists are joined as JSON."""

    def check(self) -> None:
        example = f'"{self.fn_name}" : [ " ", [ "str1", "str2"] ...]'
        message = f'Incorrect arguments to "{self.fn_name}" should be: {example}'
        if not _is_list(self.args):
            raise TypeError(message)
        if len(self.args) < 2:
            raise ValueError(message)

    def compute(self, args: Any, scope: Scope) -> Any:
        delim, lists = args[0], args[1:]
        strings: list[Any] = []
        for item in lists:
            if item:
                if not _is_list(item):
                    raise TypeError(f'"{self.fn_name}" must operate on a list')
                strings.extend(item)
        if not isinstance(delim, str):
            raise TypeError(f'"{self.fn_name}" delimiter must be a string')

        def text(item: Any) -> str:
            if item is None:
                return ""
            if isinstance(item, str):
                return item
            if isinstance(item, Mapping | list | tuple):
                return _dumps(item)
            raise TypeError(f"Items to join must be string, map or list not {repr(item)[:200]}")

        _within(scope, self.fn_name, len(delim) * len(strings))
        texts = []
        for item in strings:
            texts.append(text(item))
            _within(scope, self.fn_name, sum(map(len, texts)))
        return delim.join(texts)


class StrSplit(Function):
    def _example(self) -> str:
        return f'"{self.fn_name}" : [ ",", "apples,pears", <index>]'

    def check(self) -> None:
        if isinstance(self.args, str | Mapping):
            raise TypeError(f'Incorrect arguments to "{self.fn_name}" should be: {self._example()}')

    def compute(self, args: Any, scope: Scope) -> Any:
        if not _is_list(args) or len(args) < 2:
            raise ValueError(f'Incorrect arguments to "{self.fn_name}" should be: {self._example()}')
        delim, text = args[0], args[1]
        if text is None:
            return None
        parts = text.split(delim)
        if len(args) > 2:
            try:
                index = int(args[2])
            except (TypeError, ValueError):
                raise ValueError(f'Incorrect index to "{self.fn_name}" should be: {self._example()}') from None
            try:
                return parts[index]
            except IndexError:
                raise ValueError(
                    f'Incorrect index to "{self.fn_name}" should be between 0 and {len(parts) - 1}'
                ) from None
        return parts


class Repeat(Function):
    """``repeat`` (2015-04-30): lists only, all permutations."""

    allow_maps = False
    allow_permutations_key = False

    def check(self) -> None:
        if not isinstance(self.args, Mapping):
            raise TypeError(f'Arguments to "{self.fn_name}" must be a map')
        if "for_each" not in self.args or "template" not in self.args:
            example = (
                "repeat:\n              template: This is %var%\n"
                "              for_each:\n                %var%: ['a', 'b', 'c']"
            )
            raise KeyError(f'"repeat" syntax should be {example}')
        permutations = self.args.get("permutations", True) if self.allow_permutations_key else True
        if not isinstance(permutations, bool):
            raise TypeError(f'"permutations" should be boolean type for {self.fn_name} function.')
        self.permutations = permutations

    def validate(self, scope: Scope) -> None:
        super().validate(scope)
        for_each = self.args["for_each"]
        if not isinstance(for_each, Function) and not isinstance(for_each, Mapping):
            raise TypeError(f'The "for_each" argument to "{self.fn_name}" must contain a map')

    def _valid(self, value: Any) -> None:
        maps_ok = self.allow_maps and self.permutations
        if _is_list(value) or (maps_ok and isinstance(value, Mapping)):
            return
        kinds = "lists or maps" if maps_ok else "lists"
        raise TypeError(f'The values of the "for_each" argument to "{self.fn_name}" must be {kinds}')

    def compute(self, args: Any, scope: Scope) -> Any:
        for_each = args["for_each"]
        if not isinstance(for_each, Mapping):
            raise TypeError(f'The "for_each" argument to "{self.fn_name}" must contain a map')
        keys = list(for_each)
        values = []
        for value in for_each.values():
            if value is None:
                values.append([])
                continue
            self._valid(value)
            values.append(list(value))
        if not self.permutations and len({len(v) for v in values}) > 1:
            raise ValueError(f"For {self.fn_name}, the length of for_each values should be equal if no nested loop.")
        template = args["template"]
        count = math.prod(len(v) for v in values) if self.permutations else min(map(len, values), default=0)
        _within(scope, self.fn_name, count * _weight(template))
        combos = itertools.product(*values) if self.permutations else zip(*values, strict=False)
        return [_substitute(template, keys, combo) for combo in combos]


class RepeatWithMap(Repeat):
    allow_maps = True


class RepeatWithNestedLoop(RepeatWithMap):
    allow_permutations_key = True


def _substitute(template: Any, keys: list[str], values: Sequence[Any]) -> Any:
    if isinstance(template, str):
        for key, value in zip(keys, values, strict=False):
            template = template.replace(key, str(value))
        return template
    if _is_list(template):
        return [_substitute(item, keys, values) for item in template]
    if isinstance(template, Mapping):
        return {_substitute(k, keys, values): _substitute(v, keys, values) for k, v in template.items()}
    return template


class Digest(Function):
    def compute(self, args: Any, scope: Scope) -> Any:
        if not (_is_list(args) and all(isinstance(a, str) for a in args)):
            raise TypeError(f'Argument to function "{self.fn_name}" must be a list of strings')
        if len(args) != 2:
            raise ValueError(f'Function "{self.fn_name}" usage: ["<algorithm>", "<value>"]')
        algorithm, value = args
        if algorithm.lower() not in hashlib.algorithms_available:
            raise ValueError(f"Algorithm must be one of {sorted(hashlib.algorithms_available)}")
        digest = hashlib.new(algorithm.lower())
        digest.update(value.encode())
        return digest.hexdigest()


class MapMerge(Function):
    def compute(self, args: Any, scope: Scope) -> Any:
        if not _is_list(args):
            example = f'"{self.fn_name}" : [ {{ "key1": "val1" }}, {{ "key2": "val2" }} ]'
            raise TypeError(f'Incorrect arguments to "{self.fn_name}" should be: {example}')
        merged: dict[Any, Any] = {}
        for item in args:
            if item is None:
                continue
            if not isinstance(item, Mapping):
                raise TypeError("Incorrect arguments: Items to merge must be maps.")
            merged.update(item)
        return merged


class MapReplace(Function):
    def compute(self, args: Any, scope: Scope) -> Any:
        example = (
            f'"{self.fn_name}" : [ {{ "key1": "val1" }}, {{"keys": {{"key1": "key2"}}, "values": {{"val1": "val2"}}}}]'
        )
        wrong = f'Incorrect arguments to "{self.fn_name}" should be: {example}'

        def as_map(value: Any) -> Mapping:
            if value is None:
                return {}
            if not isinstance(value, Mapping):
                raise TypeError(
                    f'Incorrect arguments: to "{self.fn_name}", arguments must be a list of maps. Example:  {example}'
                )
            return value

        if not _is_list(args) or len(args) != 2:
            raise TypeError(wrong)
        source, replacements = as_map(args[0]), as_map(args[1])
        if any(k not in ("keys", "values") for k in replacements):
            raise ValueError(wrong)
        new_keys = as_map(replacements.get("keys", {}))
        new_values = as_map(replacements.get("values", {}))
        out: dict[Any, Any] = {}
        for key, value in source.items():
            new = new_keys.get(key)
            if new is None:
                new = key
            elif new in source and new != key:
                raise ValueError(f"key replacement {new} collides with a key in the input map")
            elif new in out:
                raise ValueError(f"key replacement {new} collides with a key in the output map")
            with contextlib.suppress(TypeError):
                value = new_values.get(value, value)
            out[new] = value
        return out


class ListConcat(Function):
    unique = False

    def compute(self, args: Any, scope: Scope) -> Any:
        if not _is_list(args):
            example = f'"{self.fn_name}" : [ [ <value 1>, <value 2> ], [ <value 3>, <value 4> ] ]'
            raise TypeError(f'Incorrect arguments to "{self.fn_name}" should be: {example}')
        lists = [item for item in args if item is not None]
        if not all(_is_list(item) for item in lists):
            raise TypeError("Incorrect arguments: Items to concat must be lists.")
        _within(scope, self.fn_name, sum(map(len, lists)))
        out: list[Any] = [value for item in lists for value in item]
        if self.unique:
            # Each value once, where it last appears (as Heat keeps them), found by key, not by scanning.
            seen: set[Any] = set()
            kept: list[Any] = []
            for value in reversed(out):
                key = _key(value)
                if key not in seen:
                    seen.add(key)
                    kept.append(value)
            return kept[::-1]
        return out


def _key(value: Any) -> Any:
    """A hashable stand-in for a value, equal for equal values."""
    try:
        hash(value)
    except TypeError:
        return ("json", _dumps(value))
    return ("value", value)


class ListConcatUnique(ListConcat):
    unique = True


class Contains(Function):
    def check(self) -> None:
        example = f'"{self.fn_name}" : [ "value1", [ "value1", "value2"]]'
        if not self.args or not _is_list(self.args):
            raise TypeError(f'Incorrect arguments to "{self.fn_name}" should be: {example}')
        if len(self.args) != 2:
            raise ValueError(f'Arguments to "{self.fn_name}" must be of the form: [value1, [value1, value2]]')

    def compute(self, args: Any, scope: Scope) -> Any:
        value, sequence = args
        if not isinstance(sequence, list | tuple | str):
            raise TypeError(f'Second argument to "{self.fn_name}" should be a sequence.')
        return value in sequence


class Filter(Function):
    def check(self) -> None:
        if not _is_list(self.args):
            raise TypeError(f'Argument to "{self.fn_name}" must be a list')
        if len(self.args) != 2:
            raise ValueError(
                f'"{self.fn_name}" expected 2 arguments of the form [values, sequence] '
                f"but got {len(self.args)} arguments instead"
            )

    def compute(self, args: Any, scope: Scope) -> Any:
        values, sequence = args
        if not sequence:
            return sequence
        if not isinstance(sequence, list):
            raise TypeError(f'"{self.fn_name}" only works with lists')
        if not values:
            return sequence
        if not isinstance(values, list):
            raise TypeError(f'"{self.fn_name}" filters a list of values')
        return [item for item in sequence if item not in values]


class MakeURL(Function):
    KEYS = ("scheme", "username", "password", "host", "port", "path", "query", "fragment")

    def validate(self, scope: Scope) -> None:
        super().validate(scope)
        if not isinstance(self.args, Mapping):
            raise TypeError(f'The arguments to "{self.fn_name}" must be a map')
        invalid = set(self.args) - set(self.KEYS)
        if invalid:
            raise ValueError(f'Invalid arguments to "{self.fn_name}": {", ".join(sorted(invalid))}')

    def compute(self, args: Any, scope: Scope) -> Any:
        if not isinstance(args, Mapping):
            raise TypeError(f'The arguments to "{self.fn_name}" must be a map')
        for key in self.KEYS:
            if key not in args:
                continue
            if key == "query" and not isinstance(args[key], Mapping):
                raise TypeError(f'The "{key}" argument to "{self.fn_name}" must be a map')
            if key == "port":
                try:
                    port = int(args[key])
                except (TypeError, ValueError):
                    raise ValueError(
                        f'Invalid URL port "{args[key]}" for {self.fn_name} called with {dict(args)}'
                    ) from None
                if not 0 < port <= 65535:
                    raise ValueError(f"Invalid URL port {port}, must be in range 1-65535")
            elif key != "query" and not isinstance(args[key], str):
                raise TypeError(f'The "{key}" argument to "{self.fn_name}" must be a string')
        scheme = args.get("scheme", "")
        if ":" in scheme:
            raise ValueError("URL \"scheme\" should not contain ':'")
        netloc = ""
        user = urllib.parse.quote(args.get("username", ""), safe="")
        password = urllib.parse.quote(args.get("password", ""), safe="")
        if user or password:
            netloc += user + (f":{password}" if password else "") + "@"
        host = args.get("host", "")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        host = urllib.parse.quote(host, safe=":")
        netloc += f"[{host}]" if ":" in host else host
        if args.get("port"):
            netloc += f":{args['port']}"
        path = urllib.parse.quote(args.get("path", ""))
        query = urllib.parse.urlencode(args.get("query", {})).replace("%2F", "/")
        fragment = urllib.parse.quote(args.get("fragment", ""))
        return urllib.parse.urlunsplit((scheme, netloc, path, query, fragment))


class Equals(Function):
    def check(self) -> None:
        if not self.args or not isinstance(self.args, list) or len(self.args) != 2:
            raise ValueError(f'Arguments to "{self.fn_name}" must be of the form: [value_1, value_2]')

    def compute(self, args: Any, scope: Scope) -> Any:
        return args[0] == args[1]


class _ConditionBoolean(Function):
    def check(self) -> None:
        if not _is_list(self.args):
            raise ValueError(f'Arguments to "{self.fn_name}" must be a list of conditions')
        if len(self.args) < 2:
            raise ValueError(f'The minimum number of condition arguments to "{self.fn_name}" is 2.')

    @staticmethod
    def _condition(value: Any, scope: Scope) -> bool:
        if isinstance(value, bool):
            return value
        return scope.condition(value)


class Not(_ConditionBoolean):
    def check(self) -> None:
        if self.args is None:
            raise ValueError(f'Argument to "{self.fn_name}" must be a condition')

    def compute(self, args: Any, scope: Scope) -> Any:
        return not self._condition(args, scope)


class And(_ConditionBoolean):
    def compute(self, args: Any, scope: Scope) -> Any:
        return all(self._condition(a, scope) for a in args)


class Or(_ConditionBoolean):
    def compute(self, args: Any, scope: Scope) -> Any:
        return any(self._condition(a, scope) for a in args)


class MacroFunction(Function):
    """A function resolved while parsing (``if``)."""

    @classmethod
    def expand(cls, parser: Parser, fn_name: str, args: Any) -> Any:
        raise NotImplementedError


class If(MacroFunction):
    nullable = False

    @classmethod
    def expand(cls, parser: Parser, fn_name: str, args: Any) -> Any:
        low = 2 if cls.nullable else 3
        if not args or not _is_list(args) or not low <= len(args) <= 3:
            form = "[condition_name, value_if_true, value_if_false]"
            raise ValueError(f'Arguments to "{fn_name}" must be of the form: {form}')
        condition = parser.parse_condition(args[0])
        if parser.is_enabled is None:
            raise ValueError(f'The function "{fn_name}" is invalid in this context')
        chosen = args[1] if parser.is_enabled(condition) else (args[2] if len(args) == 3 else Ellipsis)
        return Ellipsis if chosen is Ellipsis else parser.parse(chosen)


class IfNullable(If):
    """``if`` from 2021-04-16: without a false value, a false condition drops the item."""

    nullable = True


# -- CloudFormation functions of the 2013-05-23 version --------------------------------------


class Select(Function):
    def check(self) -> None:
        if not _is_list(self.args) or len(self.args) != 2:
            raise ValueError(f'Arguments to "{self.fn_name}" not fully resolved')

    def compute(self, args: Any, scope: Scope) -> Any:
        index, collection = args
        if collection == "":
            return ""
        if isinstance(collection, str):
            with contextlib.suppress(ValueError, errors.HeatError):
                collection = load_json(collection, getattr(scope, "limits", DEFAULT), "The value")
        if isinstance(collection, Mapping):
            if not isinstance(index, str):
                raise TypeError(f'Index to "{self.fn_name}" must be a string')
            return collection.get(index, "")
        try:
            return collection[int(index)]
        except (IndexError, TypeError, ValueError):
            return ""


class CfnJoin(Join):
    def _example(self) -> str:
        return f'"{self.fn_name}" : [ " ", [ "str1", "str2"]]'


class CfnSplit(Function):
    def check(self) -> None:
        if not _is_list(self.args) or len(self.args) != 2:
            raise ValueError(
                f'Incorrect arguments to "{self.fn_name}" should be: {{"{self.fn_name}": [",", "str1,str2"]}}'
            )

    def compute(self, args: Any, scope: Scope) -> Any:
        delim, text = args
        return text.split(delim)


class CfnReplace(Function):
    def check(self) -> None:
        if not _is_list(self.args) or len(self.args) != 2:
            raise ValueError(f'Incorrect arguments to "{self.fn_name}" should be: [{{"$var1": "foo"}}, "$var1 bar"]')

    def compute(self, args: Any, scope: Scope) -> Any:
        mapping, text = args
        for key in sorted(mapping, key=len, reverse=True):
            text = text.replace(key, "" if mapping[key] is None else str(mapping[key]))
        return text


class Base64(Function):
    def compute(self, args: Any, scope: Scope) -> Any:
        if not isinstance(args, str):
            raise TypeError(f'"{self.fn_name}" argument must be a string')
        return args


class Ref(Function):
    def dependencies(self, path: str) -> Iterator[tuple[str, str]]:
        # A parameter or a resource: "?" marks a reference the graph may ignore.
        if isinstance(self.args, str):
            yield self.args, "?" + path

    def result(self, scope: Scope) -> Any:
        name = resolve(self.args, scope)
        if isinstance(name, str) and scope.has_resource(name):
            return scope.ref(name)
        return scope.param(name)


class GetAZs(Function):
    def compute(self, args: Any, scope: Scope) -> Any:
        return ["nova"]


class ResourceFacade(Function):
    ALLOWED = ("metadata", "deletion_policy", "update_policy")

    def check(self) -> None:
        if self.args not in self.ALLOWED:
            raise ValueError(f'Incorrect arguments to "{self.fn_name}" should be one of: {", ".join(self.ALLOWED)}')

    def compute(self, args: Any, scope: Scope) -> Any:
        return scope.facade(args)


# -- the version tables ---------------------------------------------------------------------------

_REMOVED_2014 = {
    name: Removed
    for name in (
        "Fn::GetAZs",
        "Fn::Join",
        "Fn::Split",
        "Fn::Replace",
        "Fn::Base64",
        "Fn::MemberListToMap",
        "Fn::ResourceFacade",
        "Ref",
    )
}

_V20130523: dict[str, Any] = {
    "Fn::GetAZs": GetAZs,
    "get_param": GetParam,
    "get_resource": GetResource,
    "Ref": Ref,
    "get_attr": GetAttThenSelect,
    "Fn::Select": Select,
    "Fn::Join": CfnJoin,
    "list_join": Join,
    "Fn::Split": CfnSplit,
    "str_replace": Replace,
    "Fn::Replace": CfnReplace,
    "Fn::Base64": Base64,
    "Fn::MemberListToMap": Unsupported,
    "resource_facade": ResourceFacade,
    "Fn::ResourceFacade": ResourceFacade,
    "get_file": GetFile,
}
_V20141016 = {
    "get_attr": GetAtt,
    "get_file": GetFile,
    "get_param": GetParam,
    "get_resource": GetResource,
    "list_join": Join,
    "resource_facade": ResourceFacade,
    "str_replace": Replace,
    "Fn::Select": Select,
    **_REMOVED_2014,
}
_V20150430 = {**_V20141016, "repeat": Repeat, "digest": Digest}
_V20151015 = {
    **_V20150430,
    "get_attr": GetAttAllAttributes,
    "list_join": JoinMultiple,
    "str_replace": ReplaceJson,
    "str_split": StrSplit,
    "Fn::Select": Removed,
}
_V20160408 = {**_V20151015, "map_merge": MapMerge}
_V20161014 = {**_V20160408, "repeat": RepeatWithMap, "yaql": Unsupported, "map_replace": MapReplace, "if": If}
_V20170224 = {**_V20161014, "filter": Filter, "str_replace_strict": ReplaceJsonStrict}
_V20170901 = {
    **_V20170224,
    "repeat": RepeatWithNestedLoop,
    "make_url": MakeURL,
    "list_concat": ListConcat,
    "str_replace_vstrict": ReplaceJsonVeryStrict,
    "list_concat_unique": ListConcatUnique,
    "contains": Contains,
}
_V20210416 = {**_V20170901, "if": IfNullable}

_CONDITIONS_2016: dict[str, Any] = {"get_param": GetParam, "equals": Equals, "not": Not, "and": And, "or": Or}
_CONDITIONS_2017 = {**_CONDITIONS_2016, "yaql": Unsupported, "contains": Contains}

#: version -> (functions, condition functions)
TABLES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "2013-05-23": (_V20130523, {}),
    "2014-10-16": (_V20141016, {}),
    "2015-04-30": (_V20150430, {}),
    "2015-10-15": (_V20151015, {}),
    "2016-04-08": (_V20160408, {}),
    "2016-10-14": (_V20161014, _CONDITIONS_2016),
    "2017-02-24": (_V20170224, _CONDITIONS_2016),
    "2017-09-01": (_V20170901, _CONDITIONS_2017),
    "2018-03-02": (_V20170901, _CONDITIONS_2017),
    "2018-08-31": (_V20170901, _CONDITIONS_2017),
    "2021-04-16": (_V20210416, _CONDITIONS_2017),
}


def describe(kind: Any) -> str:
    """The one-line description ``template_versions/{v}/functions`` lists."""
    doc = (kind.__doc__ or "").strip().splitlines()
    return DESCRIPTIONS.get(kind, doc[0] if doc else "")


DESCRIPTIONS: dict[Any, str] = {
    GetParam: "A function for resolving parameter references.",
    GetResource: "A function for resolving resource references.",
    GetAtt: "A function for resolving resource attributes.",
    GetAttThenSelect: "A function for resolving resource attributes.",
    GetAttAllAttributes: "A function for resolving resource attributes.",
    GetFile: "A function for including a file inline.",
    Replace: "A function for performing string substitutions.",
    ReplaceJson: "A function for performing string substitutions.",
    ReplaceJsonStrict: "A function for performing string substitutions.",
    ReplaceJsonVeryStrict: "A function for performing string substitutions.",
    Join: "A function for joining strings.",
    CfnJoin: "A function for joining strings.",
    JoinMultiple: "A function for joining one or more lists of strings.",
    StrSplit: "A function for splitting delimited strings into a list.",
    Repeat: "A function for iterating over a list of items.",
    RepeatWithMap: "A function for iterating over a list of items or a dict of keys.",
    RepeatWithNestedLoop: "A function for iterating over a list of items or a dict of keys.",
    Digest: "A function for performing digest operations.",
    MapMerge: "A function for merging maps.",
    MapReplace: "A function for performing substitutions on maps.",
    ListConcat: "A function for extending lists.",
    ListConcatUnique: "A function for extending lists with unique items.",
    Contains: "A function for checking whether specific value is in sequence.",
    Filter: "A function for filtering out values from lists.",
    MakeURL: "A function for performing substitutions on maps.",
    Equals: "A function for comparing whether two values are equal.",
    If: "A function to return corresponding value based on condition evaluation.",
    IfNullable: "A function to return corresponding value based on condition evaluation.",
    Not: "A function that acts as a NOT operator on a condition.",
    And: "A function that acts as an AND operator on conditions.",
    Or: "A function that acts as an OR operator on conditions.",
    Removed: "This function existed in previous versions of HOT, but has been removed.",
    Unsupported: "A function this simulator does not evaluate.",
    Select: "A function for selecting an item from a list or map.",
    CfnSplit: "A function for splitting strings.",
    CfnReplace: "A function for performing string substitutions.",
    Base64: "A placeholder function for converting to base64.",
    Ref: "A function for resolving parameters or resource references.",
    GetAZs: "A function for retrieving the availability zones.",
    ResourceFacade: "A function for retrieving data in a parent provider template.",
}
