# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The cinder modules' pure helpers; the modules themselves are tested against stacksim (tests/integration)."""

from __future__ import annotations

from ansible_collections.opensandbox.cloud.plugins.modules.cinder_volume import predict_attachment, same_attachment
from ansible_collections.opensandbox.cloud.plugins.modules.cinder_volume_type import same_qos

ATTACHED = {"server_id": "s1", "device": "/dev/vdb", "attachment_id": "a1", "attached_at": "t"}


def test_check_mode_predicts_an_attachment():
    after = {"status": "available", "attachments": [], "attached_to": "s2"}
    predict_attachment(after, "s2", "/dev/vdc")
    assert after["status"] == "in-use"
    assert after["attachments"] == [
        {"server_id": "s2", "device": "/dev/vdc", "attachment_id": None, "attached_at": None}
    ]


def test_check_mode_predicts_a_move_and_a_detachment():
    moved = {"status": "in-use", "attachments": [ATTACHED], "attached_to": "s2"}
    predict_attachment(moved, "s2", None)
    assert [a["server_id"] for a in moved["attachments"]] == ["s2"] and moved["attached_to"] == "s2"
    detached = {"status": "in-use", "attachments": [ATTACHED], "attached_to": ""}
    predict_attachment(detached, "", None)
    assert detached == {"status": "available", "attachments": [], "attached_to": None}


def test_a_kept_attachment_is_kept_as_it_is():
    kept = {"status": "in-use", "attachments": [ATTACHED], "attached_to": "s1"}
    predict_attachment(kept, "s1", "/dev/other")
    assert kept["attachments"] == [ATTACHED]


def test_detached_is_none_or_empty():
    assert same_attachment(None, "") and same_attachment("s1", "s1") and not same_attachment("s1", "")


def test_qos_compares_without_the_id():
    have = {"id": "q1", "name": "gold", "consumer": "both", "specs": {"a": "1"}}
    assert same_qos(have, {"name": "gold", "consumer": "both", "specs": {"a": "1"}})
    assert not same_qos(have, {"name": "gold", "consumer": "front-end", "specs": {"a": "1"}})
    assert same_qos(None, {"name": "", "consumer": "back-end", "specs": {}})
    assert not same_qos(have, {"name": "", "consumer": "back-end", "specs": {}})
