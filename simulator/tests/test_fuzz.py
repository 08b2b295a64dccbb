"""Fuzzing every route (issue 14): random path values, query strings and bodies, as admin or member.

Whatever is sent, the answer is no 5xx, no plain-text error, and ``/health`` answers after. The
examples are derandomized (the same every run, so the suite stays deterministic); set
``STACKSIM_FUZZ_EXAMPLES`` for more of them and ``STACKSIM_FUZZ_SEED`` for other ones.
"""

from __future__ import annotations

import json
import os
import re
import urllib.parse

import pytest
import requests
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from stacksim.services.registry import services

EXAMPLES = int(os.environ.get("STACKSIM_FUZZ_EXAMPLES", "60"))
SEED = os.environ.get("STACKSIM_FUZZ_SEED") or None

#: (service type, mount, path template, method, streams)
ROUTES = [
    (s.type, s.prefix, path, method, stream)
    for s in services()
    for path, methods, _public, stream in s.api.routes()
    for method in methods
]

_scalars = st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False, allow_infinity=False)
_text = st.text(max_size=40) | st.sampled_from(["", "default", "public", "admin", "1", "-1", "10.0.0.1/24", "x" * 300])
#: JSON text may hold lone surrogates (sent as \\ud800 escapes); URLs cannot carry them
_surrogates = st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3)
_json = st.recursive(
    _scalars | _text | _surrogates,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_text, inner, max_size=5),
    max_leaves=20,
)
#: bodies shaped like the services' own, with random insides
_shaped = st.builds(
    lambda root, inner: {root: inner},
    st.sampled_from(
        [
            "auth",
            "server",
            "network",
            "subnet",
            "port",
            "router",
            "volume",
            "snapshot",
            "project",
            "user",
            "keypair",
            "flavor",
            "security_group",
            "floatingip",
            "quota_set",
            "stack_name",
            "application_credential",
            "os-start",
            "reboot",
            "os-extend",
            "template",
        ]
    ),
    _json,
)
#: what no JSON parser should be asked to hold: deep nesting, lone surrogates, no JSON at all
_hostile = st.sampled_from([b"[" * 5000 + b"]" * 5000, b'{"a": "\\ud800"}', b'{"\\udfff": 1}', b"[NaN]"])
_bodies = st.one_of(
    st.none(), _json, _shaped, st.binary(max_size=200).map(lambda b: ("raw", b)), _hostile.map(lambda b: ("raw", b))
)
_queries = st.dictionaries(
    st.sampled_from(
        [
            "limit",
            "marker",
            "sort_key",
            "sort_dir",
            "name",
            "status",
            "all_tenants",
            "all_projects",
            "changes-since",
            "fields",
            "project_id",
            "tags",
            "detail",
            "visibility",
            "with_count",
        ]
    )
    | _text,
    _text | st.sampled_from(["garbage", "2020-01-01T00:00:00Z", "-1", "1e99", "true", "name:asc"]),
    max_size=4,
)
_odd = st.text(st.characters(codec="utf-8", exclude_characters="/?#%"), min_size=1, max_size=20)


def _known_ids(admin, demo) -> list[str]:
    """Ids of the bootstrap cloud, so that paths reach real resources too."""
    ids = [admin.current_project_id, demo.current_project_id, admin.current_user_id, demo.current_user_id]
    ids += [admin.network.find_network("public").id, next(admin.image.images()).id]
    ids += [f.id for f in admin.compute.flavors()][:2] + [r.id for r in admin.identity.roles()][:2]
    ids += [t.id for t in admin.block_storage.types()][:1]
    return [*ids, "default", "public", "0", "x", "admin", "demo"]


def _fill(template: str, data, known: list[str]) -> str:
    values = st.sampled_from(known) | _odd
    return re.sub(r"\{[^}]+\}", lambda _: urllib.parse.quote(data.draw(values), safe=""), template)


@pytest.mark.parametrize("service", sorted({r[0] for r in ROUTES}))
def test_no_route_answers_a_5xx_or_plain_text(sim, admin, demo, service):
    routes = [r for r in ROUTES if r[0] == service]
    tokens = [admin.auth_token, demo.auth_token]
    known = _known_ids(admin, demo)
    seen: list[str] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=SEED is None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def fuzz(data):
        _, mount, template, method, _stream = data.draw(st.sampled_from(routes))
        path = mount + _fill(template, data, known)
        body = data.draw(_bodies)
        query = data.draw(_queries)
        headers = {"Accept": "application/json", "X-Auth-Token": data.draw(st.sampled_from(tokens))}
        if isinstance(body, tuple):
            content = body[1]
        elif body is not None:
            content = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        else:
            content = None
        response = requests.request(method, sim.url + path, params=query, data=content, headers=headers, timeout=60)
        what = f"{method} {response.url} {content!r:.300} -> {response.status_code} {response.text[:300]}"
        seen.append(what)
        assert response.status_code < 500, what
        if response.status_code >= 400 and method != "HEAD":
            assert response.headers.get("content-type", "").startswith("application/json"), what

    if SEED is not None:
        fuzz = seed(int(SEED))(fuzz)
    fuzz()
    assert seen
    import collections

    print(service, collections.Counter(w.split(" -> ")[1][:3] for w in seen))
    assert requests.get(f"{sim.url}/health", timeout=10).json()["status"] == "ok"
