"""Identity's smoke test with the ``openstack`` CLI as shipped: its commands and its fallbacks work.

What the CLI tests checked of Keystone itself is in test_identity_workflows.py, through the SDK.
"""

from __future__ import annotations


def test_cli_identity_smoke(cli):
    token = cli.json("token", "issue", exec=True)
    assert token["id"].startswith("gAAAAA") and token["project_id"] and token["user_id"]
    catalog = cli.json("catalog", "list")
    identity = next(s for s in catalog if s["Type"] == "identity")
    assert identity["Name"] == "keystone"
    urls = {ep["interface"]: ep["url"] for ep in identity["Endpoints"]}
    assert urls["public"] == f"{cli.sim.url}/identity"

    # As in Keystone, a member may not list all projects; the CLI then falls back to the user's own.
    assert [p["Name"] for p in cli.json("project", "list")] == ["demo"]

    # A revoked token (its id as an argument: it must never read as an option) is refused.
    cli.run("token", "revoke", token["id"])
    proc = cli.run(
        "--os-auth-type",
        "token",
        "--os-token",
        token["id"],
        "--os-auth-url",
        f"{cli.sim.url}/identity",
        "--os-project-name",
        "demo",
        "--os-project-domain-name",
        "Default",
        "--os-identity-api-version",
        "3",
        "project",
        "show",
        "demo",
        cloud=None,
        check=False,
    )
    assert proc.returncode != 0 and "401" in proc.stderr
