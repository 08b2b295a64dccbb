# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure helpers of runner_image (private to the opensandbox.cloud collection).

What a build is: the cloud-config user data a builder server runs, the digest that
says which inputs an image was built from, the image properties that record it,
and which revisions of an image name to keep or prune.  Nothing here talks to a
cloud, so it is unit-tested without one.

The build follows what image builders do on real clouds: the builder boots a base
image, cloud-init installs the runner application and the packages, and the
cloud-config ends with ``power_state: poweroff`` so the builder reaches SHUTOFF
when (and only when) the build script succeeded; the module then snapshots it.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

try:
    import yaml
except ImportError:  # pragma: no cover - openstacksdk depends on PyYAML
    yaml = None

#: Bumped when the build user data changes in a way that changes the image, so
#: images built by an older collection are rebuilt once.
BUILD_FORMAT = "1"

#: Where the runner application lives in the image, and who runs it.
RUNNER_DIR = "/opt/actions-runner"
RUNNER_USER = "runner"
BUILD_DIR = "/var/lib/runner-build"
BUILD_DONE = f"{BUILD_DIR}/done"

#: GitHub's release archive of the runner application; {version} and {arch} are filled in.
DEFAULT_RUNNER_URL = (
    "https://github.com/actions/runner/releases/download/v{version}/actions-runner-linux-{arch}-{version}.tar.gz"
)

#: The runner application's architecture names, and Glance's ``architecture`` property for each.
ARCHITECTURES = {"x64": "x86_64", "arm64": "aarch64"}

#: Packages the build always needs: to download and unpack the runner, and git for checkouts.
BASE_PACKAGES = ("ca-certificates", "curl", "git", "jq", "tar")

#: Image properties the module writes (besides ``architecture``); the digest marks a revision as ours.
PROP_VERSION = "runner_version"
PROP_BASE_IMAGE = "runner_base_image"
PROP_BASE_IMAGE_ID = "runner_base_image_id"
PROP_DIGEST = "runner_inputs_digest"
PROP_BUILT_AT = "runner_build_time"
PROP_SOURCE = "runner_source"
MANAGED_PROPERTIES = (
    "architecture",
    PROP_VERSION,
    PROP_BASE_IMAGE,
    PROP_BASE_IMAGE_ID,
    PROP_DIGEST,
    PROP_BUILT_AT,
    PROP_SOURCE,
)

#: Glance statuses of an image that is still being made (possibly by a concurrent run): never pruned.
IN_PROGRESS = frozenset({"queued", "saving", "importing", "uploading"})


@dataclass(frozen=True)
class BuildSpec:
    """What a build installs.  ``runner_url`` may hold ``{version}`` and ``{arch}``."""

    runner_version: str
    runner_url: str = DEFAULT_RUNNER_URL
    architecture: str = "x64"
    apt_packages: tuple[str, ...] = ()
    docker: bool = True
    http_proxy: str | None = None
    https_proxy: str | None = None
    no_proxy: str | None = None
    build_script: str | None = None

    @property
    def download_url(self) -> str:
        return self.runner_url.format(version=self.runner_version, arch=self.architecture)

    @property
    def packages(self) -> list[str]:
        """Base packages, docker's, then the user's, each once, in that order."""
        wanted = [*BASE_PACKAGES, *(("docker.io",) if self.docker else ()), *self.apt_packages]
        return list(dict.fromkeys(wanted))

    def proxy_environment(self) -> dict[str, str]:
        return proxy_environment(self.http_proxy, self.https_proxy, self.no_proxy)


def proxy_environment(http_proxy: str | None, https_proxy: str | None, no_proxy: str | None) -> dict[str, str]:
    """The proxy variables that are set, in both spellings tools read (``http_proxy``, ``HTTP_PROXY``)."""
    env: dict[str, str] = {}
    for name, value in (("http_proxy", http_proxy), ("https_proxy", https_proxy), ("no_proxy", no_proxy)):
        if value:
            env[name] = value
            env[name.upper()] = value
    return env


def check_runner_url(url: str) -> str | None:
    """Return why ``url`` cannot be used as ``runner_url``, or None if it can."""
    try:
        url.format(version="1", arch="x64")
    except (KeyError, IndexError, ValueError) as exc:
        return f"runner_url may only use the placeholders {{version}} and {{arch}}: {exc}"
    if not url.startswith(("http://", "https://", "file://")):
        return "runner_url must be an http://, https:// or file:// URL"
    return None


def inputs_digest(spec: BuildSpec, base_image_id: str) -> str:
    """The digest of everything that makes the image what it is: same inputs, same digest.

    The flavor, network and timeout only say how the build runs, not what it makes, so
    they are left out; package order and duplicates do not matter.
    """
    inputs = {
        "format": BUILD_FORMAT,
        "base_image_id": base_image_id,
        "runner_version": spec.runner_version,
        "runner_url": spec.download_url,
        "architecture": spec.architecture,
        "apt_packages": sorted(set(spec.apt_packages)),
        "docker": spec.docker,
        "http_proxy": spec.http_proxy or "",
        "https_proxy": spec.https_proxy or "",
        "no_proxy": spec.no_proxy or "",
        "build_script": spec.build_script or "",
    }
    return _sha256_json(inputs)


