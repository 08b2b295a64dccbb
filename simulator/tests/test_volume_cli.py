"""Block Storage's smoke test with the ``openstack`` CLI as shipped (the workflows themselves are in
test_volume_workflows.py, through the API): the CLI's commands, options and error output work."""

from __future__ import annotations

from volume_helpers import unique

DELETE_REFUSED = (
    "Invalid volume: Volume status must be available or error or error_restoring or error_extending or "
    "error_managing and must not be migrating, attached, belong to a group, have snapshots or be "
    "disassociated from snapshots after volume transfer."
)


def test_cli_volume_smoke(cli, demo):
    v1 = unique("v1")
    created = cli.json("volume", "create", "--size", "2", "--property", "team=blue", v1, exec=True)
    assert created["size"] == 2 and created["name"] == v1
    cli.run("volume", "set", "--size", "4", v1)
    shown = cli.json("volume", "show", v1)  # available, and extended, on the first read
    assert shown["status"] == "available" and shown["size"] == 4 and shown["type"] == "__DEFAULT__"
    assert shown["bootable"] is False and shown["properties"] == {"team": "blue"}
    demo.block_storage.create_snapshot(volume_id=shown["id"])
    refused = cli.run("volume", "delete", v1, check=False)
    assert refused.returncode != 0 and DELETE_REFUSED in refused.stderr
    cli.run("volume", "delete", "--cascade", v1)
    gone = cli.run("volume", "show", v1, check=False)
    assert gone.returncode != 0 and f"No Volume found for {v1}" in gone.stderr
