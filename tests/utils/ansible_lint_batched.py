# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``ansible-lint`` with its syntax check done in one ``ansible-playbook`` run.

ansible-lint's ``syntax-check`` rule starts ``ansible-playbook --syntax-check`` once per
playbook and role (33 here, 1.5 CPU-seconds of start-up each: two thirds of the whole
lint). This runs ansible-lint unchanged except that its syntax-check phase first checks
every one of those files in a single ``ansible-playbook --syntax-check`` (the same
command, environment and extra vars ansible-lint uses, given all the files at once); only
when that fails does ansible-lint check each file alone, as it always does, so the
report names the file and line at fault.

    python tests/utils/ansible_lint_batched.py [ansible-lint arguments]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ansiblelint.__main__ import _run_cli_entrypoint
from ansiblelint.runner import Runner

_per_file = Runner._map_syntax_check_workers


def _role_playbook(role: Path, directory: Path) -> Path:
    """The playbook ansible-lint writes to syntax-check a role (runner.py)."""
    path = directory / f"role-{len(list(directory.iterdir()))}.yml"
    path.write_text(
        "---\n- name: Temporary playbook for role syntax check\n  hosts: localhost\n"
        f"  tasks:\n    - ansible.builtin.import_role:\n        name: {role}\n"
    )
    return path


def _all_pass(runner: Runner, files: list[Any]) -> bool:
    """Whether one ``ansible-playbook --syntax-check`` of every playbook and role passes."""
    files = [f for f in files if f.kind in ("playbook", "role")]
    if not files:
        return True
    with tempfile.TemporaryDirectory(prefix="lint-roles-") as roles_dir:
        playbooks = [
            str(_role_playbook(f.path.expanduser(), Path(roles_dir)) if f.kind == "role" else f.path.expanduser())
            for f in files
        ]
        cmd = ["ansible-playbook", "--syntax-check", "-vv", *playbooks]
        if runner.app.options.extra_vars:
            cmd.extend(["--extra-vars", json.dumps(runner.app.options.extra_vars)])
        env = {**runner.app.runtime.environ, "PYTHONWARNINGS": "ignore"}
        env["ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED"] = "False"
        proc = subprocess.run(cmd, stdin=subprocess.PIPE, capture_output=True, text=True, env=env, check=False)
    print(f"Syntax-checked {len(files)} playbooks and roles in one run: exit {proc.returncode}", file=sys.stderr)
    return proc.returncode == 0


def _batched(self: Runner, worker: Callable[[Any], list], files: list[Any]) -> list[list]:
    if _all_pass(self, files):
        return [[] for lintable in files]
    return _per_file(self, worker, files)


if __name__ == "__main__":
    Runner._map_syntax_check_workers = _batched
    sys.argv[0] = "ansible-lint"
    sys.exit(_run_cli_entrypoint())
