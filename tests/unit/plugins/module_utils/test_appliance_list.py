# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Image lists (plain and clear-signed) and VO mappings (mapping.json and voms.json)."""

from __future__ import annotations

import copy
import hashlib
import json

import pytest

from ansible_collections.opensandbox.cloud.plugins.module_utils._appliance import ApplianceError
from ansible_collections.opensandbox.cloud.plugins.module_utils._appliance_list import (
    cloudkeeper_digest,
    document_from_text,
    parse_image_list,
    project_for_vo,
    vo_mapping,
)

SHA512 = hashlib.sha512(b"cernvm").hexdigest()
LIST = {
    "hv:imagelist": {
        "dc:date:created": "2015-06-18T21:14:00Z",
        "dc:date:expires": "2499-12-31T22:00:00Z",
        "dc:description": "A VO-wide image list.",
        "dc:identifier": "76fdee70-8119-5d33-aaaa-3c57e1c60df1",
        "dc:source": "https://appdb.example/",
        "dc:title": "Dummy image list",
        "ad:vo": "some1.vo.net",
        "hv:endorser": {"hv:x509": {"dc:creator": "Applications Database"}},
        "hv:images": [
            {
                "hv:image": {
                    "dc:description": "CernVM, modified",
                    "dc:identifier": "c0482bc2-bf41-5d49-aaaa-a750174a186b",
                    "ad:mpuri": "https://appdb.example/store/vo/image/c0482bc2:484/",
                    "dc:title": "Image for CernVM [Scientific Linux/6.0/KVM]",
                    "ad:group": "General group",
                    "hv:hypervisor": "KVM",
                    "hv:format": "OVA",
                    "hv:ram_minimum": "512",
                    "hv:core_minimum": "1",
                    "hv:size": "6",
                    "hv:uri": "https://appdb.example/images/cernvm.ova",
                    "hv:version": "3.3.0-1",
                    "dc:date:expires": "2499-12-31T22:00:00Z",
                    "sl:arch": "x86_64",
                    "sl:checksum:sha512": SHA512,
                    "sl:comments": "",
                    "sl:os": "Linux",
                    "sl:osname": "Scientific Linux",
                    "sl:osversion": "6.0",
                    "ad:user:fullname": "Bruce Wayne",
                }
            },
            {
                "hv:image": {
                    "dc:identifier": "662b0e71-3e21-bbbb-b6a1-cc2f51319fa7",
                    "ad:mpuri": "https://appdb.example/store/vo/image/662b0e71:485/",
                    "dc:title": "Image for CentOS 6 minimal",
                    "hv:format": "qcow2",
                    "hv:uri": "https://appdb.example/images/centos.qcow2",
                    "hv:version": "20141029",
                    "sl:checksum:sha256": hashlib.sha256(b"centos").hexdigest(),
                }
            },
        ],
        "hv:uri": "https://appdb.example/store/vo/some1.vo.net/image.list",
        "hv:version": "20150618211400",
    }
}


def test_parse_maps_the_list_keys_onto_appliance_fields():
    image_list = parse_image_list(LIST)
    assert image_list.identifier == "76fdee70-8119-5d33-aaaa-3c57e1c60df1"
    assert image_list.vo == "some1.vo.net"
    assert image_list.expires == 16725218400
    assert not image_list.signed
    cernvm, centos = image_list.appliances
    assert cernvm.identifier == "c0482bc2-bf41-5d49-aaaa-a750174a186b"
    assert cernvm.title == "Image for CernVM [Scientific Linux/6.0/KVM]"
    assert cernvm.operating_system == "Linux Scientific Linux 6.0"
    assert (cernvm.ram, cernvm.core, cernvm.architecture, cernvm.group) == (512, 1, "x86_64", "General group")
    assert cernvm.vo == "some1.vo.net"
    assert cernvm.image_list_identifier == image_list.identifier
    assert cernvm.attributes == {"hv:hypervisor": "KVM", "ad:user:fullname": "Bruce Wayne"}
    assert cernvm.digest == cloudkeeper_digest(LIST["hv:imagelist"]["hv:images"][0]["hv:image"])
    image = cernvm.image
    assert (image.location, image.format, image.checksum_algorithm, image.size) == (
        "https://appdb.example/images/cernvm.ova",
        "ova",
        "sha512",
        6,
    )
    # No per-image expiry: the list's applies. The strongest checksum given is used.
    assert centos.expiration_date == image_list.expires
    assert centos.image.checksum_algorithm == "sha256"
    assert image_list.summary()["appliances"] == [cernvm.identifier, centos.identifier]
    assert image_list.summary()["expires"] == "2499-12-31T22:00:00Z"


def test_the_inner_object_alone_is_accepted():
    assert parse_image_list(LIST["hv:imagelist"]).identifier == LIST["hv:imagelist"]["dc:identifier"]


def test_digest_changes_with_the_metadata_only():
    entry = dict(LIST["hv:imagelist"]["hv:images"][0]["hv:image"])
    digest = cloudkeeper_digest(entry)
    assert digest == cloudkeeper_digest({**entry, "hv:uri": "https://mirror.example/cernvm.ova"})
    assert digest != cloudkeeper_digest({**entry, "hv:version": "3.3.0-2"})


