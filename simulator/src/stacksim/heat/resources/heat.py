"""``OS::Heat::*`` types, and template resources (nested stacks from ``files``).

``RandomString``, ``Value``, ``SoftwareConfig``, ``CloudConfig``,
``MultipartMime`` (configs are kept as ``software_config`` records; a server
whose ``user_data`` names one gets its content), ``WaitConditionHandle`` and
``WaitCondition`` (the handle is signalled over HTTP at its ``endpoint``, with
its ``token`` in the URL or as ``X-Auth-Token``, as Heat's token handle is),
``ResourceGroup`` (a nested stack of ``count`` copies of ``resource_def``,
``%index%`` replaced), and a template resource for each template a type names.

Not implemented: software deployments, ``OS::Heat::Stack``, ``AutoScalingGroup``,
``ResourceChain``, the ``TEMP_URL_SIGNAL``/``ZAQAR_SIGNAL`` transports (they
behave as ``TOKEN_SIGNAL``).
"""

from __future__ import annotations

import email
import hashlib
import json
import secrets
import string
import threading
import time
from collections import OrderedDict
from collections.abc import Generator, Mapping
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from typing import TYPE_CHECKING, Any

import yaml

from stacksim.heat import errors
from stacksim.heat.constraints import AllowedValues, Checker, Length, Range
from stacksim.heat.functions import select
from stacksim.heat.limits import DEFAULT, Limits, load_json
from stacksim.heat.parameters import convert
from stacksim.heat.resources.base import (
    Attr,
    Call,
    From,
    Mapped,
    Prop,
    Resource,
    Source,
    Table,
    check_properties,
    recheck_after,
)
from stacksim.heat.template import load_yaml
from stacksim.services.orchestration.configs import KIND as CONFIG_KIND
from stacksim.services.orchestration.configs import SoftwareConfigCreate, SoftwareConfigs

if TYPE_CHECKING:
    from stacksim.heat.run import StackRun
    from stacksim.heat.stack import ResourceDefinition, StackDefinition


class NestedStackFailed(Exception):
    """A nested stack's action failed; the message is its stack status reason."""


# -- RandomString, Value ------------------------------------------------------------------------

CHARACTER_CLASSES = {
    "lettersdigits": string.ascii_letters + string.digits,
    "letters": string.ascii_letters,
    "lowercase": string.ascii_lowercase,
    "uppercase": string.ascii_uppercase,
    "digits": string.digits,
    "hexdigits": string.digits + "ABCDEF",
    "octdigits": string.octdigits,
}


class RandomString(Resource):
    type_name = "OS::Heat::RandomString"
    description = "A resource which generates a random string."
    properties_schema = {
        "length": Prop("integer", "Length of the string to generate.", default=32, constraints=(Range(1, 512),)),
        "sequence": Prop(
            "string",
            "Sequence of characters to build the random string from.",
            constraints=(AllowedValues(list(CHARACTER_CLASSES)),),
            support_status="HIDDEN",
        ),
        "character_classes": Prop(
            "list",
            "A list of character class and their constraints to generate the random string from.",
            default=[{"class": "lettersdigits", "min": 1}],
            schema=Prop(
                "map",
                schema={
                    "class": Prop(
                        "string",
                        "A character class and its corresponding min constraint to generate the random string from.",
                        default="lettersdigits",
                        constraints=(AllowedValues(list(CHARACTER_CLASSES)),),
                    ),
                    "min": Prop(
                        "integer",
                        "The minimum number of characters from this character class that will be in the generated "
                        "string.",
                        default=1,
                        constraints=(Range(1, 512),),
                    ),
                },
            ),
        ),
        "character_sequences": Prop(
            "list",
            "A list of character sequences and their constraints to generate the random string from.",
            schema=Prop(
                "map",
                schema={
                    "sequence": Prop(
                        "string", "A character sequence and its corresponding min constraint.", required=True
                    ),
                    "min": Prop(
                        "integer",
                        "The minimum number of characters from this sequence.",
                        default=1,
                        constraints=(Range(1, 512),),
                    ),
                },
            ),
        ),
        "salt": Prop(
            "string",
            "Value which can be set or changed on stack update to trigger the resource for replacement with a new "
            "random string. The salt value itself is ignored by the random generator.",
            update_allowed=True,
        ),
    }
    attributes_schema = {"value": Attr("The random string generated by this resource.", "string")}

    @classmethod
    def validate_definition(cls, stack: Any, defn: Any, props: dict[str, Any], checker: Checker | None) -> None:
        length = props.get("length")
        pools = _pools(props)
        if isinstance(length, int) and all(isinstance(m, int) for _, m in pools):
            least = sum(m for _, m in pools)
            if least > length:
                raise errors.StackValidationFailed(
                    "Length property cannot be smaller than combined character class and character sequence minimums"
                )

    def handle_create(self) -> None:
        self.data["value"] = self._generate()
        self.resource_id = self.physical_name()

    def handle_update(self, changed: dict[str, Any], old: dict[str, Any]) -> None:
        if "salt" in changed:
            self.data["value"] = self._generate()

    def _generate(self) -> str:
        rng = secrets.SystemRandom()
        pools = _pools(self.props)
        chars: list[str] = []
        for pool, minimum in pools:
            chars.extend(rng.choice(pool) for _ in range(minimum))
        everything = "".join(sorted({c for pool, _ in pools for c in pool}))
        while len(chars) < self.props["length"]:
            chars.append(rng.choice(everything))
        rng.shuffle(chars)
        return "".join(chars)

    def resolve_attribute(self, attr: str) -> Any:
        return self.data.get("value")

    def reference_id(self) -> Any:
        return self.data.get("value") if self.resource_id else self.name


