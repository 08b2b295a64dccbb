"""Image data on disk: streamed in, hashed on the fly, never held whole in memory.

Layout under ``<data_dir>/images``: ``<id>`` is an image's data, ``staging/<id>``
the data staged for a ``glance-direct`` import, and ``tmp/`` the partial files
of writes in progress. A write lands in ``tmp/`` and is renamed into place only
when complete, so a failed or interrupted write never leaves a partial file
where an image's data belongs.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import uuid
from collections.abc import AsyncIterable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

#: Glance's default ``hashing_algorithm``: the ``os_hash_algo`` of every image.
HASH_ALGO = "sha512"
#: How much is read or written at a time (also the batch a stream is hashed in).
CHUNK = 1 << 20
QCOW2_MAGIC = b"QFI\xfb"
_ZEROS = bytes(CHUNK)


@dataclass(frozen=True)
class Written:
    """What was written: its size and its hashes (md5 is Glance's ``checksum``)."""

    size: int
    checksum: str
    os_hash_value: str
    virtual_size: int | None = None


class _Writer:
    """One write in progress: a temporary file and the hashes of what went into it."""

    def __init__(self, tmp: Path, dest: Path) -> None:
        self.tmp = tmp
        self.dest = dest
        self._fh: IO[bytes] = open(tmp, "wb")  # noqa: SIM115 - closed by commit/abort
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._sha = hashlib.new(HASH_ALGO)
        self._size = 0
        self._head = b""

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if len(self._head) < 512:
            self._head += bytes(data[: 512 - len(self._head)])
        self._md5.update(data)
        self._sha.update(data)
        if len(data) <= CHUNK and data == _ZEROS[: len(data)]:
            self._fh.seek(len(data), os.SEEK_CUR)  # a hole: a blank volume's image stays as sparse as the volume
        else:
            self._fh.write(data)
        self._size += len(data)

    def commit(self) -> Written:
        self._fh.truncate(self._size)  # the file ends where the data does, after a hole too
        self._fh.close()
        os.replace(self.tmp, self.dest)
        return Written(self._size, self._md5.hexdigest(), self._sha.hexdigest(), virtual_size(self._head, self._size))

    def abort(self) -> None:
        self._fh.close()
        self.tmp.unlink(missing_ok=True)


def virtual_size(head: bytes, size: int) -> int | None:
    """The disk size a qcow2 header declares (None for anything else: the model decides)."""
    if head[:4] == QCOW2_MAGIC and len(head) >= 32:
        return int.from_bytes(head[24:32], "big")
    return None


class ImageFiles:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.images = root / "images"
        self.staging = self.images / "staging"
        self.tmp = self.images / "tmp"
        for folder in (self.images, self.staging, self.tmp):
            # Private images' bytes: only the simulator's user may read them (issue 14).
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            folder.chmod(0o700)

    # -- where things are ---------------------------------------------------------

    def path(self, image_id: str) -> Path:
        return self.images / image_id

    def staged(self, image_id: str) -> Path:
        return self.staging / image_id

    def exists(self, image_id: str) -> bool:
        return self.path(image_id).is_file()

    # -- writing ----------------------------------------------------------------------

    def open(self, dest: Path) -> _Writer:
        return _Writer(self.tmp / f"{dest.name}.{uuid.uuid4().hex}", dest)

    def write_chunks(self, dest: Path, chunks: Iterable[bytes]) -> Written:
        """Write ``chunks`` (any iterable of bytes) to ``dest``, hashing as it goes."""
        writer = self.open(dest)
        try:
            for chunk in chunks:
                if chunk:
                    writer.write(chunk)
            return writer.commit()
        except BaseException:
            writer.abort()
            raise

    async def write_stream(self, dest: Path, stream: AsyncIterable[bytes]) -> Written:
        """Write an async stream (a request body) to ``dest``.

        The stream is gathered into batches of :data:`CHUNK` bytes; each batch is
        hashed and written in a worker thread while the next one is read, so the
        event loop never hashes and at most two batches are in memory.
        """
        writer = self.open(dest)
        pending: asyncio.Future | None = None
        try:
            batch = bytearray()
            async for chunk in stream:
                batch += chunk
                if len(batch) >= CHUNK:
                    if pending is not None:
                        await pending
                    full, batch = batch, bytearray()
                    pending = asyncio.ensure_future(asyncio.to_thread(writer.write, full))
            if pending is not None:
                await pending
                pending = None
            if batch:
                await asyncio.to_thread(writer.write, batch)
            return await asyncio.to_thread(writer.commit)
        except BaseException:
            if pending is not None:
                await asyncio.gather(pending, return_exceptions=True)
            writer.abort()
            raise

    def copy(self, src: Path, dest: Path) -> Written:
        """Copy a file into place, hashing it on the way."""
        with open(src, "rb") as fh:
            return self.write_chunks(dest, iter(lambda: fh.read(CHUNK), b""))

    def adopt(self, src: Path, dest: Path) -> None:
        """Move a file already hashed (a staged one) into place."""
        os.replace(src, dest)

    # -- removing ---------------------------------------------------------------------

    def remove(self, image_id: str) -> None:
        self.path(image_id).unlink(missing_ok=True)
        self.staged(image_id).unlink(missing_ok=True)

    def clear_tmp(self) -> None:
        """Drop the partial files of writes a crash interrupted."""
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp.mkdir(parents=True, exist_ok=True, mode=0o700)

    def usage(self) -> int:
        return sum(p.stat().st_size for p in self.images.iterdir() if p.is_file())
