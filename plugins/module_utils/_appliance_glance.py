# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The cloud side of the appliance modules, private to the opensandbox.cloud collection.

:class:`ApplianceCloud` makes the Glance, Nova and Keystone calls; :func:`apply`
runs a plan from :mod:`._appliance_sync` with them. Adding an appliance is:
verify the data (download it first if it is remote), create the image with its
properties, upload the data streamed from the verified file, check what Glance
stored; if anything after the create fails, the image is deleted again, so a
failed add leaves nothing behind.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ansible_collections.opensandbox.cloud.plugins.module_utils._appliance import (
    ApplianceError,
    appliance_properties,
    same_image_data,
)
from ansible_collections.opensandbox.cloud.plugins.module_utils._appliance_sync import (
    Action,
    Plan,
    Wish,
    image_attributes,
)
from ansible_collections.opensandbox.cloud.plugins.module_utils._appliance_transfer import (
    HashingReader,
    VerificationError,
    staged_image,
)
from ansible_collections.opensandbox.cloud.plugins.module_utils._errors import (
    best_effort,
    failure_message,
    sdk_exception_types,
)
from ansible_collections.opensandbox.cloud.plugins.module_utils._glance import patch_image
from ansible_collections.opensandbox.cloud.plugins.module_utils._kinds import IMAGE, PROJECT
from ansible_collections.opensandbox.cloud.plugins.module_utils._resources import find, to_dict
from ansible_collections.opensandbox.cloud.plugins.module_utils._wait import wait_for


