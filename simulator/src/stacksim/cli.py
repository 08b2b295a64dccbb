"""``stacksim``: serve the simulated cloud, start and stop it in the background, reset it."""

from __future__ import annotations

import argparse
import logging
import socket
import sys
from pathlib import Path

from stacksim.config import DEFAULT_PASSWORD, DEFAULT_PORT, PASSWORD_ENV, Settings, is_loopback

log = logging.getLogger("stacksim")


def _server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--state-dir", type=Path, help="keep state in SQLite here (default: in memory)")
    parser.add_argument(
        "--compute-driver",
        choices=("fake", "docker"),
        default="fake",
        help="what an instance is: a record only (fake) or a container (docker)",
    )
    parser.add_argument(
        "--clouds-yaml",
        type=Path,
        help="write or merge the clouds stacksim, stacksim-admin, stacksim-alt into this clouds.yaml",
    )
    parser.add_argument(
        "--password",
        help=f"password of the bootstrap users admin, demo and alt_demo "
        f"(default: ${PASSWORD_ENV}, else '{DEFAULT_PASSWORD}')",
    )
    parser.add_argument("--token-ttl", type=int, default=3600, help="token lifetime in seconds (default 3600)")
    parser.add_argument("--public-url", help="base URL for the catalog (default: http://HOST:PORT)")
    parser.add_argument(
        "--delay",
        type=float,
        default=0.0,
        help="seconds a resource spends in each transitional state, e.g. BUILD, in real time "
        "(default 0: a client's first read after a call sees the work done)",
    )


def _settings(args: argparse.Namespace) -> Settings:
    return Settings(
        host=args.host,
        port=args.port,
        state_dir=args.state_dir,
        compute_driver=args.compute_driver,
        clouds_yaml=args.clouds_yaml,
        password=args.password,
        token_ttl=args.token_ttl,
        public_url=args.public_url,
        delay=args.delay,
    )


def _check(settings: Settings) -> str | None:
    """Why these settings must not be served, if they must not."""
    if not is_loopback(settings.host) and not settings.password_was_set:
        return (
            f"refusing to listen on {settings.host} with the documented default password; "
            f"set --password or ${PASSWORD_ENV}"
        )
    if settings.compute_driver == "docker":
        from stacksim.drivers.docker import check

        return check()
    if settings.token_ttl <= 0:
        return "--token-ttl must be a positive number of seconds"
    if settings.delay < 0:
        return "--delay must not be negative"
    return None


def _checked_settings(args: argparse.Namespace) -> Settings | None:
    """The settings, or None (after saying why) if they must not be served."""
    settings = _settings(args)
    problem = _check(settings)
    if problem:
        print(f"stacksim: {problem}", file=sys.stderr)
        return None
    return settings


def serve(args: argparse.Namespace) -> int:
    settings = _checked_settings(args)
    if settings is None:
        return 2
    import uvicorn

    from stacksim.app import create_app
    from stacksim.clouds import write_clouds_yaml

    app = create_app(settings)
    if settings.state_dir is not None:
        from stacksim.control import URL_FILE

        (settings.state_dir / URL_FILE).write_text(f"{settings.base_url}\n")
    if settings.clouds_yaml:
        write_clouds_yaml(settings.clouds_yaml, f"{settings.base_url}/identity", settings.bootstrap_password)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=args.log_level,
        access_log=args.log_level == "debug",
        lifespan="on",
        # Longer than the clients' polling intervals (heatclient and the SDK poll every
        # 5 s): with uvicorn's default of 5 s a poll could race the server closing an idle
        # keep-alive connection and fail with "connection reset".
        timeout_keep_alive=65,
    )
    # The docker driver's instances reach the APIs at the external network's gateway
    # (an address on a host bridge that only this host routes to, guarded by iptables),
    # so the simulator listens there too; the catalog stays on --host.
    hosts = [settings.host] + [h for h in [settings.instance_host] if h and h != settings.host]
    sockets = [_listen(host, settings.port) for host in hosts]
    uvicorn.Server(config).run(sockets=sockets)
    return 0


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def _forward(args: argparse.Namespace) -> list[str]:
    """The ``serve`` arguments that reproduce these options."""
    out = [
        "--host",
        args.host,
        "--port",
        str(args.port),
        "--state-dir",
        str(args.state_dir),
        "--compute-driver",
        args.compute_driver,
        "--token-ttl",
        str(args.token_ttl),
        "--delay",
        str(args.delay),
        "--log-level",
        args.log_level,
    ]
    if args.clouds_yaml:
        out += ["--clouds-yaml", str(args.clouds_yaml)]
    if args.public_url:
        out += ["--public-url", args.public_url]
    return out


def start(args: argparse.Namespace) -> int:
    from stacksim import control

    settings = _checked_settings(args)
    if settings is None:
        return 2
    state_dir: Path = args.state_dir
    state_dir.mkdir(parents=True, exist_ok=True)
    url = settings.base_url
    pid = control.read_pid(state_dir)
    if pid and control.healthy(url):
        if settings.clouds_yaml:
            from stacksim.clouds import write_clouds_yaml

            write_clouds_yaml(settings.clouds_yaml, f"{url}/identity", settings.bootstrap_password)
        print(f"stacksim is already running (pid {pid}) at {url}")
        return 0
    if pid:
        print(f"stacksim (pid {pid}) is not answering; restarting it")
        control.terminate(pid)
    env_password = args.password  # passed by environment so it never shows in `ps`
    if env_password:
        import os

        os.environ["STACKSIM_PASSWORD"] = env_password
    proc = control.spawn(_forward(args), log=state_dir / control.LOG_FILE)
    (state_dir / control.PID_FILE).write_text(f"{proc.pid}\n")
    try:
        control.wait_healthy(url, proc)
    except (RuntimeError, TimeoutError) as exc:
        print(f"stacksim: {exc}; see {state_dir / control.LOG_FILE}", file=sys.stderr)
        return 1
    print(f"stacksim started (pid {proc.pid}) at {url}, state in {state_dir}")
    return 0


