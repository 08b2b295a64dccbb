"""State under ``--state-dir`` survives ``kill -9`` and a restart."""

from __future__ import annotations

import openstack

from stacksim.services import registry
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
