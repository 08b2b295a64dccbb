# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lay the collection out as ``<dest>/ansible_collections/opensandbox/cloud``.

Ansible, ansible-test and ``import ansible_collections.opensandbox.cloud...`` all need
the collection under that path; the repository root also holds the simulator and
other development files, so this copies only the collection's own files there.

    python tests/utils/build_collection_tree.py [--dest build]   # prints the collection path

Used by ``tests/conftest.py`` and the Makefile, so the list of files lives only here.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
NAMESPACE = "opensandbox"
NAME = "cloud"

# What belongs to the collection (missing ones are skipped).
COLLECTION_DIRS = ("meta", "plugins", "roles", "playbooks", "tests", "changelogs", "docs", "extensions")
COLLECTION_FILES = ("galaxy.yml", "README.md", "LICENSE", "COPYING", "CHANGELOG.md", "CHANGELOG.rst")
# Never copied, wherever they appear below those directories.
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache", ".mypy_cache", "*.retry")
# Never copied from these paths (relative to the repository root).
IGNORED_PATHS = ("tests/output",)


def collection_path(dest: Path) -> Path:
    """Where the collection lands below ``dest``."""
    return dest / "ansible_collections" / NAMESPACE / NAME


def _ignore(src_root: Path):
    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = set(IGNORED(directory, names))
        rel = Path(directory).resolve().relative_to(src_root)
        for name in names:
            if (rel / name).as_posix() in IGNORED_PATHS:
                skipped.add(name)
        return skipped

    return ignore


def _init_git(target: Path) -> None:
    """Make the tree its own (empty) git repository.

    ansible-test lists content with git when it finds a ``.git`` at or above the tree; the
    nearest one would be the repository's, where build/ is ignored, so it would see no files.
    """
    git = shutil.which("git")
    if git:
        subprocess.run([git, "init", "-q", str(target)], check=True)
        # ansible-test lists untracked files too: keep its own output out of the list.
        (target / ".git" / "info").mkdir(parents=True, exist_ok=True)
        (target / ".git" / "info" / "exclude").write_text("tests/output/\n__pycache__/\n*.pyc\n")


def build(dest: Path | None = None, src: Path = REPO_ROOT) -> Path:
    """Copy the collection files of ``src`` into a fresh tree below ``dest``; return its path."""
    src = src.resolve()
    dest = (dest or src / "build").resolve()
    target = collection_path(dest)
    if target == src or target in src.parents:
        raise ValueError(f"refusing to replace {target}: it holds the source {src}")
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for name in COLLECTION_DIRS:
        if (src / name).is_dir():
            shutil.copytree(src / name, target / name, ignore=_ignore(src), symlinks=True)
    for name in COLLECTION_FILES:
        if (src / name).is_file():
            shutil.copy2(src / name, target / name)
    _init_git(target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=REPO_ROOT / "build", help="directory to hold ansible_collections/")
    parser.add_argument("--src", type=Path, default=REPO_ROOT, help="repository root holding galaxy.yml")
    args = parser.parse_args(argv)
    print(build(args.dest, args.src))
    return 0


if __name__ == "__main__":
    sys.exit(main())
