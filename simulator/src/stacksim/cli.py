"""``stacksim``: serve the simulated cloud, start and stop it in the background, reset it."""

from __future__ import annotations

import argparse
import gc
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
    parser.add_argument(
        "--flavors",
        choices=("default", "devstack"),
        default="default",
        help="the flavors made at the first start: default (m1.tiny ... m1.xlarge, m1.nano, m1.micro) or "
        "devstack (DevStack's: m1.tiny ... m1.xlarge, cirros256, ds512M, ds1G, ds2G, ds4G)",
    )
    parser.add_argument(
        "--no-dashboard",
        dest="dashboard",
        action="store_false",
        help="do not serve the read-only web dashboard at /dashboard (default: served)",
    )
    limits = parser.add_argument_group("limits (defaults: the real services')")
    defaults = Settings()
    for flag, field, kind, text in LIMITS:
        default = getattr(defaults, field)
        metavar = "SECONDS" if kind is float else "N"
        limits.add_argument(
            flag, dest=field, type=kind, default=default, metavar=metavar, help=f"{text} (default {default})"
        )


#: the limit options: flag, Settings field, type, what it limits (``start`` forwards them to ``serve``)
LIMITS: tuple[tuple[str, str, type, str], ...] = (
    ("--max-body-size", "max_body_size", int, "largest JSON body in bytes, every service but Heat; larger: 413"),
    ("--idle-timeout", "idle_timeout", float, "seconds a client connection may idle before it is closed"),
    ("--request-timeout", "request_timeout", float, "seconds a request may take to arrive, plus 1 per 500 bytes"),
    ("--max-connections", "max_connections", int, "most client connections open at once (then the idlest goes)"),
    ("--max-json-body-size", "heat_max_json_body_size", int, "Heat: largest request body in bytes"),
    ("--max-template-size", "heat_max_template_size", int, "Heat: largest template in bytes"),
    ("--max-nested-stack-depth", "heat_max_nested_stack_depth", int, "Heat: deepest nesting of stacks"),
    ("--max-resources-per-stack", "heat_max_resources_per_stack", int, "Heat: most resources in a stack, -1: any"),
    ("--max-stacks-per-tenant", "heat_max_stacks_per_tenant", int, "Heat: most stacks in a project, -1: any"),
    ("--max-template-depth", "heat_max_template_depth", int, "Heat: deepest nesting of a template's maps and lists"),
    ("--template-fetch-timeout", "heat_template_fetch_timeout", float, "Heat: seconds a template_url may take"),
)
#: limits where -1 means none
UNLIMITED_OK = ("heat_max_resources_per_stack", "heat_max_stacks_per_tenant")


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
        flavors=args.flavors,
        dashboard=args.dashboard,
        **{field: getattr(args, field) for _, field, _, _ in LIMITS},
    )


def _check(settings: Settings) -> str | None:
    """Why these settings must not be served, if they must not."""
    if not is_loopback(settings.host) and settings.bootstrap_password == DEFAULT_PASSWORD:
        return (
            f"refusing to listen on {settings.host} with the documented default password; "
            f"give another one with --password or ${PASSWORD_ENV}"
        )
    if settings.token_ttl <= 0:
        return "--token-ttl must be a positive number of seconds"
    if settings.delay < 0:
        return "--delay must not be negative"
    for flag, field, _, _ in LIMITS:
        value = getattr(settings, field)
        if value <= 0 and not (field in UNLIMITED_OK and value == -1):
            return f"{flag} must be a positive number" + (" or -1" if field in UNLIMITED_OK else "")
    if settings.compute_driver == "docker":
        from stacksim.drivers.docker import check

        return check()
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
    from stacksim.connections import BACKLOG, MAX_HEAD, Guard, connection_cap
    from stacksim.logs import mask_access_log

    if settings.state_dir is not None:
        from stacksim.private import private_state_dir

        private_state_dir(settings.state_dir, settings.database)
    app = create_app(settings)
    if settings.state_dir is not None:
        from stacksim.control import URL_FILE

        (settings.state_dir / URL_FILE).write_text(f"{settings.base_url}\n")
    if settings.clouds_yaml:
        write_clouds_yaml(settings.clouds_yaml, f"{settings.base_url}/identity", settings.bootstrap_password)
    cap = connection_cap(settings.max_connections)
    if cap < settings.max_connections:
        log.warning("the open-file limit allows %d client connections, not %d", cap, settings.max_connections)
    guard = Guard(settings.idle_timeout, settings.request_timeout, cap)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=args.log_level,
        access_log=args.log_level == "debug",
        lifespan="on",
        http=guard.protocol(),
        h11_max_incomplete_event_size=MAX_HEAD,  # the head limit under h11 (the guard's own under httptools)
        backlog=BACKLOG,
        # The default idle timeout (65 s) is longer than the clients' polling intervals
        # (heatclient and the SDK poll every 5 s): with uvicorn's default of 5 s a poll
        # could race the server closing an idle keep-alive connection and fail with
        # "connection reset". The guard closes idle connections too, and half-sent ones.
        timeout_keep_alive=max(1, round(settings.idle_timeout)),
    )
    mask_access_log()
    # The docker driver's instances reach the APIs at the external network's gateway
    # (an address on a host bridge that only this host routes to, guarded by iptables),
    # so the simulator listens there too; the catalog stays on --host.
    hosts = [settings.host] + [h for h in [settings.instance_host] if h and h != settings.host]
    sockets = [_listen(host, settings.port) for host in hosts]
    settle_garbage_collector()
    uvicorn.Server(config).run(sockets=sockets)
    return 0