def file_digest(sha256_hex: str, architecture: str, runner_version: str | None) -> str:
    """The digest of an uploaded prebuilt image: its content and what it says it is."""
    return _sha256_json(
        {
            "format": BUILD_FORMAT,
            "source": "file",
            "sha256": sha256_hex,
            "architecture": architecture,
            "runner_version": runner_version or "",
        }
    )


def _sha256_json(value: Mapping[str, Any]) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def build_script(spec: BuildSpec) -> str:
    """The shell script cloud-init runs on the builder; it stops at the first failing step."""
    url = shlex.quote(spec.download_url)
    lines = [
        "#!/bin/bash",
        "# Written by opensandbox.cloud.runner_image: installs the GitHub Actions runner.",
        "set -euo pipefail",
        'echo "runner-build: start"',
        f"mkdir -p {RUNNER_DIR} {BUILD_DIR}",
        f"curl -fsSL --retry 5 -o {BUILD_DIR}/runner.tar.gz {url}",
        f"tar -xzf {BUILD_DIR}/runner.tar.gz -C {RUNNER_DIR}",
        f"rm -f {BUILD_DIR}/runner.tar.gz",
        # The runner ships the script that installs the libraries it needs.
        f"if [ -x {RUNNER_DIR}/bin/installdependencies.sh ]; then {RUNNER_DIR}/bin/installdependencies.sh; fi",
    ]
    if spec.docker:
        lines += [
            f"usermod -aG docker {RUNNER_USER}",
            "systemctl enable docker",
        ]
    lines.append(f"chown -R {RUNNER_USER}:{RUNNER_USER} {RUNNER_DIR}")
    if spec.build_script:
        lines.append(f'echo "runner-build: {BUILD_DIR}/extra.sh"')
        lines.append(f"bash {BUILD_DIR}/extra.sh")
    lines += [
        "apt-get clean",
        f"touch {BUILD_DONE}",
        'echo "runner-build: done"',
    ]
    return "\n".join(lines) + "\n"


def _docker_proxy(spec: BuildSpec) -> tuple[str, str] | None:
    """Docker daemon's systemd drop-in and the docker client's config.json, if a proxy is set."""
    daemon_env = {k: v for k, v in spec.proxy_environment().items() if k.isupper()}
    if not daemon_env:
        return None
    unit = "[Service]\n" + "".join(f'Environment="{k}={v}"\n' for k, v in daemon_env.items())
    client = {
        "proxies": {
            "default": {
                key: value
                for key, value in (
                    ("httpProxy", spec.http_proxy),
                    ("httpsProxy", spec.https_proxy),
                    ("noProxy", spec.no_proxy),
                )
                if value
            }
        }
    }
    return unit, json.dumps(client, indent=2) + "\n"


def build_cloud_config(spec: BuildSpec) -> dict[str, Any]:
    """The builder's cloud-config as a dict (see ``build_user_data`` for the text)."""
    env = spec.proxy_environment()
    files: list[dict[str, Any]] = [
        {"path": f"{BUILD_DIR}/build.sh", "permissions": "0755", "content": build_script(spec)},
    ]
    if spec.build_script:
        files.append({"path": f"{BUILD_DIR}/extra.sh", "permissions": "0755", "content": spec.build_script})
    if env:
        files.append(
            {
                "path": "/etc/environment",
                "append": True,
                "content": "".join(f"{k}={v}\n" for k, v in env.items()),
            }
        )
    docker_proxy = _docker_proxy(spec) if spec.docker else None
    if docker_proxy:
        unit, client = docker_proxy
        files.append({"path": "/etc/systemd/system/docker.service.d/http-proxy.conf", "content": unit})
        # Files of the runner user are written once the user exists (cloud-init's final stage).
        files.append(
            {
                "path": f"/home/{RUNNER_USER}/.docker/config.json",
                "content": client,
                "owner": f"{RUNNER_USER}:{RUNNER_USER}",
                "defer": True,
            }
        )
    config: dict[str, Any] = {}
    apt: dict[str, str] = {}
    if spec.http_proxy:
        apt["http_proxy"] = spec.http_proxy
    if spec.https_proxy:
        apt["https_proxy"] = spec.https_proxy
    if apt:
        config["apt"] = apt
    config.update(
        {
            # The default user stays; the runner user runs the runner (config.sh refuses root).
            "users": ["default", {"name": RUNNER_USER, "shell": "/bin/bash", "lock_passwd": True}],
            "package_update": True,
            "packages": spec.packages,
            "write_files": files,
            "runcmd": [["bash", f"{BUILD_DIR}/build.sh"]],
            # Power off only after a successful build, so a broken image is never snapshotted.
            "power_state": {
                "mode": "poweroff",
                "message": "runner image build finished",
                "timeout": 30,
                "condition": ["test", "-f", BUILD_DONE],
            },
        }
    )
    return config


