"""Trunks: a parent port carrying subports, each tagged with a VLAN segmentation id.

As in Neutron's trunk plugin: a port is the parent of one trunk at most and is
never also a subport; a subport (``device_owner`` ``trunk:subport``) belongs
to one trunk and has a segmentation id no other subport of that trunk has. A
trunk's status follows its parent port (``ACTIVE`` once the parent is bound and
the trunk is up); a disabled trunk's subports cannot change, and a trunk whose
parent is bound cannot be deleted. Neither the parent nor a subport can be
deleted while the trunk holds it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stacksim import faults
from stacksim.auth import Context
from stacksim.services.network import ipam
from stacksim.services.network.common import (
    Part,
    apply,
    basics,
    check_tags,
    owner_of,
    stamp,
    touch,
)
from stacksim.store import atomic

if TYPE_CHECKING:
    pass

SUBPORT_OWNER = "trunk:subport"
SEGMENTATION_TYPES = ("vlan", "inherit")
FIELDS = ("name", "description", "admin_state_up")


class Trunks(Part):
    # -- what ports may do ------------------------------------------------------------

    def holding(self, port_id: str) -> tuple[dict[str, Any], bool] | None:
        """The trunk that holds the port, and whether as its parent (else as a subport)."""
        parent = self.store.first("trunk", port_id=port_id)
        if parent is not None:
            return parent, True
        port = self.store.get("port", port_id)
        if port is not None and port["device_owner"] == SUBPORT_OWNER:
            trunk = self.store.get("trunk", port["device_id"])
            if trunk is not None:
                return trunk, False
        return None

    def check_port_free(self, port: dict[str, Any]) -> None:
        """A port a trunk holds cannot be deleted."""
        held = self.holding(port["id"])
        if held is None:
            return
        trunk, parent = held
        if parent:
            raise faults.Conflict(
                f"Port {port['id']} is currently a parent port for trunk {trunk['id']}.", kind="PortInUseAsTrunkParent"
            )
        raise faults.Conflict(
            f"Port {port['id']} is currently a subport for trunk {trunk['id']}.", kind="PortInUseAsSubPort"
        )

    def details(self, port_id: str) -> dict[str, Any] | None:
        """The ``trunk_details`` a parent port shows (trunk-details)."""
        trunk = self.store.first("trunk", port_id=port_id)
        if trunk is None:
            return None
        ports = self.store.get_many("port", [s["port_id"] for s in trunk["sub_ports"]])
        return {
            "trunk_id": trunk["id"],
            "sub_ports": [
                {**s, "mac_address": (ports.get(s["port_id"]) or {}).get("mac_address")} for s in trunk["sub_ports"]
            ],
        }

    def status(self, trunk: dict[str, Any]) -> str:
        parent = self.store.get("port", trunk["port_id"])
        bound = bool(parent and parent.get("binding:host_id"))
        return "ACTIVE" if bound and trunk["admin_state_up"] else "DOWN"

    # -- trunks ---------------------------------------------------------------------------

    @atomic
    def create(self, ctx: Context, attrs: dict[str, Any]) -> dict[str, Any]:
        owner = owner_of(ctx, attrs)
        parent = self.net.parts.access.writable(ctx, "port", attrs["port_id"], "create_trunk")
        held = self.holding(parent["id"])
        if held is not None:
            trunk, as_parent = held
            if as_parent:
                raise faults.Conflict(f"Port {parent['id']} is in use by another trunk.", kind="TrunkPortInUse")
            raise faults.Conflict(
                f"Port {parent['id']} is currently in use and is not eligible for use as a parent port.",
                kind="ParentPortInUse",
            )
        trunk = stamp(
            {
                **basics(attrs, owner),
                "port_id": parent["id"],
                "admin_state_up": attrs.get("admin_state_up", True),
                "sub_ports": [],
            }
        )
        self._add(ctx, trunk, attrs.get("sub_ports") or [])
        return self.store.put("trunk", trunk)

    @atomic
    def update(self, ctx: Context, id: str, changes: dict[str, Any], if_match: str | None = None) -> dict[str, Any]:
        trunk, changes = self.editable(ctx, "trunk", id, changes, FIELDS, if_match)
        if "tags" in changes:
            changes["tags"] = check_tags(changes["tags"])
        return apply(self.store, "trunk", trunk, changes)

    @atomic
    def delete(self, ctx: Context, id: str) -> None:
        trunk = self.net.parts.access.writable(ctx, "trunk", id, "delete_trunk")
        parent = self.store.get("port", trunk["port_id"])
        if parent is not None and parent.get("binding:host_id"):
            raise faults.Conflict(f"Trunk {id} is currently in use.", kind="TrunkInUse")
        self._release([s["port_id"] for s in trunk["sub_ports"]])
        self.store.delete("trunk", id)

    # -- subports ---------------------------------------------------------------------------

    def _enabled(self, trunk: dict[str, Any]) -> None:
        if not trunk["admin_state_up"]:
            raise faults.Conflict(f"Trunk {trunk['id']} is currently disabled.", kind="TrunkDisabled")

    def _add(self, ctx: Context, trunk: dict[str, Any], sub_ports: list[dict[str, Any]]) -> None:
        access = self.net.parts.access
        for sub in sub_ports:
            kind = sub.get("segmentation_type") or "vlan"
            if kind not in SEGMENTATION_TYPES:
                raise ipam.invalid("segmentation_type", f"{kind} is not in {list(SEGMENTATION_TYPES)}")
            segment = sub.get("segmentation_id")
            if kind == "vlan" and (segment is None or not 1 <= int(segment) <= 4094):
                raise ipam.invalid("segmentation_id", f"'{segment}' is not in range 1 through 4094")
            port = access.writable(ctx, "port", sub["port_id"], "add_subports")
            if port["id"] == trunk["port_id"]:
                raise faults.Conflict(
                    f"Port {port['id']} is currently a parent port for trunk {trunk['id']}.",
                    kind="PortInUseAsTrunkParent",
                )
            self.check_port_free(port)
            if any(s["segmentation_type"] == kind and s["segmentation_id"] == segment for s in trunk["sub_ports"]):
                raise faults.BadRequest(
                    f"segmentation_type {kind} and segmentation_id {segment} already in use on trunk {trunk['id']}.",
                    kind="DuplicateSubPort",
                )
            trunk["sub_ports"].append({"port_id": port["id"], "segmentation_type": kind, "segmentation_id": segment})
            port.update(device_owner=SUBPORT_OWNER, device_id=trunk["id"])
            self.store.put("port", touch(port))

    def _release(self, port_ids: list[str]) -> None:
        for port in self.store.get_many("port", port_ids).values():
            if port["device_owner"] == SUBPORT_OWNER:
                port.update(device_owner="", device_id="")
                self.store.put("port", touch(port))

    @atomic
    def add_subports(self, ctx: Context, id: str, sub_ports: list[dict[str, Any]]) -> dict[str, Any]:
        trunk = self.net.parts.access.writable(ctx, "trunk", id, "add_subports")
        self._enabled(trunk)
        self._add(ctx, trunk, sub_ports)
        return self.store.put("trunk", touch(trunk))

    @atomic
    def remove_subports(self, ctx: Context, id: str, sub_ports: list[dict[str, Any]]) -> dict[str, Any]:
        trunk = self.net.parts.access.writable(ctx, "trunk", id, "remove_subports")
        self._enabled(trunk)
        held = {s["port_id"] for s in trunk["sub_ports"]}
        gone = [s["port_id"] for s in sub_ports]
        for port_id in gone:
            if port_id not in held:
                raise faults.NotFound(f"SubPort {port_id} cannot be found on trunk {id}.", kind="SubPortNotFound")
        trunk["sub_ports"] = [s for s in trunk["sub_ports"] if s["port_id"] not in gone]
        self._release(gone)
        return self.store.put("trunk", touch(trunk))
