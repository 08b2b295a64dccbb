"""A test simulator never mistakes another process on its port for itself (pytest -n starts many at once)."""

from __future__ import annotations

import pytest

from stacksim import control, testing
from stacksim.testing import Simulator


def test_health_names_the_process_that_answers(sim):
    assert control.health(sim.url)["pid"] == sim.proc.pid


def test_a_port_another_simulator_took_is_not_taken_for_ours(sim, monkeypatch):
    ports = iter([sim.port, testing.free_port()])
    monkeypatch.setattr(testing, "free_port", lambda: next(ports))
    with Simulator(extra_args=["--flavors", "devstack"]) as mine:
        assert mine.port != sim.port
        assert control.health(mine.url)["pid"] == mine.proc.pid


def test_a_port_given_and_taken_fails_with_the_reason(sim):
    with pytest.raises(RuntimeError, match="could not listen on port"):
        Simulator(port=sim.port).start()
