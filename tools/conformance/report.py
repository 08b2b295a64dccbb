"""docs/conformance.md (the figures and every test that does not pass) and
docs/conformance-worklist.md (the same failures as work, per service), from one run."""

from __future__ import annotations

import datetime
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import suite
import triage
from devstack import Prepared
from results import Result
from triage import Cause

RERUN = "make conformance TEST=<test id>"


@dataclass
class Run:
    """One run's results with their triage, and what it ran on."""

    results: list[Result]
    causes: list[Cause]
    cause_of: dict[str, Cause | None]  #: failing or skipped test -> its cause
    prepared: Prepared
    minutes: float
    sdk_version: str
    commit: str

    def outcome(self, outcome: str, area: str | None = None) -> list[Result]:
        return [r for r in self.results if r.outcome == outcome and area in (None, r.area)]

    def of(self, cause: Cause, outcome: str) -> list[Result]:
        return [r for r in self.outcome(outcome) if self.cause_of.get(r.test) is cause]

    def needing(self, cause: Cause) -> list[Result]:
        """Failing tests attributed elsewhere that need this cause fixed too."""
        return [r for r in self.outcome("fail") if self.cause_of.get(r.test) is not cause and cause.also_needed_by(r)]


def summary_line(results: list[Result]) -> str:
    counts = Counter(r.outcome for r in results)
    return f"conformance: {counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped"


def write_all(results: list[Result], prepared: Prepared, minutes: float, docs: Path, suite_python: str) -> None:
    causes = triage.load()
    run = Run(
        results,
        causes,
        triage.assign(results, causes),
        prepared,
        minutes,
        _sdk_version(suite_python),
        _commit(docs.parent),
    )
    (docs / "conformance.md").write_text(conformance_md(run))
    (docs / "conformance-worklist.md").write_text(worklist_md(run))


def _rate(passed: int, failed: int) -> str:
    return f"{100 * passed / (passed + failed):.1f} %" if passed + failed else "-"


