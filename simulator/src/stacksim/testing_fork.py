"""For tests that start many simulators: each ``stacksim serve`` a fork of one process that imported it.

A simulator spends most of its start-up CPU time (about 1.5 s of 2 here) importing
stacksim, its web stack and its schemas. :class:`ForkServer` starts one process
(``python -m stacksim.testing_fork``) that imports them once; each simulator is
then a fork of it that runs ``stacksim serve`` as the console script would: in a
session of its own, stdin from ``/dev/null``, its output to the log, the
environment of the process that asked. Nothing runs in the forking process but the
imports, so each simulator still starts from a clean state of its own.

:class:`Forked` stands in for the ``subprocess.Popen`` of a simulator started the
usual way (``pid``, ``poll``, ``wait``, ``terminate``, ``kill``); the fork server
is its parent and reaps it, when asked.
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
from pathlib import Path
from typing import Any

#: seconds the fork server may take to import stacksim or to answer
ANSWER_TIMEOUT = 120.0


class ForkServer:
    """The test process's side: a fork server, started at the first :meth:`spawn`."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._proc = subprocess.Popen(
                    [sys.executable, "-m", "stacksim.testing_fork"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                    bufsize=1,
                )
                self._read()  # it says it is ready once it has imported everything
            assert self._proc.stdin is not None
            self._proc.stdin.write(json.dumps(request) + "\n")
            self._proc.stdin.flush()
            return self._read()

    def _read(self) -> dict[str, Any]:
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        if not select.select([proc.stdout], [], [], ANSWER_TIMEOUT)[0]:
            proc.kill()
            raise RuntimeError(f"the stacksim fork server gave no answer within {ANSWER_TIMEOUT:g} s")
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the stacksim fork server exited ({proc.wait()})")
        return json.loads(line)

    def spawn(self, serve_args: list[str], log: Path | None = None) -> Forked:
        """``stacksim serve *serve_args`` as a fork, its output appended to ``log``."""
        answer = self._ask(
            {"op": "spawn", "args": serve_args, "log": str(log) if log else None, "env": dict(os.environ)}
        )
        return Forked(self, answer["pid"], ["stacksim", "serve", *serve_args])

    def returncode(self, pid: int) -> int | None:
        return self._ask({"op": "poll", "pid": pid})["returncode"]

    def close(self) -> None:
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                assert self._proc.stdin is not None
                self._proc.stdin.close()  # it exits when its input ends
                self._proc.wait(timeout=30)
            self._proc = None


class Forked:
    """A simulator started by a :class:`ForkServer`, as a ``subprocess.Popen`` is used."""

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
        while self.poll() is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(self.args, timeout or 0)
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
        return self.returncode  # type: ignore[return-value]

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


# -- the fork server's own side ------------------------------------------------------------------


def _warm() -> None:
    """Import what ``stacksim serve`` imports (not the docker driver's SDK: only its simulators need it)."""
    import uvicorn  # noqa: F401

    import stacksim.app
    import stacksim.clouds
    import stacksim.connections
    import stacksim.control
    import stacksim.logs
    import stacksim.private  # noqa: F401


def _serve_child(request: dict[str, Any]) -> None:
    """In the fork: become ``stacksim serve`` as :func:`stacksim.control.spawn` starts it; never returns."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        os.environ.clear()
        os.environ.update(request["env"])
        null = os.open(os.devnull, os.O_RDWR)
        log = request["log"]
        out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600) if log else os.dup(null)
        os.dup2(null, 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.close(null)
        os.close(out)
        from stacksim.cli import main

        sys.argv = ["stacksim", "serve", *request["args"]]
        code = main(["serve", *request["args"]])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        import logging

        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code or 0)


def serve() -> None:
    """Answer one JSON request a line on stdin (``spawn``, ``poll``) with one JSON line on stdout."""
    _warm()
    reply = sys.stdout
    reply.write(json.dumps({"ready": os.getpid()}) + "\n")
    reply.flush()
    exited: dict[int, int] = {}

    def reap(*_: Any) -> None:
        """Reap every child that ended (so none lingers as a zombie that looks alive to ``kill -0``)."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if not pid:
                return
            exited[pid] = os.waitstatus_to_exitcode(status)

    signal.signal(signal.SIGCHLD, reap)
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "spawn":
            pid = os.fork()
            if pid == 0:
                _serve_child(request)
            answer: dict[str, Any] = {"pid": pid}
        else:
            reap()
            answer = {"returncode": exited.get(request["pid"])}
        reply.write(json.dumps(answer) + "\n")
        reply.flush()


if __name__ == "__main__":
    serve()
