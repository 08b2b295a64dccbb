# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The sync planner: what to add, update, retire and delete so Glance matches the wish."""

from __future__ import annotations

import hashlib

import pytest

from ansible_collections.opensandbox.cloud.plugins.module_utils._appliance import (
    appliance_from_spec,
    appliance_properties,
)
from ansible_collections.opensandbox.cloud.plugins.module_utils._appliance_sync import Wish, image_record, plan

NOW = 1_800_000_000
PROJECT = "p-demo"
LIST_ID = "list-1"


def digest(data: str) -> str:
    return hashlib.sha512(data.encode()).hexdigest()


def appliance(ident: str, version: str = "1.0", data: str | None = None, **more):
    spec = {
        "identifier": ident,
        "title": f"Appliance {ident}",
        "version": version,
        "vo": "dteam",
        "image_list_identifier": LIST_ID,
        "ram": 512,
        "image": {"location": f"http://h/{ident}-{version}.raw", "checksum": digest(data or f"{ident}-{version}")},
        **more,
    }
    return appliance_from_spec(spec)


def wish(ident: str, version: str = "1.0", **more) -> Wish:
    return Wish(appliance(ident, version, **more), PROJECT)


def glance(image_id: str, ident: str, version: str = "1.0", *, state="ACTIVE", created="2026-01-01", **more):
    app = appliance(ident, version)
    props = appliance_properties(app, state)
    image = {
        "id": image_id,
        "name": app.name,
        "owner": PROJECT,
        "status": "active",
        "visibility": "private" if state == "EOL" else "public",
        "min_ram": 512,
        "size": len(f"{ident}-{version}"),
        "hash_algo": "sha512",
        "hash_value": digest(f"{ident}-{version}"),
        "created_at": created,
        "properties": props,
    }
    image.update(more)
    return image


def kinds(result) -> list[tuple[str, str, str | None]]:
    return [(a.kind, a.identifier, a.image_id) for a in result.actions]


def test_an_empty_glance_gets_every_appliance():
    result = plan([wish("a"), wish("b"), wish("c")], [], now=NOW, visibility="public")
    assert kinds(result) == [("add", "a", None), ("add", "b", None), ("add", "c", None)]
    assert [a.reason for a in result.actions] == ["new appliance"] * 3
    assert result.before == []
    assert [(r["identifier"], r["status"], r["image_id"], r["visibility"]) for r in result.after] == [
        ("a", "ACTIVE", None, "public"),
        ("b", "ACTIVE", None, "public"),
        ("c", "ACTIVE", None, "public"),
    ]
    assert result.after[0]["version"] == "1.0"
    assert result.after[0]["project_id"] == PROJECT


def test_glance_as_wished_needs_nothing():
    images = [glance("i-a", "a"), glance("i-b", "b")]
    result = plan([wish("a"), wish("b")], images, now=NOW, visibility="public")
    assert not result.changed
    assert result.after == result.before


def test_changed_metadata_updates_the_image_in_place():
    images = [glance("i-a", "a")]
    changed = Wish(appliance("a", description="Now described", ram=1024, title="Renamed"), PROJECT)
    result = plan([changed], images, now=NOW, visibility="public")
    assert kinds(result) == [("update", "a", "i-a")]
    assert result.actions[0].changes == {
        "APPLIANCE_DESCRIPTION": "Now described",
        "APPLIANCE_RAM": "1024",
        "APPLIANCE_TITLE": "Renamed",
        "name": "Renamed",
        "min_ram": 1024,
    }
    (after,) = result.after
    assert (after["description"], after["ram"], after["image_name"], after["min_ram"]) == (
        "Now described",
        1024,
        "Renamed",
        1024,
    )


def test_a_new_version_adds_then_retires_and_deletes_the_unused_old_one():
    images = [glance("i-a1", "a", "1.0")]
    result = plan([wish("a", "2.0")], images, now=NOW, visibility="public")
    assert kinds(result) == [("add", "a", None), ("retire", "a", "i-a1"), ("delete", "a", "i-a1")]
    assert result.actions[0].reason == "new version"
    assert result.actions[1].changes == {"APPLIANCE_STATUS": "EOL", "visibility": "private"}
    assert [(r["version"], r["status"]) for r in result.after] == [("2.0", "ACTIVE")]


