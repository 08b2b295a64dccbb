# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Sandbox topology definitions (the CyberRangeCZ/KYPO ``topology.yml`` format), private to the collection.

``load_topology`` reads a parsed topology file into a ``Topology`` and lists every
structural problem it finds (a missing field, a value of the wrong type) instead of
stopping at the first, so ``_topology_checks`` can add the semantic ones and report
them all in one run.

The format, as CyberRangeCZ's ``topology-definition`` package reads it:

- ``name``; ``hosts`` and ``routers`` (router hosts), each with ``name``, ``base_box``
  (``image``, ``mgmt_user``, ``mgmt_protocol`` ``ssh`` or ``winrm``), ``flavor``,
  ``hidden``, ``extra``; hosts also ``block_internet`` and ``volumes`` (the first is the
  system disk: ``size``, optional ``image``).
- ``wan`` (``name``, ``cidr``; default ``wan`` ``100.100.100.0/24``): the network between
  the router hosts and the management node.
- ``networks`` (``name``, ``cidr``, ``accessible_by_user`` default true, ``hidden``),
  ``net_mappings`` (``host``, ``network``, ``ip``), ``router_mappings`` (``router``,
  ``network``, ``ip``) and ``groups`` (``name``, ``nodes``).
- Older files still work: ``man_user`` and ``mng_protocol`` are the old names of
  ``mgmt_user`` and ``mgmt_protocol``; ``provider: OpenStack`` and a router's ``cidr``
  are accepted and not needed.

One extension of ours: ``user_access`` (default true) says whether the sandbox gets a
user access node. ``monitoring_targets`` and ``vpn`` are accepted and not deployed (a
warning says so).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from ansible.module_utils.parsing.convert_bool import boolean

DEFAULT_MGMT_USER = "debian"
DEFAULT_WAN_NAME = "wan"
DEFAULT_WAN_CIDR = "100.100.100.0/24"
PROTOCOLS = ("ssh", "winrm")

# Keys read from each element; legacy ones are accepted and not used.
_TOP_KEYS = {"name", "hosts", "routers", "wan", "networks", "net_mappings", "router_mappings", "groups", "user_access"}
_TOP_LEGACY = {"provider"}
_TOP_NOT_DEPLOYED = {"monitoring_targets", "vpn"}
_HOST_KEYS = {"name", "base_box", "flavor", "hidden", "block_internet", "extra", "volumes"}
_ROUTER_KEYS = {"name", "base_box", "flavor", "hidden", "extra"}
_ROUTER_LEGACY = {"cidr"}
_BASE_BOX_KEYS = {"image", "mgmt_user", "mgmt_protocol", "man_user", "mng_protocol"}
_NETWORK_KEYS = {"name", "cidr", "accessible_by_user", "hidden"}
_NET_MAPPING_KEYS = {"host", "network", "ip"}
_ROUTER_MAPPING_KEYS = {"router", "network", "ip"}
_GROUP_KEYS = {"name", "nodes"}
_VOLUME_KEYS = {"size", "image"}


@dataclasses.dataclass(frozen=True)
class Problem:
    """One thing wrong with a topology, named by the element it is about."""

    element: str
    message: str

    def __str__(self) -> str:
        return f"{self.element}: {self.message}" if self.element else self.message


@dataclasses.dataclass(frozen=True)
class BaseBox:
    image: str
    mgmt_user: str = DEFAULT_MGMT_USER
    mgmt_protocol: str = "ssh"


@dataclasses.dataclass(frozen=True)
class Volume:
    size: int
    image: str | None = None


@dataclasses.dataclass(frozen=True)
class Node:
    """A host or a router host."""

    name: str
    kind: str  # "host" or "router"
    base_box: BaseBox
    flavor: str
    hidden: bool = False
    block_internet: bool = False
    volumes: tuple[Volume, ...] = ()
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Network:
    name: str
    cidr: str
    accessible_by_user: bool = True
    hidden: bool = False


@dataclasses.dataclass(frozen=True)
class Attachment:
    """A net_mapping (``kind`` host) or a router_mapping (``kind`` router)."""

    node: str
    kind: str
    network: str
    ip: str
    index: int  # position in its list, to name it in messages

    @property
    def label(self) -> str:
        field = "net_mappings" if self.kind == "host" else "router_mappings"
        return f"{field}[{self.index}] ({self.kind} {self.node!r} on network {self.network!r})"


