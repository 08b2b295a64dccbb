"""A simulator in a child process, for tests: ``with Simulator() as sim: ...``."""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path

from stacksim import control


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Simulator:
    """Serves on a free loopback port; in-memory state unless ``state_dir`` is given.

    ``url``, ``clouds_yaml`` and ``env`` (the environment with
    ``OS_CLIENT_CONFIG_FILE`` set) are ready once the block is entered.
    """

    def __init__(
        self, state_dir: Path | None = None, extra_args: list[str] | None = None, port: int | None = None
    ) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="stacksim-")
        self.workdir = Path(self._tmp.name)
        self.state_dir = state_dir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.clouds_yaml = self.workdir / "clouds.yaml"
        self.log = self.workdir / "stacksim.log"
        self.env = dict(os.environ, OS_CLIENT_CONFIG_FILE=str(self.clouds_yaml))
        self.env.pop("STACKSIM_PASSWORD", None)
        self.extra_args = extra_args or []
        self.proc = None

    def start(self) -> Simulator:
        args = [
            "--port",
            str(self.port),
            "--clouds-yaml",
            str(self.clouds_yaml),
            "--log-level",
            "warning",
            *self.extra_args,
        ]
        if self.state_dir:
            args += ["--state-dir", str(self.state_dir)]
        self.proc = control.spawn(args, log=self.log)
        try:
            control.wait_healthy(self.url, self.proc)
        except Exception:
            self.stop()
            raise RuntimeError(f"stacksim failed to start:\n{self.log.read_text()}") from None
        return self

    def stop(self, kill: bool = False) -> None:
        if self.proc and self.proc.poll() is None:
            if kill:
                self.proc.kill()
            else:
                self.proc.terminate()
            self.proc.wait(timeout=15)

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._tmp.cleanup()
