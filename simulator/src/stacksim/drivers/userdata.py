"""Reading user data the way cloud-init does, for what drivers must honour."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from typing import Any

import yaml


def cloud_configs(user_data: str) -> Iterator[dict[str, Any]]:
    """Every cloud-config document in the user data, plain or inside a MIME multipart."""
    text = user_data.lstrip()
    if text.startswith("#cloud-config"):
        loaded = _load(text)
        if loaded:
            yield loaded
        return
    if text.lower().startswith(("content-type:", "mime-version:")):
        message = email.message_from_string(text, policy=email.policy.default)
        for part in message.walk():
            if part.get_content_type() == "text/cloud-config":
                loaded = _load(part.get_content())
                if loaded:
                    yield loaded


def _load(text: str) -> dict[str, Any] | None:
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError:
        return None  # cloud-init would log and go on
    return loaded if isinstance(loaded, dict) else None


def wants_poweroff(user_data: str) -> bool:
    """cloud-config ``power_state: {mode: poweroff}`` (cloud-init's ``halt`` also stops the guest)."""
    for config in cloud_configs(user_data):
        power = config.get("power_state")
        if isinstance(power, dict) and power.get("mode") in ("poweroff", "halt"):
            return True
    return False


def parts(user_data: str) -> list[tuple[str, str]]:
    """The user data as cloud-init sees it: ``(content type, text)`` for each part.

    A plain document is one part, typed by its first line (``#cloud-config``,
    ``#!`` for a script, ``#cloud-boothook``, ``#include``); a MIME multipart is
    split into its parts.
    """
    text = user_data.lstrip()
    if text.lower().startswith(("content-type:", "mime-version:")):
        message = email.message_from_string(text, policy=email.policy.default)
        return [
            (part.get_content_type(), part.get_content())
            for part in message.walk()
            if not part.is_multipart() and part.get_content_maintype() == "text"
        ]
    for prefix, kind in STARTS.items():
        if text.startswith(prefix):
            return [(kind, text)]
    return [("text/plain", text)]


#: What the first line of a plain user-data document makes it (cloud-init's handlers).
STARTS = {
    "#cloud-config": "text/cloud-config",
    "#!": "text/x-shellscript",
    "#cloud-boothook": "text/cloud-boothook",
    "#include": "text/x-include-url",
}
