# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``cloud_config`` option: a whole clouds.yaml document given as a dict (private to the collection).

An AWX credential or an Ansible vault holds a clouds.yaml as data, not as a file on the
host that runs the module. ``select_cloud`` checks such a document before anything
connects with it, and says what is wrong and how to fix it: no ``clouds`` mapping, no
clouds in it, a cloud name it does not define, an entry that is not a mapping or has no
``auth.auth_url``. Wrong credentials are found when the module authenticates
(``AnsibleOpenStackModule.conn``). ``secret_values`` lists the values that must never
appear in the module's output. Nothing here imports openstacksdk.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

#: Keys whose values are secrets, wherever they appear in the document.
SECRET_KEY = re.compile(r"password|secret|token|passcode|api_key|credential_key", re.IGNORECASE)
#: keystoneauth plugins that need no identity endpoint.
AUTH_TYPES_WITHOUT_URL = frozenset({"none", "noauth", "admin_token", "http_basic"})
EXAMPLE = "{clouds: {mycloud: {auth: {auth_url: ..., username: ..., password: ..., project_name: ...}}}}"


class CloudConfigError(ValueError):
    """The document cannot be used; the message says what to change."""


def secret_values(document: Any) -> set[str]:
    """Every string held under a secret-looking key (``password``, ``*secret*``, ``token`` ...)."""
    return set(_secrets(document))


def _secrets(value: Any, secret: bool = False) -> Iterator[str]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _secrets(item, secret or bool(SECRET_KEY.search(str(key))))
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _secrets(item, secret)
    elif secret and value not in (None, "") and not isinstance(value, bool):
        yield str(value)


def select_cloud(document: Any, cloud: str | None) -> tuple[str, dict[str, Any]]:
    """Check ``document`` and return the name and settings of the cloud to use.

    ``cloud`` names the entry; without it, a document that defines exactly one cloud
    uses that one. Raises ``CloudConfigError`` with a message that says how to fix it.
    """
    if not isinstance(document, Mapping):
        raise CloudConfigError(
            f"cloud_config must be a whole clouds.yaml document (a dict), not a {type(document).__name__}: {EXAMPLE}"
        )
    if "clouds" not in document:
        keys = ", ".join(sorted(map(str, document))) or "none"
        raise CloudConfigError(
            f"cloud_config has no 'clouds' key (its keys: {keys}); give the whole clouds.yaml document, "
            f"with the cloud entries under 'clouds': {EXAMPLE}"
        )
    clouds = document["clouds"]
    if not isinstance(clouds, Mapping) or not clouds:
        raise CloudConfigError(
            f"cloud_config defines no clouds: its 'clouds' key holds {_shown(clouds)}; "
            f"add at least one entry: {EXAMPLE}"
        )
    names = sorted(map(str, clouds))
    if cloud is None:
        if len(clouds) > 1:
            raise CloudConfigError(
                f"cloud_config defines {len(clouds)} clouds ({', '.join(names)}); "
                "set the cloud option to the one to use"
            )
        cloud = next(iter(clouds))
    elif cloud not in clouds:
        raise CloudConfigError(
            f"cloud {cloud!r} is not in cloud_config, which defines {', '.join(names)}; "
            "set the cloud option to one of them, or add the entry to the document"
        )
    entry = clouds[cloud]
    where = f"cloud_config.clouds.{cloud}"
    if not isinstance(entry, Mapping):
        raise CloudConfigError(f"{where} must be a mapping of settings (auth, region_name ...), not {_shown(entry)}")
    auth = entry.get("auth")
    if auth is not None and not isinstance(auth, Mapping):
        raise CloudConfigError(f"{where}.auth must be a mapping (auth_url, username, password ...), not {_shown(auth)}")
    needs_url = not entry.get("profile") and str(entry.get("auth_type") or "password") not in AUTH_TYPES_WITHOUT_URL
    if needs_url and not (auth or {}).get("auth_url"):
        raise CloudConfigError(
            f"{where} has no auth.auth_url; add the identity endpoint, for example http://127.0.0.1:8780/identity"
        )
    return str(cloud), dict(entry)


def _shown(value: Any) -> str:
    """Name the kind of a wrong value without showing it (it may hold a secret)."""
    if value is None:
        return "nothing"
    if isinstance(value, Mapping) and not value:
        return "an empty mapping"
    return f"a {type(value).__name__}"
