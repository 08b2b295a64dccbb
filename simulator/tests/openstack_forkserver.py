"""Runs ``openstack`` commands as forks of one process that imported the CLI once.

Each ``openstack`` process spends most of its CPU time (1.5-2 s here) importing
openstackclient and its plugins before it sends a request. Run as a script, this
imports the CLI and runs one ``help`` (which loads every command's module and
caches the package metadata cliff reads), then answers one request a line
(:func:`stacksim.testing_fork.answer_lines`; JSON: ``argv``, ``env``, ``stdout``
and ``stderr`` file paths) with a fork that runs the entry point the ``openstack``
console script runs (``openstackclient.shell:main``) with ``argv``, the request's
environment, ``/dev/null`` as stdin and the two files as output. Every command
still runs in a process of its own, with nothing left over from the one before;
only the imports are shared. The answer is the command's exit status.

The tests keep one call per smoke test through the real ``openstack`` executable
(conftest's ``Cli.exec``), so the console script itself is tested too.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import warnings
from typing import Any

from stacksim.testing_fork import answer_lines, become, exit_with


def _warm() -> None:
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
    # the handler it set up for its own output goes: each command sets up its own
    root.handlers[:] = handlers
    root.setLevel(level)


def _run(request: dict[str, Any]) -> dict[str, Any]:
    pid = os.fork()
    if pid == 0:
        from openstackclient import shell

        become(request["env"], request["stdout"], request["stderr"])
        sys.argv = ["openstack", *request["argv"]]  # as the console script sees it (argparse's prog name)
        exit_with(lambda: shell.main(request["argv"]))
    _, status = os.waitpid(pid, 0)
    return {"returncode": os.waitstatus_to_exitcode(status)}


if __name__ == "__main__":
    _warm()
    answer_lines(_run)
