"""A private stacksim for one conformance run: fresh state, a free port, its log kept."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import TracebackType

#: Bootstrap password of the private simulator (loopback only, thrown away after the run).
PASSWORD = "stacksim"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateStacksim:
    """``stacksim serve`` from this checkout, state in ``workdir``, stopped on exit."""

    def __init__(self, workdir: Path, python: str = sys.executable) -> None:
        self.workdir = workdir
        self.python = python
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "stacksim.log"
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> PrivateStacksim:
        state = self.workdir / "state"
        state.mkdir(parents=True, exist_ok=True)
        args = [self.python, "-m", "stacksim", "serve", "--port", str(self.port), "--state-dir", str(state)]
        args += ["--flavors", "devstack"]  # DevStack's lib/nova flavors, as the suite expects
        args += ["--password", PASSWORD, "--log-level", "warning"]
        with self.log.open("wb") as out:
            self._proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self._wait_healthy()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._proc and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def _wait_healthy(self, timeout: float = 60.0) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"stacksim exited with {self._proc.returncode}:\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as resp:
                    if json.load(resp).get("status") == "ok":
                        return
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        raise TimeoutError(f"stacksim did not answer {self.url}/health within {timeout:.0f}s")