def test_an_old_version_a_server_uses_stays_eol_and_private():
    images = [glance("i-a1", "a", "1.0")]
    result = plan([wish("a", "2.0")], images, now=NOW, visibility="public", in_use={"i-a1"}.__contains__)
    assert kinds(result) == [("add", "a", None), ("retire", "a", "i-a1")]
    assert sorted((r["version"], r["status"], r["visibility"]) for r in result.after) == [
        ("1.0", "EOL", "private"),
        ("2.0", "ACTIVE", "public"),
    ]
    # Once the server is gone, the next run deletes it.
    now_eol = glance("i-a1", "a", "1.0", state="EOL")
    again = plan([wish("a", "2.0")], [glance("i-a2", "a", "2.0", created="2026-02-01"), now_eol], now=NOW)
    assert kinds(again) == [("update", "a", "i-a2"), ("delete", "a", "i-a1")]


def test_an_appliance_no_longer_listed_is_retired_or_purged():
    images = [glance("i-a", "a"), glance("i-b", "b")]
    result = plan([wish("a")], images, now=NOW, visibility="public")
    assert kinds(result) == [("retire", "b", "i-b")]
    assert result.actions[0].reason == "no longer listed"
    assert [(r["identifier"], r["status"], r["visibility"]) for r in result.after] == [
        ("a", "ACTIVE", "public"),
        ("b", "EOL", "private"),
    ]
    purged = plan([wish("a")], images, now=NOW, visibility="public", purge=True)
    assert kinds(purged) == [("delete", "b", "i-b")]
    # Retired already: nothing more to do.
    retired = [glance("i-a", "a"), glance("i-b", "b", state="EOL")]
    assert not plan([wish("a")], retired, now=NOW, visibility="public").changed


def test_retiring_a_private_image_only_marks_it_eol():
    images = [glance("i-b", "b", visibility="private")]
    result = plan([], images, now=NOW)
    assert kinds(result) == [("retire", "b", "i-b")]
    assert result.actions[0].changes == {"APPLIANCE_STATUS": "EOL"}
    assert [(r["status"], r["visibility"]) for r in result.after] == [("EOL", "private")]


def test_a_retired_appliance_keeps_its_newest_image_and_drops_older_unused_ones():
    images = [glance("i-b1", "b", "1.0", state="EOL"), glance("i-b2", "b", "2.0")]
    result = plan([], images, now=NOW)
    assert kinds(result) == [("retire", "b", "i-b2"), ("delete", "b", "i-b1")]


def test_state_absent_retires_and_purge_deletes_everything():
    images = [glance("i-a1", "a", "1.0", state="EOL"), glance("i-a2", "a", "2.0")]
    assert kinds(plan([wish("a", "2.0")], images, now=NOW, state="absent")) == [
        ("retire", "a", "i-a2"),
        ("delete", "a", "i-a1"),
    ]
    purged = plan([wish("a", "2.0")], images, now=NOW, state="absent", purge=True)
    assert kinds(purged) == [("delete", "a", "i-a1"), ("delete", "a", "i-a2")]
    assert purged.after == []
    assert not plan([wish("a")], [], now=NOW, state="absent").changed


def test_a_listed_again_appliance_is_made_active():
    images = [glance("i-a", "a", state="EOL")]
    result = plan([wish("a")], images, now=NOW, visibility="public")
    assert kinds(result) == [("update", "a", "i-a")]
    assert result.actions[0].reason == "listed again: made ACTIVE"
    assert result.actions[0].changes == {"APPLIANCE_STATUS": "ACTIVE", "visibility": "public"}


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("retire", [("retire", "a", "i-a")]),
        ("remove", [("delete", "a", "i-a")]),
        ("ignore", []),
    ],
)
def test_expired_appliances(policy, expected):
    expired = Wish(appliance("a", expiration_date=NOW - 1), PROJECT)
    images = [glance("i-a", "a", **{"properties": appliance_properties(expired.appliance)})]
    result = plan([expired], images, now=NOW, expired=policy, visibility="public")
    assert kinds(result) == expected
    # An expired appliance that is not in Glance is not added.
    assert kinds(plan([expired], [], now=NOW, expired=policy)) == ([] if policy != "ignore" else [("add", "a", None)])