#: young objects allocated before the collector looks at them (Python's default: 700)
GC_YOUNG_THRESHOLD = 20_000


def settle_garbage_collector() -> None:
    """Keep the cycle collector off what start-up made, and make it look less often.

    A list of 100 servers builds tens of thousands of short-lived objects; with the defaults
    the collector ran several times a request and its full passes walked every object the
    imports and the app had made (a fifth of a listing's CPU time). Those are frozen, for
    the life of the process; request objects are freed by their reference counts as before,
    and cycles still are collected, only in bigger batches.
    """
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, older, oldest)


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # Naming the protocol lets asyncio turn Nagle's algorithm off on the connections (it only
    # does for IPPROTO_TCP sockets): else each response's body waits ~40 ms for an ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
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
        "--flavors",
        args.flavors,
        "--log-level",
        args.log_level,
    ]
    if args.clouds_yaml:
        out += ["--clouds-yaml", str(args.clouds_yaml)]
    if args.public_url:
        out += ["--public-url", args.public_url]
    if not args.dashboard:
        out.append("--no-dashboard")
    for flag, field, _, _ in LIMITS:
        out += [flag, str(getattr(args, field))]
    return out


def start(args: argparse.Namespace) -> int:
    from stacksim import control
    from stacksim.private import private_dir

    settings = _checked_settings(args)
    if settings is None:
        return 2
    state_dir: Path = args.state_dir
    private_dir(state_dir)
    url = settings.base_url
    pid = control.read_pid(state_dir)
    running = control.health(url) if pid else None
    if running is not None:
        if settings.clouds_yaml:
            from stacksim.clouds import write_clouds_yaml

            write_clouds_yaml(settings.clouds_yaml, f"{url}/identity", settings.bootstrap_password)
        driver = running.get("compute_driver", "?")
        print(f"stacksim is already running (pid {pid}) at {url}, compute driver {driver}")
        if driver != settings.compute_driver:
            print(
                f"  (not {settings.compute_driver}: stop it first, `stacksim stop --state-dir {state_dir}`, to change)"
            )
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


def _running_url(args: argparse.Namespace) -> str | None:
    """The URL of the simulator ``--url`` names or that serves ``--state-dir`` (None: none runs there).

    ControlError if one runs there but does not answer.
    """
    from stacksim import control

    if args.url is not None:
        return args.url.rstrip("/")
    pid = control.read_pid(args.state_dir)
    if pid is None:
        return None
    url_file = args.state_dir / control.URL_FILE
    if not url_file.exists() or not control.healthy(url := url_file.read_text().strip()):
        raise control.ControlError(f"stacksim (pid {pid}) is not answering; stop it first")
    return url


def reset(args: argparse.Namespace) -> int:
    """Back to the bootstrap state: through the API of a running simulator, or in its state dir."""
    from stacksim import control

    password = args.password or Settings().bootstrap_password
    try:
        url = _running_url(args)
        if url is None:
            return _reset_state_dir(args.state_dir)
        done = control.reset(url, control.admin_token(url, password))
    except control.ControlError as exc:
        print(f"stacksim: {exc}", file=sys.stderr)
        return 1
    print(f"stacksim at {url} is back to its bootstrap state ({_summary(done)})")
    return 0


