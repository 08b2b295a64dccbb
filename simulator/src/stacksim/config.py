"""Runtime settings of one simulator process."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

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
    public_url: str | None = None

    @property
    def bootstrap_password(self) -> str:
        return self.password or os.environ.get(PASSWORD_ENV) or DEFAULT_PASSWORD

    @property
    def password_was_set(self) -> bool:
        return bool(self.password or os.environ.get(PASSWORD_ENV))

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
