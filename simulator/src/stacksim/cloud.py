"""One simulated cloud: its settings, its store and its services' models."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from stacksim.auth import Authenticator
from stacksim.config import Settings
from stacksim.lifecycle import Lifecycle
from stacksim.reset import Snapshot, reset
from stacksim.services.compute.bootstrap import bootstrap as compute_bootstrap
from stacksim.services.compute.model import Compute
from stacksim.services.identity.bootstrap import bootstrap
from stacksim.services.identity.model import DEFAULT_DOMAIN, Identity
from stacksim.services.image.bootstrap import bootstrap as image_bootstrap
from stacksim.services.image.model import Images
from stacksim.services.network.bootstrap import bootstrap as network_bootstrap
from stacksim.services.network.model import Networking
from stacksim.services.orchestration.model import Orchestration
from stacksim.services.registry import Service, services
from stacksim.services.volume.bootstrap import bootstrap as volume_bootstrap
from stacksim.services.volume.model import BlockStorage
from stacksim.store import Store


class Cloud:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = Store(settings.database)
        self.lifecycle = Lifecycle(self.store, default_delay=settings.delay)
        # Bulk data (image files, volumes, backups) lives on disk, never in the database.
        self._tmp_data = settings.state_dir is None
        self.data_dir = (
            settings.state_dir / "data" if settings.state_dir else Path(tempfile.mkdtemp(prefix="stacksim-data-"))
        )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.snapshot = Snapshot(self.store, self.data_dir, settings.state_dir)
        self.services: list[Service] = services()
        self.identity = Identity(self.store, token_ttl=settings.token_ttl)
        self.network = Networking(self.store)
        self.image = Images(self.store, self.lifecycle, self.data_dir)
        self.compute = Compute(self)
        self.volume = BlockStorage(self)
        self.orchestration = Orchestration(self)
        self.auth = Authenticator(self.identity, f"{settings.base_url}/identity")

    def start(self) -> None:
        """Bootstrap on first start (and keep that state for :meth:`reset`); every start, settle
        what a crash left and keep the catalog in step."""
        fresh = not self.snapshot.exists() and self.store.get("domain", DEFAULT_DOMAIN) is None
        self.bootstrap()
        if fresh:
            self.snapshot.take()

    def bootstrap(self) -> None:
        """What every start does: the first start's set-up if it is missing, then the rest."""
        bootstrap(self.identity, self.settings.bootstrap_password, self.services)
        network_bootstrap(self.network)
        image_bootstrap(self.image)
        compute_bootstrap(self.compute)
        volume_bootstrap(self.volume)
        self.orchestration.recover()

    async def reset(self) -> dict:
        """Back to the bootstrap state (see :mod:`stacksim.reset`); no API call may be under way."""
        return await reset(self)

    def close(self) -> None:
        self.lifecycle.stop()
        self.compute.close()
        self.store.close()
        if self._tmp_data:
            shutil.rmtree(self.data_dir, ignore_errors=True)
