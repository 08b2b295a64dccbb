"""Starting, finding and stopping a simulator process (for ``stacksim start``/``stop`` and tests)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from email.message import Message
from pathlib import Path

PID_FILE = "stacksim.pid"
LOG_FILE = "stacksim.log"
#: the URL a simulator serving this state dir answers at (written by ``serve``)
URL_FILE = "stacksim.url"
RESET_PATH = "/_stacksim/reset"
FAULTS_PATH = "/_stacksim/faults"


def health(url: str) -> dict | None:
    """What the simulator at ``url`` says of itself on ``/health``, or None if it does not answer."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:
            body = json.load(resp)
    except (OSError, ValueError):
        return None
    return body if isinstance(body, dict) and body.get("status") == "ok" else None


def healthy(url: str) -> bool:
    return health(url) is not None


class ControlError(Exception):
    """A call to a running simulator failed; the message says why."""


def _post(url: str, body: dict | None, headers: dict[str, str], timeout: float) -> tuple[dict, Message]:
    return _call("POST", url, body, headers, timeout)


def _call(method: str, url: str, body: dict | None, headers: dict[str, str], timeout: float) -> tuple[dict, Message]:
    data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json", **headers}, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            raw = resp.read()
            return (json.loads(raw) if raw else {}), resp.headers
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")
        with contextlib.suppress(ValueError, KeyError, TypeError):
            detail = json.loads(detail)["error"]["message"]
        raise ControlError(f"{url}: HTTP {exc.code}: {detail}") from None
    except OSError as exc:
        raise ControlError(f"{url}: {exc}") from None


def admin_token(url: str, password: str) -> str:
    """A token of the bootstrap user ``admin`` on the project ``admin``."""
    scope = {"project": {"name": "admin", "domain": {"id": "default"}}}
    user = {"name": "admin", "domain": {"id": "default"}, "password": password}
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": user}}, "scope": scope}}
    _, headers = _post(f"{url}/identity/v3/auth/tokens", body, {}, timeout=30)
    return headers["X-Subject-Token"]


def reset(url: str, token: str, timeout: float = 120.0) -> dict:
    """``POST /_stacksim/reset`` with an admin's token: what the reset removed, and how long it took."""
    body, _ = _post(f"{url}{RESET_PATH}", None, {"X-Auth-Token": token}, timeout=timeout)
    return body.get("reset", {})


def faults(url: str, token: str, method: str, body: dict | None = None, path: str = "") -> dict:
    """A call to ``/_stacksim/faults`` (``path``: ``/<id>`` for one fault) with an admin's token."""
    answer, _ = _call(method, f"{url}{FAULTS_PATH}{path}", body, {"X-Auth-Token": token}, timeout=30)
    return answer


def spawn(serve_args: list[str], log: Path | None = None) -> subprocess.Popen:
    """Run ``stacksim serve`` in its own session, its output to ``log``."""
    # The log is the server's own: readable by its owner only.
    out = os.fdopen(os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab") if log else subprocess.DEVNULL
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
