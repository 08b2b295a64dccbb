"""Glance v2 through openstacksdk: uploads (PUT and the import API), downloads, web-download, actions."""

from __future__ import annotations

import hashlib
import http.server
import os
import threading
import uuid
from collections.abc import Iterator

import pytest

from stacksim.testing import wait_until

OCTET = {"Content-Type": "application/octet-stream"}


def _n(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def _wait(conn, image_id: str, done, timeout: float = 30.0):
    return wait_until(lambda: done(image := conn.image.get_image(image_id)) and image, timeout, f"image {image_id}")


@pytest.fixture(scope="module")
def web() -> Iterator[tuple[str, bytes]]:
    """A tiny HTTP server on loopback serving ``/disk.img`` (and 404 for anything else)."""
    payload = os.urandom(2 * 1024 * 1024 + 5)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/disk.img":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", payload
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("use_import", [False, True], ids=["put-file", "glance-direct"])
def test_create_image_from_a_file_and_download_it(demo, tmp_path, use_import):
    payload = os.urandom(1024 * 1024 + 3)
    source = tmp_path / "disk.raw"
    source.write_bytes(payload)
    name = _n("sdk")
    image = demo.create_image(
        name, filename=str(source), disk_format="raw", container_format="bare", wait=True, use_import=use_import
    )
    # The SDK stops waiting once the image leaves queued/saving: an import may still be running.
    assert image.status in (("importing", "active") if use_import else ("active",))
    image = _wait(demo, image.id, lambda i: i.status == "active")
    assert image.status == "active" and image.size == len(payload)
    assert image.checksum == hashlib.md5(payload).hexdigest()
    assert image.hash_algo == "sha512" and image.hash_value == hashlib.sha512(payload).hexdigest()
    assert image.virtual_size == len(payload)  # raw: the disk is the file
    assert "owner_specified.openstack.md5" in image.properties  # the SDK's own bookkeeping

    data = demo.image.download_image(image)
    assert data.content == payload
    assert data.headers["Content-MD5"] == image.checksum
    out = tmp_path / "out"
    demo.image.download_image(image, output=str(out))
    assert out.read_bytes() == payload
    if use_import:
        imported = demo.image.get_image(image.id)
        assert imported.properties["os_glance_importing_to_stores"] == ""
        assert imported.properties["os_glance_failed_import"] == ""
        assert "os_glance_import_task" not in imported.properties
        (task,) = list(demo.image.image_tasks(image))
        assert task.status == "success" and task.type == "api_image_import"
    demo.delete_image(image.id, wait=True)


def test_web_download_import(demo, web):
    base, payload = web
    image = demo.image.create_image(name=_n("web"), disk_format="qcow2", container_format="bare")
    assert image.status == "queued"
    demo.image.import_image(image, method="web-download", uri=f"{base}/disk.img")
    done = _wait(demo, image.id, lambda i: i.status == "active")
    assert done.status == "active" and done.size == len(payload)
    assert done.checksum == hashlib.md5(payload).hexdigest()
    assert demo.image.download_image(done).content == payload
    demo.image.delete_image(image)


@pytest.mark.parametrize("path", ["/missing.img", None], ids=["http-404", "connection-refused"])
def test_web_download_that_fails_leaves_the_image_queued(demo, web, path):
    base, _ = web
    if path is None:
        import socket

        with socket.socket() as sock:  # a port nothing listens on
            sock.bind(("127.0.0.1", 0))
            uri = f"http://127.0.0.1:{sock.getsockname()[1]}/x.img"
    else:
        uri = base + path
    image = demo.image.create_image(name=_n("webfail"), disk_format="qcow2", container_format="bare")
    demo.image.import_image(image, method="web-download", uri=uri)
    failed = _wait(demo, image.id, lambda i: i.properties.get("os_glance_failed_import"))
    assert failed.status == "queued" and failed.size is None and failed.checksum is None
    assert failed.properties["os_glance_failed_import"] == "local"
    assert failed.properties["os_glance_importing_to_stores"] == ""
    (task,) = list(demo.image.image_tasks(image))
    assert task.status == "failure" and task.message
    # no partial data: there is nothing to download, and a new import may start
    assert demo.image.get(f"/images/{image.id}/file").status_code == 204
    demo.image.delete_image(image)


def test_web_download_only_takes_http_urls(demo):
    image = demo.image.create_image(name=_n("webbad"), disk_format="qcow2", container_format="bare")
    # (the SDK's import_image returns the response: it does not raise)
    refused = demo.image.import_image(image, method="web-download", uri="file:///etc/passwd")
    assert refused.status_code == 400
    assert "URI for web-download does not pass filtering: file:///etc/passwd" in refused.text
    assert demo.image.get_image(image).status == "queued"
    unstaged = demo.image.import_image(image, method="glance-direct")
    assert unstaged.status_code == 409 and "needs to be staged" in unstaged.text
    unknown = demo.image.post(f"/images/{image.id}/import", json={"method": {"name": "copy-image"}})
    assert unknown.status_code == 400 and "Unknown import method name &#x27;copy-image&#x27;." in unknown.text
    demo.image.delete_image(image)


def test_import_info_and_stores(demo):
    info = demo.image.get("/info/import").json()
    assert info["import-methods"]["value"] == ["glance-direct", "web-download"]
    assert [s.id for s in demo.image.stores()] == ["local"]


def test_deactivate_and_reactivate(admin, demo, tmp_path):
    image = demo.image.create_image(name=_n("deact"), disk_format="raw", container_format="bare", data=b"x" * 100)
    assert demo.image.get_image(image).status == "active"
    # Glance's default policy: an admin, or a member of the image's owner (not of another project)
    public = next(i for i in demo.image.images() if i.owner != demo.current_project_id and i.visibility == "public")
    refused = demo.image.post(f"/images/{public.id}/actions/deactivate")
    assert refused.status_code == 403 and "You are not authorized to complete deactivate action." in refused.text
    demo.image.deactivate_image(image)
    assert demo.image.get_image(image).status == "deactivated"
    # (the SDK's download does not check the status: it would hash the error page)
    refused = demo.image.get(f"/images/{image.id}/file")
    assert refused.status_code == 403 and "has been deactivated. Image data download is forbidden." in refused.text
    assert admin.image.download_image(image).content == b"x" * 100  # admins still may
    admin.image.reactivate_image(image)
    assert demo.image.download_image(image).content == b"x" * 100
    demo.image.delete_image(image)


def test_upload_to_an_active_image_conflicts(demo):
    image = demo.image.create_image(name=_n("twice"), disk_format="raw", container_format="bare", data=b"once")
    response = demo.image.put(
        f"/images/{image.id}/file", data=b"again", headers={"Content-Type": "application/octet-stream"}
    )
    assert response.status_code == 409
    assert "Image status transition from active to saving is not allowed" in response.text
    assert demo.image.download_image(image).content == b"once"
    demo.image.delete_image(image)


def test_upload_without_formats_is_refused_and_stays_queued(demo):
    image = demo.image.post("/images", json={"name": _n("noformat")}).json()
    image = demo.image.get_image(image["id"])
    assert image.disk_format is None and image.visibility == "shared"
    response = demo.image.put(
        f"/images/{image.id}/file", data=b"abc", headers={"Content-Type": "application/octet-stream"}
    )
    assert response.status_code == 400
    assert "Properties disk_format, container_format must be set prior to saving data." in response.text
    assert demo.image.get_image(image).status == "queued"
    demo.image.delete_image(image)


def test_stage_import_and_the_tasks_api(admin, demo):
    image = demo.image.post("/images", json={"name": _n("staged"), "disk_format": "raw", "container_format": "bare"})
    image_id = image.json()["id"]
    staged = demo.image.put(f"/images/{image_id}/stage", data=b"staged bytes", headers=OCTET)
    assert staged.status_code == 204
    shown = demo.image.get_image(image_id)
    assert shown.status == "uploading" and shown.size == len(b"staged bytes") and shown.checksum is None
    accepted = demo.image.post(f"/images/{image_id}/import", json={"method": {"name": "glance-direct"}})
    assert accepted.status_code == 202 and accepted.content == b""
    done = _wait(demo, image_id, lambda i: i.status == "active")
    assert done.checksum == hashlib.md5(b"staged bytes").hexdigest()
    (task,) = demo.image.get(f"/images/{image_id}/tasks").json()["tasks"]
    assert task["status"] == "success" and task["image_id"] == image_id
    assert task["input"]["import_req"] == {"method": {"name": "glance-direct"}}
    listed = admin.image.get("/tasks").json()["tasks"]
    assert task["id"] in [t["id"] for t in listed]
    assert admin.image.get(f"/tasks/{task['id']}").json()["result"] == {"image_id": image_id}
    refused = demo.image.get("/tasks", headers={"Accept": "application/json"})
    assert refused.status_code == 403 and "tasks_api_access" in refused.json()["message"]
    demo.image.delete_image(image_id)
