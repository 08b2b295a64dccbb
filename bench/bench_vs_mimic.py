"""stacksim beside mimic (the old Rackspace OpenStack mock), alternating the two in one run.

Run: make bench   (or .venv/bin/python bench/bench_vs_mimic.py [--rounds N] [--quick] [--no-write])

It starts its own stacksim (in memory, its defaults: a resource shows its final state
on the first read) and its own mimic (``twistd -n mimic`` from build/bench/mimic-venv,
which ``make bench`` installs from bench/requirements-mimic.txt), each on a free loopback
port, and stops both. Every measure runs ``--rounds`` times, the two servers taking turns
(stacksim first in even rounds, mimic first in odd ones); a record keeps each round and
min/median/max over the rounds:

- cold start: the process started to its first token;
- ``GET .../servers/detail`` with 100 and 1,000 servers, on 1 and on 8 connections;
- ``GET .../servers/detail?limit=50`` with 1,000 and 10,000 servers (the page's servers
  with ports; stacksim's among 30,000 more);
- the create rate from 100 to 1,000 servers and at 10,000 (8 threads, one server a request;
  stacksim's with a port on a network, as a user's would be);
- openstacksdk ``create_server(wait=True)``;
- Heat's multi-tier template created and deleted through openstacksdk (stacksim only: mimic's
  Orchestration mock builds nothing);
- each server's RSS at each size, and stacksim's with 30,000 more ports.

From 1,000 servers to 10,000 each is filled as the creates above are made, one server a
request on 8 connections (stacksim's each with its port): the create rate sustained over
those 9,000 is recorded. Then stacksim gets 20,000 more ports (Neutron bulk creates of 1,000
a request), 30,000 in all.

It appends the record to bench/results/vs_mimic.json and rewrites the table between the
markers in bench/README.md (``--no-write``: print only). The machine is shared: the record
carries the load average at the start and at the end, and the server's CPU time per
request, which a busy machine skews less than wall-clock figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench_heat_multitier import sdk_rounds
from benchlib import (
    COMPUTE,
    Client,
    commit,
    compute_project,
    create_servers,
    hammer,
    load_average,
    machine,
    rss_mib,
    spread,
    today,
    token,
    wait_built,
)

from stacksim.testing import Simulator, free_port

REPO = Path(__file__).resolve().parents[1]
MIMIC_VENV = REPO / "build" / "bench" / "mimic-venv"
RESULTS = REPO / "bench" / "results" / "vs_mimic.json"
README = REPO / "bench" / "README.md"
TABLE_START = "<!-- bench_vs_mimic: start -->"
TABLE_END = "<!-- bench_vs_mimic: end -->"
MIMIC_TENANT = "bench"


@dataclass
class Target:
    """One server under test: how to reach its compute API and what a server create sends."""

    name: str
    port: int
    pid: int
    token: str
    compute: str  # the compute endpoint's path
    body: dict[str, Any]
    servers: int = 0  # how many servers the benchmark made in it
    extra: dict[str, Any] = field(default_factory=dict)

    def hammer(self, path: str, connections: int, requests: int) -> dict[str, Any]:
        return hammer(self.port, self.token, self.compute + path, connections, requests, self.pid)

    def create(self, count: int, threads: int = 8) -> dict[str, Any]:
        out = create_servers(
            self.port,
            self.token,
            self.body,
            count,
            threads=threads,
            pid=self.pid,
            servers_path=f"{self.compute}/servers",
            prefix=f"bench{self.servers}",
        )
        self.servers += count
        if self.name == "stacksim":
            wait_built(Client(self.port, self.token))
        return out


# -- the two servers -------------------------------------------------------------------------


def mimic_command(port: int) -> list[str]:
    twistd = MIMIC_VENV / "bin" / "twistd"
    if not twistd.exists():
        raise SystemExit(f"{twistd} is missing: run `make bench` (it installs bench/requirements-mimic.txt there)")
    return [str(twistd), "-n", "--pidfile=", "mimic", "--listen", f"tcp:{port}:interface=127.0.0.1"]


def stacksim_command(port: int, workdir: Path) -> list[str]:
    clouds = workdir / "clouds.yaml"
    serve = ["serve", "--port", str(port), "--clouds-yaml", str(clouds), "--log-level", "warning"]
    return [sys.executable, "-m", "stacksim", *serve]


def spawn(command: list[str], workdir: Path) -> subprocess.Popen:
    log = open(workdir / "server.log", "ab")  # noqa: SIM115 - the child writes it; closed below
    try:
        return subprocess.Popen(
            command, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    finally:
        log.close()


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def mimic_token(port: int) -> tuple[str, str]:
    """A token from mimic's Identity v2 (any credentials do) and its compute endpoint's path."""
    body = {"auth": {"passwordCredentials": {"username": "bench", "password": "bench"}, "tenantName": MIMIC_TENANT}}
    _, access, _ = Client(port).call("POST", "/identity/v2.0/tokens", body)
    catalog = access["access"]["serviceCatalog"]
    url = next(s["endpoints"][0]["publicURL"] for s in catalog if s["name"] == "cloudServersOpenStack")
    return access["access"]["token"]["id"], urllib.parse.urlsplit(url).path


def first_token(name: str, port: int, proc: subprocess.Popen, deadline_s: float = 60) -> None:
    """Poll every 10 ms until the server issues a token."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with status {proc.returncode} before it issued a token")
        try:
            if name == "mimic":
                mimic_token(port)
            else:
                token(port, "demo", "demo")
            return
        except (OSError, RuntimeError):
            time.sleep(0.01)
    raise TimeoutError(f"{name} issued no token within {deadline_s:.0f} s")


