"""Servers and what hangs off them, as Nova's API shows them for the call's microversion and role.

Nova's rules: ``OS-EXT-SRV-ATTR:*`` (host, instance name, and from 2.3 the
launch details and user data) only for those its policy lets see them
(admins); ``host_status`` (2.16) likewise; ``progress`` only for the statuses
that have one; a ``fault`` only for ERROR and DELETED servers (its
``details`` for admins or non-500 codes); ``security_groups`` only when the
server has some; ``server_groups`` (2.71) in a single server's view, not in
lists; addresses hidden while the server builds.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from stacksim.services.compute import common, policy
from stacksim.services.compute.build import ROOT_DEVICE
from stacksim.services.compute.clients import HOST
from stacksim.services.compute.servers import Related, addresses, deletes_with
from stacksim.web import Call

PROGRESS_STATUSES = frozenset({"ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING"})
FAULT_STATUSES = frozenset({"ERROR", "DELETED"})


#: the microversions a server's view changes at
_SERVER_VERSIONS = ("2.3", "2.9", "2.16", "2.19", "2.26", "2.47", "2.63", "2.71", "2.73", "2.90", "2.96")


class ServerViews:
    """What the views of one call's servers share, worked out once for all of them: which of
    the view's microversions the call has, the caller's policy answers per project, the
    links' base URLs and the ``hostId`` of each project and host."""

    def __init__(self, call: Call) -> None:
        self.call = call
        self.since = {text: common.since(call, text) for text in _SERVER_VERSIONS}
        self.links = common.Links(call)
        self._allowed: dict[tuple[str, str], bool] = {}
        self._host_ids: dict[tuple[str, str | None], str] = {}

    def allowed(self, rule: str, project: str) -> bool:
        key = (rule, project)
        if key not in self._allowed:
            self._allowed[key] = policy.allowed(self.call.ctx, rule, project)
        return self._allowed[key]

    def host_id(self, project: str, host: str | None) -> str:
        key = (project, host)
        if key not in self._host_ids:
            self._host_ids[key] = common.host_id(project, host)
        return self._host_ids[key]


def _flavor(shared: ServerViews, flavor: dict[str, Any], extra_specs: bool) -> dict[str, Any]:
    if shared.since["2.47"]:
        view = {k: flavor.get(k, 0) for k in ("vcpus", "ram", "disk", "ephemeral", "swap")}
        view["original_name"] = flavor.get("original_name") or flavor["name"]
        if extra_specs:
            view["extra_specs"] = dict(flavor.get("extra_specs") or {})
        return view
    return {"id": flavor["id"], "links": [shared.links.of("flavors", flavor["id"])[1]]}


def _volumes_attached(shared: ServerViews, server: dict[str, Any], related: Related) -> list[dict[str, Any]]:
    out = []
    for attachment in related.attachments.get(server["id"], ()):
        volume_id = attachment["volume_id"]
        entry: dict[str, Any] = {"id": volume_id}
        if shared.since["2.3"]:
            entry["delete_on_termination"] = deletes_with(server, volume_id)
        out.append(entry)
    return out


def security_group_names(server: dict[str, Any], related: Related) -> list[dict[str, str]]:
    names: list[str] = []
    for port in related.ports_of(server):
        for gid in port["security_groups"]:
            group = related.security_groups.get(gid)
            if group and group["name"] not in names:
                names.append(group["name"])
    return [{"name": n} for n in names]


def fault(call: Call, server: dict[str, Any]) -> dict[str, Any] | None:
    found = server.get("fault")
    if not found or server["status"] not in FAULT_STATUSES:
        return None
    view = {"code": found["code"], "created": found["created"], "message": found["message"]}
    if found.get("details") and (call.ctx.is_admin or found["code"] != 500):
        view["details"] = found["details"]
    return view


