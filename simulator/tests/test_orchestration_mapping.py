"""The declarative resource mapping (``heat.resources.base.Mapped``), in-process.

A small service of the test's own ("widgets": a typed facade with a create
request, an update request and a view, whose states the test moves) stands
in for a real one, so every part of a table is seen at work: the request
filled from properties, an update split by what changed, readiness woken by
the lifecycle, attributes from the view, check, suspend, resume, replace
and delete.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from stacksim import faults
from stacksim.cloud import Cloud
from stacksim.config import Settings
from stacksim.heat.engine import JOB
from stacksim.heat.resources import REGISTRY
from stacksim.heat.resources.base import Attr, Call, Mapped, Prop, Status, Table, physical_name
from stacksim.heat.run import ctx_load
from stacksim.services.orchestration.schemas import stack_create, stack_update

CTX = ctx_load({"user_id": "u1", "user_name": "u1", "project_id": "p1", "roles": ["member"]})


@dataclass(frozen=True)
class WidgetCreate:
    name: str
    size: int = 1


@dataclass(frozen=True)
class WidgetUpdate:
    name: str | None = None


@dataclass(frozen=True)
class WidgetView:
    id: str
    name: str
    size: int
    status: str
    tags: list[str] = field(default_factory=list)
    fault: str | None = None


class Widgets:
    """The test's service facade. ``hold`` keeps new work in its transitional state until :meth:`settle`."""

    def __init__(self) -> None:
        self.items: dict[str, WidgetView] = {}
        self.calls: list[tuple[str, Any]] = []
        self.hold = False
        self.fail_with: str | None = None
        self._lock = threading.Lock()

    def _moving(self, widget_id: str, status: str, done: str | None) -> None:
        with self._lock:
            self.items[widget_id] = replace(self.items[widget_id], status=status if self.hold else (done or status))
            if not self.hold and done is None:
                del self.items[widget_id]

    def create(self, ctx: Any, request: WidgetCreate) -> dict[str, Any]:
        self.calls.append(("create", request))
        widget_id = f"w{len(self.items) + len(self.calls)}"
        self.items[widget_id] = WidgetView(widget_id, request.name, request.size, "BUILD")
        if self.fail_with:
            self.items[widget_id] = replace(self.items[widget_id], status="ERROR", fault=self.fail_with)
        else:
            self._moving(widget_id, "BUILD", "ACTIVE")
        return {"id": widget_id}

    def update(self, ctx: Any, widget_id: str, request: WidgetUpdate) -> None:
        self.calls.append(("update", request))
        self.items[widget_id] = replace(self.items[widget_id], name=request.name or "")
        self._moving(widget_id, "UPDATING", "ACTIVE")

    def set_tags(self, ctx: Any, widget_id: str, tags: list[str]) -> None:
        self.calls.append(("set_tags", tags))
        self.items[widget_id] = replace(self.items[widget_id], tags=list(tags))

    def suspend(self, ctx: Any, widget_id: str) -> None:
        self.calls.append(("suspend", widget_id))
        self._moving(widget_id, "SUSPENDING", "SUSPENDED")

    def resume(self, ctx: Any, widget_id: str) -> None:
        self.calls.append(("resume", widget_id))
        self._moving(widget_id, "RESUMING", "ACTIVE")

    def delete(self, ctx: Any, widget_id: str) -> None:
        self.calls.append(("delete", widget_id))
        self._moving(widget_id, "DELETING", None)

    def get(self, ctx: Any, widget_id: str) -> WidgetView:
        found = self.items.get(widget_id)
        if found is None:
            raise faults.NotFound(f"Widget {widget_id} could not be found.")
        return found

    def settle(self, widget_id: str, status: str | None) -> None:
        """Finish the work under way (``None``: the widget is gone)."""
        with self._lock:
            if status is None:
                self.items.pop(widget_id, None)
            else:
                self.items[widget_id] = replace(self.items[widget_id], status=status)


