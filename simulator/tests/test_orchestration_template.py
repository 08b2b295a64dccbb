"""The HOT engine without a cloud: versions, functions, parameters, constraints, conditions and the graph."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from stacksim.heat import errors, functions
from stacksim.heat.environment import Environment
from stacksim.heat.resources import plugin_for
from stacksim.heat.stack import StackDefinition
from stacksim.heat.template import Template, load_yaml, parse_template


class Scope:
    """A stack seen by functions: parameters, files and a few resources with ids and attributes."""

    def __init__(self, params: dict[str, Any] | None = None, files: dict[str, str] | None = None) -> None:
        self.params = params or {}
        self.files = files or {}
        self.resources = {"server": {"id": "srv-1", "attrs": {"networks": {"private": ["10.0.0.5", "fd00::5"]}}}}
        self.conditions = {"prod": True, "dev": False}

    def param(self, name: str) -> Any:
        if name not in self.params:
            raise errors.UserParameterMissing(name)
        return self.params[name]

    def file(self, key: str) -> str | None:
        return self.files.get(key)

    def has_resource(self, name: str) -> bool:
        return name in self.resources

    def ref(self, name: str) -> Any:
        return self.resources[name]["id"]

    def attr(self, name: str, attr: str, path: list[Any]) -> Any:
        return functions.select(self.resources[name]["attrs"].get(attr), path)

    def all_attrs(self, name: str) -> Any:
        return self.resources[name]["attrs"]

    def attribute_known(self, name: str, attr: str) -> bool:
        return attr in self.resources[name]["attrs"]

    def condition(self, name: Any) -> bool:
        return self.conditions[name]

    def facade(self, what: str) -> Any:
        return None


def evaluate(version: str, snippet: Any, scope: Scope | None = None) -> Any:
    tmpl = Template({"heat_template_version": version})
    scope = scope or Scope()
    parsed = tmpl.parser(scope.condition).parse(snippet)
    functions.validate(parsed, scope, ["outputs", "x", "value"])
    return functions.resolve(parsed, scope)


def condition(version: str, snippet: Any) -> Any:
    tmpl = Template({"heat_template_version": version})
    scope = Scope()
    return functions.resolve(tmpl.parser(scope.condition).parse_condition(snippet), scope)


def definition(
    text: str, params: dict[str, Any] | None = None, files: dict[str, str] | None = None, **kw: Any
) -> StackDefinition:
    env = Environment.from_dict({"parameters": params or {}})
    return StackDefinition(
        text,
        files=files,
        environment=env,
        stack_name="s",
        stack_id="id-1",
        project_id="p",
        resolve_type=plugin_for,
        **kw,
    )


# -- versions ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("2013-05-23", "2013-05-23"),
        ("newton", "2016-10-14"),
        ("ocata", "2017-02-24"),
        ("pike", "2017-09-01"),
        ("queens", "2018-03-02"),
        ("rocky", "2018-08-31"),
        ("wallaby", "2021-04-16"),
    ],
)
def test_versions_and_their_names(given, canonical):
    assert Template({"heat_template_version": given}).version == canonical


def test_yaml_dates_stay_strings():
    parsed = parse_template("heat_template_version: 2016-10-14\nresources: {}\n")
    assert parsed["heat_template_version"] == "2016-10-14"
    assert load_yaml("d: 2020-01-01")["d"] == "2020-01-01"


def test_unknown_version_lists_the_known_ones():
    with pytest.raises(errors.InvalidTemplateVersion) as err:
        Template({"heat_template_version": "2012-12-12"})
    message = err.value.message
    assert message.startswith('The template version is invalid: "heat_template_version: 2012-12-12". ')
    assert '"heat_template_version" should be one of: 2013-05-23, 2014-10-16' in message and "wallaby" in message


def test_missing_version():
    with pytest.raises(errors.HeatError, match=r"Template format version not found\."):
        parse_template("resources: {}\n")


def test_sections_and_keywords():
    with pytest.raises(errors.InvalidTemplateSection, match="The template section is invalid: conditions"):
        definition("heat_template_version: 2015-10-15\nconditions: {}\n")
    definition("heat_template_version: 2016-10-14\nconditions: {}\n")
    with pytest.raises(errors.StackValidationFailed, match='"foo" is not a valid keyword inside a resource definition'):
        definition("heat_template_version: 2016-10-14\nresources:\n  r: {type: OS::Heat::Value, foo: 1}\n")
    with pytest.raises(errors.StackValidationFailed, match=r"Each output must contain a value key\."):
        definition("heat_template_version: 2016-10-14\noutputs:\n  o: {description: x}\n")


# -- functions and their versions ---------------------------------------------------------------------


def test_get_param_and_paths():
    scope = Scope({"name": "web", "cfg": {"a": [1, {"b": "deep"}]}})
    assert evaluate("2013-05-23", {"get_param": "name"}, scope) == "web"
    assert evaluate("2015-10-15", {"get_param": ["cfg", "a", 1, "b"]}, scope) == "deep"
    assert evaluate("2015-10-15", {"get_param": ["cfg", "nope"]}, scope) == ""
    with pytest.raises(errors.UserParameterMissing, match=r"The Parameter \(missing\) was not provided."):
        evaluate("2015-10-15", {"get_param": "missing"}, scope)


def test_get_resource_and_get_attr():
    assert evaluate("2013-05-23", {"get_resource": "server"}) == "srv-1"
    assert evaluate("2014-10-16", {"get_attr": ["server", "networks", "private", 0]}) == "10.0.0.5"
    assert evaluate("2013-05-23", {"get_attr": ["server", "networks", "private", 1]}) == "fd00::5"
    assert evaluate("2015-10-15", {"get_attr": ["server"]}) == {"networks": {"private": ["10.0.0.5", "fd00::5"]}}
    with pytest.raises(ValueError, match='Arguments to "get_attr" must be of the form'):
        evaluate("2014-10-16", {"get_attr": ["server"]})
    with pytest.raises(errors.StackValidationFailed) as err:
        evaluate("2016-10-14", {"get_attr": ["server", "nope"]})
    assert err.value.message == "outputs.x.value.get_attr: The Referenced Attribute (server nope) is incorrect."


def test_get_file():
    scope = Scope(files={"file:///a.sh": "#!/bin/sh\n"})
    assert evaluate("2013-05-23", {"get_file": "file:///a.sh"}, scope) == "#!/bin/sh\n"
    with pytest.raises(ValueError, match='No content found in the "files" section for get_file path: b'):
        evaluate("2013-05-23", {"get_file": "b"}, scope)


def test_str_replace_family():
    args = {"template": "Hello NAME, you are ROLE", "params": {"NAME": "ana", "ROLE": {"a": 1}}}
    with pytest.raises(TypeError, match='"str_replace" params must be strings or numbers, param ROLE is not valid'):
        evaluate("2015-04-30", {"str_replace": args})
    assert evaluate("2015-10-15", {"str_replace": args}) == 'Hello ana, you are {"a": 1}'
    strict = {"template": "x", "params": {"y": "1"}}
    assert evaluate("2017-02-24", {"str_replace": strict}) == "x"
    with pytest.raises(ValueError, match="The following params were not found in the template: y"):
        evaluate("2017-02-24", {"str_replace_strict": strict})
    empty = {"template": "x is V", "params": {"V": ""}}
    assert evaluate("2017-09-01", {"str_replace_strict": empty}) == "x is "
    with pytest.raises(ValueError, match="str_replace_vstrict has an undefined or empty value for param V"):
        evaluate("2017-09-01", {"str_replace_vstrict": empty})
    # longest placeholder first, as in Heat
    assert evaluate("2015-10-15", {"str_replace": {"template": "$a $ab", "params": {"$a": "1", "$ab": "2"}}}) == "1 2"


def test_list_join_str_split_repeat_digest():
    assert evaluate("2013-05-23", {"list_join": [",", ["a", "b"]]}) == "a,b"
    assert evaluate("2015-10-15", {"list_join": ["-", ["a"], ["b", "c"]]}) == "a-b-c"
    assert evaluate("2015-10-15", {"list_join": [",", [{"k": 1}]]}) == '{"k": 1}'
    assert evaluate("2015-10-15", {"str_split": [",", "a,b,c"]}) == ["a", "b", "c"]
    assert evaluate("2015-10-15", {"str_split": [",", "a,b,c", 1]}) == "b"
    with pytest.raises(ValueError, match='Incorrect index to "str_split" should be between 0 and 2'):
        evaluate("2015-10-15", {"str_split": [",", "a,b,c", 5]})
    loop = {"repeat": {"template": "port-%p%-%q%", "for_each": {"%p%": [1, 2], "%q%": ["a"]}}}
    assert evaluate("2015-04-30", loop) == ["port-1-a", "port-2-a"]
    zipped = {
        "repeat": {"template": "%a%%b%", "for_each": {"%a%": ["x", "y"], "%b%": ["1", "2"]}, "permutations": False}
    }
    assert evaluate("2017-09-01", zipped) == ["x1", "y2"]
    assert evaluate("2015-04-30", {"digest": ["sha256", "abc"]}) == hashlib.sha256(b"abc").hexdigest()


def test_maps_and_lists():
    assert evaluate("2016-04-08", {"map_merge": [{"a": 1, "b": 1}, {"b": 2}]}) == {"a": 1, "b": 2}
    replaced = {"map_replace": [{"k1": "v1", "k2": "v2"}, {"keys": {"k1": "K1"}, "values": {"v2": "V2"}}]}
    assert evaluate("2016-10-14", replaced) == {"K1": "v1", "k2": "V2"}
    assert evaluate("2017-09-01", {"list_concat": [[1, 2], [2, 3]]}) == [1, 2, 2, 3]
    assert evaluate("2017-09-01", {"list_concat_unique": [[1, 2], [2, 3]]}) == [1, 2, 3]
    assert evaluate("2017-09-01", {"contains": ["b", ["a", "b"]]}) is True
    assert evaluate("2017-02-24", {"filter": [[2], [1, 2, 3]]}) == [1, 3]


def test_conditions_functions_and_if():
    assert evaluate("2016-10-14", {"if": ["prod", "big", "small"]}) == "big"
    assert evaluate("2016-10-14", {"if": ["dev", "big", "small"]}) == "small"
    assert condition("2016-10-14", {"equals": [1, 1]}) is True
    assert condition("2016-10-14", {"not": "dev"}) is True
    assert condition("2016-10-14", {"and": ["prod", "dev"]}) is False
    assert condition("2016-10-14", {"or": ["prod", {"equals": ["a", "a"]}]}) is True
    assert condition("2017-09-01", {"contains": ["a", ["a"]]}) is True
    # condition functions are conditions only; elsewhere they are plain data
    assert evaluate("2016-10-14", {"equals": [1, 1]}) == {"equals": [1, 1]}
    with pytest.raises(ValueError, match='Arguments to "if" must be of the form'):
        evaluate("2016-10-14", {"if": ["dev", "big"]})
    # 2021-04-16: without a false value a false condition drops the item
    assert evaluate("2021-04-16", {"a": {"if": ["dev", 1]}, "b": 2, "c": [{"if": ["dev", 1]}, 3]}) == {
        "b": 2,
        "c": [3],
    }


def test_functions_appear_with_their_version():
    # Before the version that introduced it a function is plain data, as in Heat.
    assert evaluate("2014-10-16", {"str_split": [",", "a,b"]}) == {"str_split": [",", "a,b"]}
    assert evaluate("2015-10-15", {"map_merge": [{"a": 1}]}) == {"map_merge": [{"a": 1}]}
    assert evaluate("2016-04-08", {"if": ["prod", 1, 2]}) == {"if": ["prod", 1, 2]}
    assert evaluate("2017-02-24", {"list_concat": [[1], [2]]}) == {"list_concat": [[1], [2]]}
    assert evaluate("2017-09-01", {"list_concat": [[1], [2]]}) == [1, 2]
    assert evaluate("2015-04-30", {"Fn::Select": [1, ["a", "b"]]}) == "b"
    # ... and one a later version removed is an error with Heat's message
    with pytest.raises(errors.StackValidationFailed) as err:
        evaluate("2015-10-15", {"Fn::Select": [1, ["a", "b"]]})
    assert err.value.message == (
        "outputs.x.value.Fn::Select: The template version is invalid: "
        "The function Fn::Select is not supported in this version of HOT."
    )
    with pytest.raises(errors.StackValidationFailed, match="The function Ref is not supported in this version"):
        evaluate("2014-10-16", {"Ref": "x"})


# -- parameters and constraints ----------------------------------------------------------------------


PARAMS = """
heat_template_version: 2017-02-24
parameters:
  name:
    type: string
    label: Name
    description: The name
    default: abc
    constraints:
      - length: {min: 2, max: 5}
      - allowed_pattern: "[a-z]+"
  size:
    type: number
    default: 4
    constraints:
      - range: {min: 1, max: 10}
      - modulo: {step: 2, offset: 0}
  color:
    type: string
    default: red
    constraints:
      - allowed_values: [red, blue]
        description: Pick red or blue
  tags:
    type: comma_delimited_list
    default: "a,b"
  conf:
    type: json
    default: {"x": 1}
  enabled:
    type: boolean
    default: "yes"
  secret:
    type: string
    hidden: true
    default: hunter2
    immutable: true
