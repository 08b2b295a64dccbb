"""The suite's results, read back from pytest's JUnit XML."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import suite

_ERROR_LINE = re.compile(r"^\s*([\w.]*(?:Error|Exception|Failure|Mismatch\w*|Exit)):\s*(.*)$")
_HTTP_LINE = re.compile(r'"(GET|POST|PUT|PATCH|DELETE|HEAD) (\S+) HTTP/1\.1" (\d{3})')
_BASE_URL = re.compile(r"https?://127\.0\.0\.1:\d+")
#: keystoneauth's "NNN: Client Error for url: URL, detail": the failed call says the URL
_CLIENT_ERROR = re.compile(r"(?:\d{3}: )?(?:Client|Server) Error for url: (\S+?), ")
#: ids in paths and messages (UUIDs with or without dashes, and the suite's unique names)
_IDS = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}|\d{10}-[0-9a-f]{32}")
MAX_REASON = 220


@dataclass
class Result:
    test: str  #: dotted id without ``openstack.tests.functional.``
    area: str
    outcome: str  #: "pass", "fail" or "skip"
    message: str = ""  #: the skip reason, or the failure's exception in one line
    failed_calls: list[str] = field(default_factory=list)  #: "POST /identity/v3/groups -> 404", in order
    error_path: str = ""  #: the path of the request the failure's exception is about, if any
    seconds: float = 0.0

    @property
    def full_id(self) -> str:
        return suite.PREFIX + self.test

    @property
    def failed_call(self) -> str:
        """The failed request the exception is about (not the SDK's harmless 404 look-ups by name)."""
        about = [c for c in self.failed_calls if self.error_path and c.split()[1] == self.error_path]
        return about[-1] if about else ""


def load(junit: Path) -> list[Result]:
    out = []
    for case in ET.parse(junit).iter("testcase"):
        full = f"{case.get('classname')}.{case.get('name')}"
        area = suite.area_of(full)
        if area is None:
            continue
        result = Result(full.removeprefix(suite.PREFIX), area, "pass", seconds=float(case.get("time") or 0))
        for child in case:
            if child.tag == "skipped":
                result.outcome = "skip"
                result.message = _skip_reason(child.get("message") or "")
            elif child.tag in ("failure", "error"):
                result.outcome = "fail"
                text = child.text or child.get("message") or ""
                result.message = error_line(text)
                result.error_path = error_path(text)
            elif child.tag in ("system-out", "system-err"):
                result.failed_calls += failed_calls(child.text or "")
        out.append(result)
    return out


def error_line(traceback: str) -> str:
    """The exception a traceback ends with, on one line, without our random base URL."""
    for line in reversed(traceback.splitlines()):
        match = _ERROR_LINE.match(line)
        if match:
            kind = match.group(1).rsplit(".", 1)[-1]
            text = _BASE_URL.sub("", match.group(2)).strip()
            text = _CLIENT_ERROR.sub("", text.removeprefix(f"{kind}: "))
            text = _IDS.sub("{id}", text)
            return shorten(f"{kind}: {text}" if text else kind)
    lines = [line.strip() for line in traceback.splitlines() if line.strip()]
    return shorten(lines[-1] if lines else "no traceback")


def error_path(traceback: str) -> str:
    """The path in the last "Client Error for url: ..." of a traceback, ids as ``{id}``."""
    urls = _CLIENT_ERROR.findall(traceback)
    return _path(urls[-1]) if urls else ""


def _path(url: str) -> str:
    return _IDS.sub("{id}", _BASE_URL.sub("", url).split("?")[0])


def failed_calls(log: str) -> list[str]:
    """Every request answered 4xx or 5xx, from urllib3's debug log."""
    calls = []
    for match in _HTTP_LINE.finditer(log):
        method, path, status = match.groups()
        if int(status) >= 400:
            calls.append(f"{method} {_path(path)} -> {status}")
    return calls


def shorten(text: str, limit: int = MAX_REASON) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _skip_reason(message: str) -> str:
    # pytest prefixes unittest skips with the location: "file.py:12: reason"
    return shorten(re.sub(r"^\S+\.py:\d+: ", "", message))
