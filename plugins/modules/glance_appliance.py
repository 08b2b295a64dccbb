#!/usr/bin/python
# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: glance_appliance
short_description: Keep Glance images in step with appliances and EGI AppDB image lists
version_added: 0.1.0
description:
  - Adds, updates, retires and removes virtual machine appliances as Glance images, the way
    Cloudkeeper-OS does for EGI AppDB image lists.
  - Manages one appliance (O(appliance)) or a whole image list (O(image_list)). Every appliance
    of a list is added or updated, and appliances of that list that are no longer in it are retired.
  - The appliance's fields are stored as the image properties Cloudkeeper-OS writes (C(APPLIANCE_ID),
    C(APPLIANCE_IMAGE_LIST_ID), C(APPLIANCE_TITLE), C(APPLIANCE_VERSION) and the other C(APPLIANCE_*),
    C(APPLIANCE_STATUS) V(ACTIVE) or V(EOL), C(vmcatcher_event_ad_mpuri)), so images a Cloudkeeper
    deployment made are recognised and adopted instead of uploaded again. One property is added,
    C(APPLIANCE_IMAGE_CHECKSUM), the checksum the data was verified against.
  - "Adding an appliance: its image is downloaded (remote) or read (local) and its checksum and size are
    verified before anything is created in Glance; a mismatch fails and leaves nothing. Then the image is
    created with its properties and the data uploaded, streamed from the verified file. A downloaded file
    is always removed."
  - "A new version (other image data) adds a new image; the old one is marked V(EOL) and made private, and
    deleted once no server uses it (checked on every run). Changed metadata only updates the properties."
  - "Retiring an appliance (O(state=absent), or an appliance no longer in its image list) marks its newest
    image V(EOL) and private and keeps it; older images go once no server uses them. O(purge=true)
    deletes every image of the appliance instead."
  - Image data is never held in memory, so appliances of many gigabytes need no more memory than small ones.
author:
  - OpenSandbox contributors (@opensandbox)
