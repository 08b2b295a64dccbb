# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Module wrappers for the kit's unit tests.

``make_module``: on a stand-in Block Storage proxy (no cloud). ``live_module``: connected
to a stacksim started once for the session, for the parts of the kit that are about what
the cloud answers (Glance's JSON patch, the token's roles).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml

from ansible_collections.opensandbox.cloud.tests.unit.plugins.module_utils.kit_fakes import fake_module, module_args


@pytest.fixture
def make_module() -> Iterator[Callable[..., object]]:
    """``make_module(args=None, check_mode=False)`` -> a module that lives until the test ends."""
    with contextlib.ExitStack() as stack:
        yield lambda args=None, check_mode=False: stack.enter_context(fake_module(args, check_mode=check_mode))


@pytest.fixture(scope="session")
def stacksim_clouds() -> Iterator[dict[str, Any]]:
    """The clouds.yaml document of a stacksim that runs for the whole session."""
    from stacksim import testing

    with testing.Simulator() as sim:
        yield yaml.safe_load(sim.clouds_yaml.read_text())


@pytest.fixture
def live_module(stacksim_clouds: dict[str, Any]) -> Iterator[Callable[..., Any]]:
    """``live_module(cloud="stacksim", **args)`` -> a module wrapper connected to the session's stacksim."""
    from ansible_collections.opensandbox.cloud.plugins.module_utils._module import AnsibleOpenStackModule

    with contextlib.ExitStack() as stack:

        def make(cloud: str = "stacksim", **args: Any) -> AnsibleOpenStackModule:
            stack.enter_context(module_args({"cloud": cloud, "cloud_config": stacksim_clouds, **args}))
            return AnsibleOpenStackModule(with_wait=True)

        yield make
