"""The image issue's check, with the ``openstack`` CLI as shipped (``--os-cloud stacksim``)."""

from __future__ import annotations

import hashlib
import os
import uuid

from stacksim.services.image.bootstrap import DEFAULT_IMAGE_NAME


def _n(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def test_default_image_is_listed_active_and_public(cli):
    listed = {i["Name"]: i for i in cli.json("image", "list")}
    assert listed[DEFAULT_IMAGE_NAME]["Status"] == "active"
    shown = cli.json("image", "show", DEFAULT_IMAGE_NAME)
    assert shown["visibility"] == "public" and shown["disk_format"] == "qcow2" and shown["container_format"] == "bare"
    assert shown["min_disk"] == 1 and shown["size"] > 0 and len(shown["checksum"]) == 32
    # OSC shows the attributes it does not know of (os_hash_*, stores) under "properties"
    assert shown["properties"]["os_hash_algo"] == "sha512" and len(shown["properties"]["os_hash_value"]) == 128


def test_issue_sequence(cli, tmp_path):
    name = _n("img1")
    payload = os.urandom(3 * 1024 * 1024 + 17)
    source = tmp_path / "disk.qcow2"
    source.write_bytes(payload)

    image = cli.json("image", "create", "--file", str(source), "--disk-format", "qcow2", name)
    assert image["name"] == name and image["status"] == "active"
    assert image["size"] == len(payload) and image["checksum"] == hashlib.md5(payload).hexdigest()
    assert image["properties"]["os_hash_value"] == hashlib.sha512(payload).hexdigest()
    assert image["container_format"] == "bare" and image["visibility"] == "shared"

    assert name in [i["Name"] for i in cli.json("image", "list")]
    shown = cli.json("image", "show", name)
    assert shown["id"] == image["id"] and shown["file"] == f"/v2/images/{image['id']}/file"

    out = tmp_path / "out"
    cli.run("image", "save", "--file", str(out), name)
    assert out.read_bytes() == payload

    cli.run("image", "set", "--property", "os_distro=ubuntu", "--property", "k=v", name)
    cli.run("image", "set", "--tag", "golden", "--tag", "x86", name)
    shown = cli.json("image", "show", name)
    assert shown["properties"]["os_distro"] == "ubuntu" and shown["properties"]["k"] == "v"
    assert sorted(shown["tags"]) == ["golden", "x86"]
    assert [i["Name"] for i in cli.json("image", "list", "--tag", "golden", "--tag", "x86")] == [name]
    assert [i["Name"] for i in cli.json("image", "list", "--property", "k=v")] == [name]

    # share it with the alt project, which accepts
    alt = cli.json("project", "show", "alt_demo", cloud="stacksim-admin")
    member = cli.json("image", "add", "project", name, alt["id"])
    assert member["status"] == "pending" and member["member_id"] == alt["id"]
    assert name not in [i["Name"] for i in cli.json("image", "list", cloud="stacksim-alt")]
    assert name in [i["Name"] for i in cli.json("image", "list", "--member-status", "all", cloud="stacksim-alt")]
    cli.run("image", "set", "--accept", image["id"], cloud="stacksim-alt")
    assert name in [i["Name"] for i in cli.json("image", "list", cloud="stacksim-alt")]
    members = cli.json("image", "member", "list", name)
    assert [(m["Member ID"], m["Status"]) for m in members] == [(alt["id"], "accepted")]

    cli.run("image", "delete", name)
    assert name not in [i["Name"] for i in cli.json("image", "list")]
    gone = cli.run("image", "show", image["id"], check=False)
    assert gone.returncode != 0 and f"No Image found for {image['id']}" in gone.stderr


def test_cli_errors_reach_the_user(cli, tmp_path):
    # (--file always: without it the CLI uploads whatever its stdin holds, if it is not a terminal)
    source = tmp_path / "tiny.img"
    source.write_bytes(b"tiny")
    bad = cli.run("image", "create", "--file", str(source), "--public", _n("pub"), check=False)
    assert bad.returncode != 0
    assert "403 Forbidden: You are not authorized to complete publicize_image action." in bad.stderr
    name = _n("protected")
    cli.run("image", "create", "--file", str(source), "--protected", name)
    refused = cli.run("image", "delete", name, check=False)
    assert refused.returncode != 0 and "is protected and cannot be deleted" in refused.stderr
    cli.run("image", "set", "--unprotected", name)
    cli.run("image", "delete", name)
