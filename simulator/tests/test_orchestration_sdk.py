"""Orchestration through openstacksdk and raw Heat API calls: stacks, resource types, signals, errors."""

from __future__ import annotations

import base64
import json
import threading
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from heat_helpers import MULTI_TIER

from stacksim.testing import wait_until

pytestmark = pytest.mark.usefixtures("roomy_demo_quota")


def _n(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def api(conn, method: str, path: str, **kwargs):
    """A raw call to the project's Heat endpoint (redirects not followed)."""
    kwargs.setdefault("raise_exc", False)
    return conn.orchestration.request(path, method, redirect=False, **kwargs)


def wait_status(conn, stack_id: str, wanted: set[str], timeout: float = 60) -> dict:
    def reached() -> dict | None:
        resp = api(conn, "GET", f"/stacks/{stack_id}")
        if resp.status_code == 302:
            resp = conn.orchestration.get(resp.headers["Location"], raise_exc=False)
        body = resp.json()["stack"]
        return body if body["stack_status"] in wanted else None

    return wait_until(reached, timeout, f"stack {stack_id} to reach {sorted(wanted)}")


def create(conn, name: str, template: str, **extra) -> str:
    body = {"stack_name": name, "template": template, **extra}
    resp = api(conn, "POST", "/stacks", json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()["stack"]["id"]


def test_sdk_create_stack_wait_and_delete(demo, key_name):
    name = _n("sdk")
    stack = demo.create_stack(name, template_file=MULTI_TIER, wait=True, key_name=key_name, worker_count=1)
    assert stack.status == "CREATE_COMPLETE" and stack.name == name
    outputs = {o["output_key"]: o["output_value"] for o in stack.outputs}
    assert outputs["db_ip"] == "10.10.2.30" and outputs["worker_names"] == [f"{name}-worker-0"]
    assert demo.get_stack(stack.id).name == name
    assert name in [s.name for s in demo.list_stacks()]
    resources = {r.name: r for r in demo.orchestration.resources(stack)}
    assert resources["db_server"].resource_type == "OS::Nova::Server"
    assert resources["db_server"].physical_resource_id == demo.compute.find_server(f"{name}-db").id
    template = demo.orchestration.get_stack_template(stack)
    assert template["heat_template_version"] == "2018-08-31"
    environment = demo.orchestration.get_stack_environment(stack)
    assert environment["parameters"]["key_name"] == key_name
    assert demo.delete_stack(name, wait=True) is True
    assert demo.get_stack(name) is None
    assert not [s for s in demo.compute.servers() if s.name.startswith(name)]


def test_heat_api_shapes(demo, admin, connect):
    template = "heat_template_version: 2016-10-14\nresources:\n  v: {type: OS::Heat::Value, properties: {value: 1}}\n"
    name = _n("shape")
    stack_id = create(demo, name, template, tags="a,b")
    wait_status(demo, stack_id, {"CREATE_COMPLETE"})

    # a name alone is looked up and redirected to /stacks/{name}/{id}, query kept
    resp = api(demo, "GET", f"/stacks/{name}?resolve_outputs=False")
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith(f"/stacks/{name}/{stack_id}?resolve_outputs=False")
    resp = api(demo, "GET", f"/stacks/{name}/resources")
    assert resp.headers["Location"].endswith(f"/stacks/{name}/{stack_id}/resources")
    shown = demo.orchestration.get(f"/stacks/{name}/{stack_id}").json()["stack"]
    assert shown["tags"] == ["a", "b"] and shown["disable_rollback"] is True and shown["outputs"] == []
    assert shown["parameters"]["OS::stack_id"] == stack_id

    # Heat's error bodies
    resp = api(demo, "GET", "/stacks/nope")
    assert resp.status_code == 404
    assert resp.json() == {
        "code": 404,
        "title": "Not Found",
        "explanation": "The resource could not be found.",
        "error": {"type": "EntityNotFound", "message": "The Stack (nope) could not be found.", "traceback": None},
    }
    resp = api(demo, "POST", "/stacks", json={"stack_name": name, "template": template})
    assert resp.status_code == 409 and resp.json()["error"]["message"] == f"The Stack ({name}) already exists."
    resp = api(demo, "POST", "/stacks", json={"stack_name": "1bad", "template": template})
    assert resp.status_code == 400 and resp.json()["error"]["type"] == "StackValidationFailed"
    resp = api(demo, "GET", f"/stacks/{name}/{uuid.uuid4()}")
    assert resp.status_code == 404

    # lists: filters, limit and marker, sorting, nested and other projects' stacks
    second = create(demo, _n("shape"), template)
    wait_status(demo, second, {"CREATE_COMPLETE"})
    listed = demo.orchestration.get("/stacks?sort_keys=creation_time&sort_dir=asc").json()["stacks"]
    ids = [s["id"] for s in listed]
    assert ids.index(stack_id) < ids.index(second)
    page = demo.orchestration.get(f"/stacks?sort_dir=asc&limit=1&marker={stack_id}").json()["stacks"]
    assert len(page) == 1 and page[0]["id"] == ids[ids.index(stack_id) + 1]
    assert [s["id"] for s in demo.orchestration.get(f"/stacks?name={name}").json()["stacks"]] == [stack_id]
    assert demo.orchestration.get("/stacks?status=FAILED").json()["stacks"] == []
    assert [s["id"] for s in demo.orchestration.get("/stacks?tags=a").json()["stacks"]] == [stack_id]
    alt = connect("stacksim-alt")
    assert stack_id not in [s.id for s in alt.orchestration.stacks()]
    assert api(alt, "GET", f"/stacks/{name}").status_code == 404
    everyone = admin.orchestration.get("/stacks?global_tenant=True").json()["stacks"]
    mine = [s for s in everyone if s["id"] == stack_id]
    assert mine and mine[0]["project"] == demo.current_project_id
    assert api(demo, "GET", "/stacks?global_tenant=True").status_code == 403

    # resources and events
    resources = demo.orchestration.get(f"/stacks/{name}/{stack_id}/resources").json()["resources"]
    assert [r["resource_name"] for r in resources] == ["v"]
    assert {link["rel"] for link in resources[0]["links"]} == {"self", "stack"}
    events = demo.orchestration.get(f"/stacks/{name}/{stack_id}/events").json()["events"]
    assert [(e["resource_name"], e["resource_status"]) for e in events] == [
        (name, "CREATE_IN_PROGRESS"),
        ("v", "CREATE_IN_PROGRESS"),
        ("v", "CREATE_COMPLETE"),
        (name, "CREATE_COMPLETE"),
    ]
    later = demo.orchestration.get(f"/stacks/{name}/{stack_id}/events?marker={events[1]['id']}").json()["events"]
    assert [e["id"] for e in later] == [e["id"] for e in events[2:]]
    last = demo.orchestration.get(f"/stacks/{name}/{stack_id}/events?sort_dir=desc&limit=1").json()["events"]
    assert last[0]["id"] == events[-1]["id"]
    one = demo.orchestration.get(f"/stacks/{name}/{stack_id}/resources/v/events/{events[2]['id']}").json()
    assert one["event"]["resource_type"] == "OS::Heat::Value"

    # PATCH keeps what it is not given; a check action; the update preview
    resp = api(demo, "PATCH", f"/stacks/{name}/{stack_id}", json={"parameters": {}})
    assert resp.status_code == 202
    wait_status(demo, stack_id, {"UPDATE_COMPLETE"})
    changed = "heat_template_version: 2016-10-14\nresources:\n  v: {type: OS::Heat::Value, properties: {value: 2}}\n"
    preview = demo.orchestration.put(f"/stacks/{name}/{stack_id}/preview", json={"template": changed}).json()
    assert preview["resource_changes"]["updated"][0]["resource_name"] == "v"
    demo.orchestration.post(f"/stacks/{name}/{stack_id}/actions", json={"check": None})
    assert (
        wait_status(demo, stack_id, {"CHECK_COMPLETE"})["stack_status_reason"] == "Stack CHECK completed successfully"
    )

    # delete: DELETE_IN_PROGRESS then gone from the list (shown by id as DELETE_COMPLETE)
    assert api(demo, "DELETE", f"/stacks/{name}/{stack_id}").status_code == 204
    gone = wait_status(demo, f"{name}/{stack_id}", {"DELETE_COMPLETE"})
    assert gone["deletion_time"]
    assert stack_id not in [s["id"] for s in demo.orchestration.get("/stacks").json()["stacks"]]
    assert stack_id in [s["id"] for s in demo.orchestration.get("/stacks?show_deleted=True").json()["stacks"]]
    api(demo, "DELETE", f"/stacks/{second}")


def test_versions_answer_300(sim, demo):
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{sim.url}/orchestration")
    assert err.value.code == 300
    body = json.loads(err.value.read())
    assert body["versions"][0]["id"] == "v1.0" and body["versions"][0]["status"] == "CURRENT"
    endpoint = demo.session.get_endpoint(service_type="orchestration", interface="public")
    assert endpoint == f"{sim.url}/orchestration/v1/{demo.current_project_id}"


KITCHEN = """
heat_template_version: 2021-04-16
parameters:
  key_name: {type: string}
  image_url: {type: string}
  use_group: {type: boolean, default: false}
conditions:
  grouped: {get_param: use_group}
resources:
  secret:
    type: OS::Heat::RandomString
    properties:
      length: 12
      character_classes: [{class: digits, min: 2}, {class: uppercase, min: 2}]
  config:
    type: OS::Heat::CloudConfig
    properties:
      cloud_config:
        write_files: [{path: /etc/motd, content: {get_attr: [secret, value]}}]
  script:
    type: OS::Heat::SoftwareConfig
    properties:
      config: "#!/bin/sh\\necho hi\\n"
  parts:
    type: OS::Heat::MultipartMime
    properties:
      parts: [{config: {get_resource: config}}, {config: {get_resource: script}}]
  generated_key:
    type: OS::Nova::KeyPair
    properties:
      name: {list_join: ['-', [{get_param: 'OS::stack_name'}, key]]}
      save_private_key: true
  group:
    type: OS::Nova::ServerGroup
    properties: {policies: [affinity]}
  sg:
    type: OS::Neutron::SecurityGroup
  rule:
    type: OS::Neutron::SecurityGroupRule
    properties: {security_group: {get_resource: sg}, protocol: tcp, port_range_min: 443, port_range_max: 443}
  net:
    type: OS::Neutron::Net
  subnet:
    type: OS::Neutron::Subnet
    properties: {network: {get_resource: net}, cidr: 10.30.0.0/24}
  router:
    type: OS::Neutron::Router
    properties: {external_gateway_info: {network: public}}
  iface:
    type: OS::Neutron::RouterInterface
    properties: {router: {get_resource: router}, subnet: {get_resource: subnet}}
  port:
    type: OS::Neutron::Port
    properties: {network: {get_resource: net}, security_groups: [{get_resource: sg}]}
  fip:
    type: OS::Neutron::FloatingIP
    properties: {floating_network: public}
  fip_assoc:
    type: OS::Neutron::FloatingIPAssociation
    properties: {floatingip_id: {get_resource: fip}, port_id: {get_resource: port}}
  server:
    type: OS::Nova::Server
    properties:
      image: cirros-0.6.2-x86_64-disk
      flavor: m1.tiny
      key_name: {get_resource: generated_key}
      networks: [{port: {get_resource: port}}]
      user_data_format: RAW
      user_data: {get_resource: parts}
      config_drive: true
      metadata: {role: kitchen, count: 3}
      scheduler_hints: {if: [grouped, {group: {get_resource: group}}]}
  image:
    type: OS::Glance::WebImage
    properties:
      location: {get_param: image_url}
      disk_format: raw
      container_format: bare
      os_distro: testos
outputs:
  secret: {value: {get_attr: [secret, value]}}
  private_key: {value: {get_attr: [generated_key, private_key]}}
  server_ip: {value: {get_attr: [server, networks, {get_attr: [net, name]}, 0]}}
  floating: {value: {get_attr: [fip, floating_ip_address]}}
  config: {value: {get_attr: [parts, config]}}
  image_id: {value: {get_resource: image}}
"""


@pytest.fixture
def image_url():
    payload = b"\0" * 4096

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/disk.raw"
    server.shutdown()
    server.server_close()


def test_many_resource_types(demo, admin, key_name, image_url):
    name = _n("kit")
    stack_id = create(demo, name, KITCHEN, parameters={"key_name": key_name, "image_url": image_url})
    stack = wait_status(demo, stack_id, {"CREATE_COMPLETE", "CREATE_FAILED"})
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    outputs = {o["output_key"]: o["output_value"] for o in stack["outputs"]}
    secret = outputs["secret"]
    assert len(secret) == 12 and sum(c.isdigit() for c in secret) >= 2 and sum(c.isupper() for c in secret) >= 2
    assert outputs["private_key"].startswith("-----BEGIN")
    assert outputs["server_ip"].startswith("10.30.0.") and outputs["floating"].startswith("172.24.4.")
    assert "#cloud-config" in outputs["config"] and "echo hi" in outputs["config"]

    (server,) = [s for s in demo.compute.servers() if s.name.startswith(f"{name}-server-")]
    server = demo.compute.get_server(server.id)
    assert server.key_name == f"{name}-key" and server.metadata == {"role": "kitchen", "count": "3"}
    detail = admin.compute.get(f"/servers/{server.id}", microversion="2.3").json()["server"]
    user_data = base64.b64decode(detail["OS-EXT-SRV-ATTR:user_data"]).decode()
    assert "#cloud-config" in user_data and "echo hi" in user_data
    image = demo.image.get_image(outputs["image_id"])
    assert image.status == "active" and image.os_distro == "testos" and image.size == 4096
    rules = [r for r in demo.network.security_group_rules() if r.port_range_min == 443]
    assert len(rules) == 1

    # the resource schema of each type is what the engine checks
    shown = demo.orchestration.get(f"/stacks/{name}/{stack_id}/resources/server").json()["resource"]
    assert shown["attributes"]["name"] == server.name

    api(demo, "DELETE", f"/stacks/{name}/{stack_id}")
    wait_status(demo, f"{name}/{stack_id}", {"DELETE_COMPLETE"})
    assert demo.image.find_image(outputs["image_id"]) is None
    assert demo.compute.find_keypair(f"{name}-key") is None


WAIT = """
heat_template_version: 2016-10-14
parameters:
  timeout: {type: number, default: 60}
resources:
  handle:
    type: OS::Heat::WaitConditionHandle
  wait:
    type: OS::Heat::WaitCondition
    properties:
      handle: {get_resource: handle}
      timeout: {get_param: timeout}
      count: 2
  after:
    type: OS::Heat::Value
    depends_on: wait
    properties: {value: {get_attr: [wait, data]}}
outputs:
  curl: {value: {get_attr: [handle, curl_cli]}}
  endpoint: {value: {get_attr: [handle, endpoint]}}
  data: {value: {get_attr: [after, value]}}
"""


def _signal(url: str, body: dict | None, token: str | None = None) -> int:
    data = json.dumps(body).encode() if body is not None else b""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["X-Auth-Token"] = token
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _outputs(demo, name: str, stack_id: str) -> dict:
    body = demo.orchestration.get(f"/stacks/{name}/{stack_id}").json()["stack"]
    return {o["output_key"]: o["output_value"] for o in body["outputs"]}


def test_wait_condition_signalled_over_http(demo):
    name = _n("wait")
    stack_id = create(demo, name, WAIT)
    outputs = wait_until(lambda: (found := _outputs(demo, name, stack_id))["endpoint"] and found)
    endpoint, curl = outputs["endpoint"], outputs["curl"]
    assert endpoint.startswith(f"{demo.orchestration.get_endpoint()}/stacks/{name}/{stack_id}/resources/handle/signal")
    token = curl.split("X-Auth-Token: ", 1)[1].split("'", 1)[0]
    assert curl.endswith(endpoint) and curl.startswith("curl -i -X POST")

    # the token is the key: in the URL, or as X-Auth-Token (as curl_cli sends it)
    bare = endpoint.split("?", 1)[0]
    assert _signal(bare, {"status": "SUCCESS"}) == 401
    assert _signal(bare, {"status": "SUCCESS"}, token="wrong") == 401
    assert _signal(endpoint, {"status": "BOGUS"}) == 400
    assert _signal(endpoint, {"status": "SUCCESS", "data": "first"}) == 200
    assert demo.orchestration.get(f"/stacks/{name}/{stack_id}").json()["stack"]["stack_status"] == "CREATE_IN_PROGRESS"
    assert _signal(bare, {"status": "SUCCESS", "data": "second", "id": "b"}, token=token) == 200
    stack = wait_status(demo, stack_id, {"CREATE_COMPLETE", "CREATE_FAILED"})
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    assert json.loads(_outputs(demo, name, stack_id)["data"]) == {"1": "first", "b": "second"}
    metadata = demo.orchestration.get(f"/stacks/{name}/{stack_id}/resources/handle/metadata").json()["metadata"]
    assert metadata["b"] == {"data": "second", "reason": "Signal b received", "status": "SUCCESS"}
    api(demo, "DELETE", f"/stacks/{stack_id}")


def test_wait_condition_failure_and_timeout(demo):
    name = _n("wfail")
    stack_id = create(demo, name, WAIT)
    outputs = wait_until(lambda: (found := _outputs(demo, name, stack_id))["endpoint"] and found)
    assert _signal(outputs["endpoint"], {"status": "FAILURE", "reason": "the build broke"}) == 200
    stack = wait_status(demo, stack_id, {"CREATE_COMPLETE", "CREATE_FAILED"})
    assert (
        stack["stack_status_reason"] == "Resource CREATE failed: WaitConditionFailure: resources.wait: the build broke"
    )

    name = _n("wtime")
    stack_id = create(demo, name, WAIT, parameters={"timeout": 1}, disable_rollback=False)
    stack = wait_status(demo, stack_id, {"ROLLBACK_COMPLETE", "ROLLBACK_FAILED"})
    assert "WaitConditionTimeout: resources.wait: 0 of 2 received" in stack["stack_status_reason"]
    assert demo.orchestration.get(f"/stacks/{name}/{stack_id}/resources").json()["resources"] == []


def test_cancel_update_rolls_back(demo):
    name = _n("cancel")
    stack_id = create(
        demo,
        name,
        "heat_template_version: 2016-10-14\nresources:\n  v: {type: OS::Heat::Value, properties: {value: 1}}\n",
    )
    wait_status(demo, stack_id, {"CREATE_COMPLETE"})
    resp = api(demo, "PUT", f"/stacks/{name}/{stack_id}", json={"template": WAIT, "disable_rollback": False})
    assert resp.status_code == 202
    resp = api(demo, "POST", f"/stacks/{name}/{stack_id}/actions", json={"suspend": None})
    assert resp.status_code == 409
    assert resp.json()["error"]["message"] == f"Stack {name} already has an action (UPDATE) in progress."

    def waiting() -> bool:
        resources = demo.orchestration.get(f"/stacks/{name}/{stack_id}/resources").json()["resources"]
        return any(r["resource_name"] == "wait" and r["resource_status"] == "CREATE_IN_PROGRESS" for r in resources)

    wait_until(waiting, what="the update to wait for its signal")
    assert api(demo, "POST", f"/stacks/{name}/{stack_id}/actions", json={"cancel_update": None}).status_code == 200
    stack = wait_status(demo, stack_id, {"ROLLBACK_COMPLETE", "ROLLBACK_FAILED"})
    assert stack["stack_status"] == "ROLLBACK_COMPLETE"
    names = [
        r["resource_name"] for r in demo.orchestration.get(f"/stacks/{name}/{stack_id}/resources").json()["resources"]
    ]
    assert names == ["v"]
    events = demo.orchestration.get(f"/stacks/{name}/{stack_id}/events").json()["events"]
    assert (name, "UPDATE_FAILED", "Stack UPDATE cancelled") in [
        (e["resource_name"], e["resource_status"], e["resource_status_reason"]) for e in events
    ]
    resp = api(demo, "POST", f"/stacks/{name}/{stack_id}/actions", json={"cancel_update": None})
    assert resp.status_code == 400 and "Cancelling update when stack is" in resp.json()["error"]["message"]
    api(demo, "DELETE", f"/stacks/{stack_id}")


NESTED = """
heat_template_version: 2016-10-14
parameters:
  label: {type: string}
  size: {type: number, default: 1}
resources:
  value:
    type: OS::Heat::Value
    properties:
      value: {str_replace: {template: "L-S", params: {L: {get_param: label}, S: {get_param: size}}}}
  meta:
    type: OS::Heat::Value
    properties: {value: {resource_facade: metadata}}
outputs:
  text: {value: {get_attr: [value, value]}}
  facade: {value: {get_attr: [meta, value]}}
"""

PARENT = """
heat_template_version: 2016-10-14
resources:
  box:
    type: box.yaml
    metadata: {owner: parent}
    properties: {label: first}
  aliased:
    type: My::Box
    properties: {label: second, size: 2}
outputs:
  box: {value: {get_attr: [box, text]}}
  facade: {value: {get_attr: [box, facade]}}
  aliased: {value: {get_attr: [aliased, text]}}
"""


def test_nested_stacks_from_template_resources(demo, tmp_path):
    (tmp_path / "box.yaml").write_text(NESTED)
    (tmp_path / "parent.yaml").write_text(PARENT)
    (tmp_path / "env.yaml").write_text("resource_registry:\n  My::Box: box.yaml\n")
    name = _n("nest")
    stack = demo.create_stack(
        name, template_file=str(tmp_path / "parent.yaml"), environment_files=[str(tmp_path / "env.yaml")], wait=True
    )
    assert stack.status == "CREATE_COMPLETE", stack.status_reason
    outputs = {o["output_key"]: o["output_value"] for o in stack.outputs}
    assert outputs == {"box": "first-1", "facade": {"owner": "parent"}, "aliased": "second-2"}
    resources = demo.orchestration.get(f"/stacks/{name}/{stack.id}/resources?nested_depth=1").json()["resources"]
    nested = [r for r in resources if r.get("parent_resource") == "box"]
    assert {r["resource_name"] for r in nested} == {"value", "meta"}
    box = next(r for r in resources if r["resource_name"] == "box")
    assert any(link["rel"] == "nested" for link in box["links"])
    children = demo.orchestration.get("/stacks?show_nested=True").json()["stacks"]
    assert len([s for s in children if s["parent"] == stack.id]) == 2

    (tmp_path / "parent.yaml").write_text(PARENT.replace("label: first", "label: changed"))
    stack = demo.update_stack(
        name, template_file=str(tmp_path / "parent.yaml"), environment_files=[str(tmp_path / "env.yaml")], wait=True
    )
    assert stack.status == "UPDATE_COMPLETE", stack.status_reason
    assert {o["output_key"]: o["output_value"] for o in stack.outputs}["box"] == "changed-1"
    assert demo.delete_stack(name, wait=True)
    assert not [
        s for s in demo.orchestration.get("/stacks?show_nested=True").json()["stacks"] if s["parent"] == stack.id
    ]


def test_an_update_that_replaces_a_resource_shows_the_new_one(demo, tmp_path):
    """As openstacksdk's test_stack_simple finds: the stack's resources and outputs are the replacement's."""
    template = (
        "heat_template_version: 2016-10-14\n"
        "parameters:\n  length: {type: number, default: 10}\n"
        "resources:\n  secret:\n    type: OS::Heat::RandomString\n    properties: {length: {get_param: length}}\n"
        "outputs:\n  value: {value: {get_attr: [secret, value]}}\n"
    )
    path = tmp_path / "random.yaml"
    path.write_text(template)
    name = _n("replace")
    stack = demo.create_stack(name, template_file=str(path), wait=True)
    before = demo.orchestration.resources(stack)
    (first,) = [r.physical_resource_id for r in before]
    demo.update_stack(stack.id, template_file=str(path), wait=True, length=20)
    after = demo.get_stack(stack.id)
    assert after.status == "UPDATE_COMPLETE"
    (output,) = after.outputs
    assert isinstance(output["output_value"], str) and len(output["output_value"]) == 20
    (resource,) = demo.orchestration.resources(after)
    assert resource.status == "CREATE_COMPLETE" and resource.physical_resource_id != first
