"""Runtime settings of one simulator process."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from stacksim.heat.limits import DEFAULT as HEAT

DEFAULT_PORT = 8780
#: The password of the bootstrap users (admin, demo, alt_demo) unless
#: ``--password`` or ``STACKSIM_PASSWORD`` says otherwise.
DEFAULT_PASSWORD = "stacksim"
PASSWORD_ENV = "STACKSIM_PASSWORD"


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    state_dir: Path | None = None
    compute_driver: str = "fake"
    clouds_yaml: Path | None = None
    password: str | None = None
    token_ttl: int = 3600
    #: seconds an asynchronous resource spends in each transitional state; 0 (the default):
    #: none that a client can see, its first read after a call shows the work done
    delay: float = 0.0
    #: the flavors made at the first start: ``default`` (m1.tiny ... m1.xlarge, m1.nano, m1.micro)
    #: or ``devstack`` (DevStack's: m1.tiny ... m1.xlarge, cirros256, ds512M ... ds4G)
    flavors: str = "default"
    #: serve the read-only web dashboard at ``/dashboard``
    dashboard: bool = True
    public_url: str | None = None
    #: An address of this host where instances reach the APIs (set by the docker driver:
    #: the external network's gateway); wait-condition URLs given to instances use it.
    instance_host: str | None = None
    #: the largest JSON body (bytes) of every service but Heat (oslo.middleware's sizelimit default)
    max_body_size: int = 114688
    #: seconds a connection may stay idle (no request under way) before it is closed
    idle_timeout: float = 65.0
    #: seconds a request's head and body may take to arrive, plus one per 500 bytes received
    request_timeout: float = 20.0
    #: the most client connections open at once
    max_connections: int = 1000
    #: Heat's limits (``heat.conf``'s names and defaults; see :mod:`stacksim.heat.limits`)
    heat_max_template_size: int = HEAT.max_template_size
    heat_max_json_body_size: int = HEAT.max_json_body_size
    heat_max_nested_stack_depth: int = HEAT.max_nested_stack_depth
    heat_max_resources_per_stack: int = HEAT.max_resources_per_stack
    heat_max_stacks_per_tenant: int = HEAT.max_stacks_per_tenant
    #: stacksim's own: how deeply a template's maps and lists may nest, how long a template_url may take
    heat_max_template_depth: int = HEAT.max_template_depth
    heat_template_fetch_timeout: float = HEAT.template_fetch_timeout

    def body_limit(self, service: str) -> int:
        """The largest request body the service (by catalog type) reads."""
        return self.heat_max_json_body_size if service == "orchestration" else self.max_body_size

    @property
    def bootstrap_password(self) -> str:
        return self.password or os.environ.get(PASSWORD_ENV) or DEFAULT_PASSWORD

    @property
    def base_url(self) -> str:
        """The URL clients reach us at; the catalog is built from it."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = self.host
        if host in ("0.0.0.0", "::"):
            host = "127.0.0.1" if host == "0.0.0.0" else "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def instance_url(self) -> str:
        """The URL instances reach us at (the catalog's where no driver gives them a better one)."""
        if not self.instance_host:
            return self.base_url
        return f"http://{self.instance_host}:{self.port}"

    @property
    def database(self) -> str:
        if self.state_dir is None:
            return ":memory:"
        return str(self.state_dir / "stacksim.db")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