def _pools(props: Mapping[str, Any]) -> list[tuple[str, int]]:
    pools: list[tuple[str, int]] = []
    if props.get("sequence"):
        pools.append((CHARACTER_CLASSES[props["sequence"]], 0))
    for item in props.get("character_sequences") or []:
        if isinstance(item, Mapping) and isinstance(item.get("sequence"), str):
            pools.append((item["sequence"], item.get("min", 1)))
    classes = props.get("character_classes") or []
    if not classes and not pools:
        classes = [{"class": "lettersdigits", "min": 1}]
    for item in classes:
        if isinstance(item, Mapping):
            pools.append((CHARACTER_CLASSES.get(item.get("class", "lettersdigits"), ""), item.get("min", 1)))
    return pools


class Value(Resource):
    type_name = "OS::Heat::Value"
    description = "A resource which exposes its value property as an attribute."
    properties_schema = {
        "value": Prop("any", 'The expression to generate the "value" attribute.', required=True, update_allowed=True),
        "type": Prop(
            "string",
            'The type of the "value" property.',
            update_allowed=True,
            constraints=(AllowedValues(["string", "number", "comma_delimited_list", "json", "boolean"]),),
        ),
    }
    attributes_schema = {"value": Attr('The value generated by this resource\'s properties "value" expression.')}

    @classmethod
    def validate_definition(cls, stack: Any, defn: Any, props: dict[str, Any], checker: Checker | None) -> None:
        if props.get("type") and props.get("value") is not None:
            try:
                convert(props["type"], props["value"])
            except (TypeError, ValueError) as exc:
                raise errors.StackValidationFailed(str(exc), error="Property error") from None

    def handle_create(self) -> None:
        self.resource_id = self.physical_name()

    def resolve_attribute(self, attr: str) -> Any:
        value = self.props.get("value")
        if self.props.get("type"):
            try:
                return convert(self.props["type"], value)
            except (TypeError, ValueError):
                return value
        return value


# -- software configs -----------------------------------------------------------------------------


def config_content(store: Any, ref: Any) -> str | None:
    """The content of a software config, if ``ref`` names one (for a server's ``user_data``)."""
    if not isinstance(ref, str):
        return None
    record = store.get(CONFIG_KIND, ref)
    return None if record is None else record.get("config")


GROUP = Prop(
    "string", "Namespace to group this software config by when delivered to a server.", default="Heat::Ungrouped"
)
CONFIG_ATTRIBUTES = {"config": Attr("The config value of the software config.")}


