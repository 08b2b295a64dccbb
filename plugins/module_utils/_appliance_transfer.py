# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Moving appliance data, private to the opensandbox.cloud collection.

Image data is never held in memory: it is read and written in chunks of
``CHUNK`` bytes, and the checksum and size are computed on the way. A remote
image is downloaded to a temporary file that is verified before the caller
creates anything in Glance; :func:`staged_image` removes that file whatever
happens. :class:`HashingReader` is the file object handed to the upload, so the
data sent is hashed again and a file that changed after it was verified is
caught.

Uses only the standard library and ``ansible.module_utils.urls``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import urllib.error
from collections.abc import Callable, Iterator
from typing import Any

from ansible.module_utils.urls import ConnectionError as UrlConnectionError
from ansible.module_utils.urls import SSLValidationError, open_url

from ansible_collections.opensandbox.cloud.plugins.module_utils._appliance import (
    ApplianceError,
    ImageSource,
)

CHUNK = 1 << 20
#: An image list larger than this is refused (AppDB's biggest are a few hundred KiB).
LIST_LIMIT = 32 << 20


class VerificationError(ApplianceError):
    """The data is not what the appliance says (checksum or size)."""


@contextlib.contextmanager
def _opened_url(url: str, what: str, **options: Any) -> Iterator[Any]:
    """``open_url`` with failures turned into :class:`ApplianceError` messages that name ``what``."""
    try:
        response = open_url(url, **options)
    except urllib.error.HTTPError as exc:
        hint = " (check the username and password)" if exc.code in (401, 403) else ""
        raise ApplianceError(f"{what}: GET {url} answered HTTP {exc.code} {exc.reason}{hint}") from None
    except SSLValidationError as exc:
        raise ApplianceError(f"{what}: TLS certificate of {url} not trusted: {exc}") from None
    except (urllib.error.URLError, UrlConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise ApplianceError(f"{what}: cannot reach {url}: {reason}") from None
    try:
        yield response
    finally:
        response.close()


def _url_options(
    username: str | None, password: str | None, validate_certs: bool, timeout: int | float
) -> dict[str, Any]:
    return {
        "url_username": username,
        "url_password": password,
        "force_basic_auth": bool(username),
        "validate_certs": validate_certs,
        "timeout": timeout,
        "use_netrc": False,
        "decompress": False,
    }


class Verifier:
    """Checksum and size of data seen chunk by chunk; fails as soon as the data is too long."""

    def __init__(self, source: ImageSource, what: str) -> None:
        self.source = source
        self.what = what
        self.hash = hashlib.new(source.checksum_algorithm)
        self.size = 0

    def update(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.source.size is not None and self.size > self.source.size:
            raise VerificationError(
                f"{self.what}: the data is longer than the expected size of {self.source.size} bytes; "
                "nothing was created in Glance"
            )
        self.hash.update(chunk)

    def finish(self) -> None:
        expected_size = self.source.size
        if expected_size is not None and self.size != expected_size:
            raise VerificationError(
                f"{self.what}: size mismatch: expected {expected_size} bytes, got {self.size}; "
                "nothing was created in Glance"
            )
        digest = self.hash.hexdigest()
        if digest != self.source.checksum:
            algorithm = self.source.checksum_algorithm
            raise VerificationError(
                f"{self.what}: {algorithm} checksum mismatch: expected {self.source.checksum}, got {digest} "
                f"({self.size} bytes); nothing was created in Glance"
            )


def copy_chunks(read: Callable[[int], bytes], write: Callable[[bytes], Any] | None, verifier: Verifier) -> None:
    """Copy from ``read`` to ``write`` (if any) chunk by chunk through ``verifier``, then check it."""
    while True:
        chunk = read(CHUNK)
        if not chunk:
            break
        verifier.update(chunk)
        if write is not None:
            write(chunk)
    verifier.finish()


def local_path(location: str) -> str:
    return os.path.expanduser(location[len("file://") :] if location.startswith("file://") else location)


def verify_local(source: ImageSource, what: str) -> str:
    """Read a local image once to check it; returns its path."""
    path = local_path(source.location)
    try:
        with open(path, "rb") as handle:
            copy_chunks(handle.read, None, Verifier(source, what))
    except OSError as exc:
        raise ApplianceError(f"{what}: cannot read {path}: {exc.strerror or exc}") from None
    return path


def download(
    source: ImageSource,
    dest_dir: str,
    what: str,
    *,
    username: str | None = None,
    password: str | None = None,
    validate_certs: bool = True,
    timeout: int | float = 300,
) -> str:
    """Download a remote image to a new file in ``dest_dir``, verifying it; returns the path.

    The appliance's own credentials win over ``username``/``password``. On any
    failure the partial file is removed before the error propagates.
    """
    options = _url_options(source.username or username, source.password or password, validate_certs, timeout)
    fd, path = tempfile.mkstemp(prefix="appliance-", suffix=".img", dir=dest_dir)
    try:
        with os.fdopen(fd, "wb") as out, _opened_url(source.location, what, **options) as response:
            try:
                copy_chunks(response.read, out.write, Verifier(source, what))
            except OSError as exc:
                raise ApplianceError(f"{what}: download of {source.location} failed: {exc}") from None
    except BaseException:
        remove_quietly(path)
        raise
    return path


@contextlib.contextmanager
def staged_image(source: ImageSource, tmp_dir: str, what: str, **download_options: Any) -> Iterator[str]:
    """A verified local copy of the image for the duration of the block.

    A local image is read in place; a remote one is downloaded into ``tmp_dir``
    and removed when the block ends, whether it succeeded or not.
    """
    if not source.remote:
        yield verify_local(source, what)
        return
    path = download(source, tmp_dir, what, **download_options)
    try:
        yield path
    finally:
        remove_quietly(path)


def remove_quietly(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def fetch_text(
    url: str,
    what: str,
    *,
    username: str | None = None,
    password: str | None = None,
    validate_certs: bool = True,
    timeout: int | float = 60,
) -> str:
    """A small text document (an image list) from a URL."""
    with _opened_url(url, what, **_url_options(username, password, validate_certs, timeout)) as response:
        data = response.read(LIST_LIMIT + 1)
    if len(data) > LIST_LIMIT:
        raise ApplianceError(f"{what}: {url} is larger than {LIST_LIMIT >> 20} MiB; is it really an image list?")
    return data.decode("utf-8", errors="replace")


class HashingReader:
    """A read-only file object over a local image that hashes what is read (for the upload).

    ``len()`` gives the file's size, so the HTTP client sends a Content-Length and
    streams the body with ``read`` instead of loading it.
    """

    def __init__(self, path: str, algorithm: str) -> None:
        self._file = open(path, "rb")  # noqa: SIM115 - closed by close() or the with block
        self._size = os.fstat(self._file.fileno()).st_size
        self.hash = hashlib.new(algorithm)
        self.read_bytes = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._file.read(CHUNK if size is None or size < 0 else min(size, CHUNK))
        self.hash.update(chunk)
        self.read_bytes += len(chunk)
        return chunk

    def __len__(self) -> int:
        return self._size

    def __bool__(self) -> bool:
        return True

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> HashingReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
