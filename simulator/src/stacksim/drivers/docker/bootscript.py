"""User data compiled into the shell scripts the boot agent runs (a cloud-init subset).

cloud-init reads YAML inside the guest; an image may have no Python or YAML
parser, so the host reads the user data and writes plain ``sh`` instead:

- ``bootcmd.sh`` (every boot): ``bootcmd`` and ``#cloud-boothook`` parts;
- ``once.sh`` (an instance's first boot, before sshd): the default user with
  passwordless sudo, ``users``, the key pair and ``ssh_authorized_keys`` (also
  for root), ``write_files`` (``defer: true`` ones after the users);
- ``final.sh`` (first boot, after sshd): ``package_update``/``packages``,
  ``#!`` scripts, then ``runcmd``;
- ``power``: ``power_state``'s mode and delay in seconds.

Keys of cloud-config this subset does not handle are named on the console,
not silently dropped.
"""

from __future__ import annotations

import base64
import gzip
import shlex
from typing import Any

import yaml

from stacksim.drivers.userdata import parts

HANDLED = frozenset(
    {
        "users",
        "ssh_authorized_keys",
        "write_files",
        "bootcmd",
        "runcmd",
        "power_state",
        "packages",
        "package_update",
        "package_upgrade",
        "hostname",
        "fqdn",
        "preserve_hostname",
        "manage_etc_hosts",
        "disable_root",
        "ssh_pwauth",
        "chpasswd",
    }
)
POWER_MODES = {"poweroff": "poweroff", "halt": "poweroff", "reboot": "reboot"}

#: Shell functions the once script uses (useradd or busybox adduser, whichever the image has).
HELPERS = r"""
home_of() { awk -F: -v u="$1" '$1 == u { print $6 }' /etc/passwd; }
ensure_user() {
  name=$1; shell=$2
  [ -x "$shell" ] || shell=/bin/sh
  if ! id -u "$name" >/dev/null 2>&1; then
    if command -v useradd >/dev/null 2>&1; then useradd -m -s "$shell" "$name"
    else adduser -D -s "$shell" "$name"; fi
    echo "[stacksim-init] user $name created"
  fi
}
grant_sudo() {
  if [ -d /etc/sudoers.d ]; then
    echo "$1 ALL=(ALL) NOPASSWD:ALL" > "/etc/sudoers.d/90-stacksim-$1" && chmod 0440 "/etc/sudoers.d/90-stacksim-$1"
  fi
}
join_groups() {
  name=$1; shift
  for g in "$@"; do
    getent group "$g" >/dev/null 2>&1 || groupadd "$g" 2>/dev/null || addgroup "$g" 2>/dev/null
    usermod -aG "$g" "$name" 2>/dev/null || addgroup "$name" "$g" 2>/dev/null
  done
}
add_key() {
  home=$(home_of "$1"); [ -n "$home" ] || return 0
  mkdir -p "$home/.ssh" && chmod 0700 "$home/.ssh"
  touch "$home/.ssh/authorized_keys"
  grep -qxF "$2" "$home/.ssh/authorized_keys" || echo "$2" >> "$home/.ssh/authorized_keys"
  chmod 0600 "$home/.ssh/authorized_keys"
  chown -R "$1:$(id -gn "$1")" "$home/.ssh"
}
"""


def compile_user_data(
    user_data: str | None, public_key: str | None, default_user: str
) -> tuple[dict[str, str], list[str]]:
    """``({file name: content}, notes)`` for the agent's ``boot`` folder."""
    configs: list[dict[str, Any]] = []
    scripts: list[str] = []
    boothooks: list[str] = []
    notes: list[str] = []
    for kind, text in parts(user_data) if user_data else []:
        if kind == "text/cloud-config":
            try:
                loaded = yaml.safe_load(text)
            except yaml.YAMLError as exc:
                notes.append(f"cloud-config is not valid YAML, ignored: {exc}".replace("\n", " "))
                continue
            if isinstance(loaded, dict):
                configs.append(loaded)
        elif kind == "text/x-shellscript":
            scripts.append(text)
        elif kind == "text/cloud-boothook":
            boothooks.append(text.split("\n", 1)[1] if "\n" in text else "")
        else:
            notes.append(f"user data of type {kind} is not handled by stacksim, ignored")
    config = _merge(configs)
    notes += [f"cloud-config key {key!r} is not handled by stacksim, ignored" for key in config if key not in HANDLED]

    bootcmd = [_command(c) for c in _list(config.get("bootcmd"))] + boothooks
    once = ["set +e", HELPERS]
    users = _list(config.get("users")) if "users" in config else ["default"]
    keys = [k for k in [public_key, *_list(config.get("ssh_authorized_keys"))] if k]
    files = _list(config.get("write_files"))
    once += [_write_file(f) for f in files if isinstance(f, dict) and not f.get("defer")]
    for user in users:
        if user == "default":
            once += _user({"name": default_user, "sudo": True, "shell": "/bin/bash"}, keys)
        elif isinstance(user, dict) and user.get("name"):
            once += _user(user, [])
        elif isinstance(user, str):
            once += _user({"name": user}, [])
    for key in keys:
        once.append(f"add_key root {shlex.quote(key.strip())}")
    once += [_write_file(f) for f in files if isinstance(f, dict) and f.get("defer")]

    final = ["set +e"]
    packages = [str(p) if not isinstance(p, list) else "=".join(map(str, p)) for p in _list(config.get("packages"))]
    if packages or config.get("package_update") or config.get("package_upgrade"):
        final.append(_packages(packages, bool(config.get("package_upgrade"))))
    for index, script in enumerate(scripts):
        final.append(_heredoc_run(script, f"part-{index:03d}"))
    runcmd = [_command(c) for c in _list(config.get("runcmd"))]
    if runcmd:
        final.append(_heredoc_run("#!/bin/sh\n" + "\n".join(runcmd) + "\n", "runcmd"))

    files_out = {
        "bootcmd.sh": "\n".join(bootcmd) + "\n" if bootcmd else "",
        "once.sh": "\n".join(once) + "\n",
        "final.sh": "\n".join(final) + "\n" if len(final) > 1 else "",
        "power": _power(config.get("power_state"), notes),
    }
    return files_out, notes


