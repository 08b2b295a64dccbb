"""Glance v2's rules over raw HTTP (through openstacksdk's authenticated adapter).

Visibility and members, protected images, validation, JSON-patch rules,
pagination, filters, sorting, schemas, discovery and webob-style errors.
"""

from __future__ import annotations

import time
import urllib.parse
import uuid

import pytest
import requests

PATCH = {"Content-Type": "application/openstack-images-v2.1-json-patch"}
JSON = {"Accept": "application/json"}


def _n(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def _message(response) -> str:
    """The message of a webob JSON error body (asked for with ``Accept: application/json``)."""
    return response.json()["message"]


def _create(conn, **body):
    response = conn.image.post("/images", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _names(conn, **query) -> list[str]:
    response = conn.image.get("/images?" + urllib.parse.urlencode(query, doseq=True))
    assert response.status_code == 200, response.text
    return [i["name"] for i in response.json()["images"]]


def _project(conn) -> str:
    return conn.session.get_project_id()


# -- discovery, schemas, errors ----------------------------------------------------------------


def test_version_discovery(sim):
    for path in ("/image", "/image/"):
        response = requests.get(sim.url + path)
        assert response.status_code == 300
        versions = response.json()["versions"]
        assert versions[0] == {
            "id": "v2.16",
            "status": "CURRENT",
            "links": [{"rel": "self", "href": f"{sim.url}/image/v2/"}],
        }
        assert {v["id"] for v in versions} >= {"v2.0", "v2.1", "v2.9", "v2.15"}
        assert all(v["status"] == "SUPPORTED" for v in versions[1:])
    explicit = requests.get(sim.url + "/image/versions")
    assert explicit.status_code == 200 and explicit.json()["versions"] == versions


def test_catalog_and_sdk_discovery(demo):
    endpoint = demo.session.get_endpoint(service_type="image", interface="public")
    assert endpoint.endswith("/image")
    assert demo.image.get_endpoint().endswith("/image/v2/")


def test_schemas(demo):
    image = demo.image.get("/schemas/image").json()
    assert image["name"] == "image" and image["additionalProperties"] == {"type": "string"}
    props = image["properties"]
    assert props["visibility"]["enum"] == ["community", "public", "private", "shared"]
    assert "docker" in props["container_format"]["enum"] and None in props["disk_format"]["enum"]
    assert props["status"]["readOnly"] is True and props["os_hidden"]["type"] == "boolean"
    images = demo.image.get("/schemas/images").json()
    assert images["properties"]["images"]["items"]["properties"] == props
    assert {link["rel"] for link in images["links"]} == {"first", "next", "describedby"}
    member = demo.image.get("/schemas/member").json()
    assert member["properties"]["status"]["enum"] == ["pending", "accepted", "rejected"]
    assert demo.image.get("/schemas/members").json()["properties"]["members"]["items"] == member


def test_errors_are_webob_pages_chosen_by_accept(demo, sim):
    token = demo.session.get_token()
    url = f"{sim.url}/image/v2/images/no-such-image"
    as_json = requests.get(url, headers={"X-Auth-Token": token, "Accept": "application/json"})
    assert as_json.status_code == 404
    assert as_json.json() == {
        "message": "No image found with ID no-such-image<br /><br />\n\n\n",
        "code": "404 Not Found",
        "title": "Not Found",
    }
    as_html = requests.get(url, headers={"X-Auth-Token": token, "Accept": "*/*"})
    assert as_html.headers["Content-Type"].startswith("text/html")
    assert "<title>404 Not Found</title>" in as_html.text and "No image found with ID no-such-image" in as_html.text
    as_text = requests.get(url, headers={"X-Auth-Token": token, "Accept": ""})
    assert as_text.headers["Content-Type"].startswith("text/plain")
    assert as_text.text.startswith("404 Not Found\n\nNo image found with ID no-such-image")
    # keystonemiddleware, not Glance, turns away a request without a token
    anonymous = requests.get(f"{sim.url}/image/v2/images")
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == 401
    assert "WWW-Authenticate" in anonymous.headers


# -- create and validation -----------------------------------------------------------------------


def test_create_defaults_and_client_id(demo):
    image_id = str(uuid.uuid4())
    response = demo.image.post("/images", json={"id": image_id, "name": _n("id"), "os_distro": "ubuntu"})
    assert response.status_code == 201
    assert response.headers["Location"].endswith(f"/image/v2/images/{image_id}")
    assert response.headers["OpenStack-image-import-methods"] == "glance-direct,web-download"
    body = response.json()
    assert body["id"] == image_id and body["status"] == "queued" and body["visibility"] == "shared"
    assert body["owner"] == _project(demo) and body["protected"] is False and body["os_hidden"] is False
    assert body["min_disk"] == 0 and body["min_ram"] == 0 and body["size"] is None and body["checksum"] is None
    assert body["os_distro"] == "ubuntu" and body["tags"] == [] and body["self"] == f"/v2/images/{image_id}"
    assert body["created_at"].endswith("Z") and len(body["created_at"]) == 20
    again = demo.image.post("/images", json={"id": image_id}, headers=JSON)
    assert again.status_code == 409 and f"Image with identifier {image_id} already exists!" in _message(again)
    assert demo.image.delete(f"/images/{image_id}").status_code == 204


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"disk_format": "floppy"}, 400, ["'floppy' is not one of", "'qcow2'", "'ploop'", "['disk_format']"]),
        ({"container_format": "zip"}, 400, ["'zip' is not one of", "'docker'", "['container_format']"]),
        ({"visibility": "everyone"}, 400, ["'everyone' is not one of", "['visibility']"]),
        ({"min_ram": "512"}, 400, ["'512' is not of type 'integer'", "['min_ram']"]),
        ({"protected": "yes"}, 400, ["'yes' is not of type 'boolean'"]),
        ({"name": "x" * 256}, 400, ["is too long", "['name']"]),
        ({"id": "not-a-uuid"}, 400, ["does not match", "['id']"]),
        ({"tags": ["ok", 3]}, 400, ["3 is not of type 'string'", "['tags']['items']"]),
        ({"hw_disk_bus": 1}, 400, ["1 is not of type 'string'", "additionalProperties"]),
        ({"min_disk": -1}, 400, ["Invalid value '-1' for parameter 'min_disk': Cannot be a negative value"]),
        ({"status": "active"}, 403, ["Attribute 'status' is read-only."]),
        ({"self": "/x"}, 403, ["Attribute 'self' is read-only."]),
        ({"os_glance_import_task": "x"}, 403, ["Attribute 'os_glance_import_task' is reserved."]),
        ({"locations": []}, 403, ["Attribute 'locations' is reserved."]),
        ({"visibility": "public"}, 403, ["You are not authorized to complete publicize_image action."]),
        ({"owner": "someone-else"}, 403, ["You are not permitted to create images owned by 'someone-else'."]),
    ],
)
def test_create_is_validated_as_glance_does(demo, body, status, words):
    response = demo.image.post("/images", json={"name": _n("bad"), **body}, headers=JSON)
    assert response.status_code == status
    message = _message(response)
    for word in words:
        assert word in message
    if status == 400 and "Invalid value" not in message:
        assert message.startswith("Provided object does not match schema 'image': ")