def _config_table(**fields: Source) -> Table:
    """A software config kept through Orchestration's own configs; ``fields`` say how its content is made."""
    return Table(
        service="orchestration.configs",
        create=Call(SoftwareConfigs.create, SoftwareConfigCreate, {"name": From((), Resource.physical_name), **fields}),
        delete=Call(SoftwareConfigs.delete),
        view=SoftwareConfigs.get,
    )


class SoftwareConfig(Mapped):
    type_name = "OS::Heat::SoftwareConfig"
    description = "A resource for describing and storing software configuration."
    properties_schema = {
        "group": GROUP,
        "config": Prop(
            "string", "Configuration script or manifest which specifies what actual configuration is performed."
        ),
        "options": Prop(
            "map", "Map containing options specific to the configuration management tool used by this resource."
        ),
        "inputs": Prop(
            "list", "Schema representing the inputs that this software config is expecting.", schema=Prop("map")
        ),
        "outputs": Prop(
            "list", "Schema representing the outputs that this software config will produce.", schema=Prop("map")
        ),
    }
    attributes_schema = CONFIG_ATTRIBUTES
    table = _config_table()


def _cloud_config(res: Resource, data: Any) -> str:
    return "#cloud-config\n" + yaml.safe_dump(data or {}, default_flow_style=False)


class CloudConfig(Mapped):
    type_name = "OS::Heat::CloudConfig"
    description = "A configuration resource for representing cloud-init cloud-config."
    properties_schema = {
        "cloud_config": Prop(
            "map", "Map representing the cloud-config data structure which will be formatted as YAML."
        ),
    }
    attributes_schema = CONFIG_ATTRIBUTES
    table = _config_table(config=From(("cloud_config",), _cloud_config))


def _multipart(res: Mapped, parts: Any) -> str:
    """The parts as one MIME message; a part that names a software config gets its content."""
    message = MIMEMultipart()
    for part in parts or []:
        content = res.facade.content(res.ctx, part["config"])
        content = part["config"] if content is None else content
        if part.get("type") == "multipart":
            for sub in email.message_from_string(content).walk():
                if not sub.is_multipart():
                    message.attach(sub)
            continue
        subtype = part.get("subtype") or ""
        filename = part.get("filename") or ""
        if not subtype and filename:
            subtype = filename.rsplit(".", 1)[0]
        mime = MIMEText(content, subtype) if subtype else MIMEText(content)
        if filename:
            mime.add_header("Content-Disposition", "attachment", filename=filename)
        message.attach(mime)
    return message.as_string()


class MultipartMime(Mapped):
    type_name = "OS::Heat::MultipartMime"
    description = "Assembles a collection of software configurations as a multi-part mime message."
    properties_schema = {
        "parts": Prop(
            "list",
            "Parts belonging to this message.",
            default=[],
            schema=Prop(
                "map",
                schema={
                    "config": Prop(
                        "string",
                        "Content of part to attach, either inline or by referencing the ID of "
                        "another software config resource.",
                        required=True,
                    ),
                    "filename": Prop("string", "Optional filename to associate with part."),
                    "type": Prop(
                        "string",
                        "Whether the part content is text or multipart.",
                        default="text",
                        constraints=(AllowedValues(["text", "multipart"]),),
                    ),
                    "subtype": Prop("string", "Optional subtype to specify with the type."),
                },
            ),
        ),
        "group": GROUP,
    }
    attributes_schema = CONFIG_ATTRIBUTES
    table = _config_table(config=From(("parts",), _multipart))


# -- wait conditions ----------------------------------------------------------------------------------


class WaitConditionFailure(Exception):
    pass


class WaitConditionTimeout(Exception):
    pass


