# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``make_module``: a module wrapper on a stand-in Block Storage proxy, for the kit's unit tests."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest

from ansible_collections.opensandbox.cloud.tests.unit.plugins.module_utils.kit_fakes import fake_module


@pytest.fixture
def make_module() -> Iterator[Callable[..., object]]:
    """``make_module(args=None, check_mode=False)`` -> a module that lives until the test ends."""
    with contextlib.ExitStack() as stack:
        yield lambda args=None, check_mode=False: stack.enter_context(fake_module(args, check_mode=check_mode))
