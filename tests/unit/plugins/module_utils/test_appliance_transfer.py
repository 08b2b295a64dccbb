# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Downloading and verifying appliance data, against a real HTTP server on loopback."""

from __future__ import annotations

import base64
import hashlib
import http.server
import os
import threading
from collections.abc import Iterator

import pytest

from ansible_collections.opensandbox.cloud.plugins.module_utils._appliance import ApplianceError, ImageSource
from ansible_collections.opensandbox.cloud.plugins.module_utils._appliance_transfer import (
    CHUNK,
    HashingReader,
    VerificationError,
    Verifier,
    copy_chunks,
    download,
    fetch_text,
    staged_image,
    verify_local,
)

DATA = os.urandom(3 * CHUNK + 123)
CREDENTIALS = ("appdb", "s3cret")


class Handler(http.server.BaseHTTPRequestHandler):
    served_bytes = 0

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        if self.path.startswith("/private/"):
            wanted = "Basic " + base64.b64encode(":".join(CREDENTIALS).encode()).decode()
            if self.headers.get("Authorization") != wanted:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="appdb"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        if self.path.endswith("/image.raw"):
            body = DATA
        elif self.path.endswith("/big.raw"):
            body = b"\0" * (16 * CHUNK)
        elif self.path == "/list.json":
            body = b'{"hv:imagelist": {}}'
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            for start in range(0, len(body), CHUNK):
                self.wfile.write(body[start : start + CHUNK])
                type(self).served_bytes += len(body[start : start + CHUNK])
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading, as it should for data that is too long


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def source(location: str, data: bytes = DATA, **more: object) -> ImageSource:
    values = {"checksum": hashlib.sha512(data).hexdigest(), "size": len(data), **more}
    return ImageSource(location=location, format="raw", **values)


def test_download_verifies_and_keeps_the_file(server, tmp_path):
    path = download(source(f"{server}/image.raw"), str(tmp_path), "appliance x")
    assert os.path.dirname(path) == str(tmp_path)
    with open(path, "rb") as handle:
        assert handle.read() == DATA


def test_a_wrong_checksum_fails_and_leaves_no_file(server, tmp_path):
    bad = source(f"{server}/image.raw", checksum="0" * 128)
    with pytest.raises(
        VerificationError, match=r"appliance x: sha512 checksum mismatch: expected 0{128}, got [0-9a-f]{128}"
    ):
        download(bad, str(tmp_path), "appliance x")
    assert list(tmp_path.iterdir()) == []


def test_a_wrong_size_fails(server, tmp_path):
    with pytest.raises(VerificationError, match=r"size mismatch: expected 3146100 bytes, got 3145851"):
        download(source(f"{server}/image.raw", size=len(DATA) + 249), str(tmp_path), "appliance x")
    assert list(tmp_path.iterdir()) == []


def test_data_longer_than_the_size_stops_the_download_early(server, tmp_path):
    Handler.served_bytes = 0
    with pytest.raises(VerificationError, match=r"longer than the expected size of 1048576 bytes"):
        download(source(f"{server}/big.raw", data=b"\0" * CHUNK), str(tmp_path), "appliance x")
    assert list(tmp_path.iterdir()) == []
    # The client gave up after about two chunks instead of reading all sixteen.
    assert Handler.served_bytes < 16 * CHUNK


def test_basic_auth_from_the_module_or_the_appliance(server, tmp_path):
    url = f"{server}/private/image.raw"
    with pytest.raises(ApplianceError, match=r"answered HTTP 401 Unauthorized \(check the username and password\)"):
        download(source(url), str(tmp_path), "appliance x")
    assert download(source(url), str(tmp_path), "x", username=CREDENTIALS[0], password=CREDENTIALS[1])
    own = source(url, username=CREDENTIALS[0], password=CREDENTIALS[1])
    assert download(own, str(tmp_path), "x", username="someone", password="else")


def test_missing_and_unreachable_urls(server, tmp_path):
    with pytest.raises(ApplianceError, match=r"appliance x: GET .*/nothing.raw answered HTTP 404"):
        download(source(f"{server}/nothing.raw"), str(tmp_path), "appliance x")
    with pytest.raises(ApplianceError, match=r"appliance x: cannot reach http://127.0.0.1:9/image.raw"):
        download(source("http://127.0.0.1:9/image.raw"), str(tmp_path), "appliance x", timeout=5)
    assert list(tmp_path.iterdir()) == []


def test_staged_remote_image_is_removed_even_when_the_block_fails(server, tmp_path):
    with pytest.raises(RuntimeError), staged_image(source(f"{server}/image.raw"), str(tmp_path), "x") as path:
        assert os.path.exists(path)
        raise RuntimeError("upload failed")
    assert list(tmp_path.iterdir()) == []


def test_staged_local_image_is_read_in_place_and_kept(tmp_path):
    image = tmp_path / "local.raw"
    image.write_bytes(DATA)
    with staged_image(source(f"file://{image}"), str(tmp_path / "nowhere"), "x") as path:
        assert path == str(image)
    assert image.exists()


def test_local_images_are_verified(tmp_path):
    image = tmp_path / "local.raw"
    image.write_bytes(DATA)
    assert verify_local(source(str(image)), "x") == str(image)
    with pytest.raises(VerificationError, match="checksum mismatch"):
        verify_local(source(str(image), checksum="f" * 128), "x")
    with pytest.raises(ApplianceError, match=r"x: cannot read .*/missing.raw: No such file"):
        verify_local(source(str(tmp_path / "missing.raw")), "x")


@pytest.mark.parametrize("algorithm", ["md5", "sha1", "sha256", "sha512"])
def test_every_algorithm_an_image_list_names(algorithm, tmp_path):
    image = tmp_path / "local.raw"
    image.write_bytes(DATA)
    checksum = hashlib.new(algorithm, DATA).hexdigest()
    verify_local(ImageSource(str(image), "raw", checksum, algorithm), "x")


def test_copy_never_moves_more_than_a_chunk_at_once():
    sizes: list[int] = []
    data = iter([DATA[i : i + CHUNK] for i in range(0, len(DATA), CHUNK)] + [b""])

    def read(n: int) -> bytes:
        assert n == CHUNK
        return next(data)

    copy_chunks(read, lambda chunk: sizes.append(len(chunk)), Verifier(source("x"), "x"))
    assert max(sizes) == CHUNK
    assert sum(sizes) == len(DATA)


def test_hashing_reader_streams_and_hashes_what_it_gives(tmp_path):
    image = tmp_path / "local.raw"
    image.write_bytes(DATA)
    with HashingReader(str(image), "sha512") as reader:
        assert len(reader) == len(DATA)
        assert len(reader.read()) == CHUNK  # never the whole file at once
        while reader.read(8192):
            pass
    assert reader.read_bytes == len(DATA)
    assert reader.hash.hexdigest() == hashlib.sha512(DATA).hexdigest()


def test_fetch_text(server):
    assert fetch_text(f"{server}/list.json", "image_list") == '{"hv:imagelist": {}}'
    with pytest.raises(ApplianceError, match=r"image_list: GET .* answered HTTP 401"):
        fetch_text(f"{server}/private/list.json", "image_list")