class WaitConditionHandle(Resource):
    type_name = "OS::Heat::WaitConditionHandle"
    description = "Resource for managing signals from a server: signal its endpoint to release a wait condition."
    properties_schema = {
        "signal_transport": Prop(
            "string",
            "How the client will signal the wait condition.",
            default="TOKEN_SIGNAL",
            constraints=(
                AllowedValues(["TEMP_URL_SIGNAL", "TOKEN_SIGNAL", "HEAT_SIGNAL", "NO_SIGNAL", "ZAQAR_SIGNAL"]),
            ),
        ),
    }
    attributes_schema = {
        "token": Attr("Token for stack-user which can be used for signalling handle.", "string"),
        "endpoint": Attr("Endpoint/url which can be used for signalling handle.", "string"),
        "curl_cli": Attr(
            "Convenience attribute, provides curl CLI command prefix, which can be used for signalling "
            "handle completion or failure.",
            "string",
        ),
        "signal": Attr(
            "JSON serialized map that includes the endpoint, token and/or other attributes the client "
            "must use for signalling this handle.",
            "string",
        ),
    }

    def handle_create(self) -> None:
        self.resource_id = self.physical_name()
        self.data["token"] = secrets.token_urlsafe(24)
        self.data["signals"] = {}

    def signal_token(self) -> str | None:
        return self.data.get("token")

    def endpoint(self) -> str:
        run = self.rt.run
        base = self.cloud.settings.instance_url  # the server that signals must reach it
        return (
            f"{base}/orchestration/v1/{run.record['project_id']}/stacks/{run.name}/{run.id}"
            f"/resources/{self.name}/signal?token={self.data.get('token', '')}"
        )

    def resolve_attribute(self, attr: str) -> Any:
        token = self.data.get("token", "")
        if attr == "token":
            return token
        if attr == "endpoint":
            return self.endpoint()
        if attr == "curl_cli":
            return (
                f"curl -i -X POST -H 'X-Auth-Token: {token}' -H 'Content-Type: application/json' "
                f"-H 'Accept: application/json' {self.endpoint()}"
            )
        if attr == "signal":
            return json.dumps({"endpoint": self.endpoint(), "token": token})
        return None

    def handle_signal(self, details: Any) -> None:
        if details is None or details == "":
            details = {}
        if not isinstance(details, Mapping):
            raise errors.HeatError("Metadata format invalid")
        if not set(details) <= {"data", "reason", "status", "id"}:
            raise errors.HeatError("Metadata format invalid")
        status = details.get("status", "SUCCESS")
        if status not in ("SUCCESS", "FAILURE"):
            raise errors.HeatError("Metadata format invalid")
        signals = dict(self.data.get("signals") or {})
        signal_id = str(details.get("id") or len(signals) + 1)
        signals[signal_id] = {
            "data": details.get("data"),
            "reason": details.get("reason") or f"Signal {signal_id} received",
            "status": status,
        }
        self.data["signals"] = signals
        self.record["metadata"] = signals


class WaitCondition(Resource):
    type_name = "OS::Heat::WaitCondition"
    description = "Resource for handling signals received by WaitConditionHandle."
    properties_schema = {
        "handle": Prop(
            "string", "A reference to the wait condition handle used to signal this wait condition.", required=True
        ),
        "timeout": Prop(
            "number",
            "The number of seconds to wait for the correct number of signals to arrive.",
            required=True,
            constraints=(Range(1, 43200),),
        ),
        "count": Prop(
            "integer",
            "The number of success signals that must be received before the stack creation process continues.",
            default=1,
            update_allowed=True,
            constraints=(Range(min=1),),
        ),
    }
    attributes_schema = {
        "data": Attr("JSON string containing data associated with wait condition signals sent to the handle.", "string")
    }

    def _handle_record(self) -> dict[str, Any] | None:
        ref = self.props.get("handle")
        for record in self.rt.cloud.store.find("heat_resource", stack_id=self.rt.run.id):
            if record["physical_id"] == ref or record["name"] == ref:
                return record
        return None

    def _signals(self) -> dict[str, Any]:
        record = self._handle_record()
        return dict(((record or {}).get("data") or {}).get("signals") or {})

    def handle_create(self) -> None:
        self.resource_id = self.physical_name()
        self.data["deadline"] = time.time() + float(self.props["timeout"])

    def check_create_complete(self) -> bool:
        signals = self._signals()
        failures = [s["reason"] for s in signals.values() if s["status"] == "FAILURE"]
        if failures:
            raise WaitConditionFailure(";".join(failures))
        successes = [s for s in signals.values() if s["status"] == "SUCCESS"]
        if len(successes) >= (self.props.get("count") or 1):
            return True
        left = self.data.get("deadline", 0) - time.time()
        if left < 0:
            raise WaitConditionTimeout(f"{len(successes)} of {self.props.get('count') or 1} received")
        recheck_after(left)  # a signal is an API call, which wakes the engine; the time-out is not
        return False

    def handle_update(self, changed: dict[str, Any], old: dict[str, Any]) -> None:
        self.data["deadline"] = time.time() + float(self.props["timeout"])

    check_update_complete = check_create_complete

    def resolve_attribute(self, attr: str) -> Any:
        signals = self._signals()
        return json.dumps({k: v["data"] for k, v in signals.items() if v["status"] == "SUCCESS"})