def _figures(run: Run) -> list[str]:
    lines = [
        "| Area | Tests | Pass | Fail | Skip | Pass rate of the tests that run |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for area in [*suite.AREAS, None]:
        p, f, s = (len(run.outcome(o, area)) for o in ("pass", "fail", "skip"))
        name = area or "**total**"
        lines.append(f"| {name} | {p + f + s} | {p} | {f} | {s} | {_rate(p, f)} |")
    return lines


def _label(cause: Cause) -> str:
    extras = [cause.service, cause.kind]
    if cause.one_liner:
        extras.append("one-liner")
    if cause.optional:
        extras.append("not in issue 16")
    return ", ".join(extras)


def _reason(result: Result) -> str:
    call = f" (`{result.failed_call}`)" if result.failed_call else ""
    return f"- `{result.test}`: {result.message}{call}"


def conformance_md(run: Run) -> str:
    passed, failed = len(run.outcome("pass")), len(run.outcome("fail"))
    out = [
        "# Conformance: openstacksdk's functional tests against stacksim",
        "",
        f"Written by `make conformance` (`tools/conformance/`), do not edit by hand. Run of "
        f"{datetime.date.today().isoformat()} on stacksim {run.commit}, openstacksdk {run.sdk_version}'s "
        f"own functional tests, {run.minutes:.0f} minutes. The work these figures call for, per service, "
        "is in [conformance-worklist.md](conformance-worklist.md).",
        "",
        "## Figures",
        "",
        *_figures(run),
        "",
        f"Issue 16's goal is that at least 90 % of the tests that run pass; today {_rate(passed, failed)} do.",
        "",
        "## How the figures are made",
        "",
        "- `make conformance` installs openstacksdk (the version `constraints.txt` pins) with its test "
        "requirements into `build/conformance/venv` and runs `tools/conformance/run.py`.",
        "- That starts a stacksim of this checkout with fresh state on a free loopback port and prepares "
        "what DevStack would: the clouds `devstack`, `devstack-alt`, `devstack-admin` and "
        "`devstack-system-admin` in a clouds.yaml of its own, and " + "; ".join(run.prepared.done) + ".",
        f"- The tests run serially, as upstream's `stestr run --serial`, with pytest (a plugin expands "
        f"`testscenarios` classes as stestr would), with DevStack's job environment: `OS_CLOUD=devstack-admin`, "
        f"`OPENSTACKSDK_IMAGE={run.prepared.image}`, `OPENSTACKSDK_FLAVOR={run.prepared.flavor}`, "
        f"`OPENSTACKSDK_HAS_*` for the services present, waits of {suite.WAIT_TIMEOUT} s "
        "(`OPENSTACKSDK_FUNC_TEST_TIMEOUT*`; stacksim settles in well under a second).",
        f"- The areas: {', '.join(f'{a} (`{p}`)' for a, p in suite.AREAS.items())}.",
        "- Raw results: `build/conformance/results.xml` (JUnit; a failing test's record has its "
        "traceback and every request it made), the simulator's log in `build/conformance/cloud/`.",
        f"- One test again, against a fresh stacksim: `{RERUN}`, with the id as listed below "
        "(a class, a module or an area name work too). Its results go to `build/conformance/rerun.xml`, "
        "the simulator's log to `build/conformance/rerun/`; this page is only rewritten by a full run.",
        "- Why each test fails or skips comes from `tools/conformance/triage.yaml`; a failure no entry "
        "explains is listed as untriaged.",
        "",
        "## Failures, by cause",
        "",
    ]
    failing = [c for c in run.causes if run.of(c, "fail")]
    for cause in sorted(failing, key=lambda c: -len(run.of(c, "fail"))):
        tests = run.of(cause, "fail")
        out += [f"### {cause.title}: {len(tests)}", "", f"*{_label(cause)}*", ""]
        out += [_reason(r) for r in tests] + [""]
    untriaged = [r for r in run.outcome("fail") if run.cause_of.get(r.test) is None]
    if untriaged:
        out += [f"### Untriaged: {len(untriaged)}", "", *[_reason(r) for r in untriaged], ""]
    if not failed:
        out += ["None.", ""]
    out += ["## Skips, by reason", "", "| The suite's reason | Tests | Why | Ours to do |", "|---|---:|---|---|"]
    by_reason = Counter(r.message for r in run.outcome("skip"))
    for message, count in by_reason.most_common():
        why_not = next(run.cause_of.get(r.test) for r in run.outcome("skip") if r.message == message)
        why = f"{why_not.title} ({why_not.kind})" if why_not else "untriaged"
        ours = ("yes" + (", not in issue 16" if why_not.optional else "")) if why_not and why_not.ours else "no"
        out.append(f"| {message} | {count} | {why} | {ours} |")
    out += ["", "<details><summary>Every skipped test</summary>", ""]
    out += [f"- `{r.test}`: {r.message}" for r in sorted(run.outcome("skip"), key=lambda r: r.test)]
    out += ["", "</details>", ""]
    return "\n".join(out)


def _projection(run: Run) -> list[str]:
    """How far fixing the failures ours to fix goes, biggest items first."""
    passed, failed = len(run.outcome("pass")), len(run.outcome("fail"))
    total = passed + failed
    ours = sorted(
        (c for c in run.causes if c.ours and run.of(c, "fail")),
        key=lambda c: (-len(run.of(c, "fail")), c.id),
    )
    lines = [
        f"Today {passed} of the {total} tests that run pass ({_rate(passed, failed)}). "
        f"90 % of them is {-(-9 * total // 10)} passes. Fixing the items below in order of the failures "
        "they are the first cause of (a test may then meet its next cause, see *also needed by*):",
        "",
        "| # | Item | Service | Kind | Failures fixed | Pass rate after |",
        "|---:|---|---|---|---:|---:|",
    ]
    reached = None
    for rank, cause in enumerate(ours, 1):
        fixed = len(run.of(cause, "fail"))
        passed, failed = passed + fixed, failed - fixed
        rate = passed / total
        if reached is None and rate >= 0.9:
            reached = rank
        lines.append(
            f"| {rank} | {cause.title} | {cause.service} | {cause.kind}"
            f"{', one-liner' if cause.one_liner else ''} | {fixed} | {_rate(passed, failed)} |"
        )
    lines.append("")
    if reached:
        lines.append(f"The first {reached} items reach 90 % of today's running tests.")
    else:
        lines.append("These items alone do not reach 90 % of today's running tests.")
    skipped_ours = [r for r in run.outcome("skip") if (c := run.cause_of.get(r.test)) and c.ours]
    lines += [
        "",
        f"Features that turn skips into runs (QoS, trunks, RBAC, ...) add {len(skipped_ours)} tests to the "
        "run: each must then pass at 90 % or better too, or it lowers the rate.",
    ]
    return lines


def worklist_md(run: Run) -> str:
    out = [
        "# Conformance work list",
        "",
        "What stacksim must do for openstacksdk's functional tests to pass (issue 16), per service, from "
        f"the run recorded in [conformance.md](conformance.md) (stacksim {run.commit}). Written by "
        "`make conformance` from `tools/conformance/triage.yaml`: change the triage there, not here.",
        "",
        "Kinds: *missing feature* (the API is not there), *wrong status/body* (it answers differently "
        "from the real service), *missing advertisement* (an extension, version or microversion not "
        "announced), *harness* (our set-up; fixed in `tools/conformance/`), *suite assumption* (DevStack "
        "specifics no cloud like ours should copy) and *not offered* (services stacksim does not have). "
        "*One-liner* marks a fix of a line or two. Counts: failing tests whose first failing call is this "
        "item, tests that also need it after another item, and skipped tests it would let run.",
        "",
        f"To check one test after a fix: `{RERUN}` (a fresh stacksim each time).",
        "",
        "## The way to 90 %",
        "",
        *_projection(run),
        "",
    ]
    for service in triage.SERVICES:
        causes = [c for c in run.causes if c.service == service and c.ours]
        causes = [c for c in causes if run.of(c, "fail") or run.of(c, "skip") or run.needing(c)]
        if not causes:
            continue
        out += [f"## {service.capitalize()}", ""]
        weight = {c.id: (len(run.of(c, "fail")) + len(run.needing(c)), len(run.of(c, "skip"))) for c in causes}
        for cause in sorted(causes, key=lambda c: (c.optional, -weight[c.id][0], -weight[c.id][1])):
            out += _item(run, cause)
    out += ["## Not ours to do", ""]
    for cause in (c for c in run.causes if not c.ours):
        count = len(run.of(cause, "skip")) + len(run.of(cause, "fail"))
        if count:
            out += [f"- **{cause.title}** ({cause.kind}, {count} test{'s' if count != 1 else ''}): {cause.real}"]
    out.append("")
    return "\n".join(out)


def _item(run: Run, cause: Cause) -> list[str]:
    failing, skipped, needing = run.of(cause, "fail"), run.of(cause, "skip"), run.needing(cause)
    counts = [f"{len(failing)} failing"]
    if needing:
        counts.append(f"{len(needing)} more {'needs' if len(needing) == 1 else 'need'} it")
    if skipped:
        counts.append(f"{len(skipped)} skipped")
    out = [f"### {cause.title}", "", f"*{_label(cause)}; {', '.join(counts)}*", ""]
    if cause.api:
        out.append(f"- **API**: {cause.api}")
    if cause.real:
        out.append(f"- **Real service**: {cause.real}")
    if failing:
        out.append("- **Fails**: " + ", ".join(f"`{r.test}`" for r in failing))
    if needing:
        out.append("- **Also needed by**: " + ", ".join(f"`{r.test}`" for r in needing))
    if skipped:
        modules = Counter(r.test.rsplit(".", 2)[0] for r in skipped)
        out.append("- **Skipped today**: " + ", ".join(f"`{m}` ({n})" for m, n in sorted(modules.items())))
    return [*out, ""]


def _sdk_version(python: str) -> str:
    code = "import importlib.metadata as m; print(m.version('openstacksdk'))"
    return subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def _commit(repo: Path) -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True).stdout.strip()

    commit = git("log", "-1", "--format=%h", "--", "simulator") or "unknown"  # the simulator's last change
    return commit + (" with local changes" if git("status", "--porcelain", "--", "simulator") else "")
