# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run each integration target, and the demo playbook, with ansible-playbook against stacksim.

A target is tests/integration/targets/<name>/ (ansible-test layout: tasks/main.yml,
optional defaults/, aliases); it runs as a role on localhost. Targets whose aliases
say ``disabled`` or ``unsupported`` are skipped. An alias ``secret_var/<name>`` runs the
target with ``-vvv`` and a fresh random value for the variable ``<name>``, and checks
that the value shows nowhere in Ansible's output (for ``no_log`` options).
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parents[1]
TARGETS_DIR = TESTS_DIR / "integration" / "targets"
SKIP_ALIASES = {"disabled", "unsupported"}
PLAYBOOK_TIMEOUT = 600

pytestmark = pytest.mark.integration


def _aliases(target: Path) -> set[str]:
    path = target / "aliases"
    if not path.is_file():
        return set()
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return {line for line in lines if line}


def _targets() -> list[pytest.param]:
    params = []
    for target in sorted(p for p in TARGETS_DIR.iterdir() if (p / "tasks" / "main.yml").is_file()):
        marks = [pytest.mark.skip(reason="aliases: disabled/unsupported")] if _aliases(target) & SKIP_ALIASES else []
        params.append(pytest.param(target.name, id=target.name, marks=marks))
    return params


def _ansible_bin(name: str) -> str:
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    assert found, f"{name} must be installed: run the tests from the project venv"
    return found


@pytest.fixture(scope="session")
def stacksim() -> Iterator[object]:
    """One in-memory stacksim for the session (``sim.url``, ``sim.clouds_yaml``, ``sim.env``)."""
    from stacksim import testing

    with testing.Simulator() as sim:
        yield sim


@pytest.fixture(autouse=True)
def _bootstrap_state(stacksim) -> None:
    """Each target and the demo start from the simulator's bootstrap state (none sees another's leftovers)."""
    stacksim.reset()


#: Where ``make`` installs the collections the playbooks use besides ours (openstack.cloud).
DEPENDENCIES = Path(__file__).resolve().parents[2] / "build" / "collections"


