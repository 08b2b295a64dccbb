"""``OS::Nova::*`` types: declarative tables over the Compute facade (``cloud.compute``).

``Server`` is made with :meth:`Compute.create_server` and a typed
:class:`ServerRequest` (the same record ``openstack server list`` shows):
networks by ``network`` (Nova makes the port, with a ``fixed_ip`` if given),
``port`` or ``subnet`` (the stack makes the port), ``key_name``, ``user_data``
in the ``user_data_format`` asked for (handed over as the guest gets it, never
base64-encoded here), ``config_drive``, ``metadata``,
``block_device_mapping_v2``, ``security_groups`` and ``scheduler_hints``. A
name, metadata or tags change is one update call; a flavor change resizes the
server (and confirms it), an image change rebuilds it, unless their update
policy says REPLACE; a ``user_data`` change replaces it (``IGNORE`` keeps it);
a ``networks`` change replaces it too. Its ``addresses`` are Compute's.

Also ``KeyPair`` (Compute checks the name), ``Flavor`` (admin only, as Nova's
policy says) and ``ServerGroup``.
"""

from __future__ import annotations

import contextlib
import email
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from typing import Any

from stacksim import faults
from stacksim.heat import errors, lookup
from stacksim.heat.constraints import AllowedValues, Checker, CustomConstraint, Length, Range
from stacksim.heat.resources.base import (
    Attr,
    Call,
    From,
    Mapped,
    Prop,
    ResourceInError,
    Status,
    Table,
    UpdateReplace,
    physical_name,
)
from stacksim.heat.resources.neutron import subnets_of
from stacksim.services.compute.model import (
    BlockDevice,
    Compute,
    FlavorRequest,
    KeypairRequest,
    NetworkRequest,
    Rebuild,
    ServerChanges,
    ServerRequest,
)

IMAGE = CustomConstraint("glance.image")
FLAVOR = CustomConstraint("nova.flavor")
KEYPAIR = CustomConstraint("nova.keypair")

NETWORK_ITEM = {
    "uuid": Prop(
        "string",
        "ID of network to create a port on.",
        constraints=(CustomConstraint("neutron.network"),),
        support_status="HIDDEN",
    ),
    "network": Prop(
        "string", "Name or ID of network to create a port on.", constraints=(CustomConstraint("neutron.network"),)
    ),
    "allocate_network": Prop(
        "string",
        "The special string values of network, auto: means either a network that "
        "is already available to the project will be used, or if one does not exist, will be "
        "automatically created for the project; none: means no networking will be allocated "
        "for the created server.",
        constraints=(AllowedValues(["none", "auto"]),),
    ),
    "fixed_ip": Prop("string", "Fixed IP address to specify for the port created on the requested network."),
    "port": Prop(
        "string",
        "ID of an existing port to associate with this server.",
        constraints=(CustomConstraint("neutron.port"),),
    ),
    "port_extra_properties": Prop("map", "Dict, which has expand properties for port."),
    "subnet": Prop(
        "string",
        "Subnet in which to allocate the IP address for port.",
        constraints=(CustomConstraint("neutron.subnet"),),
    ),
    "floating_ip": Prop("string", "ID of the floating IP to associate."),
    "tag": Prop("string", "Port tag. Heat ignores any update on this property as nova does not support it."),
}

