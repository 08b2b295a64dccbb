# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared pytest set-up for the collection's tests.

Makes ``import ansible_collections.opensandbox.cloud...`` work: in the repository it
lays out ``build/ansible_collections/opensandbox/cloud`` once per session (see
tests/utils/build_collection_tree.py); when the tests already run from inside such a
tree (ansible-test, an installed collection) it uses that tree as it is.
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import sys
import types
from collections.abc import Callable
from pathlib import Path

import pytest

COLLECTION_SRC = Path(__file__).resolve().parents[1]


def load_util(name: str) -> types.ModuleType:
    """Import a script of tests/utils/ (not a package: the Makefile runs them too)."""
    path = COLLECTION_SRC / "tests" / "utils" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"opensandbox_tests_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tree_builder = load_util("build_collection_tree")


def _inside_collection_tree(path: Path) -> bool:
    return path.parent.parent.name == "ansible_collections"


def _built_tree() -> Path:
    """The tree, laid out afresh once per session.

    Under ``pytest -n`` the controller lays it out and its workers use it (one
    worker's ansible-test must not see another relay it); a lock keeps two
    sessions (or a worker started without a controller's tree) from colliding.
    """
    build = COLLECTION_SRC / "build"
    build.mkdir(exist_ok=True)
    with open(build / ".collection-tree.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        target = tree_builder.collection_path(build)
        if os.environ.get("PYTEST_XDIST_WORKER") and (target / "galaxy.yml").is_file():
            return target
        return tree_builder.build(build, COLLECTION_SRC)


COLLECTION_ROOT = COLLECTION_SRC if _inside_collection_tree(COLLECTION_SRC) else _built_tree()
COLLECTIONS_PATH = COLLECTION_ROOT.parents[2]  # the directory holding ansible_collections/

if str(COLLECTIONS_PATH) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS_PATH))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sanity: runs ansible-test sanity on the collection (minutes)")
    config.addinivalue_line("markers", "integration: runs playbooks against a live stacksim")
    config.addinivalue_line("markers", "molecule: runs a Molecule scenario (extensions/molecule)")
    config.addinivalue_line(
        "markers", "delivery: builds, installs, documents or lints the collection as its users get it"
    )


@pytest.fixture(scope="session")
def collection_root() -> Path:
    """The collection as Ansible sees it: ``.../ansible_collections/opensandbox/cloud``."""
    return COLLECTION_ROOT


@pytest.fixture(scope="session")
def collections_path() -> Path:
    """The value for ANSIBLE_COLLECTIONS_PATH (the directory holding ``ansible_collections``)."""
    return COLLECTIONS_PATH


@pytest.fixture(scope="session")
def tests_util() -> Callable[[str], types.ModuleType]:
    """``tests_util("name")`` imports tests/utils/name.py."""
    return load_util


xdist_order = load_util("xdist_order")


@pytest.hookimpl(trylast=True)  # after -k/-m have deselected: plan what runs
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under ``pytest -n N``, give each worker an equal share of the long tests first.

    Each worker collects and orders alike (the plan is deterministic), as xdist requires. The
    docker tests run one after another on one worker: they take turns on the host's docker lock.
    ``--random-order`` and ``--reverse`` keep their own order.
    """
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0"))
    if workers < 2 or _order_asked(config):
        return
    shared = {item.nodeid.split("::", 1)[0] for item in items if _module_scoped(item)}
    docker = {item.nodeid for item in items if item.get_closest_marker("requires_docker")}
    record = xdist_order.load_record()
    items[:] = xdist_order.plan(items, workers, lambda item: item.nodeid, record, shared, docker)


def _order_asked(config: pytest.Config) -> bool:
    """Whether pytest-reverse or pytest-random-order (any of its three options) orders this run."""
    if config.getoption("reverse", False) or config.getoption("random_order_enabled", False):
        return True
    named = (str(config.getoption(name, "default:")) for name in ("random_order_bucket", "random_order_seed"))
    return any(not value.startswith("default:") for value in named)  # the plugin's own defaults say so


def _module_scoped(item: pytest.Item) -> bool:
    """Whether the test uses a fixture set up once per module (or wider than a test, narrower than the session)."""
    info = getattr(item, "_fixtureinfo", None)  # pytest keeps no public view of a test's fixtures
    defs = getattr(info, "name2fixturedefs", {})
    return any(d.scope in ("class", "module", "package") for ds in defs.values() for d in ds)