def cold_start(name: str) -> float:
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp:
        port = free_port()
        command = mimic_command(port) if name == "mimic" else stacksim_command(port, Path(tmp))
        start = time.perf_counter()
        proc = spawn(command, Path(tmp))
        try:
            first_token(name, port, proc)
            return time.perf_counter() - start
        finally:
            stop(proc)


def prepare_stacksim(sim: Simulator) -> Target:
    """The demo project without quotas, a network with a /16 subnet, the smallest flavor."""
    demo_tok, _, body = compute_project(sim.port)
    net_id = body["networks"][0]["uuid"]
    assert sim.proc is not None
    return Target("stacksim", sim.port, sim.proc.pid, demo_tok, COMPUTE, body, extra={"network": net_id, "sim": sim})


def prepare_mimic(port: int, proc: subprocess.Popen) -> Target:
    first_token("mimic", port, proc)
    tok, compute = mimic_token(port)
    # mimic accepts any image and flavor reference.
    return Target("mimic", port, proc.pid, tok, compute, {"imageRef": "bench-image", "flavorRef": "2"})


# -- measuring -------------------------------------------------------------------------------


def alternate(rounds: int, targets: list[Target], measure: Callable[[Target], Any]) -> dict[str, list[Any]]:
    """``measure`` each target ``rounds`` times, taking turns, the first one changing each round."""
    out: dict[str, list[Any]] = {t.name: [] for t in targets}
    for r in range(rounds):
        for target in targets if r % 2 == 0 else targets[::-1]:
            out[target.name].append(measure(target))
    return out


def folded(per_target: dict[str, list[dict[str, Any]]], keys: dict[str, str]) -> dict[str, Any]:
    """Each target's rounds, and min/median/max of the chosen figures (``keys``: round key -> name)."""
    return {
        name: {"rounds": rounds} | {out: spread([r[key] for r in rounds], 2) for key, out in keys.items()}
        for name, rounds in per_target.items()
    }