def test_an_expired_list_expires_every_appliance():
    result = plan([wish("a")], [glance("i-a", "a")], now=NOW, list_expired=True, expired="remove")
    assert kinds(result) == [("delete", "a", "i-a")]


def test_an_image_in_another_project_is_replaced():
    images = [glance("i-a", "a", owner="p-other")]
    result = plan([wish("a")], images, now=NOW)
    assert kinds(result) == [("add", "a", None), ("retire", "a", "i-a"), ("delete", "a", "i-a")]
    assert result.actions[0].reason == "moved to another project"


def test_an_upload_that_never_finished_is_deleted():
    images = [glance("i-a", "a", status="queued")]
    result = plan([wish("a")], images, now=NOW)
    assert kinds(result) == [("add", "a", None), ("delete", "a", "i-a")]
    assert result.actions[1].reason == "upload never finished (image status queued)"


def test_a_cloudkeeper_image_without_our_checksum_is_adopted():
    # Cloudkeeper-OS wrote no APPLIANCE_IMAGE_CHECKSUM and no status; Glance's sha512 matches.
    props = appliance_properties(appliance("a"))
    del props["APPLIANCE_IMAGE_CHECKSUM"], props["APPLIANCE_STATUS"]
    adopted = glance("i-a", "a", properties=props)
    result = plan([wish("a")], [adopted], now=NOW, visibility="public")
    assert kinds(result) == [("update", "a", "i-a")]
    assert set(result.actions[0].changes) == {"APPLIANCE_IMAGE_CHECKSUM", "APPLIANCE_STATUS"}


def test_without_a_comparable_checksum_an_equal_version_is_trusted():
    sha256 = hashlib.sha256(b"a-1.0").hexdigest()
    listed = appliance_from_spec(
        {"identifier": "a", "version": "1.0", "image_list_identifier": LIST_ID, "vo": "dteam", "title": "Appliance a",
         "ram": 512, "image": {"location": "/x", "checksum": sha256, "checksum_algorithm": "sha256"}}
    )  # fmt: skip
    props = appliance_properties(listed)
    del props["APPLIANCE_IMAGE_CHECKSUM"]
    image = glance("i-a", "a", properties=props)
    assert kinds(plan([Wish(listed, PROJECT)], [image], now=NOW, visibility="public")) == [("update", "a", "i-a")]
    newer = appliance_from_spec({**listed.fields(), "version": "1.1", "image": listed.image.to_dict()})
    assert kinds(plan([Wish(newer, PROJECT)], [image], now=NOW, visibility="public"))[0] == ("add", "a", None)


def test_duplicates_keep_the_active_one():
    images = [glance("i-a1", "a", created="2026-01-01"), glance("i-a2", "a", state="EOL", created="2026-02-01")]
    result = plan([wish("a")], images, now=NOW, visibility="public")
    assert kinds(result) == [("delete", "a", "i-a2")]


def test_summaries_say_what_and_why():
    result = plan([wish("a", "2.0")], [glance("i-a1", "a", "1.0")], now=NOW)
    assert [a.summary() for a in result.actions] == [
        {
            "action": "add",
            "identifier": "a",
            "image_id": None,
            "reason": "new version",
            "project_id": PROJECT,
            "version": "2.0",
        },
        {
            "action": "retire",
            "identifier": "a",
            "image_id": "i-a1",
            "reason": "superseded by a newer image of the appliance",
            "changes": ["APPLIANCE_STATUS", "visibility"],
        },
        {
            "action": "delete",
            "identifier": "a",
            "image_id": "i-a1",
            "reason": "superseded by a newer image of the appliance; no server uses it",
        },
    ]


def test_image_record_rebuilds_the_appliance_from_the_image():
    record = image_record(glance("i-a", "a"))
    assert record["identifier"] == "a"
    assert record["image_list_identifier"] == LIST_ID
    assert record["status"] == "ACTIVE"
    assert record["image_id"] == "i-a"
    assert record["project_id"] == PROJECT
