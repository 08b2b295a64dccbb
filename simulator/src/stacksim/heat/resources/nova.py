"""``OS::Nova::*`` types, made through the Compute model.

``Server`` boots through Nova's servers model (the same record ``openstack
server list`` shows): networks by ``network`` (Nova makes the port, with a
``fixed_ip`` if given), ``port`` or ``subnet`` (the stack makes the port),
``key_name``, ``user_data`` in the ``user_data_format`` asked for,
``config_drive``, ``metadata``, ``block_device_mapping_v2``,
``security_groups`` and ``scheduler_hints``. A flavor change resizes the
server (and confirms it), an image change rebuilds it, unless their update
policy says REPLACE; a ``user_data`` change replaces it (``IGNORE`` keeps it);
a ``networks`` change replaces it too (interface attach is not modelled).

Also ``KeyPair``, ``Flavor`` (admin only, as in Nova) and ``ServerGroup``.
"""

from __future__ import annotations

import base64
import contextlib
import email
import json
import uuid
from collections.abc import Mapping
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from typing import Any

from stacksim import faults
from stacksim.heat import errors, lookup
from stacksim.heat.constraints import AllowedValues, Checker, CustomConstraint, Length, Range
from stacksim.heat.resources.base import Attr, Prop, Resource, ResourceInError, UpdateReplace
from stacksim.heat.resources.heat import config_content
from stacksim.heat.resources.neutron import subnets_of

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


