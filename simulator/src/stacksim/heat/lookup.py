"""Finding the cloud's things by name or id, as Heat's client plugins do.

Heat lets a template name a flavor, image, key pair, network ... by name or
id; these helpers resolve such a reference through the services' models with
the stack owner's rights, and fail with the message Heat's plugin gives
(``The Image (x) could not be found.``, ``Unable to find network with name or
id 'x'``). Custom constraints (``glance.image`` ...) are these lookups too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from stacksim import faults
from stacksim.auth import Context

if TYPE_CHECKING:
    from stacksim.cloud import Cloud


class NotFound(ValueError):
    """The reference names nothing (or more than one thing) the owner may use."""


def _unique(found: list[dict[str, Any]], ref: str, entity: str) -> dict[str, Any]:
    if len(found) > 1:
        raise NotFound(f"Multiple physical resources were found with name ({ref}).")
    if not found:
        raise NotFound(f"The {entity} ({ref}) could not be found.")
    return found[0]


def flavor(cloud: Cloud, ctx: Context, ref: Any) -> dict[str, Any]:
    ref = str(ref)
    try:
        return cloud.compute.find_flavor(ctx, ref)  # flavor names are unique in Nova
    except faults.NotFound:
        raise NotFound(f"The Flavor ({ref}) could not be found.") from None


def image(cloud: Cloud, ctx: Context, ref: Any) -> dict[str, Any]:
    ref = str(ref)
    images = cloud.image
    try:
        return images.get(ctx, ref)
    except faults.NotFound:
        pass
    found = [i for i in images.listable(ctx, "all", "all") if i.get("name") == ref]
    return _unique(found, ref, "Image")


def keypair(cloud: Cloud, ctx: Context, name: Any) -> dict[str, Any]:
    try:
        return cloud.compute.keypair(ctx, str(name))
    except faults.NotFound:
        raise NotFound(f"The Key ({name}) could not be found.") from None


#: a Neutron resource kind -> (one by id, those with a name) through the Networking facade
def _networking(cloud: Cloud, kind: str) -> tuple[Callable[..., dict[str, Any]], Callable[..., list[dict[str, Any]]]]:
    net = cloud.network
    if kind == "network":
        return net.network, net.networks
    if kind == "subnet":
        return net.subnet, net.subnets
    if kind == "port":
        return net.port, net.ports
    if kind == "router":
        return net.l3.router, net.l3.routers
    return net.security.group, net.security.groups


def _neutron(cloud: Cloud, ctx: Context, kind: str, label: str, ref: Any) -> dict[str, Any]:
    ref = str(ref)
    one, named = _networking(cloud, kind)
    try:
        return one(ctx, ref)
    except faults.NotFound:
        pass
    found = named(ctx, {"name": [ref]})
    if len(found) > 1:
        raise NotFound(f"Multiple {label} matches found for name '{ref}', use an ID to be more specific.")
    if not found:
        raise NotFound(f"Unable to find {label} with name or id '{ref}'")
    return found[0]


def network(cloud: Cloud, ctx: Context, ref: Any) -> dict[str, Any]:
    return _neutron(cloud, ctx, "network", "network", ref)


def subnet(cloud: Cloud, ctx: Context, ref: Any) -> dict[str, Any]:
    return _neutron(cloud, ctx, "subnet", "subnet", ref)


def port(cloud: Cloud, ctx: Context, ref: Any) -> dict[str, Any]:
    return _neutron(cloud, ctx, "port", "port", ref)


def router(cloud: Cloud, ctx: Context, ref: Any) -> dict[str, Any]:
    return _neutron(cloud, ctx, "router", "router", ref)


def security_group(cloud: Cloud, ctx: Context, ref: Any) -> dict[str, Any]:
    return _neutron(cloud, ctx, "security_group", "security_group", ref)


def volume(cloud: Cloud, ctx: Context, ref: Any) -> dict[str, Any]:
    """A Cinder volume by id or name, through the block-storage facade."""
    ref = str(ref)
    try:
        return cloud.volume.get(ctx, ref)
    except faults.NotFound:
        pass
    volumes = cloud.volume.volumes.list(ctx, all_projects=ctx.is_admin)
    return _unique([v for v in volumes if v.get("name") == ref], ref, "Volume")


#: Heat's custom constraints: name -> lookup (a failed lookup is a failed constraint).
CUSTOM = {
    "nova.flavor": flavor,
    "nova.keypair": keypair,
    "glance.image": image,
    "neutron.network": network,
    "neutron.subnet": subnet,
    "neutron.port": port,
    "neutron.router": router,
    "neutron.security_group": security_group,
    "cinder.volume": volume,
}


class CloudChecker:
    """Checks custom constraints against the cloud, with a stack owner's rights."""

    def __init__(self, cloud: Cloud, ctx: Context) -> None:
        self.cloud = cloud
        self.ctx = ctx

    def __call__(self, name: str, value: Any) -> None:
        lookup = CUSTOM.get(name)
        if lookup is None:
            raise ValueError(f'"{value}" does not validate {name} (constraint not found)')
        try:
            lookup(self.cloud, self.ctx, value)
        except NotFound as exc:
            raise ValueError(f"Error validating value '{value}': {exc}") from None