def test_admin_may_publish_and_give_images_away(admin, demo):
    image = _create(admin, name=_n("pub"), visibility="public", owner=_project(demo))
    assert image["visibility"] == "public" and image["owner"] == _project(demo)
    assert demo.image.get(f"/images/{image['id']}").status_code == 200
    assert admin.image.delete(f"/images/{image['id']}").status_code == 204


# -- JSON patch -----------------------------------------------------------------------------------------


def test_patch_base_and_custom_properties(demo):
    image = _create(demo, name=_n("patch"), disk_format="raw", container_format="bare", color="red")
    url = f"/images/{image['id']}"
    ops = [
        {"op": "replace", "path": "/name", "value": "renamed"},
        {"op": "add", "path": "/min_ram", "value": 512},
        {"op": "add", "path": "/os_distro", "value": "debian"},
        {"op": "replace", "path": "/color", "value": "blue"},
        {"op": "replace", "path": "/tags", "value": ["b", "a"]},
        {"op": "replace", "path": "/disk_format", "value": "qcow2"},
        {"op": "replace", "path": "/visibility", "value": "community"},
        {"op": "replace", "path": "/os_hidden", "value": True},
    ]
    response = demo.image.patch(url, json=ops, headers=PATCH)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name"], body["min_ram"], body["os_distro"], body["color"]) == ("renamed", 512, "debian", "blue")
    assert sorted(body["tags"]) == ["a", "b"] and body["disk_format"] == "qcow2"
    assert body["visibility"] == "community" and body["os_hidden"] is True
    removed = demo.image.patch(url, json=[{"op": "remove", "path": "/color"}], headers=PATCH).json()
    assert "color" not in removed
    # the v2.0 (draft 4) dialect too
    old = {"Content-Type": "application/openstack-images-v2.0-json-patch"}
    assert demo.image.patch(url, json=[{"replace": "/name", "value": "d4"}], headers=old).json()["name"] == "d4"
    demo.image.delete(url)