def faults(args: argparse.Namespace) -> int:
    """``stacksim faults list|add|hold|delete|clear``: the faults a running simulator injects."""
    import json

    from stacksim import control

    password = args.password or Settings().bootstrap_password
    try:
        url = _running_url(args)
        if url is None:
            raise control.ControlError(f"no stacksim runs in {args.state_dir}; give --url or --state-dir")
        token = control.admin_token(url, password)
        if args.action == "list":
            # only here: it comes with the server's web stack, which the other actions do without
            from stacksim.fault_injection import dumps

            found = control.faults(url, token, "GET")["faults"]
            for fault in found:
                print(dumps(fault))
            if not found:
                print("no faults")
        elif args.action in ("add", "hold"):
            spec = {k: v for k, v in vars(args).items() if k in _FAULT_FIELDS and v is not None}
            if args.action == "add" and args.body is not None:
                spec["body"] = json.loads(args.body)
            if getattr(args, "always", False):
                spec["count"] = None
            fault = control.faults(url, token, "POST", {"fault": spec})["fault"]
            print(fault["id"])
        elif args.action == "delete":
            for fault_id in args.ids:
                control.faults(url, token, "DELETE", path=f"/{fault_id}")
                print(f"removed {fault_id}")
        else:
            removed = control.faults(url, token, "DELETE")["removed"]
            print(f"removed {removed} fault(s)")
    except control.ControlError as exc:
        print(f"stacksim: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"stacksim: --body is no JSON: {exc}", file=sys.stderr)
        return 2
    return 0


_FAULT_FIELDS = ("service", "method", "path", "status", "message", "latency", "count", "seconds", "job", "target")


def _faults_parser(sub: argparse._SubParsersAction) -> None:
    p_faults = sub.add_parser("faults", help="inject faults into a running simulator: errors, latency, holds")
    actions = p_faults.add_subparsers(dest="action", required=True)
    p_list = actions.add_parser("list", help="the faults in force")
    p_add = actions.add_parser("add", help="make calls fail (--status) or slow (--latency)")
    p_add.add_argument("--service", help="catalog type or mount, e.g. compute, volume (default: any)")
    p_add.add_argument("--method", help="HTTP method (default: any)")
    p_add.add_argument("--path", help="path below the service's mount, with * and ** globs (default: any)")
    p_add.add_argument("--status", type=int, help="answer with this status (400-599)")
    p_add.add_argument("--message", help="the error message, in the service's error body")
    p_add.add_argument("--body", help="the whole response body, as JSON, instead of the service's error body")
    p_add.add_argument("--latency", type=float, help="seconds each matching call waits first")
    p_hold = actions.add_parser("hold", help="keep resources in their transitional state (hold their jobs)")
    p_hold.add_argument("--job", required=True, help="job name or glob, e.g. server.build, volume.*")
    p_hold.add_argument("--target", help="only the jobs of this resource id")
    for p in (p_add, p_hold):
        how_many = p.add_mutually_exclusive_group()
        how_many.add_argument("--count", type=int, help="how many calls (or jobs) it catches (default 1)")
        how_many.add_argument("--always", action="store_true", help="catch every one until removed")
        p.add_argument("--seconds", type=float, help="remove the fault after this many seconds")
    p_delete = actions.add_parser("delete", help="remove faults (a hold lets its jobs run)")
    p_delete.add_argument("ids", nargs="+")
    p_clear = actions.add_parser("clear", help="remove every fault")
    for p in (p_list, p_add, p_hold, p_delete, p_clear):
        where = p.add_mutually_exclusive_group()
        where.add_argument("--state-dir", type=Path, default=Path(".stacksim"), help="default .stacksim")
        where.add_argument("--url", help="the simulator's URL, e.g. http://127.0.0.1:8780")
        p.add_argument(
            "--password", help=f"the admin user's password (default: ${PASSWORD_ENV}, else '{DEFAULT_PASSWORD}')"
        )


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
    _faults_parser(sub)
    for p in (p_serve, p_start):
        p.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
    args = parser.parse_args(argv)
    commands = {"serve": serve, "start": start, "stop": stop, "images": images, "reset": reset, "faults": faults}
    return commands[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
