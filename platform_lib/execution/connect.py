"""Open one transport per host for the length of a command, and close them all after."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Protocol

from platform_lib.transport.base import Transport
from platform_lib.transport.local import LocalTransport
from platform_lib.transport.ssh import SshHost, SshTransport


class Host(SshHost, Protocol):
    """A TargetHost (or an early hint of one)."""

    @property
    def kind(self) -> str: ...


def connection_key(host: Host) -> tuple[str, str | None, int, str]:
    """Hosts reached the same way share one connection (and are one machine)."""
    return (host.kind, host.address, host.port, host.user)


def open_transport(host: Host, identity: Path | None) -> Transport:
    """The real transport of a host: bash here for a `local` one, else over ssh."""
    if host.kind == "local":
        return LocalTransport(host.docker_host)
    return SshTransport(host, identity)


Opener = Callable[[Host, Path | None], Transport]


class Connections:
    """`with Connections(identity) as hosts: hosts.to(target)`: one connection per host.
    `opener` makes a host's transport (tests give a recording one)."""

    def __init__(self, identity: Path | None = None, opener: Opener = open_transport) -> None:
        self._identity = identity
        self._opener = opener
        self._open: dict[tuple[str, str | None, int, str], Transport] = {}

    def to(self, host: Host) -> Transport:
        key = connection_key(host)
        if key not in self._open:
            self._open[key] = self._opener(host, self._identity)
        return self._open[key]

    def open_early(self, host: Host | None) -> None:
        """Start connecting to `host` in the background (an SSH host; nothing otherwise)."""
        if host is None:
            return
        transport = self.to(host)
        if isinstance(transport, SshTransport):
            transport.open_in_background()

    def __enter__(self) -> Connections:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        for transport in self._open.values():
            transport.close()
        self._open.clear()


Connect = Callable[[Path | None], Connections]
"""How a command opens its connections: the class itself, or a test's recording stand-in."""
