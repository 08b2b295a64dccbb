# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure helpers of runner_instance (private to the opensandbox.cloud collection).

Runner names, the user data that registers and starts a runner, the security-group
rules runners need, and the reconcile plan: which servers of a prefix are kept,
which are removed and why, and how many are created.  Nothing here talks to a
cloud, so it is unit-tested without one.

The rules follow GitHub's runner operator on OpenStack: runners are named
``<prefix>-<12 hex digits>`` (at most 64 characters, GitHub's limit for runner
names), carry server metadata naming their prefix, platform and URL, get one key
pair each (named like the server) and a shared security group letting ICMP and
SSH in; a runner is healthy while ACTIVE, or in BUILD for less than the build
timeout.
"""

from __future__ import annotations

import re
import secrets
import shlex
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ansible_collections.opensandbox.cloud.plugins.module_utils._runner_build import (
    RUNNER_DIR,
    RUNNER_USER,
    dump_yaml,
    proxy_environment,
)

# Modules run on Python 3.10 too, which has no datetime.UTC.
_UTC = timezone.utc  # noqa: UP017

SUFFIX_HEX_DIGITS = 12
MAX_NAME_LENGTH = 64
DEFAULT_SECURITY_GROUP = "github-runner-v1"
GITHUB_URL = "https://github.com"

#: Server metadata keys (as the runner operator sets them) that mark a runner.
META_PREFIX = "prefix"
META_PLATFORM = "platform_name"
META_URL = "url"
META_IMAGE = "runner_image"

#: Characters GitHub refuses in runner names, and a prefix shape that is also a fine hostname.
_PREFIX_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
_LABEL_BAD = re.compile(r"[,\s]")
_GITHUB_PATH_RE = re.compile(r"^[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)?$")

#: Statuses of a server that is on its way out: neither counted nor removed again.
GOING = frozenset({"DELETED", "SOFT_DELETED"})
BUILDING = frozenset({"BUILD", "REBUILD"})


# -- names and options -----------------------------------------------------------------


def check_prefix(prefix: str) -> str | None:
    """Why ``prefix`` cannot name runners, or None if it can."""
    if not _PREFIX_RE.match(prefix):
        return (
            f"prefix {prefix!r} must start and end with a letter or digit and hold only letters, "
            "digits, '.', '_' and '-'"
        )
    longest = MAX_NAME_LENGTH - SUFFIX_HEX_DIGITS - 1
    if len(prefix) > longest:
        return f"prefix {prefix!r} is {len(prefix)} characters; runner names allow at most {longest} before the suffix"
    return None


def check_labels(labels: Iterable[str]) -> str | None:
    """Why ``labels`` cannot be passed to config.sh, or None if they can."""
    for label in labels:
        if not label or _LABEL_BAD.search(label):
            return f"label {label!r} must be non-empty, without commas or spaces"
    return None


def check_github_path(path: str) -> str | None:
    """Why ``github_path`` is not ``ORG`` or ``OWNER/REPO``, or None if it is."""
    if not _GITHUB_PATH_RE.match(path):
        return f"github_path {path!r} must be an organisation (ORG) or a repository (OWNER/REPO)"
    return None


def runner_name_pattern(prefix: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(prefix)}-[0-9a-f]{{{SUFFIX_HEX_DIGITS}}}$")


def new_runner_name(
    prefix: str, taken: Collection[str] = (), token_hex: Callable[[int], str] = secrets.token_hex
) -> str:
    """A fresh ``<prefix>-<random>`` name that is not in ``taken``."""
    while True:
        name = f"{prefix}-{token_hex(SUFFIX_HEX_DIGITS // 2)}"
        if name not in taken:
            return name


def github_url(path: str, base: str = GITHUB_URL) -> str:
    """The URL config.sh registers with: the organisation's or the repository's page."""
    return f"{base.rstrip('/')}/{path.strip('/')}"


def runner_metadata(prefix: str, url: str, image_name: str) -> dict[str, str]:
    """Server metadata that marks a runner of ``prefix`` (and says what it serves)."""
    return {META_PREFIX: prefix, META_PLATFORM: "github", META_URL: url, META_IMAGE: image_name}


def is_runner(server: Mapping[str, Any], prefix: str) -> bool:
    """Whether a server is a runner of ``prefix``: marked in its metadata and named like one.

    Both are checked, so the fleet ``ci`` never touches ``ci-large-...`` runners of the
    fleet ``ci-large``, nor a server someone named ``ci-web``.
    """
    metadata = server.get("metadata") or {}
    return metadata.get(META_PREFIX) == prefix and str(server.get("name") or "").startswith(f"{prefix}-")


# -- user data ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RunnerSpec:
    """What every runner of a fleet is told at boot (the token is only in the user data)."""

    url: str
    labels: tuple[str, ...]
    registration_token: str
    runner_group: str | None = None
    environment: Mapping[str, str] = field(default_factory=dict)
    http_proxy: str | None = None
    https_proxy: str | None = None
    no_proxy: str | None = None

    def env_file(self) -> str:
        """The runner's ``.env``: the runner application reads it at start."""
        env = {"LANG": "C.UTF-8", **proxy_environment(self.http_proxy, self.https_proxy, self.no_proxy)}
        env.update({str(k): str(v) for k, v in self.environment.items()})
        return "".join(f"{k}={v}\n" for k, v in env.items())


