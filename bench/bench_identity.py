"""Identity throughput: password token issue and authenticated reads, on loopback.

Run: .venv/bin/python bench/bench_identity.py [--rounds N]
It starts its own simulator (in memory), sends requests to 127.0.0.1 only,
stops by itself and prints a JSON record to add to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
import urllib.request
from pathlib import Path

from stacksim.testing import Simulator


def _post_token(url: str) -> str:
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": "demo", "domain": {"id": "default"}, "password": "stacksim"}},
            },
            "scope": {"project": {"name": "demo", "domain": {"id": "default"}}},
        }
    }
    req = urllib.request.Request(
        f"{url}/identity/v3/auth/tokens", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req) as resp:
        return resp.headers["X-Subject-Token"]


def _get(url: str, token: str) -> None:
    req = urllib.request.Request(url, headers={"X-Auth-Token": token})
    with urllib.request.urlopen(req) as resp:
        resp.read()


def _timed(fn, rounds: int) -> dict[str, float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {
        "median_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 2),
    }


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return -1.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    started = time.perf_counter()
    with Simulator() as sim:
        startup = time.perf_counter() - started
        token = _post_token(sim.url)
        result = {
            "bench": "identity",
            "machine": f"{platform.machine()} {platform.python_version()}",
            "startup_s": round(startup, 2),
            "token_issue": _timed(lambda: _post_token(sim.url), args.rounds),
            "get_own_project_list": _timed(lambda: _get(f"{sim.url}/identity/v3/auth/projects", token), args.rounds),
            "health": _timed(lambda: _get(f"{sim.url}/health", token), args.rounds),
            "rounds": args.rounds,
            "server_rss_mib": _rss_mib(sim.proc.pid),
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
