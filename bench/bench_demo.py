"""The demo (``playbooks/demo.yml``) with the docker compute driver beside the fake one.

Run (as root, with a Docker engine: ``make docker-engine``; and ``make collection``):
    .venv/bin/python bench/bench_demo.py [--rounds N]

Each round starts a simulator of each driver in turn (its own state dir, the
default ``--delay``, as ``make demo`` does), alternating which goes first (ABBA),
and times, with the wall clock of the ``ansible-playbook`` process:

- the demo: who we are, the small sandbox (``small-sandbox.yaml``, 4 servers)
  deployed with ``heat_sandbox``, and, with docker, ``ssh ... hostname`` on every
  host through the management node's floating IP (the playbook fails if one does
  not answer);
- its second run (nothing changes; the ssh commands run again);
- ``playbooks/destroy_sandbox.yml``.

A docker round holds the host's docker turn (:func:`stacksim.testing.docker_turn`)
and ends with ``stacksim stop --purge`` of its state dir. It prints a JSON record to
add to bench/results/demo.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

from stacksim.testing import Simulator, docker_turn

REPO = Path(__file__).resolve().parents[1]
COLLECTIONS = REPO / "build" / "collections"
BIN = Path(sys.executable).parent
DRIVERS = ("fake", "docker")
STEPS = ("demo", "again", "destroy")


def _playbook(name: str, env: dict[str, str], cwd: Path, *extra: str) -> tuple[float, str]:
    started = time.monotonic()
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), str(REPO / "playbooks" / name), *extra],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    seconds = time.monotonic() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}")
    return seconds, proc.stdout


def one_round(driver: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="stacksim-bench-demo-") as tmp:
        workdir = Path(tmp)
        state = workdir / "state"
        sim = Simulator(state_dir=state, extra_args=["--compute-driver", driver])
        env = dict(
            sim.env,
            ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
            ANSIBLE_LOCALHOST_WARNING="false",
            ANSIBLE_NOCOLOR="1",
            PWD=str(workdir),  # where the demo writes its inventory and key
        )
        times: dict[str, float] = {}
        with docker_turn() if driver == "docker" else nullcontext():
            try:
                started = time.monotonic()
                with sim:
                    times["start"] = time.monotonic() - started
                    times["demo"], out = _playbook("demo.yml", env, workdir)
                    answered = re.search(r"(\d+) of (\d+) hosts answered ssh", out)
                    if driver == "docker" and not (answered and answered[1] == answered[2]):
                        raise RuntimeError(f"the demo's hosts did not all answer ssh:\n{out[-4000:]}")
                    times["again"], _ = _playbook("demo.yml", env, workdir)
                    topology = REPO / "playbooks" / "files" / "small-sandbox.yaml"
                    times["destroy"], _ = _playbook("destroy_sandbox.yml", env, workdir, "-e", f"topology={topology}")
            finally:
                if driver == "docker":
                    purge = [str(BIN / "stacksim"), "stop", "--state-dir", str(state), "--purge"]
                    subprocess.run(purge, check=False, capture_output=True)  # stdout is the record's
        return times


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_s": round(statistics.median(ordered), 1),
        "min_s": round(ordered[0], 1),
        "max_s": round(ordered[-1], 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="demos per driver (default 3)")
    args = parser.parse_args()
    if not (COLLECTIONS / "ansible_collections" / "opensandbox" / "cloud").is_dir():
        print("the collection is not installed under build/collections: run `make collection` first")
        return 1
    from stacksim.drivers.docker import check

    why = check()
    if why:
        print(f"the docker driver cannot run here: {why}")
        return 1
    samples: dict[str, list[dict[str, float]]] = {driver: [] for driver in DRIVERS}
    for index in range(args.rounds):
        for driver in DRIVERS if index % 2 == 0 else reversed(DRIVERS):
            samples[driver].append(one_round(driver))
            print(f"round {index + 1} {driver}: {samples[driver][-1]}", file=sys.stderr)
    record = {
        "bench": "demo",
        "machine": f"{platform.machine()} {platform.python_version()} {os.cpu_count()} cores",
        "rounds": args.rounds,
        "topology": "playbooks/files/small-sandbox.yaml (4 servers, 27 resources)",
        **{
            driver: {step: _summary([s[step] for s in samples[driver]]) for step in ("start", *STEPS)}
            for driver in DRIVERS
        },
        "date": datetime.date.today().isoformat(),
        "note": "ansible-playbook wall clock, ABBA order in one run; stacksim with its default --delay; "
        "docker: the demo includes ssh to the 4 hosts (man by its floating IP, the others through it)",
    }
    print(json.dumps(record, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