@dataclasses.dataclass(frozen=True)
class Group:
    name: str
    nodes: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Topology:
    name: str
    hosts: tuple[Node, ...] = ()
    routers: tuple[Node, ...] = ()
    wan: Network = Network(DEFAULT_WAN_NAME, DEFAULT_WAN_CIDR)
    networks: tuple[Network, ...] = ()
    net_mappings: tuple[Attachment, ...] = ()
    router_mappings: tuple[Attachment, ...] = ()
    groups: tuple[Group, ...] = ()
    user_access: bool = True

    @property
    def nodes(self) -> tuple[Node, ...]:
        return self.hosts + self.routers

    @property
    def attachments(self) -> tuple[Attachment, ...]:
        return self.net_mappings + self.router_mappings

    def node(self, name: str) -> Node | None:
        return next((n for n in self.nodes if n.name == name), None)

    def network(self, name: str) -> Network | None:
        return next((n for n in self.networks if n.name == name), None)

    def attachments_of(self, node: str) -> tuple[Attachment, ...]:
        return tuple(a for a in self.attachments if a.node == node)


class _Reader:
    """Reads one parsed document, collecting problems and warnings as it goes."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.warnings: list[str] = []

    def problem(self, element: str, message: str) -> None:
        self.problems.append(Problem(element, message))

    def mapping(self, value: Any, element: str) -> Mapping[str, Any]:
        if isinstance(value, Mapping):
            return value
        self.problem(element, f"must be a mapping, not {_kind(value)}")
        return {}

    def sequence(self, data: Mapping[str, Any], key: str, element: str) -> Sequence[Any]:
        value = data.get(key)
        if value is None:
            return ()
        if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
            return value
        self.problem(element, f"{key} must be a list, not {_kind(value)}")
        return ()

    def text(self, data: Mapping[str, Any], key: str, element: str, *, required: bool = True) -> str:
        value = data.get(key)
        if value is None or value == "":
            if required:
                self.problem(element, f"{key} is missing")
            return ""
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.problem(element, f"{key} must be a string, not {_kind(value)}")
            return ""
        return str(value)

    def flag(self, data: Mapping[str, Any], key: str, element: str, default: bool) -> bool:
        value = data.get(key)
        if value is None:
            return default
        try:
            return boolean(value, strict=True)
        except TypeError:
            self.problem(element, f"{key} must be true or false, not {value!r}")
            return default

    def unknown(self, data: Mapping[str, Any], known: set[str], element: str, legacy: set[str] = frozenset()) -> None:
        extra = sorted(str(k) for k in data if k not in known and k not in legacy)
        if extra:
            self.warnings.append(f"{element}: ignored unknown key(s) {', '.join(extra)}")


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, (int, float)):
        return "a number"
    return "a string" if isinstance(value, str) else type(value).__name__


def _label(kind: str, index: int, item: Any) -> str:
    name = item.get("name") if isinstance(item, Mapping) else None
    return f"{kind} {name!r}" if isinstance(name, str) and name else f"{kind}s[{index}]"


def _base_box(reader: _Reader, value: Any, element: str) -> BaseBox:
    box = reader.mapping(value, f"{element} base_box") if value is not None else None
    if box is None:
        reader.problem(element, "base_box is missing")
        return BaseBox(image="")
    where = f"{element} base_box"
    reader.unknown(box, _BASE_BOX_KEYS, where)
    for old, new in (("man_user", "mgmt_user"), ("mng_protocol", "mgmt_protocol")):
        if old in box and new in box:
            reader.problem(where, f"give {new} or its old name {old}, not both")
    user_key = "mgmt_user" if "mgmt_user" in box else "man_user"
    protocol_key = "mgmt_protocol" if "mgmt_protocol" in box else "mng_protocol"
    user = reader.text(box, user_key, where, required=False) or DEFAULT_MGMT_USER
    protocol = (reader.text(box, protocol_key, where, required=False) or "ssh").lower()
    if protocol not in PROTOCOLS:
        reader.problem(where, f"{protocol_key} must be ssh or winrm, not {box.get(protocol_key)!r}")
        protocol = "ssh"
    return BaseBox(image=reader.text(box, "image", where), mgmt_user=user, mgmt_protocol=protocol)


def _volumes(reader: _Reader, data: Mapping[str, Any], element: str) -> tuple[Volume, ...]:
    if "volumes" not in data or data["volumes"] is None:
        return ()
    items = reader.sequence(data, "volumes", element)
    if isinstance(data["volumes"], Sequence) and not items:
        reader.problem(element, "volumes must list at least the system disk")
    volumes = []
    for index, item in enumerate(items):
        where = f"{element} volumes[{index}]"
        spec = reader.mapping(item, where)
        reader.unknown(spec, _VOLUME_KEYS, where)
        size = spec.get("size")
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            reader.problem(where, f"size must be a whole number of GiB, 1 or more, not {size!r}")
            size = 1
        image = reader.text(spec, "image", where, required=False) or None
        volumes.append(Volume(size=size, image=image))
    return tuple(volumes)


def _extra(reader: _Reader, data: Mapping[str, Any], element: str) -> Mapping[str, Any]:
    value = data.get("extra")
    return dict(reader.mapping(value, f"{element} extra")) if value is not None else {}


def _nodes(reader: _Reader, data: Mapping[str, Any], key: str, kind: str) -> tuple[Node, ...]:
    nodes = []
    for index, item in enumerate(reader.sequence(data, key, "topology")):
        element = _label(kind, index, item)
        spec = reader.mapping(item, element)
        if kind == "host":
            reader.unknown(spec, _HOST_KEYS, element)
        else:
            reader.unknown(spec, _ROUTER_KEYS, element, _ROUTER_LEGACY)
        nodes.append(
            Node(
                name=reader.text(spec, "name", element),
                kind=kind,
                base_box=_base_box(reader, spec.get("base_box"), element),
                flavor=reader.text(spec, "flavor", element),
                hidden=reader.flag(spec, "hidden", element, False),
                block_internet=reader.flag(spec, "block_internet", element, False) if kind == "host" else False,
                volumes=_volumes(reader, spec, element) if kind == "host" else (),
                extra=_extra(reader, spec, element),
            )
        )
    return tuple(nodes)


def _network(reader: _Reader, spec: Mapping[str, Any], element: str) -> Network:
    reader.unknown(spec, _NETWORK_KEYS, element)
    return Network(
        name=reader.text(spec, "name", element),
        cidr=reader.text(spec, "cidr", element),
        accessible_by_user=reader.flag(spec, "accessible_by_user", element, True),
        hidden=reader.flag(spec, "hidden", element, False),
    )


def _attachments(reader: _Reader, data: Mapping[str, Any], key: str, kind: str) -> tuple[Attachment, ...]:
    found = []
    node_key = "host" if kind == "host" else "router"
    known = _NET_MAPPING_KEYS if kind == "host" else _ROUTER_MAPPING_KEYS
    for index, item in enumerate(reader.sequence(data, key, "topology")):
        element = f"{key}[{index}]"
        spec = reader.mapping(item, element)
        reader.unknown(spec, known, element)
        found.append(
            Attachment(
                node=reader.text(spec, node_key, element),
                kind=kind,
                network=reader.text(spec, "network", element),
                ip=reader.text(spec, "ip", element),
                index=index,
            )
        )
    return tuple(found)


def _groups(reader: _Reader, data: Mapping[str, Any]) -> tuple[Group, ...]:
    groups = []
    for index, item in enumerate(reader.sequence(data, "groups", "topology")):
        element = _label("group", index, item)
        spec = reader.mapping(item, element)
        reader.unknown(spec, _GROUP_KEYS, element)
        nodes = []
        for position, node in enumerate(reader.sequence(spec, "nodes", element)):
            if not isinstance(node, str) or not node:
                reader.problem(element, f"nodes[{position}] must be a node name, not {node!r}")
                continue
            nodes.append(node)
        groups.append(Group(name=reader.text(spec, "name", element), nodes=tuple(nodes)))
    return tuple(groups)


def load_topology(data: Any) -> tuple[Topology, list[Problem], list[str]]:
    """Read a parsed topology document.

    Returns the topology (with blanks where values were missing or wrong), the
    structural problems found and warnings about keys that were ignored.
    """
    reader = _Reader()
    top = reader.mapping(data, "topology")
    reader.unknown(top, _TOP_KEYS | _TOP_NOT_DEPLOYED, "topology", _TOP_LEGACY)
    provider = top.get("provider")
    if provider is not None and str(provider).lower() != "openstack":
        reader.problem("topology", f"provider must be OpenStack, not {provider!r}")
    for key in sorted(_TOP_NOT_DEPLOYED & set(top)):
        reader.warnings.append(f"topology: {key} is accepted but not deployed by heat_sandbox")
    wan = Network(DEFAULT_WAN_NAME, DEFAULT_WAN_CIDR, accessible_by_user=False)
    if top.get("wan") is not None:
        spec = reader.mapping(top["wan"], "wan")
        reader.unknown(spec, {"name", "cidr"}, "wan")
        wan = Network(
            name=reader.text(spec, "name", "wan", required=False) or DEFAULT_WAN_NAME,
            cidr=reader.text(spec, "cidr", "wan"),
            accessible_by_user=False,
        )
    networks = []
    for index, item in enumerate(reader.sequence(top, "networks", "topology")):
        element = _label("network", index, item)
        networks.append(_network(reader, reader.mapping(item, element), element))
    topology = Topology(
        name=reader.text(top, "name", "topology"),
        hosts=_nodes(reader, top, "hosts", "host"),
        routers=_nodes(reader, top, "routers", "router"),
        wan=wan,
        networks=tuple(networks),
        net_mappings=_attachments(reader, top, "net_mappings", "host"),
        router_mappings=_attachments(reader, top, "router_mappings", "router"),
        groups=_groups(reader, top),
        user_access=reader.flag(top, "user_access", "topology", True),
    )
    return topology, reader.problems, reader.warnings
