# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pure parts of _sandbox: how a wish is compared with what Heat stored."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

from ansible_collections.opensandbox.cloud.plugins.module_utils._sandbox import (
    finished,
    never,
    normalized_environment,
    plain_data,
    same_data,
    settled,
)


def test_yaml_dates_become_the_strings_heat_stores():
    template = {"heat_template_version": datetime.date(2018, 8, 31), "resources": {"a": {"type": "T"}}}
    assert plain_data(template) == {"heat_template_version": "2018-08-31", "resources": {"a": {"type": "T"}}}
    assert same_data(template, {"resources": {"a": {"type": "T"}}, "heat_template_version": "2018-08-31"})
    assert same_data({"l": (1, 2)}, {"l": [1, 2]})
    assert not same_data({"l": [1, 2]}, {"l": [2, 1]})


def test_parameters_merge_into_the_environment_as_heat_stores_it():
    wished = normalized_environment({"parameters": {"a": 1}, "parameter_defaults": {"b": 2}}, {"c": 3})
    assert wished == {"parameters": {"a": 1, "c": 3}, "parameter_defaults": {"b": 2}}


def test_empty_sections_of_a_stored_environment_do_not_count():
    stored = {
        "parameters": {},
        "parameter_defaults": {},
        "resource_registry": {"resources": {}},
        "event_sinks": [],
        "encrypted_param_names": [],
    }
    assert normalized_environment(stored) == {}
    assert normalized_environment(None, {}) == {}
    registry = {"resource_registry": {"My::T": "t.yaml", "resources": {}}}
    assert normalized_environment(registry) == {"resource_registry": {"My::T": "t.yaml"}}


def test_a_stack_is_settled_unless_an_action_is_in_progress():
    assert settled(SimpleNamespace(status="CREATE_COMPLETE"))
    assert settled(SimpleNamespace(status="ROLLBACK_FAILED"))
    assert not settled(SimpleNamespace(status="UPDATE_IN_PROGRESS"))
    assert never(SimpleNamespace(status="CREATE_FAILED")) is False


def test_a_failed_action_heat_will_roll_back_is_not_finished():
    def stack(status, rollback_disabled):
        return SimpleNamespace(status=status, is_rollback_disabled=rollback_disabled)

    assert not finished(stack("CREATE_FAILED", False))  # ROLLBACK_IN_PROGRESS comes next
    assert not finished(stack("UPDATE_FAILED", False))
    assert finished(stack("CREATE_FAILED", True))
    assert finished(stack("ROLLBACK_COMPLETE", False))
    assert finished(stack("DELETE_FAILED", False))
    assert not finished(stack("ROLLBACK_IN_PROGRESS", False))
