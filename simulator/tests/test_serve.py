"""``stacksim serve``: health, discovery, loopback rule, secrets kept out of sight."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from stacksim.services import registry
from stacksim.testing import Simulator, free_port, wait_until


def _get(url: str, headers: dict | None = None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, dict(resp.headers), json.load(resp)
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.load(err)


def _password_token(url: str, user: str = "demo", password: str = "stacksim") -> tuple[int, dict, dict]:
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": user, "domain": {"id": "default"}, "password": password}},
            },
            "scope": {"project": {"name": user, "domain": {"id": "default"}}},
        }
    }
    req = urllib.request.Request(
        f"{url}/identity/v3/auth/tokens", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, dict(resp.headers), json.load(resp)
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.load(err)


def test_health_needs_no_token(sim):
    status, _, body = _get(f"{sim.url}/health")
    assert status == 200 and body["status"] == "ok"
    assert body["services"] == {s.type: "running" for s in registry.services()}
    assert {"identity", "network"} <= set(body["services"])
    assert body["compute_driver"] == "fake"


def test_version_discovery(sim):
    for path in ("/identity", "/identity/"):
        status, _, body = _get(sim.url + path)
        assert status == 300
        (version,) = body["versions"]["values"]
        assert version["id"].startswith("v3.") and version["status"] == "stable"
        assert version["links"][0]["href"] == f"{sim.url}/identity/v3/"
    for path in ("/identity/v3", "/identity/v3/"):
        status, headers, body = _get(sim.url + path)
        assert status == 200 and body["version"]["id"].startswith("v3.")
        assert headers["x-openstack-request-id"].startswith("req-")


def test_no_token_is_401_with_challenge(sim):
    status, headers, body = _get(f"{sim.url}/identity/v3/projects")
    assert status == 401
    assert body["error"]["code"] == 401 and body["error"]["title"] == "Unauthorized"
    assert headers["www-authenticate"] == f'Keystone uri="{sim.url}/identity"'
    status, _, _ = _get(f"{sim.url}/identity/v3/projects", {"X-Auth-Token": "forged-token"})
    assert status == 401


def test_unknown_path_and_method(sim):
    status, _, body = _get(f"{sim.url}/identity/v3/nothing-here")
    assert status == 404 and body["error"]["code"] == 404


def test_token_validate_head_and_revoke(sim):
    _, headers, _ = _password_token(sim.url)
    token = headers["x-subject-token"]
    auth = {"X-Auth-Token": token, "X-Subject-Token": token}
    status, headers, body = _get(f"{sim.url}/identity/v3/auth/tokens", auth)
    assert status == 200 and body["token"]["project"]["name"] == "demo"
    assert headers["x-subject-token"] == token
    req = urllib.request.Request(f"{sim.url}/identity/v3/auth/tokens", headers=auth, method="HEAD")
    assert urllib.request.urlopen(req, timeout=5).status == 200
    req = urllib.request.Request(f"{sim.url}/identity/v3/auth/tokens", headers=auth, method="DELETE")
    assert urllib.request.urlopen(req, timeout=5).status == 204
    status, _, _ = _get(f"{sim.url}/identity/v3/auth/tokens", auth)
    assert status == 401


def test_unscoped_and_domain_scoped_tokens(sim):
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": "admin", "domain": {"name": "Default"}, "password": "stacksim"}},
            },
            "scope": "unscoped",
        }
    }
    req = urllib.request.Request(
        f"{sim.url}/identity/v3/auth/tokens",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=5) as resp:
        token = json.load(resp)["token"]
    assert "project" not in token and "roles" not in token and "catalog" not in token
    body["auth"]["scope"] = {"domain": {"name": "Default"}}
    req = urllib.request.Request(
        f"{sim.url}/identity/v3/auth/tokens",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as denied:  # admin holds no role on the domain itself
        urllib.request.urlopen(req, timeout=5)
    assert denied.value.code == 401


def test_tokens_expire():
    with Simulator(extra_args=["--token-ttl", "1"]) as short:
        _, headers, _ = _password_token(short.url)
        token = headers["x-subject-token"]
        assert _get(f"{short.url}/identity/v3/auth/projects", {"X-Auth-Token": token})[0] == 200
        expired = wait_until(lambda: _get(f"{short.url}/identity/v3/auth/projects", {"X-Auth-Token": token})[0] == 401)
        assert expired


def test_password_option_and_secrets_never_stored_or_logged(tmp_path):
    state = tmp_path / "state"
    with Simulator(state_dir=state, extra_args=["--password", "Sekr1t-pw", "--log-level", "debug"]) as sim:
        assert _password_token(sim.url, password="stacksim")[0] == 401
        status, _, _ = _password_token(sim.url, password="Sekr1t-pw")
        assert status == 201
        log = sim.log.read_text()
    raw = b"".join(p.read_bytes() for p in state.iterdir() if p.is_file())
    assert b"Sekr1t-pw" not in raw
    assert "Sekr1t-pw" not in log


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10"])
def test_non_loopback_needs_a_password(host):
    proc = subprocess.run(
        [sys.executable, "-m", "stacksim", "serve", "--host", host, "--port", "1"],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 2
    assert "refusing to listen" in proc.stderr and "--password" in proc.stderr


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--password", "stacksim"], {}),
        ([], {"STACKSIM_PASSWORD": "stacksim"}),
        (["--password", "stacksim"], {"STACKSIM_PASSWORD": "other"}),
    ],
)
def test_the_default_password_is_refused_off_loopback_however_it_is_given(args, env):
    proc = subprocess.run(
        [sys.executable, "-m", "stacksim", "serve", "--host", "0.0.0.0", "--port", "1", *args],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": "/usr/bin:/bin", **env},
    )
    assert proc.returncode == 2
    assert "refusing to listen on 0.0.0.0 with the documented default password" in proc.stderr


def test_state_dir_and_secret_files_are_private_whatever_was_there(tmp_path):
    """0700 dirs and 0600 secret files, even over looser modes an earlier run (or a stale temp file) left."""
    import os
    import stat

    state = tmp_path / "state"
    (state / "data").mkdir(parents=True)
    for path in (state, state / "data"):
        path.chmod(0o755)
    (state / "stacksim.db").touch(mode=0o644)
    clouds = tmp_path / "clouds.yaml"
    for stale in (clouds, tmp_path / "clouds.tmp"):
        stale.write_text("clouds: {}\n")
        stale.chmod(0o644)
    with Simulator(state_dir=state) as sim:  # a reset writes the bootstrap snapshot again
        subprocess.run(
            [sys.executable, "-m", "stacksim", "reset", "--url", sim.url], check=True, capture_output=True, timeout=60
        )
        with Simulator(state_dir=tmp_path / "other", extra_args=["--clouds-yaml", str(clouds)]):
            pass

    def mode(path):
        return stat.S_IMODE(os.stat(path).st_mode)

    assert mode(state) == 0o700 and mode(state / "data") == 0o700
    secrets = [p for p in state.iterdir() if p.name.startswith("stacksim.db") or p.name == "bootstrap.json"]
    assert {p.name for p in secrets} >= {"stacksim.db", "bootstrap.json"}
    assert all(mode(p) == 0o600 for p in secrets), {p.name: oct(mode(p)) for p in secrets}
    assert mode(clouds) == 0o600 and "stacksim-admin" in clouds.read_text()


def test_secret_query_values_are_masked_in_the_debug_log(tmp_path):
    with Simulator(extra_args=["--log-level", "debug"]) as sim:
        _get(f"{sim.url}/identity/v3/auth/projects?token=tok-SECRET-1&limit=5&Signature=sig-SECRET-2")
        _get(f"{sim.url}/health?password=pw-SECRET-3")
        log = wait_until(lambda: "/health?password" in (text := sim.log.read_text()) and text, what="the access log")
    assert "SECRET" not in log
    assert "token=***" in log and "limit=5" in log


def test_what_start_up_made_is_kept_out_of_full_garbage_collections(tmp_path):
    """A full collection walked every object start-up made, holding the whole server (``/health``
    too) ~200 ms whenever a big request set one off: they are frozen before the server serves."""
    probe = (
        "import gc, sys, uvicorn\n"
        "def run(self, sockets=()):\n"
        "    print('frozen', gc.get_freeze_count())\n"
        "    for sock in sockets:\n"
        "        sock.close()\n"
        "uvicorn.Server.run = run\n"
        "from stacksim.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    serve = ["serve", "--port", str(free_port()), "--state-dir", str(tmp_path), "--log-level", "warning"]
    proc = subprocess.run([sys.executable, "-c", probe, *serve], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout.split("frozen")[-1]) > 0, proc.stdout