BDM_V2_ITEM = {
    "device_name": Prop("string", "A device name where the volume will be attached in the system at /dev/device_name."),
    "volume_id": Prop(
        "string",
        "The volume_id can be boot or non-boot device to the server.",
        constraints=(CustomConstraint("cinder.volume"),),
    ),
    "image_id": Prop(
        "string", "The ID of the image to create a volume from.", constraints=(IMAGE,), support_status="HIDDEN"
    ),
    "image": Prop("string", "The ID or name of the image to create a volume from.", constraints=(IMAGE,)),
    "snapshot_id": Prop("string", "The ID of the snapshot to create a volume from."),
    "swap_size": Prop("integer", "The size of the swap, in MB."),
    "ephemeral_size": Prop("integer", "The size of the local ephemeral block device, in GB."),
    "ephemeral_format": Prop("string", "The format of the local ephemeral block device."),
    "device_type": Prop(
        "string",
        "Device type: at the moment we can make distinction only between disk and cdrom.",
        constraints=(AllowedValues(["cdrom", "disk"]),),
    ),
    "disk_bus": Prop(
        "string",
        "Bus of the device: hypervisor driver chooses a suitable default if omitted.",
        constraints=(AllowedValues(["ide", "lame_bus", "scsi", "usb", "virtio"]),),
    ),
    "boot_index": Prop("integer", "Integer used for ordering the boot disks."),
    "volume_size": Prop("integer", "Size of the block device in GB."),
    "delete_on_termination": Prop(
        "boolean", "Indicate whether the volume should be deleted when the server is terminated."
    ),
}


def meta_serialize(metadata: Mapping[str, Any] | None) -> dict[str, str]:
    """Nova metadata values are strings: others go as JSON, as Heat sends them."""
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in (metadata or {}).items()}


def _part(content: str, cfntools: bool) -> MIMEText:
    text = content.lstrip()
    if text.startswith("#cloud-config"):
        part = MIMEText(content, "cloud-config")
        filename = "cloud-config"
    elif text.startswith("#!"):
        part = MIMEText(content, "x-shellscript")
        filename = "cfn-userdata" if cfntools else "userdata"
    else:
        part = MIMEText(content, "x-cfninitdata" if cfntools else "plain")
        filename = "cfn-userdata" if cfntools else "userdata"
    part.add_header("Content-Disposition", "attachment", filename=filename)
    return part


def build_userdata(user_data: str, user_data_format: str) -> str:
    """The user data the server gets: as given (RAW), or Heat's multipart MIME message."""
    if user_data_format in ("RAW", "IGNITION"):
        return user_data
    message = MIMEMultipart()
    config = MIMEText("#cloud-config\n{}\n", "cloud-config")
    config.add_header("Content-Disposition", "attachment", filename="cloud-config")
    message.attach(config)
    cfntools = user_data_format == "HEAT_CFNTOOLS"
    if user_data:
        parsed = (
            email.message_from_string(user_data)
            if user_data.lstrip().lower().startswith(("content-type:", "mime-version:"))
            else None
        )
        if parsed is not None and parsed.is_multipart():
            for sub in parsed.get_payload():
                message.attach(sub)
        else:
            message.attach(_part(user_data, cfntools))
    return message.as_string()


# -- what a server's properties become in Compute's typed requests ---------------------------------


@dataclass(frozen=True)
class ServerStatus(Status):
    """Ready at one of ``ok`` once no task runs; ERROR fails with the server's fault, as Heat words it."""

    def __call__(self, view: Any) -> bool:
        if view["status"] in self.failed:
            fault = view.get("fault") or {}
            raise ResourceInError(
                view["status"], f"Message: {fault.get('message', 'Unknown')}, Code: {fault.get('code', 500)}"
            )
        return view["status"] in self.ok and view.get("task_state") is None


ACTIVE = ServerStatus(ok=("ACTIVE",), failed=("ERROR",))


def _flavor_id(res: Mapped, ref: Any) -> str | None:
    return lookup.flavor(res.cloud, res.ctx, ref)["id"] if ref is not None else None


def _image_id(res: Mapped, ref: Any) -> str | None:
    return lookup.image(res.cloud, res.ctx, ref)["id"] if ref else None