# -- nested stacks ------------------------------------------------------------------------------------


class NestedStackResource(Resource):
    """What template resources and groups share: a nested stack driven inline."""

    _gen: Generator[None, None, None] | None = None
    _expect: str = ""

    def child(self) -> StackRun | None:
        return self.rt.run.engine.nested_run(self.record.get("nested_id"))

    def nested_stack_id(self) -> str | None:
        return self.record.get("nested_id")

    def nested_template(self) -> dict[str, Any]:
        raise NotImplementedError

    def nested_params(self) -> dict[str, Any]:
        return {}

    def nested_files(self) -> dict[str, str]:
        return {}

    def planned_resources(self) -> int:
        """How many resources the nested stack is to have, known before its template is built."""
        return len(self.nested_template().get("resources") or {})

    def _check_size(self) -> None:
        """Heat's limit on the resources of a whole stack tree, checked before the nested stack is made."""
        run = self.rt.run
        engine = run.engine
        total = self.planned_resources() + engine.total_resources(run.record.get("root_id") or run.id)
        child = self.child()
        if child is not None:  # an update: these are replaced
            total -= len(child.records)
        engine.limits.check_resources(total)

    def _start(self, child: StackRun, gen: Generator[None, None, None], action: str) -> None:
        self._child = child
        self._gen = gen
        self._expect = action

    def _step(self) -> bool:
        """Advance the nested action; True once it finished well, raise if it failed."""
        if self._gen is not None:
            try:
                next(self._gen)
                return False
            except StopIteration:
                self._gen = None
        child = self._child
        status = (child.record["action"], child.record["status"])
        if status == (self._expect, "COMPLETE"):
            return True
        if child.record["status"] == "FAILED" or child.record["action"] != self._expect:
            raise NestedStackFailed(child.record["status_reason"])
        return False

    def abort(self) -> None:
        if self._gen is not None:
            self._gen.close()
            self._gen = None

    def handle_create(self) -> None:
        self._check_size()
        engine = self.rt.run.engine
        child = engine.nested_create(
            self.rt.run, self, self.nested_template(), self.nested_params(), self.nested_files()
        )
        self.record["nested_id"] = child.id
        self.resource_id = child.id
        self._start(child, child.create_stack(), "CREATE")

    def check_create_complete(self) -> bool:
        return self._step()

    def handle_update(self, changed: dict[str, Any], old: dict[str, Any]) -> None:
        child = self.child()
        if child is None:
            self.handle_create()
            return
        self._check_size()
        engine = self.rt.run.engine
        engine.nested_update(child, self.nested_template(), self.nested_params(), self.nested_files())
        child._defn = None
        self._start(child, child.update_stack(), "UPDATE")

    def check_update_complete(self) -> bool:
        return self._step()

    def handle_delete(self) -> None:
        child = self.child()
        if child is None:
            self._gen = None
            return
        child.set_state("DELETE", "IN_PROGRESS", "Stack DELETE started")
        self._start(child, child.delete_stack(), "DELETE")

    def check_delete_complete(self) -> bool:
        if self._gen is None and getattr(self, "_child", None) is None:
            return True
        return self._step()

    def _simple(self, action: str) -> None:
        child = self.child()
        if child is None:
            return
        child.set_state(action, "IN_PROGRESS", f"Stack {action} started")
        self._start(child, child.simple_stack_action(action), action)

    def handle_suspend(self) -> None:
        self._simple("SUSPEND")

    def check_suspend_complete(self) -> bool:
        return self.child() is None or self._step()

    def handle_resume(self) -> None:
        self._simple("RESUME")

    def check_resume_complete(self) -> bool:
        return self.child() is None or self._step()

    def handle_check(self) -> None:
        child = self.child()
        if child is None:
            raise errors.HeatError(f"The nested stack of {self.name} is gone")
        child.set_state("CHECK", "IN_PROGRESS", "Stack CHECK started")
        # A CHECK never waits (each resource's handle_check answers at once), so run it through here.
        for _ in child.simple_stack_action("CHECK"):
            pass
        if child.record["status"] != "COMPLETE":
            raise NestedStackFailed(child.record["status_reason"])

    def show(self) -> Any:
        child = self.child()
        return (
            None
            if child is None
            else {
                "id": child.id,
                "stack_name": child.name,
                "stack_status": f"{child.record['action']}_{child.record['status']}",
            }
        )


