"""pytest plugin for the suite: one test class per testscenarios scenario.

Upstream runs the suite with stestr, whose loader honours a module's
``load_tests = testscenarios.load_tests_apply_scenarios`` and runs a class
with ``scenarios`` once per scenario, the scenario's attributes set.
pytest ignores ``load_tests``, so without this such a test runs once with
no attributes and fails (``cloud/test_meta.py``). Here each scenario
becomes a subclass named ``<Class>_<scenario>``, which is also its node id.
"""

from __future__ import annotations

import unittest
from typing import Any

import pytest
from _pytest.unittest import UnitTestCase


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: Any) -> list[UnitTestCase] | None:
    scenarios = getattr(obj, "scenarios", None)
    if not (scenarios and isinstance(obj, type) and issubclass(obj, unittest.TestCase)):
        return None
    items = []
    for label, attrs in scenarios:
        variant = type(f"{name}_{label}", (obj,), {**attrs, "scenarios": None, "__module__": obj.__module__})
        setattr(collector.obj, variant.__name__, variant)  # pytest looks the class up by name
        items.append(UnitTestCase.from_parent(collector, name=variant.__name__, obj=variant))
    return items
