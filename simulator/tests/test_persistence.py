"""State under ``--state-dir`` survives ``kill -9`` and a restart."""

from __future__ import annotations

import os
import sqlite3

import openstack
from docker_helpers import wait_until

from stacksim.services import registry
from stacksim.services.image.bootstrap import DEFAULT_IMAGE_NAME
from stacksim.testing import Simulator


def test_state_survives_kill_9(tmp_path):
    state = tmp_path / "state"
    first = Simulator(state_dir=state).start()
    try:
        admin = first.connect("admin")
        project = admin.identity.create_project(name="p1", domain_id="default")
        user = admin.identity.create_user(name="u1", password="s3cret", default_project_id=project.id)
        member = admin.identity.find_role("member")
        admin.identity.assign_project_role_to_user(project, user, member)
        token = admin.session.get_token()
    finally:
        first.stop(kill=True)

    with Simulator(state_dir=state, port=first.port) as second:
        assert second.port == first.port
        again = openstack.connect(
            auth_url=f"{second.url}/identity",
            username="u1",
            password="s3cret",
            project_name="p1",
            user_domain_id="default",
            project_domain_id="default",
        )
        assert sorted(again.session.auth.get_access(again.session).role_names) == ["member", "reader"]
        # A token issued before the crash is still good, as a Fernet token would be.
        by_token = openstack.connect(
            auth_url=f"{second.url}/identity",
            auth_type="v3token",
            token=token,
            project_name="admin",
            project_domain_id="default",
        )
        assert by_token.identity.find_project("p1").id == project.id
        # The catalog is not duplicated by the second bootstrap.
        services = list(by_token.identity.services())
        entries = [entry for service in registry.services() for entry in service.catalog()]
        assert len(services) == len({s.type for s in services}) == len(entries)


def test_fake_instances_are_records_that_survive_kill_9(tmp_path):
    """The fake driver writes no file per server (an in-memory cloud's stop once deleted them
    all, a second per thousand servers); an older state dir's folders are still read."""
    state = tmp_path / "state"
    first = Simulator(state_dir=state, extra_args=["--delay", "0"]).start()
    try:
        demo = first.connect("demo")
        image = demo.image.find_image(DEFAULT_IMAGE_NAME)
        body = {"name": "many", "imageRef": image.id, "flavorRef": "1", "networks": "none", "min_count": 5}
        made = demo.compute.post("/servers", json={"server": body}, microversion="2.37")
        assert made.status_code == 202, made.text
        servers = wait_until(lambda: _all_active(demo, "many", 5), timeout=30, what="5 ACTIVE servers")
    finally:
        first.stop(kill=True)
    ids = {s.id for s in servers}
    names = {name for _, dirs, files in os.walk(state / "data") for name in (*dirs, *files)}
    assert not ids & names
    legacy, fresh = sorted(ids)[:2]
    with sqlite3.connect(state / "stacksim.db") as db:  # as an older stacksim left it: a folder
        db.execute("DELETE FROM records WHERE kind = 'fake_instance' AND id = ?", (legacy,))
    folder = state / "data" / "fake-instances" / legacy
    folder.mkdir(parents=True)
    (folder / "console.log").write_text("[00:00:00] an older boot\n")
    (folder / "image").write_text("")

    with Simulator(state_dir=state, extra_args=["--delay", "0"]) as second:
        demo = second.connect("demo")
        assert demo.compute.get_server_console_output(fresh)["output"].rstrip().endswith("login:")
        assert demo.compute.get_server_console_output(legacy)["output"] == "[00:00:00] an older boot\n"
        demo.compute.reboot_server(legacy, "SOFT")
        wait_until(lambda: "Restarting" in demo.compute.get_server_console_output(legacy)["output"], timeout=30)
        assert demo.compute.get_server_console_output(legacy)["output"].startswith("[00:00:00] an older boot\n")
        assert not folder.exists()


def _all_active(conn: openstack.connection.Connection, name: str, count: int) -> list | None:
    servers = [s for s in conn.compute.servers(name=name) if s.status == "ACTIVE"]
    return servers if len(servers) == count else None
