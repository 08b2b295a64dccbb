# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""runner_instance's pure parts: names, user data, security-group rules, the reconcile plan."""

from __future__ import annotations

import itertools
import shlex
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from ansible_collections.opensandbox.cloud.plugins.module_utils import _runner_fleet as rf

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
META = {"prefix": "ci", "platform_name": "github", "url": "https://github.com/o/r"}


def test_runner_names_are_prefix_and_twelve_hex_digits():
    name = rf.new_runner_name("ci")
    assert rf.runner_name_pattern("ci").match(name)
    assert len(name) == len("ci-") + 12


def test_new_runner_name_avoids_taken_names():
    tokens = itertools.chain(["aaaaaaaaaaaa", "aaaaaaaaaaaa"], itertools.repeat("bbbbbbbbbbbb"))
    name = rf.new_runner_name("ci", taken={"ci-aaaaaaaaaaaa"}, token_hex=lambda n: next(tokens))
    assert name == "ci-bbbbbbbbbbbb"


@pytest.mark.parametrize(
    ("prefix", "problem"),
    [
        ("ci", None),
        ("ci.jammy_x64-1", None),
        ("a" * 51, None),
        ("a" * 52, "at most 51"),
        ("-ci", "start and end"),
        ("ci/x", "start and end"),
        ("", "start and end"),
    ],
)
def test_prefix_check(prefix, problem):
    result = rf.check_prefix(prefix)
    assert (result is None) if problem is None else (problem in result)


def test_label_and_path_checks():
    assert rf.check_labels(["self-hosted", "jammy"]) is None
    assert "commas" in rf.check_labels(["a,b"])
    assert "commas" in rf.check_labels([""])
    assert rf.check_github_path("org") is None
    assert rf.check_github_path("owner/repo") is None
    assert "OWNER/REPO" in rf.check_github_path("a/b/c")
    assert rf.github_url("owner/repo") == "https://github.com/owner/repo"
    assert rf.github_url("org", "https://ghe.example.com/") == "https://ghe.example.com/org"


def test_is_runner_needs_both_metadata_and_name():
    assert rf.is_runner({"name": "ci-0123456789ab", "metadata": META}, "ci")
    assert not rf.is_runner({"name": "ci-0123456789ab", "metadata": {}}, "ci"), "a hand-made server"
    assert not rf.is_runner({"name": "ci-large-0123456789ab", "metadata": {**META, "prefix": "ci-large"}}, "ci")
    assert not rf.is_runner({"name": "web-1", "metadata": META}, "ci")


SPEC = rf.RunnerSpec(
    url="https://github.com/o/r",
    labels=("self-hosted", "jammy"),
    registration_token="AAAA-token; rm -rf /",
    http_proxy="http://p:3128",
    environment={"FOO": "bar"},
)


def test_runner_user_data_registers_then_runs_then_powers_off():
    text = rf.runner_user_data(SPEC, "ci-0123456789ab")
    assert text.startswith("#cloud-config\n")
    config = yaml.safe_load(text)
    (env_file,) = config["write_files"]
    assert env_file["path"] == "/opt/actions-runner/.env"
    assert env_file["permissions"] == "0600"
    lines = env_file["content"].splitlines()
    assert {"LANG=C.UTF-8", "http_proxy=http://p:3128", "HTTP_PROXY=http://p:3128", "FOO=bar"} <= set(lines)
    configure, run, poweroff = config["runcmd"]
    assert configure.startswith("cd /opt/actions-runner && runuser -u runner -- ")
    argv = shlex.split(configure.split(" -- ", 1)[1])
    assert argv == [
        "./config.sh",
        "--url",
        "https://github.com/o/r",
        "--token",
        "AAAA-token; rm -rf /",
        "--ephemeral",
        "--unattended",
        "--labels",
        "self-hosted,jammy",
        "--name",
        "ci-0123456789ab",
    ]
    assert run.endswith("-- ./run.sh")
    assert poweroff == "systemctl poweroff"


def test_runner_group_is_passed_when_given():
    spec = rf.RunnerSpec(url="u", labels=("x",), registration_token="t", runner_group="ops")
    assert rf.config_command(spec, "n")[-2:] == ["--runnergroup", "ops"]


def test_no_labels_no_labels_option():
    spec = rf.RunnerSpec(url="u", labels=(), registration_token="t")
    assert "--labels" not in rf.config_command(spec, "n")


def test_wanted_and_missing_rules():
    wanted = rf.wanted_rules([8080, 22, 8080])
    assert [r.get("port_range_min") for r in wanted] == [None, 22, 8080]
    existing = [
        {"direction": "egress", "ethertype": "IPv4", "protocol": None},
        {
            "direction": "ingress",
            "ethertype": "IPv4",
            "protocol": "tcp",
            "port_range_min": 22,
            "port_range_max": 22,
            "remote_ip_prefix": "0.0.0.0/0",
        },
    ]
    missing = rf.missing_rules(existing, wanted)
    assert [(r["protocol"], r.get("port_range_min")) for r in missing] == [("icmp", None), ("tcp", 8080)]
    assert rf.missing_rules(existing + missing, wanted) == []


