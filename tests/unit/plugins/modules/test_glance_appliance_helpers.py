# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The appliance modules' pure helpers; the modules themselves are tested against stacksim (tests/integration)."""

from __future__ import annotations

import json

import pytest

from ansible_collections.opensandbox.cloud.plugins.module_utils._appliance import ApplianceError
from ansible_collections.opensandbox.cloud.plugins.module_utils._appliance_glance import only_scope
from ansible_collections.opensandbox.cloud.plugins.modules.glance_appliance import (
    current_of,
    grouped,
    load_image_list,
)
from ansible_collections.opensandbox.cloud.plugins.modules.glance_appliance_info import summarize

NO_DOWNLOAD = {"username": None, "password": None, "validate_certs": True, "timeout": 5}
LIST = {"hv:imagelist": {"dc:identifier": "list-1", "hv:images": []}}


def image(ident, list_id=None, **more):
    props = {"APPLIANCE_ID": ident} if ident else {}
    if list_id is not None:
        props["APPLIANCE_IMAGE_LIST_ID"] = list_id
    return {"id": f"i-{ident}-{list_id}", "properties": props, **more}


def test_scope_is_one_appliance_or_one_list():
    images = [image("a", "l1"), image("a"), image("b", "l1"), image("c", "l2"), image(None)]
    assert [i["id"] for i in only_scope(images, "a", "l1")] == ["i-a-l1"]
    assert [i["id"] for i in only_scope(images, "a", "")] == ["i-a-None"]
    assert [i["id"] for i in only_scope(images, None, "l1")] == ["i-a-l1", "i-b-l1"]
    assert len(only_scope(images, None, None)) == 4


def test_image_lists_from_a_dict_or_a_file(tmp_path):
    assert load_image_list(LIST, NO_DOWNLOAD).identifier == "list-1"
    path = tmp_path / "list.json"
    path.write_text(json.dumps(LIST))
    assert load_image_list(str(path), NO_DOWNLOAD).identifier == "list-1"
    with pytest.raises(ApplianceError, match=r"image_list: cannot read .*/missing.json"):
        load_image_list(str(tmp_path / "missing.json"), NO_DOWNLOAD)
    with pytest.raises(ApplianceError, match=r"image_list: give the list as a dictionary"):
        load_image_list(["not", "a", "list"], NO_DOWNLOAD)


def record(ident, status, project="p1", list_id="l1", vo="vo"):
    return {"identifier": ident, "status": status, "project_id": project, "image_list_identifier": list_id, "vo": vo}


def test_current_image_is_the_active_one_else_the_newest():
    assert (
        current_of([record("a", "EOL"), record("a", "ACTIVE"), record("a", "EOL", project="p2")])["status"] == "ACTIVE"
    )
    assert current_of([record("a", "EOL"), record("a", "EOL", project="p2")])["project_id"] == "p2"
    assert current_of([]) is None
    assert list(grouped([record("a", "EOL"), record("b", "ACTIVE"), record("a", "ACTIVE")])) == ["a", "b"]


def test_summary_per_image_list_and_per_project():
    records = [
        record("a", "EOL"),
        record("a", "ACTIVE"),
        record("b", "EOL"),
        record("c", "ACTIVE", project="p2", list_id="l2", vo="other"),
    ]
    summary = summarize(records, {"p1": "demo"})
    assert summary["image_lists"] == [
        {"identifier": "l1", "vos": ["vo"], "project_ids": ["p1"], "appliances": ["a"], "retired": ["b"]},
        {"identifier": "l2", "vos": ["other"], "project_ids": ["p2"], "appliances": ["c"], "retired": []},
    ]
    assert summary["projects"] == [
        {"id": "p1", "name": "demo", "image_lists": ["l1"], "appliances": ["a"], "images": 3},
        {"id": "p2", "name": None, "image_lists": ["l2"], "appliances": ["c"], "images": 1},
    ]
