"""Image data is streamed: a large upload and download keep the simulator's memory flat.

A memory bound, not a timing: the simulator's RSS (sampled all through the
transfer) may not grow by more than 64 MiB while 512 MiB go through it.
"""

from __future__ import annotations

import hashlib
import os
import threading
import uuid
from pathlib import Path

MIB = 1 << 20
SIZE = 512 * MIB
BOUND = 64 * MIB


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


class _Peak:
    """Samples a process's RSS in a thread; ``peak`` is the highest seen."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = _rss(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _rss(self.pid))

    def __enter__(self) -> _Peak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss(self.pid))


def test_large_upload_and_download_keep_memory_flat(sim, demo):
    image = demo.image.post(
        "/images", json={"name": f"big-{uuid.uuid4().hex[:6]}", "disk_format": "raw", "container_format": "bare"}
    ).json()
    block = os.urandom(MIB)
    sent = hashlib.md5()

    def body():
        for i in range(SIZE // MIB):
            chunk = i.to_bytes(8, "big") + block[8:]
            sent.update(chunk)
            yield chunk

    before = _rss(sim.proc.pid)
    with _Peak(sim.proc.pid) as upload:
        response = demo.image.put(
            f"/images/{image['id']}/file", data=body(), headers={"Content-Type": "application/octet-stream"}
        )
    assert response.status_code == 204, response.text
    assert upload.peak - before < BOUND, f"RSS grew by {(upload.peak - before) / MIB:.0f} MiB during the upload"

    shown = demo.image.get(f"/images/{image['id']}").json()
    assert shown["status"] == "active" and shown["size"] == SIZE and shown["checksum"] == sent.hexdigest()

    received = hashlib.md5()
    before = _rss(sim.proc.pid)
    with _Peak(sim.proc.pid) as download:
        response = demo.image.get(f"/images/{image['id']}/file", stream=True)
        for chunk in response.iter_content(MIB):
            received.update(chunk)
    assert received.hexdigest() == sent.hexdigest()
    assert download.peak - before < BOUND, f"RSS grew by {(download.peak - before) / MIB:.0f} MiB during the download"
    assert demo.image.delete(f"/images/{image['id']}").status_code == 204
