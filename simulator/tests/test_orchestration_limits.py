"""Hostile templates and requests (issue 14): each is refused at once with Heat's 400, and the
simulator stays up for everyone else.

The shared simulator has Heat's default limits; a second one, in this process with
limits set low (``Settings``), checks that they are the user's to set.
"""

from __future__ import annotations

import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from stacksim.config import Settings
from stacksim.testing import free_port, wait_until

HOT = "heat_template_version: 2016-10-14\n"


def api(conn, method: str, path: str, **kwargs):
    kwargs.setdefault("raise_exc", False)
    return conn.orchestration.request(path, method, redirect=False, **kwargs)


def refused(resp, *words: str) -> str:
    """A Heat 400 with its error body; the message, which must hold ``words``."""
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["code"] == 400 and body["title"] == "Bad Request"
    message = body["error"]["message"]
    for word in words:
        assert word in message, message
    return message


def create(conn, template: str, **extra):
    return api(conn, "POST", "/stacks", json={"stack_name": f"s{uuid.uuid4().hex[:6]}", "template": template, **extra})


def healthy(url: str) -> bool:
    with urllib.request.urlopen(f"{url}/health", timeout=5) as resp:
        return resp.status == 200


def billion_laughs() -> str:
    lines = [HOT, "resources:\n  lol:\n    type: OS::Heat::Value\n    properties:\n      value:\n"]
    lines.append("        - &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
    for level in range(1, 10):
        refs = ", ".join([f"*a{level - 1}"] * 10)
        lines.append(f"        - &a{level} [{refs}]\n")
    return "".join(lines)


def test_a_billion_laughs_template_is_refused_at_once(sim, demo):
    template = billion_laughs()
    assert len(template) < 1200
    refused(api(demo, "POST", "/validate", json={"template": template}), "too big", "max_template_size")
    refused(create(demo, template), "too big")
    assert healthy(sim.url)


def test_a_repeat_over_a_billion_items_is_refused(sim, demo):
    items = "[" + ", ".join(str(i) for i in range(1000)) + "]"
    template = (
        f"{HOT}resources:\n  many:\n    type: OS::Heat::Value\n    properties:\n      value:\n"
        "        repeat:\n          template: <%a%-%b%-%c%>\n"
        f"          for_each: {{'%a%': {items}, '%b%': {items}, '%c%': {items}}}\n"
    )
    refused(create(demo, template), '"repeat"', "max_template_size")
    assert healthy(sim.url)


def test_str_replace_and_list_join_cannot_grow_a_template_past_its_limit(demo):
    big = "x" * 400_000
    template = (
        f"{HOT}parameters:\n  big: {{type: string}}\nresources:\n  v:\n    type: OS::Heat::Value\n"
        "    properties:\n      value: {list_join: ['', [{get_param: big}, {get_param: big}]]}\n"
    )
    refused(create(demo, template, parameters={"big": big}), '"list_join"', "max_template_size")
    template = (
        f"{HOT}parameters:\n  big: {{type: string}}\nresources:\n  v:\n    type: OS::Heat::Value\n"
        "    properties:\n      value: {str_replace: {template: 'aaaaaaaaaa', params: {a: {get_param: big}}}}\n"
    )
    refused(create(demo, template, parameters={"big": big}), '"str_replace"')


def test_deep_templates_are_refused_with_heats_error(sim, demo):
    joins = "{list_join: [',', [" * 200 + "x" + "]]}" * 200
    nested = f"{HOT}resources:\n  v:\n    type: OS::Heat::Value\n    properties:\n      value: {joins}\n"
    refused(create(demo, nested), "nests deeper than 100 levels", "max_template_depth")
    deep = f"{HOT}resources: {{v: {{type: OS::Heat::Value, properties: {{value: {'[' * 20000}{']' * 20000}}}}}}}\n"
    assert "nest" in refused(create(demo, deep))  # libyaml's own limit (1000 levels) may come first
    deep_json = '{"heat_template_version": "2016-10-14", "resources": ' + "[" * 20000 + "]" * 20000 + "}"
    refused(create(demo, deep_json), "nests deeper")
    as_map = {"heat_template_version": "2016-10-14", "description": "x", "resources": {}}
    node = as_map
    for _ in range(150):
        node["outputs"] = {"o": {"value": {}}}
        node = node["outputs"]["o"]["value"]
    # A template given as JSON is the request body itself: the web layer's JSON depth limit answers.
    refused(create(demo, as_map), "nested more than 100 levels")
    refused(create(demo, f"{HOT}resources:\n  v: &v {{type: OS::Heat::Value, properties: {{value: [*v]}}}}\n"))
    assert healthy(sim.url)


def test_too_many_resources_is_heats_request_limit(sim, demo):
    many = "".join(f"  r{i}: {{type: OS::Heat::Value, properties: {{value: {i}}}}}\n" for i in range(1001))
    refused(create(demo, f"{HOT}resources:\n{many}"), "Request limit exceeded: Maximum resources per stack exceeded.")

    group = (
        f"{HOT}resources:\n  group:\n    type: OS::Heat::ResourceGroup\n"
        "    properties:\n      count: 100000\n      resource_def: {type: OS::Heat::Value, properties: {value: x}}\n"
    )
    resp = create(demo, group)
    assert resp.status_code == 201, resp.text
    stack_id = resp.json()["stack"]["id"]
    stack = demo.get_stack(stack_id)
    # Heat checks a nested stack's size when the group makes it: the group fails at once.
    assert stack.status == "CREATE_FAILED"
    assert stack.status_reason == (
        "Resource CREATE failed: RequestLimitExceeded: resources.group: "
        "Request limit exceeded: Maximum resources per stack exceeded."
    )
    demo.delete_stack(stack_id, wait=True)
    assert demo.get_stack(stack_id) is None
    assert healthy(sim.url)


def test_a_body_over_max_json_body_size_is_refused(demo):
    huge = {"big": "x" * 1_100_000}
    resp = create(demo, f"{HOT}parameters:\n  big: {{type: string}}\n", parameters=huge)
    refused(resp, "Request limit exceeded: JSON body size", "exceeds maximum allowed size (1048576 bytes)")


def test_a_template_url_over_max_template_size_is_refused(demo):
    with serving(lambda handler: handler.answer(b"x" * 600_000)) as url:
        resp = api(demo, "POST", "/stacks", json={"stack_name": "big", "template_url": url})
    refused(resp, "Could not retrieve template:", "Template exceeds maximum allowed size (524288 bytes)")


# -- limits set low, in a simulator of this process ------------------------------------------------------


@pytest.fixture(scope="module")
def limited(tmp_path_factory) -> Iterator[str]:
    """A simulator with a 1 s template_url time-out and room for 2 stacks per project; yields its URL."""
    import uvicorn

    from stacksim.app import create_app
    from stacksim.clouds import write_clouds_yaml

    port = free_port()
    settings = Settings(port=port, heat_template_fetch_timeout=1.0, heat_max_stacks_per_tenant=2)
    clouds = tmp_path_factory.mktemp("limited") / "clouds.yaml"
    write_clouds_yaml(clouds, f"{settings.base_url}/identity", settings.bootstrap_password)
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = settings.base_url
    wait_until(lambda: _answers(url), 30, "the limited simulator")
    yield url
    server.should_exit = True
    thread.join(30)


def _answers(url: str) -> bool:
    try:
        return healthy(url)
    except OSError:
        return False


@pytest.fixture
def limited_demo(limited):
    import openstack

    return openstack.connect(
        auth_url=f"{limited}/identity",
        username="demo",
        password=Settings().bootstrap_password,
        project_name="demo",
        user_domain_id="default",
        project_domain_id="default",
    )


def test_a_trickling_template_url_times_out_and_blocks_nothing(limited, limited_demo):
    sent = threading.Event()

    def trickle(handler: Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        for _ in range(100):  # one byte every 0.2 s; it gives up by itself after 20 s
            try:
                handler.wfile.write(b"#")
                handler.wfile.flush()
            except OSError:
                return
            sent.set()
            time.sleep(0.2)

    with serving(trickle) as url:
        answer: dict = {}
        creating = threading.Thread(
            target=lambda: answer.update(
                resp=api(limited_demo, "POST", "/stacks", json={"stack_name": "slow", "template_url": url})
            )
        )
        creating.start()
        assert sent.wait(10)
        # While the fetch trickles, the simulator answers others.
        assert healthy(limited)
        assert api(limited_demo, "GET", "/stacks").status_code == 200
        creating.join(30)
    refused(answer["resp"], "Could not retrieve template:", "within 1 s (template_fetch_timeout)")


def test_stacks_per_project_is_the_users_to_set(limited_demo):
    template = f"{HOT}resources: {{}}\n"
    made = [create(limited_demo, template) for _ in range(2)]
    assert [r.status_code for r in made] == [201, 201]
    refused(
        create(limited_demo, template),
        "Request limit exceeded: You have reached the maximum stacks per tenant, 2. Please delete some stacks.",
    )
    for resp in made:
        limited_demo.delete_stack(resp.json()["stack"]["id"], wait=True)


# -- a small HTTP server for template_url ---------------------------------------------------------------


class Handler(BaseHTTPRequestHandler):
    respond = None

    def do_GET(self) -> None:
        type(self).respond(self)

    def answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


class serving:
    """A server on a free loopback port whose GETs ``respond(handler)``; stopped on exit."""

    def __init__(self, respond) -> None:
        self.handler = type("H", (Handler,), {"respond": staticmethod(respond)})

    def __enter__(self) -> str:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/template.yaml"

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_text_that_is_not_unicode_is_refused_and_breaks_no_list(demo):
    """A lone surrogate (``\\ud800``) in a template, a parameter or a tag is refused; stack lists stay good."""
    yaml_text = f'{HOT}description: "\\ud800"\nresources: {{}}\n'
    assert "nicode" in refused(create(demo, yaml_text))
    json_text = '{"heat_template_version": "2016-10-14", "description": "\\ud800", "resources": {}}'
    assert "nicode" in refused(create(demo, json_text))
    with_param = f"{HOT}parameters:\n  p: {{type: string}}\nresources: {{}}\n"
    # Text in the request body itself is refused by the web layer, naming the field.
    assert "'parameters/p'" in refused(create(demo, with_param, parameters={"p": "\ud800"}), "surrogate")
    assert "'tags" in refused(create(demo, f"{HOT}resources: {{}}\n", tags=["\ud800"]), "surrogate")
    assert api(demo, "GET", "/stacks").status_code == 200


def test_a_stack_named_with_a_lone_surrogate_gets_heats_400(demo):
    resp = api(demo, "POST", "/stacks", json={"stack_name": "\ud800", "template": f"{HOT}resources: {{}}\n"})
    refused(resp, "'stack_name'", "surrogate")
    assert api(demo, "GET", "/stacks").status_code == 200