class Widget(Mapped):
    type_name = "Test::Widget"
    description = "A widget."
    properties_schema = {
        "name": Prop("string", "Its name.", update_allowed=True),
        "size": Prop("integer", "Its size; a new size is a new widget.", default=1),
        "tags": Prop("list", "Its tags.", default=[], update_allowed=True, schema=Prop("string")),
    }
    attributes_schema = {
        "label": Attr("Its name.", "string"),
        "size": Attr("Its size.", "integer"),
        "tag_count": Attr("How many tags it has.", "integer"),
    }
    table = Table(
        service="widgets",
        create=Call(
            Widgets.create,
            WidgetCreate,
            {"name": physical_name()},
            ready=Status(("ACTIVE",), failed=("ERROR",), reason="fault"),
        ),
        update=(
            Call(Widgets.update, WidgetUpdate, {"name": physical_name()}, ready=Status(("ACTIVE",))),
            Call(Widgets.set_tags, fields={"tags": "tags"}),
        ),
        delete=Call(Widgets.delete),
        view=Widgets.get,
        check=Call(None, ready=Status(("ACTIVE",))),
        suspend=Call(Widgets.suspend, ready=Status(("SUSPENDED",))),
        resume=Call(Widgets.resume, ready=Status(("ACTIVE",))),
        attributes={"label": "name", "tag_count": lambda res, view: len(view.tags)},
    )


TEMPLATE = """
heat_template_version: 2018-08-31
parameters:
  name: {type: string, default: ""}
  size: {type: number, default: 1}
  tags: {type: comma_delimited_list, default: ""}
resources:
  widget:
    type: Test::Widget
    properties: {name: {get_param: name}, size: {get_param: size}, tags: {get_param: tags}}
outputs:
  label: {value: {get_attr: [widget, label]}}
  tag_count: {value: {get_attr: [widget, tag_count]}}
  show: {value: {get_attr: [widget, show]}}
"""


@pytest.fixture
def cloud(monkeypatch):
    made = Cloud(Settings())
    made.start()
    made.widgets = Widgets()
    monkeypatch.setitem(REGISTRY, Widget.type_name, Widget)
    yield made
    made.close()


def run(cloud: Cloud, stack_id: str, meanwhile: Any = None) -> dict[str, Any]:
    """Run the stack's pending action as the lifecycle would (``meanwhile``: a coroutine beside it)."""
    engine = cloud.orchestration

    async def main() -> None:
        (job,) = [j for j in cloud.lifecycle.pending(stack_id) if j["action"] == JOB]
        cloud.lifecycle.store.delete("job", job["id"])
        task = asyncio.ensure_future(engine.engine.run_job(job))
        if meanwhile is not None:
            await meanwhile(task)
        await asyncio.wait_for(task, 10)

    asyncio.run(main())
    return engine.get(CTX, stack_id)


def status(stack: dict[str, Any]) -> str:
    return f"{stack['action']}_{stack['status']}"


def resource(cloud: Cloud, stack_id: str) -> dict[str, Any]:
    (record,) = cloud.orchestration.engine.resource_records(stack_id)
    return record


async def until(check: Any, what: str) -> None:
    deadline = time.monotonic() + 10
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


def outputs(cloud: Cloud, stack: dict[str, Any]) -> dict[str, Any]:
    run_ = cloud.orchestration.run_of(stack)
    return {o["output_key"]: o.get("output_value") for o in run_.outputs()}


def create(cloud: Cloud, **body: Any) -> dict[str, Any]:
    return cloud.orchestration.create(CTX, stack_create({"stack_name": "w", "template": TEMPLATE, **body}))


def update(cloud: Cloud, stack: dict[str, Any], **params: Any) -> None:
    cloud.orchestration.update(CTX, stack, stack_update({"parameters": params}, patch=True))


def test_a_table_creates_waits_for_ready_and_reads_attributes_from_the_view(cloud):
    widgets: Widgets = cloud.widgets
    widgets.hold = True
    stack = create(cloud, parameters={"tags": "a,b"})

    async def meanwhile(task: asyncio.Task) -> None:
        await until(lambda: widgets.items, "the widget")
        (widget_id,) = widgets.items
        # Not ready while it builds: the stack waits on the lifecycle, holding no thread.
        await asyncio.sleep(0.05)
        assert not task.done()
        assert status(cloud.orchestration.get(CTX, stack["id"])) == "CREATE_IN_PROGRESS"
        widgets.settle(widget_id, "ACTIVE")
        cloud.lifecycle.changed()  # what a job's end or an API call does

    stack = run(cloud, stack["id"], meanwhile)
    assert status(stack) == "CREATE_COMPLETE"
    (call,) = widgets.calls
    assert call[0] == "create" and call[1].size == 1 and call[1].name.startswith("w-widget-")
    got = outputs(cloud, stack)
    assert got["label"] == call[1].name
    assert got["tag_count"] == 0  # tags are not part of WidgetCreate: only an update sets them
    assert got["show"]["status"] == "ACTIVE" and got["show"]["id"] == resource(cloud, stack["id"])["physical_id"]


