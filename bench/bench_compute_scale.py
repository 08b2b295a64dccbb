"""Compute at scale: ``GET /servers/detail`` and server creation as a project grows.

Run: .venv/bin/python bench/bench_compute_scale.py [--label after] [--quick] [--creates]

It starts its own simulator (in memory, ``--delay 0``), sends requests to
127.0.0.1 only, stops by itself and prints a JSON record to append to
``bench/results/compute_scale.json``. Measured:

- ``GET /servers/detail`` with 100 and 1,000 servers, on 1 and on 8 connections
  (requests per second, and each request's latency: min/median/p95/max);
- ``GET /servers/detail?limit=50`` with 1,000 and 10,000 servers;
- the create rate from 100 to 1,000 servers, from 1,000 on and at 10,000 (300 creates there;
  8 threads, one server a request, each with a port on the benchmark's network), with the
  server's CPU time per create, builds included (``--creates``: these alone, no lists);
- the server's RSS at each size;
- ``servers/detail`` of 100 servers right after a write (the server keeps listed views and
  replies while nothing at all is written, so a poll repeating a list is cheap): each list
  follows a metadata update of one server, and the CPU time of the updates alone is taken
  off (``detail_100_after_write``).

Servers 1,000 to 10,000 are made 100 a request without networks (``networks:
none``), so the list at 10,000 measures the servers, not 10,000 ports.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from typing import Any

from benchlib import (
    COMPUTE,
    Client,
    bulk_create,
    commit,
    compute_project,
    cpu_seconds,
    create_servers,
    hammer,
    machine,
    rss_mib,
    stats,
    today,
    wait_built,
)

from stacksim.testing import Simulator


def server_pid(sim: Simulator) -> int:
    # control.spawn runs ``python -m stacksim serve`` directly, so the child is the server.
    assert sim.proc is not None
    return sim.proc.pid


def after_write(port: int, client: Client, detail: str, pid: int, rounds: int = 100) -> dict[str, Any]:
    """``detail`` made cold by a write before each (see the docstring): CPU ms per list."""
    _, body, _ = client.call("GET", f"{COMPUTE}/servers?limit=1")
    meta = f"{COMPUTE}/servers/{body['servers'][0]['id']}/metadata"

    def write(n: int) -> None:
        client.call("POST", meta, {"metadata": {"n": str(n)}})

    start = cpu_seconds(pid)
    for n in range(rounds):
        write(n)
    writes = cpu_seconds(pid) - start
    samples = []
    start = cpu_seconds(pid)
    for n in range(rounds):
        write(n)
        began = time.perf_counter()
        client.raw_get(detail)
        samples.append(time.perf_counter() - began)
    both = cpu_seconds(pid) - start
    return {"requests": rounds, "server_cpu_ms_per_req": round((both - writes) * 1000 / rounds, 2)} | stats(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--label", default="", help="a word for the record (before, after ...)")
    parser.add_argument("--quick", action="store_true", help="stop at 1,000 servers (no 10,000 step)")
    parser.add_argument("--creates", action="store_true", help="the creates alone (no list measures)")
    args = parser.parse_args()
    record: dict[str, Any] = {
        "bench": "compute_scale",
        "label": args.label,
        "date": today(),
        "machine": machine(),
        "commit": commit(),
    }
    with Simulator(extra_args=["--delay", "0"]) as sim:
        demo_tok, demo, body = compute_project(sim.port)
        pid = server_pid(sim)
        detail = f"{COMPUTE}/servers/detail"

        record["create_0_to_100"] = create_servers(sim.port, demo_tok, body, 100, pid=pid)
        wait_built(demo)
        record["rss_mib_100"] = rss_mib(pid)
        lists = not args.creates
        if lists:
            record["detail_100_1conn"] = hammer(sim.port, demo_tok, detail, 1, 200, pid)
            record["detail_100_8conn"] = hammer(sim.port, demo_tok, detail, 8, 400, pid)
            record["detail_100_after_write"] = after_write(sim.port, demo, detail, pid)

        record["create_100_to_1000"] = create_servers(sim.port, demo_tok, body, 900, pid=pid)
        wait_built(demo)
        record["rss_mib_1000"] = rss_mib(pid)
        if lists:
            record["detail_1000_1conn"] = hammer(sim.port, demo_tok, detail, 1, 20, pid)
            record["detail_1000_8conn"] = hammer(sim.port, demo_tok, detail, 8, 40, pid)
            record["limit50_1000"] = hammer(sim.port, demo_tok, f"{detail}?limit=50", 1, 100, pid)

        record["create_1000_to_1200"] = create_servers(sim.port, demo_tok, body, 200, pid=pid)
        wait_built(demo)
        if not args.quick:
            record["bulk_1200_to_10000_s"] = round(bulk_create(demo, body, 8800), 1)
            wait_built(demo)
            record["rss_mib_10000"] = rss_mib(pid)
            if lists:
                record["limit50_10000"] = hammer(sim.port, demo_tok, f"{detail}?limit=50", 1, 50, pid)
            record["create_at_10000"] = create_servers(sim.port, demo_tok, body, 300, pid=pid)
        print(json.dumps(record, indent=2), flush=True)  # before the server stops: that may take long
        try:
            sim.stop()
        except subprocess.TimeoutExpired:
            sim.stop(kill=True)


if __name__ == "__main__":
    main()