def test_clear_signed_smime_is_unwrapped_and_flagged():
    signed = (
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/signed; protocol="application/x-pkcs7-signature"; micalg="sha-256"; '
        'boundary="----B"\n\nThis is an S/MIME signed message\n\n------B\n'
        + json.dumps(LIST, indent=3)
        + "\n\n------B\n"
        'Content-Type: application/x-pkcs7-signature; name="smime.p7s"\n\nMIAGCSqGSIb3DQEHAqCAMIACAQE=\n\n------B--\n'
    )
    document, was_signed = document_from_text(signed, "list.signed")
    assert was_signed
    assert parse_image_list(document, signed=was_signed).signed
    assert document == LIST


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-----BEGIN PKCS7-----\nMIIB\n-----END PKCS7-----", r"opaque PKCS#7"),
        ("{not json", r"src is not valid JSON"),
        ("[1, 2]", r"must hold a JSON object"),
        ("hello", r"neither JSON nor a clear-signed"),
    ],
)
def test_unreadable_documents_say_why(text, message):
    with pytest.raises(ApplianceError, match=message):
        document_from_text(text, "src")


def broken(path, value):
    document = copy.deepcopy(LIST)
    target = document["hv:imagelist"]
    *parents, last = path
    for key in parents:
        target = target[key]
    if value is None:
        del target[last]
    else:
        target[last] = value
    return document


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (["dc:identifier"], None, r"the list has no 'dc:identifier'"),
        (["hv:images"], "x", r"'hv:images' must be a list"),
        (["dc:date:expires"], "soon", r"'dc:date:expires'"),
        (["hv:images", 0, "hv:image", "hv:uri"], None, r"\[0\] \(c0482bc2-.*\) 'hv:uri': give a local path"),
        (["hv:images", 0, "hv:image", "hv:format"], "VDI", r"\[0\] \(c0482bc2-.*\) 'hv:format': 'vdi' is not one of"),
        (["hv:images", 1, "hv:image", "sl:checksum:sha256"], None, r"\[1\] \(662b0e71-.*\) 'sl:checksum:sha512'"),
        (["hv:images", 0, "hv:image", "hv:ram_minimum"], "lots", r"'hv:ram_minimum': expected a whole number"),
        (["hv:images", 1, "hv:image", "dc:identifier"], None, r"\[1\] \(#1\) 'dc:identifier': every appliance"),
        (["hv:images", 1], "x", r"\[1\]: expected an object with 'hv:image'"),
    ],
)
def test_bad_lists_name_the_entry_and_the_key(path, value, message):
    with pytest.raises(ApplianceError, match=message):
        parse_image_list(broken(path, value))


def test_an_appliance_listed_twice_is_refused():
    document = copy.deepcopy(LIST)
    images = document["hv:imagelist"]["hv:images"]
    images.append(copy.deepcopy(images[0]))
    with pytest.raises(ApplianceError, match=r"appliance 'c0482bc2-.*' is listed twice"):
        parse_image_list(document)


@pytest.mark.parametrize("key", ["project", "tenant"])
def test_vo_mapping_files_in_either_key_style(tmp_path, key):
    path = tmp_path / "mapping.json"
    path.write_text(json.dumps({"dteam": {key: "EGI_dteam"}, "ops": {key: "EGI_ops"}}))
    assert vo_mapping(str(path)) == {"dteam": "EGI_dteam", "ops": "EGI_ops"}


def test_vo_mapping_dicts_and_plain_names():
    assert vo_mapping({"dteam": "demo", "ops": {"tenant": "alt_demo"}}) == {"dteam": "demo", "ops": "alt_demo"}
    assert vo_mapping(None) == {}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"dteam": {"owner": "x"}}, r"VO 'dteam' has neither 'project' nor 'tenant'"),
        ({"dteam": ""}, r"VO 'dteam' must map to a project name or ID"),
        (["dteam"], r"expected an object of VO names"),
        ("/nonexistent/mapping.json", r"vo_mapping: cannot read /nonexistent/mapping.json"),
    ],
)
def test_bad_vo_mappings(value, message):
    with pytest.raises(ApplianceError, match=message):
        vo_mapping(value)


def test_a_vo_mapping_file_that_is_not_json(tmp_path):
    path = tmp_path / "voms.json"
    path.write_text("dteam: EGI_dteam")
    with pytest.raises(ApplianceError, match=r"vo_mapping \(.*voms.json\): not valid JSON"):
        vo_mapping(str(path))


def test_an_unmapped_vo_fails_with_the_mapped_ones():
    mapping = {"dteam": "EGI_dteam", "ops": "EGI_ops"}
    assert project_for_vo(mapping, "ops", "x") == "EGI_ops"
    with pytest.raises(ApplianceError, match=r"VO 'biomed'.*\(mapped: dteam, ops\)"):
        project_for_vo(mapping, "biomed", "c0482bc2")
