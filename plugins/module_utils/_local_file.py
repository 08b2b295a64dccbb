# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Text files a module keeps beside the cloud (an inventory, a picture), private to the collection.

A file is written only when its content changes, through a temporary file and an atomic
move, so a reader never sees half of it; in check mode nothing is written and the answer
says whether it would be.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any


def read_text(path: str) -> str | None:
    """The file's text, or None when it cannot be read (it does not exist yet)."""
    try:
        with open(path, encoding="utf-8") as stream:
            return stream.read()
    except (OSError, UnicodeDecodeError):
        return None


def sync_text_file(module: Any, path: str, content: str | None, what: str) -> tuple[bool, str | None]:
    """Make the file at ``path`` hold ``content`` (None: remove it).

    Returns whether it changed (or, in check mode, would) and its text before (None if
    there was none). ``what`` names the file in an error message (``"inventory"``).
    """
    before = read_text(path)
    if content is None:
        if not os.path.lexists(path):
            return False, None
        if not module.check_mode:
            try:
                os.remove(path)
            except OSError as exc:
                module.fail_json(msg=f"Cannot remove the {what} {path}: {exc.strerror}")
        return True, before
    if before == content:
        return False, before
    if not module.check_mode:
        try:
            fd, temp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=".opensandbox-")
            with os.fdopen(fd, "w", encoding="utf-8") as stream:
                stream.write(content)
        except OSError as exc:
            module.fail_json(msg=f"Cannot write the {what} to {path}: {exc.strerror}")
        module.ansible_module.atomic_move(temp, path)
    return True, before


def file_diff(path: str, before: str | None, after: str | None) -> dict[str, str]:
    """A ``diff`` entry for a text file's change."""
    return {"before_header": path, "after_header": path, "before": before or "", "after": after or ""}