def _user_data(res: Mapped, content: Any, fmt: Any) -> bytes | None:
    """The user data the guest gets (Heat's MIME message, or as given with RAW)."""
    content, fmt = content or "", fmt or "HEAT_CFNTOOLS"
    if fmt in ("RAW", "SOFTWARE_CONFIG") and content:
        try:
            uuid.UUID(content)
        except ValueError:
            pass
        else:
            content = res.cloud.orchestration.configs.content(res.ctx, content) or content
    if not content and fmt == "RAW":
        return None
    built = build_userdata(content, fmt)
    return built.encode() if built else None


def _networks(res: Mapped, items: Any) -> str | tuple[NetworkRequest, ...] | None:
    """The NICs: Nova makes a port on a ``network``; the stack makes one for a bare ``subnet``."""
    if items is None:
        return None
    out: list[NetworkRequest] = []
    for item in items:
        if item.get("allocate_network"):
            return item["allocate_network"]
        if item.get("port"):
            out.append(NetworkRequest(port_id=lookup.port(res.cloud, res.ctx, item["port"])["id"]))
        elif item.get("subnet") and not (item.get("network") or item.get("uuid")):
            subnet = lookup.subnet(res.cloud, res.ctx, item["subnet"])
            fixed = {"subnet_id": subnet["id"]}
            if item.get("fixed_ip"):
                fixed["ip_address"] = item["fixed_ip"]
            port = res.cloud.network.create_port(
                res.ctx,
                network_id=subnet["network_id"],
                fixed_ips=[fixed],
                name=f"{res.physical_name()}-port-{len(out)}",
            )
            res.data.setdefault("internal_ports", []).append(port["id"])
            out.append(NetworkRequest(port_id=port["id"]))
        else:
            network = lookup.network(res.cloud, res.ctx, item.get("network") or item.get("uuid"))
            out.append(NetworkRequest(network_id=network["id"], fixed_ip=item.get("fixed_ip")))
    return tuple(out)


def _block_devices(res: Mapped, items: Any) -> tuple[BlockDevice, ...]:
    out = []
    for item in items or ():
        common = {"boot_index": item.get("boot_index"), "device_name": item.get("device_name")}
        common["delete_on_termination"] = bool(item.get("delete_on_termination"))
        size = item.get("volume_size")
        if item.get("volume_id"):
            out.append(BlockDevice("volume", "volume", item["volume_id"], volume_size=size, **common))
        elif item.get("snapshot_id"):
            out.append(BlockDevice("snapshot", "volume", item["snapshot_id"], volume_size=size, **common))
        elif item.get("image") or item.get("image_id"):
            image = _image_id(res, item.get("image") or item.get("image_id"))
            out.append(BlockDevice("image", "volume", image, volume_size=size, **common))
        elif item.get("swap_size") or item.get("ephemeral_size"):
            out.append(BlockDevice("blank", "local", None, volume_size=size, **common))
        else:
            out.append(BlockDevice(volume_size=size, **common))
    return tuple(out)


def _hint(res: Mapped, hints: Any) -> str | None:
    group = (hints or {}).get("group")
    return str(group[0] if isinstance(group, list) else group) if group else None


def _addresses(res: Mapped, view: Any) -> dict[str, list[dict[str, Any]]]:
    return res.facade.addresses(res.ctx, view["id"])


def _first_address(res: Mapped, view: Any) -> str:
    for entries in _addresses(res, view).values():
        for entry in entries:
            if entry["version"] == 4:
                return entry["addr"]
    return ""


def _networks_attr(res: Mapped, view: Any) -> dict[str, list[str]]:
    """Each network's addresses (fixed and floating) under its name and its id."""
    by_port: dict[str, tuple[str, list[str]]] = {}
    for name, entries in _addresses(res, view).items():
        for entry in entries:
            by_port.setdefault(entry["port"], (name, []))[1].append(entry["addr"])
    out: dict[str, list[str]] = {}
    for port in res.facade.server_ports(res.ctx, view["id"]):
        name, ips = by_port.get(port["id"], (port["network_id"], []))
        for key in {name, port["network_id"]}:
            out.setdefault(key, []).extend(ips)
    return out