@pytest.mark.parametrize(
    ("ops", "status", "message"),
    [
        ([{"op": "replace", "path": "/status", "value": "active"}], 403, "Attribute 'status' is read-only."),
        ([{"op": "replace", "path": "/checksum", "value": "x"}], 403, "Attribute 'checksum' is read-only."),
        ([{"op": "add", "path": "/os_glance_x", "value": "x"}], 403, "Attribute 'os_glance_x' is reserved."),
        ([{"op": "remove", "path": "/name"}], 403, "Property name may not be removed."),
        ([{"op": "remove", "path": "/nope"}], 409, "Property nope does not exist."),
        ([{"op": "replace", "path": "/nope", "value": "x"}], 409, "Property nope does not exist."),
        ([{"op": "replace", "path": "/owner", "value": "x"}], 403, "Owner can't be updated by non admin."),
        ([{"op": "replace", "path": "/visibility", "value": "public"}], 403, "publicize_image"),
        ([{"op": "replace", "path": "/disk_format", "value": "bad"}], 400, "'bad' is not one of"),
        ([{"op": "move", "path": "/name"}], 400, "Invalid operation: `move`."),
        ([{"op": "add", "path": "/name"}], 400, 'Operation "add" requires a member named "value".'),
        ([{"op": "add", "path": "name", "value": "x"}], 400, 'Pointer `name` does not start with "/".'),
        ([{"op": "add", "path": "/a/b", "value": "x"}], 400, "Invalid JSON pointer for this resource: '/a/b'"),
        ({"op": "add"}, 400, "Request body must be a JSON array of operation objects."),
        ([{"op": "add", "path": "/locations/-", "value": {}}], 403, "locations are invisible"),
    ],
)
def test_patch_rules(demo, ops, status, message):
    image = _create(demo, name=_n("rules"))
    response = demo.image.patch(f"/images/{image['id']}", json=ops, headers={**PATCH, **JSON})
    assert response.status_code == status
    assert message in _message(response)
    demo.image.delete(f"/images/{image['id']}")


def test_patch_needs_the_patch_media_type(demo):
    image = _create(demo, name=_n("media"))
    response = demo.image.patch(f"/images/{image['id']}", json=[], headers={"Content-Type": "application/json"})
    assert response.status_code == 415
    assert response.headers["Accept-Patch"] == (
        "application/openstack-images-v2.0-json-patch, application/openstack-images-v2.1-json-patch"
    )
    demo.image.delete(f"/images/{image['id']}")


