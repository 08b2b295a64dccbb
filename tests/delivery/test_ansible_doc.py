# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``ansible-doc`` renders every module and role of the collection without a warning.

The lists come from ``ansible-doc -l``, so new modules and roles are covered; each is
rendered as text the way a user reads it, and a warning (a broken doc fragment, an option
documented twice, a bad argument_specs.yml) fails the test. One ``ansible-doc`` call
renders them all (each process costs seconds of start-up); when it fails or warns, each
name is rendered alone so that the failure names the module or role at fault.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from .conftest import clean_env, run, tool

pytestmark = pytest.mark.delivery


def _render(kind: str, names: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [tool("ansible-doc"), "-t", kind, *names],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120 * len(names),
        check=False,
    )


def _problem(proc: subprocess.CompletedProcess) -> str | None:
    """What is wrong with an ansible-doc run (its exit status or a warning), if anything."""
    if proc.returncode != 0:
        return f"exited {proc.returncode}:\n{proc.stderr}"
    if "[WARNING]" in proc.stderr or "[DEPRECATION" in proc.stderr:
        return proc.stderr
    return None


def _sections(kind: str, stdout: str) -> dict[str, str]:
    """Each rendered name's text, split at the ``> MODULE name`` (``> ROLE: name``) headers."""
    header = re.compile(rf"^> {kind.upper()}:? \*?([\w.]+)", re.MULTILINE | re.IGNORECASE)
    starts = list(header.finditer(stdout))
    ends = [m.start() for m in starts[1:]] + [len(stdout)]
    return {m.group(1): stdout[m.start() : end] for m, end in zip(starts, ends, strict=True)}


@pytest.mark.parametrize("kind", ["module", "role"])
def test_ansible_doc_renders_everything_without_warnings(kind: str, collections_path: Path, tmp_path: Path) -> None:
    env = clean_env(tmp_path / "home", ANSIBLE_COLLECTIONS_PATH=str(collections_path))
    names = sorted(
        json.loads(run([tool("ansible-doc"), "-t", kind, "-l", "-j", "opensandbox.cloud"], env, tmp_path).stdout)
    )
    assert names, f"ansible-doc lists no {kind} of opensandbox.cloud"
    together = _render(kind, names, env, tmp_path)
    if _problem(together):
        # Which of them: each alone, so the failure names the culprits.
        alone = {name: _problem(_render(kind, [name], env, tmp_path)) for name in names}
        culprits = {name: problem for name, problem in alone.items() if problem}
        assert not culprits, "\n".join(f"ansible-doc -t {kind} {name} {problem}" for name, problem in culprits.items())
        pytest.fail(f"ansible-doc -t {kind} {' '.join(names)} {_problem(together)}")
    sections = _sections(kind, together.stdout)
    assert sorted(sections) == names, f"ansible-doc rendered {sorted(sections)}, not {names}"
    for name, text in sections.items():
        assert name.split(".")[-1] in text and "OPTIONS" in text.upper(), text[:2000]
