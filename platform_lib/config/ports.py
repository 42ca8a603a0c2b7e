"""Host ports published by compose services (short and long syntax)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

ANY_ADDRESS = frozenset({"", "0.0.0.0", "::", "[::]"})  # noqa: S104 - parsing, not binding

_SHORT = re.compile(
    r"^(?:(?P<ip>\[[0-9a-fA-F:.]+\]|[0-9.]+):)??"
    r"(?:(?P<host>\d+(?:-\d+)?)?:)?(?P<container>\d+(?:-\d+)?)(?:/(?P<proto>tcp|udp|sctp))?$"
)


@dataclass(frozen=True, order=True)
class PublishedPort:
    address: str
    port: int
    protocol: str

    def clashes_with(self, other: PublishedPort) -> bool:
        if self.port != other.port or self.protocol != other.protocol:
            return False
        return (
            self.address == other.address
            or self.address in ANY_ADDRESS
            or other.address in ANY_ADDRESS
        )

    def __str__(self) -> str:
        where = f"{self.address}:" if self.address not in ANY_ADDRESS else ""
        return f"{where}{self.port}/{self.protocol}"


def _range(text: str) -> range:
    low, _, high = text.partition("-")
    return range(int(low), int(high or low) + 1)


def published_ports(entry: Any) -> list[PublishedPort] | None:
    """The host ports an entry of `ports:` publishes; [] for container-only ports, None when the
    entry cannot be read (still uninterpolated, or malformed: the schema reports that)."""
    if isinstance(entry, int):
        return []
    if isinstance(entry, str):
        match = _SHORT.match(entry.strip())
        if match is None:
            return None
        if match["host"] is None:
            return []
        ip = (match["ip"] or "").strip("[]")
        return [PublishedPort(ip, p, match["proto"] or "tcp") for p in _range(match["host"])]
    if isinstance(entry, dict):
        published = entry.get("published")
        if published is None:
            return []
        text = str(published)
        if not re.fullmatch(r"\d+(-\d+)?", text):
            return None
        address = str(entry.get("host_ip", "")).strip("[]")
        protocol = str(entry.get("protocol", "tcp"))
        return [PublishedPort(address, p, protocol) for p in _range(text)]
    return None
