"""The boot agent: what an instance runs first, a small cloud-init for containers.

It is a POSIX shell script, so it runs in any image that has ``/bin/sh``
(not only the base image). The driver mounts an instance's agent folder at
``/.stacksim`` (read-only) with the script, the instance id and the boot
scripts the driver compiled from the user data (:mod:`.bootscript`), and a
writable ``/.stacksim/run`` where the agent reports its progress (the host
never follows a link there, so a guest cannot point it at the host's files).

Each boot: wait until the host has set up the firewall, run ``bootcmd``; on
an instance's first boot (per instance id, as cloud-init's per-instance
modules), make users, keys and files; start ``sshd`` (host keys made on
first use); on the first boot run packages, scripts and ``runcmd`` and then
``power_state``. Then it runs the image's own program if it has one, or
waits. Everything it does goes to the console (the container's output).
"""

from __future__ import annotations

MOUNT = "/.stacksim"

SCRIPT = r"""#!/bin/sh
# stacksim boot agent (see stacksim.drivers.docker.agent)
A=/.stacksim
say() { echo "[stacksim-init] $*"; }
trap 'say "received a stop request"; exit 0' TERM INT
n=0
while [ ! -e "$A/run/firewall" ] && [ "$n" -lt 1000 ]; do sleep 0.01; n=$((n + 1)); done
id=$(cat "$A/instance-id")
say "booting instance $id as $(hostname)"
if [ -s "$A/boot/bootcmd.sh" ]; then
  say "running bootcmd"
  sh "$A/boot/bootcmd.sh" 2>&1 || say "bootcmd failed with status $?"
fi
first=
mkdir -p /var/lib/stacksim
if [ "$(cat /var/lib/stacksim/instance-id 2>/dev/null)" != "$id" ]; then
  first=1
  say "first boot of this instance: users, keys and files"
  sh "$A/boot/once.sh" 2>&1 || say "user and file set-up failed with status $?"
  echo "$id" > /var/lib/stacksim/instance-id
fi
if [ -x /usr/sbin/sshd ]; then
  for t in ed25519 ecdsa; do
    [ -s "/etc/ssh/ssh_host_${t}_key" ] || ssh-keygen -q -t "$t" -N '' -f "/etc/ssh/ssh_host_${t}_key"
  done
  mkdir -p /run/sshd && chmod 0755 /run/sshd
  if /usr/sbin/sshd; then say "sshd is listening on port 22"; else say "sshd failed to start"; fi
  for t in ed25519 ecdsa; do
    [ -s "/etc/ssh/ssh_host_${t}_key.pub" ] && say "host key: $(cat "/etc/ssh/ssh_host_${t}_key.pub")"
  done
else
  say "this image has no sshd"
fi
echo up > "$A/run/status"
if [ -n "$first" ] && [ -s "$A/boot/final.sh" ]; then
  say "running packages, scripts and runcmd"
  sh "$A/boot/final.sh" 2>&1 || say "user scripts failed with status $?"
fi
say "boot finished"
echo done > "$A/run/status"
if [ -n "$first" ] && [ -s "$A/boot/power" ]; then
  read -r mode delay < "$A/boot/power"
  [ "$delay" -gt 0 ] 2>/dev/null && sleep "$delay"
  say "power_state: $mode"
  echo "$mode" > "$A/run/power"
  exit 0
fi
if [ $# -gt 0 ]; then
  say "starting the image's program: $*"
  exec "$@"
fi
while :; do sleep 3600 & wait $!; done
"""