def _rebuild(compute: Compute, ctx: Any, server_id: str, image_id: str) -> dict[str, Any]:
    """A new image rebuilds the server (keeping what else it has)."""
    return compute.rebuild(ctx, server_id, Rebuild(image_id=image_id))


RESIZE = Call(
    Compute.resize,
    fields={"flavor_id": From(("flavor",), _flavor_id)},
    ready=ServerStatus(ok=("ACTIVE", "SHUTOFF"), failed=("ERROR",)),
)

SERVER_TABLE = Table(
    service="compute",
    create=Call(
        Compute.create_server,
        ServerRequest,
        fields={
            "name": physical_name(),
            "flavor_id": From(("flavor",), _flavor_id),
            "image_id": From(("image",), _image_id),
            "networks": From(("networks",), _networks),
            "security_groups": From(("security_groups",), lambda res, groups: tuple(str(g) for g in groups or ())),
            "user_data": From(("user_data", "user_data_format"), _user_data),
            "metadata": From(("metadata",), lambda res, value: meta_serialize(value)),
            "config_drive": From(("config_drive",), lambda res, value: bool(value)),
            "tags": From(("tags",), lambda res, value: tuple(value or ())),
            "block_devices": From(("block_device_mapping_v2",), _block_devices),
            "admin_pass": "admin_pass",
            "group_id": From(("scheduler_hints",), _hint),
            "scheduler_hints": From(("scheduler_hints",), lambda res, value: dict(value or {})),
        },
        ready=ACTIVE,
    ),
    update=(
        Call(
            Compute.update_server,
            ServerChanges,
            fields={
                "name": physical_name(),
                "metadata": From(("metadata",), lambda res, value: meta_serialize(value)),
                "tags": From(("tags",), lambda res, value: tuple(value or ())),
            },
            ready=ServerStatus(ok=("ACTIVE", "SHUTOFF", "SUSPENDED", "PAUSED")),
        ),
        Call(
            Compute.set_security_groups,
            fields={"groups": From(("security_groups",), lambda res, g: tuple(map(str, g or ())))},
        ),
        Call(_rebuild, fields={"image_id": From(("image",), _image_id)}, ready=ACTIVE),
        RESIZE,
    ),
    delete=Call(Compute.delete_server),
    view=Compute.server,
    check=Call(None, ready=Status(ok=("ACTIVE",))),
    suspend=Call(Compute.suspend, ready=ServerStatus(ok=("SUSPENDED",), failed=("ERROR",))),
    resume=Call(Compute.resume, ready=ACTIVE),
    attributes={
        "addresses": _addresses,
        "networks": _networks_attr,
        "first_address": _first_address,
        "accessIPv4": lambda res, view: view.get("access_ipv4") or "",
        "accessIPv6": lambda res, view: view.get("access_ipv6") or "",
        "tags": lambda res, view: list(view.get("tags") or []),
        "console_urls": lambda res, view: {},
        "os_collect_config": lambda res, view: {},
    },
)