def test_formats_are_fixed_once_data_is_in(demo):
    image = _create(demo, name=_n("fixed"), disk_format="raw", container_format="bare")
    demo.image.put(f"/images/{image['id']}/file", data=b"data", headers={"Content-Type": "application/octet-stream"})
    ops = [{"op": "replace", "path": "/disk_format", "value": "qcow2"}]
    response = demo.image.patch(f"/images/{image['id']}", json=ops, headers={**PATCH, **JSON})
    assert response.status_code == 403
    assert _message(response).startswith("Attribute disk_format can be only replaced for a queued image.")
    demo.image.delete(f"/images/{image['id']}")


# -- tags, protection, ownership ------------------------------------------------------------------------


def test_tags_subresource(demo):
    image = _create(demo, name=_n("tags"))
    url = f"/images/{image['id']}"
    assert demo.image.put(f"{url}/tags/blue").status_code == 204
    assert demo.image.put(f"{url}/tags/blue").status_code == 204  # idempotent
    assert demo.image.put(f"{url}/tags/green").status_code == 204
    assert sorted(demo.image.get(url).json()["tags"]) == ["blue", "green"]
    assert demo.image.delete(f"{url}/tags/blue").status_code == 204
    assert demo.image.delete(f"{url}/tags/blue").status_code == 404
    assert demo.image.get(url).json()["tags"] == ["green"]
    demo.image.delete(url)


def test_protected_image_cannot_be_deleted(demo):
    image = _create(demo, name=_n("prot"), protected=True)
    url = f"/images/{image['id']}"
    refused = demo.image.delete(url, headers=JSON)
    assert refused.status_code == 403
    assert _message(refused).startswith(f"Image {image['id']} is protected and cannot be deleted.")
    demo.image.patch(url, json=[{"op": "replace", "path": "/protected", "value": False}], headers=PATCH)
    assert demo.image.delete(url).status_code == 204
    assert demo.image.get(url).status_code == 404


def test_others_private_images_are_invisible(demo, alt):
    private = _create(alt, name=_n("altpriv"), visibility="private")
    url = f"/images/{private['id']}"
    for method in ("get", "delete"):
        response = getattr(demo.image, method)(url, headers=JSON)
        assert response.status_code == 404
        assert _message(response).startswith(f"No image found with ID {private['id']}")
    patched = demo.image.patch(url, json=[{"op": "replace", "path": "/name", "value": "x"}], headers=PATCH)
    assert patched.status_code == 404
    assert demo.image.get(f"{url}/file").status_code == 404
    assert demo.image.get(f"{url}/members").status_code == 404
    assert private["name"] not in _names(demo, visibility="all")
    assert alt.image.get(url).status_code == 200
    alt.image.delete(url)


def test_public_images_are_read_only_to_others(admin, demo):
    public = _create(admin, name=_n("pubro"), visibility="public")
    url = f"/images/{public['id']}"
    assert demo.image.get(url).status_code == 200
    patched = demo.image.patch(url, json=[{"op": "replace", "path": "/name", "value": "x"}], headers={**PATCH, **JSON})
    assert patched.status_code == 403 and "modify_image" in _message(patched)
    deleted = demo.image.delete(url, headers=JSON)
    assert deleted.status_code == 403 and "delete_image" in _message(deleted)
    admin.image.delete(url)


def test_community_images_are_found_when_asked_for(demo, alt):
    community = _create(alt, name=_n("comm"), visibility="community")
    assert community["name"] not in _names(demo)
    assert community["name"] in _names(demo, visibility="community")
    assert community["name"] in _names(alt)  # its owner lists it
    assert demo.image.get(f"/images/{community['id']}").status_code == 200
    alt.image.delete(f"/images/{community['id']}")