class ResourceGroup(NestedStackResource):
    type_name = "OS::Heat::ResourceGroup"
    description = "Creates one or more identically configured nested resources."
    dynamic_attributes = True
    properties_schema = {
        "count": Prop(
            "integer", "The number of resources to create.", default=1, update_allowed=True, constraints=(Range(min=0),)
        ),
        "index_var": Prop(
            "string",
            "A variable that this resource will use to replace with the current index of a "
            "given resource in the group.",
            default="%index%",
            update_allowed=True,
            constraints=(Length(min=3),),
        ),
        "resource_def": Prop(
            "map",
            "Resource definition for the resources in the group. The value of this property is the definition of a "
            "resource just as if it had been declared in the template itself.",
            required=True,
            update_allowed=True,
            schema={
                "type": Prop("string", "The type of the resources in the group.", required=True),
                "properties": Prop("map", "Property values for the resources in the group."),
                "metadata": Prop("map", "Supplied metadata for the resources in the group."),
            },
        ),
        "removal_policies": Prop(
            "list",
            "Policies for removal of resources on update.",
            default=[],
            update_allowed=True,
            schema=Prop(
                "map",
                schema={
                    "resource_list": Prop(
                        "list",
                        "List of resources to be removed when doing an "
                        "update which requires removal of specific resources.",
                        default=[],
                    )
                },
            ),
        ),
        "removal_policies_mode": Prop(
            "string",
            "How to handle changes to removal_policies on update.",
            default="append",
            update_allowed=True,
            constraints=(AllowedValues(["append", "update"]),),
        ),
    }
    attributes_schema = {
        "refs": Attr("A list of resource IDs for the resources in the group.", "list"),
        "refs_map": Attr("A map of resource names to IDs for the resources in the group.", "map"),
        "attributes": Attr(
            "A map of resource names to the specified attribute of each individual resource. "
            "Requires heat_template_version: 2014-10-16.",
            "map",
        ),
        "removed_rsrc_list": Attr("A list of removed resource names.", "list"),
    }

    @classmethod
    def implicit_dependencies(cls, name: str, properties: Any, definitions: Mapping[str, Any]) -> set[str]:
        """The members' own implicit needs (a server group waits for its network's subnets)."""
        from stacksim.heat.resources import REGISTRY

        rdef = properties.get("resource_def") if isinstance(properties, Mapping) else None
        if isinstance(rdef, Mapping) and isinstance(rdef.get("type"), str) and rdef["type"] in REGISTRY:
            return REGISTRY[rdef["type"]].implicit_dependencies(name, rdef.get("properties"), definitions)
        return set()

    @classmethod
    def validate_definition(
        cls, stack: StackDefinition, defn: ResourceDefinition, props: dict[str, Any], checker: Checker | None
    ) -> None:
        rdef = props.get("resource_def")
        if not isinstance(rdef, Mapping) or not isinstance(rdef.get("type"), str):
            return
        member = stack.plugin_for(rdef["type"])
        path = ["resources", defn.name, "properties", "resource_def", "properties"]
        if not isinstance(member, type) or not issubclass(member, NestedStackResource):
            check_properties(member.properties_schema, rdef.get("properties") or {}, path, None)

    def planned_resources(self) -> int:
        return self.props.get("count") or 0

    def _removed(self) -> list[str]:
        removed = list(self.data.get("removed") or [])
        for policy in self.props.get("removal_policies") or []:
            for name in policy.get("resource_list") or []:
                if str(name) not in removed:
                    removed.append(str(name))
        return removed

    def _names(self) -> list[str]:
        removed = set(self._removed())
        names: list[str] = []
        index = 0
        while len(names) < (self.props.get("count") or 0):
            if str(index) not in removed:
                names.append(str(index))
            index += 1
        return names

    def nested_template(self) -> dict[str, Any]:
        rdef = self.props.get("resource_def") or {}
        index_var = self.props.get("index_var") or "%index%"
        resources: dict[str, Any] = {}
        for name in self._names():
            body: dict[str, Any] = {"type": rdef["type"]}
            if rdef.get("properties"):
                body["properties"] = _replace_index(rdef["properties"], index_var, name)
            if rdef.get("metadata"):
                body["metadata"] = _replace_index(rdef["metadata"], index_var, name)
            resources[name] = body
        self.data["removed"] = self._removed()
        return {"heat_template_version": "2015-04-30", "resources": resources}

    def _members(self) -> list[tuple[str, Resource]]:
        child = self.child()
        if child is None:
            return []
        out = []
        for name in sorted(child.records, key=lambda n: (len(n), n)):
            record = child.records[name]
            if record["action"] not in ("INIT", "DELETE"):
                out.append((name, child.plugin(record)))
        return out

    def get_attribute_path(self, attr: str, path: list[Any]) -> Any:
        members = self._members()
        if attr == "refs":
            return select([r.reference_id() for _, r in members], path)
        if attr == "refs_map":
            return select({n: r.reference_id() for n, r in members}, path)
        if attr == "removed_rsrc_list":
            return select(list(self.data.get("removed") or []), path)
        if attr == "attributes":
            if not path:
                raise errors.HeatError("Must specify attribute name for the 'attributes' attribute")
            name, rest = path[0], list(path[1:])
            return {n: r.get_attribute_path(name, rest) for n, r in members}
        if attr.startswith("resource."):
            parts = attr.split(".", 2)
            by_name = dict(members)
            member = by_name.get(parts[1])
            if member is None:
                raise errors.InvalidTemplateAttribute(self.name, attr)
            if len(parts) == 3:
                return member.get_attribute_path(parts[2], path)
            if path:
                return member.get_attribute_path(str(path[0]), list(path[1:]))
            return member.reference_id()
        return [r.get_attribute_path(attr, path) for _, r in members]

    def get_attribute(self, attr: str) -> Any:
        if attr == "show":
            return self.show()
        return self.get_attribute_path(attr, [])

    def all_attributes(self) -> dict[str, Any]:
        return {k: self.get_attribute(k) for k in ("refs", "refs_map", "removed_rsrc_list")}