class Server(Mapped):
    type_name = "OS::Nova::Server"
    description = "A resource for managing Nova instances."
    replace_delete_first = True
    name_limit = 53
    properties_schema = {
        "name": Prop("string", "Server name.", update_allowed=True),
        "image": Prop("string", "The ID or name of the image to boot with.", update_allowed=True, constraints=(IMAGE,)),
        "image_update_policy": Prop(
            "string",
            "Policy on how to apply an image-id update; either by requesting a "
            "server rebuild or by replacing the entire server.",
            default="REBUILD",
            update_allowed=True,
            constraints=(AllowedValues(["REBUILD", "REPLACE", "REBUILD_PRESERVE_EPHEMERAL"]),),
        ),
        "block_device_mapping": Prop("list", "Block device mappings for this server.", schema=Prop("map")),
        "block_device_mapping_v2": Prop(
            "list", "Block device mappings v2 for this server.", schema=Prop("map", schema=BDM_V2_ITEM)
        ),
        "flavor": Prop(
            "string",
            "The ID or name of the flavor to boot onto.",
            required=True,
            update_allowed=True,
            constraints=(FLAVOR,),
        ),
        "flavor_update_policy": Prop(
            "string",
            "Policy on how to apply a flavor update; either by requesting a "
            "server resize or by replacing the entire server.",
            default="RESIZE",
            update_allowed=True,
            constraints=(AllowedValues(["RESIZE", "REPLACE"]),),
        ),
        "key_name": Prop("string", "Name of keypair to inject into the server.", constraints=(KEYPAIR,)),
        "admin_user": Prop("string", "Name of the administrative user to use on the server.", support_status="HIDDEN"),
        "availability_zone": Prop("string", "Name of the availability zone for server placement."),
        "security_groups": Prop(
            "list",
            "List of security group names or IDs. Cannot be used if neutron ports are "
            "associated with this server; assign security groups to the ports instead.",
            default=[],
            update_allowed=True,
        ),
        "networks": Prop(
            "list",
            "An ordered list of nics to be added to this server, with information about "
            "connected networks, fixed ips, port etc.",
            update_allowed=True,
            schema=Prop("map", schema=NETWORK_ITEM),
        ),
        "scheduler_hints": Prop("map", "Arbitrary key-value pairs specified by the client to help boot a server."),
        "metadata": Prop("map", "Arbitrary key/value metadata to store for this server.", update_allowed=True),
        "user_data_format": Prop(
            "string",
            "How the user_data should be formatted for the server. For "
            "HEAT_CFNTOOLS, the user_data is bundled as part of the heat-cfntools cloud-init "
            "boot configuration data. For RAW the user_data is passed to Nova unmodified. For "
            "SOFTWARE_CONFIG user_data is bundled as part of the software config data.",
            default="HEAT_CFNTOOLS",
            constraints=(AllowedValues(["HEAT_CFNTOOLS", "RAW", "SOFTWARE_CONFIG", "IGNITION"]),),
        ),
        "software_config_transport": Prop(
            "string",
            "How the server should receive the metadata required for software configuration.",
            default="POLL_SERVER_CFN",
            update_allowed=True,
            constraints=(AllowedValues(["POLL_SERVER_CFN", "POLL_SERVER_HEAT", "POLL_TEMP_URL", "ZAQAR_MESSAGE"]),),
        ),
        "user_data_update_policy": Prop(
            "string",
            "Policy on how to apply a user_data update; either by ignoring it or by replacing the entire server.",
            default="REPLACE",
            update_allowed=True,
            constraints=(AllowedValues(["REPLACE", "IGNORE"]),),
        ),
        "user_data": Prop(
            "string",
            "User data script to be executed by cloud-init or CoreOS ignition.",
            default="",
            update_allowed=True,
        ),
        "reservation_id": Prop("string", "A UUID for the set of servers being requested."),
        "config_drive": Prop("boolean", "If True, enable config drive on the server."),
        "diskConfig": Prop(
            "string",
            "Control how the disk is partitioned when the server is created.",
            constraints=(AllowedValues(["AUTO", "MANUAL"]),),
        ),
        "personality": Prop(
            "map", "A map of files to create/overwrite on the server upon boot.", default={}, update_allowed=True
        ),
        "admin_pass": Prop("string", "The administrator password for the server.", update_allowed=True),
        "deployment_swift_data": Prop(
            "map",
            "Swift container and object to use for storing deployment data for the server resource.",
            default={},
            update_allowed=True,
        ),
        "tags": Prop("list", "Server tags.", update_allowed=True, schema=Prop("string")),
    }
    attributes_schema = {
        "show": Attr("A dict of all server details as returned by the API.", "map"),
        "addresses": Attr("A dict of all network addresses with corresponding port_id and subnets.", "map"),
        "networks": Attr(
            'A dict of assigned network addresses of the form: {"public": [ip1, ip2...], '
            '"private": [ip3, ip4], "public_uuid": [ip1, ip2...], "private_uuid": [ip3, ip4]}.',
            "map",
        ),
        "first_address": Attr(
            "Convenience attribute to fetch the first assigned network address, or an empty "
            "string if nothing has been assigned at this time.",
            "string",
        ),
        "instance_name": Attr("AWS compatible instance name.", "string"),
        "accessIPv4": Attr("The manually assigned alternative public IPv4 address of the server.", "string"),
        "accessIPv6": Attr("The manually assigned alternative public IPv6 address of the server.", "string"),
        "console_urls": Attr("URLs of server's consoles.", "map"),
        "name": Attr("Name of the server.", "string"),
        "tags": Attr("Tags from the server.", "list"),
        "os_collect_config": Attr("The os-collect-config configuration for the server's local agent.", "map"),
    }

    table = SERVER_TABLE

    def check_create_complete(self) -> bool:
        if not super().check_create_complete():
            return False
        self._associate_floating_ips()
        return True

    def _associate_floating_ips(self) -> None:
        ports = self.facade.server_ports(self.ctx, self.resource_id or "")
        for item in self.props.get("networks") or []:
            if not item.get("floating_ip"):
                continue
            network = item.get("network") or item.get("uuid")
            net_id = lookup.network(self.cloud, self.ctx, network)["id"] if network else None
            for port in ports:
                if item.get("port") and port["id"] != lookup.port(self.cloud, self.ctx, item["port"])["id"]:
                    continue
                if net_id and port["network_id"] != net_id:
                    continue
                self.cloud.network.l3.update_floating_ip(self.ctx, item["floating_ip"], {"port_id": port["id"]})
                break

    def handle_update(self, changed: dict[str, Any], old: dict[str, Any]) -> None:
        props = self.props
        if "user_data" in changed and props.get("user_data_update_policy") != "IGNORE":
            raise UpdateReplace(self.name)
        if "networks" in changed:
            raise UpdateReplace(self.name)
        if "image" in changed and props.get("image_update_policy") == "REPLACE":
            raise UpdateReplace(self.name)
        if "flavor" in changed and props.get("flavor_update_policy") == "REPLACE":
            raise UpdateReplace(self.name)
        server = self._existing()
        changed = {k: v for k, v in changed.items() if k not in ("user_data", "user_data_format")}
        if "flavor" in changed and _flavor_id(self, props["flavor"]) == server["flavor"]["id"]:
            del changed["flavor"]  # another name for the flavor it has
        if "image" in changed and not props.get("image"):
            del changed["image"]
        if "image" in changed and "flavor" in changed:
            del changed["flavor"]  # one at a time: the resize once the rebuild is done
            self.data["resize_next"] = True
        super().handle_update(changed, old)

    def check_update_complete(self) -> bool:
        server = self._existing()
        if server["status"] == "VERIFY_RESIZE" and server.get("task_state") is None:
            self.facade.confirm_resize(self.ctx, server["id"])  # Heat confirms its resizes
            return False
        if not super().check_update_complete():
            return False
        if self.data.pop("resize_next", False):
            RESIZE.invoke(self, server["id"])
            self._updated = (RESIZE,)
            return False
        return True

    def handle_suspend(self) -> None:
        if self._existing()["status"] != "SUSPENDED":
            super().handle_suspend()

    def handle_resume(self) -> None:
        if self._existing()["status"] == "SUSPENDED":
            super().handle_resume()

    def check_delete_complete(self) -> bool:
        if not super().check_delete_complete():
            return False
        for port_id in self.data.pop("internal_ports", []):
            with contextlib.suppress(faults.NotFound):
                self.cloud.network.delete_port(self.ctx, port_id)
        return True

    def show(self) -> Any:
        server = self.view()
        if server is None:
            return None
        shown = {k: v for k, v in server.items() if k not in ("user_data", "public_key")}
        shown["addresses"] = _addresses(self, server)
        return shown

    @classmethod
    def implicit_dependencies(cls, name: str, properties: Any, definitions: Mapping[str, Any]) -> set[str]:
        props = properties if isinstance(properties, Mapping) else {}
        found: set[str] = set()
        networks = props.get("networks")
        if isinstance(networks, list):
            for item in networks:
                if isinstance(item, Mapping):
                    found |= subnets_of(item.get("network") or item.get("uuid"), definitions)
        return found

    @classmethod
    def validate_definition(cls, stack: Any, defn: Any, props: dict[str, Any], checker: Checker | None) -> None:
        base = ["resources", defn.name, "properties"]
        if (
            props.get("image") is None
            and not props.get("block_device_mapping_v2")
            and not props.get("block_device_mapping")
        ):
            raise errors.StackValidationFailed(
                f"Neither image nor bootable volume is specified for instance {defn.name}",
                path=base,
                error="Property error",
            )
        for index, item in enumerate(props.get("networks") or []):
            if not isinstance(item, Mapping):
                continue
            given = [k for k in ("network", "uuid", "port", "subnet", "allocate_network") if item.get(k) is not None]
            if not given:
                raise errors.StackValidationFailed(
                    'One of the properties "network", "port", "allocate_network" or "subnet" should be set '
                    f'for the specified network of server "{defn.name}".',
                    path=[*base, "networks", index],
                    error="Property error",
                )
            if item.get("port") is not None and item.get("fixed_ip") is not None:
                raise errors.StackValidationFailed(
                    "Cannot define the following properties at the same time: port, fixed_ip.",
                    path=[*base, "networks", index],
                    error="Property error",
                )