def config_command(spec: RunnerSpec, name: str) -> list[str]:
    """config.sh's arguments: register ``name`` once (ephemeral), without asking anything."""
    argv = [
        "./config.sh",
        "--url",
        spec.url,
        "--token",
        spec.registration_token,
        "--ephemeral",
        "--unattended",
    ]
    if spec.labels:  # GitHub's default labels (self-hosted, the OS, the architecture) come anyway
        argv += ["--labels", ",".join(spec.labels)]
    argv += ["--name", name]
    if spec.runner_group:
        argv += ["--runnergroup", spec.runner_group]
    return argv


def _as_runner(argv: Sequence[str]) -> str:
    """A shell line running ``argv`` in the runner's folder as the runner user (config.sh refuses root)."""
    return f"cd {RUNNER_DIR} && runuser -u {RUNNER_USER} -- {shlex.join(argv)}"


def runner_user_data(spec: RunnerSpec, name: str) -> str:
    """The runner's ``#cloud-config``: write its environment, register it, run it, power off.

    An ephemeral runner takes one job; when run.sh returns the server powers off, and
    the next reconcile replaces it (SHUTOFF is not healthy).
    """
    config = {
        "write_files": [
            {
                "path": f"{RUNNER_DIR}/.env",
                "owner": f"{RUNNER_USER}:{RUNNER_USER}",
                "permissions": "0600",
                "content": spec.env_file(),
            }
        ],
        "runcmd": [
            _as_runner(config_command(spec, name)),
            _as_runner(["./run.sh"]),
            "systemctl poweroff",
        ],
    }
    return "#cloud-config\n" + dump_yaml(config)


# -- security group ----------------------------------------------------------------------


def wanted_rules(ingress_tcp_ports: Iterable[int] = ()) -> list[dict[str, Any]]:
    """The rules runners need: ICMP and SSH in, plus each extra TCP port in (IPv4)."""
    rules: list[dict[str, Any]] = [
        {"direction": "ingress", "ethertype": "IPv4", "protocol": "icmp"},
        {"direction": "ingress", "ethertype": "IPv4", "protocol": "tcp", "port_range_min": 22, "port_range_max": 22},
    ]
    for port in dict.fromkeys(int(p) for p in ingress_tcp_ports):
        if port != 22:
            rules.append(
                {
                    "direction": "ingress",
                    "ethertype": "IPv4",
                    "protocol": "tcp",
                    "port_range_min": port,
                    "port_range_max": port,
                }
            )
    return rules


def missing_rules(existing: Iterable[Mapping[str, Any]], wanted: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The wanted rules that no existing rule covers (a rule covers one if every wanted field matches)."""
    existing = list(existing)
    return [dict(rule) for rule in wanted if not any(all(e.get(k) == v for k, v in rule.items()) for e in existing)]


# -- reconcile ---------------------------------------------------------------------------


def parse_time(value: Any) -> datetime | None:
    """Nova's ``created`` (``2024-05-01T10:00:00Z``) as an aware datetime; None if absent or odd."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=_UTC)
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=_UTC)


@dataclass
class Removal:
    server: dict[str, Any]
    reason: str


