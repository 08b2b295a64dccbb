"""The policy matrix (issue 14): for each service, a representative route of each resource kind and verb,
the status every kind of caller gets, as the services' documented default policies say.

Callers: ``admin`` (admin of the admin project), ``member`` (demo), ``reader`` (a user with only the
reader role on demo), ``other`` (alt_demo, a member of another project), ``appcred`` (an application
credential of demo limited by access rules to reading Nova servers) and ``none`` (no token). A
path's ``{id}`` is a resource of the demo project made afresh for each caller; ``{project}`` is the
caller's own project (the catalog's endpoint), ``{user}`` the caller's own user. The table was written
from Keystone's, Nova's, Neutron's, Glance's, Cinder's and Heat's default policies, not from stacksim.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from edge_helpers import MOUNTS, app_cred_token, call, token

CALLERS = ("admin", "member", "reader", "other", "appcred", "none")
SERVER_READS = [
    {"service": "compute", "method": "GET", "path": "/v2.1/servers"},
    {"service": "compute", "method": "GET", "path": "/v2.1/servers/*"},
]
TEMPLATE = {"heat_template_version": "2018-08-31", "resources": {}}
NOVA_237 = {"OpenStack-API-Version": "compute 2.37"}
JSON_PATCH = {"Content-Type": "application/openstack-images-v2.1-json-patch"}

# fmt: off
# Paths are below each service's mount (MOUNTS); the columns are CALLERS (adm: admin ... no: no token).
#   service       resource        verb     method path                                     adm  mem  rea  oth  app  no
TABLE = """
    identity      projects        list     GET    /v3/projects                             200  403  403  403  401  401
    identity      projects        create   POST   /v3/projects                             201  403  403  403  401  401
    identity      projects        show     GET    /v3/projects/{demo_project}              200  200  200  403  401  401
    identity      users           show     GET    /v3/users/{demo_user}                    200  200  403  403  401  401
    identity      roles           list     GET    /v3/roles                                200  403  403  403  401  401
    identity      app-credentials create   POST   /v3/users/{user}/application_credentials 201  201  201  201  401  401
    identity      tokens          validate GET    /v3/auth/tokens                          200  200  200  200  200  401
    compute       servers         list     GET    /v2.1/servers                            200  200  200  200  200  401
    compute       servers         show     GET    /v2.1/servers/{server}                   200  200  200  404  200  401
    compute       servers         create   POST   /v2.1/servers                            202  202  403  202  401  401
    compute       servers         update   PUT    /v2.1/servers/{server}                   200  200  403  404  401  401
    compute       servers         action   POST   /v2.1/servers/{server}/action            202  202  403  404  401  401
    compute       servers         delete   DELETE /v2.1/servers/{server}                   204  204  403  404  401  401
    compute       flavors         list     GET    /v2.1/flavors                            200  200  200  200  401  401
    compute       flavors         create   POST   /v2.1/flavors                            200  403  403  403  401  401
    compute       keypairs        create   POST   /v2.1/os-keypairs                        201  201  201  201  401  401
    compute       quotas          update   PUT    /v2.1/os-quota-sets/{demo_project}       200  403  403  403  401  401
    network       networks        list     GET    /v2.0/networks                           200  200  200  200  401  401
    network       networks        show     GET    /v2.0/networks/{network}                 200  200  200  404  401  401
    network       networks        create   POST   /v2.0/networks                           201  201  403  201  401  401
    network       networks        update   PUT    /v2.0/networks/{network}                 200  200  403  404  401  401
    network       networks        delete   DELETE /v2.0/networks/{network}                 204  204  403  404  401  401
    network       subnets         create   POST   /v2.0/subnets                            201  201  403  404  401  401
    network       security-groups create   POST   /v2.0/security-groups                    201  201  403  201  401  401
    network       routers         create   POST   /v2.0/routers                            201  201  403  201  401  401
    network       floating-ips    create   POST   /v2.0/floatingips                        201  201  403  201  401  401
    image         images          list     GET    /v2/images                               200  200  200  200  401  401
    image         images          show     GET    /v2/images/{image}                       200  200  200  404  401  401
    image         images          create   POST   /v2/images                               201  201  403  201  401  401
    image         images          update   PATCH  /v2/images/{image}                       200  200  403  404  401  401
    image         images          delete   DELETE /v2/images/{image}                       204  204  403  404  401  401
    block-storage volumes         list     GET    /v3/volumes                              200  200  200  200  401  401
    block-storage volumes         show     GET    /v3/volumes/{volume}                     200  200  200  404  401  401
    block-storage volumes         create   POST   /v3/volumes                              202  202  403  202  401  401
    block-storage volumes         update   PUT    /v3/volumes/{volume}                     200  200  403  404  401  401
    block-storage volumes         delete   DELETE /v3/volumes/{volume}                     202  202  403  404  401  401
    block-storage volume-types    create   POST   /v3/types                                200  403  403  403  401  401
    orchestration stacks          list     GET    /v1/{project}/stacks                     200  200  200  200  401  401
    orchestration stacks          show     GET    /v1/{project}/stacks/{stack}             200  200  200  404  401  401
    orchestration stacks          create   POST   /v1/{project}/stacks                     201  201  403  201  401  401
    orchestration stacks          preview  POST   /v1/{project}/stacks/preview             200  200  200  200  401  401
    orchestration stacks          update   PUT    /v1/{project}/stacks/{stack}             202  202  403  404  401  401
    orchestration stacks          check    POST   /v1/{project}/stacks/{stack}/actions     200  200  200  404  401  401
    orchestration stacks          delete   DELETE /v1/{project}/stacks/{stack}             204  204  403  404  401  401
    orchestration templates       validate POST   /v1/{project}/validate                   200  200  403  200  401  401
