"""Keypairs: import, generate (where the microversion allows), list, show, delete, per user."""

from __future__ import annotations

import base64
import hashlib
import uuid

import openstack.exceptions as exc
import pytest
from compute_http import fault, nova
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def _public_key() -> tuple[str, str]:
    """A new OpenSSH public key line and its MD5 fingerprint, worked out here."""
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    line = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    digest = hashlib.md5(base64.b64decode(line.split()[1])).hexdigest()
    return line + " me@host", ":".join(digest[i : i + 2] for i in range(0, 32, 2))


def test_create_import_show_list_delete(demo):
    k1, k2 = _name("k1"), _name("k2")
    generated = demo.compute.create_keypair(name=k1)  # made by Nova, its private half returned once
    assert "PRIVATE KEY-----" in generated.private_key
    line, fingerprint = _public_key()
    made = nova(demo, "POST", "/os-keypairs", version="2.2", json={"keypair": {"name": k2, "public_key": line}})
    made = made.json()["keypair"]
    assert made["fingerprint"] == fingerprint and made["type"] == "ssh"
    shown = nova(demo, "GET", f"/os-keypairs/{k2}", version="2.2").json()["keypair"]
    assert shown["fingerprint"] == fingerprint and shown["name"] == k2 and shown["created_at"]
    assert shown["public_key"] == line
    listed = {k.name: k for k in demo.compute.keypairs()}
    assert {k1, k2} <= set(listed) and listed[k2].fingerprint == fingerprint
    again = nova(demo, "POST", "/os-keypairs", json={"keypair": {"name": k2, "public_key": line}})
    assert fault(again, 409, "conflictingRequest") == f"Key pair '{k2}' already exists."
    demo.compute.delete_keypair(k1)
    demo.compute.delete_keypair(k2)
    names = [k.name for k in demo.compute.keypairs()]
    assert k1 not in names and k2 not in names


def test_keypairs_belong_to_their_user(demo, connect):
    name = _name("mine")
    line, _ = _public_key()
    demo.compute.create_keypair(name=name, public_key=line)
    alt = connect("stacksim-alt")
    try:
        assert name not in [k.name for k in alt.compute.keypairs()]
        with pytest.raises(exc.NotFoundException, match=f"Keypair {name} not found for user"):
            alt.compute.get_keypair(name)
        # the same name is free for another user
        alt.compute.create_keypair(name=name, public_key=line)
        alt.compute.delete_keypair(name)
    finally:
        demo.compute.delete_keypair(name)


def test_sdk_generates_a_key_before_292(demo):
    name = _name("gen")
    keypair = demo.compute.create_keypair(name=name)  # the SDK asks for 2.10: Nova makes the key
    try:
        assert keypair.private_key.startswith("-----BEGIN RSA PRIVATE KEY-----")
        assert keypair.public_key.startswith("ssh-rsa ")
        private = serialization.load_pem_private_key(keypair.private_key.encode(), password=None)
        mine = private.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        assert keypair.public_key.split()[1] == mine.decode().split()[1]
        digest = hashlib.md5(base64.b64decode(keypair.public_key.split()[1])).hexdigest()
        assert keypair.fingerprint.replace(":", "") == digest
        again = demo.compute.get_keypair(name)
        assert again.private_key is None and again.public_key == keypair.public_key  # shown once only
    finally:
        demo.compute.delete_keypair(name)


def test_microversions_of_keypairs(demo):
    name = _name("mv")
    # 2.1: 200 on create, no type, 202 on delete
    made = nova(demo, "POST", "/os-keypairs", json={"keypair": {"name": name}})
    assert made.status_code == 200 and "type" not in made.json()["keypair"] and "private_key" in made.json()["keypair"]
    assert nova(demo, "DELETE", f"/os-keypairs/{name}").status_code == 202
    # 2.2: 201, type, x509 generated as a certificate
    made = nova(demo, "POST", "/os-keypairs", version="2.2", json={"keypair": {"name": name, "type": "x509"}})
    assert made.status_code == 201
    body = made.json()["keypair"]
    assert body["type"] == "x509" and body["public_key"].startswith("-----BEGIN CERTIFICATE-----")
    assert len(body["fingerprint"].split(":")) == 20  # SHA-1
    assert nova(demo, "DELETE", f"/os-keypairs/{name}", version="2.2").status_code == 204
    # type is unknown before 2.2
    early = nova(demo, "POST", "/os-keypairs", json={"keypair": {"name": name, "type": "ssh"}})
    assert "'type' was unexpected" in fault(early, 400, "badRequest")
    # 2.92: the key must be given, and names may hold '@' and '.'
    late = nova(demo, "POST", "/os-keypairs", version="2.92", json={"keypair": {"name": name}})
    assert "'public_key' is a required property" in fault(late, 400, "badRequest")
    line, fingerprint = _public_key()
    dotted = f"{name}@host.example"
    ok = nova(demo, "POST", "/os-keypairs", version="2.92", json={"keypair": {"name": dotted, "public_key": line}})
    assert ok.status_code == 201 and ok.json()["keypair"]["fingerprint"] == fingerprint
    assert nova(demo, "DELETE", f"/os-keypairs/{dotted}", version="2.92").status_code == 204
    before = nova(demo, "POST", "/os-keypairs", version="2.91", json={"keypair": {"name": dotted, "public_key": line}})
    assert "invalid 'name'" in fault(before, 400, "badRequest")


