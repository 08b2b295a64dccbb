"""Files that hold secrets, readable by their owner only, whatever was there before.

The state dir holds password hashes (``stacksim.db``, its ``-wal`` and ``-shm``,
``bootstrap.json``) and private image and volume bytes (``data/``); a
clouds.yaml holds passwords. Directories are made 0700 and files 0600, and
existing ones are brought to those modes, since a looser mode left by an older
stacksim (or a stale temp file) must not leak them.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
#: the database's files (SQLite gives the -wal and -shm files the database's mode)
DATABASE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def private_dir(path: Path) -> Path:
    """Make ``path`` (and missing parents) and set it to 0700."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    os.chmod(path, DIR_MODE)
    return path


def private_database(database: Path) -> None:
    """Create the SQLite database file 0600 if it is missing, and set it and its companions to 0600."""
    fd = os.open(database, os.O_RDWR | os.O_CREAT, FILE_MODE)
    os.close(fd)
    for suffix in DATABASE_SUFFIXES:
        with contextlib.suppress(FileNotFoundError):
            os.chmod(f"{database}{suffix}", FILE_MODE)


def private_state_dir(state_dir: Path, database: str) -> None:
    """The state dir, its ``data/`` and its database, private; secret files already there too."""
    private_dir(state_dir)
    private_dir(state_dir / "data")
    private_database(Path(database))
    for name in ("bootstrap.json", "stacksim.log"):
        with contextlib.suppress(FileNotFoundError):
            os.chmod(state_dir / name, FILE_MODE)


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` (0600) through a fresh temp file in its folder, then rename it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # always 0600
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