"""


def test_parameter_types_and_defaults():
    defn = definition(PARAMS)
    defn.validate()
    params = defn.params
    assert params.value("size") == 4 and params.value("tags") == ["a", "b"] and params.value("conf") == {"x": 1}
    assert params.value("enabled") is True and params.value("OS::stack_name") == "s"
    shown = params.shown()
    assert shown["secret"] == "******" and shown["tags"] == "a,b" and shown["OS::stack_id"] == "id-1"


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"name": "a"}, "Parameter 'name' is invalid: length (1) is out of range (min: 2, max: 5)"),
        ({"name": "ABC"}, 'Parameter \'name\' is invalid: "ABC" does not match pattern "[a-z]+"'),
        ({"size": "11"}, "Parameter 'size' is invalid: 11 is out of range (min: 1, max: 10)"),
        ({"size": "3"}, "Parameter 'size' is invalid: 3 is not a multiple of 2 with an offset of 0"),
        ({"size": "x"}, "Parameter 'size' is invalid: could not convert string to float: 'x'"),
        ({"color": "green"}, "Parameter 'color' is invalid: Pick red or blue"),
        ({"enabled": "maybe"}, "Parameter 'enabled' is invalid: Unrecognized value 'maybe'"),
        ({"conf": "{bad"}, "Parameter 'conf' is invalid: Value must be valid JSON"),
    ],
)
def test_parameter_constraints(given, message):
    with pytest.raises(errors.StackValidationFailed) as err:
        definition(PARAMS, given).validate()
    assert err.value.message.startswith(message)


def test_parameter_errors():
    with pytest.raises(errors.UnknownUserParameter, match=r"The Parameter \(nope\) was not defined in template."):
        definition(PARAMS, {"nope": 1})
    with pytest.raises(errors.UserParameterMissing, match=r"The Parameter \(k\) was not provided."):
        definition("heat_template_version: 2013-05-23\nparameters:\n  k: {type: string}\n").validate()
    with pytest.raises(errors.InvalidSchemaError, match="Invalid key 'modulo' for parameter constraints"):
        definition(
            "heat_template_version: 2016-10-14\nparameters:\n  n:\n    type: number\n"
            "    constraints: [{modulo: {step: 2, offset: 0}}]\n"
        )
    with pytest.raises(errors.InvalidSchemaError, match="Missing parameter type for parameter: n"):
        definition("heat_template_version: 2016-10-14\nparameters:\n  n: {default: 1}\n")


def test_custom_constraints_use_the_checker():
    seen = []

    def checker(name: str, value: Any) -> None:
        seen.append((name, value))
        if value == "bad":
            raise ValueError(f"Error validating value '{value}': The Flavor ({value}) could not be found.")

    text = (
        "heat_template_version: 2016-10-14\nparameters:\n  f:\n    type: string\n"
        "    constraints: [{custom_constraint: nova.flavor}]\n"
    )
    definition(text, {"f": "m1.tiny"}).validate(checker)
    assert seen == [("nova.flavor", "m1.tiny")]
    with pytest.raises(errors.StackValidationFailed) as err:
        definition(text, {"f": "bad"}).validate(checker)
    assert (
        err.value.message
        == "Parameter 'f' is invalid: Error validating value 'bad': The Flavor (bad) could not be found."
    )


def test_immutable_parameters():
    old = definition(PARAMS)
    new = definition(PARAMS, {"secret": "other"})
    assert old.params.immutable_changes(new.params) == ["secret"]
    with pytest.raises(errors.ImmutableParameterModified, match="immutable and may not be updated: secret"):
        raise errors.ImmutableParameterModified(old.params.immutable_changes(new.params))


def test_parameter_groups():
    bad = (
        "heat_template_version: 2016-10-14\nparameter_groups:\n- parameters: [nope]\nparameters:\n"
        "  a: {type: string, default: x}\n"
    )
    with pytest.raises(errors.StackValidationFailed, match="The grouped parameter nope does not reference a valid"):
        definition(bad).validate()


# -- resources, properties, conditions and the graph ------------------------------------------------------


def test_unknown_resource_type():
    with pytest.raises(errors.ResourceTypeNotFound) as err:
        definition("heat_template_version: 2016-10-14\nresources:\n  r: {type: OS::Foo::Bar}\n")
    assert err.value.message == "The Resource Type (OS::Foo::Bar) could not be found."


def test_property_checks():
    text = "heat_template_version: 2016-10-14\nresources:\n  r:\n    type: OS::Heat::RandomString\n    properties: {}\n"
    definition(text.replace("{}", "{length: 8}")).validate()
    with pytest.raises(errors.StackValidationFailed) as err:
        definition(text.replace("{}", "{lenght: 8}")).validate()
    assert err.value.message == "Property error: resources.r.properties: Unknown Property lenght"
    with pytest.raises(errors.StackValidationFailed) as err:
        definition(text.replace("{}", "{length: 0}")).validate()
    assert err.value.message == "Property error: resources.r.properties.length: 0 is out of range (min: 1, max: 512)"
    with pytest.raises(errors.StackValidationFailed, match="Property value not assigned"):
        definition("heat_template_version: 2016-10-14\nresources:\n  v: {type: OS::Heat::Value}\n").validate()


def test_references_are_checked():
    text = """