def test_bad_keys_and_names(demo):
    bad = nova(demo, "POST", "/os-keypairs", json={"keypair": {"name": _name("b"), "public_key": "ssh-rsa nope"}})
    assert fault(bad, 400, "badRequest") == "Keypair data is invalid: failed to generate fingerprint"
    line, _ = _public_key()
    for name in ("", " lead", "semi;colon", "x" * 256):
        response = nova(demo, "POST", "/os-keypairs", json={"keypair": {"name": name, "public_key": line}})
        fault(response, 400, "badRequest")


def test_admin_acts_for_another_user_from_210(admin, demo):
    name = _name("foruser")
    line, _ = _public_key()
    user_id = demo.current_user_id
    body = {"keypair": {"name": name, "public_key": line, "user_id": user_id}}
    made = nova(admin, "POST", "/os-keypairs", version="2.10", json=body)
    assert made.status_code == 201 and made.json()["keypair"]["user_id"] == user_id
    assert name in [k.name for k in demo.compute.keypairs()]
    listed = nova(admin, "GET", f"/os-keypairs?user_id={user_id}", version="2.10").json()["keypairs"]
    assert name in [k["keypair"]["name"] for k in listed]
    shown = nova(admin, "GET", f"/os-keypairs/{name}?user_id={user_id}", version="2.10").json()["keypair"]
    assert shown["user_id"] == user_id and shown["deleted"] is False and isinstance(shown["id"], int)
    # a member may not act for someone else
    other = nova(demo, "GET", f"/os-keypairs?user_id={admin.current_user_id}", version="2.10")
    assert fault(other, 403, "forbidden") == "Policy doesn't allow os_compute_api:os-keypairs:index to be performed."
    assert nova(admin, "DELETE", f"/os-keypairs/{name}?user_id={user_id}", version="2.10").status_code == 204


def test_paging_from_235(demo):
    line, _ = _public_key()
    names = sorted(_name("page") for _ in range(3))
    for name in names:
        demo.compute.create_keypair(name=name, public_key=line)
    try:
        mine = [k.name for k in demo.compute.keypairs()]
        first = nova(demo, "GET", "/os-keypairs?limit=1", version="2.35").json()
        assert [k["keypair"]["name"] for k in first["keypairs"]] == mine[:1]
        assert first["keypairs_links"][0]["rel"] == "next"
        after = nova(demo, "GET", f"/os-keypairs?limit=2&marker={mine[0]}", version="2.35").json()
        assert [k["keypair"]["name"] for k in after["keypairs"]] == mine[1:3]
        missing = nova(demo, "GET", "/os-keypairs?marker=nope", version="2.35")
        assert fault(missing, 400, "badRequest") == "Marker nope could not be found."
    finally:
        for name in names:
            demo.compute.delete_keypair(name)


def test_key_pairs_quota(admin, connect):
    alt = connect("stacksim-alt")
    project = alt.current_project_id
    line, _ = _public_key()
    existing = len(list(alt.compute.keypairs()))
    admin.set_compute_quotas(project, key_pairs=existing + 1)
    made = _name("q")
    try:
        alt.compute.create_keypair(name=made, public_key=line)
        over = nova(alt, "POST", "/os-keypairs", json={"keypair": {"name": _name("q"), "public_key": line}})
        assert fault(over, 403, "forbidden") == "Quota exceeded, too many key pairs."
    finally:
        admin.delete_compute_quotas(project)
        alt.compute.delete_keypair(made, ignore_missing=True)
