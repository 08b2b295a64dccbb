# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The state kit without a cloud: ensure/diff, find, waits, plain dicts, 409 retries.

The inputs are real openstacksdk resources and exceptions held by a small stand-in for the
Block Storage proxy (kit_fakes); the kit itself runs unchanged.
"""

from __future__ import annotations

import dataclasses
import datetime
import time

import pytest
from openstack.block_storage.v3.message import Message
from openstack.block_storage.v3.volume import Volume

from ansible_collections.opensandbox.cloud.plugins.module_utils import _module
from ansible_collections.opensandbox.cloud.plugins.module_utils._errors import best_effort
from ansible_collections.opensandbox.cloud.plugins.module_utils._kinds import SERVER, VOLUME, pool_of_host
from ansible_collections.opensandbox.cloud.plugins.module_utils._resources import find, plain, to_dict
from ansible_collections.opensandbox.cloud.plugins.module_utils._state import (
    StateResult,
    build_diff,
    differences,
    ensure_absent,
    ensure_named_set,
    ensure_present,
)
from ansible_collections.opensandbox.cloud.plugins.module_utils._wait import (
    FAILED,
    READY,
    TIMED_OUT,
    Backoff,
    describe,
    is_failure_status,
    wait_for,
    wait_for_delete,
    wait_for_delete_all,
    wait_settled,
)
from ansible_collections.opensandbox.cloud.tests.unit.plugins.module_utils.kit_fakes import exit_result

FAST = Backoff(initial=0.001, factor=2.0, cap=0.005)


def volume_attrs(**extra):
    attrs = {
        "id": "v1",
        "name": "data",
        "size": 1,
        "status": "available",
        "description": None,
        "metadata": {},
        "attachments": [],
        "bootable": "false",
    }
    attrs.update(extra)
    return attrs


# -- plain dicts ------------------------------------------------------------------------------------


def test_to_dict_has_exactly_the_kind_fields_even_when_the_cloud_omits_some():
    view = to_dict(VOLUME, Volume(id="v1", name="data", size=2, status="available"))
    assert list(view) == VOLUME.keys()
    assert view["size"] == 2
    assert view["bootable"] is None
    assert view["attachments"] == []
    assert view["metadata"] == {}
    assert to_dict(VOLUME, None) is None


def test_to_dict_reads_cinder_fields_into_plain_data():
    volume = Volume(
        **volume_attrs(
            bootable="true",
            volume_image_metadata={"image_id": "img-1"},
            attachments=[
                {"server_id": "s2", "device": "/dev/vdc", "attachment_id": "a2", "attached_at": "t"},
                {"server_id": "s1", "device": "/dev/vdb", "attachment_id": "a1", "attached_at": "t"},
            ],
            **{"os-vol-host-attr:host": "stacksim@lvm#pool-b"},
        )
    )
    view = to_dict(VOLUME, volume)
    assert view["bootable"] is True
    assert view["image_id"] == "img-1"
    assert [a["server_id"] for a in view["attachments"]] == ["s1", "s2"]
    assert view["pool"] == "pool-b"
    assert pool_of_host("stacksim@lvm") is None


def test_plain_turns_sdk_values_into_json_data():
    moment = datetime.datetime(2025, 1, 2, 3, 4, 5)
    value = {
        "when": moment,
        "tags": {"b", "a"},
        "pair": (1, 2),
        "volume": Volume(id="v1", name="x"),
        "location": "dropped",
        "raw": b"bytes",
    }
    out = plain(value)
    assert out["when"] == "2025-01-02T03:04:05"
    assert out["tags"] == ["a", "b"]
    assert out["pair"] == [1, 2]
    assert out["volume"]["id"] == "v1" and "location" not in out["volume"]
    assert "location" not in out
    assert out["raw"] == "bytes"


# -- find -------------------------------------------------------------------------------------------


def test_find_by_id_first_then_by_exact_name(make_module):
    module = make_module()
    cinder = module.conn.block_storage
    cinder.add(**volume_attrs(id="v1", name="data"))
    cinder.add(**volume_attrs(id="v2", name="data-2"))
    assert find(module, VOLUME, "v2").name == "data-2"
    assert find(module, VOLUME, "data").id == "v1"
    assert ("volumes", {"name": "data"}) in cinder.calls
    assert find(module, VOLUME, "dat") is None


def test_find_always_passes_the_kinds_list_query(make_module):
    module = make_module()
    cinder = module.conn.block_storage
    cinder.add(**volume_attrs(id="v1", name="data", status="error"))
    cinder.add(**volume_attrs(id="v2", name="data", status="available"))
    only_available = dataclasses.replace(VOLUME, list_query={"status": "available"})
    assert find(module, only_available, "data").id == "v2"
    assert ("volumes", {"status": "available", "name": "data"}) in cinder.calls


def test_find_fails_listing_the_ids_when_two_share_the_name(capsys, make_module):
    module = make_module()
    module.conn.block_storage.add(**volume_attrs(id="v9", name="twin"))
    module.conn.block_storage.add(**volume_attrs(id="v3", name="twin"))
    result = exit_result(capsys, lambda: find(module, VOLUME, "twin"))
    assert result["failed"] is True
    assert "2 volumes are named 'twin'" in result["msg"]
    assert "(ids v3, v9)" in result["msg"]


def test_find_required_names_what_is_missing_and_where(capsys, make_module):
    module = make_module()
    msg = exit_result(capsys, lambda: find(module, VOLUME, "nope", required=True))["msg"]
    assert msg.startswith("No volume named 'nope' on cloud 'fake'")
    assert "\n" not in msg


# -- ensure_present ---------------------------------------------------------------------------------


def updates_for(module):
    cinder = module.conn.block_storage
    return {
        "size": lambda v, ch: module.call(cinder.extend_volume, v, ch["size"]),
        ("name", "description"): lambda v, ch: module.call(cinder.update_volume, v, **ch),
    }


def create_for(module):
    return lambda wish: module.call(module.conn.block_storage.create_volume, name=wish["name"], size=wish["size"])


def test_create_in_check_mode_writes_nothing_and_predicts_the_view(make_module):
    module = make_module(check_mode=True)
    result = ensure_present(module, VOLUME, None, {"name": "data", "size": 3}, create=create_for(module))
    changed, before, after = result
    assert changed is True and before is None
    assert after["name"] == "data" and after["size"] == 3 and after["id"] is None
    assert set(after) == set(VOLUME.keys())
    assert module.conn.block_storage.writes() == []
    assert result.diff == {"before": {}, "after": {k: v for k, v in after.items() if k != "updated_at"}}


def test_create_for_real_returns_the_view_of_what_the_cloud_made(make_module):
    module = make_module()
    result = ensure_present(module, VOLUME, None, {"name": "data", "size": 3}, create=create_for(module))
    assert result.changed and result.after["id"] == "vol-1" and result.after["size"] == 3
    assert result.resource.id == "vol-1"
    assert result.actions == ["create volume"]


def test_update_changes_only_differing_fields_with_their_own_calls(make_module):
    module = make_module()
    cinder = module.conn.block_storage
    current = cinder.add(**volume_attrs(size=1, description="old"))
    result = ensure_present(
        module,
        VOLUME,
        current,
        {"name": "data", "size": 2, "description": "new", "metadata": None},
        create=create_for(module),
        updates=updates_for(module),
    )
    assert result.changed
    assert cinder.writes() == [("extend_volume", "v1", 2), ("update_volume", "v1", {"description": "new"})]
    assert (result.before["size"], result.after["size"]) == (1, 2)
    assert result.after["description"] == "new"
    assert [str(d) for d in result.differences] == ["size: 1 -> 2", "description: 'old' -> 'new'"]
    assert result.diff["before"]["size"] == 1 and result.diff["after"]["size"] == 2


def test_update_in_check_mode_predicts_and_writes_nothing(make_module):
    module = make_module(check_mode=True)
    cinder = module.conn.block_storage
    current = cinder.add(**volume_attrs(size=1))
    changed, before, after = ensure_present(
        module, VOLUME, current, {"size": 5}, create=create_for(module), updates=updates_for(module)
    )
    assert changed and before["size"] == 1 and after["size"] == 5
    assert after["id"] == "v1"
    assert cinder.writes() == []


def test_nothing_to_do_is_not_changed(make_module):
    module = make_module()
    cinder = module.conn.block_storage
    current = cinder.add(**volume_attrs(size=2, metadata={"a": "1"}))
    result = ensure_present(
        module,
        VOLUME,
        current,
        {"name": "data", "size": 2, "metadata": {"a": "1"}},
        create=create_for(module),
        updates=updates_for(module),
    )
    assert not result.changed and result.before == result.after and result.actions == []
    assert cinder.writes() == []


def test_a_field_without_an_update_fails_before_anything_changes(capsys, make_module):
    module = make_module()
    cinder = module.conn.block_storage
    current = cinder.add(**volume_attrs(size=1, availability_zone="nova"))
    result = exit_result(
        capsys,
        lambda: ensure_present(
            module,
            VOLUME,
            current,
            {"size": 2, "availability_zone": "other"},
            create=create_for(module),
            updates=updates_for(module),
        ),
    )
    assert "volume 'data' (v1) cannot be changed in place (availability_zone is 'nova', not 'other')" in result["msg"]
    assert cinder.writes() == []


def test_custom_equality_per_field():
    found = differences({"name": "Data"}, {"name": "data"}, equal={"name": lambda a, b: a.lower() == b.lower()})
    assert found == []
    assert differences({"size": 1, "x": None}, {"size": 1, "x": None}) == []


def test_fold_adds_a_separately_managed_part():
    result = StateResult(False, {"id": "v1"}, {"id": "v1"})
    result.fold("snapshots", ["a"], ["a", "b"], ["create snapshot b"])
    assert result.changed and result.after["snapshots"] == ["a", "b"] and result.before["snapshots"] == ["a"]
    created = StateResult(True, None, {"id": "v1"})
    created.fold("snapshots", [], ["a"])
    assert created.before is None and created.after["snapshots"] == ["a"]
    assert created.exit_kwargs("volume")["diff"]["before"] == {}


def test_diff_leaves_out_volatile_keys():
    assert build_diff({"a": 1, "updated_at": "t1"}, None) == {"before": {"a": 1}, "after": {}}


# -- ensure_absent ----------------------------------------------------------------------------------


def test_absent_when_missing_is_not_changed(make_module):
    module = make_module()
    assert tuple(ensure_absent(module, VOLUME, None, delete=lambda v: None)) == (False, None, None)


def test_absent_in_check_mode_reports_the_deletion_without_it(make_module):
    module = make_module(check_mode=True)
    cinder = module.conn.block_storage
    current = cinder.add(**volume_attrs())
    changed, before, after = ensure_absent(module, VOLUME, current, delete=cinder.delete_volume)
    assert changed and before["id"] == "v1" and after is None
    assert cinder.writes() == []


def test_absent_deletes_and_waits_until_gone(make_module):
    module = make_module()
    cinder = module.conn.block_storage
    current = cinder.add(script=["deleting", "deleting", "<gone>"], **volume_attrs())
    result = ensure_absent(module, VOLUME, current, delete=lambda v: None)
    assert result.changed and result.after is None
    assert [c for c in cinder.calls if c[0] == "get_volume"] == [("get_volume", "v1")] * 3


# -- ensure_named_set -------------------------------------------------------------------------------


class Named:
    def __init__(self, name):
        self.name = name


def test_named_set_creates_missing_and_purges_only_when_asked(make_module):
    made, gone = [], []
    module = make_module()
    existing = [Named("a"), Named("old")]
    kept = ensure_named_set(module, existing, ["a", "b"], create=made.append, delete=gone.append)
    assert kept.changed and kept.created == ["b"] and kept.deleted == [] and made == ["b"]
    assert kept.after == ["a", "b", "old"]
    purged = ensure_named_set(module, existing, ["a"], create=made.append, delete=gone.append, purge=True)
    assert purged.deleted == ["old"] and [g.name for g in gone] == ["old"] and purged.after == ["a"]
    assert purged.actions == ["delete old"]


def test_named_set_in_check_mode_calls_nothing(make_module):
    calls = []
    module = make_module(check_mode=True)
    result = ensure_named_set(module, [Named("x")], ["y"], create=calls.append, delete=calls.append, purge=True)
    assert result.changed and result.after == ["y"] and calls == []
    same = ensure_named_set(module, [Named("y")], ["y"], create=calls.append)
    assert not same.changed


# -- waits ------------------------------------------------------------------------------------------


def test_wait_for_reads_afresh_until_ready(make_module):
    module = make_module()
    cinder = module.conn.block_storage
    stale = cinder.add(script=["extending", "extending", "available"], **volume_attrs(status="available"))
    fresh = wait_for(module, VOLUME, stale, ready={"available"}, backoff=FAST)
    assert fresh.status == "available"
    assert len([c for c in cinder.calls if c[0] == "get_volume"]) == 3


def test_wait_for_fails_with_the_clouds_own_reason(capsys, make_module):
    module = make_module()
    cinder = module.conn.block_storage
    volume = cinder.add(script=["creating", "error"], **volume_attrs(status="creating"))
    cinder.messages_list = [
        Message(id="m1", resource_uuid="v1", user_message="older", created_at="2025-01-01T00:00:00"),
        Message(id="m2", resource_uuid="v1", user_message="schedule allocate volume: no room", created_at="2025-01-02"),
        Message(id="m3", resource_uuid="other", user_message="not this one", created_at="2026-01-01"),
    ]
    msg = exit_result(capsys, lambda: wait_for(module, VOLUME, volume, ready={"available"}, backoff=FAST))["msg"]
    assert msg == (
        "volume 'data' (v1) went to status error while the module waited for it to reach status available: "
        "schedule allocate volume: no room"
    )


def test_wait_for_without_a_reason_says_so(capsys, make_module):
    module = make_module()
    volume = module.conn.block_storage.add(script=["error_extending"], **volume_attrs())
    msg = exit_result(capsys, lambda: wait_for(module, VOLUME, volume, ready={"available"}, backoff=FAST))["msg"]
    assert msg.endswith(
        "status error_extending while the module waited for it to reach status available: the cloud gives no reason"
    )


def test_wait_for_times_out_naming_the_goal_and_the_last_status(capsys, make_module):
    module = make_module({"timeout": 1})
    volume = module.conn.block_storage.add(script=["attaching"], **volume_attrs())
    start = time.monotonic()
    msg = exit_result(capsys, lambda: wait_for(module, VOLUME, volume, ready={"in-use"}, timeout=0.05, backoff=FAST))[
        "msg"
    ]
    assert time.monotonic() - start < 1
    assert msg.startswith("Timed out after 0.05 s waiting for volume 'data' (v1) to reach status in-use;")
    assert "its last status was attaching" in msg and "timeout option" in msg


def test_wait_for_a_test_uses_its_description(capsys, make_module):
    module = make_module()
    volume = module.conn.block_storage.add(script=["available"], **volume_attrs())
    msg = exit_result(
        capsys,
        lambda: wait_for(
            module,
            VOLUME,
            volume,
            ready=lambda v: bool(v.attachments),
            what="be attached to server 'web'",
            timeout=0.01,
            backoff=FAST,
        ),
    )["msg"]
    assert "waiting for volume 'data' (v1) to be attached to server 'web'; its last status was available" in msg


def test_wait_for_fails_when_the_resource_disappears(capsys, make_module):
    module = make_module()
    volume = module.conn.block_storage.add(script=["creating", "<gone>"], **volume_attrs())
    msg = exit_result(capsys, lambda: wait_for(module, VOLUME, volume, ready={"available"}, backoff=FAST))["msg"]
    assert msg == "volume 'data' (v1) disappeared while the module waited for it to reach status available"


def test_wait_for_delete_fails_on_error_deleting(capsys, make_module):
    module = make_module()
    volume = module.conn.block_storage.add(script=["deleting", "error_deleting"], **volume_attrs())
    msg = exit_result(capsys, lambda: wait_for_delete(module, VOLUME, volume, backoff=FAST))["msg"]
    assert "went to status error_deleting while the module waited for it to be deleted" in msg


def test_wait_for_delete_waits_through_statuses_the_kind_allows(make_module):
    module = make_module()
    cinder = module.conn.block_storage
    volume = cinder.add(script=["error", "error", "<gone>"], **volume_attrs())
    wait_for_delete(module, dataclasses.replace(VOLUME, delete_failed=()), volume, backoff=FAST)
    assert "v1" not in cinder.volumes_by_id


def test_servers_in_error_are_waited_for_while_they_are_deleted():
    assert SERVER.delete_failed == () and VOLUME.delete_failed is None


def test_wait_for_delete_all_has_one_deadline_and_names_what_is_left(capsys, make_module):
    module = make_module()
    cinder = module.conn.block_storage
    gone = cinder.add(script=["deleting", "<gone>"], **volume_attrs())
    stuck = cinder.add(script=["deleting"], **volume_attrs(id="v2", name="logs"))
    start = time.monotonic()
    msg = exit_result(capsys, lambda: wait_for_delete_all(module, VOLUME, [gone, stuck], timeout=0.05, backoff=FAST))[
        "msg"
    ]
    assert time.monotonic() - start < 1
    assert msg.startswith("Timed out after 0.05 s waiting for volume 'logs' (v2) to be deleted; its last status was ")
    assert "v1" not in cinder.volumes_by_id


def test_wait_settled_says_how_the_wait_ended_without_failing(make_module):
    module = make_module()
    cinder = module.conn.block_storage
    ready = cinder.add(script=["creating", "available"], **volume_attrs())
    failed = cinder.add(script=["error"], **volume_attrs(id="v2"))
    slow = cinder.add(script=["creating"], **volume_attrs(id="v3"))
    done = wait_settled(module, VOLUME, ready, ready={"available"}, backoff=FAST)
    assert (done.ready, done.outcome, done.resource.status, done.message) == (True, READY, "available", "")
    broken = wait_settled(module, VOLUME, failed, ready={"available"}, backoff=FAST)
    assert (broken.ready, broken.outcome, broken.resource.status, broken.reason) == (False, FAILED, "error", None)
    assert broken.message.endswith("went to status error while the module waited for it to reach status available: "
                                   "the cloud gives no reason")  # fmt: skip
    late = wait_settled(module, VOLUME, slow, ready={"available"}, timeout=0.02, backoff=FAST)
    assert (late.outcome, late.resource.status) == (TIMED_OUT, "creating")
    assert late.message.startswith("Timed out after 0.02 s waiting for volume 'data' (v3) to reach status available")


def test_backoff_starts_short_and_is_capped():
    delays = Backoff().delays()
    first = [next(delays) for _step in range(12)]
    assert first[0] == pytest.approx(0.1)
    assert first == sorted(first) and max(first) == 2.0


@pytest.mark.parametrize(
    ("status", "failed"),
    [
        ("error", True),
        ("error_extending", True),
        ("CREATE_FAILED", True),
        ("ERROR", True),
        ("killed", True),
        ("available", False),
        ("in-use", False),
        ("CREATE_COMPLETE", False),
        (None, False),
    ],
)
def test_failure_statuses_of_every_service(status, failed):
    assert is_failure_status(status) is failed


def test_describe_goals():
    assert describe({"available"}) == "reach status available"
    assert describe(["in-use", "available"]) == "reach one of the statuses available, in-use"


# -- 409 retries ------------------------------------------------------------------------------------


def test_conflict_is_retried_then_succeeds(monkeypatch, make_module):
    monkeypatch.setattr(_module, "CONFLICT_BACKOFF", FAST)
    module = make_module()
    cinder = module.conn.block_storage
    volume = cinder.add(**volume_attrs())
    cinder.busy = 2
    module.call_retrying_conflict(cinder.extend_volume, volume, 4)
    assert [c for c in cinder.calls if c[0] == "extend_volume"] == [("extend_volume", "v1", 4)] * 3
    assert cinder.volumes_by_id["v1"].size == 4


def test_conflict_retries_are_bounded(capsys, monkeypatch, make_module):
    monkeypatch.setattr(_module, "CONFLICT_BACKOFF", FAST)
    module = make_module()
    cinder = module.conn.block_storage
    volume = cinder.add(**volume_attrs())
    cinder.busy = 100
    msg = exit_result(capsys, lambda: module.call_retrying_conflict(cinder.extend_volume, volume, 4))["msg"]
    assert len([c for c in cinder.calls if c[0] == "extend_volume"]) == _module.CONFLICT_ATTEMPTS
    assert msg.startswith("block-storage.extend_volume('data', 4) failed on cloud 'fake': HTTP 409 Conflict")


@pytest.mark.parametrize(
    ("script", "timeout", "ending"),
    [
        (["error"], None, "the cloud gives no reason; the failed volume was deleted"),
        (
            ["creating"],
            0.02,
            "Timed out after 0.02 s waiting for volume 'data' (v1) to reach status available; its last status was "
            "creating; the unfinished volume was deleted. Raise the timeout option.",
        ),
    ],
    ids=["failed", "timed-out"],
)
def test_a_failed_or_timed_out_create_is_cleaned_up_and_the_message_says_so(
    capsys, make_module, script, timeout, ending
):
    module = make_module()
    cinder = module.conn.block_storage
    volume = cinder.add(script=script, **volume_attrs(status="creating"))
    msg = exit_result(
        capsys,
        lambda: wait_for(
            module, VOLUME, volume, ready={"available"}, timeout=timeout, cleanup=cinder.delete_volume, backoff=FAST
        ),
    )["msg"]
    assert msg.endswith(ending)
    assert "v1" not in cinder.volumes_by_id


def test_best_effort_reports_instead_of_raising():
    assert best_effort(lambda: None) is None

    def refuse():
        raise RuntimeError("no\n  way")

    assert best_effort(refuse) == "no way"


def test_a_failing_cleanup_is_reported_not_raised(capsys, make_module):
    module = make_module()
    volume = module.conn.block_storage.add(script=["error"], **volume_attrs(status="creating"))

    def refuse(_volume):
        raise RuntimeError("delete refused\nby the cloud")

    msg = exit_result(
        capsys, lambda: wait_for(module, VOLUME, volume, ready={"available"}, cleanup=refuse, backoff=FAST)
    )["msg"]
    assert msg.endswith("deleting the failed volume failed too (delete refused by the cloud), delete it by hand")