def _replace_index(value: Any, index_var: str, index: str) -> Any:
    if isinstance(value, str):
        return value.replace(index_var, index)
    if isinstance(value, Mapping):
        return {_replace_index(k, index_var, index): _replace_index(v, index_var, index) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_index(v, index_var, index) for v in value]
    return value


class TemplateResource(NestedStackResource):
    """A resource whose type is a template: a nested stack made from it (subclassed per template)."""

    type_name = ""
    template_key: str = ""
    template_body: dict[str, Any] = {}
    template_digest: str = ""
    outputs: tuple[str, ...] = ()
    description = "A resource implemented by a nested stack from a template."

    @classmethod
    def attribute_known(cls, attr: str) -> bool:
        return attr == "show" or attr in cls.outputs

    @classmethod
    def validate_definition(
        cls, stack: StackDefinition, defn: ResourceDefinition, props: dict[str, Any], checker: Checker | None
    ) -> None:
        from stacksim.heat.environment import Environment
        from stacksim.heat.functions import has_unresolved

        env: Environment = stack.env.nested()
        env.parameters = {k: v for k, v in props.items() if v is not None and not has_unresolved(v)}
        nested = type(stack)(
            cls.template_body,
            files=stack.files,
            environment=env,
            stack_name=f"{stack.stack_name}-{defn.name}",
            stack_id="",
            project_id=stack.project_id,
            resolve_type=stack.resolve_type,
            strict=False,
            validate_only=True,
            depth=stack.depth + 1,
            facade={"metadata": {}, "deletion_policy": defn.deletion_policy, "update_policy": {}},
            limits=stack.limits,
        )
        try:
            nested.validate(checker)
        except errors.HeatError as exc:
            raise errors.StackValidationFailed(exc.message, path=["resources", defn.name]) from None

    def planned_resources(self) -> int:
        return len(self.template_body.get("resources") or {})

    def nested_template(self) -> dict[str, Any]:
        self.data["digest"] = self.template_digest
        return dict(self.template_body)

    def nested_params(self) -> dict[str, Any]:
        return dict(self.props)

    def needs_update(self) -> bool:
        return self.data.get("digest") != self.template_digest

    def reference_id(self) -> Any:
        child = self.child()
        if child is None:
            return self.name
        if "OS::stack_id" in self.outputs:
            return child.output("OS::stack_id")
        return f"arn:openstack:heat::{child.record['project_id']}:stacks/{child.name}/{child.id}"

    def resolve_attribute(self, attr: str) -> Any:
        child = self.child()
        return None if child is None else child.output(attr)

    def all_attributes(self) -> dict[str, Any]:
        return {name: self.resolve_attribute(name) for name in self.outputs}


