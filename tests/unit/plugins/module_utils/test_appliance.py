# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Appliances, their image properties (Cloudkeeper-OS's names), dates and versions."""

from __future__ import annotations

import hashlib

import pytest

from ansible_collections.opensandbox.cloud.plugins.module_utils._appliance import (
    ApplianceError,
    appliance_from_properties,
    appliance_from_spec,
    appliance_properties,
    compare_versions,
    format_date,
    parse_date,
    property_changes,
    same_image_data,
    status_of,
)

SHA512 = hashlib.sha512(b"data").hexdigest()
MD5 = hashlib.md5(b"data").hexdigest()
SHA256 = hashlib.sha256(b"data").hexdigest()


def spec(**overrides):
    base = {
        "identifier": "c0482bc2-bf41-5d49-aaaa-a750174a186b",
        "title": "CernVM",
        "mpuri": "https://appdb.example/store/vo/image/c0482bc2:484/",
        "vo": "some1.vo.net",
        "image_list_identifier": "76fdee70-8119-5d33-aaaa-3c57e1c60df1",
        "ram": "512",
        "core": 1,
        "version": "3.3.0-1",
        "expiration_date": "2499-12-31T22:00:00Z",
        "attributes": {"hv:hypervisor": "KVM"},
        "image": {"location": "/srv/images/cernvm.ova", "format": "OVA", "checksum": SHA512, "size": 4},
    }
    base.update(overrides)
    return base


def test_properties_use_cloudkeeper_names_and_only_set_fields():
    props = appliance_properties(appliance_from_spec(spec()))
    assert props == {
        "APPLIANCE_ID": "c0482bc2-bf41-5d49-aaaa-a750174a186b",
        "APPLIANCE_IMAGE_LIST_ID": "76fdee70-8119-5d33-aaaa-3c57e1c60df1",
        "APPLIANCE_TITLE": "CernVM",
        "APPLIANCE_MPURI": "https://appdb.example/store/vo/image/c0482bc2:484/",
        "APPLIANCE_VERSION": "3.3.0-1",
        "APPLIANCE_VO": "some1.vo.net",
        "APPLIANCE_RAM": "512",
        "APPLIANCE_CORE": "1",
        "APPLIANCE_EXPIRATION_DATE": "16725218400",
        "APPLIANCE_ATTRIBUTES": '{"hv:hypervisor":"KVM"}',
        "APPLIANCE_STATUS": "ACTIVE",
        "APPLIANCE_IMAGE_CHECKSUM": f"sha512:{SHA512}",
        "vmcatcher_event_ad_mpuri": "https://appdb.example/store/vo/image/c0482bc2:484/",
    }
    assert all(isinstance(value, str) for value in props.values())


def test_properties_round_trip_to_the_appliance_fields():
    appliance = appliance_from_spec(spec(description="A test image", group="General", appid="484"))
    rebuilt = appliance_from_properties(appliance_properties(appliance))
    fields = appliance.fields()
    assert rebuilt == fields
    assert rebuilt["expiration_date"] == "2499-12-31T22:00:00Z"
    assert rebuilt["ram"] == 512


def test_properties_a_cloudkeeper_deployment_wrote_are_read_back():
    # Cloudkeeper-OS: no status before it wrote one, attributes as JSON, RAM as a number string.
    cloudkeeper = {
        "APPLIANCE_ID": "662b0e71",
        "APPLIANCE_IMAGE_LIST_ID": "76fdee70",
        "APPLIANCE_TITLE": "CentOS 6 minimal",
        "APPLIANCE_RAM": "1024",
        "APPLIANCE_EXPIRATION_DATE": "1735689600",
        "APPLIANCE_ATTRIBUTES": '{"ad:user:fullname": "Barry Allen"}',
        "vmcatcher_event_ad_mpuri": "https://appdb.example/x",
    }
    rebuilt = appliance_from_properties(cloudkeeper)
    assert rebuilt["identifier"] == "662b0e71"
    assert rebuilt["ram"] == 1024
    assert rebuilt["expiration_date"] == "2025-01-01T00:00:00Z"
    assert rebuilt["attributes"] == {"ad:user:fullname": "Barry Allen"}
    assert status_of(cloudkeeper) == "ACTIVE"
    assert status_of({"APPLIANCE_STATUS": "EOL"}) == "EOL"


def test_values_someone_else_wrote_badly_are_returned_as_found():
    rebuilt = appliance_from_properties({"APPLIANCE_RAM": "lots", "APPLIANCE_ATTRIBUTES": "not json"})
    assert rebuilt["ram"] == "lots"
    assert rebuilt["attributes"] == "not json"