def build_user_data(spec: BuildSpec) -> str:
    """The builder's user data: a ``#cloud-config`` document."""
    return "#cloud-config\n" + dump_yaml(build_cloud_config(spec))


def dump_yaml(value: Any) -> str:
    """YAML for cloud-init: block style, keys in the order given, multi-line text as ``|`` blocks."""
    if yaml is None:  # pragma: no cover
        raise RuntimeError("PyYAML is needed to write cloud-config (it comes with openstacksdk)")
    return yaml.dump(value, Dumper=_BlockDumper, default_flow_style=False, sort_keys=False, width=1000)


if yaml is not None:

    class _BlockDumper(yaml.SafeDumper):
        """Writes multi-line strings as literal blocks, so scripts read as scripts."""

    def _str(dumper: Any, value: str) -> Any:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    _BlockDumper.add_representer(str, _str)


def image_properties(
    spec: BuildSpec | None,
    *,
    digest: str,
    source: str,
    base_image: Mapping[str, Any] | None,
    built_at: str,
    architecture: str,
    runner_version: str | None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """The properties an image revision carries: the user's, then what the module records."""
    props = {str(k): str(v) for k, v in (extra or {}).items()}
    props["architecture"] = ARCHITECTURES[architecture]
    if runner_version or spec:
        props[PROP_VERSION] = runner_version or spec.runner_version  # type: ignore[union-attr]
    if base_image:
        props[PROP_BASE_IMAGE] = str(base_image.get("name") or base_image["id"])
        props[PROP_BASE_IMAGE_ID] = str(base_image["id"])
    props[PROP_DIGEST] = digest
    props[PROP_BUILT_AT] = built_at
    props[PROP_SOURCE] = source
    return props


def properties_to_update(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> dict[str, str]:
    """The user properties whose value on the current image differs from the wanted one."""
    return {str(k): str(v) for k, v in wanted.items() if k not in current or str(current[k]) != str(v)}


# -- revisions ------------------------------------------------------------------------


@dataclass
class Revisions:
    """The images of one name, newest first, split by what happens to them."""

    current: dict[str, Any] | None
    kept: list[dict[str, Any]] = field(default_factory=list)
    prune: list[dict[str, Any]] = field(default_factory=list)
    in_use: list[dict[str, Any]] = field(default_factory=list)


def is_revision(image: Mapping[str, Any], name: str) -> bool:
    """Whether an image is a revision of ``name`` made by this module (it carries the digest)."""
    return image.get("name") == name and bool(_props(image).get(PROP_DIGEST))


def _props(image: Mapping[str, Any]) -> Mapping[str, Any]:
    """Image properties, whether the dict has them nested under ``properties`` or at the top."""
    nested = image.get("properties")
    return nested if isinstance(nested, Mapping) else image


def digest_of(image: Mapping[str, Any]) -> str | None:
    return _props(image).get(PROP_DIGEST)


def newest_first(images: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Sort revisions newest first: by build time, then Glance's created_at, then id (stable)."""

    def key(image: Mapping[str, Any]) -> tuple[str, str, str]:
        return (
            str(_props(image).get(PROP_BUILT_AT) or ""),
            str(image.get("created_at") or ""),
            str(image.get("id") or ""),
        )

    return [dict(image) for image in sorted(images, key=key, reverse=True)]


def current_revision(images: Iterable[Mapping[str, Any]], name: str) -> dict[str, Any] | None:
    """The revision runners boot from: the newest active one."""
    for image in newest_first(i for i in images if is_revision(i, name)):
        if image.get("status") == "active":
            return image
    return None


def plan_revisions(
    images: Iterable[Mapping[str, Any]],
    name: str,
    keep: int | None,
    used_image_ids: Iterable[str] = (),
) -> Revisions:
    """Decide which revisions of ``name`` to keep and which to prune.

    Nothing is pruned when ``keep`` is None.  Otherwise the newest ``keep`` active
    revisions are kept; of the rest, images a server still uses and images still being
    made are kept too, and everything else (older active ones, failed or deactivated
    ones) is pruned.
    """
    used = set(used_image_ids)
    revisions = newest_first(i for i in images if is_revision(i, name))
    result = Revisions(current=current_revision(revisions, name))
    active_kept = 0
    for image in revisions:
        status = image.get("status")
        if status == "active" and (keep is None or active_kept < keep):
            active_kept += 1
            result.kept.append(image)
        elif image.get("id") in used:
            result.kept.append(image)
            result.in_use.append(image)
        elif keep is None or status in IN_PROGRESS:
            result.kept.append(image)
        else:
            result.prune.append(image)
    return result


def needs_build(current: Mapping[str, Any] | None, digest: str, force: bool) -> str | None:
    """Why a new revision must be made, or None when the current one already is what is wanted."""
    if force:
        return "force is true"
    if current is None:
        return "there is no active image of this name yet"
    if digest_of(current) != digest:
        return "the build inputs changed"
    return None
