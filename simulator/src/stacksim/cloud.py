"""One simulated cloud: its settings, its store and its services' models."""

from __future__ import annotations

from stacksim.auth import Authenticator
from stacksim.config import Settings
from stacksim.services.identity.bootstrap import bootstrap
from stacksim.services.identity.model import Identity
from stacksim.services.registry import Service, services
from stacksim.store import Store


class Cloud:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = Store(settings.database)
        self.services: list[Service] = services()
        self.identity = Identity(self.store, token_ttl=settings.token_ttl)
        self.auth = Authenticator(self.identity, f"{settings.base_url}/identity")

    def start(self) -> None:
        """Bootstrap on first start; keep the catalog in step on every start."""
        bootstrap(self.identity, self.settings.bootstrap_password, self.services)

    def close(self) -> None:
        self.store.close()