heat_template_version: 2016-10-14
resources:
  a:
    type: OS::Heat::Value
    properties:
      value: {str_replace: {template: x, params: {x: {get_resource: nope}}}}
"""
    with pytest.raises(errors.InvalidTemplateReference) as err:
        definition(text)
    assert (
        err.value.message == 'The specified reference "nope" (in a.Properties.value.str_replace.params.x) is incorrect.'
    )
    with pytest.raises(errors.InvalidTemplateReference, match=r'"b" \(in a.DependsOn\) is incorrect'):
        definition(
            "heat_template_version: 2016-10-14\nresources:\n  a: {type: OS::Heat::Value, depends_on: b,"
            " properties: {value: 1}}\n"
        )


def test_cycles_are_rejected():
    text = """
heat_template_version: 2016-10-14
resources:
  a: {type: OS::Heat::Value, properties: {value: {get_attr: [b, value]}}}
  b: {type: OS::Heat::Value, properties: {value: {get_resource: a}}}
  c: {type: OS::Heat::Value, properties: {value: 1}}
"""
    defn = definition(text)
    with pytest.raises(errors.CircularDependencyException) as err:
        defn.validate()
    assert err.value.message == 'Circular Dependency Found: {Value "a": {Value "b"}, Value "b": {Value "a"}}'


def test_order_and_implicit_dependencies():
    text = """