READ = {"req_per_s": "req_per_s", "median_ms": "p50_ms", "server_cpu_ms_per_req": "server_cpu_ms_per_req"}
CREATE = {"per_s": "per_s", "median_ms": "p50_ms", "server_cpu_ms_per_create": "server_cpu_ms_per_create"}


def sdk_connection(target: Target):
    import openstack

    if target.name == "stacksim":
        return target.extra["sim"].connect("demo")
    return openstack.connect(
        auth_url=f"http://127.0.0.1:{target.port}/identity/v2.0",
        auth_type="v2password",
        username="bench",
        password="bench",
        project_name=MIMIC_TENANT,
        region_name="ORD",
        identity_api_version="2",
        load_envvars=False,
        load_yaml_config=False,
    )


def sdk_creates(target: Target, conn: Any, count: int) -> dict[str, Any]:
    """``count`` ``create_server(wait=True)`` one after the other: each one's seconds."""
    from openstack.compute.v2.flavor import Flavor
    from openstack.image.v2.image import Image

    # Resources, not names: neither server is asked to look an image or flavor up.
    kwargs: dict[str, Any] = {
        "image": Image(id=target.body["imageRef"]),
        "flavor": Flavor(id=target.body["flavorRef"]),
        "wait": True,
        "auto_ip": False,
        "timeout": 60,
    }
    samples = []
    for n in range(count):
        if "network" in target.extra:  # a new list each time: the SDK empties the one it is given
            kwargs["nics"] = [{"net-id": target.extra["network"]}]
        start = time.perf_counter()
        server = conn.create_server(f"sdk-{target.servers}-{n}", **kwargs)
        samples.append(time.perf_counter() - start)
        assert server.status == "ACTIVE", server.status
    target.servers += count
    return {"median_ms": round(sorted(samples)[len(samples) // 2] * 1000, 1), "samples_ms": samples_ms(samples)}


def samples_ms(samples: list[float]) -> list[float]:
    return [round(s * 1000, 1) for s in samples]


def bulk_ports(target: Target, count: int, per_request: int = 1000) -> float:
    client = Client(target.port, target.token)
    start = time.perf_counter()
    for first in range(0, count, per_request):
        ports = [
            {"network_id": target.extra["network"], "name": f"bulk-port-{n}"}
            for n in range(first, min(count, first + per_request))
        ]
        client.call("POST", "/network/v2.0/ports", {"ports": ports})
    return time.perf_counter() - start


def fill_to(target: Target, total: int) -> dict[str, Any]:
    """Fill a target up to ``total`` servers one a request on 8 connections (see the module's doc)."""
    count = total - target.servers
    made = target.create(count)
    out = {"created": count, "seconds": made["seconds"], "per_s": made["per_s"]}
    if "server_cpu_ms_per_create" in made:
        out["server_cpu_ms_per_create"] = made["server_cpu_ms_per_create"]
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    rounds = args.rounds
    record: dict[str, Any] = {
        "bench": "vs_mimic",
        "date": today(),
        "machine": machine(),
        "commit": commit(),
        "load_average_start": load_average(),
        "rounds": rounds,
        "mimic": "mimic 2.2.0 (bench/requirements-mimic.txt), twistd -n mimic",
        "stacksim": "in-memory state, fake compute driver, default options",
    }
    record["cold_start_s"] = {
        name: spread(values)
        for name, values in alternate(
            rounds, [Target(n, 0, 0, "", "", {}) for n in ("stacksim", "mimic")], lambda t: cold_start(t.name)
        ).items()
    }
    with Simulator() as sim, tempfile.TemporaryDirectory(prefix="bench-mimic-") as tmp:
        mimic_port = free_port()
        mimic_proc = spawn(mimic_command(mimic_port), Path(tmp))
        try:
            targets = [prepare_stacksim(sim), prepare_mimic(mimic_port, mimic_proc)]
            measure_all(record, targets, rounds, args.quick)
        finally:
            stop(mimic_proc)
            assert sim.proc is not None
            stop(sim.proc)  # holding 10,000 servers it may take longer than Simulator.stop waits
    record["load_average_end"] = load_average()
    record["goals"] = goals(record)
    return record


def measure_all(record: dict[str, Any], targets: list[Target], rounds: int, quick: bool) -> None:
    stacksim, _ = targets

    def each(measure: Callable[[Target], Any]) -> dict[str, Any]:
        return {t.name: measure(t) for t in targets}

    def log(what: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {what}", file=sys.stderr, flush=True)

    log("100 servers")
    record["create_0_to_100"] = each(lambda t: t.create(100))
    record["rss_mib_100"] = each(lambda t: rss_mib(t.pid))
    record["detail_100_1conn"] = folded(alternate(rounds, targets, lambda t: t.hammer("/servers/detail", 1, 100)), READ)
    record["detail_100_8conn"] = folded(alternate(rounds, targets, lambda t: t.hammer("/servers/detail", 8, 200)), READ)

    log("100 -> 1,000 servers")
    step = 900 // rounds
    record["create_100_to_1000"] = folded(alternate(rounds, targets, lambda t: t.create(step)), CREATE)
    for t in targets:  # 1,000 whatever the number of rounds
        if t.servers < 1000:
            t.create(1000 - t.servers)
    record["rss_mib_1000"] = each(lambda t: rss_mib(t.pid))
    record["detail_1000_1conn"] = folded(alternate(rounds, targets, lambda t: t.hammer("/servers/detail", 1, 10)), READ)
    record["detail_1000_8conn"] = folded(alternate(rounds, targets, lambda t: t.hammer("/servers/detail", 8, 16)), READ)
    record["limit50_1000"] = folded(
        alternate(rounds, targets, lambda t: t.hammer("/servers/detail?limit=50", 1, 100)), READ
    )

    log("SDK create_server(wait=True)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        conns = {t.name: sdk_connection(t) for t in targets}
        for t in targets:
            sdk_creates(t, conns[t.name], 2)  # warm-up: imports, discovery
        per_round = alternate(rounds, targets, lambda t: sdk_creates(t, conns[t.name], 10))
    record["sdk_create_wait"] = folded(per_round, {"median_ms": "p50_ms"})

    log("Heat multi-tier (stacksim)")
    conn = conns["stacksim"]
    conn.compute.create_keypair(name="bench-key")
    sdk_rounds(conn, "bench-key", 1)  # warm-up
    heat = sdk_rounds(conn, "bench-key", rounds)
    record["heat_multitier_stacksim"] = {name: spread(values) for name, values in heat.items()}
    if quick:
        return

    log("1,000 -> 10,000 servers")
    record["fill_to_10000"] = each(lambda t: fill_to(t, 10_000))
    record["rss_mib_10000"] = each(lambda t: rss_mib(t.pid))
    step = 600 // rounds
    record["create_at_10000"] = folded(alternate(rounds, targets, lambda t: t.create(step)), CREATE)
    log("30,000 ports (stacksim)")
    record["ports_30000_stacksim"] = {
        "seconds": round(bulk_ports(stacksim, 20_000), 1),
        "how": "20,000 more, 1,000 a request",
    }
    # A page of the newest servers, with their ports (stacksim's among 30,000).
    page = "/servers/detail?limit=50"
    record["limit50_10000"] = folded(alternate(rounds, targets, lambda t: t.hammer(page, 1, 100)), READ)
    record["rss_mib_10000_servers_30000_ports_stacksim"] = rss_mib(stacksim.pid)


# -- goals and the table ---------------------------------------------------------------------


def median(record: dict[str, Any], measure: str, target: str, figure: str) -> float | None:
    try:
        return record[measure][target][figure]["median"]
    except KeyError:
        return None


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def goals(record: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 13's goals, each with the value this run measured and whether it is met."""

    def of(measure: str, figure: str) -> tuple[float | None, float | None]:
        return median(record, measure, "stacksim", figure), median(record, measure, "mimic", figure)

    rows: list[tuple[str, float | None, str, float]] = []
    rows.append(
        (
            "servers/detail, 100 servers, 1 connection: req/s ÷ mimic's",
            ratio(*of("detail_100_1conn", "req_per_s")),
            ">=",
            2,
        )
    )
    rows.append(
        (
            "servers/detail, 100 servers, 8 connections: req/s ÷ mimic's",
            ratio(*of("detail_100_8conn", "req_per_s")),
            ">=",
            2,
        )
    )
    rows.append(
        (
            "servers/detail, 1,000 servers, 1 connection: p50 ÷ mimic's",
            ratio(*of("detail_1000_1conn", "p50_ms")),
            "<=",
            0.5,
        )
    )
    rows.append(("limit=50 at 10,000 servers: p50 ms", of("limit50_10000", "p50_ms")[0], "<=", 5))
    rows.append(("creates/s from 100 to 1,000 servers (8 threads)", of("create_100_to_1000", "per_s")[0], ">=", 300))
    rows.append(("creates/s at 10,000 servers (8 threads)", of("create_at_10000", "per_s")[0], ">=", 300))
    fill = record.get("fill_to_10000", {}).get("stacksim", {}).get("per_s")
    rows.append(("creates/s sustained from 1,000 to 10,000 servers (one a request, 8 threads)", fill, ">=", 300))
    rows.append(("SDK create_server(wait=True) p50 ms", of("sdk_create_wait", "p50_ms")[0], "<=", 100))
    heat = record.get("heat_multitier_stacksim", {}).get("create_wait", {}).get("median")
    rows.append(("Heat multi-tier CREATE_COMPLETE through the SDK (wait=True), median s", heat, "<=", 1))
    rss = record.get("rss_mib_10000_servers_30000_ports_stacksim")
    rows.append(("RSS MiB with 10,000 servers and 30,000 ports", rss, "<=", 300))
    one, eight = of("detail_100_1conn", "req_per_s")[0], of("detail_100_8conn", "req_per_s")[0]
    rows.append(("servers/detail, 100 servers: req/s on 8 connections ÷ on 1", ratio(eight, one), ">=", 6))
    out = []
    for goal, value, op, bound in rows:
        met = None if value is None else (value >= bound if op == ">=" else value <= bound)
        out.append({"goal": goal, "value": value, "target": f"{op} {bound}", "met": met})
    return out


# (measure, figure, label, unit, better): the README's rows.
TABLE = [
    ("cold_start_s", None, "cold start to first token", "s", "lower"),
    ("detail_100_1conn", "req_per_s", "`servers/detail`, 100 servers, 1 connection", "req/s", "higher"),
    ("detail_100_1conn", "p50_ms", "same, p50", "ms", "lower"),
    ("detail_100_8conn", "req_per_s", "`servers/detail`, 100 servers, 8 connections", "req/s", "higher"),
    ("detail_100_8conn", "p50_ms", "same, p50", "ms", "lower"),
    ("detail_1000_1conn", "p50_ms", "`servers/detail`, 1,000 servers, 1 connection, p50", "ms", "lower"),
    ("detail_1000_8conn", "req_per_s", "`servers/detail`, 1,000 servers, 8 connections", "req/s", "higher"),
    ("limit50_1000", "p50_ms", "`servers/detail?limit=50`, 1,000 servers, p50", "ms", "lower"),
    ("limit50_10000", "p50_ms", "`servers/detail?limit=50`, 10,000 servers, p50", "ms", "lower"),
    ("create_100_to_1000", "per_s", "creates 100 → 1,000 (8 threads)", "/s", "higher"),
    ("create_at_10000", "per_s", "creates at 10,000 (8 threads)", "/s", "higher"),
    ("sdk_create_wait", "p50_ms", "SDK `create_server(wait=True)`, p50", "ms", "lower"),
    ("rss_mib_100", None, "RSS, 100 servers", "MiB", "lower"),
    ("rss_mib_1000", None, "RSS, 1,000 servers", "MiB", "lower"),
    ("rss_mib_10000", None, "RSS, 10,000 servers", "MiB", "lower"),
]


def table(record: dict[str, Any]) -> str:
    load = f"load average {record['load_average_start'][0]} at the start, {record['load_average_end'][0]} at the end"
    lines = [
        f"Last run: {record['date']}, commit {record['commit']}, {record['machine']}, {load}; "
        f"median of {record['rounds']} alternating rounds (each round's figures are in `results/vs_mimic.json`). "
        "The ratio is stacksim ÷ mimic; the absolute medians are this machine's.",
        "",
        "| Measure | stacksim ÷ mimic | better | stacksim (this machine) | mimic (this machine) |",
        "|---|---|---|---|---|",
    ]
    for measure, figure, label, unit, better in TABLE:
        if measure not in record:
            continue
        if figure is None:  # a spread or a plain number per target
            mine, theirs = (record[measure][n] for n in ("stacksim", "mimic"))
            mine, theirs = (v["median"] if isinstance(v, dict) else v for v in (mine, theirs))
        else:
            mine, theirs = median(record, measure, "stacksim", figure), median(record, measure, "mimic", figure)
        lines.append(f"| {label} | {ratio(mine, theirs)} | {better} | {mine} {unit} | {theirs} {unit} |")
    if "fill_to_10000" in record:
        fill = record["fill_to_10000"]
        lines.append(
            "| creates 1,000 → 10,000, one a request (8 threads), sustained | "
            f"{ratio(fill['stacksim']['per_s'], fill['mimic']['per_s'])} | higher | "
            f"{fill['stacksim']['per_s']} /s | {fill['mimic']['per_s']} /s |"
        )
    heat = record.get("heat_multitier_stacksim")
    if heat:
        lines.append(
            "| Heat multi-tier create / delete through the SDK (`wait=True`), median | (mimic builds nothing) "
            f"| lower | {heat['create_wait']['median']} s / {heat['delete_wait']['median']} s | — |"
        )
    if "ports_30000_stacksim" in record:
        lines.append(
            f"| RSS, 10,000 servers and 30,000 ports (stacksim only) | — | lower | "
            f"{record['rss_mib_10000_servers_30000_ports_stacksim']} MiB | — |"
        )
    lines += ["", "Issue 13's goals in this run:", "", "| Goal | Measured | Target | Met |", "|---|---|---|---|"]
    for g in record["goals"]:
        met = {True: "yes", False: "**no**", None: "not measured"}[g["met"]]
        lines.append(f"| {g['goal']} | {g['value']} | {g['target']} | {met} |")
    return "\n".join(lines)


def write(record: dict[str, Any]) -> None:
    history = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    history.append(record)
    RESULTS.write_text(json.dumps(history, indent=2, ensure_ascii=False) + "\n")
    text = README.read_text()
    start, end = text.index(TABLE_START) + len(TABLE_START), text.index(TABLE_END)
    README.write_text(text[:start] + "\n" + table(record) + "\n" + text[end:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of each measure")
    parser.add_argument("--quick", action="store_true", help="stop at 1,000 servers (no 10,000 step)")
    parser.add_argument("--no-write", action="store_true", help="print the record, write nothing")
    args = parser.parse_args()
    os.environ.pop("OS_CLIENT_CONFIG_FILE", None)  # the SDK connections here are explicit
    started = time.perf_counter()
    record = run(args)
    record["seconds"] = round(time.perf_counter() - started)
    # Each measure's rounds stay in the JSON; the summary printed is the table.
    if not args.no_write:
        write(record)
    else:
        print(json.dumps(record, indent=2, ensure_ascii=False, default=str))
    print(table(record))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
