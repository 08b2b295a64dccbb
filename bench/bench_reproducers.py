"""Issue 14's reproducers, rerun against one stacksim while ``/health`` and the server's memory are watched.

Run: .venv/bin/python bench/bench_reproducers.py [--race-seconds S] [--no-record]

It starts one simulator (a real server process, on loopback, with a state dir
whose modes an earlier run left loose), a prober process that GETs ``/health``
every 25 ms on its own keep-alive connection (a probe counts less the time the
prober itself waited for a CPU, which a busy shared machine adds and the server
has no part in; the raw figures are kept too), and a sampler of the server's
VmRSS and VmHWM. Then it reruns every reproducer of issue 14 (hostile bodies,
templates and connections; text that is not Unicode; the Keystone, Nova and
Neutron bodies that used to crash; ``reader`` writes; application credentials'
access rules and expiry; the loopback guard; file modes; the segmentation-id
race; the limits) and for each one records the status, whether the body is the
service's own error with a request id, whether the same keep-alive connection
answers the next request, how long it took, ``/health``'s max and p99 latency
meanwhile and the server's RSS. Then every list (as the project, and as admin
over all projects) must answer 200, and again after a restart.

Issue 14's check: ``/health`` under 100 ms throughout, RSS under 500 MiB, lists
stay 200, no 5xx, no plain-text error, no broken connection. It prints a table,
appends a record to bench/results/reproducers.json and exits 1 if any check
failed. It stops by itself.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import http.client
import json
import multiprocessing
import os
import platform
import selectors
import socket
import stat
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from stacksim.config import Settings
from stacksim.connections import BACKLOG
from stacksim.testing import Simulator, wait_until

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "reproducers.json"
HEALTH_LIMIT_MS = 100.0
RSS_LIMIT_MIB = 500.0
#: seconds between two /health probes, and how long one may take before it counts as failed
PROBE_EVERY, PROBE_TIMEOUT = 0.025, 5.0
HOT = "heat_template_version: 2016-10-14\n"
JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}
#: each service's collection that takes a JSON POST ({project}: the caller's project, for Heat)
POSTS = {
    "identity": "/identity/v3/projects",
    "network": "/network/v2.0/networks",
    "compute": "/compute/v2.1/servers",
    "image": "/image/v2/images",
    "block-storage": "/volume/v3/volumes",
    "orchestration": "/orchestration/v1/{project}/stacks",
}
#: the defaults of stacksim's connection limits (--max-connections, --idle-timeout, --request-timeout)
MAX_CONNECTIONS, IDLE_TIMEOUT, REQUEST_TIMEOUT = (
    Settings().max_connections,
    Settings().idle_timeout,
    Settings().request_timeout,
)
#: idle connections, and as many half-sent ones, left open for the idle and request timeouts
CROWD = 450
#: files of the state dir that hold secrets (password hashes, tokens, private bytes)
SECRET_FILES = ("stacksim.db", "stacksim.db-wal", "stacksim.db-shm", "bootstrap.json", "stacksim.log")


# -- the watchers ------------------------------------------------------------------------------------------


def probe(port: Any, paused: Any, stopping: Any, out: str) -> None:
    """The prober process: GET /health every PROBE_EVERY s on one keep-alive connection; each probe's
    monotonic start, latency (ms), whether it answered 200 and how long the prober itself waited for
    a CPU meanwhile (ms: on a busy machine that is no time of the server's) go to ``out``, a line each."""
    schedstat = Path("/proc/thread-self/schedstat")
    conn = None
    with open(out, "a", buffering=1) as sink:
        while not stopping.is_set():
            if paused.is_set():
                if conn is not None:
                    conn.close()
                    conn = None
                time.sleep(PROBE_EVERY)
                continue
            start, waited = time.monotonic(), int(schedstat.read_text().split()[1])
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", port.value, timeout=PROBE_TIMEOUT)
                conn.request("GET", "/health")
                response = conn.getresponse()
                ok = response.status == 200 and b'"ok"' in response.read()
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = None
            took = time.monotonic() - start
            waited = (int(schedstat.read_text().split()[1]) - waited) / 1e6
            sink.write(f"{start:.6f} {took * 1000:.3f} {int(ok)} {waited:.3f}\n")
            time.sleep(max(0.0, PROBE_EVERY - took))
    if conn is not None:
        conn.close()


@dataclass
class Probes:
    """The prober process and what it wrote."""

    sim: Simulator
    path: Path

    def __post_init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.port = ctx.Value("i", self.sim.port)
        self.paused, self.stopping = ctx.Event(), ctx.Event()
        self.proc = ctx.Process(target=probe, args=(self.port, self.paused, self.stopping, str(self.path)))
        self.proc.start()

    def samples(self) -> list[tuple[float, float, bool, float]]:
        """Each probe: its start, the server's share of its latency (ms: less the prober's own wait
        for a CPU), whether it answered, and its latency as the prober saw it (ms)."""
        rows = []
        text = self.path.read_text() if self.path.exists() else ""
        for line in text.splitlines()[: text.count("\n")]:  # complete lines only
            start, ms, ok, waited = line.split()
            rows.append((float(start), max(0.0, float(ms) - float(waited)), ok == "1", float(ms)))
        return rows

    def stop(self) -> None:
        self.stopping.set()
        self.proc.join(10)


class Sampler(threading.Thread):
    """The server process's VmRSS and VmHWM (MiB) every 50 ms, with the time its event loop's thread
    spent waiting for a CPU (s, from schedstat: what a busy machine costs, not what the server does);
    its open files when asked."""

    def __init__(self, sim: Simulator) -> None:
        super().__init__(daemon=True)
        self.sim = sim
        self.samples: list[tuple[float, float, float, float]] = []
        self.peaks: list[float] = []  # VmHWM of each server process, at its end
        self.stopping = threading.Event()

    def status(self) -> tuple[float, float]:
        values = {}
        for line in Path(f"/proc/{self.sim.proc.pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                values[line[:5]] = int(line.split()[1]) / 1024
        return values["VmRSS"], values["VmHWM"]

    def cpu_wait(self) -> float:
        """Seconds the server's main thread (its event loop) has waited on a run queue, since it started."""
        pid = self.sim.proc.pid
        return int(Path(f"/proc/{pid}/task/{pid}/schedstat").read_text().split()[1]) / 1e9

    def run(self) -> None:
        offset, last = 0.0, 0.0  # a restarted server counts from 0 again
        while not self.stopping.wait(0.05):
            with contextlib.suppress(OSError, KeyError, AttributeError, ValueError, IndexError):
                rss, hwm = self.status()
                waited = self.cpu_wait()
                if waited + offset < last:
                    offset = last
                last = waited + offset
                self.samples.append((time.monotonic(), rss, hwm, last))

    def open_files(self) -> int:
        return len(os.listdir(f"/proc/{self.sim.proc.pid}/fd"))


# -- one reproducer: what it answered and what the watchers saw meanwhile -----------------------------------


@dataclass
class Case:
    name: str
    expected: str
    status: str = "-"
    #: the body is the service's own error format with a request id (None: not an error, or not HTTP)
    error_format: bool | None = None
    #: the same connection answered the next request (None: not asked, see ``note``)
    keepalive: bool | None = None
    ok: bool = False
    note: str = ""
    start: float = 0.0
    end: float = 0.0
    health_max_ms: float = 0.0
    health_p99_ms: float = 0.0
    #: as the prober saw it, its own waits for a CPU included
    health_raw_max_ms: float = 0.0
    health_failures: int = 0
    rss_max_mib: float = 0.0
    #: seconds the server's event loop thread waited for a CPU meanwhile
    cpu_wait_s: float = 0.0
    failures: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return self.end - self.start

    def check(self, condition: bool, what: str) -> None:
        if not condition:
            self.failures.append(what)


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    conn: http.client.HTTPConnection
    sock: socket.socket | None

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str:
        return self.headers.get(name) or ""


def error_format(service: str, answer: Answer) -> bool:
    """The answer is an error in ``service``'s own JSON format (or keystonemiddleware's 401) with a request id."""
    if not answer.header("content-type").startswith("application/json"):
        return False
    if not answer.header("x-openstack-request-id").startswith("req-"):
        return False
    try:
        body = answer.json()
    except ValueError:
        return False
    status = answer.status
    error = body.get("error") if isinstance(body, dict) else None
    if service == "identity" or (status == 401 and isinstance(error, dict) and error.get("code") == 401):
        return isinstance(error, dict) and error.get("code") == status and bool(error.get("message"))
    if service == "network":
        return bool(body.get("NeutronError", {}).get("message"))
    if service in ("compute", "block-storage"):
        faults = list(body.values())
        return len(faults) == 1 and faults[0].get("code") == status and bool(faults[0].get("message"))
    if service == "image":
        return str(body.get("code", "")).startswith(f"{status} ") and bool(body.get("message"))
    return body.get("code") == status and bool((error or {}).get("message"))


class Bench:
    """The simulator, its watchers, the callers' tokens and the cases run so far."""

    def __init__(self, sim: Simulator, probes: Probes, sampler: Sampler) -> None:
        self.sim, self.probes, self.sampler = sim, probes, sampler
        self.cases: list[Case] = []
        self.tokens: dict[str, str] = {}
        self.projects: dict[str, str] = {}
        self.users: dict[str, str] = {}
        self.pauses: list[tuple[float, float]] = []  # the restarts: no probe is expected to answer then
        self._sdk: dict[str, Any] = {}

    def forget_sessions(self) -> None:
        self._sdk.clear()

    def sdk(self, user: str) -> Any:
        """An openstacksdk connection of a bootstrap user (made once)."""
        if user not in self._sdk:
            self._sdk[user] = self.sim.connect(user)
        return self._sdk[user]

    # -- HTTP on a connection of one's own --------------------------------------------------------------

    def connection(self, timeout: float = 60.0) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.sim.port, timeout=timeout)

    def send(
        self,
        method: str,
        path: str,
        body: Any = None,
        caller: str | None = None,
        conn: http.client.HTTPConnection | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        conn = conn or self.connection()
        data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
        sent = {**JSON_HEADERS, **({"X-Auth-Token": self.tokens[caller]} if caller else {}), **(headers or {})}
        conn.request(method, path, body=data, headers=sent)
        response = conn.getresponse()
        payload = response.read()
        return Answer(response.status, response.headers, payload, conn, conn.sock)

    @staticmethod
    def alive(answer: Answer) -> bool:
        """The server kept the connection of ``answer`` open, and it answers the next request."""
        conn = answer.conn
        if conn.sock is None or conn.sock is not answer.sock:
            return False  # closed after the answer
        try:
            conn.request("GET", "/health")
            response = conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            return False
        return response.status == 200 and conn.sock is answer.sock

    def token(self, user: str, password: str = "stacksim", project: str | None = None) -> Answer:
        scope = {"project": {"name": project or user, "domain": {"id": "default"}}}
        user_ = {"name": user, "domain": {"id": "default"}, "password": password}
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": user_}}, "scope": scope}}
        return self.send("POST", "/identity/v3/auth/tokens", body)

    def login(self, name: str, user: str, project: str | None = None) -> None:
        answer = self.token(user, project=project)
        assert answer.status == 201, answer.body[:300]
        self.tokens[name] = answer.header("x-subject-token")
        token = answer.json()["token"]
        self.projects[name], self.users[name] = token["project"]["id"], token["user"]["id"]

    # -- cases --------------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def case(self, name: str, expected: str) -> Iterator[Case]:
        case = Case(name, expected)
        case.start = time.monotonic()
        try:
            yield case
        except Exception as exc:  # a case that raised is a failed case; the others still run
            case.failures.append(f"{type(exc).__name__}: {exc}"[:300])
        case.end = time.monotonic()
        self.cases.append(case)

    def refused(
        self,
        name: str,
        service: str,
        method: str,
        path: str,
        body: Any,
        expected: int | tuple[int, ...],
        caller: str | None = "demo",
        words: tuple[str, ...] = (),
        headers: dict[str, str] | None = None,
    ) -> Answer | None:
        """One request, checked: ``expected`` status, the service's error body (for 4xx), the connection alive."""
        wanted = expected if isinstance(expected, tuple) else (expected,)
        with self.case(name, "/".join(map(str, wanted))) as case:
            answer = self.send(method, path, body, caller, headers=headers)
            case.status = str(answer.status)
            case.check(answer.status in wanted, f"status {answer.status}: {answer.body[:200]!r}")
            if answer.status >= 400:
                case.error_format = error_format(service, answer)
                case.check(case.error_format, f"not {service}'s error body: {answer.body[:200]!r}")
                text = answer.body.decode("utf-8", "replace")
                for word in words:
                    case.check(word in text, f"{word!r} not in {text[:200]!r}")
            case.keepalive = self.alive(answer)
            case.check(case.keepalive, "the connection did not answer the next request")
            answer.conn.close()
            return answer
        return None

    def finish(self) -> None:
        """Put each case's /health and RSS figures beside it."""
        samples = self.probes.samples()
        for case in self.cases:
            window = [s for s in samples if case.start <= s[0] <= case.end and not self.paused(s[0])]
            if not window:  # shorter than a probe: the probe under way when it began
                earlier = [s for s in samples if s[0] <= case.start]
                window = earlier[-1:]
            case.check(bool(window), "no /health probe ran during it")
            latencies = sorted(s[1] for s in window)
            case.health_raw_max_ms = max((s[3] for s in window), default=0.0)
            case.health_max_ms = latencies[-1] if latencies else 0.0
            case.health_p99_ms = percentile(latencies, 0.99)
            case.health_failures = sum(1 for s in window if not s[2])
            around = [x for x in self.sampler.samples if case.start - 0.05 <= x[0] <= case.end + 0.05]
            around = around or self.sampler.samples[-1:]
            case.rss_max_mib = max(x[1] for x in around)
            case.cpu_wait_s = around[-1][3] - around[0][3]
            case.check(case.health_failures == 0, f"{case.health_failures} /health probes failed")
            case.check(case.health_max_ms < HEALTH_LIMIT_MS, f"/health took {case.health_max_ms:.0f} ms")
            case.check(case.rss_max_mib < RSS_LIMIT_MIB, f"RSS {case.rss_max_mib:.0f} MiB")
            case.ok = not case.failures
            case.note = "; ".join([case.note, *case.failures] if case.note else case.failures)

    def paused(self, moment: float) -> bool:
        return any(start <= moment <= end for start, end in self.pauses)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, int(len(values) * share))]


