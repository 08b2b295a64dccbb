"""The docker driver's reading of user data (no engine needed): what the boot agent will run."""

from __future__ import annotations

import base64
import gzip
import subprocess

from stacksim.drivers.docker.bootscript import compile_user_data

MULTIPART = """Content-Type: multipart/mixed; boundary="XX"
MIME-Version: 1.0

--XX
Content-Type: text/cloud-config; charset="us-ascii"

#cloud-config
runcmd:
  - echo one
timezone: UTC
--XX
Content-Type: text/x-shellscript; charset="us-ascii"

#!/bin/sh
echo from a script
--XX
Content-Type: text/cloud-config; charset="us-ascii"

#cloud-config
runcmd:
  - [echo, two]
power_state: {mode: reboot, delay: "+1"}
--XX--
"""


def test_multipart_parts_merge_scripts_run_before_runcmd_and_unknown_keys_are_named():
    scripts, notes = compile_user_data(MULTIPART, None, "cirros")
    final = scripts["final.sh"]
    assert final.index("part-000") < final.index("runcmd")
    runcmd = base64.b64decode(final.split("runcmd <<'STACKSIM_EOF'\n")[1].split("\nSTACKSIM_EOF")[0]).decode()
    assert runcmd.splitlines()[1:] == ["echo one", "echo two"]
    assert scripts["power"] == "reboot 60\n"
    assert notes == ["cloud-config key 'timezone' is not handled by stacksim, ignored"]


def test_the_default_user_gets_the_key_and_sudo_and_root_gets_the_key():
    scripts, _ = compile_user_data(None, "ssh-ed25519 AAAA test", "debian")
    once = scripts["once.sh"]
    assert "ensure_user debian /bin/bash" in once and "grant_sudo debian" in once
    assert "add_key debian 'ssh-ed25519 AAAA test'" in once and "add_key root 'ssh-ed25519 AAAA test'" in once
    assert scripts["final.sh"] == "" and scripts["power"] == ""


def test_write_files_decode_every_encoding_and_set_permissions(tmp_path):
    files = [
        {"path": str(tmp_path / "plain"), "content": "plain text\n", "permissions": "0600"},
        {
            "path": str(tmp_path / "b64"),
            "content": base64.b64encode(b"\x00binary").decode(),
            "encoding": "b64",
            "permissions": "0751",
        },
        {
            "path": str(tmp_path / "deep" / "gz"),
            "content": base64.b64encode(gzip.compress(b"zipped")).decode(),
            "encoding": "gz+b64",
        },
        {"path": str(tmp_path / "plain"), "content": "more\n", "append": True},
    ]
    import yaml

    user_data = "#cloud-config\n" + yaml.safe_dump({"users": [], "write_files": files})
    scripts, _ = compile_user_data(user_data, None, "cirros")
    run = subprocess.run(["sh", "-c", scripts["once.sh"]], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "plain").read_text() == "plain text\nmore\n"
    assert oct((tmp_path / "b64").stat().st_mode & 0o777) == "0o751"
    assert (tmp_path / "b64").read_bytes() == b"\x00binary"
    assert (tmp_path / "deep" / "gz").read_bytes() == b"zipped"