def server_view(
    call: Call, server: dict[str, Any], related: Related, single: bool = True, shared: ServerViews | None = None
) -> dict[str, Any]:
    """A server's full view (``single``: as ``GET /servers/{id}`` shows it, rather than in a list;
    ``shared``: what the views of the call's other servers worked out already)."""
    shared = shared or ServerViews(call)
    since = shared.since
    project = server["project_id"]
    image: Any = ""
    if server["image_id"]:
        image = {"id": server["image_id"], "links": [shared.links.of("images", server["image_id"])[1]]}
    extra_specs = shared.allowed("os_compute_api:servers:show:flavor-extra-specs", project)
    view: dict[str, Any] = {
        "id": server["id"],
        "name": server["name"],
        "status": server["status"],
        "tenant_id": project,
        "user_id": server["user_id"],
        "metadata": server["metadata"],
        "hostId": shared.host_id(project, server.get("host") if server["vm_state"] != "building" else None),
        "image": image,
        "flavor": _flavor(shared, server["flavor"], extra_specs),
        "created": server["created"],
        "updated": server["updated"],
        "addresses": {} if server["vm_state"] in ("building", "deleted") else addresses(server, related),
        "accessIPv4": server["access_ipv4"] or "",
        "accessIPv6": server["access_ipv6"] or "",
        "links": shared.links.of("servers", server["id"]),
        "OS-DCF:diskConfig": "MANUAL",
    }
    if (found := fault(call, server)) is not None:
        view["fault"] = found
    if server["status"] in PROGRESS_STATUSES:
        view["progress"] = server.get("progress", 0)
    view.update(
        {
            "OS-EXT-AZ:availability_zone": server["availability_zone"] or "",
            "config_drive": "True" if server["config_drive"] else "",
            "key_name": server["key_name"],
            "OS-SRV-USG:launched_at": server["launched_at"],
            "OS-SRV-USG:terminated_at": server["terminated_at"],
        }
    )
    if groups := security_group_names(server, related):
        view["security_groups"] = groups
    extended = shared.allowed("os_compute_api:os-extended-server-attributes", project)
    if extended:
        view.update(
            {
                "OS-EXT-SRV-ATTR:host": server.get("host"),
                "OS-EXT-SRV-ATTR:instance_name": server["instance_name"],
                "OS-EXT-SRV-ATTR:hypervisor_hostname": server.get("host"),
            }
        )
        if since["2.3"]:
            view.update(
                {
                    "OS-EXT-SRV-ATTR:hostname": server["hostname"],
                    "OS-EXT-SRV-ATTR:kernel_id": "",
                    "OS-EXT-SRV-ATTR:launch_index": server["launch_index"],
                    "OS-EXT-SRV-ATTR:ramdisk_id": "",
                    "OS-EXT-SRV-ATTR:reservation_id": server["reservation_id"],
                    "OS-EXT-SRV-ATTR:root_device_name": ROOT_DEVICE,
                    "OS-EXT-SRV-ATTR:user_data": server.get("user_data"),
                }
            )
    view.update(
        {
            "OS-EXT-STS:task_state": server["task_state"],
            "OS-EXT-STS:vm_state": server["vm_state"],
            "OS-EXT-STS:power_state": server["power_state"],
            "os-extended-volumes:volumes_attached": _volumes_attached(shared, server, related),
        }
    )
    if since["2.9"]:
        view["locked"] = bool(server["locked"])
    if since["2.16"] and shared.allowed("os_compute_api:servers:show:host_status", project):
        view["host_status"] = "UP" if server.get("host") else ""
    if since["2.19"]:
        view["description"] = server.get("description")
    if since["2.26"]:
        view["tags"] = list(server["tags"])
    if since["2.63"]:
        view["trusted_image_certificates"] = None
    if single and since["2.71"]:
        view["server_groups"] = related.server_groups.get(server["id"], [])
    if since["2.73"]:
        view["locked_reason"] = server.get("locked_reason")
    if since["2.90"] and not extended:
        view["OS-EXT-SRV-ATTR:hostname"] = server["hostname"]
    if since["2.96"]:
        view["pinned_availability_zone"] = server.get("requested_zone")
    return view


def brief(call: Call, server: dict[str, Any]) -> dict[str, Any]:
    return {"id": server["id"], "name": server["name"], "links": common.links(call, "servers", server["id"])}


def next_link(call: Call, items: list[dict[str, Any]], more: bool) -> dict[str, Any]:
    """A list's ``servers_links``: the same query, starting after the page's last server."""
    if not more:
        return {}
    params = [(k, v) for k, v in call.query.multi_items() if k != "marker"]
    params.append(("marker", items[-1]["id"] if items else ""))
    path = call.request.url.path.rsplit("/v2.1/", 1)[-1]
    return {
        "servers_links": [{"rel": "next", "href": f"{common.base_url(call)}/{path}?{urllib.parse.urlencode(params)}"}]
    }


# -- attachments ----------------------------------------------------------------------------------


def volume_attachment(call: Call, server: dict[str, Any], attachment: dict[str, Any]) -> dict[str, Any]:
    """As Nova shows it: the volume id is the attachment's id until 2.89 gives the real one."""
    volume_id = attachment["volume_id"]
    view: dict[str, Any] = {"serverId": server["id"], "volumeId": volume_id, "device": attachment["mountpoint"]}
    if not common.since(call, "2.89"):
        view["id"] = volume_id
    if common.since(call, "2.70"):
        view["tag"] = None
    if common.since(call, "2.79"):
        view["delete_on_termination"] = deletes_with(server, volume_id)
    if common.since(call, "2.89"):
        view["attachment_id"] = attachment["id"]
        view["bdm_uuid"] = attachment["id"]
    return view


def interface(call: Call, port: dict[str, Any]) -> dict[str, Any]:
    view = {
        "net_id": port["network_id"],
        "port_id": port["id"],
        "mac_addr": port["mac_address"],
        "port_state": port["status"],
        "fixed_ips": [{"subnet_id": ip["subnet_id"], "ip_address": ip["ip_address"]} for ip in port["fixed_ips"]],
    }
    if common.since(call, "2.70"):
        view["tag"] = None
    return view


# -- instance actions ----------------------------------------------------------------------------------


def instance_action(call: Call, record: dict[str, Any]) -> dict[str, Any]:
    keys = ["action", "instance_uuid", "request_id", "user_id", "project_id", "start_time", "message"]
    if common.since(call, "2.58"):
        keys.append("updated_at")
    return {k: record.get(k) for k in keys}


def action_event(call: Call, event: dict[str, Any], project_id: str, admin: bool, details: bool) -> dict[str, Any]:
    view = {k: event.get(k) for k in ("event", "start_time", "finish_time", "result")}
    if admin:
        view["traceback"] = event.get("traceback")
        if common.since(call, "2.62"):
            view["host"] = event.get("host") or HOST
    if common.since(call, "2.62"):
        view["hostId"] = common.host_id(project_id, event.get("host") or HOST)
    if details and common.since(call, "2.84"):
        view["details"] = event.get("details")
    return view


# -- aggregates -------------------------------------------------------------------------------------------


def aggregate(call: Call, record: dict[str, Any], created: bool = False) -> dict[str, Any]:
    view = {
        "availability_zone": record["availability_zone"],
        "created_at": record["created_at"],
        "deleted": False,
        "deleted_at": None,
        "id": record["number"],
        "name": record["name"],
        "updated_at": record["updated_at"],
    }
    if not created:
        view.update(hosts=list(record["hosts"]), metadata=dict(record["metadata"]))
    if common.since(call, "2.41"):
        view["uuid"] = record["uuid"]
    return view
