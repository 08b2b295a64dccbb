"""Block storage data on disk: volumes, snapshots and backups as sparse files.

Layout under ``<data_dir>``: ``volumes/<id>``, ``snapshots/<id>`` and
``backups/<id>``, each a file of the resource's size in bytes (GiB x 2**30)
whose unwritten parts are holes, so a 500 GiB volume costs nothing until
something is written into it. Copies keep the holes: a copy is a reflink
where the filesystem can (btrfs, XFS), otherwise only the data extents are
copied (``SEEK_DATA``/``SEEK_HOLE`` with ``os.copy_file_range``), so cloning
an empty 100 GiB volume reads nothing. Every write goes to a ``.part`` file
first and is renamed into place when complete, so a crash never leaves a
half-copied file where a volume's data belongs.
"""

from __future__ import annotations

import errno
import fcntl
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

GiB = 1 << 30
#: ``FICLONE`` from ``linux/fs.h``: share the source's extents (a reflink).
_FICLONE = 0x40049409
_CHUNK = 1 << 20
_PART = ".part"


class VolumeFiles:
    def __init__(self, root: Path) -> None:
        self.folders = {kind: root / kind for kind in ("volumes", "snapshots", "backups")}
        for folder in self.folders.values():
            # Volumes' bytes: only the simulator's user may read them (issue 14).
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            folder.chmod(0o700)

    # -- where things are ---------------------------------------------------------------

    def volume(self, volume_id: str) -> Path:
        return self.folders["volumes"] / volume_id

    def snapshot(self, snapshot_id: str) -> Path:
        return self.folders["snapshots"] / snapshot_id

    def backup(self, backup_id: str) -> Path:
        return self.folders["backups"] / backup_id

    # -- writing ------------------------------------------------------------------------

    def create(self, dest: Path, size_gb: int) -> None:
        """A new, empty (all-hole) file of ``size_gb`` GiB."""
        part = _part(dest)
        try:
            with open(part, "wb") as fh:
                fh.truncate(size_gb * GiB)
            os.replace(part, dest)
        except BaseException:
            part.unlink(missing_ok=True)
            raise

    def copy(self, src: Path, dest: Path, size_gb: int | None = None) -> None:
        """Copy ``src`` to ``dest`` keeping holes, then make it ``size_gb`` GiB (grow or cut)."""
        part = _part(dest)
        try:
            with open(src, "rb") as fin, open(part, "wb") as fout:
                length = os.fstat(fin.fileno()).st_size
                if not _reflink(fin.fileno(), fout.fileno()):
                    for start, end in _extents(fin.fileno(), length):
                        _copy_range(fin.fileno(), fout.fileno(), start, end - start)
                    fout.truncate(length)
                if size_gb is not None:
                    fout.truncate(size_gb * GiB)
            os.replace(part, dest)
        except BaseException:
            part.unlink(missing_ok=True)
            raise

    def resize(self, path: Path, size_gb: int) -> None:
        """Grow (or cut) a file in place; the new part is a hole."""
        os.truncate(path, size_gb * GiB)

    # -- removing -----------------------------------------------------------------------

    @staticmethod
    def remove(path: Path) -> None:
        path.unlink(missing_ok=True)

    def clear_parts(self) -> None:
        """Drop the partial files of copies a crash interrupted."""
        for folder in self.folders.values():
            for path in folder.glob(f"*{_PART}"):
                path.unlink(missing_ok=True)

    def allocated(self, path: Path) -> int:
        """Bytes a file really takes on disk (its data, not its holes)."""
        try:
            return path.stat().st_blocks * 512
        except FileNotFoundError:
            return 0


def _part(dest: Path) -> Path:
    return dest.with_name(f"{dest.name}.{uuid.uuid4().hex}{_PART}")


def _reflink(fin: int, fout: int) -> bool:
    try:
        fcntl.ioctl(fout, _FICLONE, fin)
    except OSError:
        return False
    return True


def _extents(fd: int, length: int) -> Iterator[tuple[int, int]]:
    """``(start, end)`` of each data extent; the whole file where holes cannot be found."""
    pos = 0
    while pos < length:
        try:
            start = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError as exc:
            if exc.errno == errno.ENXIO:  # only a hole is left
                return
            if exc.errno in (errno.EINVAL, errno.EOPNOTSUPP):  # no hole support: copy it all
                yield pos, length
                return
            raise
        end = os.lseek(fd, start, os.SEEK_HOLE)
        yield start, min(end, length)
        pos = end


def _copy_range(fin: int, fout: int, offset: int, count: int) -> None:
    done = 0
    while done < count:
        try:
            n = os.copy_file_range(fin, fout, count - done, offset + done, offset + done)
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL):
                raise
            _copy_plain(fin, fout, offset + done, count - done)
            return
        if n == 0:
            return
        done += n


def _copy_plain(fin: int, fout: int, offset: int, count: int) -> None:
    """Read and write, leaving all-zero blocks as holes."""
    end = offset + count
    while offset < end:
        block = os.pread(fin, min(_CHUNK, end - offset), offset)
        if not block:
            return
        if block.count(0) != len(block):
            os.pwrite(fout, block, offset)
        offset += len(block)
