"""The image issue's check and the CLI tests' cases through openstacksdk and Glance's API."""

from __future__ import annotations

import hashlib
import os
import uuid

import openstack.exceptions as exc
import pytest

from stacksim.services.image.bootstrap import DEFAULT_IMAGE_NAME


def _n(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def test_default_image_is_listed_active_and_public(demo):
    listed = {i.name: i for i in demo.image.images()}
    assert listed[DEFAULT_IMAGE_NAME].status == "active"
    shown = demo.image.get(f"/images/{listed[DEFAULT_IMAGE_NAME].id}").json()
    assert shown["visibility"] == "public" and shown["disk_format"] == "qcow2" and shown["container_format"] == "bare"
    assert shown["min_disk"] == 1 and shown["size"] > 0 and len(shown["checksum"]) == 32
    assert shown["os_hash_algo"] == "sha512" and len(shown["os_hash_value"]) == 128


def test_issue_sequence(demo, admin, alt):
    name = _n("img1")
    payload = os.urandom(3 * 1024 * 1024 + 17)
    image = demo.image.create_image(name=name, data=payload, disk_format="qcow2", container_format="bare")
    image = demo.image.get_image(image.id)
    assert image.name == name and image.status == "active"
    assert image.size == len(payload) and image.checksum == hashlib.md5(payload).hexdigest()
    assert image.hash_value == hashlib.sha512(payload).hexdigest()
    assert image.container_format == "bare" and image.visibility == "shared"

    assert name in [i.name for i in demo.image.images()]
    shown = demo.image.get(f"/images/{image.id}").json()
    assert shown["id"] == image.id and shown["file"] == f"/v2/images/{image.id}/file"
    assert demo.image.download_image(image).content == payload

    patch = [{"op": "add", "path": "/os_distro", "value": "ubuntu"}, {"op": "add", "path": "/k", "value": "v"}]
    headers = {"Content-Type": "application/openstack-images-v2.1-json-patch"}
    assert demo.image.patch(f"/images/{image.id}", json=patch, headers=headers).status_code == 200
    demo.image.add_tag(image, "golden")
    demo.image.add_tag(image, "x86")
    shown = demo.image.get(f"/images/{image.id}").json()
    assert shown["os_distro"] == "ubuntu" and shown["k"] == "v"
    assert sorted(shown["tags"]) == ["golden", "x86"]
    assert [i.name for i in demo.image.images(tag=["golden", "x86"])] == [name]
    assert [i["name"] for i in demo.image.get("/images?k=v").json()["images"]] == [name]

    # share it with the alt project, which accepts
    member = demo.image.add_member(image, member_id=alt.current_project_id)
    assert member.status == "pending" and member.member_id == alt.current_project_id
    assert name not in [i.name for i in alt.image.images()]
    assert name in [i.name for i in alt.image.images(member_status="all")]
    alt.image.update_member(alt.current_project_id, image, status="accepted")
    assert name in [i.name for i in alt.image.images()]
    members = list(demo.image.members(image))
    assert [(m.member_id, m.status) for m in members] == [(alt.current_project_id, "accepted")]

    demo.image.delete_image(image)
    assert name not in [i.name for i in demo.image.images()]
    with pytest.raises(exc.NotFoundException, match=f"No image found with ID {image.id}"):
        demo.image.get_image(image.id)


def test_errors_reach_the_user(demo):
    with pytest.raises(exc.ForbiddenException) as denied:
        demo.image.create_image(name=_n("pub"), data=b"tiny", disk_format="raw", container_format="bare",
                                visibility="public")  # fmt: skip
    assert "You are not authorized to complete publicize_image action." in str(denied.value)
    protected = demo.image.create_image(
        name=_n("protected"), data=b"tiny", disk_format="raw", container_format="bare", is_protected=True
    )
    with pytest.raises(exc.ForbiddenException, match="is protected and cannot be deleted"):
        demo.image.delete_image(protected)
    demo.image.update_image(protected, is_protected=False)
    demo.image.delete_image(protected)