class KeyPair(Mapped):
    type_name = "OS::Nova::KeyPair"
    description = "A resource for creating Nova key pairs."
    properties_schema = {
        "name": Prop("string", "The name of the key pair.", required=True, constraints=(Length(1, 255),)),
        "save_private_key": Prop(
            "boolean", "True if the system should remember a generated private key; False otherwise.", default=False
        ),
        "public_key": Prop(
            "string",
            "The optional public key. This allows users to supply the public key from a "
            "pre-existing key pair. If not supplied, a new key pair will be generated.",
        ),
        "type": Prop("string", "Keypair type.", constraints=(AllowedValues(["ssh", "x509"]),)),
        "user": Prop("string", "ID or name of user to whom to add key-pair."),
    }
    attributes_schema = {
        "private_key": Attr("The private key if it has been saved.", "string"),
        "public_key": Attr("The public key.", "string"),
    }

    table = Table(
        service="compute",
        delete=Call(Compute.delete_keypair),
        view=Compute.keypair,
        check=Call(None),
    )

    def handle_create(self) -> None:
        # Compute checks the name (Nova's rules before microversion 2.92, as Heat's client speaks).
        request = KeypairRequest(
            name=self.props["name"], type=self.props.get("type") or "ssh", public_key=self.props.get("public_key")
        )
        record, private = self.facade.create_keypair(self.ctx, request, allow_292=False)
        self.resource_id = record["name"]
        if self.props.get("save_private_key") and private:
            self.data["private_key"] = private

    def resolve_attribute(self, attr: str) -> Any:
        if attr == "private_key":
            return self.data.get("private_key", "")
        return super().resolve_attribute(attr)

    def show(self) -> Any:
        record = self.view()
        return None if record is None else {k: record[k] for k in ("name", "public_key", "fingerprint", "type")}