def server(name, status="ACTIVE", age=60, sid=None, **extra):
    return {
        "id": sid or f"id-{name}-{age}",
        "name": name,
        "status": status,
        "created_at": (NOW - timedelta(seconds=age)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "metadata": dict(META),
        "key_name": name,
        **extra,
    }


def names(servers):
    return sorted(s["name"] for s in servers)


def reasons(plan):
    return {r.server["id"]: r.reason for r in plan.remove}


def test_health_rules():
    assert rf.health(server("a"), NOW, 600) is None
    assert rf.health(server("a", "BUILD", age=599), NOW, 600) is None
    assert "more than build_timeout" in rf.health(server("a", "BUILD", age=601), NOW, 600)
    assert "ERROR: boom" in rf.health(server("a", "ERROR", fault={"message": "boom"}), NOW, 600)
    assert "SHUTOFF" in rf.health(server("a", "SHUTOFF"), NOW, 600)
    assert rf.health({"status": "BUILD"}, NOW, 600) is None, "no creation time: not judged overdue"


def test_plan_creates_missing_runners():
    plan = rf.plan_reconcile([server("ci-000000000001")], prefix="ci", count=3, build_timeout=600, now=NOW)
    assert names(plan.keep) == ["ci-000000000001"]
    assert plan.create == 2
    assert plan.remove == []
    assert plan.changes


def test_plan_removes_error_and_overdue_and_replaces_them():
    servers = [
        server("ci-000000000001"),
        server("ci-000000000002", "ERROR"),
        server("ci-000000000003", "BUILD", age=700),
        server("ci-000000000004", "BUILD", age=10),
        server("web-1"),
        {**server("ci-000000000005"), "metadata": {}},
    ]
    plan = rf.plan_reconcile(servers, prefix="ci", count=3, build_timeout=600, now=NOW)
    assert names(plan.keep) == ["ci-000000000001", "ci-000000000004"]
    assert sorted(r.server["name"] for r in plan.remove) == ["ci-000000000002", "ci-000000000003"]
    assert plan.create == 1


def test_plan_is_a_no_op_when_all_is_well():
    servers = [server(f"ci-00000000000{i}") for i in range(3)]
    plan = rf.plan_reconcile(servers, prefix="ci", count=3, build_timeout=600, now=NOW, key_names=["ci-000000000000"])
    assert not plan.changes
    assert len(plan.keep) == 3


def test_duplicates_of_a_name_keep_the_newest_healthy_one():
    servers = [
        server("ci-000000000001", age=30, sid="new-error", status="ERROR"),
        server("ci-000000000001", age=60, sid="mid"),
        server("ci-000000000001", age=90, sid="old"),
    ]
    plan = rf.plan_reconcile(servers, prefix="ci", count=1, build_timeout=600, now=NOW)
    assert [s["id"] for s in plan.keep] == ["mid"]
    assert set(reasons(plan)) == {"new-error", "old"}
    assert all(r.startswith("duplicate of ci-000000000001 (mid)") for r in reasons(plan).values())
    assert plan.create == 0


def test_scaling_down_removes_building_runners_first_then_the_newest():
    servers = [
        server("ci-000000000001", age=300),
        server("ci-000000000002", age=200),
        server("ci-000000000003", age=100),
        server("ci-000000000004", "BUILD", age=5),
    ]
    plan = rf.plan_reconcile(servers, prefix="ci", count=2, build_timeout=600, now=NOW)
    assert names(plan.keep) == ["ci-000000000001", "ci-000000000002"]
    assert sorted(r.server["name"] for r in plan.remove) == ["ci-000000000003", "ci-000000000004"]
    assert all("more than count" in r.reason for r in plan.remove)


def test_absent_removes_every_runner_and_key_of_the_prefix():
    other = {**server("ci-large-000000000001"), "metadata": {**META, "prefix": "ci-large"}}
    servers = [server("ci-000000000001"), server("ci-000000000002", "ERROR"), other]
    keys = ["ci-000000000001", "ci-0000000000ff", "ci-large-000000000001", "mykey"]
    plan = rf.plan_reconcile(servers, prefix="ci", count=3, build_timeout=600, now=NOW, key_names=keys, absent=True)
    assert plan.keep == []
    assert plan.create == 0
    assert sorted(r.server["name"] for r in plan.remove) == ["ci-000000000001", "ci-000000000002"]
    assert plan.orphan_keys == ["ci-0000000000ff"], "the removed runners' own keys go with them"


def test_servers_being_deleted_are_neither_counted_nor_removed_again():
    servers = [server("ci-000000000001", task_state="deleting"), server("ci-000000000002", "DELETED")]
    plan = rf.plan_reconcile(servers, prefix="ci", count=1, build_timeout=600, now=NOW)
    assert plan.remove == []
    assert len(plan.going) == 2
    assert plan.create == 1


def test_own_key_is_only_the_per_runner_key():
    assert rf.own_key({"name": "ci-1", "key_name": "ci-1"}) == "ci-1"
    assert rf.own_key({"name": "ci-1", "key_name": "shared"}) is None
    assert rf.own_key({"name": "ci-1"}) is None


def test_parse_time():
    assert rf.parse_time("2024-05-01T12:00:00Z") == NOW
    assert rf.parse_time("2024-05-01T12:00:00.000000") == NOW
    assert rf.parse_time("soon") is None
    assert rf.parse_time(None) is None
