"""The resource types Heat knows, one module per family.

An explicit list: a family module exposes ``TYPES``, the plugin classes it
defines, and is named in :data:`FAMILIES`. A type that is a template from the
stack's ``files`` (a template resource) gets a plugin class made for that
template (see :mod:`.heat`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stacksim.heat.resources import cinder, glance, heat, neutron, nova
from stacksim.heat.resources.base import Resource

if TYPE_CHECKING:
    from stacksim.heat.stack import StackDefinition

#: The families of resource types; add a module here to add its types.
FAMILIES = (nova, neutron, cinder, glance, heat)

REGISTRY: dict[str, type[Resource]] = {cls.type_name: cls for family in FAMILIES for cls in family.TYPES}


def plugin_for(type_name: str, stack: StackDefinition) -> type[Resource] | None:
    """The plugin class for a (registry-resolved) type: built in, or a template from ``files``."""
    found = REGISTRY.get(type_name)
    if found is not None:
        return found
    if type_name in stack.files:
        return heat.template_resource(type_name, stack.files[type_name], stack.limits)
    return None
