"""For tests: a simulator in a child process (``with Simulator() as sim: ...``), :func:`wait_until`,
and :func:`docker_turn`, the host's turn for a docker-driven simulator."""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from stacksim import control
from stacksim.config import DEFAULT_PASSWORD

if TYPE_CHECKING:
    from stacksim.testing_fork import ForkServer

T = TypeVar("T")

#: how often :func:`wait_until` looks, at first and at most
POLL_FIRST, POLL_MAX = 0.01, 0.1


#: Held while a docker-driven simulator runs for a test or a benchmark (see :func:`docker_turn`).
DOCKER_LOCK = Path(tempfile.gettempdir()) / "stacksim-docker-tests.lock"


@contextlib.contextmanager
def docker_turn() -> Iterator[None]:
    """Wait for, then hold, the host's turn to run a docker-driven simulator.

    One host runs one at a time (each makes the ``public`` network's bridge,
    172.24.4.0/24), so test processes running side by side (``pytest -n``, other
    checkouts) and benchmarks take turns on this lock.
    """
    with open(DOCKER_LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check: Callable[[], T], timeout: float = 30.0, what: str | None = None) -> T:
    """Call ``check`` until it returns a true value, and return that value.

    It looks at once, then every 10 ms growing to 100 ms; after ``timeout``
    seconds it fails with an AssertionError that says ``what`` was awaited and
    what ``check`` last returned. For states a test sets going and expects to
    settle (the simulator shows final states at once by default, so this is for
    held resources, ``--delay`` and work that outlives a call).
    """
    deadline = time.monotonic() + timeout
    pause = POLL_FIRST
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what or check}: last saw {value!r}")
        time.sleep(pause)
        pause = min(pause * 2, POLL_MAX)


#: how many free ports a Simulator tries before it gives up
PORT_ATTEMPTS = 5


class _PortLost(Exception):
    """Another process holds the port the simulator was to listen on."""


class Simulator:
    """Serves on a free loopback port; in-memory state unless ``state_dir`` is given.

    ``url``, ``clouds_yaml`` and ``env`` (the environment with
    ``OS_CLIENT_CONFIG_FILE`` set) are ready once the block is entered;
    :meth:`reset` brings the cloud back to its bootstrap state between tests.
    When the class's ``forkserver`` is set (a test suite that starts many
    simulators sets it), each starts as a fork of the process it names, which
    imported stacksim once (:mod:`stacksim.testing_fork`).
    """

    forkserver: ClassVar[ForkServer | None] = None

    def __init__(
        self, state_dir: Path | None = None, extra_args: list[str] | None = None, port: int | None = None
    ) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="stacksim-")
        self.workdir = Path(self._tmp.name)
        self.state_dir = state_dir
        self._chosen_port = port is not None
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.clouds_yaml = self.workdir / "clouds.yaml"
        self.log = self.workdir / "stacksim.log"
        self.env = dict(os.environ, OS_CLIENT_CONFIG_FILE=str(self.clouds_yaml))
        self.env.pop("STACKSIM_PASSWORD", None)
        self.extra_args = extra_args or []
        self.proc: Any = None
        self._admin_token: str | None = None

    def start(self) -> Simulator:
        # A free port may be taken by another process before ours binds it (many simulators
        # start at once under pytest -n): then try another one.
        for attempt in range(PORT_ATTEMPTS):
            try:
                return self._start()
            except _PortLost:
                if self._chosen_port or attempt == PORT_ATTEMPTS - 1:
                    raise RuntimeError(
                        f"stacksim could not listen on port {self.port}:\n{self.log.read_text()}"
                    ) from None
                self.port = free_port()
                self.url = f"http://127.0.0.1:{self.port}"
        raise AssertionError("unreachable")

    def _start(self) -> Simulator:
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
        if self.forkserver is not None:
            self.proc = self.forkserver.spawn(args, log=self.log)
        else:
            self.proc = control.spawn(args, log=self.log)
        try:
            control.wait_healthy(self.url, self.proc)
        except control.PortTaken:
            self.stop()
            raise _PortLost from None
        except Exception:
            self.stop()
            if "address already in use" in self.log.read_text().lower():
                raise _PortLost from None
            raise RuntimeError(f"stacksim failed to start:\n{self.log.read_text()}") from None
        return self

    def connect(self, user: str = "demo", password: str = DEFAULT_PASSWORD, **options: Any) -> Any:
        """An openstacksdk connection as a bootstrap user (``admin``, ``demo``, ``alt_demo``), scoped
        to the project of the same name (openstacksdk is a test dependency, imported here)."""
        import openstack

        return openstack.connect(
            auth_url=f"{self.url}/identity",
            username=user,
            password=password,
            project_name=user,
            user_domain_id="default",
            project_domain_id="default",
            **options,
        )

    def reset(self) -> dict:
        """``POST /_stacksim/reset`` as admin (the token is kept: a reset keeps the bootstrap users' tokens)."""
        if self._admin_token is None:
            self._admin_token = control.admin_token(self.url, DEFAULT_PASSWORD)
        try:
            return control.reset(self.url, self._admin_token)
        except control.ControlError:
            self._admin_token = control.admin_token(self.url, DEFAULT_PASSWORD)  # it expired
            return control.reset(self.url, self._admin_token)

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