def _specs(res: Mapped, specs: Any) -> dict[str, str]:
    return {k: str(v) for k, v in (specs or {}).items()}


class Flavor(Mapped):
    type_name = "OS::Nova::Flavor"
    description = "A resource for creating OpenStack virtual hardware templates (admin only)."
    properties_schema = {
        "name": Prop("string", "Name for the flavor."),
        "ram": Prop("integer", "Memory in MB for the flavor.", required=True, constraints=(Range(min=1),)),
        "vcpus": Prop("integer", "Number of VCPUs for the flavor.", required=True, constraints=(Range(min=1),)),
        "disk": Prop(
            "integer",
            'Size of local disk in GB. The "0" size is a special case that uses the native '
            "base image size as the size of the ephemeral root volume.",
            default=0,
            constraints=(Range(min=0),),
        ),
        "swap": Prop("integer", "Swap space in MB.", default=0, constraints=(Range(min=0),)),
        "ephemeral": Prop(
            "integer", "Size of a secondary ephemeral data disk in GB.", default=0, constraints=(Range(min=0),)
        ),
        "rxtx_factor": Prop("number", "RX/TX factor.", default=1.0),
        "is_public": Prop(
            "boolean",
            "Scope of flavor accessibility. Public or private. Default value is True, means "
            "public, shared across all projects.",
            default=True,
        ),
        "flavorid": Prop(
            "string", "Unique ID of the flavor. If not specified, an UUID will be auto generated and used."
        ),
        "tenants": Prop("list", "List of tenants.", default=[], update_allowed=True),
        "extra_specs": Prop("map", "Key/Value pairs to extend the capabilities of the flavor.", update_allowed=True),
        "description": Prop("string", "Description of the flavor.", update_allowed=True),
    }
    attributes_schema = {
        "is_public": Attr("Whether the flavor is shared across all projects.", "boolean"),
        "extra_specs": Attr("Extra specs of the flavor in key-value pairs.", "map"),
        "name": Attr("Name of the flavor.", "string"),
    }

    table = Table(
        service="compute",
        create=Call(
            Compute.create_flavor,
            FlavorRequest,
            fields={
                "name": physical_name(),
                "id": "flavorid",
                "rxtx_factor": From(("rxtx_factor",), lambda res, value: float(value)),
                "extra_specs": From(("extra_specs",), _specs),
                "projects": From(("tenants", "is_public"), lambda res, t, public: () if public else tuple(t or ())),
            },
        ),
        update=(
            Call(Compute.update_flavor, fields={"description": "description"}),
            Call(Compute.set_flavor_extra_specs, fields={"specs": From(("extra_specs",), _specs)}),
            Call(
                Compute.set_flavor_access,
                fields={
                    "projects": From(("tenants", "is_public"), lambda res, t, public: () if public else tuple(t or ()))
                },
            ),
        ),
        delete=Call(Compute.delete_flavor),
        view=Compute.flavor,
    )


