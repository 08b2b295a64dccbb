"""Runs ``openstack`` commands in forked children of one process that imported the CLI once.

Each ``openstack`` process spends most of its CPU time (1.5-2 s here) importing
openstackclient and its plugins before it sends a request. Run as a script, this
module imports the CLI (and loads every command's module) once, then reads one
request a line on stdin (JSON: ``argv``, ``env``, ``stdout`` and ``stderr`` file
paths) and forks a child for each: the child takes the request's environment,
``/dev/null`` as stdin and the two files as stdout and stderr, and runs the entry
point the ``openstack`` console script runs (``openstackclient.shell:main``) with
``argv``. So every command still runs in a process of its own, with nothing left
over from the one before; only the imports are shared. The exit status comes back
as a JSON line on stdout.

The tests keep one call per smoke test through the real ``openstack`` executable
(conftest's ``Cli.exec``), so the console script itself is tested too.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import warnings


def _warm() -> None:
    """Run one command (help, which needs no cloud) so that a child finds its work done: the
    command modules and plugins imported, the package metadata cliff reads for help texts cached."""
    from openstackclient import shell

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    with (
        warnings.catch_warnings(),
        open(os.devnull, "w") as null,
        contextlib.redirect_stdout(null),
        contextlib.redirect_stderr(null),
        contextlib.suppress(SystemExit),
    ):
        shell.main(["help", "network", "list"])
    # what the command set up for its own output goes: each child sets up its own
    root.handlers[:] = handlers
    root.setLevel(level)


def _child(request: dict) -> None:
    os.environ.clear()
    os.environ.update(request["env"])
    null = os.open(os.devnull, os.O_RDONLY)
    out = os.open(request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    err = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    for fd, target in ((null, 0), (out, 1), (err, 2)):
        os.dup2(fd, target)
        os.close(fd)
    from openstackclient import shell

    sys.argv = ["openstack", *request["argv"]]  # as the console script sees it (argparse's prog name)
    code = 1
    try:
        code = shell.main(request["argv"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code or 0)


def serve() -> None:
    _warm()
    reply = sys.stdout
    reply.write(json.dumps({"ready": os.getpid()}) + "\n")
    reply.flush()
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request)
        _, status, usage = os.wait4(pid, 0)
        cpu = usage.ru_utime + usage.ru_stime
        reply.write(json.dumps({"returncode": os.waitstatus_to_exitcode(status), "cpu": cpu}) + "\n")
        reply.flush()


if __name__ == "__main__":
    serve()
