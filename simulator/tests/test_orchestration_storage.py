"""Heat's storage types, as declarative tables over the Block Storage and Image facades:
``OS::Cinder::Volume`` (create from an image, attributes, update in place, read-only, delete),
``OS::Cinder::VolumeAttachment`` and ``OS::Glance::WebImage`` (properties updated, a failed import)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from stacksim.testing import wait_until

pytestmark = pytest.mark.usefixtures("roomy_demo_quota")


def _n(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def _api(conn, method: str, path: str, **kwargs):
    kwargs.setdefault("raise_exc", False)
    return conn.orchestration.request(path, method, redirect=False, **kwargs)


def _stack(conn, name: str, wanted: set[str]) -> dict:
    def reached() -> dict | None:
        body = conn.orchestration.get(f"/stacks/{name}").json()["stack"]
        return body if body["stack_status"] in wanted else None

    return wait_until(reached, 60, f"stack {name} to reach {sorted(wanted)}")


def _outputs(stack: dict) -> dict:
    return {o["output_key"]: o["output_value"] for o in stack["outputs"]}


VOLUME = """
heat_template_version: 2021-04-16
parameters:
  name: {type: string, default: data}
  size: {type: number, default: 1}
  kind: {type: string, default: __DEFAULT__}
  meta: {type: json, default: {tier: db}}
resources:
  volume:
    type: OS::Cinder::Volume
    properties:
      name: {get_param: name}
      size: {get_param: size}
      image: cirros-0.6.2-x86_64-disk
      volume_type: {get_param: kind}
      metadata: {get_param: meta}
outputs:
  name: {value: {get_attr: [volume, display_name]}}
  size: {value: {get_attr: [volume, size]}}
  bootable: {value: {get_attr: [volume, bootable]}}
  kind: {value: {get_attr: [volume, volume_type]}}
  meta: {value: {get_attr: [volume, metadata_values]}}
  status: {value: {get_attr: [volume, status]}}
  id: {value: {get_resource: volume}}
"""


def test_a_volume_stack_creates_updates_in_place_and_deletes(demo, admin):
    fast = admin.block_storage.create_type(name=_n("fast"))
    name = _n("vols")
    made = _api(demo, "POST", "/stacks", json={"stack_name": name, "template": VOLUME})
    assert made.status_code == 201, made.text
    stack = _stack(demo, name, {"CREATE_COMPLETE", "CREATE_FAILED"})
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    out = _outputs(stack)
    assert out["name"] == "data" and out["size"] == 1 and out["bootable"] == "true"
    assert out["kind"] == "__DEFAULT__" and out["meta"] == {"tier": "db"} and out["status"] == "available"
    volume = demo.block_storage.get_volume(out["id"])
    assert volume.volume_image_metadata["image_name"] == "cirros-0.6.2-x86_64-disk"

    update = {"parameters": {"name": "data2", "size": 2, "kind": fast.name, "meta": json.dumps({"tier": "cache"})}}
    updated = _api(demo, "PATCH", f"/stacks/{name}/{stack['id']}", json=update)
    assert updated.status_code == 202, updated.text
    stack = _stack(demo, name, {"UPDATE_COMPLETE", "UPDATE_FAILED"})
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    out2 = _outputs(stack)
    assert out2["id"] == out["id"]  # changed in place, not replaced
    assert (out2["name"], out2["size"], out2["kind"], out2["meta"]) == ("data2", 2, fast.name, {"tier": "cache"})

    shrink = _api(demo, "PATCH", f"/stacks/{name}/{stack['id']}", json={"parameters": {"size": 1}})
    assert shrink.status_code == 202
    failed = _stack(demo, name, {"UPDATE_COMPLETE", "UPDATE_FAILED"})
    assert failed["stack_status"] == "UPDATE_FAILED"
    assert "New size for extend must be greater than current size" in failed["stack_status_reason"]

    _api(demo, "DELETE", f"/stacks/{name}/{stack['id']}")
    _stack(demo, f"{name}/{stack['id']}", {"DELETE_COMPLETE"})
    assert demo.block_storage.find_volume(out["id"]) is None


def test_read_only_is_set_once_the_volume_is_available(demo):
    name = _n("ro")
    template = "heat_template_version: 2021-04-16\nresources:\n  v:\n    type: OS::Cinder::Volume\n"
    template += "    properties: {size: 1, read_only: true}\noutputs:\n  id: {value: {get_resource: v}}\n"
    _api(demo, "POST", "/stacks", json={"stack_name": name, "template": template})
    stack = _stack(demo, name, {"CREATE_COMPLETE", "CREATE_FAILED"})
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    volume_id = _outputs(stack)["id"]
    connector = {"host": "h", "initiator": "iqn.1:x"}
    info = demo.block_storage.post(
        f"/volumes/{volume_id}/action", json={"os-initialize_connection": {"connector": connector}}
    ).json()
    assert info["connection_info"]["data"]["access_mode"] == "ro"


ATTACH = """
heat_template_version: 2021-04-16
resources:
  net: {type: OS::Neutron::Net}
  subnet:
    type: OS::Neutron::Subnet
    properties: {network: {get_resource: net}, cidr: 10.40.0.0/24}
  server:
    type: OS::Nova::Server
    properties:
      image: cirros-0.6.2-x86_64-disk
      flavor: m1.tiny
      networks: [{network: {get_resource: net}}]
  volume:
    type: OS::Cinder::Volume
    properties: {size: 1}
  attachment:
    type: OS::Cinder::VolumeAttachment
    properties:
      instance_uuid: {get_resource: server}
      volume_id: {get_resource: volume}
      mountpoint: /dev/vdb
