"""Fault injection: make the cloud misbehave on purpose, to test what clients do then.

An admin adds *faults* through ``/_stacksim/faults`` (or ``stacksim faults``):

- an **error**: the next ``count`` calls matching a service, a method and a path
  (below the service's mount, with ``*``/``**`` globs as in access rules) answer
  ``status`` with the service's own error body (``message``), or with ``body`` as
  given, without reaching the service;
- **latency**: matching calls wait ``latency`` seconds first (with a ``status``
  too, they wait and then fail);
- a **hold**: the lifecycle's jobs matching ``job`` (a glob over job names such as
  ``server.build``, ``volume.create``, ``orchestration.run``: the names
  :meth:`Lifecycle.actions` lists) and, if given, ``target`` (a resource id) do not run while the
  fault lasts, so their resources stay in their transitional state (``BUILD``,
  ``creating``, ``CREATE_IN_PROGRESS`` ...); removing the fault lets them run.

``count`` is how many calls (or jobs) a fault catches (1 by default; null: every
one); ``seconds`` makes a fault go by itself after that long. Faults live in
memory: a restart or ``POST /_stacksim/reset`` clears them.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from stacksim import clock, faults, limits
from stacksim.auth import path_matches
from stacksim.web import describe

if TYPE_CHECKING:
    from stacksim.auth import Authenticator
    from stacksim.lifecycle import Lifecycle
    from stacksim.web import Api

PATH = "/_stacksim/faults"


class FaultSpec(BaseModel):
    """What ``POST /_stacksim/faults`` takes (in ``{"fault": {...}}``)."""

    model_config = ConfigDict(extra="forbid")

    service: str = "*"
    method: str = "*"
    path: str = "/**"
    status: int | None = Field(default=None, ge=400, le=599)
    message: str | None = None
    body: Any = None
    headers: dict[str, str] = {}
    latency: float = Field(default=0.0, ge=0, le=600)
    job: str | None = None
    target: str | None = None
    count: int | None = Field(default=1, ge=1)
    seconds: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_kind(self) -> FaultSpec:
        if self.job is not None:
            if self.status is not None or self.latency or self.body is not None or self.message is not None:
                raise ValueError("a hold ('job') takes no status, message, body or latency")
        elif self.status is None and not self.latency:
            raise ValueError("a fault needs a 'status' (an error), a 'latency' or a 'job' (a hold)")
        elif self.target is not None:
            raise ValueError("'target' belongs to a hold: give 'job' too")
        return self


@dataclass
class Fault:
    spec: FaultSpec
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    created: str = field(default_factory=lambda: clock.iso(clock.now()))
    #: calls (or jobs) caught so far
    caught: int = 0
    #: the jobs a hold keeps back
    held: set[str] = field(default_factory=set)

    @property
    def left(self) -> int | None:
        return None if self.spec.count is None else self.spec.count - self.caught

    def view(self) -> dict[str, Any]:
        spec = self.spec.model_dump(exclude_defaults=True)
        kind = "hold" if self.spec.job is not None else "error" if self.spec.status is not None else "latency"
        return {
            "id": self.id,
            "kind": kind,
            **spec,
            "count": self.spec.count,
            "caught": self.caught,
            "left": self.left,
            "created": self.created,
        }


class Faults:
    """The faults in force; thread-safe (the lifecycle asks from its threads)."""

    def __init__(self, services: dict[str, str], lifecycle: Lifecycle | None = None) -> None:
        #: every name a service answers to (type, other catalog types, mount) -> its type
        self.services = services
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._lifecycle = lifecycle
        if lifecycle is not None:
            lifecycle.hold = self.holds

    def add(self, spec: FaultSpec) -> Fault:
        if spec.service != "*":
            if spec.service not in self.services:
                known = ", ".join(sorted(self.services))
                raise faults.BadRequest(f"Invalid input for field 'service': no service {spec.service!r}; {known}.")
            spec = spec.model_copy(update={"service": self.services[spec.service]})
        if spec.job is not None:
            names = self._lifecycle.actions() if self._lifecycle is not None else []
            if not any(fnmatch.fnmatchcase(name, spec.job) for name in names):
                raise faults.BadRequest(
                    f"Invalid input for field 'job': {spec.job!r} matches no job; jobs are {', '.join(names)}."
                )
        spec = spec.model_copy(update={"method": spec.method.upper()})
        fault = Fault(spec)
        with self._lock:
            self._faults.append(fault)
        if spec.seconds is not None:
            asyncio.get_running_loop().call_later(spec.seconds, self.remove, fault.id)
        return fault

    def list(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def remove(self, fault_id: str) -> bool:
        with self._lock:
            gone = [f for f in self._faults if f.id == fault_id]
            self._faults = [f for f in self._faults if f.id != fault_id]
        self._released(gone)
        return bool(gone)

    def clear(self) -> int:
        with self._lock:
            gone, self._faults = self._faults, []
        self._released(gone)
        return len(gone)

    def _released(self, gone: list[Fault]) -> None:
        if self._lifecycle is not None and any(f.held for f in gone):
            self._lifecycle.release()

    def take(self, service: str, method: str, path: str) -> Fault | None:
        """The first error or latency fault matching this call (it counts as caught), if any."""
        with self._lock:
            for fault in self._faults:
                spec = fault.spec
                if spec.job is not None or spec.service not in ("*", service):
                    continue
                if spec.method not in ("*", method) or not path_matches(path, spec.path):
                    continue
                fault.caught += 1
                if fault.left == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def holds(self, job: dict[str, Any]) -> bool:
        """Whether a hold keeps ``job`` (a lifecycle job) from running now."""
        with self._lock:
            for fault in self._faults:
                spec = fault.spec
                if spec.job is None:
                    continue
                if job["id"] in fault.held:
                    return True
                if not fnmatch.fnmatchcase(job["action"], spec.job):
                    continue
                if spec.target is not None and job["target"] != spec.target:
                    continue
                if fault.left is not None and fault.left <= 0:
                    continue
                fault.caught += 1
                fault.held.add(job["id"])
                return True
        return False


async def inject(fault: Fault, api: Api, scope: dict) -> Response | None:
    """Apply an error or latency fault to a call of ``api``: wait, then the response to send (None: go on)."""
    spec = fault.spec
    if spec.latency:
        await asyncio.sleep(spec.latency)
    if spec.status is None:
        return None
    if spec.body is not None:
        return JSONResponse(spec.body, status_code=spec.status, headers=spec.headers)
    message = spec.message or f"Injected fault {fault.id}."
    err = faults.ApiError(message, status=spec.status, kind="InjectedFault", headers=spec.headers)
    return await api.respond(scope, err)


class FaultsEndpoint:
    """``/_stacksim/faults`` (admins only): GET lists, POST adds, DELETE clears;
    ``/_stacksim/faults/{id}``: GET shows, DELETE removes one."""

    def __init__(self, registry: Faults, auth: Authenticator) -> None:
        self.registry = registry
        self.auth = auth

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        try:
            response = await self._answer(Request(scope, receive))
        except faults.ApiError as err:
            response = JSONResponse(faults.keystone(err), err.status, headers=err.headers)
        await response(scope, receive, send)

    async def _answer(self, request: Request) -> Response:
        self.auth.context(request.headers.get("x-auth-token")).require_admin("inject faults")
        rest = request.url.path[len(PATH) :].strip("/")
        method = request.method
        if not rest:
            if method == "GET":
                return JSONResponse({"faults": [f.view() for f in self.registry.list()]})
            if method == "POST":
                spec = await self._spec(request)
                return JSONResponse({"fault": self.registry.add(spec).view()}, status_code=201)
            if method == "DELETE":
                return JSONResponse({"removed": self.registry.clear()})
            raise faults.MethodNotAllowed(f"Use GET, POST or DELETE on {PATH}.", headers={"Allow": "GET, POST, DELETE"})
        fault = next((f for f in self.registry.list() if f.id == rest), None)
        if fault is None:
            raise faults.NotFound(f"Could not find fault: {rest}.")
        if method == "GET":
            return JSONResponse({"fault": fault.view()})
        if method == "DELETE":
            self.registry.remove(fault.id)
            return Response(status_code=204)
        raise faults.MethodNotAllowed(f"Use GET or DELETE on {PATH}/{{id}}.", headers={"Allow": "GET, DELETE"})

    async def _spec(self, request: Request) -> FaultSpec:
        try:
            raw = await limits.read_body(request, limits.MAX_BODY_SIZE)
        except limits.BodyTooLarge as exc:
            raise limits.too_large(exc, "identity") from None
        try:
            data = limits.decode(raw) if raw else None
        except limits.NotJson as exc:
            raise faults.BadRequest(f"Malformed request body: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("fault"), dict):
            raise faults.BadRequest('The request body must be {"fault": {...}}.')
        try:
            return FaultSpec.model_validate(data["fault"])
        except ValidationError as exc:
            raise faults.BadRequest(describe(exc, "fault")) from None


def dumps(fault: dict[str, Any]) -> str:
    """One line for ``stacksim faults list``."""
    what = {k: v for k, v in fault.items() if k not in ("id", "kind", "created", "caught", "left", "count")}
    left = "every call" if fault["left"] is None else f"{fault['left']} left"
    return f"{fault['id']}  {fault['kind']:<7} {left:<10} {json.dumps(what, sort_keys=True)}"
