# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""cloud_info's pure helpers; the module itself is tested against stacksim (tests/integration)."""

from __future__ import annotations

from ansible_collections.opensandbox.cloud.plugins.modules.cloud_info import (
    catalog_summary,
    current_project,
    token_summary,
)

V3_CATALOG = [
    {
        "type": "volumev3",
        "name": "cinderv3",
        "id": "s2",
        "endpoints": [
            {"interface": "public", "region": "RegionOne", "region_id": "RegionOne", "url": "http://h/volume/v3/p"}
        ],
    },
    {
        "type": "identity",
        "name": "keystone",
        "id": "s1",
        "endpoints": [
            {"interface": "public", "region_id": "RegionOne", "url": "http://h/identity"},
            {"interface": "admin", "region": "RegionOne", "url": "http://h/identity-admin"},
        ],
    },
]


def test_catalog_is_sorted_by_type_then_interface():
    catalog = catalog_summary(V3_CATALOG)
    assert [service["type"] for service in catalog] == ["identity", "volumev3"]
    identity = catalog[0]
    assert identity == {
        "type": "identity",
        "name": "keystone",
        "id": "s1",
        "endpoints": [
            {"interface": "admin", "region": "RegionOne", "url": "http://h/identity-admin"},
            {"interface": "public", "region": "RegionOne", "url": "http://h/identity"},
        ],
    }


def test_v2_catalog_endpoints_are_split_per_interface():
    v2 = [
        {
            "type": "compute",
            "name": "nova",
            "endpoints": [{"region": "R", "publicURL": "http://p", "adminURL": "http://a"}],
        }
    ]
    assert catalog_summary(v2)[0]["endpoints"] == [
        {"interface": "admin", "region": "R", "url": "http://a"},
        {"interface": "public", "region": "R", "url": "http://p"},
    ]
    assert catalog_summary([]) == []


def test_token_summary_reads_a_real_access_info():
    from keystoneauth1 import access as access_mod

    body = {
        "token": {
            "methods": ["password"],
            "issued_at": "2025-01-01T10:00:00.000000Z",
            "expires_at": "2025-01-01T11:00:00.000000Z",
            "user": {"id": "u1", "name": "demo", "domain": {"id": "default", "name": "Default"}},
            "project": {"id": "p1", "name": "demo", "domain": {"id": "default", "name": "Default"}},
            "roles": [{"id": "r2", "name": "reader"}, {"id": "r1", "name": "member"}],
            "catalog": V3_CATALOG,
        }
    }
    token = token_summary(access_mod.create(body=body, auth_token="tok"))
    assert token["user"] == {"id": "u1", "name": "demo", "domain_id": "default", "domain_name": "Default"}
    assert token["project"] == {"id": "p1", "name": "demo", "domain_id": "default", "domain_name": "Default"}
    assert token["roles"] == ["member", "reader"]
    assert token["domain"] is None and token["system_scoped"] is False
    assert token["expires_at"].startswith("2025-01-01T11:00:00")
    assert current_project(token) == [
        {"id": "p1", "name": "demo", "domain_id": "default", "description": None, "enabled": True, "current": True}
    ]


def test_unscoped_token_has_no_current_project():
    assert current_project({"project": None}) == []