class Server(Resource):
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

    # -- helpers ----------------------------------------------------------------------------

    def _server(self) -> dict[str, Any] | None:
        return self.store.get("server", self.resource_id) if self.resource_id else None

    def _user_data(self) -> str | None:
        content = self.props.get("user_data") or ""
        fmt = self.props.get("user_data_format") or "HEAT_CFNTOOLS"
        if fmt in ("RAW", "SOFTWARE_CONFIG") and content:
            try:
                uuid.UUID(content)
            except ValueError:
                pass
            else:
                content = config_content(self.store, content) or content
        if not content and fmt == "RAW":
            return None
        built = build_userdata(content, fmt)
        return base64.b64encode(built.encode()).decode() if built else None

    def _networks(self) -> Any:
        items = self.props.get("networks")
        if items is None:
            return None
        out: list[dict[str, Any]] = []
        for item in items:
            if item.get("allocate_network"):
                return item["allocate_network"]
            if item.get("port"):
                out.append({"port": lookup.port(self.cloud, self.ctx, item["port"])["id"]})
            elif item.get("subnet") and not (item.get("network") or item.get("uuid")):
                subnet = lookup.subnet(self.cloud, self.ctx, item["subnet"])
                fixed = {"subnet_id": subnet["id"]}
                if item.get("fixed_ip"):
                    fixed["ip_address"] = item["fixed_ip"]
                port = self.cloud.network.create_port(
                    self.ctx,
                    network_id=subnet["network_id"],
                    fixed_ips=[fixed],
                    name=f"{self.physical_name()}-port-{len(out)}",
                )
                self.data.setdefault("internal_ports", []).append(port["id"])
                out.append({"port": port["id"]})
            else:
                network = lookup.network(self.cloud, self.ctx, item.get("network") or item.get("uuid"))
                entry: dict[str, Any] = {"uuid": network["id"]}
                if item.get("fixed_ip"):
                    entry["fixed_ip"] = item["fixed_ip"]
                out.append(entry)
        return out

    def _bdm_v2(self) -> list[dict[str, Any]] | None:
        items = self.props.get("block_device_mapping_v2")
        if not items:
            return None
        out = []
        for item in items:
            entry = {
                k: v
                for k, v in item.items()
                if v is not None and k not in ("image", "image_id", "volume_id", "snapshot_id", "volume_size")
            }
            if item.get("volume_id"):
                entry.update(source_type="volume", uuid=item["volume_id"], destination_type="volume")
            elif item.get("snapshot_id"):
                entry.update(source_type="snapshot", uuid=item["snapshot_id"], destination_type="volume")
            elif item.get("image") or item.get("image_id"):
                image = lookup.image(self.cloud, self.ctx, item.get("image") or item.get("image_id"))
                entry.update(source_type="image", uuid=image["id"], destination_type="volume")
            elif item.get("swap_size") or item.get("ephemeral_size"):
                entry.update(source_type="blank", destination_type="local")
            if item.get("volume_size") is not None:
                entry["volume_size"] = item["volume_size"]
            out.append(entry)
        return out

    # -- actions -----------------------------------------------------------------------------

    def handle_create(self) -> None:
        props = self.props
        flavor = lookup.flavor(self.cloud, self.ctx, props["flavor"])
        req: dict[str, Any] = {
            "name": props.get("name") or self.physical_name(),
            "flavorRef": flavor["id"],
            "metadata": meta_serialize(props.get("metadata")),
            "config_drive": bool(props.get("config_drive")),
        }
        if props.get("image"):
            req["imageRef"] = lookup.image(self.cloud, self.ctx, props["image"])["id"]
        if props.get("key_name"):
            req["key_name"] = props["key_name"]
        user_data = self._user_data()
        if user_data:
            req["user_data"] = user_data
        networks = self._networks()
        if networks is not None:
            req["networks"] = networks
        if props.get("security_groups"):
            req["security_groups"] = [{"name": str(g)} for g in props["security_groups"]]
        for key, target in (
            ("availability_zone", "availability_zone"),
            ("scheduler_hints", "scheduler_hints"),
            ("tags", "tags"),
        ):
            if props.get(key):
                req[target] = props[key]
        bdm = self._bdm_v2()
        if bdm:
            req["block_device_mapping_v2"] = bdm
        if props.get("admin_pass"):
            req["adminPass"] = props["admin_pass"]
        (server,) = self.cloud.compute.servers.create(self.ctx, req)
        self.resource_id = server["id"]

    def _wait(self, wanted: str) -> bool:
        server = self._server()
        if server is None:
            raise faults.NotFound(f"Instance {self.resource_id} could not be found.")
        status = server["status"]
        if status == "ERROR":
            fault = server.get("fault") or {}
            raise ResourceInError(
                "ERROR", f"Message: {fault.get('message', 'Unknown')}, Code: {fault.get('code', 500)}"
            )
        return status == wanted and server.get("task_state") is None

    def check_create_complete(self) -> bool:
        if not self._wait("ACTIVE"):
            return False
        self._associate_floating_ips()
        return True

    def _associate_floating_ips(self) -> None:
        server = self._server()
        if server is None:
            return
        ports = self.cloud.compute.servers.ports(server)
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
        server = self._server()
        if server is None:
            raise faults.NotFound(f"Instance {self.resource_id} could not be found.")
        servers = self.cloud.compute.servers
        simple: dict[str, Any] = {}
        if "name" in changed:
            simple["name"] = props.get("name") or self.physical_name()
        if "metadata" in changed:
            simple["metadata"] = meta_serialize(props.get("metadata"))
        if "tags" in changed:
            simple["tags"] = props.get("tags") or []
        if simple:
            servers.update(server, simple)
        if "security_groups" in changed:
            before = {str(g) for g in old.get("security_groups") or []}
            after = {str(g) for g in props.get("security_groups") or []}
            for name in sorted(before - after):
                servers.set_security_group(self.ctx, servers.get(self.ctx, server["id"]), name, add=False)
            for name in sorted(after - before):
                servers.set_security_group(self.ctx, servers.get(self.ctx, server["id"]), name, add=True)
        steps: list[list[Any]] = []
        if "image" in changed and props.get("image"):
            steps.append(["rebuild", lookup.image(self.cloud, self.ctx, props["image"])["id"]])
        if "flavor" in changed:
            flavor = lookup.flavor(self.cloud, self.ctx, props["flavor"])
            if flavor["id"] != server["flavor"]["id"]:
                steps.append(["resize", flavor["id"]])
        self.data["steps"] = steps
        self.data["current"] = None

    def check_update_complete(self) -> bool:
        servers = self.cloud.compute.servers
        while True:
            current = self.data.get("current")
            if current is not None:
                kind = current[0]
                if kind == "resize":
                    if not self._wait("VERIFY_RESIZE"):
                        return False
                    servers.act(self.ctx, servers.get(self.ctx, self.resource_id or ""), "confirm_resize")
                    self.data["current"] = ["confirm", None]
                    return False
                if not self._wait("ACTIVE"):
                    return False
                self.data["current"] = None
            steps = self.data.get("steps") or []
            if not steps:
                return self._wait("ACTIVE") or self._wait("SHUTOFF") or self._wait("SUSPENDED")
            kind, arg = steps.pop(0)
            self.data["steps"] = steps
            server = servers.get(self.ctx, self.resource_id or "")
            if kind == "rebuild":
                servers.act(self.ctx, server, "rebuild", image_ref=arg)
            else:
                servers.act(self.ctx, server, "resize", flavor_ref=arg)
            self.data["current"] = [kind, arg]
            return False

    def handle_delete(self) -> None:
        server = self._server()
        if server is not None and server.get("task_state") != "deleting":
            self.cloud.compute.servers.delete(self.ctx, server)

    def check_delete_complete(self) -> bool:
        if self._server() is not None:
            return False
        for port_id in self.data.pop("internal_ports", []):
            with contextlib.suppress(faults.NotFound):
                self.cloud.network.delete_port(self.ctx, port_id)
        return True

    def handle_suspend(self) -> None:
        server = self._server()
        if server is None:
            raise faults.NotFound(f"Instance {self.resource_id} could not be found.")
        if server["status"] == "SUSPENDED":
            return
        self.cloud.compute.servers.act(self.ctx, server, "suspend")

    def check_suspend_complete(self) -> bool:
        return self._wait("SUSPENDED")

    def handle_resume(self) -> None:
        server = self._server()
        if server is None:
            raise faults.NotFound(f"Instance {self.resource_id} could not be found.")
        if server["status"] != "SUSPENDED":
            return
        self.cloud.compute.servers.act(self.ctx, server, "resume")

    def check_resume_complete(self) -> bool:
        return self._wait("ACTIVE")

    def handle_check(self) -> None:
        server = self._server()
        if server is None:
            raise faults.NotFound(f"Instance {self.resource_id} could not be found.")
        if server["status"] != "ACTIVE":
            raise errors.HeatError(f"'status': expected 'ACTIVE', got '{server['status']}'")

    # -- attributes ---------------------------------------------------------------------------

    def _addresses(self, server: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        store = self.store
        for port in self.cloud.compute.servers.ports(server):
            network = store.get("network", port["network_id"]) or {}
            entries = out.setdefault(network.get("name") or port["network_id"], [])
            for ip in port["fixed_ips"]:
                entries.append(
                    {
                        "version": 6 if ":" in ip["ip_address"] else 4,
                        "addr": ip["ip_address"],
                        "OS-EXT-IPS:type": "fixed",
                        "OS-EXT-IPS-MAC:mac_addr": port["mac_address"],
                        "port": port["id"],
                        "subnet_id": ip["subnet_id"],
                    }
                )
            for fip in store.find("floatingip", port_id=port["id"]):
                entries.append(
                    {
                        "version": 4,
                        "addr": fip["floating_ip_address"],
                        "OS-EXT-IPS:type": "floating",
                        "OS-EXT-IPS-MAC:mac_addr": port["mac_address"],
                        "port": port["id"],
                    }
                )
        return out

    def _networks_attr(self, server: dict[str, Any]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for port in self.cloud.compute.servers.ports(server):
            network = self.store.get("network", port["network_id"]) or {}
            ips = [ip["ip_address"] for ip in port["fixed_ips"]]
            ips += [f["floating_ip_address"] for f in self.store.find("floatingip", port_id=port["id"])]
            for key in {network.get("name") or port["network_id"], port["network_id"]}:
                out.setdefault(key, []).extend(ips)
        return out

    def resolve_attribute(self, attr: str) -> Any:
        server = self._server()
        if server is None:
            return None
        if attr == "addresses":
            return self._addresses(server)
        if attr == "networks":
            return self._networks_attr(server)
        if attr == "first_address":
            for entries in self._addresses(server).values():
                for entry in entries:
                    if entry["version"] == 4:
                        return entry["addr"]
            return ""
        if attr == "instance_name":
            return server.get("instance_name")
        if attr == "accessIPv4":
            return server.get("access_ipv4") or ""
        if attr == "accessIPv6":
            return server.get("access_ipv6") or ""
        if attr == "name":
            return server["name"]
        if attr == "tags":
            return list(server.get("tags") or [])
        if attr in ("console_urls", "os_collect_config"):
            return {}
        return None

    def show(self) -> Any:
        server = self._server()
        if server is None:
            return None
        shown = {k: v for k, v in server.items() if k not in ("user_data", "public_key")}
        shown["addresses"] = self._addresses(server)
        return shown


class KeyPair(Resource):
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

    def handle_create(self) -> None:
        from stacksim.services.compute.keypairs import check_name

        name = self.props["name"]
        check_name(name)
        compute = self.cloud.compute
        limit = compute.quotas.limits(self.ctx.project_id or "")["key_pairs"]
        record, private = compute.keypairs.create(
            self.ctx.user_id, name, self.props.get("type") or "ssh", self.props.get("public_key"), limit=limit
        )
        self.resource_id = record["name"]
        if self.props.get("save_private_key") and private:
            self.data["private_key"] = private

    def handle_delete(self) -> None:
        if self.resource_id:
            self.cloud.compute.keypairs.delete(self.ctx.user_id, self.resource_id)

    def handle_check(self) -> None:
        self.cloud.compute.keypairs.get(self.ctx.user_id, self.resource_id or "")

    def _record(self) -> dict[str, Any] | None:
        try:
            return self.cloud.compute.keypairs.get(self.ctx.user_id, self.resource_id or "")
        except faults.NotFound:
            return None

    def resolve_attribute(self, attr: str) -> Any:
        if attr == "private_key":
            return self.data.get("private_key", "")
        record = self._record()
        return None if record is None else record.get("public_key")

    def show(self) -> Any:
        record = self._record()
        return None if record is None else {k: record[k] for k in ("name", "public_key", "fingerprint", "type")}


class Flavor(Resource):
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

    def handle_create(self) -> None:
        if not self.ctx.is_admin:
            raise faults.Forbidden("Policy doesn't allow os_compute_api:os-flavor-manage:create to be performed.")
        flavors = self.cloud.compute.flavors
        props = self.props
        record = flavors.create(
            props.get("name") or self.physical_name(),
            props["ram"],
            props["vcpus"],
            props["disk"],
            id=props.get("flavorid"),
            ephemeral=props["ephemeral"],
            swap=props["swap"],
            rxtx_factor=float(props["rxtx_factor"]),
            is_public=props["is_public"],
            description=props.get("description"),
        )
        self.resource_id = record["id"]
        if props.get("extra_specs"):
            flavors.set_extra_specs(record["id"], {k: str(v) for k, v in props["extra_specs"].items()})
        if not props["is_public"]:
            for tenant in props.get("tenants") or []:
                flavors.add_access(record["id"], tenant)

    def handle_update(self, changed: dict[str, Any], old: dict[str, Any]) -> None:
        flavors = self.cloud.compute.flavors
        flavor_id = self.resource_id or ""
        if "extra_specs" in changed:
            for key in set(old.get("extra_specs") or {}) - set(self.props.get("extra_specs") or {}):
                with contextlib.suppress(faults.NotFound):
                    flavors.delete_extra_spec(flavor_id, key)
            flavors.set_extra_specs(flavor_id, {k: str(v) for k, v in (self.props.get("extra_specs") or {}).items()})
        if "tenants" in changed and not self.props["is_public"]:
            before, after = set(old.get("tenants") or []), set(self.props.get("tenants") or [])
            for tenant in before - after:
                flavors.remove_access(flavor_id, tenant)
            for tenant in after - before:
                flavors.add_access(flavor_id, tenant)
        if "description" in changed:
            flavors.update(flavor_id, self.props.get("description"))

    def handle_delete(self) -> None:
        if self.resource_id:
            self.cloud.compute.flavors.delete(self.resource_id)

    def _record(self) -> dict[str, Any] | None:
        return self.store.get("flavor", self.resource_id) if self.resource_id else None

    def resolve_attribute(self, attr: str) -> Any:
        record = self._record()
        return None if record is None else record.get(attr)

    def show(self) -> Any:
        return self._record()


class ServerGroup(Resource):
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

    def handle_create(self) -> None:
        policy = self.props.get("policy") or (self.props.get("policies") or ["anti-affinity"])[0]
        record = self.cloud.compute.server_groups.create(
            self.ctx.project_id or "",
            self.ctx.user_id,
            self.props.get("name") or self.physical_name(),
            policy,
            self.props.get("rules"),
        )
        self.resource_id = record["id"]

    def handle_delete(self) -> None:
        if self.resource_id:
            self.cloud.compute.server_groups.delete(self.resource_id)

    def show(self) -> Any:
        return self.store.get("server_group", self.resource_id) if self.resource_id else None


TYPES = (Server, KeyPair, Flavor, ServerGroup)
