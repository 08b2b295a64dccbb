"""What Nova still answers for other services, and its extension list.

- ``/images`` (up to 2.35; image metadata up to 2.38): Glance's images as Nova's
  old API showed them, read and changed through Glance with the caller's rights.
- ``/os-floating-ip-pools`` (up to 2.35): the external networks the caller sees.
- ``/extensions``: the v2.1 API's built-in extensions stacksim implements.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from stacksim import clock, faults
from stacksim.services.compute import common, policy, schemas
from stacksim.services.compute.common import api
from stacksim.services.compute.proxies import ImageQuery, Proxies
from stacksim.web import Call, reply

#: The last microversion with Nova's proxy APIs (images, floating IP pools), and image metadata.
MAX_PROXY = "2.36"
MAX_IMAGE_METADATA = "2.39"

GLANCE_STATUS = {
    "active": "ACTIVE",
    "queued": "SAVING",
    "saving": "SAVING",
    "deleted": "DELETED",
    "pending_delete": "DELETED",
    "killed": "ERROR",
}
PROGRESS = {"queued": 25, "saving": 50, "active": 100}


def _proxy(call: Call, removed: str = MAX_PROXY) -> None:
    common.require_version_below(call, removed)


def _image_links(call: Call, image_id: str) -> list[dict[str, str]]:
    links = common.links(call, "images", image_id)
    links.append(
        {
            "rel": "alternate",
            "type": "application/vnd.openstack.image",
            "href": f"{call.cloud.settings.base_url}/image/images/{image_id}",
        }
    )
    return links


def _stamp(text: str | None) -> str | None:
    return clock.iso(clock.parse(text), micro=False) if text else None


def image_view(call: Call, image: dict[str, Any]) -> dict[str, Any]:
    properties = dict(image.get("properties") or {})
    view: dict[str, Any] = {
        "id": image["id"],
        "name": image.get("name"),
        "minRam": int(image.get("min_ram") or 0),
        "minDisk": int(image.get("min_disk") or 0),
        "metadata": properties,
        "created": _stamp(image.get("created_at")),
        "updated": _stamp(image.get("updated_at")),
        "status": GLANCE_STATUS.get(image["status"], "UNKNOWN"),
        "progress": PROGRESS.get(image["status"], 0),
        "OS-EXT-IMG-SIZE:size": image.get("size"),
        "links": _image_links(call, image["id"]),
    }
    server = properties.get("instance_uuid")
    if server:
        view["server"] = {"id": server, "links": common.links(call, "servers", server)}
    return view


def _query(call: Call) -> ImageQuery:
    q = call.query
    server = q.get("server")
    return ImageQuery(
        name=q.get("name"),
        status=q["status"].lower() if "status" in q else None,
        changes_since=schemas.moment(q, "changes-since"),
        server_id=server.rsplit("/", 1)[-1] if server else None,
        image_type=q.get("type"),
        min_ram=schemas.whole(q, "minRam"),
        min_disk=schemas.whole(q, "minDisk"),
        properties={k[len("property-") :]: v for k, v in q.items() if k.startswith("property-")},
        limit=schemas.whole(q, "limit"),
        marker=q.get("marker") or None,
    )


def _images(call: Call, detail: bool) -> Response:
    _proxy(call)
    images, more = call.cloud.compute.proxies.images(call.ctx, _query(call))
    if detail:
        items = [image_view(call, i) for i in images]
    else:
        items = [{"id": i["id"], "name": i.get("name"), "links": _image_links(call, i["id"])} for i in images]
    body: dict[str, Any] = {"images": items}
    if found := common.next_links(call, "images/detail" if detail else "images", images, more):
        body["images_links"] = found
    return reply(body)


@api.route("/v2.1/images")
async def list_images(call: Call) -> Response:
    return _images(call, detail=False)


@api.route("/v2.1/images/detail")
async def list_images_detail(call: Call) -> Response:
    return _images(call, detail=True)


def _proxies(call: Call) -> Proxies:
    return call.cloud.compute.proxies


@api.route("/v2.1/images/{image_id}")
async def show_image(call: Call) -> Response:
    _proxy(call)
    return reply({"image": image_view(call, _proxies(call).image(call.ctx, call.params["image_id"]))})


@api.route("/v2.1/images/{image_id}", methods=("DELETE",))
async def delete_image(call: Call) -> Response:
    _proxy(call)
    _proxies(call).delete_image(call.ctx, call.params["image_id"])
    return reply(status=204)


# -- image metadata ---------------------------------------------------------------------------------


@api.route("/v2.1/images/{image_id}/metadata")
async def list_image_metadata(call: Call) -> Response:
    _proxy(call, MAX_IMAGE_METADATA)
    return reply({"metadata": _proxies(call).image(call.ctx, call.params["image_id"])["properties"]})


@api.route("/v2.1/images/{image_id}/metadata", methods=("POST", "PUT"))
async def set_image_metadata(call: Call) -> Response:
    _proxy(call, MAX_IMAGE_METADATA)
    body = await call.body(schemas.MetadataBody)
    replace = call.request.method == "PUT"
    found = _proxies(call).set_image_metadata(call.ctx, call.params["image_id"], body.metadata, replace)
    return reply({"metadata": body.metadata if replace else found})


@api.route("/v2.1/images/{image_id}/metadata/{key}")
async def show_image_metadata_item(call: Call) -> Response:
    _proxy(call, MAX_IMAGE_METADATA)
    key = call.params["key"]
    properties = _proxies(call).image(call.ctx, call.params["image_id"])["properties"]
    if key not in properties:
        raise faults.NotFound("The resource could not be found.")
    return reply({"meta": {key: properties[key]}})


@api.route("/v2.1/images/{image_id}/metadata/{key}", methods=("PUT",))
async def set_image_metadata_item(call: Call) -> Response:
    _proxy(call, MAX_IMAGE_METADATA)
    body = await call.body(schemas.MetaItem)
    key = call.params["key"]
    if key not in body.meta:
        raise faults.BadRequest("Request body and URI mismatch")
    _proxies(call).set_image_metadata(call.ctx, call.params["image_id"], {key: body.meta[key]}, replace=False)
    return reply({"meta": body.meta})


@api.route("/v2.1/images/{image_id}/metadata/{key}", methods=("DELETE",))
async def delete_image_metadata_item(call: Call) -> Response:
    _proxy(call, MAX_IMAGE_METADATA)
    _proxies(call).delete_image_metadata(call.ctx, call.params["image_id"], call.params["key"])
    return reply(status=204)


# -- floating IP pools ------------------------------------------------------------------------------------


@api.route("/v2.1/os-floating-ip-pools")
async def list_floating_ip_pools(call: Call) -> Response:
    _proxy(call)
    return reply({"floating_ip_pools": [{"name": name} for name in _proxies(call).floating_ip_pools(call.ctx)]})


# -- extensions ---------------------------------------------------------------------------------------------

#: alias -> (name, what it adds); the extensions of Nova's v2.1 API that stacksim implements.
EXTENSIONS = {
    "NMN": ("Multinic", "Adding and removing a server's fixed IPs."),
    "OS-DCF": ("DiskConfig", "The disk configuration attribute."),
    "OS-EXT-AZ": ("ExtendedAvailabilityZone", "A server's availability zone."),
    "OS-EXT-IMG-SIZE": ("ImageSize", "An image's size in image listings."),
    "OS-EXT-IPS": ("ExtendedIps", "The type (fixed or floating) of a server's addresses."),
    "OS-EXT-IPS-MAC": ("ExtendedIpsMac", "The MAC address of a server's addresses."),
    "OS-EXT-SRV-ATTR": ("ExtendedServerAttributes", "A server's host and launch details."),
    "OS-EXT-STS": ("ExtendedStatus", "A server's vm, task and power states."),
    "OS-FLV-DISABLED": ("FlavorDisabled", "Whether a flavor is disabled."),
    "OS-FLV-EXT-DATA": ("FlavorExtraData", "A flavor's ephemeral disk."),
    "OS-SCH-HNT": ("SchedulerHints", "Scheduler hints on server create."),
    "OS-SRV-USG": ("ServerUsage", "A server's launch and termination times."),
    "os-access-ips": ("AccessIPs", "A server's access IPv4 and IPv6 addresses."),
    "os-admin-actions": ("AdminActions", "Resetting a server's state."),
    "os-aggregates": ("Aggregates", "Host aggregates."),
    "os-attach-interfaces": ("AttachInterfaces", "Attaching and detaching a server's interfaces."),
    "os-availability-zone": ("AvailabilityZone", "Availability zones."),
    "os-block-device-mapping-v2-boot": ("BlockDeviceMappingV2Boot", "Booting from volumes."),
    "os-config-drive": ("ConfigDrive", "A server's config drive."),
    "os-console-auth-tokens": ("ConsoleAuthTokens", "What a console token connects to."),
    "os-console-output": ("ConsoleOutput", "A server's console log."),
    "os-extended-quotas": ("ExtendedQuotas", "Deleting a project's quotas and forcing updates."),
    "os-extended-rescue-with-image": ("ExtendedRescueWithImage", "Rescuing a server with another image."),
    "os-extended-services": ("ExtendedServices", "Disabling a service with a reason."),
    "os-extended-volumes": ("ExtendedVolumes", "A server's attached volumes."),
    "os-flavor-access": ("FlavorAccess", "Private flavors and the projects that may use them."),
    "os-flavor-extra-specs": ("FlavorExtraSpecs", "A flavor's extra specs."),
    "os-flavor-manage": ("FlavorManage", "Creating and deleting flavors."),
    "os-flavor-rxtx": ("FlavorRxtx", "A flavor's RX/TX factor."),
    "os-flavor-swap": ("FlavorSwap", "A flavor's swap."),
    "os-floating-ip-pools": ("FloatingIpPools", "The floating IP pools."),
    "os-hypervisor-status": ("HypervisorStatus", "A hypervisor's state and status."),
    "os-hypervisors": ("Hypervisors", "The hypervisors."),
    "os-instance-actions": ("InstanceActions", "What was done to a server."),
    "os-keypairs": ("Keypairs", "Key pairs."),
    "os-lock-server": ("LockServer", "Locking and unlocking a server."),
    "os-migrations": ("Migrations", "Migrations."),
    "os-multiple-create": ("MultipleCreate", "Creating several servers at once."),
    "os-pause-server": ("PauseServer", "Pausing and unpausing a server."),
    "os-quota-class-sets": ("QuotaClasses", "Quota classes."),
    "os-quota-sets": ("Quotas", "Quotas."),
    "os-rescue": ("Rescue", "Rescuing and unrescuing a server."),
    "os-security-groups": ("SecurityGroups", "A server's security groups."),
    "os-server-diagnostics": ("ServerDiagnostics", "A server's diagnostics."),
    "os-server-group-quotas": ("ServerGroupQuotas", "Server group quotas."),
    "os-server-groups": ("ServerGroups", "Server groups."),
    "os-server-list-multi-status": ("ServerListMultiStatus", "Listing servers by several statuses."),
    "os-server-sort-keys": ("ServerSortKeys", "Sorting server lists."),
    "os-server-start-stop": ("ServerStartStop", "Starting and stopping a server."),
    "os-services": ("Services", "The compute services."),
    "os-shelve": ("Shelve", "Shelving and unshelving a server."),
    "os-simple-tenant-usage": ("SimpleTenantUsage", "Usage reports."),
    "os-suspend-server": ("SuspendServer", "Suspending and resuming a server."),
    "os-used-limits": ("UsedLimits", "Usage in the limits."),
    "os-user-data": ("UserData", "A server's user data."),
    "os-volume-attachment-update": ("VolumeAttachmentUpdate", "Updating a volume attachment."),
}


def _extension(alias: str) -> dict[str, Any]:
    name, description = EXTENSIONS[alias]
    return {
        "alias": alias,
        "description": description,
        "links": [],
        "name": name,
        "namespace": "http://docs.openstack.org/compute/ext/fake_xml",
        "updated": "2014-12-03T00:00:00Z",
    }


@api.route("/v2.1/extensions")
async def list_extensions(call: Call) -> Response:
    policy.authorize(call.ctx, "os_compute_api:extensions")
    return reply({"extensions": [_extension(alias) for alias in EXTENSIONS]})


@api.route("/v2.1/extensions/{alias}")
async def show_extension(call: Call) -> Response:
    policy.authorize(call.ctx, "os_compute_api:extensions")
    if call.params["alias"] not in EXTENSIONS:
        raise faults.NotFound("The resource could not be found.")
    return reply({"extension": _extension(call.params["alias"])})
