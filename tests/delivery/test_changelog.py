# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The changelog builds from the fragments (antsibull-changelog), without committing a release.

``antsibull-changelog lint`` checks every fragment; ``release`` then runs on a copy of the
collection (so the repository keeps its fragments) and must write CHANGELOG.md with the
fragments' entries and the new modules and roles, which it finds from their version_added.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from .conftest import REPO, clean_env, run, tool

pytestmark = pytest.mark.delivery


def _words(text: str) -> str:
    """The words of a text, without Markdown's or RST's markup."""
    return " ".join(re.findall(r"[A-Za-z0-9]+", re.sub(r"<[^>]*>", " ", text)))


def test_fragments_lint(tmp_path: Path) -> None:
    run([tool("antsibull-changelog"), "lint"], clean_env(tmp_path / "home"), REPO)


def test_release_builds_the_changelog(collection_root: Path, collections_path: Path, tmp_path: Path) -> None:
    copy = tmp_path / "ansible_collections" / "opensandbox" / "cloud"
    shutil.copytree(collection_root, copy, ignore=shutil.ignore_patterns(".git", "tests"))
    env = clean_env(tmp_path / "home", ANSIBLE_COLLECTIONS_PATH=str(tmp_path))
    version = yaml.safe_load((copy / "galaxy.yml").read_text())["version"]
    run([tool("antsibull-changelog"), "release", "--version", version, "--date", "2026-01-01"], env, copy)
    changelog = _words((copy / "CHANGELOG.md").read_text())
    fragments = sorted((REPO / "changelogs" / "fragments").glob("*.yml"))
    assert fragments, "changelogs/fragments/ holds no fragment"
    for fragment in fragments:
        for section, entries in yaml.safe_load(fragment.read_text()).items():
            for entry in [entries] if isinstance(entries, str) else entries:
                assert _words(entry)[:60] in changelog, f"{fragment.name} ({section}) is not in CHANGELOG.md"
    new_modules = changelog.split("New Modules", 1)[1]
    assert "opensandbox cloud cloud info" in new_modules
    assert "opensandbox cloud simulator" in new_modules.split("New Roles", 1)[1]
    assert not list((copy / "changelogs" / "fragments").glob("*.yml")), "release should consume the fragments"
