"""The route table finds, for every service, the route Starlette's Router would (it replaced it)."""

from __future__ import annotations

import re

import pytest
from starlette.routing import Match, Route

from stacksim import routing
from stacksim.services.registry import services

METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE")


def _starlette(routes: list[Route], path: str, method: str) -> tuple[int | None, dict[str, str], bool]:
    """What Starlette's Router picks: (route index or None, path params, whether the path matched)."""
    scope = {"type": "http", "path": path, "root_path": "", "method": method}
    partial = False
    for index, route in enumerate(routes):
        match, child = route.matches(scope)
        if match is Match.FULL:
            return index, child["path_params"], True
        partial = partial or match is Match.PARTIAL
    return None, {}, partial


def _paths(templates: list[str]) -> list[str]:
    """Paths to try: each template filled in several ways, with and without a trailing slash, and odd ones."""
    found = {"", "/", "//", "/nothing/here", "x", "/v3\n", "/v2.1/servers\n", "/v3/regions/r1\n"}
    for template in templates:
        for value in ("abc", "detail", "v3"):
            path = re.sub(r"\{[^}]+\}", value, template)
            found.update({path, path + "/", path.rstrip("/"), path + "/extra", path + "\n", path + "//"})
        found.add(re.sub(r"\{[^}]+\}", "", template))  # an empty segment matches no parameter
    return sorted(found)


@pytest.mark.parametrize("service", services(), ids=lambda s: s.type)
def test_table_finds_the_route_starlette_finds(service) -> None:
    declared = service.api.routes()
    table = routing.Table([(path, frozenset(methods), index) for index, (path, methods, _, _) in enumerate(declared)])
    routes = [Route(path, lambda request: None, methods=list(methods)) for path, methods, _, _ in declared]
    checked = 0
    for path in _paths([path for path, *_ in declared]):
        for method in METHODS:
            assert table.find(path, method) == _starlette(routes, path, method), (path, method)
            checked += 1
        assert table.matches(path) == any(
            r.matches({"type": "http", "path": path, "method": "GET"})[0] != Match.NONE for r in routes
        )
    assert checked > 1000


def test_route_path_is_the_path_below_the_mount() -> None:
    assert routing.route_path({"path": "/compute/v2.1/servers", "root_path": "/compute"}) == "/v2.1/servers"
    assert routing.route_path({"path": "/compute", "root_path": "/compute"}) == ""
    assert routing.route_path({"path": "/computer", "root_path": "/compute"}) == "/computer"
    assert routing.route_path({"path": "/other", "root_path": "/compute"}) == "/other"
    assert routing.route_path({"path": "/x"}) == "/x"


@pytest.mark.parametrize("template", ["/a/x{id}", "/a/{id}.json", "/a/{id:int}", "/a/{path:path}"])
def test_a_template_the_tree_cannot_hold_is_refused(template: str) -> None:
    with pytest.raises(ValueError, match="a parameter must be a whole segment"):
        routing.Table([(template, frozenset({"GET"}), 0)])


def test_a_path_seen_again_finds_the_same_route_and_the_memory_of_paths_is_bounded(monkeypatch) -> None:
    monkeypatch.setattr(routing, "CACHED_PATHS", 3)
    table = routing.Table([("/servers", frozenset({"POST"}), "create"), ("/servers/{id}", frozenset({"GET"}), "show")])
    paths = ["/servers", "/servers/a", "/servers/b", "/servers/c", "/servers/"]
    first = [(table.find(p, m), table.matches(p)) for p in paths for m in ("GET", "POST")]
    again = [(table.find(p, m), table.matches(p)) for p in paths for m in ("GET", "POST")]
    assert first == again
    assert first[0][0] == (None, {}, True) and first[1][0] == ("create", {}, True)  # /servers: 405, then found
    assert first[2][0] == ("show", {"id": "a"}, True)
    assert first[9] == ((None, {}, False), False)  # /servers/: no route
    assert len(table._seen) == 3  # the first three paths only
