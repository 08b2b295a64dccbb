"""Peak memory of glance_appliance adding a 1 GiB appliance, compared with a 1 MiB one.

Run: .venv/bin/python bench/bench_appliance_memory.py [--mib N]
It writes a random image of N MiB (default 1024) to a temporary directory, serves
it on 127.0.0.1 with HTTP basic auth, starts its own simulator and runs
ansible-playbook twice with the built collection: once adding a 1 MiB appliance,
once the big one (download to a temporary file, verify sha512 and size, upload
streamed to Glance). It stops everything by itself and prints a JSON record to add
to bench/results/appliance_memory.json.

The module runs under an interpreter wrapper that records the peak RSS of the
module's own process (the Ansible worker's child that moves the data); the peak
of the whole ansible-playbook process tree is recorded too. The target: the big
appliance adds less than 64 MiB to the module's peak, because the data passes in
1 MiB chunks and is never held whole. Needs about three times N MiB of free disk.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.server
import json
import os
import platform
import stat
import subprocess
import sys
import tempfile
import threading
import time
from functools import partial
from pathlib import Path

from stacksim.testing import Simulator

MIB = 1 << 20
REPO = Path(__file__).resolve().parents[1]
USER, PASSWORD = "bench", "bench-password"
TARGET_MIB = 64

#: Runs the real interpreter as a child and logs that child's peak RSS (KiB) as a JSON line.
WRAPPER = """#!{python}
import json, os, resource, subprocess, sys
code = subprocess.call([{python!r}, *sys.argv[1:]])
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open(os.environ["PEAK_RSS_LOG"], "a") as log:
    log.write(json.dumps({{"argv": sys.argv[1:], "maxrss_kib": peak}}) + "\\n")
sys.exit(code)
"""

PLAYBOOK = """- name: Add one appliance
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    # The implicit localhost would run modules with ansible-playbook's own Python.
    ansible_python_interpreter: {interpreter}
  tasks:
    - name: Add the appliance
      opensandbox.cloud.glance_appliance:
        cloud: stacksim
        tmp_dir: {tmp}
        download_username: {user}
        download_password: {password}
        appliance:
          identifier: {identifier}
          title: {identifier}
          version: "1"
          image:
            location: {url}
            checksum: {checksum}
            size: {size}
      register: added

    - name: Check the image
      ansible.builtin.assert:
        that:
          - added is changed
          - added.appliance.size == {size}
"""


def make_image(path: Path, mib: int) -> str:
    """Write ``mib`` MiB of random-looking data; return its sha512."""
    block = os.urandom(MIB)
    digest = hashlib.sha512()
    with path.open("wb") as out:
        for i in range(mib):
            chunk = i.to_bytes(8, "big") + block[8:]
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        if self.headers.get("Authorization") != expected:
            self.send_error(401)
            return
        super().do_GET()


def ansible_env(collections: Path, work: Path, sim: Simulator, log: Path) -> dict[str, str]:
    env = {k: v for k, v in sim.env.items() if not k.startswith("ANSIBLE_")}
    config = work / "ansible.cfg"
    config.write_text("[defaults]\n")
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(collections),
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
        ANSIBLE_CONFIG=str(config),
        ANSIBLE_HOME=str(work / "ansible-home"),
        ANSIBLE_LOCAL_TEMP=str(work / "ansible-tmp"),
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
        ANSIBLE_NOCOLOR="1",
        PEAK_RSS_LOG=str(log),
    )
    return env


def run_playbook(playbook: Path, env: dict[str, str], log: Path) -> dict[str, float]:
    """Run it under a fresh measuring parent; return seconds, the module's and the tree's peak RSS (MiB)."""
    log.write_text("")
    measure = (
        "import resource, subprocess, sys; code = subprocess.call(sys.argv[1:]); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(code)"
    )
    ansible_playbook = str(Path(sys.executable).parent / "ansible-playbook")
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", measure, ansible_playbook, str(playbook)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"ansible-playbook failed:\n{proc.stdout}\n{proc.stderr}")
    tree_kib = int(proc.stdout.strip().splitlines()[-1])
    modules = [json.loads(line) for line in log.read_text().splitlines()]
    module_kib = max(m["maxrss_kib"] for m in modules if any("glance_appliance" in a for a in m["argv"]))
    return {
        "seconds": round(seconds, 1),
        "module_peak_rss_mib": round(module_kib / 1024, 1),
        "tree_peak_rss_mib": round(tree_kib / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=1024, help="size of the big appliance in MiB (default 1024)")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "tests" / "utils"))  # a script there, not a package
    import build_collection_tree

    with tempfile.TemporaryDirectory(prefix="bench-appliance-") as tmp:
        work = Path(tmp)
        served = work / "served"
        served.mkdir()
        (work / "downloads").mkdir()
        sizes = {"small": 1, "big": args.mib}
        sums = {name: make_image(served / f"{name}.raw", mib) for name, mib in sizes.items()}
        collections = build_collection_tree.build(work / "collections", REPO).parents[2]
        wrapper = work / "peak-python"
        wrapper.write_text(WRAPPER.format(python=sys.executable))
        wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(served)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        log = work / "peak.log"
        results = {}
        try:
            with Simulator() as sim:
                env = ansible_env(collections, work, sim, log)
                for name, mib in sizes.items():
                    playbook = work / f"{name}.yml"
                    playbook.write_text(
                        PLAYBOOK.format(
                            interpreter=wrapper,
                            tmp=work / "downloads",
                            user=USER,
                            password=PASSWORD,
                            identifier=f"bench-{name}",
                            url=f"http://127.0.0.1:{server.server_address[1]}/{name}.raw",
                            checksum=sums[name],
                            size=mib * MIB,
                        )
                    )
                    results[name] = run_playbook(playbook, env, log)
                leftovers = sorted(p.name for p in (work / "downloads").iterdir())
        finally:
            server.shutdown()
            server.server_close()
    added = results["big"]["module_peak_rss_mib"] - results["small"]["module_peak_rss_mib"]
    record = {
        "bench": "appliance_memory",
        "machine": f"{platform.machine()} {platform.python_version()}",
        "big_mib": args.mib,
        "small": results["small"],
        "big": results["big"],
        "module_peak_rss_added_mib": round(added, 1),
        "tree_peak_rss_added_mib": round(
            results["big"]["tree_peak_rss_mib"] - results["small"]["tree_peak_rss_mib"], 1
        ),
        "big_mib_s": round(args.mib / results["big"]["seconds"], 1),
        "target_added_mib": TARGET_MIB,
        "within_target": added < TARGET_MIB,
        "downloads_left": leftovers,
        "date": time.strftime("%Y-%m-%d"),
    }
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