# -- the reproducers, as issue 14 lists them ------------------------------------------------------------------


def exhaustion(bench: Bench) -> None:
    """Bodies too big to decode on the event loop: refused at once, before they are read."""
    methods = b'{"auth":{"identity":{"methods":[' + b",".join([b"1"] * 2_000_000) + b"]}}}"
    bench.refused("4 MB auth body, 2M methods", "identity", "POST", "/identity/v3/auth/tokens", methods, 413, None)
    huge = b'{"auth":{"identity":{"methods":[' + b",".join([b"1"] * 10_000_000) + b"]}}}"
    bench.refused("20 MB auth body", "identity", "POST", "/identity/v3/auth/tokens", huge, 413, None)
    with bench.case("Neutron tags streamed (chunked)", "413 before 1 MiB") as case:
        status, sent = stream_until_answered(bench, "/network/v2.0/networks", b'{"network":{"tags":[', b'"t",')
        case.status = f"{status} after {sent / 2**20:.2f} MiB"
        case.check(status == 413 and sent < 2**20, f"{status} after {sent} bytes")
        case.note = "connection closed: the request body was never finished"
    # 100,000 deep is 200 KB: over every body limit but Heat's, so most services refuse it by its size
    # alone; 50,000 deep is under them all, and must be refused for its depth.
    for deep, expected in ((100_000, (400, 413)), (50_000, (400,))):
        dense = b"[" * deep + b"]" * deep
        words = () if 413 in expected else ("nested more than 100 levels",)
        for service, path in POSTS.items():
            path = path.format(project=bench.projects["admin"])
            name = f"JSON {deep:,} deep: {service}"
            bench.refused(name, service, "POST", path, dense, expected, "admin", words=words)