def test_admin_sees_every_image(admin, demo):
    private = _create(demo, name=_n("demopriv"), visibility="private")
    assert private["name"] in _names(admin)
    assert admin.image.get(f"/images/{private['id']}").status_code == 200
    demo.image.delete(f"/images/{private['id']}")


# -- members -----------------------------------------------------------------------------------------------


def test_member_lifecycle_and_rules(demo, alt):
    image = _create(demo, name=_n("shared"), disk_format="raw", container_format="bare")
    url = f"/images/{image['id']}"
    alt_id = _project(alt)
    assert demo.image.get(f"{url}/members").json() == {"members": [], "schema": "/v2/schemas/members"}
    # not shared with alt yet: invisible to it
    assert alt.image.get(url).status_code == 404

    member = demo.image.post(f"{url}/members", json={"member": alt_id}).json()
    assert member == {
        "member_id": alt_id,
        "image_id": image["id"],
        "status": "pending",
        "created_at": member["created_at"],
        "updated_at": member["updated_at"],
        "schema": "/v2/schemas/member",
    }
    duplicate = demo.image.post(f"{url}/members", json={"member": alt_id}, headers=JSON)
    assert duplicate.status_code == 409
    assert _message(duplicate).startswith(f"Member {alt_id} is duplicated for image {image['id']}")

    # pending: alt sees it by id and with member_status, not in its default list
    assert alt.image.get(url).status_code == 200
    assert image["name"] not in _names(alt)
    assert image["name"] in _names(alt, member_status="pending")
    assert image["name"] in _names(alt, member_status="all")
    assert image["name"] in _names(alt, visibility="shared", member_status="all")

    # only the member sets its status; the owner cannot
    by_owner = demo.image.put(f"{url}/members/{alt_id}", json={"status": "accepted"}, headers=JSON)
    assert by_owner.status_code == 403 and "Not allowed to update members" in _message(by_owner)
    invalid = alt.image.put(f"{url}/members/{alt_id}", json={"status": "maybe"}, headers=JSON)
    assert invalid.status_code == 400
    assert _message(invalid).startswith('Incorrect request: Status must be "pending", "accepted" or "rejected".')
    accepted = alt.image.put(f"{url}/members/{alt_id}", json={"status": "accepted"})
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert image["name"] in _names(alt)
    assert alt.image.get(f"{url}/members/{alt_id}").json()["status"] == "accepted"
    assert [m["member_id"] for m in alt.image.get(f"{url}/members").json()["members"]] == [alt_id]
    # a member may read the data but not change the image or its members
    demo.image.put(f"{url}/file", data=b"shared bytes", headers={"Content-Type": "application/octet-stream"})
    assert alt.image.get(f"{url}/file").content == b"shared bytes"
    assert alt.image.delete(f"{url}/members/{alt_id}").status_code == 403
    assert alt.image.post(f"{url}/members", json={"member": "another"}).status_code == 403
    assert alt.image.delete(url).status_code == 403

    rejected = alt.image.put(f"{url}/members/{alt_id}", json={"status": "rejected"})
    assert rejected.json()["status"] == "rejected"
    assert image["name"] not in _names(alt)
    assert image["name"] in _names(alt, member_status="rejected")

    assert demo.image.delete(f"{url}/members/{alt_id}").status_code == 204
    assert alt.image.get(url).status_code == 404
    missing = demo.image.get(f"{url}/members/{alt_id}", headers=JSON)
    assert missing.status_code == 404
    assert _message(missing).startswith(f"{alt_id} not found in the member list of the image {image['id']}.")
    demo.image.delete(url)


