"""First-start set-up of Block Storage: ``__DEFAULT__`` once; every start settles jobs a crash cut off."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stacksim.services.volume.model import BlockStorage


def bootstrap(volume: BlockStorage) -> None:
    volume.bootstrap()
