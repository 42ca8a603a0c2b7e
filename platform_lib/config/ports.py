"""Host ports published by compose services (short and long syntax), as ranges.

A range (`"8000-8100:8000-8100"`, even `"1-65535:1-65535"`) stays one range: it is never
expanded into single ports. `PortClaims` keeps the ports claimed on one machine as sorted,
disjoint segments, each owned by the first claim covering it, so finding what a new range
overlaps is a binary search and a walk over the segments it covers.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

ANY_ADDRESS = frozenset({"", "0.0.0.0", "::", "[::]"})  # noqa: S104 - parsing, not binding

_SHORT = re.compile(
    r"^(?:(?P<ip>\[[0-9a-fA-F:.]+\]|[0-9.]+):)??"
    r"(?:(?P<host>\d+(?:-\d+)?)?:)?(?P<container>\d+(?:-\d+)?)(?:/(?P<proto>tcp|udp|sctp))?$"
)


@dataclass(frozen=True, order=True)
class PublishedPort:
    """The host ports `first`..`last` (one port when equal) on an address, for a protocol."""

    address: str
    first: int
    protocol: str
    last: int

    @property
    def any_address(self) -> bool:
        return self.address in ANY_ADDRESS

    def clashes_with(self, other: PublishedPort) -> bool:
        return self.overlap(other) is not None

    def overlap(self, other: PublishedPort) -> PublishedPort | None:
        """The ports of this range that `other` publishes too (on a clashing address)."""
        if self.protocol != other.protocol:
            return None
        if not (self.address == other.address or self.any_address or other.any_address):
            return None
        first, last = max(self.first, other.first), min(self.last, other.last)
        if first > last:
            return None
        return PublishedPort(self.address, first, self.protocol, last)

    def __str__(self) -> str:
        where = f"{self.address}:" if not self.any_address else ""
        ports = str(self.first) if self.first == self.last else f"{self.first}-{self.last}"
        return f"{where}{ports}/{self.protocol}"


def _range(address: str, text: str, protocol: str) -> list[PublishedPort]:
    low, _, high = text.partition("-")
    first, last = int(low), int(high or low)
    return [PublishedPort(address, first, protocol, last)] if first <= last else []


def published_ports(entry: Any) -> list[PublishedPort] | None:
    """The host ports an entry of `ports:` publishes (one range, or [] for container-only
    ports); None when the entry cannot be read (still uninterpolated, or malformed: the schema
    reports that)."""
    if isinstance(entry, int):
        return []
    if isinstance(entry, str):
        match = _SHORT.match(entry.strip())
        if match is None:
            return None
        if match["host"] is None:
            return []
        ip = (match["ip"] or "").strip("[]")
        return _range(ip, match["host"], match["proto"] or "tcp")
    if isinstance(entry, dict):
        published = entry.get("published")
        if published is None:
            return []
        text = str(published)
        if not re.fullmatch(r"\d+(-\d+)?", text):
            return None
        address = str(entry.get("host_ip", "")).strip("[]")
        return _range(address, text, str(entry.get("protocol", "tcp")))
    return None


T = TypeVar("T")


class _Segments:
    """Disjoint port segments sorted by port, each with the index of the claim owning it."""

    def __init__(self) -> None:
        self.firsts: list[int] = []
        self.lasts: list[int] = []
        self.owners: list[int] = []

    def owners_within(self, first: int, last: int) -> set[int]:
        start = bisect.bisect_left(self.lasts, first)
        end = bisect.bisect_right(self.firsts, last)
        return set(self.owners[start:end])

    def fill(self, first: int, last: int, owner: int) -> None:
        """Give `owner` every port of first..last no segment covers yet."""
        start = bisect.bisect_left(self.lasts, first)
        end = bisect.bisect_right(self.firsts, last)
        firsts, lasts, owners = [], [], []
        cursor = first
        for index in range(start, end):
            if self.firsts[index] > cursor:
                firsts.append(cursor)
                lasts.append(self.firsts[index] - 1)
                owners.append(owner)
            firsts.append(self.firsts[index])
            lasts.append(self.lasts[index])
            owners.append(self.owners[index])
            cursor = max(cursor, self.lasts[index] + 1)
        if cursor <= last:
            firsts.append(cursor)
            lasts.append(last)
            owners.append(owner)
        self.firsts[start:end] = firsts
        self.lasts[start:end] = lasts
        self.owners[start:end] = owners


class PortClaims(Generic[T]):
    """Ports claimed on one machine, in the order they were claimed. A port published on
    every address clashes with the same port on any address; two specific addresses only
    clash when they are equal."""

    def __init__(self) -> None:
        self._claims: list[tuple[PublishedPort, T]] = []
        self._everywhere: dict[str, _Segments] = {}  # protocol -> claims on any address
        self._all: dict[str, _Segments] = {}  # protocol -> every claim
        self._at: dict[tuple[str, str], _Segments] = {}  # (protocol, address) -> claims there

    def claim(self, ports: PublishedPort, payload: T) -> list[tuple[PublishedPort, T]]:
        """Record `ports` and return the claims that had each of these ports first (on a
        clashing address), earliest first, each with the ports that clash."""
        protocol = ports.protocol
        segments = [self._all.setdefault(protocol, _Segments())]
        if not ports.any_address:
            segments = [
                self._everywhere.setdefault(protocol, _Segments()),
                self._at.setdefault((protocol, ports.address), _Segments()),
            ]
        owners: set[int] = set()
        for found in segments:
            owners |= found.owners_within(ports.first, ports.last)
        index = len(self._claims)
        self._claims.append((ports, payload))
        self._all.setdefault(protocol, _Segments()).fill(ports.first, ports.last, index)
        if ports.any_address:
            self._everywhere.setdefault(protocol, _Segments()).fill(ports.first, ports.last, index)
        else:
            segments[1].fill(ports.first, ports.last, index)
        clashes = []
        for owner in sorted(owners):
            earlier, payload_of = self._claims[owner]
            overlap = ports.overlap(earlier)
            if overlap is not None:
                clashes.append((overlap, payload_of))
        return clashes
