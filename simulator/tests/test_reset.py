"""``POST /_stacksim/reset`` and ``stacksim reset``: back to the bootstrap state, nothing else kept."""

from __future__ import annotations

import subprocess
import sys

import openstack
import requests
from heat_helpers import MULTI_TIER

from stacksim.reset import SNAPSHOT_FILE
from stacksim.services.image.bootstrap import DEFAULT_IMAGE_NAME
from stacksim.testing import Simulator


def _inventory(admin) -> dict[str, set[str]]:
    """What the cloud holds, as an admin sees it (ids)."""
    return {
        "projects": {p.id for p in admin.identity.projects()},
        "users": {u.id for u in admin.identity.users()},
        "networks": {n.id for n in admin.network.networks()},
        "subnets": {s.id for s in admin.network.subnets()},
        "ports": {p.id for p in admin.network.ports()},
        "routers": {r.id for r in admin.network.routers()},
        "servers": {s.id for s in admin.compute.servers(all_projects=True)},
        "flavors": {f.id for f in admin.compute.flavors()},
        "images": {i.id for i in admin.image.images()},
        "volumes": {v.id for v in admin.block_storage.volumes(all_projects=True)},
        "stacks": {s.id for s in admin.orchestration.stacks(all_tenants=True)},
    }


def _stacksim(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "stacksim", *args], capture_output=True, text=True, timeout=120)


def test_reset_removes_everything_made_since_the_bootstrap(sim, admin, demo, key_name, roomy_demo_quota):
    before = _inventory(admin)
    assert before["servers"] == set() and before["volumes"] == set() and before["stacks"] == set()
    data_dir_files = {p for p in sim.workdir.rglob("*")}

    demo.create_stack("everything", template_file=MULTI_TIER, wait=True, key_name=key_name)
    volume = demo.block_storage.create_volume(size=1, name="extra")
    demo.image.create_image(name="mine", data=b"x" * 4096, disk_format="raw", container_format="bare")
    project = admin.identity.create_project(name="made-here", domain_id="default")
    admin.set_compute_quotas(demo.current_project_id, instances=3)
    assert _inventory(admin) != before

    done = sim.reset()
    assert done["records"] > 0 and done["files"] > 0
    assert _inventory(admin) == before  # the bootstrap records, with the same ids
    assert admin.identity.find_project(project.id) is None and demo.block_storage.find_volume(volume.id) is None
    assert [i.name for i in demo.image.images()] == [DEFAULT_IMAGE_NAME]
    assert admin.get_compute_quotas(demo.current_project_id).instances == 10
    assert {p for p in sim.workdir.rglob("*")} == data_dir_files
    # the default image's data survives; it still boots a server
    assert len(demo.image.download_image(demo.image.find_image(DEFAULT_IMAGE_NAME)).content) > 0


def test_reset_keeps_the_bootstrap_users_tokens_not_others(sim, admin, demo):
    user = admin.identity.create_user(name="temp", password="pw", default_project_id=demo.current_project_id)
    admin.identity.assign_project_role_to_user(demo.current_project_id, user, admin.identity.find_role("member"))
    temp = openstack.connect(
        auth_url=f"{sim.url}/identity",
        username="temp",
        password="pw",
        project_id=demo.current_project_id,
        user_domain_id="default",
    )
    temp_token = temp.auth_token
    demo_token = demo.auth_token
    sim.reset()
    auth = f"{sim.url}/identity/v3/auth/tokens"
    assert requests.head(auth, headers={"X-Auth-Token": demo_token, "X-Subject-Token": demo_token}).status_code == 200
    gone = requests.head(auth, headers={"X-Auth-Token": demo_token, "X-Subject-Token": temp_token})
    assert gone.status_code == 404


def test_reset_is_for_admins_only(sim, demo):
    url = f"{sim.url}/_stacksim/reset"
    unauthenticated = requests.post(url, timeout=30)
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["error"]["message"].startswith("The request you have made requires authentication")
    member = requests.post(url, headers={"X-Auth-Token": demo.auth_token}, timeout=30)
    assert member.status_code == 403
    assert member.json()["error"]["message"] == (
        "You are not authorized to perform the requested action: reset the cloud."
    )
    wrong_method = requests.get(url, headers={"X-Auth-Token": demo.auth_token}, timeout=30)
    assert wrong_method.status_code == 405


def test_stacksim_reset_command_through_the_api(sim, demo):
    demo.network.create_network(name="leftover")
    proc = _stacksim("reset", "--url", sim.url)
    assert proc.returncode == 0, proc.stderr
    assert "back to its bootstrap state" in proc.stdout
    assert demo.network.find_network("leftover") is None
    refused = _stacksim("reset", "--url", sim.url, "--password", "wrong")
    assert refused.returncode == 1 and "HTTP 401" in refused.stderr


def test_stacksim_reset_command_on_a_stopped_state_dir(tmp_path):
    state = tmp_path / "state"
    with Simulator(state_dir=state) as first:
        assert (state / SNAPSHOT_FILE).is_file()
        conn = first.connect()
        conn.network.create_network(name="leftover")
        volume = conn.block_storage.create_volume(size=1)
        assert (state / "data" / "volumes" / volume.id).exists()
    proc = _stacksim("reset", "--state-dir", str(state))
    assert proc.returncode == 0, proc.stderr
    assert not (state / "data" / "volumes" / volume.id).exists()
    with Simulator(state_dir=state, port=first.port) as second:
        conn = second.connect()
        assert conn.network.find_network("leftover") is None
        assert list(conn.block_storage.volumes()) == []
        # running now: the command goes through its API (found through the state dir)
        conn.network.create_network(name="again")
        (state / "stacksim.pid").write_text(f"{second.proc.pid}\n")
        proc = _stacksim("reset", "--state-dir", str(state))
        assert proc.returncode == 0, proc.stderr
        assert second.url in proc.stdout
        assert conn.network.find_network("again") is None
