"""Image's smoke test with the ``openstack`` CLI as shipped: upload, show, save, set and delete work
through it, and its errors reach the user. The image issue's full check is in test_image_workflows.py."""

from __future__ import annotations

import hashlib
import os
import uuid


def _n(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def test_cli_image_smoke(cli, tmp_path):
    name = _n("img1")
    payload = os.urandom(1024 * 1024 + 17)
    source = tmp_path / "disk.qcow2"
    source.write_bytes(payload)
    # (--file always: without it the CLI uploads whatever its stdin holds, if it is not a terminal)
    image = cli.json("image", "create", "--file", str(source), "--disk-format", "qcow2", "--protected", name, exec=True)
    assert image["name"] == name and image["status"] == "active"
    assert image["size"] == len(payload) and image["checksum"] == hashlib.md5(payload).hexdigest()
    out = tmp_path / "out"
    cli.run("image", "save", "--file", str(out), name)
    assert out.read_bytes() == payload
    refused = cli.run("image", "delete", name, check=False)
    assert refused.returncode != 0 and "is protected and cannot be deleted" in refused.stderr
    cli.run("image", "set", "--unprotected", name)
    cli.run("image", "delete", name)
    gone = cli.run("image", "show", image["id"], check=False)
    assert gone.returncode != 0 and f"No Image found for {image['id']}" in gone.stderr
