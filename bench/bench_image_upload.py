"""Image data throughput and memory: upload 1 GiB to Glance, download it back.

Run: .venv/bin/python bench/bench_image_upload.py [--mib N]
It starts its own simulator (in memory, data in a temporary directory), sends
the image from a generator (chunked, never whole in memory) to 127.0.0.1 only,
stops by itself and prints a JSON record to add to bench/results/image_upload.json.
The memory target is the server's peak RSS (VmHWM): it must stay far below the
image size, because the data is streamed to disk and hashed on the way.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import time
from pathlib import Path

import openstack

from stacksim.testing import Simulator

MIB = 1 << 20


def _status(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return round(int(line.split()[1]) / 1024, 1)
    return -1.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=1024, help="image size in MiB (default 1024)")
    args = parser.parse_args()
    block = os.urandom(MIB)
    with Simulator() as sim:
        os.environ["OS_CLIENT_CONFIG_FILE"] = str(sim.clouds_yaml)
        conn = openstack.connect(cloud="stacksim")
        pid = sim.proc.pid
        rss_idle = _status(pid, "VmRSS")
        image = conn.image.post(
            "/images", json={"name": "bench", "disk_format": "raw", "container_format": "bare"}
        ).json()
        sent = hashlib.md5(usedforsecurity=False)

        def body():
            for i in range(args.mib):
                chunk = i.to_bytes(8, "big") + block[8:]
                sent.update(chunk)
                yield chunk

        started = time.perf_counter()
        response = conn.image.put(
            f"/images/{image['id']}/file", data=body(), headers={"Content-Type": "application/octet-stream"}
        )
        upload_s = time.perf_counter() - started
        assert response.status_code == 204, response.text
        shown = conn.image.get(f"/images/{image['id']}").json()
        assert shown["status"] == "active" and shown["checksum"] == sent.hexdigest()
        hwm_upload = _status(pid, "VmHWM")

        received = 0
        started = time.perf_counter()
        with conn.image.get(f"/images/{image['id']}/file", stream=True) as download:
            for chunk in download.iter_content(MIB):
                received += len(chunk)
        download_s = time.perf_counter() - started
        assert received == args.mib * MIB
        result = {
            "bench": "image_upload",
            "machine": f"{platform.machine()} {platform.python_version()}",
            "size_mib": args.mib,
            "upload_s": round(upload_s, 2),
            "upload_mib_s": round(args.mib / upload_s, 1),
            "download_s": round(download_s, 2),
            "download_mib_s": round(args.mib / download_s, 1),
            "server_rss_idle_mib": rss_idle,
            "server_peak_rss_after_upload_mib": hwm_upload,
            "server_peak_rss_mib": _status(pid, "VmHWM"),
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