class ApplianceCloud:
    """Glance, Nova and Keystone as the appliance modules use them."""

    def __init__(self, module: Any) -> None:
        self.module = module
        self._projects: dict[str, str] = {}
        self._in_use: dict[str, bool] = {}

    @property
    def conn(self) -> Any:
        return self.module.conn

    # -- who we are ------------------------------------------------------------------------

    def project_id(self, name_or_id: str | None) -> str:
        """The id of a project given by name or id; the token's own project for None.

        Only admins may place images in other projects (Glance lets a member own images
        in its own project only), so for anyone else another project fails at once.
        """
        own_id, own_name = self.module.access.project_id, self.module.access.project_name
        if not name_or_id or name_or_id in (own_id, own_name):
            if not own_id:
                self.module.fail_json(msg="The token is not scoped to a project; name the project (option project).")
            return str(own_id)
        if not self.module.is_admin:
            self.module.fail_json(
                msg=f"Project {name_or_id!r} is not the credentials' own project {own_name!r}; only admin "
                f"credentials may place appliances in other projects (map the VO to {own_name!r} or use an admin)"
            )
        if name_or_id not in self._projects:
            self._projects[name_or_id] = str(find(self.module, PROJECT, name_or_id, required=True).id)
        return self._projects[name_or_id]

    # -- images ------------------------------------------------------------------------------

    def images(self, **filters: Any) -> list[dict[str, Any]]:
        """Every image these credentials see (``filters``: Glance's own, e.g. ``owner``), as plain dicts."""
        listed = self.module.call(self.conn.image.images, **filters) or []
        return [to_dict(IMAGE, image) for image in listed]

    def get(self, image_id: str) -> dict[str, Any]:
        return to_dict(IMAGE, self.module.call(self.conn.image.get_image, image_id))

    def patch(self, image_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        return to_dict(IMAGE, patch_image(self.module, image_id, changes))

    def delete(self, image_id: str) -> None:
        self.module.call(self.conn.image.delete_image, image_id, ignore_missing=True)

    def in_use(self, image_id: str) -> bool:
        """Whether a server runs on the image (in any project with admin credentials, else this one's)."""
        if image_id not in self._in_use:
            servers = self.module.call(self.conn.compute.servers, all_projects=self.module.is_admin, image=image_id)
            self._in_use[image_id] = bool(servers)
        return self._in_use[image_id]

    def add(self, wish: Wish, visibility: str, path: str, what: str) -> dict[str, Any]:
        """Create the appliance's image from the verified file at ``path``; nothing is left if it fails."""
        from openstack.image.v2 import image as sdk_image  # pylint: disable=import-outside-toplevel

        source = wish.appliance.image
        attrs = image_attributes(wish, visibility)
        if attrs["owner"] == self.module.access.project_id:
            del attrs["owner"]  # the default; only admins may name an owner
        body = {**attrs, **appliance_properties(wish.appliance)}
        created = None
        try:
            created = sdk_image.Image.new(**body).create(self.conn.image)
            with HashingReader(path, source.checksum_algorithm) as reader:
                response = created.upload(self.conn.image, data=reader, size=len(reader))
                from openstack import exceptions  # pylint: disable=import-outside-toplevel

                exceptions.raise_from_response(response)
            if reader.hash.hexdigest() != source.checksum:
                raise VerificationError(f"{what}: the file changed after it was verified; nothing was kept in Glance")
            stored = to_dict(IMAGE, wait_for(self.module, IMAGE, created, ready={"active"}, what="hold the data"))
            if same_image_data(stored, source) is False:
                raise ApplianceError(
                    f"{what}: Glance holds other data than was uploaded (size {stored['size']}, "
                    f"{stored['hash_algo']} {stored['hash_value']}); the image was deleted again"
                )
            return stored
        except BaseException as exc:
            if created is not None:
                self._delete_quietly(created.id)
            if isinstance(exc, sdk_exception_types()):
                call = "image.create_image" if created is None else f"image.upload({created.id})"
                raise ApplianceError(f"{what}: {failure_message(call, exc, self.module.cloud_label)}") from None
            raise

    def _delete_quietly(self, image_id: str) -> None:
        problem = best_effort(lambda: self.conn.image.delete_image(image_id, ignore_missing=True))
        if problem:
            self.module.warn(f"Could not delete the half-made image {image_id} ({problem}); delete it by hand.")


@dataclasses.dataclass
class Outcome:
    """What running a plan did: the actions done, and the appliances that failed (with why)."""

    done: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    errors: dict[str, str] = dataclasses.field(default_factory=dict)


def apply(
    cloud: ApplianceCloud,
    plan: Plan,
    *,
    visibility: str,
    tmp_dir: str,
    download: Mapping[str, Any],
    keep_going: bool,
    on_step: Callable[[Action], None] | None = None,
) -> Outcome:
    """Run ``plan``'s actions in order.

    When an appliance's add fails, its other actions are skipped (its old image
    stays as it was) and, with ``keep_going``, the other appliances go on;
    otherwise the error propagates.
    """
    outcome = Outcome()
    for action in plan.actions:
        if action.identifier in outcome.errors:
            continue
        try:
            image_id = _run(cloud, action, visibility, tmp_dir, download)
        except ApplianceError as exc:
            if not keep_going:
                raise
            outcome.errors[action.identifier] = str(exc)
            continue
        summary = action.summary()
        summary["image_id"] = image_id
        outcome.done.append(summary)
        if on_step:
            on_step(action)
    return outcome


def _run(cloud: ApplianceCloud, action: Action, visibility: str, tmp_dir: str, download: Mapping[str, Any]) -> str:
    if action.kind == "add":
        wish = action.wish
        what = f"appliance {wish.appliance.identifier!r} version {wish.appliance.version or '(none)'}"
        with staged_image(wish.appliance.image, tmp_dir, what, **download) as path:
            return cloud.add(wish, visibility, path, what)["id"]
    if action.kind in ("update", "retire"):
        cloud.patch(action.image_id, action.changes)
    elif action.kind == "delete":
        cloud.delete(action.image_id)
    return str(action.image_id)


def only_scope(
    images: Sequence[Mapping[str, Any]], identifier: str | None, image_list: str | None
) -> list[dict[str, Any]]:
    """The appliance images of one appliance (``identifier``) or one image list (``image_list``).

    Filtering is done here: the SDK does not pass custom-property filters to Glance,
    so the images are listed whole (as Cloudkeeper-OS lists them, too).
    """
    kept = []
    for image in images:
        props = image.get("properties") or {}
        if identifier and props.get("APPLIANCE_ID") != identifier:
            continue
        if image_list is not None and (props.get("APPLIANCE_IMAGE_LIST_ID") or "") != image_list:
            continue
        if not props.get("APPLIANCE_ID"):
            continue
        kept.append(dict(image))
    return kept