options:
  appliance:
    description:
      - One appliance to manage. Its images are found by O(appliance.identifier) and
        O(appliance.image_list_identifier).
      - Mutually exclusive with O(image_list).
    type: dict
    suboptions:
      identifier:
        description: The appliance's identifier (C(dc:identifier) in an image list), stored as C(APPLIANCE_ID).
        type: str
        required: true
      title:
        description: Title; also the Glance image's name (the identifier when there is no title).
        type: str
      description:
        description: Description.
        type: str
      mpuri:
        description: Marketplace URI of the appliance (C(ad:mpuri)).
        type: str
      group:
        description: Group (C(ad:group)).
        type: str
      ram:
        description: Minimum memory in MiB (C(hv:ram_minimum)); also the image's C(min_ram).
        type: int
      core:
        description: Minimum number of CPU cores (C(hv:core_minimum)).
        type: int
      version:
        description: Version of the appliance (C(hv:version)).
        type: str
      architecture:
        description: CPU architecture, for example V(x86_64) (C(sl:arch)).
        type: str
      operating_system:
        description: Operating system, for example V(Linux Ubuntu 24.04).
        type: str
      vo:
        description: Virtual organisation the appliance belongs to; O(vo_mapping) picks its project from it.
        type: str
      expiration_date:
        description:
          - When the appliance expires, as ISO 8601 (V(2030-12-31T00:00:00Z)) or seconds since the epoch.
          - An expired appliance is handled as O(expired) says.
        type: raw
      image_list_identifier:
        description: Identifier of the image list the appliance comes from.
        type: str
      attributes:
        description: Further attributes, stored as JSON in C(APPLIANCE_ATTRIBUTES).
        type: dict
      base_mpuri:
        description: Marketplace URI of the base appliance (C(ad:base_mpuri)).
        type: str
      appid:
        description: AppDB application id (C(ad:appid)).
        type: str
      digest:
        description: Digest of the appliance's metadata, as the image list's publisher computed it.
        type: str
      image:
        description:
          - The appliance's image data. Required with O(state=present).
        type: dict
        suboptions:
          location:
            description:
              - A local path on the managed host (or a C(file://) URL), or an V(http://) or V(https://) URL.
            type: str
            required: true
          format:
            description:
              - Format of the image. V(ova) is stored with container format V(ova) and disk format V(vmdk).
            type: str
            choices: [raw, qcow2, vmdk, ova]
            default: raw
          checksum:
            description:
              - Checksum of the image data as hex digits, or V(<algorithm>:<hex digits>).
              - The data is verified against it before anything is created in Glance.
            type: str
            required: true
          checksum_algorithm:
            description: Algorithm of O(appliance.image.checksum).
            type: str
            choices: [md5, sha1, sha256, sha512]
            default: sha512
          size:
            description: Size of the image data in bytes; verified when given.
            type: int
          username:
            description: User name for HTTP basic authentication at O(appliance.image.location).
            type: str
          password:
            description: Password for HTTP basic authentication at O(appliance.image.location).
            type: str
  image_list:
    description:
      - An EGI AppDB / HEPiX image list whose appliances Glance must match, as a dictionary (the
        parsed JSON, with or without the C(hv:imagelist) key), the path of a file on the managed host,
        or an V(http://) or V(https://) URL.
      - A clear-signed S/MIME list (as AppDB serves it) is read, but its signature is not verified;
        the module warns about it. Verify it beforehand (C(openssl smime -verify)) if that matters.
      - Appliances are found by the list's C(dc:identifier). Images with that C(APPLIANCE_IMAGE_LIST_ID)
        whose appliance is no longer in the list are retired (or deleted with O(purge=true)).
      - When one appliance fails (a wrong checksum, a download error), the others are still synced
        and the task fails at the end naming each failure; the failed appliance's old image stays as it was.
      - Mutually exclusive with O(appliance).
    type: raw
  state:
    description:
      - V(present) adds or updates the appliance(s).
      - V(absent) retires them (V(EOL), private), or deletes them with O(purge=true).
    type: str
    choices: [present, absent]
    default: present
  purge:
    description:
      - Delete retired appliances instead of keeping their newest image as V(EOL). Applies to
        O(state=absent) and, with O(image_list), to appliances no longer in the list.
      - Images are deleted even if servers still run on them (the servers keep running).
    type: bool
    default: false
  expired:
    description:
      - What to do with an appliance whose expiration date has passed (or whose image list has expired).
      - V(retire) does not add it and retires it if it is there; V(remove) deletes its images;
        V(ignore) treats it as valid.
    type: str
    choices: [ignore, retire, remove]
    default: retire
  vo_mapping:
    description:
      - Which project receives the appliances of each VO, as a dictionary or the path of a JSON file on
        the managed host.
      - >-
        The format of Cloudkeeper-OS's C(mapping.json) (V({"dteam": {"project": "EGI_dteam"}})) and of
        its older C(voms.json) (V({"dteam": {"tenant": "EGI_dteam"}})) are both read, and so is
        V({"dteam": "EGI_dteam"}). Projects are given by name or id.
      - An appliance whose VO is not mapped fails, naming the VO.
      - Without it, appliances go to O(project).
    type: raw
  project:
    description:
      - Project (name or id) that receives the appliances when O(vo_mapping) is not given.
      - Defaults to the project the credentials are scoped to. Other projects need admin credentials.
    type: str
  visibility:
    description: Visibility of ACTIVE appliance images. Retired ones are always V(private).
    type: str
    choices: [public, private, shared, community]
    default: private
  download_username:
    description:
      - User name for HTTP basic authentication when downloading O(image_list) and the images.
      - An appliance's own O(appliance.image.username) wins.
    type: str
  download_password:
    description: Password for O(download_username).
    type: str
  download_validate_certs:
    description: Whether to check the TLS certificates of download URLs.
    type: bool
    default: true
  download_timeout:
    description: Seconds to wait for a download server to answer.
    type: int
    default: 300
  tmp_dir:
    description:
      - Directory on the managed host where remote images are downloaded, one at a time, before the upload.
      - It needs room for the largest image. Defaults to Ansible's remote temporary directory.
    type: path
notes:
  - Check mode downloads nothing; it reports the actions a real run would take from what Glance has.
  - Deleting an old version needs to know whether a server still uses it. With admin credentials every
    project's servers are checked; otherwise only those of the credentials' own project.
  - Images outside the credentials' own project are managed only with admin credentials.
extends_documentation_fragment:
  - opensandbox.cloud.openstack
  - opensandbox.cloud.attributes
  - opensandbox.cloud.attributes.actiongroup
  - opensandbox.cloud.attributes.stateful_module
"""

EXAMPLES = r"""
- name: Keep the project's images in step with the VO's image list
  opensandbox.cloud.glance_appliance:
    cloud: mycloud
    image_list: https://appdb.example.org/store/vo/dteam/image.list
    download_username: "{{ appdb_user }}"
    download_password: "{{ appdb_token }}"
    vo_mapping: /etc/cloudkeeper-os/mapping.json
    visibility: private
    expired: remove

- name: Add one appliance from a local file
  opensandbox.cloud.glance_appliance:
    cloud: mycloud
    appliance:
      identifier: 8b1f2c3e-ubuntu-24-04
      title: Ubuntu 24.04 (training)
      version: "2026.01"
      vo: training.example.org
      ram: 2048
      core: 2
      expiration_date: "2027-01-01T00:00:00Z"
      image:
        location: /srv/images/ubuntu-24.04.qcow2
        format: qcow2
        checksum: "sha256:{{ lookup('file', '/srv/images/ubuntu-24.04.qcow2.sha256') }}"
    vo_mapping:
      training.example.org: training
  register: added

- name: Retire it (EOL, private; servers keep running)
  opensandbox.cloud.glance_appliance:
    cloud: mycloud
    appliance:
      identifier: 8b1f2c3e-ubuntu-24-04
    state: absent

- name: Delete every image of it
  opensandbox.cloud.glance_appliance:
    cloud: mycloud
    appliance:
      identifier: 8b1f2c3e-ubuntu-24-04
    state: absent
    purge: true
"""

RETURN = r"""
actions:
  description:
    - What was done (in check mode, what would be done), in order.
  returned: always
  type: list
  elements: dict
  contains:
    action:
      description: V(add), V(update), V(retire) (V(EOL) and private) or V(delete).
      type: str
      sample: add
    identifier:
      description: The appliance's identifier.
      type: str
    image_id:
      description: The image acted on; for V(add), the new image (null in check mode).
      type: str
    reason:
      description: Why, for example V(new version) or V(no longer listed).
      type: str
    project_id:
      description: For V(add), the project the image is created in.
      type: str
    version:
      description: For V(add), the appliance version added.
      type: str
    changes:
      description: For V(update) and V(retire), the image attributes and properties changed.
      type: list
      elements: str
appliances:
  description:
    - Every image of the managed appliance(s) after the run (in check mode, as predicted; an image still
      to be created has a null C(image_id)), with the appliance rebuilt from its properties.
  returned: always
  type: list
  elements: dict
  contains:
    identifier:
      description: The appliance's identifier.
      type: str
    status:
      description: V(ACTIVE), or V(EOL) for a retired or superseded image.
      type: str
    version:
      description: The appliance's version.
      type: str
    title:
      description: The appliance's title.
      type: str
    image_list_identifier:
      description: The image list it comes from.
      type: str
    vo:
      description: Its VO.
      type: str
    expiration_date:
      description: When it expires (ISO 8601, UTC), or null.
      type: str
    image_id:
      description: The Glance image.
      type: str
    image_name:
      description: The Glance image's name.
      type: str
    project_id:
      description: The project that owns the image.
      type: str
    visibility:
      description: The image's visibility.
      type: str
    size:
      description: The image's size in bytes.
      type: int
appliance:
  description:
    - With O(appliance), its current image (the V(ACTIVE) one, else the newest), as in RV(appliances);
      null when it has no image.
  returned: when O(appliance) is given
  type: dict
image_list:
  description: With O(image_list), the list's own fields.
  returned: when O(image_list) is given
  type: dict
  contains:
    identifier:
      description: The list's C(dc:identifier).
      type: str
    title:
      description: The list's title.
      type: str
    vo:
      description: The list's VO (C(ad:vo)).
      type: str
    expires:
      description: When the list expires (ISO 8601, UTC).
      type: str
    signed:
      description: Whether it came as a signed S/MIME message (whose signature was not verified).
      type: bool
    appliances:
      description: The identifiers of the appliances it lists.
      type: list
      elements: str
"""

import time
from typing import Any

from ansible_collections.opensandbox.cloud.plugins.module_utils._appliance import (
    ACTIVE,
    CHECKSUM_ALGORITHMS,
    IMAGE_FORMATS,
    TEXT_FIELDS,
    Appliance,
    ApplianceError,
    appliance_from_spec,
    is_url,
)
from ansible_collections.opensandbox.cloud.plugins.module_utils._appliance_glance import (
    ApplianceCloud,
    apply,
    only_scope,
)
from ansible_collections.opensandbox.cloud.plugins.module_utils._appliance_list import (
    ImageList,
    document_from_text,
    parse_image_list,
    project_for_vo,
    read_text_file,
    vo_mapping,
)
from ansible_collections.opensandbox.cloud.plugins.module_utils._appliance_sync import (
    EXPIRED_POLICIES,
    Wish,
    image_record,
    plan,
    record_order,
)
from ansible_collections.opensandbox.cloud.plugins.module_utils._appliance_transfer import fetch_text
from ansible_collections.opensandbox.cloud.plugins.module_utils._module import AnsibleOpenStackModule
from ansible_collections.opensandbox.cloud.plugins.module_utils._state import build_diff

IMAGE_SPEC = {
    "location": {"type": "str", "required": True},
    "format": {"type": "str", "choices": list(IMAGE_FORMATS), "default": "raw"},
    "checksum": {"type": "str", "required": True},
    "checksum_algorithm": {"type": "str", "choices": list(CHECKSUM_ALGORITHMS), "default": "sha512"},
    "size": {"type": "int"},
    "username": {"type": "str"},
    "password": {"type": "str", "no_log": True},
}
APPLIANCE_SPEC = {
    "identifier": {"type": "str", "required": True},
    **{name: {"type": "str"} for name in TEXT_FIELDS},
    "ram": {"type": "int"},
    "core": {"type": "int"},
    "expiration_date": {"type": "raw"},
    "attributes": {"type": "dict"},
    "image": {"type": "dict", "options": IMAGE_SPEC},
}
ARGUMENT_SPEC = {
    "appliance": {"type": "dict", "options": APPLIANCE_SPEC},
    "image_list": {"type": "raw"},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "purge": {"type": "bool", "default": False},
    "expired": {"type": "str", "choices": list(EXPIRED_POLICIES), "default": "retire"},
    "vo_mapping": {"type": "raw"},
    "project": {"type": "str"},
    "visibility": {"type": "str", "choices": ["public", "private", "shared", "community"], "default": "private"},
    "download_username": {"type": "str"},
    "download_password": {"type": "str", "no_log": True},
    "download_validate_certs": {"type": "bool", "default": True},
    "download_timeout": {"type": "int", "default": 300},
    "tmp_dir": {"type": "path"},
}


def load_image_list(value: Any, download: dict[str, Any]) -> ImageList:
    """The image list from a dict, a local file or a URL."""
    if isinstance(value, dict):
        return parse_image_list(value)
    if not isinstance(value, str) or not value.strip():
        raise ApplianceError("image_list: give the list as a dictionary, a file path or an http(s) URL")
    value = value.strip()
    if is_url(value):
        text = fetch_text(
            value,
            "image_list",
            username=download["username"],
            password=download["password"],
            validate_certs=download["validate_certs"],
            timeout=download["timeout"],
        )
    else:
        text = read_text_file(value, "image_list")
    document, signed = document_from_text(text, value)
    return parse_image_list(document, signed=signed)


def grouped(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Records by appliance identifier, for the diff."""
    out: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        out.setdefault(str(record["identifier"]), []).append(record)
    return out


def current_of(records: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The ACTIVE image's record, else the newest one (records come oldest first)."""
    active = [r for r in records if r["status"] == ACTIVE]
    return (active or records or [None])[-1]


class ApplianceSync:
    """One run of the module: read the wish and Glance, plan, apply (unless in check mode), report."""

    def __init__(self, module: AnsibleOpenStackModule) -> None:
        self.module = module
        self.params = module.params
        self.cloud = ApplianceCloud(module)
        self.download = {
            "username": self.params["download_username"],
            "password": self.params["download_password"],
            "validate_certs": self.params["download_validate_certs"],
            "timeout": self.params["download_timeout"],
        }

    def wishes(self, appliances: tuple[Appliance, ...]) -> list[Wish]:
        """Each appliance with the project it belongs in (not looked up when it is going away)."""
        if self.params["state"] == "absent":
            return [Wish(appliance, "") for appliance in appliances]
        mapping = vo_mapping(self.params["vo_mapping"])
        wishes = []
        for appliance in appliances:
            name = project_for_vo(mapping, appliance.vo, appliance.identifier) if mapping else self.params["project"]
            wishes.append(Wish(appliance, self.cloud.project_id(name)))
        return wishes

    def existing(self, identifier: str | None, image_list: str) -> list[dict[str, Any]]:
        images = self.cloud.images()
        images = only_scope(images, identifier, image_list)
        if not self.module.is_admin:  # others' public images are listed, but are not ours to change
            own = self.cloud.project_id(None)
            images = [i for i in images if i["owner"] == own]
        return images

    def run(self) -> dict[str, Any]:
        params = self.params
        state = params["state"]
        result: dict[str, Any] = {}
        if params["image_list"] is not None:
            image_list = load_image_list(params["image_list"], self.download)
            if image_list.signed:
                self.module.warn(
                    f"The image list {image_list.identifier} is S/MIME signed; its signature was NOT verified."
                )
            appliances, identifier, list_id = image_list.appliances, None, image_list.identifier
            list_expired = image_list.expired(int(time.time()))
            result["image_list"] = image_list.summary()
        else:
            appliance = appliance_from_spec(params["appliance"], require_image=state == "present")
            appliances, identifier, list_id = (appliance,), appliance.identifier, appliance.image_list_identifier
            list_expired = False
        wishes = self.wishes(appliances)
        images = self.existing(identifier, list_id)
        steps = plan(
            wishes,
            images,
            now=int(time.time()),
            state=state,
            purge=params["purge"],
            expired=params["expired"],
            list_expired=list_expired,
            visibility=params["visibility"],
            in_use=self.cloud.in_use,
        )
        actions = [a.summary() for a in steps.actions]
        after = steps.after
        errors: dict[str, str] = {}
        if steps.changed and not self.module.check_mode:
            outcome = apply(
                self.cloud,
                steps,
                visibility=params["visibility"],
                tmp_dir=params["tmp_dir"] or self.module.ansible_module.tmpdir,
                download=self.download,
                keep_going=identifier is None,
            )
            actions, errors = outcome.done, outcome.errors
            after = sorted((image_record(i) for i in self.existing(identifier, list_id)), key=record_order)
        result.update(
            changed=bool(actions),
            actions=actions,
            appliances=after,
            diff=build_diff(grouped(steps.before), grouped(after)),
        )
        if identifier is not None:
            result["appliance"] = current_of([r for r in after if r["identifier"] == identifier])
        if errors:
            failures = "; ".join(f"{ident}: {message}" for ident, message in sorted(errors.items()))
            self.module.fail_json(msg=f"{len(errors)} of {len(wishes)} appliances failed: {failures}", **result)
        return result


def main() -> None:
    module = AnsibleOpenStackModule(
        argument_spec=ARGUMENT_SPEC,
        mutually_exclusive=[("appliance", "image_list"), ("vo_mapping", "project")],
        required_one_of=[("appliance", "image_list")],
        supports_check_mode=True,
    )
    try:
        result = ApplianceSync(module).run()
    except ApplianceError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
