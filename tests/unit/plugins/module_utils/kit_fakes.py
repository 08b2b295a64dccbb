# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Inputs for the kit's unit tests: a small stand-in for the SDK's Block Storage proxy.

It holds real openstacksdk ``Volume``/``Message`` objects and raises the SDK's real
exceptions, so the kit under test runs exactly as it does against a cloud; only the
HTTP round trips are missing. A volume's ``script`` is the list of statuses its next
reads return (the last one stays), which is how a test makes it move.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator

import pytest
from ansible.module_utils.testing import patch_module_args
from openstack import exceptions as sdk_exc
from openstack.block_storage.v3.message import Message
from openstack.block_storage.v3.volume import Volume

from ansible_collections.opensandbox.cloud.plugins.module_utils._module import AnsibleOpenStackModule


class FakeBlockStorage:
    service_type = "block-storage"

    def __init__(self) -> None:
        self.volumes_by_id: dict[str, Volume] = {}
        self.scripts: dict[str, list[str]] = {}
        self.messages_list: list[Message] = []
        self.calls: list[tuple] = []
        self.busy: int = 0  # how many more calls of ``extend_volume`` answer 409

    def add(self, script: list[str] | None = None, **attrs) -> Volume:
        volume = Volume(**attrs)
        self.volumes_by_id[volume.id] = volume
        if script:
            self.scripts[volume.id] = list(script)
        return volume

    def get_volume(self, volume_id) -> Volume:
        self.calls.append(("get_volume", volume_id))
        volume = self.volumes_by_id.get(volume_id)
        if volume is None:
            raise sdk_exc.NotFoundException(message=f"Volume {volume_id} could not be found.", http_status=404)
        script = self.scripts.get(volume_id)
        if script:
            status = script.pop(0) if len(script) > 1 else script[0]
            if status == "<gone>":
                del self.volumes_by_id[volume_id]
                raise sdk_exc.NotFoundException(message=f"Volume {volume_id} could not be found.", http_status=404)
            volume = Volume(**{**volume.to_dict(computed=False), "status": status})
            self.volumes_by_id[volume_id] = volume
        return volume

    def volumes(self, **query) -> Iterator[Volume]:
        self.calls.append(("volumes", query))
        for volume in list(self.volumes_by_id.values()):
            if all(getattr(volume, k, None) == v for k, v in query.items()):
                yield volume

    def messages(self, **query) -> Iterator[Message]:
        yield from self.messages_list

    def create_volume(self, **attrs) -> Volume:
        self.calls.append(("create_volume", attrs))
        return self.add(id=f"vol-{len(self.volumes_by_id) + 1}", status="available", **attrs)

    def update_volume(self, volume, **attrs) -> Volume:
        self.calls.append(("update_volume", volume.id, attrs))
        updated = Volume(**{**self.volumes_by_id[volume.id].to_dict(computed=False), **attrs})
        self.volumes_by_id[volume.id] = updated
        return updated

    def extend_volume(self, volume, size) -> None:
        self.calls.append(("extend_volume", volume.id, size))
        if self.busy:
            self.busy -= 1
            raise sdk_exc.ConflictException(message="Volume is busy attaching.", http_status=409)
        current = self.volumes_by_id[volume.id].to_dict(computed=False)
        self.volumes_by_id[volume.id] = Volume(**{**current, "size": size})

    def delete_volume(self, volume) -> None:
        self.calls.append(("delete_volume", volume.id))
        self.volumes_by_id.pop(volume.id, None)

    def writes(self) -> list[tuple]:
        return [c for c in self.calls if c[0] not in ("get_volume", "volumes")]


class FakeConn:
    def __init__(self) -> None:
        self.block_storage = FakeBlockStorage()


@contextlib.contextmanager
def module_args(args: dict) -> Iterator[None]:
    with patch_module_args(args):
        yield


@contextlib.contextmanager
def fake_module(args: dict | None = None, *, check_mode: bool = False) -> Iterator[AnsibleOpenStackModule]:
    """A real module wrapper (with ``wait``/``timeout``) whose connection is a ``FakeConn``.

    The module's arguments stay in place for the whole block, as they do in a module run,
    so it may exit or fail inside it.
    """
    given = {"cloud": "fake", "_ansible_check_mode": check_mode, **(args or {})}
    with module_args(given):
        module = AnsibleOpenStackModule(with_wait=True)
        module._conn = FakeConn()  # pylint: disable=protected-access
        yield module


def exit_result(capsys: pytest.CaptureFixture[str], action: Callable[[], object]) -> dict:
    """Run something that ends the module; return the JSON it printed."""
    with pytest.raises(SystemExit):
        action()
    return json.loads(capsys.readouterr().out)
