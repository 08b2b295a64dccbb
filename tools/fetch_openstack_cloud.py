"""Install the openstack.cloud collection that works with today's openstacksdk.

openstack.cloud 2.5.0, the one inside the newest `ansible` package for Python
3.11, reads ``openstack.version``, which openstacksdk removed in 4.15; 2.6.0
fixes that. Galaxy is not reachable from every machine we run on, but PyPI
is, and the `ansible` 14 wheel carries 2.6.0: this takes the collection out
of that wheel (never installing the wheel itself).

    python tools/fetch_openstack_cloud.py COLLECTIONS_DIR
"""

from __future__ import annotations

import fcntl
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ANSIBLE = "14.5.0"
COLLECTION = "2.6.0"
PREFIX = "ansible_collections/openstack/cloud/"


def main(dest: Path) -> int:
    dest.mkdir(parents=True, exist_ok=True)
    # Tests run side by side (pytest -n) may ask at once: one fetches, the others wait and find it there.
    with open(dest / ".fetch-openstack-cloud.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _fetch(dest)


def _fetch(dest: Path) -> int:
    target = dest / PREFIX / "MANIFEST.json"
    if target.exists() and json.loads(target.read_text())["collection_info"]["version"] == COLLECTION:
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--only-binary=:all:",
                "--python-version",
                "3.12",
                "--dest",
                tmp,
                f"ansible=={ANSIBLE}",
            ],
            check=True,
        )
        (wheel,) = Path(tmp).glob("ansible-*.whl")
        with zipfile.ZipFile(wheel) as archive:
            for name in archive.namelist():
                if name.startswith(PREFIX):
                    archive.extract(name, dest)
    found = json.loads(target.read_text())["collection_info"]["version"]
    if found != COLLECTION:
        print(f"expected openstack.cloud {COLLECTION}, the wheel had {found}", file=sys.stderr)
        return 1
    print(f"Installed openstack.cloud {found} into {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
