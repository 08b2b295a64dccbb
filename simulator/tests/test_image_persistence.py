"""Image data and status across failures: a cut-off upload, a crash mid-upload, a restart."""

from __future__ import annotations

import contextlib
import threading
import time
import uuid

import openstack
import requests

from stacksim.services.image.bootstrap import DEFAULT_IMAGE_NAME
from stacksim.store import Store
from stacksim.testing import Simulator, wait_until

OCTET = {"Content-Type": "application/octet-stream"}


def _connect(sim: Simulator):
    return openstack.connect(
        auth_url=f"{sim.url}/identity",
        username="demo",
        password="stacksim",
        project_name="demo",
        user_domain_id="default",
        project_domain_id="default",
    )


def _queued_image(conn) -> str:
    body = {"name": f"p-{uuid.uuid4().hex[:6]}", "disk_format": "raw", "container_format": "bare"}
    return conn.image.post("/images", json=body).json()["id"]


def _files(state) -> dict[str, list[str]]:
    root = state / "data" / "images"
    return {
        "images": sorted(p.name for p in root.iterdir() if p.is_file()),
        "tmp": sorted(p.name for p in (root / "tmp").iterdir()),
        "staging": sorted(p.name for p in (root / "staging").iterdir()),
    }


def test_a_cut_off_upload_leaves_the_image_queued_and_no_partial_file(tmp_path):
    state = tmp_path / "state"
    with Simulator(state_dir=state) as sim:
        conn = _connect(sim)
        image_id = _queued_image(conn)
        token = conn.session.get_token()

        def body():
            yield b"x" * (4 << 20)
            raise ConnectionError("the client gives up")

        with contextlib.suppress(Exception):  # the client's side of the cut is not what is tested
            requests.put(
                f"{sim.url}/image/v2/images/{image_id}/file", data=body(), headers={"X-Auth-Token": token, **OCTET}
            )
        wait_until(lambda: conn.image.get(f"/images/{image_id}").json()["status"] == "queued", 10)
        shown = conn.image.get(f"/images/{image_id}").json()
        assert shown["status"] == "queued" and shown["size"] is None and shown["checksum"] is None
        files = _files(state)
        assert image_id not in files["images"] and files["tmp"] == []
        # and it can be uploaded again
        assert conn.image.put(f"/images/{image_id}/file", data=b"whole", headers=OCTET).status_code == 204
        assert conn.image.get(f"/images/{image_id}/file").content == b"whole"


def test_images_survive_a_crash_and_an_upload_cut_by_it_is_rolled_back(tmp_path):
    state = tmp_path / "state"
    first = Simulator(state_dir=state).start()
    try:
        conn = _connect(first)
        kept = _queued_image(conn)
        conn.image.put(f"/images/{kept}/file", data=b"kept data", headers=OCTET)
        cut = _queued_image(conn)
        token = conn.session.get_token()
        started = threading.Event()

        def body():
            yield b"y" * (2 << 20)
            started.set()
            time.sleep(30)  # the server dies meanwhile
            yield b"never sent"

        def upload() -> None:
            with contextlib.suppress(Exception):  # the server is killed under it
                requests.put(
                    f"{first.url}/image/v2/images/{cut}/file", data=body(), headers={"X-Auth-Token": token, **OCTET}
                )

        threading.Thread(target=upload, daemon=True).start()
        assert started.wait(10)
        wait_until(lambda: conn.image.get(f"/images/{cut}").json()["status"] == "saving", 10)
        assert conn.image.get(f"/images/{cut}").json()["status"] == "saving"
        first.stop(kill=True)
    finally:
        first.stop()

    with Simulator(state_dir=state, port=first.port) as second:
        conn = _connect(second)
        assert conn.image.get(f"/images/{kept}").json()["status"] == "active"
        assert conn.image.get(f"/images/{kept}/file").content == b"kept data"
        rolled_back = conn.image.get(f"/images/{cut}").json()
        assert rolled_back["status"] == "queued" and rolled_back["size"] is None
        assert _files(state)["tmp"] == [] and cut not in _files(state)["images"]
        # the default image was made once, not again
        assert [i.name for i in conn.image.images(name=DEFAULT_IMAGE_NAME)] == [DEFAULT_IMAGE_NAME]


def test_an_image_stored_with_a_lone_surrogate_is_mended_at_start(tmp_path):
    """Issue 14: a state dir from before such text was refused may hold one; the next start mends it."""
    with Simulator(state_dir=tmp_path) as sim:
        image_id = _queued_image(_connect(sim))
    store = Store(str(tmp_path / "stacksim.db"))
    record = store.get("image", image_id)
    record["name"] = "bad\ud800"
    record["properties"]["k\udc00"] = "\ud800"
    store.put("image", record)  # as an older stacksim stored it
    store.close()
    with Simulator(state_dir=tmp_path) as sim:
        listed = _connect(sim).image.get("/images")
        assert listed.status_code == 200
        (shown,) = [i for i in listed.json()["images"] if i["id"] == image_id]
        assert shown["name"] == "bad\ufffd" and shown["k\ufffd"] == "\ufffd"
