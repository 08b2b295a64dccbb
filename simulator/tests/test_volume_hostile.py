"""Hostile input to Block Storage (issue 14): text UTF-8 cannot carry is refused at the door, and a
record stored with such text by an older stacksim does not break the lists that show it."""

from __future__ import annotations

import pytest
from volume_helpers import cinder, fault, make_volume, unique

from stacksim.store import Store
from stacksim.testing import Simulator

LONE = "\ud800"


def _volume_count(conn) -> int:
    return len(cinder(conn, "GET", "/volumes").json()["volumes"])


@pytest.mark.parametrize(
    ("field", "body"),
    [
        ("name", {"size": 1, "name": LONE}),
        ("description", {"size": 1, "description": f"ok {LONE} ok"}),
        ("display_name", {"size": 1, "display_name": LONE}),
        ("metadata", {"size": 1, "metadata": {"k": LONE}}),
        ("metadata", {"size": 1, "metadata": {LONE: "v"}}),
    ],
)
def test_a_lone_surrogate_in_a_new_volume_is_refused(demo, field, body):
    before = _volume_count(demo)
    refused = cinder(demo, "POST", "/volumes", version="3.70", json={"volume": body})
    message = fault(refused, 400, "badRequest")
    # The web layer refuses it before Cinder's schema sees it, naming the field.
    assert message.startswith(f"Invalid input for field 'volume/{field}")
    assert "\\ud800" in message and "lone UTF-16 surrogate" in message
    assert _volume_count(demo) == before  # nothing half-made
    listed = cinder(demo, "GET", "/volumes/detail")
    assert listed.status_code == 200


def test_a_lone_surrogate_is_refused_in_every_storage_name(demo, admin):
    volume = make_volume(demo)
    attempts = [
        (demo, "PUT", f"/volumes/{volume['id']}", {"volume": {"name": LONE}}),
        (demo, "POST", f"/volumes/{volume['id']}/metadata", {"metadata": {"a": LONE}}),
        (demo, "POST", "/snapshots", {"snapshot": {"volume_id": volume["id"], "name": LONE}}),
        (demo, "POST", "/backups", {"backup": {"volume_id": volume["id"], "description": LONE}}),
        (demo, "POST", "/volume-transfers", {"transfer": {"volume_id": volume["id"], "name": LONE}}),
        (admin, "POST", "/types", {"volume_type": {"name": LONE}}),
        (admin, "POST", "/types", {"volume_type": {"name": unique("t"), "extra_specs": {"k": LONE}}}),
        (admin, "POST", "/group_types", {"group_type": {"name": LONE}}),
        (admin, "POST", "/qos-specs", {"qos_specs": {"name": LONE}}),
        (demo, "POST", "/groups", {"group": {"name": LONE, "group_type": "x", "volume_types": ["y"]}}),
    ]
    for conn, method, path, body in attempts:
        response = cinder(conn, method, path, version="3.70", json=body)
        assert response.status_code == 400, (path, response.text)
        assert "lone UTF-16 surrogate" in response.json()["badRequest"]["message"], path
    for path in ("/volumes/detail", "/snapshots/detail", "/backups/detail", "/volume-transfers/detail"):
        assert cinder(demo, "GET", path, version="3.70").status_code == 200, path
    assert cinder(demo, "GET", f"/volumes/{volume['id']}").json()["volume"]["name"] == volume["name"]
    for path in ("/types", "/group_types", "/qos-specs"):
        assert cinder(admin, "GET", path, version="3.70").status_code == 200, path


def test_a_stored_lone_surrogate_is_mended_at_start(tmp_path):
    """A state dir from before the check may hold one: the next start mends it, so lists work."""
    with Simulator(state_dir=tmp_path) as sim:
        made = make_volume(sim.connect("demo"), name="fine")
    store = Store(str(tmp_path / "stacksim.db"))
    record = store.get("volume", made["id"])
    record.update(name=f"bad{LONE}", metadata={f"k{LONE}": LONE})
    store.put("volume", record)  # as an older stacksim stored it
    store.close()
    with Simulator(state_dir=tmp_path) as sim:
        listed = cinder(sim.connect("demo"), "GET", "/volumes/detail", version="3.70")
        assert listed.status_code == 200
        (shown,) = listed.json()["volumes"]
        assert shown["name"] == "bad\ufffd" and shown["metadata"] == {"k\ufffd": "\ufffd"}


def test_storage_data_folders_are_private(tmp_path):
    """Volume and image bytes are readable by the simulator's user only, whatever the folders were."""
    data = tmp_path / "data"
    (data / "volumes").mkdir(parents=True, mode=0o755)
    (data / "volumes").chmod(0o755)
    with Simulator(state_dir=tmp_path):
        for folder in ("volumes", "snapshots", "backups", "images", "images/staging", "images/tmp"):
            assert (data / folder).stat().st_mode & 0o777 == 0o700, folder
