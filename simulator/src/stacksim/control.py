"""Starting, finding and stopping a simulator process (for ``stacksim start``/``stop`` and tests)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

PID_FILE = "stacksim.pid"
LOG_FILE = "stacksim.log"


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:
            return json.load(resp).get("status") == "ok"
    except (OSError, ValueError):
        return False


def spawn(serve_args: list[str], log: Path | None = None) -> subprocess.Popen:
    """Run ``stacksim serve`` in its own session, its output to ``log``."""
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - handed to the child
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "stacksim", "serve", *serve_args],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    finally:
        if log:
            out.close()


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    """Wait until the server answers ``/health``; fail early if it exits."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"stacksim exited with status {proc.returncode} before it was ready")
        if healthy(url):
            return
        time.sleep(delay)
        delay = min(delay * 2, 0.25)
    raise TimeoutError(f"stacksim did not answer {url}/health within {timeout:.0f}s")


def read_pid(state_dir: Path) -> int | None:
    try:
        pid = int((state_dir / PID_FILE).read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return pid


def terminate(pid: int, timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if it will not go."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
