# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The shared module wrapper of the opensandbox.cloud collection (private to it).

``AnsibleOpenStackModule`` wraps ``AnsibleModule``: it adds the shared connection
options to the module's own argument spec, opens the openstacksdk connection the
first time ``conn`` is read (never in the constructor, so pure code runs without the
SDK), and turns SDK errors into ``fail_json`` messages that name the failed call, its
key arguments and the cloud.

Modules call the SDK through ``call``/``call_or_none`` with the SDK method itself
(no lookup by name), or wrap other SDK work in ``with module.sdk_errors(...)``;
``call_or_none`` turns "not found" into ``None`` and ``call_retrying_conflict`` retries
a call the cloud refuses with 409 Conflict while it is busy.

At start the wrapper checks the installed openstacksdk against ``MIN_SDK_VERSION``.
The connection comes from ``cloud`` (a clouds.yaml entry), ``auth`` (credentials given
directly) or ``cloud_config`` (a whole clouds.yaml document as data, see
``_cloud_config``); it authenticates as soon as it opens, so wrong credentials fail the
module at once with one message, whatever it was about to do. The state kit built on
this wrapper (ensure/diff, waits, find, to-dict) is described in ``_state``.
"""

from __future__ import annotations

import contextlib
import copy
import os
import re
import sys
import time
import traceback
import types
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any, NoReturn

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.opensandbox.cloud.plugins.module_utils._cloud_config import (
    CloudConfigError,
    secret_values,
    select_cloud,
)
from ansible_collections.opensandbox.cloud.plugins.module_utils._errors import (
    callable_name,
    failure_message,
    format_call,
    one_line,
    sdk_exception_types,
    status_code,
)
from ansible_collections.opensandbox.cloud.plugins.module_utils._wait import Backoff

COLLECTION_NAME = "opensandbox.cloud"
COLLECTION_VERSION = "0.1.0"
#: The oldest openstacksdk the collection is tested with (constraints.txt pins the one CI runs).
MIN_SDK_VERSION = "4.22.0"
#: How ``call_retrying_conflict`` waits between attempts: about 10 s in all.
CONFLICT_BACKOFF = Backoff(initial=0.25, factor=2.0, cap=3.0)
CONFLICT_ATTEMPTS = 6

# The keystoneauth options accepted in ``auth``: enough for the password, token,
# v3applicationcredential and v3token plugins.  Other plugins: use a clouds.yaml entry.
AUTH_SECRETS = ("password", "token", "application_credential_secret")
AUTH_PLAIN = (
    "auth_url",
    "username",
    "user_id",
    "user_domain_name",
    "user_domain_id",
    "project_name",
    "project_id",
    "project_domain_name",
    "project_domain_id",
    "domain_name",
    "domain_id",
    "default_domain_name",
    "default_domain_id",
    "system_scope",
    "application_credential_id",
    "application_credential_name",
    "trust_id",
)


def _auth_suboptions() -> dict[str, dict[str, Any]]:
    spec: dict[str, dict[str, Any]] = {name: {"type": "str"} for name in AUTH_PLAIN}
    spec.update({name: {"type": "str", "no_log": True} for name in AUTH_SECRETS})
    return spec


def connection_argument_spec() -> dict[str, dict[str, Any]]:
    """Return a fresh copy of the shared connection options."""
    return {
        "cloud": {"type": "str"},
        # Its secrets are masked by ``_Module`` (no_log on the whole dict would mask every value).
        "cloud_config": {"type": "dict", "no_log": False},
        "auth": {"type": "dict", "options": _auth_suboptions()},
        "auth_type": {"type": "str"},
        "region_name": {"type": "str"},
        "interface": {"type": "str", "default": "public", "choices": ["public", "internal", "admin"]},
        "validate_certs": {"type": "bool"},
        "ca_cert": {"type": "path"},
        "client_cert": {"type": "path"},
        "client_key": {"type": "path", "no_log": False},
        "api_timeout": {"type": "int"},
    }


def wait_argument_spec() -> dict[str, dict[str, Any]]:
    """Return a fresh copy of the opt-in ``wait``/``timeout`` options."""
    return {
        "wait": {"type": "bool", "default": True},
        "timeout": {"type": "int", "default": 180},
    }


def merge_argument_spec(
    module_spec: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    with_wait: bool = False,
) -> dict[str, dict[str, Any]]:
    """Merge a module's own options with the shared ones, without touching the input.

    A module option may not reuse the name (or an alias) of a shared option: that
    would silently change how every module of the collection connects.
    """
    shared = connection_argument_spec()
    if with_wait:
        shared.update(wait_argument_spec())
    taken = set(shared)
    for spec in shared.values():
        taken.update(spec.get("aliases", ()))
    merged = copy.deepcopy(shared)
    for name, spec in (module_spec or {}).items():
        clashes = sorted(taken.intersection([name, *spec.get("aliases", ())]))
        if clashes:
            raise ValueError(f"module option {name!r} clashes with the shared option(s) {', '.join(clashes)}")
        merged[name] = copy.deepcopy(dict(spec))
    return merged


def connection_kwargs(params: Mapping[str, Any]) -> dict[str, Any]:
    """Translate the module's connection options into ``openstack.connect`` arguments.

    Options left unset are not passed, so clouds.yaml and the OS_* environment fill them.
    ``cloud_config`` is not an SDK argument: ``AnsibleOpenStackModule.conn`` handles it.
    """
    kwargs: dict[str, Any] = {}
    simple = {
        "cloud": "cloud",
        "auth_type": "auth_type",
        "region_name": "region_name",
        "interface": "interface",
        "validate_certs": "verify",
        "ca_cert": "cacert",
        "client_cert": "cert",
        "client_key": "key",
        "api_timeout": "api_timeout",
    }
    for option, sdk_name in simple.items():
        if params.get(option) is not None:
            kwargs[sdk_name] = params[option]
    auth = {key: value for key, value in (params.get("auth") or {}).items() if value is not None}
    if auth:
        kwargs["auth"] = auth
    return kwargs


def _version_tuple(text: str) -> tuple[int, ...]:
    """``4.22.0`` -> ``(4, 22, 0)``; a suffix such as ``rc1`` or ``.dev3`` ends the numbers."""
    numbers = []
    for part in text.split("."):
        match = re.match(r"\d+", part)
        if not match:
            break
        numbers.append(int(match.group()))
        if match.end() != len(part):
            break
    return tuple(numbers)


def sdk_version_problem(installed: str | None, minimum: str = MIN_SDK_VERSION) -> str | None:
    """Say what is wrong with the installed openstacksdk version, or ``None`` if it will do."""
    if installed is None:
        return None  # not installed: ``conn`` reports the missing library when it is needed
    have, need = _version_tuple(installed), _version_tuple(minimum)
    width = max(len(have), len(need))
    if have + (0,) * (width - len(have)) >= need + (0,) * (width - len(need)):
        return None
    return (
        f"openstacksdk {installed} is too old for {COLLECTION_NAME}, which needs openstacksdk >= {minimum}; "
        f"upgrade it where the module runs: pip install --upgrade 'openstacksdk>={minimum}'"
    )


def installed_sdk_version() -> str | None:
    """The openstacksdk version installed for this Python, without importing it; ``None`` if absent."""
    from importlib import metadata  # pylint: disable=import-outside-toplevel

    try:
        return metadata.version("openstacksdk")
    except metadata.PackageNotFoundError:
        return None


@contextlib.contextmanager
def _payload_off_sys_path() -> Iterator[None]:
    """Take Ansible's module payload (a zip file) off ``sys.path`` while the SDK loads its auth plugin.

    keystoneauth finds auth plugins with stevedore, which caches the installed entry points
    in ``~/.cache/python-entrypoints`` under a hash of ``sys.path``. The payload's path is new
    on every run, so every run would miss that cache, read every installed package's metadata
    again and leave another file of about 100 KB there. The payload holds no packages' metadata,
    so nothing it could find changes. Only SDK code runs in the block: nothing there imports
    from the payload.
    """
    here = os.path.abspath(__file__)
    payload = next((p for p in sys.path if p and here.startswith(p + os.sep) and os.path.isfile(p)), None)
    if payload is None:  # not run from a payload (unit tests, an unpacked module)
        yield
        return
    index = sys.path.index(payload)
    del sys.path[index]
    try:
        yield
    finally:
        sys.path.insert(index, payload)


class _Module(AnsibleModule):
    """``AnsibleModule`` that masks the secrets of ``cloud_config`` from the moment it reads its arguments.

    Marking the whole ``cloud_config`` dict ``no_log`` would mask every value in it, so a
    project or region named there would vanish from all output; this masks only the
    values under secret keys, and does it before validation can fail or anything is logged.
    """

    def _load_params(self) -> None:
        super()._load_params()
        self.no_log_values.update(secret_values((self.params or {}).get("cloud_config")))


class AnsibleOpenStackModule:
    """An ``AnsibleModule`` with the collection's connection options and a lazy SDK connection."""

    def __init__(
        self,
        argument_spec: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        with_wait: bool = False,
        supports_check_mode: bool = True,
        **kwargs: Any,
    ) -> None:
        self._module = _Module(
            argument_spec=merge_argument_spec(argument_spec, with_wait=with_wait),
            supports_check_mode=supports_check_mode,
            **kwargs,
        )
        # Again after validation: a document given as a JSON string is a dict only now.
        self._module.no_log_values.update(secret_values(self.params.get("cloud_config")))
        self._conn: Any = None
        self._access: Any = None
        self._cloud_name: str | None = None
        problem = sdk_version_problem(installed_sdk_version())
        if problem:
            self.fail_json(msg=problem)

    # What modules read from the wrapped AnsibleModule.
    @property
    def params(self) -> dict[str, Any]:
        return self._module.params

    @property
    def check_mode(self) -> bool:
        return bool(self._module.check_mode)

    @property
    def diff_mode(self) -> bool:
        return bool(self._module._diff)  # pylint: disable=protected-access

    @property
    def ansible_module(self) -> AnsibleModule:
        return self._module

    @property
    def cloud_label(self) -> str | None:
        """How messages name this cloud: ``cloud 'NAME'``, or ``the cloud at AUTH_URL``."""
        if self.params.get("cloud_config") is not None:
            name = self._cloud_name or self.params.get("cloud")
            return f"cloud {name!r} of cloud_config" if name else "the cloud of cloud_config"
        if self.params.get("cloud"):
            return f"cloud {self.params['cloud']!r}"
        auth_url = (self.params.get("auth") or {}).get("auth_url")
        return f"the cloud at {auth_url}" if auth_url else None

    def exit_json(self, **kwargs: Any) -> NoReturn:
        self._module.exit_json(**kwargs)
        raise AssertionError("exit_json returned")  # pragma: no cover

    def fail_json(self, msg: str, **kwargs: Any) -> NoReturn:
        """Fail the module; the message is folded onto one line."""
        self._module.fail_json(msg=one_line(msg), **kwargs)
        raise AssertionError("fail_json returned")  # pragma: no cover

    def warn(self, warning: str) -> None:
        self._module.warn(warning)

    def debug(self, msg: str) -> None:
        self._module.debug(msg)

    # The connection.
    def _import_sdk(self) -> types.ModuleType:
        try:
            import openstack  # pylint: disable=import-outside-toplevel
        except ImportError:
            self.fail_json(msg=missing_required_lib("openstacksdk"), exception=traceback.format_exc())
        return openstack

    @property
    def conn(self) -> Any:
        """The ``openstack.connection.Connection``, opened and authenticated on first use."""
        if self._conn is None:
            sdk = self._import_sdk()
            kwargs = connection_kwargs(self.params)
            document = self.params.get("cloud_config")
            try:
                if document is None:
                    with _payload_off_sys_path():
                        conn = sdk.connect(app_name=COLLECTION_NAME, app_version=COLLECTION_VERSION, **kwargs)
                else:
                    conn = self._connect_with_document(sdk, document, kwargs)
            except sdk_exception_types() as exc:
                # The call already names the cloud; no "on cloud ..." suffix.
                shown = dict(kwargs, cloud_config="...") if document is not None else kwargs
                what = format_call("openstack.connect", (), shown)
                self.fail_json(msg=failure_message(what, exc), exception=traceback.format_exc())
            self._authenticate(conn)
            self._conn = conn
        return self._conn

    def _connect_with_document(self, sdk: types.ModuleType, document: Any, kwargs: dict[str, Any]) -> Any:
        """Connect with the cloud that ``cloud_config`` (checked first) defines, and nothing else.

        Neither clouds.yaml files nor OS_* variables are read; the other connection options
        (``auth``, ``region_name`` ...) override the entry's settings, as they do for ``cloud``.
        """
        try:
            name, entry = select_cloud(document, kwargs.pop("cloud", None))
        except CloudConfigError as exc:
            self.fail_json(msg=str(exc))
        self._cloud_name = name
        loader = sdk.config.OpenStackConfig(
            load_yaml_config=False, load_envvars=False, app_name=COLLECTION_NAME, app_version=COLLECTION_VERSION
        )
        # What the loader would have read from a clouds.yaml file holding only this entry.
        loader.cloud_config = {"clouds": {name: entry}}
        with _payload_off_sys_path():
            return sdk.connection.Connection(config=loader.get_one(cloud=name, **kwargs))

    def _authenticate(self, conn: Any) -> None:
        """Get the token now, so bad credentials fail here with one message, before any work starts."""
        try:
            conn.session.get_token()
        except sdk_exception_types() as exc:
            hint = None
            if status_code(exc) == 401 and self._cloud_name:
                hint = (
                    f"Check the credentials in cloud_config.clouds.{self._cloud_name}.auth (username, password, "
                    "project and domains), in the credential or vault that holds the document."
                )
            self.fail_json(
                msg=failure_message("authentication", exc, self.cloud_label, hint=hint),
                exception=traceback.format_exc(),
            )

    @property
    def access(self) -> Any:
        """The token's keystoneauth ``AccessInfo``: ``role_names``, ``project_id``, ``project_name`` ..."""
        if self._access is None:
            with self.sdk_errors("authentication (session.auth.get_access)"):
                self._access = self.conn.session.auth.get_access(self.conn.session)
        return self._access

    @property
    def is_admin(self) -> bool:
        """Whether the token carries the ``admin`` role: what OpenStack's default policies ask of a cloud admin."""
        return "admin" in (self.access.role_names or [])

    # Error handling.
    def fail_for(self, what: str, exc: BaseException) -> NoReturn:
        """Fail the module for an SDK exception raised by ``what``."""
        self.fail_json(msg=failure_message(what, exc, self.cloud_label), exception=traceback.format_exc())

    @contextlib.contextmanager
    def sdk_errors(self, what: str) -> Iterator[None]:
        """Turn an SDK/keystoneauth exception raised in the block into ``fail_json``.

        ``what`` names the work, e.g. ``"identity.projects(domain_id='default')"``.
        """
        try:
            yield
        except sdk_exception_types() as exc:
            self.fail_for(what, exc)

    def call(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """Call an SDK method; fail the module with a clear message if it raises.

        Generators (the SDK's list calls) are read to the end inside the error
        handler, so errors raised while paging are caught too.
        """
        return self._invoke(fn, args, kwargs, tolerate=())

    def call_or_none(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """Like ``call``, but "not found" (HTTP 404) returns ``None`` instead of failing."""
        return self._invoke(fn, args, kwargs, tolerate=(404,))

    def call_tolerating(self, statuses: Collection[int], fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """Like ``call``, but an HTTP error whose status is in ``statuses`` returns ``None``."""
        return self._invoke(fn, args, kwargs, tolerate=tuple(statuses))

    def call_retrying_conflict(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """Like ``call``, but a 409 Conflict (the cloud is busy with the resource, e.g. a volume
        still ``attaching``) is retried a few times with backoff (about 10 s in all) before failing."""
        delays = CONFLICT_BACKOFF.delays()
        for _attempt in range(CONFLICT_ATTEMPTS - 1):
            try:
                return self._invoke(fn, args, kwargs, tolerate=(), reraise=(409,))
            except sdk_exception_types() as exc:
                if status_code(exc) != 409:  # pragma: no cover - _invoke fails for the others
                    raise
            time.sleep(next(delays))
        return self._invoke(fn, args, kwargs, tolerate=())

    def _invoke(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        *,
        tolerate: tuple[int, ...],
        reraise: tuple[int, ...] = (),
    ) -> Any:
        try:
            result = fn(*args, **kwargs)
            if isinstance(result, types.GeneratorType):
                result = list(result)
        except sdk_exception_types() as exc:
            code = status_code(exc)
            if code in tolerate:
                return None
            if code in reraise:
                raise
            self.fail_for(format_call(callable_name(fn), args, kwargs), exc)
        return result
