"""Where a compute request's server CPU goes: cProfile of the handlers' worker threads.

Run: .venv/bin/python bench/profile_compute.py [--what detail100|detail1000|limit50|create] [--top 35] [--jobs]
     [--servers N] [--port P] [--save FILE]

It runs ``stacksim serve`` (in memory, ``--delay 0``) in a child process whose request worker
threads are each profiled (``stacksim.web._complete`` wrapped in a per-thread
``cProfile.Profile`` timed by the thread's CPU time, which other processes' load skews least),
fills the demo project, sends the requests, stops the server and prints the merged profile
(cumulative and own time) of the measured requests only. With ``--jobs``, the lifecycle's
blocking jobs are profiled too (``Lifecycle._execute``: a create's build, which runs after its
request's handler; with the fake driver in the request's own thread, so it is in the request
threads' profile even without ``--jobs``).

``--servers N`` (create only) first fills the project to N servers (100 created one by one, the
rest with ``bulk_create``, no networks) so a create's profile at 10,000 can be set beside the one
at 100; ``--save FILE`` keeps the merged profile for ``pstats`` diffs.
"""

from __future__ import annotations

import argparse
import os
import pstats
import signal
import tempfile
import time

from benchlib import COMPUTE, bulk_create, compute_project, create_servers, serve_measured, wait_built

_CHILD = r"""
import cProfile, os, signal, sys, threading, time
from stacksim import lifecycle, web

out = os.environ["PROFILE_OUT"]
profiles, lock, on = [], threading.Lock(), threading.Event()
local = threading.local()

def profiled(fn):  # fn profiled in each thread that runs it (by its CPU time) once on is set
    def run(*args):
        if not on.is_set() or getattr(local, "depth", 0):  # already profiled (a build run inline)
            return fn(*args)
        prof = getattr(local, "prof", None)
        if prof is None:
            prof = local.prof = cProfile.Profile(time.thread_time)
            with lock:
                profiles.append(prof)
        local.depth = 1
        prof.enable()
        try:
            return fn(*args)
        finally:
            prof.disable()
            local.depth = 0
    return run

web._complete = profiled(web._complete)
if os.environ.get("PROFILE_JOBS"):  # the lifecycle's blocking jobs too (a server's build)
    lifecycle.Lifecycle._execute = profiled(lifecycle.Lifecycle._execute)

def start(*_):
    on.set()

def dump(*_):
    with lock:
        for n, prof in enumerate(profiles):
            prof.dump_stats(f"{out}.{n}")
    os._exit(0)

"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--what", default="detail100", choices=("detail100", "detail1000", "limit50", "create"))
    parser.add_argument("--requests", type=int, default=0)
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--jobs", action="store_true", help="profile the lifecycle's jobs too (a create's build)")
    parser.add_argument("--servers", type=int, default=100, help="create: servers in the project before (>= 100)")
    parser.add_argument("--port", type=int, default=8800 + 35 + 40)
    parser.add_argument("--save", help="write the merged profile to this file")
    args = parser.parse_args()
    port = args.port
    tmp = tempfile.mkdtemp(prefix="stacksim-profile-")
    out = os.path.join(tmp, "prof")
    proc = serve_measured(_CHILD, port, {"PROFILE_OUT": out, "PROFILE_JOBS": "1" if args.jobs else ""})
    try:
        tok, demo, body = compute_project(port)
        if args.what != "create":
            create_servers(port, tok, body, 100)
            if args.what == "detail1000":
                bulk_create(demo, {k: v for k, v in body.items() if k != "networks"}, 900)
            elif args.what == "limit50":
                bulk_create(demo, {k: v for k, v in body.items() if k != "networks"}, 9900)
            wait_built(demo)
        else:
            create_servers(port, tok, body, 100)
            if args.servers > 100:
                bulk_create(demo, {k: v for k, v in body.items() if k != "networks"}, args.servers - 100)
                wait_built(demo)
        path = {
            "detail100": f"{COMPUTE}/servers/detail",
            "detail1000": f"{COMPUTE}/servers/detail",
            "limit50": f"{COMPUTE}/servers/detail?limit=50",
        }.get(args.what)
        n = args.requests or {"detail100": 200, "detail1000": 20, "limit50": 300, "create": 300}[args.what]
        os.kill(proc.pid, signal.SIGUSR1)
        time.sleep(0.2)
        start = time.perf_counter()
        if path:
            for _ in range(n):
                demo.raw_get(path)
        else:
            create_servers(port, tok, body, n, threads=1, prefix="prof")
        elapsed = time.perf_counter() - start
        os.kill(proc.pid, signal.SIGUSR2)
        proc.wait(30)
        files = [os.path.join(tmp, f) for f in os.listdir(tmp) if f.startswith("prof.")]
        stats = pstats.Stats(*files)
        if args.save:
            stats.dump_stats(args.save)
        print(f"{args.what}: {n} requests, {elapsed / n * 1000:.2f} ms wall each (profiled)")
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(30)


if __name__ == "__main__":
    main()