def test_only_shared_images_have_members(demo):
    image = _create(demo, name=_n("priv"), visibility="private")
    url = f"/images/{image['id']}"
    listed = demo.image.get(f"{url}/members", headers=JSON)
    assert listed.status_code == 403
    assert _message(listed).startswith(
        f"Not allowed to list members for image {image['id']}: Only shared images have members."
    )
    added = demo.image.post(f"{url}/members", json={"member": "p"}, headers=JSON)
    assert added.status_code == 403 and _message(added).startswith(
        f"Not allowed to create members for image {image['id']}."
    )
    empty = demo.image.post(f"/images/{image['id']}/members", json={"member": ""}, headers=JSON)
    assert empty.status_code == 400 and _message(empty).startswith("Member can't be empty")
    demo.image.delete(url)


# -- lists: pagination, filters, sorting --------------------------------------------------------------------


@pytest.fixture
def listed(demo):
    """Five images with a tag of their own, made a little apart so created_at differs."""
    tag = _n("page")
    made = []
    for i, name in enumerate(["delta", "alpha", "echo", "charlie", "bravo"]):
        body = {"name": f"{tag}-{name}", "tags": [tag, f"n{i}"], "disk_format": "raw", "container_format": "bare"}
        if i % 2 == 0:
            body["flavour"] = "even"
        image = _create(demo, **body)
        if i < 3:
            demo.image.put(
                f"/images/{image['id']}/file",
                data=b"x" * (10 ** (i + 1)),
                headers={"Content-Type": "application/octet-stream"},
            )
        made.append(image)
        time.sleep(1.05 if i == 2 else 0)
    yield tag, made
    for image in made:
        demo.image.delete(f"/images/{image['id']}")


def test_pagination_with_limit_marker_and_next(demo, listed):
    tag, made = listed
    seen = []
    url = f"/images?tag={tag}&limit=2"
    pages = 0
    while url:
        body = demo.image.get(url).json()
        assert body["schema"] == "/v2/schemas/images"
        assert body["first"] == f"/v2/images?tag={tag}&limit=2"
        assert len(body["images"]) <= 2
        seen += [i["id"] for i in body["images"]]
        pages += 1
        url = body.get("next", "").removeprefix("/v2")
        if url:
            assert f"marker={body['images'][-1]['id']}" in url
    assert pages == 3 and sorted(seen) == sorted(i["id"] for i in made) and len(set(seen)) == 5
    # newest first by default
    assert seen[:2] == [made[4]["id"], made[3]["id"]]
    bad = demo.image.get("/images?marker=no-such-image", headers=JSON)
    assert bad.status_code == 400 and _message(bad).startswith("No image found with ID no-such-image")
    assert demo.image.get("/images?limit=x", headers=JSON).status_code == 400
    # the SDK pages through by itself
    assert len(list(demo.image.images(tag=tag, limit=1))) == 5


def test_filters(demo, listed):
    tag, made = listed
    names = [i["name"] for i in made]
    assert _names(demo, name=names[1]) == [names[1]]
    assert sorted(_names(demo, tag=[tag, "n2"])) == [names[2]]  # tags are ANDed
    assert sorted(_names(demo, tag=tag, status="active")) == sorted(names[:3])
    assert sorted(_names(demo, tag=tag, status="queued")) == sorted(names[3:])
    assert sorted(_names(demo, tag=tag, flavour="even")) == sorted(names[0::2])
    assert sorted(_names(demo, tag=tag, size_min=100)) == sorted(names[1:3])
    assert sorted(_names(demo, tag=tag, size_max=100)) == sorted(names[:2])
    assert sorted(_names(demo, tag=tag, name=f"in:{names[0]},{names[4]}")) == sorted([names[0], names[4]])
    assert sorted(_names(demo, tag=tag, owner=_project(demo))) == sorted(names)
    assert _names(demo, tag=tag, visibility="public") == []
    # created_at has whole seconds: the last two images may fall in two seconds, the first three
    # are a second and more before them (the fixture waits), so the fourth's time splits them.
    fourth = demo.image.get(f"/images/{made[3]['id']}").json()["created_at"]
    assert sorted(_names(demo, tag=tag, created_at=f"gte:{fourth}")) == sorted(names[3:])
    assert sorted(_names(demo, tag=tag, created_at=f"lt:{fourth}")) == sorted(names[:3])
    # hidden images drop out of lists unless asked for
    demo.image.patch(
        f"/images/{made[0]['id']}", json=[{"op": "replace", "path": "/os_hidden", "value": True}], headers=PATCH
    )
    assert names[0] not in _names(demo, tag=tag)
    assert _names(demo, tag=tag, os_hidden="true") == [names[0]]
    demo.image.patch(
        f"/images/{made[0]['id']}", json=[{"op": "replace", "path": "/os_hidden", "value": False}], headers=PATCH
    )
    for query, message in [
        ({"visibility": "everyone"}, "Invalid visibility value: everyone"),
        ({"member_status": "maybe"}, "Invalid status: maybe"),
        ({"os_hidden": "maybe"}, "Invalid value 'maybe' for 'os_hidden' filter."),
        ({"changes-since": "2020-01-01"}, 'The "changes-since" filter is no longer available on v2.'),
    ]:
        response = demo.image.get("/images?" + urllib.parse.urlencode(query), headers=JSON)
        assert response.status_code == 400 and _message(response).startswith(message)


