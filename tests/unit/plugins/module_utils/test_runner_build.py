# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""runner_image's pure parts: build user data, inputs digest, revisions."""

from __future__ import annotations

import json

import pytest
import yaml

from ansible_collections.opensandbox.cloud.plugins.module_utils import _runner_build as rb

SPEC = rb.BuildSpec(runner_version="2.319.1")


def load(user_data: str) -> dict:
    assert user_data.startswith("#cloud-config\n")
    return yaml.safe_load(user_data)


def files_by_path(config: dict) -> dict[str, dict]:
    return {f["path"]: f for f in config["write_files"]}


def test_download_url_fills_version_and_arch():
    assert SPEC.download_url == (
        "https://github.com/actions/runner/releases/download/v2.319.1/actions-runner-linux-x64-2.319.1.tar.gz"
    )
    arm = rb.BuildSpec(runner_version="2.1", architecture="arm64", runner_url="https://m/{arch}/{version}.tgz")
    assert arm.download_url == "https://m/arm64/2.1.tgz"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://m/{version}", None),
        ("file:///srv/runner.tgz", None),
        ("https://m/{flavor}", "placeholders"),
        ("ftp://m/x", "http://"),
    ],
)
def test_runner_url_check(url, problem):
    result = rb.check_runner_url(url)
    assert (result is None) if problem is None else (problem in result)


def test_build_user_data_installs_the_runner_and_powers_off_after_success():
    config = load(rb.build_user_data(SPEC))
    assert list(config)[-1] == "power_state", "power_state ends the cloud-config"
    assert config["power_state"]["mode"] == "poweroff"
    assert config["power_state"]["condition"] == ["test", "-f", rb.BUILD_DONE]
    assert config["runcmd"] == [["bash", f"{rb.BUILD_DIR}/build.sh"]]
    script = files_by_path(config)[f"{rb.BUILD_DIR}/build.sh"]["content"]
    assert script.startswith("#!/bin/bash\n")
    assert "set -euo pipefail" in script
    assert SPEC.download_url in script
    assert f"-C {rb.RUNNER_DIR}" in script
    assert script.rstrip().splitlines()[-2] == f"touch {rb.BUILD_DONE}", "done is marked last"
    assert "usermod -aG docker runner" in script
    assert "docker.io" in config["packages"]
    assert config["package_update"] is True
    assert "apt" not in config, "no proxy, no apt proxy"
    assert "/etc/environment" not in files_by_path(config)


def test_build_user_data_without_docker_and_with_packages():
    spec = rb.BuildSpec(runner_version="2.3", docker=False, apt_packages=("make", "curl", "make"))
    config = load(rb.build_user_data(spec))
    assert "docker.io" not in config["packages"]
    assert config["packages"].count("curl") == 1
    assert config["packages"][-1] == "make"
    assert "docker" not in files_by_path(config)[f"{rb.BUILD_DIR}/build.sh"]["content"]


def test_proxies_are_written_for_apt_docker_and_the_environment():
    spec = rb.BuildSpec(
        runner_version="2.3", http_proxy="http://p:3128", https_proxy="http://p:3129", no_proxy="localhost,10.0.0.0/8"
    )
    config = load(rb.build_user_data(spec))
    assert config["apt"] == {"http_proxy": "http://p:3128", "https_proxy": "http://p:3129"}
    files = files_by_path(config)
    environment = files["/etc/environment"]
    assert environment["append"] is True
    for line in ("http_proxy=http://p:3128", "HTTPS_PROXY=http://p:3129", "NO_PROXY=localhost,10.0.0.0/8"):
        assert line in environment["content"].splitlines()
    unit = files["/etc/systemd/system/docker.service.d/http-proxy.conf"]["content"]
    assert unit.startswith("[Service]\n")
    assert 'Environment="HTTP_PROXY=http://p:3128"' in unit
    client = files["/home/runner/.docker/config.json"]
    assert client["defer"] is True
    assert json.loads(client["content"])["proxies"]["default"] == {
        "httpProxy": "http://p:3128",
        "httpsProxy": "http://p:3129",
        "noProxy": "localhost,10.0.0.0/8",
    }


def test_build_script_runs_after_the_runner_is_installed():
    spec = rb.BuildSpec(runner_version="2.3", build_script="#!/bin/sh\necho hello > /etc/motd\n")
    config = load(rb.build_user_data(spec))
    files = files_by_path(config)
    assert files[f"{rb.BUILD_DIR}/extra.sh"]["content"] == spec.build_script
    script = files[f"{rb.BUILD_DIR}/build.sh"]["content"]
    assert script.index("tar -xzf") < script.index("extra.sh") < script.index(f"touch {rb.BUILD_DONE}")


def test_user_data_is_readable_yaml_with_literal_blocks():
    text = rb.build_user_data(SPEC)
    assert "content: |" in text, "scripts are block scalars, not escaped one-liners"


