"""First-start set-up of Compute: DevStack's flavors once, the host's records and the driver on every start."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stacksim.services.compute.model import Compute

_MARK = ("bootstrap", "compute")


def bootstrap(compute: Compute) -> None:
    """Flavors only on the first start: later starts keep whatever admins made of them."""
    store = compute.store
    with store.transaction():
        if store.get(*_MARK) is None:
            compute.flavors.create_defaults(compute.cloud.settings.flavors)
            store.put(_MARK[0], {"id": _MARK[1]})
        compute.hosts.ensure()
    compute.driver.start()  # after the other services' bootstrap: it may need the public network
