"""For tests that start many Python programs: each run a fork of one process that imported it once.

A simulator spends most of its start-up CPU time (about 1.5 s of 2 here) importing
stacksim, its web stack and its schemas, and an ``openstack`` command as much
importing the CLI. A fork server imports the program once; each run is then a fork
of it, which takes the environment of the process that asked, its own stdin and
output, and runs the program's entry point as its console script would. Nothing
runs in the forking process but the imports (and, for the CLI, one ``help``), so
each run still starts from a clean state of its own.

- :class:`LineChild`: the test process's side of a fork server (one JSON request a
  line, one JSON answer a line), started at the first request;
- :func:`answer_lines`, :func:`become` and :func:`exit_with`: the fork server's side;
- :class:`ForkServer` (with ``python -m stacksim.testing_fork``): ``stacksim serve``
  this way, each a :class:`Forked` that stands in for its ``subprocess.Popen``.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

#: seconds a fork server may take to import its program or to answer a request
ANSWER_TIMEOUT = 120.0


class LineChild:
    """A child process answering one JSON line with one JSON line; started (again) when asked and not running."""

    def __init__(self, argv: list[str], what: str, timeout: float = ANSWER_TIMEOUT) -> None:
        self.argv = argv
        self.what = what
        self.timeout = timeout
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._proc = subprocess.Popen(
                    self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
                )
                self._read()  # it says it is ready once it has imported everything
            assert self._proc.stdin is not None
            self._proc.stdin.write(json.dumps(request) + "\n")
            self._proc.stdin.flush()
            return self._read()

    def _read(self) -> dict[str, Any]:
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        if not select.select([proc.stdout], [], [], self.timeout)[0]:
            proc.kill()
            raise RuntimeError(f"the {self.what} fork server gave no answer within {self.timeout:g} s")
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.what} fork server exited ({proc.wait()})")
        return json.loads(line)

    def close(self) -> None:
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                assert self._proc.stdin is not None
                self._proc.stdin.close()  # it exits when its input ends
                try:
                    self._proc.wait(timeout=30)
                except subprocess.TimeoutExpired:  # it holds nothing worth waiting for
                    self._proc.kill()
                    self._proc.wait()
            self._proc = None


# -- the fork server's side ----------------------------------------------------------------------


def answer_lines(handle: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """Say ready, then answer each JSON line on stdin with ``handle``'s answer, until stdin ends."""
    reply = sys.stdout
    reply.write(json.dumps({"ready": os.getpid()}) + "\n")
    reply.flush()  # empty before each fork: a child never writes what its parent had buffered
    for line in sys.stdin:
        reply.write(json.dumps(handle(json.loads(line))) + "\n")
        reply.flush()


def become(env: dict[str, str], stdout: str | None, stderr: str | None, append: bool = False) -> None:
    """In a fork: take ``env``, ``/dev/null`` as stdin and these files (``None``: ``/dev/null``) as output."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.environ.clear()
    os.environ.update(env)
    mode = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)

    def onto(path: str | None, target: int) -> None:
        fd = os.open(path, mode, 0o600) if path else os.dup(null)
        os.dup2(fd, target)
        os.close(fd)

    onto(stdout, 1)
    if stderr == stdout:
        os.dup2(1, 2)
    else:
        onto(stderr, 2)
    os.close(null)


def exit_with(main: Callable[[], Any]) -> NoReturn:
    """In a fork: run ``main`` as a console script would and end the process with its status."""
    code: Any = 1
    try:
        code = main()
    except SystemExit as exc:
        code = exc.code
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        import logging

        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code if isinstance(code, int) else (0 if code is None else 1))


# -- stacksim serve ------------------------------------------------------------------------------


class ForkServer:
    """``stacksim serve`` as forks of one process that imported stacksim (see :attr:`Simulator.forkserver`)."""

    def __init__(self) -> None:
        self._child = LineChild([sys.executable, "-m", "stacksim.testing_fork"], "stacksim")

    def spawn(self, serve_args: list[str], log: Path | None = None) -> Forked:
        """``stacksim serve *serve_args`` in a session of its own, its output appended to ``log``."""
        if log:
            # Made here, as control.spawn makes it, not only in the fork: a caller that gives up
            # at once (the port answered by another process) reads it before the fork opens it.
            os.close(os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        request = {"op": "spawn", "args": serve_args, "log": str(log) if log else None, "env": dict(os.environ)}
        return Forked(self, self._child.ask(request)["pid"], ["stacksim", "serve", *serve_args])

    def returncode(self, pid: int) -> int | None:
        return self._child.ask({"op": "poll", "pid": pid})["returncode"]

    def close(self) -> None:
        self._child.close()


class Forked:
    """A simulator started by a :class:`ForkServer` (its parent, which reaps it), used as a ``subprocess.Popen``."""

    def __init__(self, server: ForkServer, pid: int, args: list[str]) -> None:
        self.server = server
        self.pid = pid
        self.args = args
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.server.returncode(self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = 0.005
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(self.args, timeout or 0)
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
        return code

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def _serve_stacksim() -> None:
    # What `stacksim serve` imports (not the docker driver's SDK: only its simulators need it),
    # imported once here so that every fork starts with it loaded; the names are not used here.
    import uvicorn  # noqa: F401  (loaded for the forks, not used here)

    import stacksim.app
    import stacksim.clouds
    import stacksim.connections
    import stacksim.control
    import stacksim.drivers.fake
    import stacksim.logs
    import stacksim.private  # noqa: F401  (loaded for the forks, not used here)
    from stacksim.cli import main
    from stacksim.services.registry import services

    services()  # imports every service's routes, models and schemas (half a fork's start-up CPU)

    exited: dict[int, int] = {}

    def reap(*_: Any) -> None:
        """Reap every child that ended (none lingers as a zombie, which ``kill -0`` takes for alive)."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if not pid:
                return
            exited[pid] = os.waitstatus_to_exitcode(status)

    def handle(request: dict[str, Any]) -> dict[str, Any]:
        if request["op"] == "poll":
            reap()
            return {"returncode": exited.get(request["pid"])}
        pid = os.fork()
        if pid == 0:
            os.setsid()  # as control.spawn starts it
            become(request["env"], request["log"], request["log"], append=True)
            sys.argv = ["stacksim", "serve", *request["args"]]
            exit_with(lambda: main(["serve", *request["args"]]))
        return {"pid": pid}

    signal.signal(signal.SIGCHLD, reap)
    answer_lines(handle)


if __name__ == "__main__":
    _serve_stacksim()
