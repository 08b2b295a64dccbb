"""The resource graph: who requires whom, in which order, and cycles.

Edges come from ``get_resource``, ``get_attr`` and ``depends_on`` (and a
resource type's implicit ones: a port waits for its network's subnets).
``requires[a]`` is the set of resources ``a`` needs first. A cycle is
rejected with Heat's ``Circular Dependency Found: {...}`` naming the
resources left in it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from stacksim.heat import errors

Graph = dict[str, set[str]]


def required_by(requires: Mapping[str, set[str]]) -> dict[str, list[str]]:
    """The reverse edges: for each resource, the resources that need it (sorted)."""
    out: dict[str, list[str]] = {name: [] for name in requires}
    for name, needs in requires.items():
        for need in needs:
            out.setdefault(need, []).append(name)
    return {k: sorted(v) for k, v in out.items()}


def order(requires: Mapping[str, set[str]], label: Callable[[str], str] | None = None) -> list[str]:
    """A topological order (requirements first; ties keep the given order), or the cycle error."""
    remaining = {name: set(needs) & set(requires) for name, needs in requires.items()}
    done: list[str] = []
    while remaining:
        ready = [name for name, needs in remaining.items() if not needs]
        if not ready:
            raise errors.CircularDependencyException(describe_cycle(remaining, label))
        for name in ready:
            done.append(name)
            del remaining[name]
        for needs in remaining.values():
            needs.difference_update(ready)
    return done


def describe_cycle(remaining: Mapping[str, Iterable[str]], label: Callable[[str], str] | None = None) -> str:
    show = label or (lambda n: n)
    pairs = [f"{show(name)}: {{{', '.join(show(n) for n in sorted(needs))}}}" for name, needs in remaining.items()]
    return "{" + ", ".join(pairs) + "}"


def ready(requires: Mapping[str, set[str]], done: set[str], started: set[str]) -> list[str]:
    """The resources whose requirements are all done and that have not started."""
    return [n for n, needs in requires.items() if n not in started and needs <= done]


def reverse(requires: Mapping[str, set[str]]) -> Graph:
    """The graph for tear-down: a resource waits for everything that requires it."""
    rev: Graph = {name: set() for name in requires}
    for name, needs in requires.items():
        for need in needs:
            if need in rev:
                rev[need].add(name)
    return rev