heat_template_version: 2016-10-14
resources:
  port:
    type: OS::Neutron::Port
    properties: {network: {get_resource: net}}
  subnet:
    type: OS::Neutron::Subnet
    properties: {network: {get_resource: net}, cidr: 10.0.0.0/24}
  net:
    type: OS::Neutron::Net
  fip:
    type: OS::Neutron::FloatingIP
    properties: {floating_network: public, port_id: {get_resource: port}}
  iface:
    type: OS::Neutron::RouterInterface
    properties: {router: r1, subnet: {get_resource: subnet}}
"""
    defn = definition(text)
    assert defn.requires["port"] == {"net", "subnet"}
    assert defn.requires["fip"] == {"port", "iface"}
    order = defn.order()
    assert order.index("net") < order.index("subnet") < order.index("port") < order.index("fip")


def test_conditions():
    text = """
heat_template_version: 2016-10-14
parameters:
  env: {type: string, default: prod}
conditions:
  is_prod: {equals: [{get_param: env}, prod]}
  is_dev: {not: is_prod}
  both: {and: [is_prod, {not: is_dev}]}
resources:
  big: {type: OS::Heat::Value, condition: is_prod, properties: {value: {if: [both, large, small]}}}
  small: {type: OS::Heat::Value, condition: is_dev, properties: {value: 1}}