_PARAM_TO_PROP = {
    "string": "string",
    "number": "number",
    "comma_delimited_list": "list",
    "json": "map",
    "boolean": "boolean",
}
#: template resource classes by content, the most recently used last (at most TEMPLATE_CLASSES_MAX)
_TEMPLATE_CLASSES: OrderedDict[str, type[TemplateResource]] = OrderedDict()
_TEMPLATE_CLASSES_LOCK = threading.Lock()
TEMPLATE_CLASSES_MAX = 256


def template_resource(key: str, content: str, limits: Limits = DEFAULT) -> type[TemplateResource] | None:
    """The plugin class for the template ``files[key]`` (made once per content, while it is in use).

    The classes are kept in a bounded cache: one template gives one class, so
    an update compares a resource's old and new class by identity; the least
    recently used ones go when the cache is full.
    """
    digest = hashlib.sha256(f"{key}\0{content}".encode()).hexdigest()
    with _TEMPLATE_CLASSES_LOCK:
        found = _TEMPLATE_CLASSES.get(digest)
        if found is not None:
            _TEMPLATE_CLASSES.move_to_end(digest)
            return found
    cls = _template_class(key, content, digest, limits)
    if cls is None:
        return None
    with _TEMPLATE_CLASSES_LOCK:
        cls = _TEMPLATE_CLASSES.setdefault(digest, cls)  # a thread that made it first wins
        _TEMPLATE_CLASSES.move_to_end(digest)
        while len(_TEMPLATE_CLASSES) > TEMPLATE_CLASSES_MAX:
            _TEMPLATE_CLASSES.popitem(last=False)
    return cls


def _template_class(key: str, content: str, digest: str, limits: Limits) -> type[TemplateResource] | None:
    try:
        body = load_json(content, limits) if content.lstrip().startswith("{") else load_yaml(content, limits)
    except (ValueError, yaml.YAMLError):
        return None
    if not isinstance(body, dict) or "heat_template_version" not in body:
        return None
    schema: dict[str, Prop] = {}
    for name, param in (body.get("parameters") or {}).items():
        if not isinstance(param, Mapping):
            continue
        kind = _PARAM_TO_PROP.get(str(param.get("type")), "any")
        schema[str(name)] = Prop(
            kind,
            str(param.get("description") or ""),
            required=param.get("default") is None,
            update_allowed=True,
        )
    outputs = tuple(str(n) for n in (body.get("outputs") or {}))
    return type(
        "TemplateResource",
        (TemplateResource,),
        {
            "type_name": key,
            "template_key": key,
            "template_body": body,
            "template_digest": digest,
            "properties_schema": schema,
            "attributes_schema": {o: Attr(f"The {o} output of the nested stack.") for o in outputs},
            "outputs": outputs,
        },
    )


TYPES = (
    RandomString,
    Value,
    SoftwareConfig,
    CloudConfig,
    MultipartMime,
    WaitConditionHandle,
    WaitCondition,
    ResourceGroup,
)