"""
# fmt: on


@dataclass(frozen=True)
class Cell:
    service: str
    resource: str
    verb: str
    method: str
    path: str
    expected: dict[str, int]

    @property
    def name(self) -> str:
        return f"{self.service}-{self.resource}-{self.verb}"


def _table() -> list[Cell]:
    rows = []
    for line in TABLE.strip().splitlines():
        service, resource, verb, method, path, *codes = line.split()
        expected = dict(zip(CALLERS, map(int, codes), strict=True))
        rows.append(Cell(service, resource, verb, method, MOUNTS[service] + path, expected))
    return rows


ROWS = _table()


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class World:
    """The callers and the demo project's resources the table's paths name."""

    def __init__(self, sim, admin, demo, alt) -> None:
        self.sim, self.admin, self.demo, self.alt = sim, admin, demo, alt
        # room for a resource per caller and row
        admin.set_compute_quotas(demo.current_project_id, instances=100, cores=200, ram=512000)
        admin.set_volume_quotas(demo.current_project_id, volumes=100, gigabytes=1000)
        reader_name = _unique("reader")
        user = call(
            sim.url,
            "POST",
            "/identity/v3/users",
            admin.auth_token,
            json={"user": {"name": reader_name, "password": "stacksim", "domain_id": "default"}},
        ).json()["user"]
        role = next(r for r in admin.identity.roles() if r.name == "reader")
        admin.identity.assign_project_role_to_user(demo.current_project_id, user["id"], role.id)
        cred = call(
            sim.url,
            "POST",
            f"/identity/v3/users/{demo.current_user_id}/application_credentials",
            demo.auth_token,
            json={"application_credential": {"name": _unique("limited"), "access_rules": SERVER_READS}},
        ).json()["application_credential"]
        self.tokens = {
            "admin": admin.auth_token,
            "member": demo.auth_token,
            "reader": token(sim.url, reader_name, project="demo"),
            "other": alt.auth_token,
            "appcred": app_cred_token(sim.url, cred["id"], cred["secret"]),
            "none": None,
        }
        self.users = {
            "admin": admin.current_user_id,
            "member": demo.current_user_id,
            "reader": user["id"],
            "other": alt.current_user_id,
            "appcred": demo.current_user_id,
            "none": demo.current_user_id,
        }
        self.projects = {
            "admin": admin.current_project_id,
            "other": alt.current_project_id,
        }

    def project(self, caller: str) -> str:
        return self.projects.get(caller, self.demo.current_project_id)

    # -- the demo project's resources ------------------------------------------------------------------

    def server(self) -> str:
        image = next(self.demo.image.images())
        flavor = next(f for f in self.demo.compute.flavors() if f.vcpus == 1)
        return self.demo.compute.create_server(
            name=_unique("s"), image_id=image.id, flavor_id=flavor.id, networks="none"
        ).id

    def network(self) -> str:
        return self.demo.network.create_network(name=_unique("n")).id

    def image(self) -> str:
        return self.demo.image.create_image(name=_unique("i"), disk_format="raw", container_format="bare").id

    def volume(self) -> str:
        return self.demo.block_storage.create_volume(size=1, name=_unique("v")).id

    def stack(self) -> str:
        stack = self.demo.orchestration.create_stack(name=_unique("st"), template=TEMPLATE)
        return f"{stack.name}/{stack.id}"

    # -- what each cell sends ---------------------------------------------------------------------------

    def body(self, cell: Cell, caller: str, made: dict[str, str]) -> Any:
        name = _unique("x")
        bodies: dict[str, Callable[[], Any]] = {
            "identity-projects-create": lambda: {"project": {"name": name, "domain_id": "default"}},
            "identity-app-credentials-create": lambda: {"application_credential": {"name": name}},
            "compute-servers-create": lambda: {
                "server": {
                    "name": name,
                    "imageRef": next(self.demo.image.images()).id,
                    "flavorRef": next(f for f in self.demo.compute.flavors() if f.vcpus == 1).id,
                    "networks": "none",
                }
            },
            "compute-servers-update": lambda: {"server": {"name": name}},
            "compute-servers-action": lambda: {"reboot": {"type": "SOFT"}},
            "compute-flavors-create": lambda: {"flavor": {"name": name, "ram": 64, "vcpus": 1, "disk": 1}},
            "compute-keypairs-create": lambda: {"keypair": {"name": name}},
            "compute-quotas-update": lambda: {"quota_set": {"instances": 150}},
            "network-networks-create": lambda: {"network": {"name": name}},
            "network-networks-update": lambda: {"network": {"name": name}},
            "network-subnets-create": lambda: {
                "subnet": {"network_id": made["network"], "cidr": "10.9.0.0/24", "ip_version": 4}
            },
            "network-security-groups-create": lambda: {"security_group": {"name": name}},
            "network-routers-create": lambda: {"router": {"name": name}},
            "network-floating-ips-create": lambda: {
                "floatingip": {"floating_network_id": self.admin.network.find_network("public").id}
            },
            "image-images-create": lambda: {"name": name, "disk_format": "raw", "container_format": "bare"},
            "image-images-update": lambda: [{"op": "replace", "path": "/name", "value": name}],
            "block-storage-volumes-create": lambda: {"volume": {"size": 1, "name": name}},
            "block-storage-volumes-update": lambda: {"volume": {"name": name}},
            "block-storage-volume-types-create": lambda: {"volume_type": {"name": name}},
            "orchestration-stacks-create": lambda: {"stack_name": name, "template": TEMPLATE},
            "orchestration-stacks-preview": lambda: {"stack_name": name, "template": TEMPLATE},
            "orchestration-stacks-update": lambda: {"template": TEMPLATE},
            "orchestration-stacks-check": lambda: {"check": None},
            "orchestration-templates-validate": lambda: {"template": TEMPLATE},
        }
        make = bodies.get(cell.name)
        return make() if make else None

    def headers(self, cell: Cell, caller: str) -> dict[str, str]:
        headers: dict[str, str] = {}
        if cell.service == "compute":
            headers.update(NOVA_237)
        if cell.name == "image-images-update":
            headers.update(JSON_PATCH)
        if cell.name == "identity-tokens-validate" and self.tokens[caller]:
            headers["X-Subject-Token"] = self.tokens[caller]
        return headers

    def status(self, cell: Cell, caller: str) -> int:
        made: dict[str, str] = {}
        path = cell.path
        for kind in ("server", "network", "image", "volume", "stack"):
            if "{" + kind + "}" in path or (kind == "network" and cell.name == "network-subnets-create"):
                made[kind] = getattr(self, kind)()
                path = path.replace("{" + kind + "}", made[kind])
        path = path.format(
            project=self.project(caller),
            user=self.users[caller],
            demo_project=self.demo.current_project_id,
            demo_user=self.demo.current_user_id,
        )
        response = call(
            self.sim.url,
            cell.method,
            path,
            self.tokens[caller],
            json=self.body(cell, caller, made),
            headers=self.headers(cell, caller),
            allow_redirects=False,
        )
        return response.status_code


@pytest.fixture
def world(sim, admin, demo, alt) -> World:
    return World(sim, admin, demo, alt)


@pytest.mark.parametrize("service", list(MOUNTS))
def test_policy(world, service):
    """Every cell of the service's rows; a failure lists each cell that differs."""
    wrong = []
    for cell in (c for c in ROWS if c.service == service):
        got = {caller: world.status(cell, caller) for caller in CALLERS}
        wrong += [
            f"{cell.name} {cell.method} {cell.path} as {c}: {got[c]}, not {cell.expected[c]}"
            for c in CALLERS
            if got[c] != cell.expected[c]
        ]
    assert not wrong, "\n".join(wrong)
