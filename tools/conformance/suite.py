"""The openstacksdk functional suite: where it is installed, what to run, with which environment."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

#: area shown in the report -> the suite's package under openstack/tests/functional
AREAS = {
    "cloud layer": "cloud",
    "compute": "compute/v2",
    "network": "network/v2",
    "image": "image/v2",
    "block storage v3": "block_storage/v3",
    "orchestration": "orchestration/v1",
    "identity": "identity/v3",
}
PREFIX = "openstack.tests.functional."

#: Seconds the suite waits for a resource to reach a state. DevStack's job uses
#: 300 (600 for load balancers); stacksim settles in well under a second, so a
#: minute still leaves a wide margin and a stuck wait costs one minute, not five.
WAIT_TIMEOUT = 60
#: oslotest's hard limit per test (the upstream tox env sets 600).
TEST_TIMEOUT = 180


def site_packages(python: str) -> Path:
    out = subprocess.run(
        [python, "-c", "import openstack, pathlib; print(pathlib.Path(openstack.__file__).parent.parent)"],
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(out.stdout.strip())


def area_of(test_id: str) -> str | None:
    """The report area of a dotted test id (``openstack.tests.functional.cloud.test_x.T.test_y``)."""
    for area, package in AREAS.items():
        if test_id.startswith(PREFIX + package.replace("/", ".") + "."):
            return area
    return None


def node_id(test: str, root: Path) -> str:
    """A pytest node id for a test given as the report names it (dotted, with or without
    the ``openstack.tests.functional.`` prefix), as a pytest node id, or an area's name."""
    if test in AREAS:
        return str(root / "openstack/tests/functional" / AREAS[test])
    if "/" in test or "::" in test:
        return test if test.startswith("/") else str(root / test)
    parts = (test if test.startswith(PREFIX) else PREFIX + test).split(".")
    for cut in range(len(parts), 0, -1):
        module = root / Path(*parts[:cut])
        if module.with_suffix(".py").is_file():
            return "::".join([f"{module}.py", *parts[cut:]])
        if module.is_dir() and cut == len(parts):
            return str(module)
    raise SystemExit(f"no such test in the suite: {test}")


def environment(clouds_yaml: Path, image: str, flavor: str) -> dict[str, str]:
    """The environment of DevStack's functional job, pointed at our clouds.yaml; nothing of ours leaks in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "OPENSTACKSDK_"))}
    env.update(
        OS_CLIENT_CONFIG_FILE=str(clouds_yaml),
        OS_CLOUD="devstack-admin",
        OS_TEST_TIMEOUT=str(TEST_TIMEOUT),
        OPENSTACKSDK_FUNC_TEST_TIMEOUT=str(WAIT_TIMEOUT),
        OPENSTACKSDK_FLAVOR=flavor,
        OPENSTACKSDK_IMAGE=image,
        # What DevStack's job says it deployed (cloud/test_meta.py reads these).
        OPENSTACKSDK_HAS_NEUTRON="1",
        OPENSTACKSDK_HAS_HEAT="1",
        OPENSTACKSDK_HAS_SWIFT="0",
        OPENSTACKSDK_HAS_DESIGNATE="0",
        OPENSTACKSDK_HAS_MAGNUM="0",
        PYTHONDONTWRITEBYTECODE="1",
    )
    for key in ("BLOCK_STORAGE", "COMPUTE", "IMAGE", "ORCHESTRATION", "CLEANUP", "PROJECT_CLEANUP"):
        env[f"OPENSTACKSDK_FUNC_TEST_TIMEOUT_{key}"] = str(WAIT_TIMEOUT)
    return env


PLUGIN_DIR = Path(__file__).resolve().parent / "plugin"
#: The image tests upload ``CONTRIBUTING.rst`` and the orchestration tests read
#: ``openstack/tests/functional/orchestration/v1/hello_world.yaml``, both from the
#: working directory: upstream runs them from openstacksdk's source tree. The wheel
#: has no CONTRIBUTING.rst, so the working directory gets a stand-in and a link to
#: the installed ``openstack`` package.
UPLOAD_FILE = "CONTRIBUTING.rst"


def _source_tree(workdir: Path, root: Path) -> None:
    (workdir / UPLOAD_FILE).write_text("A stand-in for openstacksdk's CONTRIBUTING.rst, uploaded as image data.\n" * 64)
    link = workdir / "openstack"
    if not link.is_symlink():
        link.symlink_to(root / "openstack", target_is_directory=True)


def run_pytest(
    python: str, root: Path, targets: list[str], junit: Path, env: dict[str, str], workdir: Path, brief: bool
) -> int:
    """Run the suite serially (as upstream's ``stestr run --serial``), JUnit XML to ``junit``.

    ``brief`` prints a dot per test (the XML has the tracebacks); otherwise
    each failure is shown with its traceback and the requests it made.
    """
    _source_tree(workdir, root)
    env = dict(env, PYTHONPATH=str(PLUGIN_DIR))
    # The venv's pytest script, not ``python -m pytest``, which would put the working
    # directory (and so the ``openstack`` link) on sys.path ahead of the installed package.
    args = [
        str(Path(python).parent / "pytest"),
        "-p",
        "conformance_scenarios",
        f"--rootdir={root}",
        "-c",
        os.devnull,
        "-p",
        "no:cacheprovider",
        f"--junitxml={junit}",
        "-o",
        "junit_family=xunit2",
        # A failing test's SDK and keystoneauth debug log (every request and
        # response) goes into the XML, for triage; passing tests keep none.
        "-o",
        "junit_logging=all",
        "-o",
        "junit_log_passing_tests=false",
        "--log-level=DEBUG",
        "--log-disable=stevedore",
        "-q",
        *(["--tb=no", "-rN"] if brief else ["--tb=long", "--show-capture=log", "-rfEs"]),
        *targets,
    ]
    return subprocess.run(args, cwd=workdir, env=env, check=False).returncode