outputs:
  size: {value: {get_attr: [big, value]}, condition: is_prod}
  dev_only: {value: 1, condition: is_dev}
"""
    prod = definition(text)
    assert list(prod.resources) == ["big"] and list(prod.outputs) == ["size"]
    assert prod.resources["big"].properties == {"value": "large"}
    dev = definition(text, {"env": "dev"})
    assert list(dev.resources) == ["small"] and list(dev.outputs) == ["dev_only"]
    with pytest.raises(errors.StackValidationFailed, match='Invalid condition "nope"'):
        definition(text.replace("condition: is_dev", "condition: nope"))
    with pytest.raises(errors.StackValidationFailed, match='The function "get_attr" is invalid in this context'):
        definition(text.replace("{get_param: env}", "{get_attr: [big, value]}"))


def test_environment_registry_and_template_resources():
    nested = """
heat_template_version: 2016-10-14
parameters:
  size: {type: number}
  label: {type: string, default: x}
resources:
  v: {type: OS::Heat::Value, properties: {value: {get_param: size}}}
outputs:
  doubled: {value: {get_attr: [v, value]}}
"""
    text = """
heat_template_version: 2016-10-14
resources:
  alias: {type: My::Value, properties: {value: 1}}
  wild: {type: Custom::Value, properties: {value: 2}}
  box: {type: "file:///box.yaml", properties: {size: 3}}
