"""The Docker engine, reached lazily through the ``docker`` SDK, and this state dir's marks on it.

Everything the driver makes (containers, networks, images it loads or
commits) carries the label ``stacksim.state`` with the absolute path of the
simulator's data dir, so one host can serve several simulators and a purge
or a reconcile touches only its own. Names carry a short hash of that path
(``ss<hash>-...``): Docker bridge names must fit in 15 characters.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from stacksim.drivers.base import DriverError

STATE_LABEL = "stacksim.state"
SERVER_LABEL = "stacksim.server"
NETWORK_LABEL = "stacksim.network"
BASE_LABEL = "stacksim.base"

HOW_TO_GET_ONE = (
    "the docker compute driver needs a running Docker engine: as root, `make docker-engine` "
    "(or `apt-get install docker.io` and start `dockerd`), then try again"
)


class EngineUnavailable(DriverError):
    """No Docker engine answers (or the SDK is missing)."""


def client() -> Any:
    """A client of the local engine, checked with a ping; raises :class:`EngineUnavailable`."""
    try:
        import docker  # imported here: the fake driver never needs the SDK
    except ImportError:
        raise EngineUnavailable(
            "the Python package 'docker' is not installed (pip install docker); " + HOW_TO_GET_ONE
        ) from None
    try:
        engine = docker.from_env(timeout=120)
        engine.ping()
    except Exception as exc:  # the SDK raises DockerException, requests' errors, or OSError
        raise EngineUnavailable(f"no Docker engine answers ({exc}); {HOW_TO_GET_ONE}") from None
    return engine


def errors() -> Any:
    """The SDK's exception module (``errors.NotFound``, ``errors.APIError``)."""
    import docker.errors

    return docker.errors


def explain(exc: Exception) -> str:
    """The engine's own message of an SDK error, without the HTTP preamble."""
    explanation = getattr(exc, "explanation", None)
    if explanation:
        return explanation.decode() if isinstance(explanation, bytes) else str(explanation)
    return str(exc)


class Scope:
    """This simulator's marks on the engine: its label value and its short name prefix."""

    def __init__(self, data_dir: Path) -> None:
        self.state = str(data_dir.resolve())
        self.tag = hashlib.sha1(self.state.encode()).hexdigest()[:4]
        self.prefix = f"ss{self.tag}"

    def labels(self, **extra: str) -> dict[str, str]:
        return {STATE_LABEL: self.state, **extra}

    def filters(self, **extra: str) -> dict[str, Any]:
        wanted = [f"{STATE_LABEL}={self.state}", *(f"{k}={v}" for k, v in extra.items())]
        return {"label": wanted}

    def container_name(self, instance_id: str) -> str:
        return f"{self.prefix}-{instance_id}"

    def image_repository(self) -> str:
        """Where Glance images loaded or committed for this simulator are tagged."""
        return f"stacksim-{self.tag}/glance"


def is_root() -> bool:
    return os.geteuid() == 0


def types() -> Any:
    """The SDK's request types (``IPAMPool``, ``IPAMConfig``, ``Mount``)."""
    import docker.types

    return docker.types
