"""The team's triage (triage.yaml): why each failing or skipped test does not pass."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from results import Result

TRIAGE_FILE = Path(__file__).resolve().parent / "triage.yaml"
SERVICES = ("identity", "compute", "network", "image", "block storage", "orchestration", "cloud layer")
#: kind -> whether the work is ours (on the simulator) rather than the suite's or nobody's
KINDS = {
    "missing feature": True,
    "wrong status/body": True,
    "missing advertisement": True,
    "harness": True,
    "suite assumption": False,
    "not offered": False,
}


@dataclass
class Cause:
    id: str
    service: str
    kind: str
    title: str
    api: str = ""  #: the calls concerned: method and path
    real: str = ""  #: what the real service does there
    one_liner: bool = False
    optional: bool = False  #: not in issue 16's list
    tests: list[str] = field(default_factory=list)  #: fnmatch patterns over short test ids
    also: list[str] = field(default_factory=list)  #: tests that need this too, after another cause
    skips: list[str] = field(default_factory=list)  #: regexes over skip messages this cause explains

    def __post_init__(self) -> None:
        if self.service not in SERVICES:
            raise ValueError(f"triage cause {self.id}: service '{self.service}' is not one of {SERVICES}")
        if self.kind not in KINDS:
            raise ValueError(f"triage cause {self.id}: kind '{self.kind}' is not one of {sorted(KINDS)}")

    @property
    def ours(self) -> bool:
        return KINDS[self.kind]

    def also_needed_by(self, result: Result) -> bool:
        return result.outcome == "fail" and any(fnmatch.fnmatchcase(result.test, p) for p in self.also)

    def explains(self, result: Result) -> bool:
        if result.outcome == "skip":
            return any(re.search(p, result.message) for p in self.skips)
        return result.outcome == "fail" and any(fnmatch.fnmatchcase(result.test, p) for p in self.tests)


def load(path: Path = TRIAGE_FILE) -> list[Cause]:
    data = yaml.safe_load(path.read_text())
    return [Cause(id=key, **value) for key, value in data.items()]


def assign(results: list[Result], causes: list[Cause]) -> dict[str, Cause | None]:
    """Each failing or skipped test's cause (the first that explains it), or None if untriaged."""
    out: dict[str, Cause | None] = {}
    for result in results:
        if result.outcome != "pass":
            out[result.test] = next((c for c in causes if c.explains(result)), None)
    return out