def _group_policy(res: Mapped, policy: Any, policies: Any) -> str:
    return policy or (policies or ["anti-affinity"])[0]


class ServerGroup(Mapped):
    type_name = "OS::Nova::ServerGroup"
    description = "A resource for managing a Nova server group."
    properties_schema = {
        "name": Prop("string", "Server Group name."),
        "policies": Prop(
            "list",
            "A list of string policies to apply. Defaults to anti-affinity.",
            default=["anti-affinity"],
            constraints=(AllowedValues(["anti-affinity", "affinity", "soft-anti-affinity", "soft-affinity"]),),
            schema=Prop("string"),
        ),
        "policy": Prop(
            "string",
            "The policy to apply (Nova 2.64 on).",
            constraints=(AllowedValues(["anti-affinity", "affinity", "soft-anti-affinity", "soft-affinity"]),),
        ),
        "rules": Prop("map", "Rules for a policy."),
    }

    table = Table(
        service="compute",
        create=Call(
            Compute.create_server_group,
            fields={
                "name": physical_name(),
                "policy": From(("policy", "policies"), _group_policy),
                "rules": "rules",
            },
        ),
        delete=Call(Compute.delete_server_group),
        view=Compute.server_group,
    )


TYPES = (Server, KeyPair, Flavor, ServerGroup)