outputs:
  server: {value: {get_resource: server}}
  volume: {value: {get_resource: volume}}
  attached: {value: {get_attr: [volume, attachments_list]}}
"""


def test_an_attachment_goes_through_nova(demo):
    name = _n("att")
    _api(demo, "POST", "/stacks", json={"stack_name": name, "template": ATTACH})
    stack = _stack(demo, name, {"CREATE_COMPLETE", "CREATE_FAILED"})
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    out = _outputs(stack)
    assert demo.block_storage.get_volume(out["volume"]).status == "in-use"
    (attachment,) = demo.compute.volume_attachments(out["server"])
    assert attachment.volume_id == out["volume"] and attachment.device == "/dev/vdb"
    _api(demo, "DELETE", f"/stacks/{name}/{stack['id']}")
    _stack(demo, f"{name}/{stack['id']}", {"DELETE_COMPLETE"})
    assert demo.block_storage.find_volume(out["volume"]) is None


@pytest.fixture
def web() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/disk.raw":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", "1024")
            self.end_headers()
            self.wfile.write(b"\0" * 1024)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


IMAGE = """
heat_template_version: 2021-04-16
parameters:
  url: {type: string}
  distro: {type: string, default: alpine}
  extra: {type: json, default: {a: '1', b: '2'}}
resources:
  image:
    type: OS::Glance::WebImage
    properties:
      location: {get_param: url}
      disk_format: raw
      container_format: bare
      os_distro: {get_param: distro}
      extra_properties: {get_param: extra}
      tags: [one]
outputs:
  id: {value: {get_resource: image}}
  shown: {value: {get_attr: [image, show]}}
"""


def test_a_web_image_is_imported_updated_and_fails_with_its_reason(demo, web):
    name = _n("img")
    _api(
        demo, "POST", "/stacks", json={"stack_name": name, "template": IMAGE, "parameters": {"url": f"{web}/disk.raw"}}
    )
    stack = _stack(demo, name, {"CREATE_COMPLETE", "CREATE_FAILED"})
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    out = _outputs(stack)
    assert out["shown"]["status"] == "active" and out["shown"]["os_distro"] == "alpine"
    update = {"parameters": {"distro": "debian", "extra": json.dumps({"a": "9"})}}
    _api(demo, "PATCH", f"/stacks/{name}/{stack['id']}", json=update)
    stack = _stack(demo, name, {"UPDATE_COMPLETE", "UPDATE_FAILED"})
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    image = demo.image.get_image(out["id"])
    assert image.os_distro == "debian" and image.properties.get("a") == "9" and "b" not in image.properties
    assert image.tags == ["one"]

    broken = _n("bad")
    _api(demo, "POST", "/stacks", json={"stack_name": broken, "template": IMAGE, "parameters": {"url": f"{web}/nope"}})
    failed = _stack(demo, broken, {"CREATE_COMPLETE", "CREATE_FAILED"})
    assert failed["stack_status"] == "CREATE_FAILED"
    assert "import from" in failed["stack_status_reason"] and "404" in failed["stack_status_reason"]