@dataclass
class Plan:
    """What reconcile does: keep these, remove those (with why), create this many."""

    keep: list[dict[str, Any]] = field(default_factory=list)
    remove: list[Removal] = field(default_factory=list)
    create: int = 0
    #: Servers already being deleted: not counted, waited for.
    going: list[dict[str, Any]] = field(default_factory=list)
    #: Key pairs of this prefix that belong to no kept runner.
    orphan_keys: list[str] = field(default_factory=list)

    @property
    def changes(self) -> bool:
        return bool(self.remove or self.create or self.orphan_keys)


def health(server: Mapping[str, Any], now: datetime, build_timeout: float) -> str | None:
    """None if the runner is healthy, else why it is not."""
    status = str(server.get("status") or "").upper()
    if status == "ACTIVE":
        return None
    if status in BUILDING:
        created = parse_time(server.get("created_at"))
        if created is None:
            return None  # cannot tell its age: give it the benefit of the doubt
        age = (now - created).total_seconds()
        if age < build_timeout:
            return None
        return f"in {status} for {int(age)}s, more than build_timeout ({int(build_timeout)}s)"
    if status == "ERROR":
        fault = (server.get("fault") or {}).get("message")
        return f"in ERROR{f': {fault}' if fault else ''}"
    return f"in status {status or 'unknown'}"


def _is_going(server: Mapping[str, Any]) -> bool:
    return str(server.get("status") or "").upper() in GOING or server.get("task_state") == "deleting"


def _newest_first(servers: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    epoch = datetime.min.replace(tzinfo=_UTC)
    return sorted(
        servers, key=lambda s: (parse_time(s.get("created_at")) or epoch, str(s.get("id") or "")), reverse=True
    )


def plan_reconcile(
    servers: Iterable[Mapping[str, Any]],
    *,
    prefix: str,
    count: int,
    build_timeout: float,
    now: datetime,
    key_names: Iterable[str] = (),
    absent: bool = False,
) -> Plan:
    """Plan the reconcile of the runners of ``prefix`` towards ``count`` healthy ones.

    ``servers`` are dicts with ``id``, ``name``, ``status``, ``created_at``, ``metadata``
    and optionally ``task_state``, ``fault`` and ``key_name``; servers of other prefixes
    are ignored.  Of several servers with one name the newest healthy one (else the
    newest) stays and the others go as duplicates.  Unhealthy runners go.  Above
    ``count``, runners still building go first, then the newest.  ``absent`` removes all.
    """
    plan = Plan()
    ours = [dict(s) for s in servers if is_runner(s, prefix)]
    by_name: dict[str, list[dict[str, Any]]] = {}
    for server in ours:
        if _is_going(server):
            plan.going.append(server)
        else:
            by_name.setdefault(server["name"], []).append(server)

    healthy: list[dict[str, Any]] = []
    for name in sorted(by_name):
        group = _newest_first(by_name[name])
        if absent:
            plan.remove.extend(Removal(s, "state is absent") for s in group)
            continue
        keeper = next((s for s in group if health(s, now, build_timeout) is None), group[0])
        for server in group:
            if server is not keeper:
                plan.remove.append(Removal(server, f"duplicate of {name} ({keeper['id']})"))
        why = health(keeper, now, build_timeout)
        if why is None:
            healthy.append(keeper)
        else:
            plan.remove.append(Removal(keeper, why))

    surplus = len(healthy) - count
    if surplus > 0:
        # Runners still building serve no job yet: they go first, then the newest ones.
        order = _newest_first(s for s in healthy if str(s.get("status")).upper() in BUILDING)
        order += _newest_first(s for s in healthy if str(s.get("status")).upper() not in BUILDING)
        for server in order[:surplus]:
            plan.remove.append(Removal(server, f"more than count ({count})"))
            healthy.remove(server)
    plan.keep = sorted(healthy, key=lambda s: s["name"])
    plan.create = 0 if absent else max(0, count - len(healthy))

    kept_names = {s["name"] for s in plan.keep}
    pattern = runner_name_pattern(prefix)
    removed_keys = {r.server.get("key_name") for r in plan.remove}
    plan.orphan_keys = sorted(
        k for k in set(key_names) if pattern.match(k) and k not in kept_names and k not in removed_keys
    )
    return plan


def own_key(server: Mapping[str, Any]) -> str | None:
    """The runner's own key pair (named like the server), which goes with it; never a shared one."""
    key = server.get("key_name")
    return key if key and key == server.get("name") else None