def _merge(configs: list[dict[str, Any]]) -> dict[str, Any]:
    """Several cloud-config parts: lists add up, anything else the later part wins (cloud-init's default)."""
    merged: dict[str, Any] = {}
    for config in configs:
        for key, value in config.items():
            if isinstance(value, list) and isinstance(merged.get(key), list):
                merged[key] = merged[key] + value
            else:
                merged[key] = value
    return merged


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _command(entry: Any) -> str:
    """A ``runcmd``/``bootcmd`` entry: a string is shell, a list is argv."""
    if isinstance(entry, list):
        return " ".join(shlex.quote(str(arg)) for arg in entry)
    return str(entry)


def _user(user: dict[str, Any], extra_keys: list[str]) -> list[str]:
    name = shlex.quote(str(user["name"]))
    lines = [f"ensure_user {name} {shlex.quote(str(user.get('shell') or '/bin/bash'))}"]
    sudo = user.get("sudo")
    if sudo is True or (isinstance(sudo, str | list) and "NOPASSWD" in str(sudo)):
        lines.append(f"grant_sudo {name}")
    groups = user.get("groups")
    if groups:
        names = groups.split(",") if isinstance(groups, str) else [str(g) for g in groups]
        lines.append(f"join_groups {name} " + " ".join(shlex.quote(g.strip()) for g in names if g.strip()))
    for key in [*extra_keys, *_list(user.get("ssh_authorized_keys"))]:
        lines.append(f"add_key {name} {shlex.quote(str(key).strip())}")
    return lines


def _write_file(spec: dict[str, Any]) -> str:
    path = spec.get("path")
    if not path:
        return "echo '[stacksim-init] write_files: an entry without a path, skipped'"
    data = _decode(spec.get("content", ""), str(spec.get("encoding") or "text").lower())
    encoded = base64.b64encode(data).decode()
    quoted = shlex.quote(str(path))
    redirect = ">>" if spec.get("append") else ">"
    lines = [
        f'mkdir -p "$(dirname {quoted})"',
        f"base64 -d {redirect} {quoted} <<'STACKSIM_EOF'",
        *[encoded[i : i + 76] for i in range(0, len(encoded), 76)],
        "STACKSIM_EOF",
        f"chmod {shlex.quote(str(spec.get('permissions') or '0644'))} {quoted}",
    ]
    if spec.get("owner"):
        lines.append(f"chown {shlex.quote(str(spec['owner']))} {quoted}")
    lines.append(f"echo {shlex.quote('[stacksim-init] wrote ' + str(path))}")
    return "\n".join(lines)


def _decode(content: Any, encoding: str) -> bytes:
    raw = content if isinstance(content, bytes) else str(content).encode()
    if encoding in ("b64", "base64", "gz+b64", "gzip+base64", "gz+base64", "gzip+b64"):
        raw = base64.b64decode(raw)
    if encoding.startswith(("gz", "gzip")):
        raw = gzip.decompress(raw)
    return raw


def _heredoc_run(script: str, name: str) -> str:
    """Write a script under /var/lib/stacksim/scripts and run it, as cloud-init's scripts-user does."""
    path = f"/var/lib/stacksim/scripts/{name}"
    encoded = base64.b64encode(script.encode()).decode()
    return "\n".join(
        [
            "mkdir -p /var/lib/stacksim/scripts",
            f"base64 -d > {path} <<'STACKSIM_EOF'",
            *[encoded[i : i + 76] for i in range(0, len(encoded), 76)],
            "STACKSIM_EOF",
            f"chmod 0755 {path}",
            f"echo '[stacksim-init] running {name}'",
            f'{path} || echo "[stacksim-init] {name} failed with status $?"',
        ]
    )


def _packages(packages: list[str], upgrade: bool) -> str:
    names = " ".join(shlex.quote(p) for p in packages)
    apt = ["export DEBIAN_FRONTEND=noninteractive", "apt-get update -qq"]
    if upgrade:
        apt.append("apt-get upgrade -y -qq")
    if names:
        apt.append(f"apt-get install -y -qq --no-install-recommends {names}")
    apk = ["apk update"] + (["apk upgrade"] if upgrade else []) + ([f"apk add {names}"] if names else [])
    return (
        "if command -v apt-get >/dev/null 2>&1; then\n  "
        + " && \\\n  ".join(apt)
        + "\nelif command -v apk >/dev/null 2>&1; then\n  "
        + " && ".join(apk)
        + "\nelse echo '[stacksim-init] packages: no package manager found'; fi"
    )


def _power(power: Any, notes: list[str]) -> str:
    if not isinstance(power, dict):
        return ""
    mode = POWER_MODES.get(str(power.get("mode")))
    if mode is None:
        notes.append(f"power_state mode {power.get('mode')!r} is not one of poweroff, halt, reboot; ignored")
        return ""
    delay = str(power.get("delay", "now")).strip()
    if delay in ("now", ""):
        seconds = 0
    else:  # cloud-init's delay is shutdown's: "+N" minutes (a bare number is taken as minutes too)
        try:
            seconds = int(delay.lstrip("+")) * 60
        except ValueError:
            notes.append(f"power_state delay {delay!r} is not understood; powering off now")
            seconds = 0
    return f"{mode} {seconds}\n"
