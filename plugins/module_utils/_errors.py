# Copyright: OpenSandbox contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Messages for failed cloud calls, private to the opensandbox.cloud collection.

A failure message names the call, its key arguments and the cloud, says what the
cloud answered, and ends with a hint on what to change.  Only the functions that
classify an exception import openstacksdk/keystoneauth, so the formatting helpers
work without the SDK installed.
"""

from __future__ import annotations

import http
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

# Argument names whose values never appear in a message.
SECRET_NAMES = frozenset(
    {
        "application_credential_secret",
        "auth",
        "password",
        "secret",
        "token",
        "user_data",
    }
)
MAX_VALUE_CHARS = 60


def sdk_exception_types() -> tuple[type[BaseException], ...]:
    """Return the base exception classes of openstacksdk and keystoneauth1."""
    from keystoneauth1 import exceptions as ksa_exc  # pylint: disable=import-outside-toplevel
    from openstack import exceptions as sdk_exc  # pylint: disable=import-outside-toplevel

    return (sdk_exc.SDKException, ksa_exc.ClientException)


def summarize_value(value: Any) -> str:
    """Show an argument value briefly: resources by name or id, long text cut short."""
    label = getattr(value, "name", None) or getattr(value, "id", None)
    if isinstance(value, (str, int, float, bool)) or value is None:
        text = repr(value)
    elif isinstance(label, str):
        # SDK resources (dicts themselves, since openstacksdk 1.0) and munches: by name or id.
        text = repr(label)
    elif isinstance(value, Mapping):
        text = "{" + ", ".join(f"{k}: {_shown(k, v)}" for k, v in value.items()) + "}"
    elif isinstance(value, (list, tuple, set, frozenset)):
        text = "[" + ", ".join(summarize_value(v) for v in value) + "]"
    else:
        text = type(value).__name__
    if len(text) > MAX_VALUE_CHARS:
        text = text[: MAX_VALUE_CHARS - 3] + "..."
    return text


def _shown(key: Any, value: Any) -> str:
    if key in SECRET_NAMES and value is not None:
        return "'***'"
    return summarize_value(value)


def format_call(name: str, args: Sequence[Any] = (), kwargs: Mapping[str, Any] | None = None) -> str:
    """Render a call as ``name(arg, key=value)`` with secret arguments masked."""
    parts = [summarize_value(arg) for arg in args]
    parts.extend(f"{key}={_shown(key, value)}" for key, value in (kwargs or {}).items())
    return f"{name}({', '.join(parts)})"


def callable_name(fn: Any) -> str:
    """Name an SDK callable the way a person finds it: ``<service>.<method>`` for proxy methods."""
    name = getattr(fn, "__name__", None) or type(fn).__name__
    owner = getattr(fn, "__self__", None)
    service = getattr(owner, "service_type", None)
    if isinstance(service, str) and service:
        return f"{service}.{name}"
    return name


def status_code(exc: BaseException) -> int | None:
    """Return the HTTP status of an SDK or keystoneauth error, if it has one."""
    for attr in ("status_code", "http_status"):
        value = getattr(exc, attr, None)
        if isinstance(value, int):
            return value
    return None


def describe_error(exc: BaseException) -> str:
    """Say what went wrong: the HTTP status and the server's own message when there is one."""
    status = status_code(exc)
    details = getattr(exc, "details", None)
    message = getattr(exc, "message", None)
    text = str(details or message or exc or type(exc).__name__).strip()
    if status is not None:
        # keystoneauth already appends "(HTTP 401)" to its message; say it once, in front.
        text = re.sub(rf"\s*\(HTTP {status}\)", "", text).strip()
        try:
            phrase = http.HTTPStatus(status).phrase
        except ValueError:
            phrase = ""
        prefix = f"HTTP {status} {phrase}".strip()
        text = prefix if text in ("", type(exc).__name__) or text.startswith(prefix) else f"{prefix}: {text}"
    request_id = getattr(exc, "request_id", None)
    if isinstance(request_id, str) and request_id and request_id not in text:
        text += f" (request id {request_id})"
    return text


def hint_for(exc: BaseException) -> str | None:
    """Suggest what the person can change, judged from the kind of error."""
    from keystoneauth1 import exceptions as ksa_exc  # pylint: disable=import-outside-toplevel
    from openstack import exceptions as sdk_exc  # pylint: disable=import-outside-toplevel

    status = status_code(exc)
    if isinstance(exc, (ksa_exc.ConnectFailure, ksa_exc.ConnectTimeout, ksa_exc.DiscoveryFailure)):
        return "Check that the auth_url is right and reachable from this host (is the cloud, or stacksim, running?)."
    if isinstance(exc, (ksa_exc.MissingRequiredOptions, ksa_exc.MissingAuthPlugin)):
        return "Give the cloud option (a clouds.yaml entry) or a complete auth dictionary with auth_url."
    if isinstance(exc, sdk_exc.ConfigException):
        if "not found" in str(exc):
            return "Check the cloud name against clouds.yaml (see OS_CLIENT_CONFIG_FILE) or pass auth directly."
        return "Check the connection options and the cloud's entry in clouds.yaml (see OS_CLIENT_CONFIG_FILE)."
    if isinstance(exc, (sdk_exc.EndpointNotFound, ksa_exc.EndpointNotFound)):
        return "The catalog has no such endpoint for this region and interface; check region_name and interface."
    if isinstance(exc, sdk_exc.ResourceTimeout):
        return "Raise the timeout option, or look at the resource's status in the cloud."
    if status == 401:
        return "Check the credentials: the auth option or the cloud's entry in clouds.yaml."
    if status == 403:
        return "The user lacks the role this call needs; use a cloud entry with more rights (an admin one, say)."
    if status == 404:
        return "It does not exist or is not visible to this project."
    if status == 409:
        return "It conflicts with the resource's current state; wait for pending operations or change the request."
    if status == 413:
        return "A quota or size limit was reached; free resources or ask for a larger quota."
    if status is not None and status >= 500:
        return "The cloud failed internally; retry, and report it with the request id if it persists."
    return None


def one_line(text: str) -> str:
    """Fold whitespace, newlines included, so a message reads as one line in Ansible's output."""
    return " ".join(text.split())


def failure_message(what: str, exc: BaseException, where: str | None = None, hint: str | None = None) -> str:
    """Build the whole message, on one line: ``<what> failed [on <where>]: <error>. <hint>``.

    ``hint`` replaces the hint judged from the error, for callers that know better.
    """
    text = f"{what} failed{f' on {where}' if where else ''}: {describe_error(exc)}"
    hint = hint or hint_for(exc)
    if hint:
        text = f"{text.rstrip('.')}. {hint}"
    return one_line(text)


def best_effort(work: Callable[[], Any]) -> str | None:
    """Run a clean-up step that must not fail the module (which may be failing already).

    Returns ``None`` when it worked, else what went wrong, on one line, for the message
    that tells the person what is left to delete by hand.
    """
    try:
        work()
    except Exception as exc:  # pylint: disable=broad-exception-caught
        return one_line(str(exc)) or type(exc).__name__
    return None