def test_sorting(demo, listed):
    tag, made = listed
    names = [i["name"] for i in made]
    assert _names(demo, tag=tag, sort="name:asc") == sorted(names)
    assert _names(demo, tag=tag, sort="name:desc") == sorted(names, reverse=True)
    assert _names(demo, tag=tag, sort_key="name", sort_dir="asc") == sorted(names)
    by_status = _names(demo, tag=tag, sort="status:asc,name:desc")
    assert by_status == sorted(names[:3], reverse=True) + sorted(names[3:], reverse=True)
    by_size = _names(demo, tag=tag, sort_key=["size", "name"], sort_dir=["desc", "asc"])
    assert by_size[:3] == [names[2], names[1], names[0]]
    assert _names(demo, tag=tag, sort="created_at:asc") == names
    assert _names(demo, tag=tag) == names[::-1]  # created_at:desc by default
    for query, message in [
        ({"sort": "color:asc"}, "Invalid sort key: color. It must be one of the following: name, status,"),
        ({"sort": "name:up"}, "Invalid sort direction: up"),
        ({"sort": "name", "sort_key": "name"}, "Old and new sorting syntax cannot be combined"),
    ]:
        response = demo.image.get("/images?" + urllib.parse.urlencode(query), headers=JSON)
        assert response.status_code == 400 and _message(response).startswith(message)


# -- data edge cases ------------------------------------------------------------------------------------------


def test_data_edge_cases(demo):
    image = _create(demo, name=_n("data"), disk_format="raw", container_format="bare")
    url = f"/images/{image['id']}"
    assert demo.image.get(f"{url}/file").status_code == 204  # no data yet
    wrong = demo.image.put(f"{url}/file", data=b"abc", headers={"Content-Type": "text/plain", **JSON})
    assert wrong.status_code == 415 and _message(wrong).startswith("Invalid content type text/plain")
    assert demo.image.get(url).json()["status"] == "queued"
    demo.image.put(f"{url}/file", data=b"0123456789", headers={"Content-Type": "application/octet-stream"})
    ranged = demo.image.get(f"{url}/file", headers={"Range": "bytes=2-5"})
    assert ranged.status_code == 206 and ranged.content == b"2345"
    staged = demo.image.put(f"{url}/stage", data=b"x", headers={"Content-Type": "application/octet-stream", **JSON})
    assert staged.status_code == 409
    assert _message(staged).startswith("Image status transition from active to uploading is not allowed")
    usage = demo.image.get("/info/usage").json()["usage"]
    assert usage["image_count_total"]["usage"] >= 1 and usage["image_size_total"]["limit"] == -1
    demo.image.delete(url)