def test_digest_depends_on_what_the_image_holds_only():
    base = rb.inputs_digest(SPEC, "img-1")
    assert base.startswith("sha256:")
    assert rb.inputs_digest(rb.BuildSpec(runner_version="2.319.1"), "img-1") == base
    assert rb.inputs_digest(SPEC, "img-2") != base
    assert rb.inputs_digest(rb.BuildSpec(runner_version="2.320.0"), "img-1") != base
    assert rb.inputs_digest(rb.BuildSpec(runner_version="2.319.1", docker=False), "img-1") != base
    assert rb.inputs_digest(rb.BuildSpec(runner_version="2.319.1", http_proxy="http://p"), "img-1") != base
    assert rb.inputs_digest(rb.BuildSpec(runner_version="2.319.1", build_script="x"), "img-1") != base
    one = rb.inputs_digest(rb.BuildSpec(runner_version="2", apt_packages=("b", "a")), "i")
    assert one == rb.inputs_digest(rb.BuildSpec(runner_version="2", apt_packages=("a", "b", "a")), "i")


def test_file_digest():
    digest = rb.file_digest("ab" * 32, "x64", "2.3")
    assert digest == rb.file_digest("ab" * 32, "x64", "2.3")
    assert digest != rb.file_digest("ab" * 32, "arm64", "2.3")
    assert digest != rb.file_digest("cd" * 32, "x64", "2.3")


def test_image_properties_record_the_build():
    props = rb.image_properties(
        SPEC,
        digest="sha256:x",
        source="build",
        base_image={"id": "b1", "name": "jammy"},
        built_at="2024-01-01T00:00:00Z",
        architecture="x64",
        runner_version=None,
        extra={"os_distro": "ubuntu", "min": 3},
    )
    assert props == {
        "os_distro": "ubuntu",
        "min": "3",
        "architecture": "x86_64",
        "runner_version": "2.319.1",
        "runner_base_image": "jammy",
        "runner_base_image_id": "b1",
        "runner_inputs_digest": "sha256:x",
        "runner_build_time": "2024-01-01T00:00:00Z",
        "runner_source": "build",
    }


def test_properties_to_update():
    assert rb.properties_to_update({"a": "1", "b": "2"}, {"a": 1, "b": "3", "c": "x"}) == {"b": "3", "c": "x"}


def image(image_id, built, status="active", digest="d1", name="runner-jammy"):
    return {
        "id": image_id,
        "name": name,
        "status": status,
        "created_at": built,
        "properties": {rb.PROP_DIGEST: digest, rb.PROP_BUILT_AT: built} if digest else {},
    }


IMAGES = [
    image("a", "2024-01-01T00:00:00Z", digest="d1"),
    image("c", "2024-01-03T00:00:00Z", digest="d3"),
    image("b", "2024-01-02T00:00:00Z", digest="d2"),
    image("q", "2024-01-04T00:00:00Z", status="queued", digest="d4"),
    image("k", "2023-12-31T00:00:00Z", status="killed", digest="d0"),
    image("other", "2024-01-05T00:00:00Z", name="runner-noble"),
    image("foreign", "2024-01-05T00:00:00Z", digest=None),
]


def ids(images):
    return [i["id"] for i in images]


def test_current_is_the_newest_active_revision_of_the_name():
    assert rb.current_revision(IMAGES, "runner-jammy")["id"] == "c"
    assert rb.current_revision(IMAGES, "none") is None


def test_plan_keeps_everything_without_keep_revisions():
    plan = rb.plan_revisions(IMAGES, "runner-jammy", None)
    assert ids(plan.kept) == ["q", "c", "b", "a", "k"]
    assert plan.prune == []


def test_plan_prunes_older_revisions_but_never_one_in_use_or_in_progress():
    plan = rb.plan_revisions(IMAGES, "runner-jammy", 1, used_image_ids={"a"})
    assert plan.current["id"] == "c"
    assert ids(plan.kept) == ["q", "c", "a"]
    assert ids(plan.in_use) == ["a"]
    assert ids(plan.prune) == ["b", "k"]
    assert "foreign" not in ids(plan.kept + plan.prune), "an image not made by the module is never touched"


def test_plan_keep_two():
    plan = rb.plan_revisions(IMAGES, "runner-jammy", 2)
    assert ids(plan.kept) == ["q", "c", "b"]
    assert ids(plan.prune) == ["a", "k"]


def test_needs_build():
    current = image("c", "t", digest="d3")
    assert rb.needs_build(current, "d3", force=False) is None
    assert "force" in rb.needs_build(current, "d3", force=True)
    assert "changed" in rb.needs_build(current, "d4", force=False)
    assert "no active image" in rb.needs_build(None, "d3", force=False)
