"""The foundation issue's checks, with the ``openstack`` CLI as shipped."""

from __future__ import annotations

import uuid

import yaml


def test_token_and_catalog(cli):
    token = cli.json("token", "issue")
    assert token["id"] and token["project_id"] and token["user_id"]
    catalog = cli.json("catalog", "list")
    identity = next(s for s in catalog if s["Type"] == "identity")
    assert identity["Name"] == "keystone"
    urls = {ep["interface"]: ep["url"] for ep in identity["Endpoints"]}
    assert urls["public"] == f"{cli.sim.url}/identity"


def test_project_user_role_and_app_credential(cli, sim, tmp_path):
    p, u = f"p1-{uuid.uuid4().hex[:6]}", f"u1-{uuid.uuid4().hex[:6]}"
    project = cli.json("project", "create", p, cloud="stacksim-admin")
    assert project["name"] == p and project["domain_id"] == "default"
    user = cli.json("user", "create", "--project", p, "--password", "s3cret", u, cloud="stacksim-admin")
    assert user["default_project_id"] == project["id"]
    assert "password" not in user
    cli.run("role", "add", "--user", u, "--project", p, "member", cloud="stacksim-admin")
    rows = cli.json("role", "assignment", "list", "--user", u, "--project", p, "--names", cloud="stacksim-admin")
    assert [r["Role"] for r in rows] == ["member"]

    # The new user can log in with its password, scoped to its project.
    env_cloud = {
        "auth_url": f"{sim.url}/identity",
        "username": u,
        "password": "s3cret",
        "project_name": p,
        "user_domain_name": "Default",
        "project_domain_name": "Default",
    }
    extra = yaml.safe_load(sim.clouds_yaml.read_text())
    extra["clouds"]["u1"] = {"auth": env_cloud, "identity_api_version": 3}

    cred = cli.json("application", "credential", "create", f"ac1-{u}")
    assert cred["Secret"] and cred["Project ID"]
    extra["clouds"]["appcred"] = {
        "auth_type": "v3applicationcredential",
        "auth": {
            "auth_url": f"{sim.url}/identity",
            "application_credential_id": cred["ID"],
            "application_credential_secret": cred["Secret"],
        },
        "identity_api_version": 3,
    }
    sim.clouds_yaml.write_text(yaml.safe_dump(extra))
    assert cli.json("token", "issue", cloud="u1")["project_id"] == project["id"]
    via_cred = cli.json("token", "issue", cloud="appcred")
    assert via_cred["project_id"] == cred["Project ID"]

    listed = cli.json("application", "credential", "list")
    assert cred["ID"] in [c["ID"] for c in listed]
    cli.run("application", "credential", "delete", cred["ID"])
    failed = cli.run("token", "issue", cloud="appcred", check=False)
    assert failed.returncode != 0 and "401" in failed.stderr


def test_wrong_password_is_401(cli):
    proc = cli.run("--os-password", "wrong", "token", "issue", check=False)
    assert proc.returncode != 0
    assert "HTTP 401" in proc.stderr and "requires authentication" in proc.stderr


def test_member_cannot_create_project(cli):
    proc = cli.run("project", "create", "x", check=False)
    assert proc.returncode != 0
    assert "403" in proc.stderr and "identity:create_project" in proc.stderr


def test_revoked_token_is_401(cli):
    token = cli.json("token", "issue")["id"]
    cli.run("token", "revoke", token)
    proc = cli.run(
        "--os-auth-type",
        "token",
        "--os-token",
        token,
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
    assert proc.returncode != 0
    assert "401" in proc.stderr


def test_admin_lists_and_member_shows_own_project(cli):
    names = {p["Name"] for p in cli.json("project", "list", cloud="stacksim-admin")}
    assert {"admin", "demo", "alt_demo"} <= names
    # As in Keystone, a member may show its own project by id but not list all
    # projects; the CLI then falls back to the user's own projects.
    own = cli.json("token", "issue")["project_id"]
    assert cli.json("project", "show", own)["name"] == "demo"
    assert [p["Name"] for p in cli.json("project", "list")] == ["demo"]
    mine = cli.json("project", "list", "--my-projects")
    assert [p["Name"] for p in mine] == ["demo"]