outputs:
  o: {value: {get_attr: [box, doubled]}}
"""
    env = Environment.from_dict({"resource_registry": {"My::Value": "OS::Heat::Value", "Custom::*": "OS::Heat::*"}})
    defn = StackDefinition(
        text, files={"file:///box.yaml": nested}, environment=env, stack_name="s", resolve_type=plugin_for
    )
    defn.validate()
    assert defn.resources["alias"].plugin.type_name == "OS::Heat::Value"
    assert defn.resources["wild"].plugin.type_name == "OS::Heat::Value"
    box = defn.resources["box"].plugin
    assert set(box.properties_schema) == {"size", "label"} and box.properties_schema["size"].required
    bad = text.replace("doubled", "tripled")
    with pytest.raises(errors.StackValidationFailed, match=r"The Referenced Attribute \(box tripled\) is incorrect"):
        StackDefinition(
            bad, files={"file:///box.yaml": nested}, environment=env, stack_name="s", resolve_type=plugin_for
        ).validate()
    with pytest.raises(errors.StackValidationFailed, match="Property size not assigned"):
        StackDefinition(
            text.replace("{size: 3}", "{}"),
            files={"file:///box.yaml": nested},
            environment=env,
            stack_name="s",
            resolve_type=plugin_for,
        ).validate()