def stop(args: argparse.Namespace) -> int:
    from stacksim import control

    pid = control.read_pid(args.state_dir)
    if pid is None:
        print("stacksim is not running")
    else:
        control.terminate(pid)
        (args.state_dir / control.PID_FILE).unlink(missing_ok=True)
        print(f"stacksim (pid {pid}) stopped")
    if args.purge:
        return _purge(args.state_dir)
    return 0


def _purge(state_dir: Path) -> int:
    """Remove the Docker driver's containers, networks and images of this state dir."""
    from stacksim.drivers.base import DriverError
    from stacksim.drivers.docker import engine, purge

    try:
        client = engine.client()
    except DriverError:
        print("no Docker engine answers: nothing of the docker driver to remove")
        return 0
    counts = purge(client, state_dir / "data")
    print("removed " + ", ".join(f"{n} {what}" for what, n in counts.items()) + f" of {state_dir}")
    return 0


def images(args: argparse.Namespace) -> int:
    """``stacksim images build|list``: the docker driver's base image, and what images the engine holds."""
    from stacksim.drivers.base import DriverError
    from stacksim.drivers.docker import baseimage, engine

    try:
        client = engine.client()
        if args.action == "build":
            built = baseimage.ensure(client, mirror=args.mirror, force=args.force)
            how = "found (cached)" if built.cached else "built"
            print(f"{built.reference} {how} in {built.seconds:.1f} s, {built.size / 2**20:.0f} MiB")
            return 0
        rows = baseimage.listing(client)
    except DriverError as exc:
        print(f"stacksim: {exc}", file=sys.stderr)
        return 1
    if not rows:
        print("no stacksim images; `stacksim images build` makes the base image")
    for row in rows:
        print(f"{', '.join(row['tags'])}  {row['id']}  {row['size'] / 2**20:.0f} MiB  {row['role']}")
    return 0


def reset(args: argparse.Namespace) -> int:
    """Back to the bootstrap state: through the API of a running simulator, or in its state dir."""
    from stacksim import control

    password = args.password or Settings().bootstrap_password
    url = args.url
    if url is None:
        pid = control.read_pid(args.state_dir)
        url_file = args.state_dir / control.URL_FILE
        if pid is not None:
            if not url_file.exists() or not control.healthy(url := url_file.read_text().strip()):
                print(f"stacksim: stacksim (pid {pid}) is not answering; stop it first", file=sys.stderr)
                return 1
        else:
            return _reset_state_dir(args.state_dir)
    url = url.rstrip("/")
    try:
        done = control.reset(url, control.admin_token(url, password))
    except control.ControlError as exc:
        print(f"stacksim: {exc}", file=sys.stderr)
        return 1
    print(f"stacksim at {url} is back to its bootstrap state ({_summary(done)})")
    return 0


def _reset_state_dir(state_dir: Path) -> int:
    from stacksim.reset import NoSnapshot, Snapshot
    from stacksim.store import Store

    settings = Settings(state_dir=state_dir)
    if not Path(settings.database).exists():
        print(f"stacksim: there is no cloud in {state_dir} to reset", file=sys.stderr)
        return 1
    store = Store(settings.database)
    try:
        done = Snapshot(store, state_dir / "data", state_dir).restore()
    except NoSnapshot as exc:
        print(f"stacksim: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"the cloud in {state_dir} is back to its bootstrap state ({_summary(done)})")
    return 0


def _summary(done: dict) -> str:
    return f"{done.get('records', 0)} records and {done.get('files', 0)} files removed"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stacksim", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_serve = sub.add_parser("serve", help="serve the cloud in the foreground")
    _server_options(p_serve)
    p_start = sub.add_parser("start", help="serve in the background (reuses a running one)")
    _server_options(p_start)
    p_start.set_defaults(state_dir=Path(".stacksim"))
    p_stop = sub.add_parser("stop", help="stop a background simulator")
    p_stop.add_argument("--state-dir", type=Path, default=Path(".stacksim"))
    p_reset = sub.add_parser(
        "reset",
        help="back to the bootstrap state (a running simulator through its API, else its state dir)",
    )
    where = p_reset.add_mutually_exclusive_group()
    where.add_argument("--state-dir", type=Path, default=Path(".stacksim"), help="default .stacksim")
    where.add_argument("--url", help="the simulator's URL, e.g. http://127.0.0.1:8780")
    p_reset.add_argument(
        "--password", help=f"the admin user's password (default: ${PASSWORD_ENV}, else '{DEFAULT_PASSWORD}')"
    )
    p_stop.add_argument(
        "--purge",
        action="store_true",
        help="also remove the docker driver's containers, networks and images of this state dir",
    )
    p_images = sub.add_parser("images", help="the docker driver's images: build the base image, list them")
    p_images.add_argument("action", choices=("build", "list"))
    p_images.add_argument("--mirror", help="Debian mirror for the base image (default: the one apt uses)")
    p_images.add_argument("--force", action="store_true", help="build again even if the image is there")
    for p in (p_serve, p_start):
        p.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
    args = parser.parse_args(argv)
    return {"serve": serve, "start": start, "stop": stop, "images": images, "reset": reset}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
