"""Glance's metadata definitions, the tasks API's import task, an empty image id, and text UTF-8
cannot carry (issues 14, 16), through openstacksdk and HTTP."""

from __future__ import annotations

import hashlib
import http.server
import os
import threading
import uuid
from collections.abc import Iterator

import pytest
from openstack import exceptions as exc

from stacksim.testing import wait_until

JSON = {"Accept": "application/json"}
LONE = "\ud800"


def _n(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def namespace(admin):
    made = admin.image.create_metadef_namespace(namespace=_n("ns"), display_name="NS", visibility="private")
    return made  # the next test's reset removes it


def test_namespaces_are_admins_to_write_and_readers_see_public_ones(admin, demo, alt, namespace):
    image = admin.image
    shown = image.get_metadef_namespace(namespace.namespace)
    assert shown.display_name == "NS" and shown.visibility == "private" and shown.owner == admin.current_project_id
    assert namespace.namespace in {n.namespace for n in image.metadef_namespaces()}
    with pytest.raises(exc.ForbiddenException):
        demo.image.create_metadef_namespace(namespace=_n("nope"))
    with pytest.raises(exc.NotFoundException):  # another project's private one: 404, never 403
        demo.image.get_metadef_namespace(namespace.namespace)
    image.update_metadef_namespace(namespace, display_name="Shown", description="d", visibility="public")
    assert demo.image.get_metadef_namespace(namespace.namespace).description == "d"
    assert namespace.namespace in {n.namespace for n in alt.image.metadef_namespaces(visibility="public")}
    duplicate = admin.image.post("/metadefs/namespaces", json={"namespace": namespace.namespace}, headers=JSON)
    assert duplicate.status_code == 409
    protected = image.create_metadef_namespace(namespace=_n("prot"), is_protected=True)
    refused = admin.image.delete(f"/metadefs/namespaces/{protected.namespace}", headers=JSON)
    assert refused.status_code == 403 and "is protected and cannot be deleted" in refused.json()["message"]
    image.update_metadef_namespace(protected, is_protected=False)
    image.delete_metadef_namespace(protected.namespace)


def test_objects_properties_and_tags(admin, demo, namespace):
    image = admin.image
    obj = image.create_metadef_object(namespace=namespace, name="disk", description="d", properties={})
    assert image.get_metadef_object("disk", namespace).description == "d"
    image.update_metadef_object("disk", namespace=namespace.namespace, name="disk2", description="e")
    assert {o.name for o in image.metadef_objects(namespace.namespace)} == {"disk2"}
    image.delete_metadef_object("disk2", namespace.namespace)
    assert list(image.metadef_objects(namespace.namespace)) == []
    assert obj.name == "disk"

    attrs = {"name": "port", "title": "Port", "type": "string", "description": "a port", "enum": ["80", "443"]}
    made = image.create_metadef_property(namespace.namespace, **attrs)
    assert (made.title, made.enum) == ("Port", ["80", "443"])
    bad = admin.image.post(
        f"/metadefs/namespaces/{namespace.namespace}/properties", json={"name": "x", "title": "X", "type": "thing"}
    )
    assert bad.status_code == 400
    image.update_metadef_property(made, namespace.namespace, **{**attrs, "title": "Web port"})
    assert image.get_metadef_property("port", namespace).title == "Web port"
    assert [p.name for p in image.metadef_properties(namespace)] == ["port"]

    ns = image.get_metadef_namespace(namespace.namespace)
    ns.set_tags(image, ["t1", "t2"])
    ns.set_tags(image, ["t3"], append=True)
    ns.fetch_tags(image)
    assert sorted(t["name"] for t in ns.tags) == ["t1", "t2", "t3"]
    case = admin.image.post(f"/metadefs/namespaces/{namespace.namespace}/tags/T1", headers=JSON)
    assert case.status_code == 409  # tag names are case insensitive
    ns.remove_tag(image, "t1")
    shown = admin.image.get(f"/metadefs/namespaces/{namespace.namespace}").json()
    assert sorted(t["name"] for t in shown["tags"]) == ["t2", "t3"] and "port" in shown["properties"]
    assert demo.image.post(f"/metadefs/namespaces/{namespace.namespace}/tags/x").status_code in (403, 404)
    ns.remove_all_tags(image)
    assert admin.image.get(f"/metadefs/namespaces/{namespace.namespace}/tags").json() == {"tags": []}


def test_resource_type_associations(admin, namespace):
    image = admin.image
    seeded = {t.name for t in image.metadef_resource_types()}
    assert {"OS::Glance::Image", "OS::Cinder::Volume", "OS::Nova::Flavor"} <= seeded
    image.create_metadef_resource_type_association(namespace.namespace, name="OS::Glance::Image", prefix="hw_")
    image.create_metadef_property(namespace.namespace, name="cpu", title="CPU", type="integer")
    prefixed = admin.image.get(f"/metadefs/namespaces/{namespace.namespace}?resource_type=OS::Glance::Image").json()
    assert "hw_cpu" in prefixed["properties"]
    by_prefix = admin.image.get(
        f"/metadefs/namespaces/{namespace.namespace}/properties/hw_cpu?resource_type=OS::Glance::Image"
    )
    assert by_prefix.status_code == 200 and by_prefix.json()["name"] == "cpu"
    listed = admin.image.get("/metadefs/namespaces?resource_types=OS::Glance::Image").json()["namespaces"]
    assert namespace.namespace in {n["namespace"] for n in listed}
    image.create_metadef_resource_type_association(namespace.namespace, name="my-own-type")
    assert "my-own-type" in {t.name for t in image.metadef_resource_types()}
    associations = list(image.metadef_resource_type_associations(metadef_namespace=namespace))
    assert {a.name for a in associations} == {"OS::Glance::Image", "my-own-type"}
    image.delete_metadef_resource_type_association("my-own-type", metadef_namespace=namespace)
    assert {a.name for a in image.metadef_resource_type_associations(metadef_namespace=namespace)} == {
        "OS::Glance::Image"
    }


def test_metadef_schemas(demo):
    for name in ("namespace", "namespaces", "object", "objects", "property", "properties"):
        found = demo.image.get(f"/schemas/metadefs/{name}").json()
        assert found["name"] == name and "properties" in found
    assert demo.image.get("/schemas/metadefs/resource_type").json()["name"] == "resource_type_association"
    assert demo.image.get("/schemas/metadefs/tags").json()["name"] == "tags"
    assert demo.image.get("/schemas/task").json()["properties"]["status"]["enum"][0] == "pending"
    assert demo.image.get("/schemas/metadefs/nope").status_code == 404


@pytest.fixture(scope="module")
def web() -> Iterator[tuple[str, bytes]]:
    payload = os.urandom(300_000)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/disk.img":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", payload
    server.shutdown()
    server.server_close()


def test_the_legacy_import_task(admin, demo, web):
    url, payload = web
    task_input = {
        "import_from": f"{url}/disk.img",
        "import_from_format": "raw",
        "image_properties": {"name": _n("tasked"), "disk_format": "raw", "container_format": "bare"},
    }
    assert demo.image.post("/tasks", json={"type": "import", "input": task_input}).status_code == 403
    made = admin.image.post("/tasks", json={"type": "import", "input": task_input})
    assert made.status_code == 201 and made.json()["status"] in ("pending", "processing", "success")

    def finished():
        found = admin.image.get(f"/tasks/{made.json()['id']}").json()
        return found if found["status"] in ("success", "failure") else None

    done = wait_until(finished, 30, "the import task")
    assert done["status"] == "success", done
    image = admin.image.get_image(done["result"]["image_id"])
    assert image.status == "active" and image.checksum == hashlib.md5(payload).hexdigest()
    assert made.json()["id"] in {t.id for t in admin.image.tasks()}
    task_input["import_from"] = f"{url}/missing.img"
    failed_id = admin.image.post("/tasks", json={"type": "import", "input": task_input}).json()["id"]
    failed = wait_until(
        lambda: (t := admin.image.get(f"/tasks/{failed_id}").json())["status"] == "failure" and t, 30, "failure"
    )
    assert "404" in failed["message"] and failed.get("expires_at")
    missing = admin.image.post("/tasks", json={"type": "import", "input": {"import_from": url}}, headers=JSON)
    assert missing.status_code == 400 and "import_from_format" in missing.json()["message"]
    admin.image.delete_image(image)


def test_an_empty_image_id_is_not_the_list(demo):
    response = demo.image.get("/images/", headers=JSON)
    assert response.status_code == 404
    with pytest.raises(exc.NotFoundException):
        demo.image.get_image("")


def test_text_utf8_cannot_carry_is_refused(demo, admin):
    before = len(demo.image.get("/images").json()["images"])
    for body in ({"name": LONE}, {"name": "ok", "os_distro": f"x{LONE}"}, {"name": "ok", f"k{LONE}": "v"}):
        refused = demo.image.post(
            "/images", json={**body, "disk_format": "raw", "container_format": "bare"}, headers=JSON
        )
        assert refused.status_code == 400 and "lone UTF-16 surrogate" in refused.json()["message"]
    assert len(demo.image.get("/images").json()["images"]) == before
    assert demo.image.get("/images").status_code == 200
    bad_ns = admin.image.post("/metadefs/namespaces", json={"namespace": f"n{LONE}"}, headers=JSON)
    assert bad_ns.status_code == 400
    assert admin.image.get("/metadefs/namespaces").status_code == 200


@pytest.fixture
def reader(demo, sim):
    """demo's project, through an application credential with the ``reader`` role only."""
    import openstack

    cred = demo.identity.create_application_credential(demo.current_user_id, _n("ro"), roles=[{"name": "reader"}])
    return openstack.connect(
        auth_url=f"{sim.url}/identity",
        auth_type="v3applicationcredential",
        application_credential_id=cred.id,
        application_credential_secret=cred.secret,
    )


def test_a_reader_only_looks(demo, alt, reader):
    """Issue 14: Glance's default policy gives writes (and downloads) to members, not readers."""
    mine = demo.image.create_image(name=_n("mine"), disk_format="raw", container_format="bare", data=b"x" * 10)
    assert reader.image.get_image(mine.id).name == mine.name
    assert mine.id in {i.id for i in reader.image.images()}
    refusals = [
        ("POST", "/images", {"name": "x", "disk_format": "raw", "container_format": "bare"}, "add_image"),
        ("PATCH", f"/images/{mine.id}", [{"op": "replace", "path": "/name", "value": "y"}], "modify_image"),
        ("DELETE", f"/images/{mine.id}", None, "delete_image"),
        ("PUT", f"/images/{mine.id}/tags/t", None, "modify_image"),
        ("POST", f"/images/{mine.id}/actions/deactivate", None, "deactivate"),
        ("GET", f"/images/{mine.id}/file", None, "download_image"),
    ]
    for method, path, body, action in refusals:
        headers = {**JSON}
        if method == "PATCH":
            headers["Content-Type"] = "application/openstack-images-v2.1-json-patch"
        response = reader.image.request(path, method, json=body, headers=headers, raise_exc=False)
        assert response.status_code == 403, (path, response.text)
        assert action in response.json()["message"], (path, response.text)
    demo.image.update_image(mine, visibility="shared")
    refused = reader.image.post(f"/images/{mine.id}/members", json={"member": alt.current_project_id}, headers=JSON)
    assert refused.status_code == 403
    assert demo.image.get_image(mine.id).name == mine.name
