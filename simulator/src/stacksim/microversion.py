"""API microversions (Nova ``2.x``, Cinder ``3.x``): negotiation and response headers.

A request names its version in ``OpenStack-API-Version: <service> <x.y>`` (or
Nova's legacy ``X-OpenStack-Nova-API-Version: x.y``); ``latest`` means our
maximum and no header means our minimum. A malformed version is a 400, one
outside our range a 406, as in Nova and Cinder.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from functools import total_ordering

from stacksim import faults

_FORMAT = re.compile(r"^([1-9]\d*)\.(0|[1-9]\d*)$")


@total_ordering
@dataclass(frozen=True)
class Version:
    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> Version:
        match = _FORMAT.match(text.strip())
        if not match:
            raise faults.BadRequest(
                f"API Version String {text} is of invalid format. Must be of format MajorNum.MinorNum."
            )
        return cls(int(match.group(1)), int(match.group(2)))

    def __lt__(self, other: Version) -> bool:
        return (self.major, self.minor) < (other.major, other.minor)

    def __ge__(self, other: object) -> bool:
        if isinstance(other, str):
            other = Version.parse(other)
        assert isinstance(other, Version)
        return (self.major, self.minor) >= (other.major, other.minor)

    def at_least(self, text: str) -> bool:
        other = _known(text)
        return (self.major, self.minor) >= (other.major, other.minor)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


@functools.lru_cache(maxsize=512)
def _known(text: str) -> Version:
    """A version the code names (``"2.47"``), parsed once: views ask dozens of times a record."""
    return Version.parse(text)


class Microversions:
    def __init__(self, service: str, minimum: str, maximum: str, legacy_header: str | None = None) -> None:
        self.service = service
        self.min = Version.parse(minimum)
        self.max = Version.parse(maximum)
        self.legacy_header = legacy_header

    def negotiate(self, headers) -> Version:
        """The version a request asks for (``headers`` is case-insensitive)."""
        wanted = None
        for entry in headers.getlist("openstack-api-version") if hasattr(headers, "getlist") else []:
            for part in entry.split(","):
                words = part.split()
                if len(words) == 2 and words[0].lower() == self.service:
                    wanted = words[1]
        if wanted is None and self.legacy_header:
            wanted = headers.get(self.legacy_header)
        if wanted is None:
            return self.min
        if wanted.strip().lower() == "latest":
            return self.max
        version = Version.parse(wanted)
        if not self.min <= version <= self.max:
            raise faults.NotAcceptable(
                f"Version {version} is not supported by the API. Minimum is {self.min} and maximum is {self.max}."
            )
        return version

    def headers(self, version: Version) -> dict[str, str]:
        out = {"OpenStack-API-Version": f"{self.service} {version}", "Vary": "OpenStack-API-Version"}
        if self.legacy_header:
            out[self.legacy_header] = str(version)
            out["Vary"] += f", {self.legacy_header}"
        return out