@pytest.fixture(scope="session")
def dependencies() -> Path:
    """openstack.cloud in build/collections, installed now if `make collection` has not (from PyPI)."""
    fetch = DEPENDENCIES.parents[1] / "tools" / "fetch_openstack_cloud.py"
    proc = subprocess.run(
        [sys.executable, str(fetch), str(DEPENDENCIES)], capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode == 0, f"could not install openstack.cloud:\n{proc.stdout}{proc.stderr}"
    return DEPENDENCIES


@pytest.fixture(scope="session")
def ansible_env(
    stacksim, dependencies: Path, collections_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """Environment for ansible-playbook: the built collection, the simulator's clouds, no user config."""
    home = tmp_path_factory.mktemp("ansible-home")
    config = home / "ansible.cfg"
    # Our own config, so none from the user or the cwd applies. The controller looks for finished
    # tasks every 10 ms instead of every 1 ms: while a module runs, the 1 ms default spends about
    # 6% of a core polling, which on a busy 2-core machine is CPU the modules need.
    config.write_text("[defaults]\ninternal_poll_interval = 0.01\n")
    env = dict(stacksim.env)
    for name in list(env):
        if name.startswith("ANSIBLE_") or (name.startswith("OS_") and name != "OS_CLIENT_CONFIG_FILE"):
            del env[name]
    env.update(
        # The collection under test first, then what it needs (openstack.cloud, for the demo).
        ANSIBLE_COLLECTIONS_PATH=f"{collections_path}:{dependencies}",
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
        ANSIBLE_ROLES_PATH=str(TARGETS_DIR),
        ANSIBLE_HOME=str(home),
        ANSIBLE_LOCAL_TEMP=str(home / "tmp"),
        # The modules' payloads in a folder of this run's own, not the user's ~/.ansible/tmp,
        # which anything else on the host may clean while a module starts.
        ANSIBLE_REMOTE_TMP=str(home / "remote-tmp"),
        ANSIBLE_CONFIG=str(config),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_RETRY_FILES_ENABLED="false",
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
    )
    return env


def run_playbook(playbook: Path, env: dict[str, str], cwd: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    cmd = [_ansible_bin("ansible-playbook"), str(playbook), *extra]
    env = dict(env, PWD=str(cwd))  # as a shell started in cwd would say; the playbooks write files there
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=PLAYBOOK_TIMEOUT, check=False)
    assert proc.returncode == 0, f"{' '.join(cmd)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def _secret_vars(target: str) -> dict[str, str]:
    """The target's ``secret_var/<name>`` aliases, each with a fresh value."""
    names = sorted(a.split("/", 1)[1] for a in _aliases(TARGETS_DIR / target) if a.startswith("secret_var/"))
    return {name: f"secret{secrets.token_hex(12)}" for name in names}


@pytest.mark.parametrize("target", _targets())
def test_target(target: str, ansible_env: dict[str, str], tmp_path: Path) -> None:
    playbook = tmp_path / f"run-{target}.yml"
    playbook.write_text(
        f"- name: Integration target {target}\n"
        "  hosts: localhost\n"
        "  connection: local\n"
        "  gather_facts: false\n"
        "  roles:\n"
        f"    - {target}\n"
    )
    hidden = _secret_vars(target)
    extra = ["-vvv", *(arg for name, value in hidden.items() for arg in ("-e", f"{name}={value}"))] if hidden else []
    proc = run_playbook(playbook, ansible_env, tmp_path, *extra)
    assert "failed=0" in proc.stdout
    for name, value in hidden.items():
        assert value not in proc.stdout + proc.stderr, f"the value of {name} shows in the output of {target}"


def _recap(out: str) -> dict[str, int]:
    """The localhost line of PLAY RECAP: ``{'ok': 5, 'changed': 0, ...}``."""
    line = next(line for line in out.splitlines() if line.startswith("localhost") and "ok=" in line)
    return {key: int(value) for key, value in (pair.split("=") for pair in line.split(":", 1)[1].split())}


def _dashboard_shows_the_sandbox(sim) -> None:
    """demo's dashboard, in headless Chromium, draws what the demo deployed: the sandbox's nodes
    and networks on the topology, its stack's resources all complete (screenshots under
    build/test-output/demo/). Without a browser it warns, except in CI, where one must run."""
    import os
    import warnings

    from stacksim.config import DEFAULT_PASSWORD
    from stacksim.testing_browser import browser_problem, chromium, log_in, save_screenshot

    problem = browser_problem()
    if problem and not os.environ.get("CI"):
        warnings.warn(f"the demo's dashboard was not looked at: {problem}", stacklevel=2)
        return
    shots = Path(__file__).resolve().parents[2] / "build" / "test-output" / "demo"
    svg_names = "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.getAttribute('data-name'));"
    with chromium() as driver:
        log_in(driver, sim.url, "demo", DEFAULT_PASSWORD)
        servers = set(driver.execute_script(svg_names, "svg .os-server"))
        networks = set(driver.execute_script(svg_names, "svg .os-network"))
        save_screenshot(driver, shots / "topology.png")
        driver.get(f"{sim.url.rstrip('/')}/dashboard/stacks")
        driver.find_element("link text", "small-sandbox").click()
        states = driver.execute_script(
            "return Array.from(document.querySelectorAll('svg .os-resource')).map(e => e.getAttribute('data-state'));"
        )
        save_screenshot(driver, shots / "stack.png")
    nodes = {f"small-sandbox-{name}" for name in ("man", "uan", "router", "server")}
    assert nodes <= servers, servers
    assert {"small-sandbox-wan", "small-sandbox-server-switch"} <= networks, networks
    assert states and set(states) == {"CREATE_COMPLETE"}, states


def test_demo_playbook(stacksim, ansible_env: dict[str, str], collection_root: Path, tmp_path: Path) -> None:
    """make demo's playbook: who we are, then the small sandbox and its picture; a second run changes nothing."""
    playbooks = collection_root / "playbooks"
    try:
        proc = run_playbook(playbooks / "demo.yml", ansible_env, tmp_path)
        out = proc.stdout
        assert _recap(out)["failed"] == 0
        assert _recap(out)["changed"] == 1, out  # the sandbox, its inventory file and picture, in one task
        for expected in (
            "User:     demo, project demo",
            "Projects: admin, alt_demo, demo",
            "small-sandbox: CREATE_COMPLETE",
            "server (host): man-network 192.168.128.",
            "server-switch 10.10.20.5",
            "console: openstack --os-cloud stacksim console log show small-sandbox-server",
            "nothing answers ssh",
            f"Picture of the sandbox: {tmp_path}/small-sandbox.svg",
            f"Dashboard: {stacksim.url.rstrip('/')}/dashboard",
        ):
            assert expected in out, f"{expected!r} missing from the demo output:\n{out}"
        assert (tmp_path / "small-sandbox.inventory.yml").is_file()
        assert 'data-name="server-switch"' in (tmp_path / "small-sandbox.svg").read_text()
        assert not (tmp_path / ".stacksim").exists()  # records: no key, nothing to reach over ssh
        _dashboard_shows_the_sandbox(stacksim)
        again = run_playbook(playbooks / "demo.yml", ansible_env, tmp_path)
        assert _recap(again.stdout)["changed"] == 0, again.stdout
    finally:
        destroyed = run_playbook(
            playbooks / "destroy_sandbox.yml",
            ansible_env,
            tmp_path,
            "-e",
            f"topology={playbooks}/files/small-sandbox.yaml",
        )
    assert "small-sandbox: deleted" in destroyed.stdout
    assert not (tmp_path / "small-sandbox.inventory.yml").exists()
    assert not (tmp_path / "small-sandbox.svg").exists()


def test_deploy_and_destroy_playbooks(ansible_env: dict[str, str], collection_root: Path, tmp_path: Path) -> None:
    """deploy_sandbox.yml writes an inventory whose hosts and groups are the topology's; destroy removes both."""
    import yaml

    playbooks = collection_root / "playbooks"
    # A path relative to where ansible-playbook runs, as people type it.
    topology_file = tmp_path / "sandbox.yaml"
    shutil.copy(playbooks / "files" / "sandbox.yaml", topology_file)
    topology = yaml.safe_load(topology_file.read_text())
    inventory_file = tmp_path / "sandbox.inventory.yml"
    try:
        proc = run_playbook(playbooks / "deploy_sandbox.yml", ansible_env, tmp_path, "-e", "topology=sandbox.yaml")
        assert "sandbox: CREATE_COMPLETE, 8 servers" in proc.stdout
        listed = subprocess.run(
            [_ansible_bin("ansible-inventory"), "-i", str(inventory_file), "--list"],
            env=ansible_env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        )
        inventory = json.loads(listed.stdout)
        nodes = {n["name"] for n in topology["hosts"] + topology["routers"]}
        assert set(inventory["_meta"]["hostvars"]) == nodes | {"man", "uan"}
        for group in topology["groups"]:
            assert inventory[group["name"]]["hosts"] == group["nodes"]
        assert set(inventory["hosts"]["hosts"]) == {h["name"] for h in topology["hosts"]}
        assert set(inventory["routers"]["hosts"]) == {r["name"] for r in topology["routers"]}
        web = inventory["_meta"]["hostvars"]["web"]
        assert web["ansible_user"] == "cirros"
        assert web["ansible_ssh_common_args"].startswith("-o ProxyJump=cirros@172.24.4.")
    finally:
        destroyed = run_playbook(
            playbooks / "destroy_sandbox.yml", ansible_env, tmp_path, "-e", f"topology={topology_file}"
        )
    assert "sandbox: deleted" in destroyed.stdout
    assert not inventory_file.exists()


def test_runner_playbooks(ansible_env: dict[str, str], collection_root: Path, tmp_path: Path) -> None:
    """build_runner_image.yml then launch_runners.yml (twice: the second changes nothing), then absent."""
    playbooks = collection_root / "playbooks"
    token = f"secret{secrets.token_hex(12)}"
    env = dict(ansible_env, RUNNER_REGISTRATION_TOKEN=token)
    names = ["-e", "runner_prefix=pb-ci", "-e", "runner_image_name=pb-jammy", "-e", "runner_network=pb-net"]
    fixture = [sys.executable, str(TARGETS_DIR / "setup_cloud" / "files" / "cloud_fixture.py"), "--cloud=stacksim"]
    try:
        built = run_playbook(playbooks / "build_runner_image.yml", env, tmp_path, *names)
        assert "Built now: there is no active image of this name yet" in built.stdout, built.stdout
        first = run_playbook(playbooks / "launch_runners.yml", env, tmp_path, *names, "-e", "runner_count=2")
        second = run_playbook(playbooks / "launch_runners.yml", env, tmp_path, *names, "-e", "runner_count=2")
        assert "changed=0" in second.stdout, second.stdout
        gone = run_playbook(playbooks / "launch_runners.yml", env, tmp_path, *names, "-e", "runner_state=absent")
        assert "Runners: []" in gone.stdout
        for proc in (built, first, second, gone):
            assert token not in proc.stdout + proc.stderr
    finally:
        subprocess.run(
            [*fixture, "down", "--prefix=pb-", "--network=pb-net"],
            env=ansible_env,
            check=True,
            timeout=PLAYBOOK_TIMEOUT,
        )