def stream_until_answered(bench: Bench, path: str, head: bytes, repeat: bytes) -> tuple[int, int]:
    """POST a chunked body that grows forever; the status the server answers and the bytes sent by then."""
    request = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Auth-Token: {bench.tokens['demo']}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    chunk_body = head + repeat * (65536 // len(repeat))
    sent = 0
    with socket.create_connection(("127.0.0.1", bench.sim.port), timeout=10) as sock:
        sock.sendall(request)
        with selectors.DefaultSelector() as sel:
            sel.register(sock, selectors.EVENT_READ)
            for _ in range(400):  # 25 MiB, if it came to that
                data = f"{len(chunk_body):x}\r\n".encode() + chunk_body + b"\r\n"
                try:
                    sock.sendall(data)
                except (BrokenPipeError, ConnectionResetError):
                    break
                sent += len(chunk_body)
                chunk_body = repeat * (65536 // len(repeat))
                if sel.select(0.02):
                    break
        head_bytes = b""
        while b"\r\n" not in head_bytes:
            more = sock.recv(4096)
            if not more:
                break
            head_bytes += more
    return int(head_bytes.split(b" ", 2)[1]) if head_bytes else 0, sent


def billion_laughs() -> str:
    lines = [HOT, "resources:\n  lol:\n    type: OS::Heat::Value\n    properties:\n      value:\n"]
    lines.append("        - &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
    for level in range(1, 10):
        lines.append(f"        - &a{level} [{', '.join([f'*a{level - 1}'] * 10)}]\n")
    return "".join(lines)


def templates(bench: Bench) -> None:
    """Heat: templates that expand, nest or count past Heat's limits; a template_url that trickles."""
    stacks = f"/orchestration/v1/{bench.projects['demo']}/stacks"
    validate = f"/orchestration/v1/{bench.projects['demo']}/validate"
    trickle = Trickle()
    slow = threading.Thread(target=trickle.create, args=(bench, stacks), daemon=True)
    slow.start()  # answered after the fetch timeout (10 s), while the cases below run

    laughs = billion_laughs()
    words = ("max_template_size",)
    bench.refused("billion laughs: template validate", "orchestration", "POST", validate, {"template": laughs}, 400)
    body = {"stack_name": "lol", "template": laughs}
    bench.refused("billion laughs: stack create", "orchestration", "POST", stacks, body, 400, words=words)
    items = "[" + ", ".join(str(i) for i in range(1000)) + "]"
    repeat = (
        f"{HOT}resources:\n  many:\n    type: OS::Heat::Value\n    properties:\n      value:\n"
        "        repeat:\n          template: <%a%-%b%-%c%>\n"
        f"          for_each: {{'%a%': {items}, '%b%': {items}, '%c%': {items}}}\n"
    )
    body = {"stack_name": "rep", "template": repeat}
    bench.refused("repeat 1000x1000x1000", "orchestration", "POST", stacks, body, 400, words=words)
    joins = "{list_join: [',', [" * 200 + "x" + "]]}" * 200
    nested = f"{HOT}resources:\n  v:\n    type: OS::Heat::Value\n    properties:\n      value: {joins}\n"
    body = {"stack_name": "joins", "template": nested}
    bench.refused("200 nested list_join", "orchestration", "POST", stacks, body, 400, words=("max_template_depth",))
    deep = f"{HOT}resources: {{v: {{type: OS::Heat::Value, properties: {{value: {'[' * 20000}{']' * 20000}}}}}}}\n"
    bench.refused("YAML 20,000 deep", "orchestration", "POST", stacks, {"stack_name": "d", "template": deep}, 400)
    big = f"{HOT}description: {'x' * 600_000}\nresources: {{}}\n"
    body = {"stack_name": "big", "template": big}
    name = "template of 600 KB (max_template_size)"
    bench.refused(name, "orchestration", "POST", stacks, body, 400, words=("(524288 bytes)",))
    many = "".join(f"  r{i}: {{type: OS::Heat::Value, properties: {{value: {i}}}}}\n" for i in range(1001))
    body = {"stack_name": "many", "template": f"{HOT}resources:\n{many}"}
    words = ("Maximum resources per stack exceeded",)
    bench.refused("1,001 resources (max_resources_per_stack)", "orchestration", "POST", stacks, body, 400, words=words)
    bench.refused(
        "JSON body of 1.1 MB (max_json_body_size)", "orchestration", "POST", stacks,
        {"stack_name": "huge", "template": f"{HOT}resources: {{}}\n", "parameters": {"x": "x" * 1_100_000}}, 400,
    )  # fmt: skip
    with bench.case("ResourceGroup count 100,000, then delete", "201, CREATE_FAILED; delete: gone") as case:
        group = (
            f"{HOT}resources:\n  group:\n    type: OS::Heat::ResourceGroup\n    properties:\n"
            "      count: 100000\n      resource_def: {type: OS::Heat::Value, properties: {value: x}}\n"
        )
        made = bench.send("POST", stacks, {"stack_name": "group", "template": group}, "demo")
        stack_id = made.json()["stack"]["id"]
        shown = bench.send("GET", f"{stacks}/group/{stack_id}", None, "demo").json()["stack"]
        deleted = bench.send("DELETE", f"{stacks}/group/{stack_id}", None, "demo")
        after = bench.send("GET", f"{stacks}/group/{stack_id}", None, "demo").json()["stack"]["stack_status"]
        case.status = f"{made.status}, {shown['stack_status']}; delete {deleted.status}: {after}"
        case.check(made.status == 201 and shown["stack_status"] == "CREATE_FAILED", case.status)
        case.check("Maximum resources per stack exceeded" in shown["stack_status_reason"], "reason")
        case.check(deleted.status == 204 and after == "DELETE_COMPLETE", case.status)
        case.keepalive = bench.alive(deleted)
        case.check(case.keepalive, "the connection did not answer the next request")
    slow.join(30)
    bench.cases.append(trickle.case)


class Trickle:
    """A template_url server that sends one byte every 5 s; the stack create that fetches from it."""

    def __init__(self) -> None:
        self.case = Case("template_url trickling 1 byte/5 s", "400 within the fetch timeout (10 s)")

    def create(self, bench: Bench, stacks: str) -> None:
        class Slow(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", "1000")
                self.end_headers()
                for _ in range(6):
                    try:
                        self.wfile.write(b"#")
                        self.wfile.flush()
                    except OSError:
                        return
                    time.sleep(5)

            def log_message(self, *args: object) -> None:
                pass

        case = self.case
        server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        case.start = time.monotonic()
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}/t.yaml"
            answer = bench.send("POST", stacks, {"stack_name": "slow", "template_url": url}, "demo")
            case.status = str(answer.status)
            case.error_format = error_format("orchestration", answer)
            text = answer.body.decode()
            case.check(answer.status == 400 and "template_fetch_timeout" in text, f"{answer.status}: {text[:200]}")
            case.check(case.error_format, "not Heat's error body")
            case.keepalive = bench.alive(answer)
            case.check(case.keepalive, "the connection did not answer the next request")
        except Exception as exc:
            case.failures.append(f"{type(exc).__name__}: {exc}")
        finally:
            case.end = time.monotonic()
            server.shutdown()
            server.server_close()


def bad_text(bench: Bench) -> None:
    """Lone surrogates (``\\ud800``) that used to be stored and break every later list; the bodies that crashed."""
    stacks = f"/orchestration/v1/{bench.projects['demo']}/stacks"
    lone = "\ud800"
    surrogate = ("surrogate",)
    body = {"volume": {"size": 1, "name": lone}}
    bench.refused("volume named \\ud800", "block-storage", "POST", "/volume/v3/volumes", body, 400, words=surrogate)
    with bench.case("volume named \\ud800 (openstacksdk)", "BadRequestException") as case:
        import openstack.exceptions

        try:
            bench.sdk("demo").block_storage.create_volume(size=1, name=lone)
            case.status = "created"
        except openstack.exceptions.BadRequestException as exc:
            case.status = f"{exc.status_code} {type(exc).__name__}"
            case.check("surrogate" in str(exc), str(exc)[:200])
        case.check(case.status.startswith("400"), case.status)
    template = {"heat_template_version": "2018-08-31", "description": lone, "resources": {}}
    body = {"stack_name": "desc", "template": template}
    bench.refused("stack description \\ud800 (JSON)", "orchestration", "POST", stacks, body, 400, words=surrogate)
    body = {"stack_name": "desc", "template": f'{HOT}description: "\\ud800"\nresources: {{}}\n'}
    bench.refused("stack description \\ud800 (YAML)", "orchestration", "POST", stacks, body, 400, words=("nicode",))
    body = {"keypair": {"name": lone}}
    bench.refused("key pair named \\ud800", "compute", "POST", "/compute/v2.1/os-keypairs", body, 400, words=surrogate)
    body = {"stack_name": lone, "template": f"{HOT}resources: {{}}\n"}
    bench.refused("stack named \\ud800", "orchestration", "POST", stacks, body, 400, words=surrogate)
    lists(bench, "lists after the surrogates")

    user = {"name": "demo", "domain": {"id": "default"}, "password": "stacksim"}
    for label, changed, scope in (
        ('"name": ["demo"]', {"name": ["demo"]}, None),
        ('"domain": ["x"]', {"domain": ["x"]}, None),
        ('"scope": {"project": "demo"}', {}, {"project": "demo"}),
    ):
        auth: dict[str, Any] = {"identity": {"methods": ["password"], "password": {"user": {**user, **changed}}}}
        if scope is not None:
            auth["scope"] = scope
        body = {"auth": auth}
        bench.refused(f"Keystone auth {label}", "identity", "POST", "/identity/v3/auth/tokens", body, 400, None)
    path = "/compute/v2.1/servers?changes-since=garbage"
    bench.refused("servers?changes-since=garbage", "compute", "GET", path, None, 400, words=("changes-since",))
    network = bench.send("POST", "/network/v2.0/networks", {"network": {"name": "hostbits"}}, "demo").json()
    body = {"subnet": {"network_id": network["network"]["id"], "cidr": "10.0.0.1/24", "ip_version": 4}}
    # Decided on issue 14: Neutron itself accepts a CIDR with host bits set (it keeps 10.0.0.0/24).
    answer = bench.refused("subnet 10.0.0.1/24 (host bits)", "network", "POST", "/network/v2.0/subnets", body, 201)
    if answer is not None and answer.status == 201:
        bench.cases[-1].note = f"accepted as Neutron does: cidr {answer.json()['subnet']['cidr']}"


def readers(bench: Bench) -> None:
    """``reader`` (a user, and an application credential with only that role) may read, not write."""
    made = bench.send(
        "POST", "/identity/v3/users", {"user": {"name": f"reader-{uuid.uuid4().hex[:6]}", "password": "stacksim"}},
        "admin",
    ).json()["user"]  # fmt: skip
    roles = bench.send("GET", "/identity/v3/roles?name=reader", None, "admin").json()["roles"]
    role_path = f"/identity/v3/projects/{bench.projects['demo']}/users/{made['id']}/roles/{roles[0]['id']}"
    assert bench.send("PUT", role_path, None, "admin").status == 204
    bench.login("reader", made["name"], project="demo")
    cred = bench.send(
        "POST", f"/identity/v3/users/{bench.users['demo']}/application_credentials",
        {"application_credential": {"name": f"ro-{uuid.uuid4().hex[:6]}", "roles": [{"name": "reader"}]}}, "demo",
    ).json()["application_credential"]  # fmt: skip
    bench.tokens["reader-appcred"] = app_cred_token(bench, cred["id"], cred["secret"])
    image = bench.send("GET", "/image/v2/images", None, "demo").json()["images"][0]["id"]
    stacks = f"/orchestration/v1/{bench.projects['demo']}/stacks"
    writes = [
        ("identity", "POST", "/identity/v3/projects", {"project": {"name": "ro"}}, 403),
        ("network", "POST", "/network/v2.0/networks", {"network": {"name": "ro"}}, 403),
        ("network", "POST", "/network/v2.0/security-groups", {"security_group": {"name": "ro"}}, 403),
        ("network", "DELETE", "/network/v2.0/networks/{network}", None, 403),
        ("compute", "POST", "/compute/v2.1/servers",
         {"server": {"name": "ro", "imageRef": image, "flavorRef": "1", "networks": "none"}}, 403),
        # Nova's default policy lets any user make key pairs of their own (os-keypairs:create)
        ("compute", "POST", "/compute/v2.1/os-keypairs", {"keypair": {"name": "ro-{caller}"}}, 201),
        ("image", "POST", "/image/v2/images", {"name": "ro", "disk_format": "raw", "container_format": "bare"}, 403),
        ("block-storage", "POST", "/volume/v3/volumes", {"volume": {"size": 1, "name": "ro"}}, 403),
        ("orchestration", "POST", stacks, {"stack_name": "ro", "template": f"{HOT}resources: {{}}\n"}, 403),
    ]  # fmt: skip
    for caller in ("reader", "reader-appcred"):
        for service, method, path, body, status in writes:
            if "{network}" in path:
                made_net = bench.send("POST", "/network/v2.0/networks", {"network": {"name": "victim"}}, "demo")
                path = path.format(network=made_net.json()["network"]["id"])
            if body and "keypair" in body:
                body = {"keypair": {"name": f"ro-{caller}"}}
            headers = {"OpenStack-API-Version": "compute 2.37"} if service == "compute" else None
            label = f"{caller}: {method} {service} {path.split('/')[-2 if method == 'DELETE' else -1]}"
            bench.refused(label, service, method, path, body, status, caller, headers=headers)


def app_cred_token(bench: Bench, cred_id: str, secret: str) -> str:
    body = {
        "auth": {
            "identity": {
                "methods": ["application_credential"],
                "application_credential": {"id": cred_id, "secret": secret},
            }
        }
    }
    answer = bench.send("POST", "/identity/v3/auth/tokens", body)
    assert answer.status == 201, answer.body[:300]
    return answer.header("x-subject-token")


def credentials(bench: Bench) -> threading.Thread:
    """Access rules enforced; no credential in the past; a token dies with its credential (in the background)."""
    rules = [{"service": "compute", "method": "GET", "path": "/v2.1/servers"}]
    cred = bench.send(
        "POST", f"/identity/v3/users/{bench.users['demo']}/application_credentials",
        {"application_credential": {"name": f"rules-{uuid.uuid4().hex[:6]}", "access_rules": rules}}, "demo",
    ).json()["application_credential"]  # fmt: skip
    bench.tokens["rules"] = app_cred_token(bench, cred["id"], cred["secret"])
    bench.refused("access rules: GET compute servers (allowed)", "compute", "GET", "/compute/v2.1/servers", None, 200,
                  "rules")  # fmt: skip
    body = {"network": {"name": "rules"}}
    bench.refused("access rules: POST network networks", "network", "POST", "/network/v2.0/networks", body, 401,
                  "rules")  # fmt: skip
    bench.refused("access rules: GET volume volumes", "block-storage", "GET", "/volume/v3/volumes", None, 401, "rules")
    body = {"application_credential": {"name": "past", "expires_at": "2000-01-01T00:00:00"}}
    path = f"/identity/v3/users/{bench.users['demo']}/application_credentials"
    bench.refused("app credential expires_at 2000-01-01", "identity", "POST", path, body, 400, words=("before now",))

    case = Case("token of a credential expiring in 3 s", "token expiry <= credential's; 401 after it")
    expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=3)

    def watch() -> None:
        case.start = time.monotonic()
        try:
            body = {"application_credential": {"name": f"short-{uuid.uuid4().hex[:6]}",
                                               "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%S.%f")}}  # fmt: skip
            made = bench.send("POST", path, body, "demo").json()["application_credential"]
            auth = {"methods": ["application_credential"],
                    "application_credential": {"id": made["id"], "secret": made["secret"]}}  # fmt: skip
            issued = bench.send("POST", "/identity/v3/auth/tokens", {"auth": {"identity": auth}})
            token = issued.header("x-subject-token")
            token_expiry = issued.json()["token"]["expires_at"].replace("Z", "+00:00")
            case.check(datetime.datetime.fromisoformat(token_expiry) <= expires, f"token expires {token_expiry}")
            deadline, status = time.monotonic() + 15, 0
            conn = bench.connection()
            while time.monotonic() < deadline:
                headers = {"X-Auth-Token": token}
                answer = bench.send("GET", "/identity/v3/auth/projects", None, conn=conn, headers=headers)
                status = answer.status
                if status == 401:
                    break
                time.sleep(0.2)
            case.status = f"201; {status} at +{(datetime.datetime.now(datetime.UTC) - expires).total_seconds():.1f} s"
            case.check(status == 401, f"still {status} 15 s on")
            case.error_format = error_format("identity", answer)
            case.keepalive = bench.alive(answer)
            case.check(bool(case.error_format and case.keepalive), "error body or connection")
        except Exception as exc:
            case.failures.append(f"{type(exc).__name__}: {exc}")
        case.end = time.monotonic()
        bench.cases.append(case)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def guards(bench: Bench, state: Path) -> None:
    """The loopback guard, file modes, secrets masked in the log."""
    for label, args, env in (
        ("--password stacksim", ["--password", "stacksim"], {}),
        ("STACKSIM_PASSWORD=stacksim", [], {"STACKSIM_PASSWORD": "stacksim"}),
    ):
        with bench.case(f"serve --host 0.0.0.0 {label}", "refused (exit 2)") as case:
            proc = subprocess.run(
                [sys.executable, "-m", "stacksim", "serve", "--host", "0.0.0.0", "--port", "1", *args],
                capture_output=True, text=True, timeout=60, env={"PATH": os.environ["PATH"], **env},
            )  # fmt: skip
            case.status = f"exit {proc.returncode}"
            case.check(proc.returncode == 2 and "default password" in proc.stderr, proc.stderr[-200:])
    with bench.case("file modes: state dir, data/, db, clouds.yaml", "0700 dirs, 0600 secrets") as case:
        secret = [state, state / "data", bench.sim.clouds_yaml, *(state / name for name in SECRET_FILES)]
        modes = {p: stat.S_IMODE(p.stat().st_mode) for p in secret if p.exists()}
        wrong = {str(p.name): oct(m) for p, m in modes.items() if m != (0o700 if p.is_dir() else 0o600)}
        # Image and volume bytes, console logs: readable by the owner only, by their own mode or a folder's.
        stored = [p for p in state.rglob("*") if p.is_file()]
        exposed = [str(p.relative_to(state)) for p in stored if readable_by_others(p, state)]
        case.status = ", ".join(f"{p.name} {oct(m)[2:]}" for p, m in modes.items())
        case.status += f"; {len(stored) - len(exposed)}/{len(stored)} stored files private"
        case.check(not wrong, f"wrong modes: {wrong}")
        case.check(not exposed, f"readable by others: {exposed[:5]}")
        loose = sorted({oct(stat.S_IMODE(p.stat().st_mode)) for p in stored if p not in modes})
        case.note = f"other stored files: modes {loose}, inside 0700 folders" if loose else ""
    with bench.case("?token=... at --log-level debug (2nd server)", "masked in the access log") as case:
        with Simulator(extra_args=["--log-level", "debug"]) as debug:
            host, port = "127.0.0.1", debug.port
            conn = http.client.HTTPConnection(host, port, timeout=30)
            conn.request("GET", "/health?token=tok-SECRET-1&limit=5")
            status = conn.getresponse().status
            conn.close()
            log = wait_until(lambda: "/health?token" in (text := debug.log.read_text()) and text, 10, "the log")
        case.status = f"{status}, " + ("masked" if "SECRET" not in log else "NOT masked")
        case.check("SECRET" not in log and "token=***" in log, "the token is in the log")


def readable_by_others(path: Path, root: Path) -> bool:
    """Another local user could read ``path``: it is group/other readable and so is the way to it from ``root``."""
    if not stat.S_IMODE(path.stat().st_mode) & 0o044:
        return False
    folder = path.parent
    while True:
        if not stat.S_IMODE(folder.stat().st_mode) & 0o011:
            return False
        if folder == root:
            return True
        folder = folder.parent


def race(bench: Bench, seconds: float) -> None:
    """Issue 14's race: 6 threads making networks while 3 make stacks with an OS::Neutron::Net."""
    quota = {"quota": {"network": -1, "subnet": -1, "port": -1}}
    bench.send("PUT", f"/network/v2.0/quotas/{bench.projects['demo']}", quota, "admin")
    stacks = f"/orchestration/v1/{bench.projects['demo']}/stacks"
    template = f"{HOT}resources:\n  net:\n    type: OS::Neutron::Net\n"
    answers: list[int] = []
    made_stacks: list[str] = []
    stop = time.monotonic() + seconds

    def networks() -> None:
        conn = bench.connection()
        while time.monotonic() < stop:
            body = {"network": {"name": f"race-{uuid.uuid4().hex[:6]}"}}
            answers.append(bench.send("POST", "/network/v2.0/networks", body, "demo", conn=conn).status)

    def heat() -> None:
        conn = bench.connection()
        while time.monotonic() < stop:
            body = {"stack_name": f"race-{uuid.uuid4().hex[:6]}", "template": template}
            answer = bench.send("POST", stacks, body, "demo", conn=conn)
            answers.append(answer.status)
            if answer.status == 201:
                made_stacks.append(answer.json()["stack"]["id"])

    with bench.case(f"segmentation ids: 6 network + 3 stack threads, {seconds:g} s", "0 duplicates, 0 failed") as case:
        threads = [threading.Thread(target=work) for work in [networks] * 6 + [heat] * 3]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        listed = bench.send("GET", "/network/v2.0/networks?fields=provider:segmentation_id", None, "admin").json()
        segments = [n["provider:segmentation_id"] for n in listed["networks"] if n["provider:segmentation_id"]]
        duplicates = len(segments) - len(set(segments))
        listed = bench.send("GET", stacks, None, "demo").json()["stacks"]
        shown = [s for s in listed if s["stack_name"].startswith("race-") and "FAILED" in s["stack_status"]]
        others = sorted({s for s in answers if s not in (201,)})
        case.status = (
            f"{len(answers)} creates ({answers.count(201)} x 201{', others ' + str(others) if others else ''}), "
            f"{len(made_stacks)} stacks; {duplicates} dup, {len(shown)} failed"
        )
        case.check(duplicates == 0 and not shown and not others, case.status)


class Crowd(threading.Thread):
    """Connections that never send (idle) or send half a request head (dawdling), opened at once and
    watched (in this thread) until the server closes them: when it did, in seconds after they opened."""

    def __init__(self, bench: Bench, idle: int, dawdling: int, timeout: float) -> None:
        super().__init__(daemon=True)
        self.opened = time.monotonic()
        self.timeout = timeout
        self.socks: dict[socket.socket, str] = {}
        for i in range(idle + dawdling):
            sock = socket.create_connection(("127.0.0.1", bench.sim.port), timeout=10)
            if i >= idle:
                sock.sendall(b"POST /identity/v3/auth/tokens HTTP/1.1\r\nHost: x\r\nContent-Len")
            sock.setblocking(False)
            self.socks[sock] = "idle" if i < idle else "dawdling"
        self.closed: dict[str, list[float]] = {"idle": [], "dawdling": []}
        self.start()

    def run(self) -> None:
        with selectors.DefaultSelector() as sel:
            for sock in self.socks:
                sel.register(sock, selectors.EVENT_READ)
            deadline = self.opened + self.timeout
            while sel.get_map() and time.monotonic() < deadline:
                for key, _ in sel.select(0.5):
                    sock = key.fileobj
                    try:
                        if sock.recv(65536):
                            continue
                    except BlockingIOError:
                        continue
                    except OSError:
                        pass
                    sel.unregister(sock)
                    self.closed[self.socks[sock]].append(time.monotonic() - self.opened)
        for sock in self.socks:
            sock.close()


def connections(bench: Bench) -> Crowd:
    """The connection cap, then a crowd that idles and dawdles, left for the idle and request timeouts."""
    name = f"2,500 silent connections (cap {MAX_CONNECTIONS})"
    # The loop takes up to BACKLOG new connections in one turn; on the next it admits them, each
    # closing the idlest, whose sockets asyncio lets go one turn later still, while each turn may
    # take another BACKLOG: for a moment up to three batches more than the cap are open (a quiet
    # run measured cap + 379). The soft file limit is raised to the hard one, far above that.
    slack = 3 * BACKLOG
    with bench.case(name, f"fds <= those before + {MAX_CONNECTIONS} + {slack}") as case:
        before, log_before = bench.sampler.open_files(), bench.sim.log.stat().st_size
        crowd, most = [], 0
        for i in range(2500):
            crowd.append(socket.create_connection(("127.0.0.1", bench.sim.port), timeout=10))
            if i % 250 == 249:
                most = max(most, bench.sampler.open_files())
        answer = bench.send("GET", "/health")
        most = max(most, bench.sampler.open_files())
        for sock in crowd:
            sock.close()
        logged = bench.sim.log.stat().st_size - log_before
        case.status = f"health {answer.status}; fds {before} -> at most {most}; log +{logged / 1024:.0f} KiB"
        case.check(answer.status == 200 and most <= before + MAX_CONNECTIONS + slack, case.status)
        case.check(logged < 2**20, f"the log grew {logged} bytes")  # it grew 200 MB a minute
    # issue 14 had 500 of each; 450 keep them (and the bench's own) under the cap, so none is evicted
    return Crowd(bench, CROWD, CROWD, IDLE_TIMEOUT + 15)


def close_crowd(bench: Bench, crowd: Crowd) -> None:
    expected = f"closed by {IDLE_TIMEOUT:g} s / {REQUEST_TIMEOUT:g} s"
    with bench.case(f"{CROWD} idle + {CROWD} half-sent connections", expected) as case:
        crowd.join(IDLE_TIMEOUT + 20)  # (while the other cases ran; the figures beside it are of this wait)
        idle, slow = crowd.closed["idle"], crowd.closed["dawdling"]
        case.status = (
            f"idle {len(idle)}/{CROWD} closed at {min(idle, default=0):.0f}-{max(idle, default=0):.0f} s, "
            f"half-sent {len(slow)}/{CROWD} at {min(slow, default=0):.0f}-{max(slow, default=0):.0f} s"
        )
        case.check(len(idle) == CROWD and len(slow) == CROWD, case.status)
        case.check(max(slow, default=0) <= REQUEST_TIMEOUT + 5 and max(idle, default=0) <= IDLE_TIMEOUT + 5, "late")


# -- the lists, before and after a restart ---------------------------------------------------------------------


def lists(bench: Bench, name: str) -> None:
    """Every list of the demo project, and the admin's over all projects: 200, also through openstacksdk."""
    demo_stacks = f"/orchestration/v1/{bench.projects['demo']}/stacks"
    admin_stacks = f"/orchestration/v1/{bench.projects['admin']}/stacks?global_tenant=True"
    paths = {
        "demo": ["/volume/v3/volumes/detail", demo_stacks, "/compute/v2.1/os-keypairs", "/compute/v2.1/servers/detail",
                 "/network/v2.0/networks", "/image/v2/images"],
        "admin": ["/volume/v3/volumes/detail?all_tenants=1", admin_stacks,
                  f"/compute/v2.1/os-keypairs?user_id={bench.users['demo']}",
                  "/compute/v2.1/servers/detail?all_tenants=1", "/network/v2.0/networks", "/image/v2/images"],
    }  # fmt: skip
    with bench.case(name, "200 x 12, openstacksdk lists") as case:
        statuses = []
        conn = bench.connection()
        for caller, wanted in paths.items():
            headers = {"OpenStack-API-Version": "compute 2.37"}
            for path in wanted:
                answer = bench.send("GET", path, None, caller, conn=conn, headers=headers)
                statuses.append(answer.status)
                case.check(answer.status == 200, f"{caller} {path}: {answer.status} {answer.body[:100]!r}")
        case.keepalive = bench.alive(answer)
        counts = []
        for caller, everyone in (("demo", False), ("admin", True)):
            sdk = bench.sdk(caller)
            counts.append(
                len(list(sdk.block_storage.volumes(all_projects=everyone)))
                + len(list(sdk.orchestration.stacks()))  # (openstacksdk has no all-projects stack list)
                + len(list(sdk.compute.keypairs()))
                + len(list(sdk.compute.servers(all_projects=everyone)))
                + len(list(sdk.network.networks()))
                + len(list(sdk.image.images()))
            )
        ok = statuses.count(200)
        case.status = f"{ok}/{len(statuses)} x 200; sdk listed {counts[0]} (demo), {counts[1]} (admin, all)"


def restart(bench: Bench) -> None:
    with bench.case("restart (SIGTERM, start on the same state dir)", "up again") as case:
        paused_at = time.monotonic()
        bench.probes.paused.set()
        time.sleep(0.2)  # the probe under way ends before the server does
        bench.sampler.peaks.append(bench.sampler.status()[1])
        bench.sim.stop()
        bench.sim.start()
        bench.probes.port.value = bench.sim.port
        case.status = f"up in {time.monotonic() - paused_at:.1f} s"
        bench.pauses.append((paused_at, time.monotonic() + 0.5))
        bench.probes.paused.clear()
        bench.forget_sessions()
        for name, user in (("admin", "admin"), ("demo", "demo")):
            bench.login(name, user)
        case.ok = True


# -- the run ------------------------------------------------------------------------------------------------


def loose_state(root: Path) -> Path:
    """A state dir as an earlier stacksim, or a careless user, left it: everything world-readable."""
    state = root / "state"
    (state / "data").mkdir(parents=True)
    for path in (state, state / "data"):
        path.chmod(0o755)
    (state / "stacksim.db").touch(mode=0o644)
    return state


def table(cases: list[Case]) -> str:
    def yes(value: bool | None) -> str:
        return "-" if value is None else ("yes" if value else "NO")

    head = (
        f"{'reproducer':46} {'status':40} {'fmt':4} {'k-a':4} {'secs':>6} {'h.max':>6} {'h.p99':>6} {'RSS':>5} "
        f"{'wait':>5}  ok"
    )
    rows = [head, "-" * len(head)]
    for c in cases:
        rows.append(
            f"{c.name[:46]:46} {c.status[:40]:40} {yes(c.error_format):4} {yes(c.keepalive):4} {c.seconds:6.2f} "
            f"{c.health_max_ms:6.1f} {c.health_p99_ms:6.1f} {c.rss_max_mib:5.0f} {c.cpu_wait_s:5.2f}  "
            f"{'ok' if c.ok else 'FAIL'}"
        )
        if len(c.status) > 40:
            rows.append(f"{'':6}{c.status}")
        if c.note and c.note != c.status:
            rows.append(f"{'':6}{c.note[:300]}")
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--race-seconds", type=float, default=4.0)
    parser.add_argument("--no-record", action="store_true", help="print, do not append to results/")
    args = parser.parse_args()
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="stacksim-repro-") as tmp:
        state = loose_state(Path(tmp))
        sim = Simulator(state_dir=state, extra_args=["--log-level", "info"])
        for stale in (sim.clouds_yaml, sim.workdir / "clouds.tmp"):  # a stale temp file's mode must not leak
            stale.write_text("clouds: {}\n")
            stale.chmod(0o644)
        with sim:
            os.environ["OS_CLIENT_CONFIG_FILE"] = str(sim.clouds_yaml)
            probes = Probes(sim, Path(tmp) / "probes.txt")
            wait_until(lambda: len(probes.samples()) >= 3, 60, "the prober's first probes")
            sampler = Sampler(sim)
            sampler.start()
            bench = Bench(sim, probes, sampler)
            try:
                for name in ("admin", "demo"):
                    bench.login(name, name)
                crowd = connections(bench)
                exhaustion(bench)
                templates(bench)
                bad_text(bench)
                readers(bench)
                expiring = credentials(bench)
                guards(bench, state)
                race(bench, args.race_seconds)
                expiring.join(30)
                lists(bench, "lists (demo; admin --all-projects)")
                close_crowd(bench, crowd)
                restart(bench)
                lists(bench, "lists after the restart")
                sampler.peaks.append(sampler.status()[1])
            finally:
                probes.stop()
                sampler.stopping.set()
            bench.finish()
            samples = [s for s in probes.samples() if not bench.paused(s[0])]
    cases = sorted(bench.cases, key=lambda c: c.start)
    latencies = sorted(s[1] for s in samples)
    failed = [c.name for c in cases if not c.ok]
    record = {
        "bench": "reproducers",
        "machine": f"{platform.machine()} {platform.python_version()}, {os.cpu_count()} cores",
        "date": datetime.date.today().isoformat(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "seconds": round(time.monotonic() - began, 1),
        "health": {
            "probes": len(samples),
            "failed": sum(1 for s in samples if not s[2]),
            "median_ms": round(statistics.median(latencies), 2),
            "p99_ms": round(percentile(latencies, 0.99), 2),
            "max_ms": round(latencies[-1], 2),
            "over_100_ms": sum(1 for ms in latencies if ms >= HEALTH_LIMIT_MS),
            "raw_max_ms": round(max(s[3] for s in samples), 2),
            "raw_over_100_ms": sum(1 for s in samples if s[3] >= HEALTH_LIMIT_MS),
        },
        "rss_max_mib": round(max(x[1] for x in sampler.samples), 1),
        "loop_cpu_wait_s": round(sampler.samples[-1][3], 1),
        "peak_rss_mib": [round(p, 1) for p in sampler.peaks],
        "cases": len(cases),
        "failed": failed,
        "results": [
            {
                "name": c.name,
                "expected": c.expected,
                "status": c.status,
                "error_format": c.error_format,
                "keepalive": c.keepalive,
                "seconds": round(c.seconds, 3),
                "health_max_ms": round(c.health_max_ms, 1),
                "health_p99_ms": round(c.health_p99_ms, 1),
                "health_raw_max_ms": round(c.health_raw_max_ms, 1),
                "rss_max_mib": round(c.rss_max_mib, 1),
                "loop_cpu_wait_s": round(c.cpu_wait_s, 2),
                "ok": c.ok,
                **({"note": c.note} if c.note else {}),
            }
            for c in cases
        ],
        "note": "one stacksim with a state dir, fake compute driver; /health probed every 25 ms on its own "
        "keep-alive connection by another process, each probe less the prober's own wait for a CPU (raw_*: as "
        "seen); loop_cpu_wait_s: the server's event loop thread waiting for a CPU; target: /health < 100 ms "
        "throughout, RSS < 500 MiB, lists 200",
    }
    print(table(cases))
    keys = ("date", "seconds", "load_average", "health", "rss_max_mib", "peak_rss_mib", "loop_cpu_wait_s")
    summary = {k: record[k] for k in keys}
    print(json.dumps(summary, indent=2))
    print(f"{len(cases) - len(failed)}/{len(cases)} checks passed" + (f"; FAILED: {failed}" if failed else ""))
    if not args.no_record:
        old = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
        RESULTS.write_text(json.dumps([*old, record], indent=2) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
