"""Run openstacksdk's functional tests against a private stacksim and report the figures.

    python tools/conformance/run.py                  # every area; writes docs/conformance*.md
    python tools/conformance/run.py TEST [TEST ...]  # just these, against a fresh stacksim
    python tools/conformance/run.py --report         # rewrite the docs from the last full run

A TEST is a dotted id as the report prints it
(``network.v2.test_port.TestPort.test_get``), a class, a module, an area name
(``identity``) or a pytest node id. Each run starts a stacksim of this
checkout with fresh state on a free port, prepares what DevStack would (see
devstack.py), runs the tests serially and stops it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys
import time
from pathlib import Path

import devstack
import report
import suite
from results import load as load_results
from stacksim_proc import PASSWORD, PrivateStacksim

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "build" / "conformance"
RESULTS = OUT / "results.xml"
#: what the last full run prepared and how long it took, for --report
RUN_INFO = OUT / "run.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tests", nargs="*", help="run only these (default: every area, and write the docs)")
    parser.add_argument("--report", action="store_true", help="only rewrite the docs from the last full run")
    parser.add_argument("--suite-python", default=str(OUT / "venv" / "bin" / "python"), help="the suite's venv")
    args = parser.parse_args(argv)
    # Absolute but not resolved: the venv's python is a link to the system one.
    args.suite_python = os.path.abspath(args.suite_python)

    if args.report:
        info = json.loads(RUN_INFO.read_text())
        prepared = devstack.Prepared(**info["prepared"])
        return _write_docs(prepared, info["minutes"], args.suite_python)

    full = not args.tests
    root = suite.site_packages(args.suite_python)
    targets = [suite.node_id(t, root) for t in (args.tests or suite.AREAS)]
    # A rerun keeps its own files, so it leaves the last full run's log and results alone.
    work = OUT / ("cloud" if full else "rerun")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    clouds_yaml = work / "clouds.yaml"
    junit = RESULTS if full else OUT / "rerun.xml"

    started = time.monotonic()
    with PrivateStacksim(work) as sim:
        devstack.write_clouds_yaml(clouds_yaml, f"{sim.url}/identity", PASSWORD)
        prepared = devstack.prepare(clouds_yaml)
        print(f"stacksim at {sim.url} (log {sim.log}); prepared: " + "; ".join(prepared.done), flush=True)
        env = suite.environment(clouds_yaml, prepared.image, prepared.flavor)
        code = suite.run_pytest(args.suite_python, root, targets, junit, env, work, brief=full)
    minutes = (time.monotonic() - started) / 60
    print(f"JUnit XML: {junit.relative_to(REPO)} ({minutes:.1f} min)")
    # pytest's 1 means "some tests failed": the figures are the product, not a failed run.
    if code not in (0, 1):
        return code
    if full:
        RUN_INFO.write_text(json.dumps({"prepared": dataclasses.asdict(prepared), "minutes": minutes}))
        return _write_docs(prepared, minutes, args.suite_python)
    return 0


def _write_docs(prepared: devstack.Prepared, minutes: float, suite_python: str) -> int:
    results = load_results(RESULTS)
    report.write_all(results, prepared, minutes, REPO / "docs", suite_python)
    print(report.summary_line(results))
    print("Wrote docs/conformance.md and docs/conformance-worklist.md")
    return 0


if __name__ == "__main__":
    # The suite and the preparation read only the clouds.yaml written here.
    os.environ.pop("OS_CLIENT_CONFIG_FILE", None)
    sys.exit(main())