def test_property_changes_set_what_differs_and_remove_what_is_gone():
    current = {**appliance_properties(appliance_from_spec(spec(description="old"))), "os_distro": "centos"}
    wanted = appliance_properties(appliance_from_spec(spec(version="3.4.0")))
    assert property_changes(current, wanted) == {"APPLIANCE_VERSION": "3.4.0", "APPLIANCE_DESCRIPTION": None}
    assert property_changes(wanted, wanted) == {}


@pytest.mark.parametrize(
    ("value", "epoch"),
    [
        ("2499-12-31T22:00:00Z", 16725218400),
        ("2025-01-01", 1735689600),
        ("2025-01-01T01:00:00+01:00", 1735689600),
        (1735689600, 1735689600),
        ("1735689600", 1735689600),
        ("", None),
        (None, None),
    ],
)
def test_dates(value, epoch):
    assert parse_date(value) == epoch


def test_a_bad_date_names_the_field():
    with pytest.raises(ApplianceError, match=r"appliance\.expiration_date: 'next tuesday' is not a date"):
        appliance_from_spec(spec(expiration_date="next tuesday"))
    assert format_date(0) == "1970-01-01T00:00:00Z"


def test_expiry():
    appliance = appliance_from_spec(spec(expiration_date="2025-01-01T00:00:00Z"))
    assert appliance.expired(1735689600)
    assert not appliance.expired(1735689599)
    assert not appliance_from_spec(spec(expiration_date=None)).expired(10**12)


@pytest.mark.parametrize(
    ("older", "newer"),
    [("1.9", "1.10"), ("3.3.0", "3.3.0-1"), ("20140901", "20141029"), ("", "0.1"), ("1.0", "1.0.1"), ("v2", "v10")],
)
def test_versions_compare_numbers_as_numbers(older, newer):
    assert compare_versions(older, newer) == -1
    assert compare_versions(newer, older) == 1
    assert compare_versions(newer, newer) == 0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"identifier": " "}, r"appliance\.identifier: every appliance needs its identifier"),
        ({"ram": "-1"}, r"appliance\.ram: must not be negative"),
        ({"core": "two"}, r"appliance\.core: expected a whole number"),
        ({"attributes": ["a"]}, r"appliance\.attributes: expected a dictionary"),
        ({"image": None}, r"appliance\.image: give the image's location, format and checksum"),
        ({"image": {"format": "raw", "checksum": SHA512}}, r"appliance\.image\.location: give a local path"),
        ({"image": {"location": "/x", "format": "iso", "checksum": SHA512}}, r"'iso' is not one of raw, qcow2"),
        ({"image": {"location": "/x", "checksum": ""}}, r"image\.checksum: the image's sha512 checksum is required"),
        ({"image": {"location": "/x", "checksum": MD5}}, r"expected 128 hex digits for sha512, got 32"),
        ({"image": {"location": "/x", "checksum": SHA512, "checksum_algorithm": "crc32"}}, r"'crc32' is not one of"),
        ({"image": {"location": "/x", "checksum": SHA512, "size": "big"}}, r"image\.size: expected a whole number"),
    ],
)
def test_bad_input_names_the_field(overrides, message):
    with pytest.raises(ApplianceError, match=message):
        appliance_from_spec(spec(**overrides))


def test_checksum_may_name_its_algorithm():
    image = appliance_from_spec(
        spec(image={"location": "http://h/x.img", "checksum": f"SHA256:{SHA256.upper()}"})
    ).image
    assert (image.checksum_algorithm, image.checksum, image.format, image.remote) == ("sha256", SHA256, "raw", True)
    assert "password" not in image.to_dict()


def test_same_image_data_trusts_glance_hashes_then_the_recorded_checksum():
    source = appliance_from_spec(spec()).image
    glance = {"size": 4, "checksum": MD5, "hash_algo": "sha512", "hash_value": SHA512, "properties": {}}
    assert same_image_data(glance, source) is True
    assert same_image_data({**glance, "size": 5}, source) is False
    assert same_image_data({**glance, "hash_value": "0" * 128}, source) is False
    sha256 = appliance_from_spec(spec(image={"location": "/x", "checksum": SHA256, "checksum_algorithm": "sha256"}))
    assert same_image_data(glance, sha256.image) is None
    recorded = {**glance, "properties": {"APPLIANCE_IMAGE_CHECKSUM": f"sha256:{SHA256}"}}
    assert same_image_data(recorded, sha256.image) is True
    md5 = appliance_from_spec(spec(image={"location": "/x", "checksum": MD5, "checksum_algorithm": "md5"}))
    assert same_image_data(glance, md5.image) is True
