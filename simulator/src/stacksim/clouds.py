"""Writing (or merging into) a clouds.yaml that points at this simulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from stacksim.private import write_private
from stacksim.services.identity.bootstrap import BOOTSTRAP_USERS, REGION

#: clouds.yaml entry -> bootstrap user
CLOUDS = {"stacksim": "demo", "stacksim-admin": "admin", "stacksim-alt": "alt_demo"}


def cloud_entries(auth_url: str, password: str) -> dict[str, Any]:
    entries = {}
    for cloud, user in CLOUDS.items():
        entries[cloud] = {
            "auth": {
                "auth_url": auth_url,
                "username": user,
                "password": password,
                "project_name": BOOTSTRAP_USERS[user][0],
                "user_domain_name": "Default",
                "project_domain_name": "Default",
            },
            "region_name": REGION,
            "interface": "public",
            "identity_api_version": 3,
        }
    return entries


def write_clouds_yaml(path: Path, auth_url: str, password: str) -> None:
    """Add or replace our clouds in ``path``, keeping any others already there."""
    data: dict[str, Any] = {}
    if path.exists():
        data = yaml.safe_load(path.read_text()) or {}
    data.setdefault("clouds", {}).update(cloud_entries(auth_url, password))
    # It holds passwords: readable by its owner only.
    write_private(path, yaml.safe_dump(data, sort_keys=False))