def test_an_update_makes_only_the_calls_whose_properties_changed(cloud):
    widgets: Widgets = cloud.widgets
    stack = create(cloud, parameters={"name": "one"})
    stack = run(cloud, stack["id"])
    first = resource(cloud, stack["id"])["physical_id"]

    update(cloud, stack, tags="x,y,z")
    stack = run(cloud, stack["id"])
    assert status(stack) == "UPDATE_COMPLETE"
    assert widgets.calls[1:] == [("set_tags", ["x", "y", "z"])]
    assert outputs(cloud, stack)["tag_count"] == 3

    widgets.hold = True
    update(cloud, stack, name="")

    async def meanwhile(task: asyncio.Task) -> None:
        await until(lambda: widgets.items[first].status == "UPDATING", "the update")
        widgets.settle(first, "ACTIVE")
        cloud.lifecycle.changed()

    stack = run(cloud, stack["id"], meanwhile)
    assert status(stack) == "UPDATE_COMPLETE"
    name, request = widgets.calls[2]
    # Only the changed field is sent; cleared, a name falls back to the physical name.
    assert name == "update" and request == WidgetUpdate(name=widgets.items[first].name)
    assert request.name.startswith("w-widget-")
    assert resource(cloud, stack["id"])["physical_id"] == first


def test_a_property_that_is_not_update_allowed_replaces_the_resource(cloud):
    widgets: Widgets = cloud.widgets
    stack = run(cloud, create(cloud)["id"])
    first = resource(cloud, stack["id"])["physical_id"]
    update(cloud, stack, size=3)
    stack = run(cloud, stack["id"])
    assert status(stack) == "UPDATE_COMPLETE"
    second = resource(cloud, stack["id"])["physical_id"]
    assert second != first and first not in widgets.items and widgets.items[second].size == 3
    assert [c[0] for c in widgets.calls] == ["create", "create", "delete"]


def test_check_suspend_resume_and_delete_follow_the_table(cloud):
    widgets: Widgets = cloud.widgets
    engine = cloud.orchestration
    stack = run(cloud, create(cloud)["id"])
    widget_id = resource(cloud, stack["id"])["physical_id"]

    engine.act(CTX, stack, "check")
    assert status(run(cloud, stack["id"])) == "CHECK_COMPLETE"
    widgets.settle(widget_id, "SHUTOFF")
    stack = engine.get(CTX, stack["id"])
    engine.act(CTX, stack, "check")
    stack = run(cloud, stack["id"])
    assert status(stack) == "CHECK_FAILED"
    assert "'status': expected 'ACTIVE', got 'SHUTOFF'" in stack["status_reason"]
    widgets.settle(widget_id, "ACTIVE")

    engine.act(CTX, stack, "suspend")
    stack = run(cloud, stack["id"])
    assert status(stack) == "SUSPEND_COMPLETE" and widgets.items[widget_id].status == "SUSPENDED"
    engine.act(CTX, stack, "resume")
    stack = run(cloud, stack["id"])
    assert status(stack) == "RESUME_COMPLETE" and widgets.items[widget_id].status == "ACTIVE"

    widgets.hold = True
    engine.delete(CTX, stack)

    async def meanwhile(task: asyncio.Task) -> None:
        await until(lambda: widgets.items[widget_id].status == "DELETING", "the delete")
        await asyncio.sleep(0.05)
        assert not task.done()  # a delete is done when the view is gone
        widgets.settle(widget_id, None)
        cloud.lifecycle.changed()

    stack = run(cloud, stack["id"], meanwhile)
    assert status(stack) == "DELETE_COMPLETE" and not widgets.items


def test_a_failed_status_fails_the_resource_with_its_reason(cloud):
    cloud.widgets.fail_with = "no room"
    stack = run(cloud, create(cloud)["id"])
    assert status(stack) == "CREATE_FAILED"
    assert stack["status_reason"] == (
        'Resource CREATE failed: ResourceInError: resources.widget: Went to status ERROR due to "no room"'
    )
