"""What the benchmarks share: a keep-alive HTTP client, timed load on threads, latency and
round summaries, and the facts about the machine a record carries.

The scripts in ``bench/`` run as ``python bench/<script>.py``, so this module is importable
beside them as ``benchlib``.
"""

from __future__ import annotations

import datetime
import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

COMPUTE = "/compute/v2.1"


class Client:
    """One keep-alive HTTP connection to a server on loopback."""

    def __init__(self, port: int, token: str | None = None) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.token = token

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any, dict[str, str]]:
        try:
            return self._call(method, path, body)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            if method != "GET":
                raise
            self.conn.close()  # the server closed an idle keep-alive connection: once more
            return self._call(method, path, body)

    def _call(self, method: str, path: str, body: Any = None) -> tuple[int, Any, dict[str, str]]:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["X-Auth-Token"] = self.token
        data = json.dumps(body).encode() if body is not None else None
        self.conn.request(method, path, body=data, headers=headers)
        resp = self.conn.getresponse()
        raw = resp.read()
        parsed = json.loads(raw) if raw and resp.getheader("content-type", "").startswith("application/json") else None
        if resp.status >= 400:
            raise RuntimeError(f"{method} {path}: {resp.status} {raw[:300]!r}")
        return resp.status, parsed, {k.lower(): v for k, v in resp.getheaders()}

    def raw_get(self, path: str) -> int:
        self.conn.request("GET", path, headers={"X-Auth-Token": self.token or ""})
        resp = self.conn.getresponse()
        size = len(resp.read())
        if resp.status != 200:
            raise RuntimeError(f"GET {path}: {resp.status}")
        return size


def token(port: int, user: str, project: str, password: str = "stacksim") -> str:
    """A project-scoped Keystone v3 token from stacksim."""
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": user, "domain": {"id": "default"}, "password": password}},
            },
            "scope": {"project": {"name": project, "domain": {"id": "default"}}},
        }
    }
    _, _, headers = Client(port).call("POST", "/identity/v3/auth/tokens", body)
    return headers["x-subject-token"]


#: the end of a measuring child's script (see :func:`serve_measured`)
_CHILD_TAIL = """
import signal as _signal, sys as _sys
from stacksim import cli as _cli
_signal.signal(_signal.SIGUSR1, start)
_signal.signal(_signal.SIGUSR2, dump)
_sys.exit(_cli.main(_sys.argv[1:]))
"""


def serve_measured(child: str, port: int, env: dict[str, str]) -> subprocess.Popen:
    """``stacksim serve`` (in memory, ``--delay 0``) in a child process that first runs ``child``,
    a script defining ``start()`` (called on SIGUSR1: measure from now) and ``dump()`` (on
    SIGUSR2: write what was measured and exit); returned once it gives tokens."""
    proc = subprocess.Popen(
        [sys.executable, "-c", child + _CHILD_TAIL, "serve", "--port", str(port), "--delay", "0"],
        env=dict(os.environ, **env),
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            token(port, "demo", "demo")
            return proc
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.terminate()
                proc.wait(30)
                raise
            time.sleep(0.2)


def compute_project(port: int) -> tuple[str, Client, dict[str, Any]]:
    """Make the demo project ready for many servers: no instance, core, RAM or port quota, a
    network ``bench`` with a /16 subnet. Returns a demo token, a demo client and a server body
    (the smallest flavor, the first image, a port on that network)."""
    admin = Client(port, token(port, "admin", "admin"))
    demo_tok = token(port, "demo", "demo")
    demo = Client(port, demo_tok)
    _, projects, _ = admin.call("GET", "/identity/v3/projects?name=demo")
    project = projects["projects"][0]["id"]
    unlimited = {"quota_set": {"instances": -1, "cores": -1, "ram": -1}}
    admin.call("PUT", f"{COMPUTE}/os-quota-sets/{project}", unlimited)
    admin.call("PUT", f"/network/v2.0/quotas/{project}", {"quota": {"port": -1}})
    _, net, _ = demo.call("POST", "/network/v2.0/networks", {"network": {"name": "bench"}})
    net_id = net["network"]["id"]
    subnet = {"network_id": net_id, "ip_version": 4, "cidr": "10.100.0.0/16", "name": "bench"}
    demo.call("POST", "/network/v2.0/subnets", {"subnet": subnet})
    _, flavors, _ = demo.call("GET", f"{COMPUTE}/flavors/detail")
    flavor = min(flavors["flavors"], key=lambda f: (f["vcpus"], f["ram"]))["id"]
    _, images, _ = demo.call("GET", "/image/v2/images")
    body = {"imageRef": images["images"][0]["id"], "flavorRef": flavor, "networks": [{"uuid": net_id}]}
    return demo_tok, demo, body


def stats(samples: list[float]) -> dict[str, float]:
    """Latencies (seconds in) as min/median/p95/max milliseconds."""
    ordered = sorted(samples)
    return {
        "min_ms": round(ordered[0] * 1000, 2),
        "median_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


def spread(values: list[float], digits: int = 3) -> dict[str, float]:
    """min/median/max of a few rounds' figures."""
    return {
        "min": round(min(values), digits),
        "median": round(statistics.median(values), digits),
        "max": round(max(values), digits),
    }


def summary(values: list[float]) -> dict[str, float]:
    """min/median/max of a few rounds' durations, in seconds."""
    return {f"{key}_s": value for key, value in spread(values).items()}


def cpu_seconds(pid: int) -> float:
    """The CPU time (user + system) a process has used: a measure a busy machine skews less."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return -1.0


def timed_threads(threads: int, work: Callable[[Callable[[Callable[[], Any]], None]], None], pid: int):
    """Run ``work(time_one)`` on ``threads`` threads at once; ``time_one(fn)`` calls and times
    ``fn``. Returns the samples, the wall-clock seconds and the server's CPU seconds meanwhile."""
    samples: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        mine: list[float] = []

        def time_one(fn: Callable[[], Any]) -> None:
            start = time.perf_counter()
            fn()
            mine.append(time.perf_counter() - start)

        work(time_one)
        with lock:
            samples.extend(mine)

    running = [threading.Thread(target=worker) for _ in range(threads)]
    cpu = cpu_seconds(pid) if pid else 0.0
    start = time.perf_counter()
    for t in running:
        t.start()
    for t in running:
        t.join()
    return samples, time.perf_counter() - start, (cpu_seconds(pid) - cpu) if pid else 0.0


def hammer(port: int, tok: str, path: str, connections: int, requests: int, pid: int = 0) -> dict[str, Any]:
    """``requests`` GETs of ``path`` spread over ``connections`` keep-alive connections
    (with ``pid``: also the server's CPU time per request)."""
    each = max(1, requests // connections)

    def work(time_one: Callable[[Callable[[], Any]], None]) -> None:
        client = Client(port, tok)
        client.raw_get(path)  # warm the connection
        for _ in range(each):
            time_one(lambda: client.raw_get(path))

    samples, elapsed, cpu = timed_threads(connections, work, pid)
    out = {"connections": connections, "requests": len(samples), "req_per_s": round(len(samples) / elapsed, 1)}
    if pid:  # the warm-up requests count too: one per connection
        out["server_cpu_ms_per_req"] = round(cpu * 1000 / (len(samples) + connections), 2)
    return out | stats(samples)


def create_servers(
    port: int,
    tok: str,
    body: dict[str, Any],
    count: int,
    threads: int = 8,
    pid: int = 0,
    servers_path: str = f"{COMPUTE}/servers",
    prefix: str = "bench",
) -> dict[str, Any]:
    """Create ``count`` servers, one a request, on ``threads`` connections: the rate and latencies."""
    names = iter(range(count))
    lock = threading.Lock()

    def work(time_one: Callable[[Callable[[], Any]], None]) -> None:
        client = Client(port, tok)
        while True:
            with lock:
                n = next(names, None)
            if n is None:
                return
            server = {"server": dict(body, name=f"{prefix}-{n}")}
            time_one(lambda s=server: client.call("POST", servers_path, s))

    samples, elapsed, cpu = timed_threads(threads, work, pid)
    out = {"created": count, "threads": threads, "per_s": round(count / elapsed, 1), "seconds": round(elapsed, 2)}
    if pid:  # the builds that run meanwhile count too
        out["server_cpu_ms_per_create"] = round(cpu * 1000 / count, 2)
    return out | stats(samples)


def bulk_create(client: Client, body: dict[str, Any], count: int, per_request: int = 100) -> float:
    """Create ``count`` servers without networks, ``per_request`` a request (Nova's ``min_count``)."""
    start = time.perf_counter()
    made = 0
    while made < count:
        n = min(per_request, count - made)
        server = dict(body, name=f"bulk-{made}", networks="none", min_count=n, max_count=n)
        client.call("POST", f"{COMPUTE}/servers", {"server": server})
        made += n
    return time.perf_counter() - start


def wait_built(client: Client, deadline_s: float = 600) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        _, body, _ = client.call("GET", f"{COMPUTE}/servers?status=BUILD&limit=1")
        if not body["servers"]:
            return
        time.sleep(0.2)
    raise RuntimeError("servers still building")


def commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine() -> str:
    return f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"


def today() -> str:
    return datetime.date.today().isoformat()


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]
