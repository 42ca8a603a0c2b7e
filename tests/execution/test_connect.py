"""Connections (execution/connect.py): one transport per way of reaching a host, opened when
first asked for, every one closed when the command ends, however it ends."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from recorded_hosts import REPO

from platform_lib.config.sources import read_sources
from platform_lib.config.validate import load_valid_config
from platform_lib.execution.connect import Connections, open_transport
from platform_lib.execution.early_target import early_target
from platform_lib.planning.builder import target_host
from platform_lib.transport.local import LocalTransport
from platform_lib.transport.recording import RecordingHosts, RecordingTransport
from platform_lib.transport.ssh import SshTransport

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBWRnk8G6iV3FDzv1k5MZ5Zs/aBlc50T2qlzdpfnExix"


@dataclass(frozen=True)
class Host:
    name: str
    kind: str = "ssh"
    address: str | None = "203.0.113.10"
    port: int = 22
    user: str = "deploy"
    host_key: str | None = KEY
    docker_host: str | None = None


def recording() -> RecordingHosts:
    return RecordingHosts(lambda _run: (NotImplemented, ()))


def test_hosts_reached_the_same_way_share_one_transport() -> None:
    hosts = recording()
    with Connections(None, hosts.open) as connections:
        first = connections.to(Host("staging-1"))
        # Another name for the same machine (one host serving two environments): the same one.
        assert connections.to(Host("staging-1-again")) is first
        other_port = connections.to(Host("on-2222", port=2222))
        other_user = connections.to(Host("as-ops", user="ops"))
    assert len({id(first), id(other_port), id(other_user)}) == 3
    assert sorted(hosts.transports) == ["as-ops", "on-2222", "staging-1"]
    assert all(isinstance(t, RecordingTransport) for t in (first, other_port, other_user))
    assert first.closed and other_port.closed and other_user.closed  # type: ignore[attr-defined]


def test_every_transport_is_closed_when_the_command_fails() -> None:
    hosts = recording()
    with pytest.raises(RuntimeError), Connections(None, hosts.open) as connections:
        transport = connections.to(Host("prod-1"))
        raise RuntimeError("the command failed")
    assert transport.closed  # type: ignore[attr-defined]


def test_the_identity_reaches_the_opener() -> None:
    seen: list[Path | None] = []

    def opener(host: Host, identity: Path | None) -> RecordingTransport:
        seen.append(identity)
        return RecordingTransport([], host.name)

    with Connections(Path("/keys/deploy"), opener) as connections:  # type: ignore[arg-type]
        connections.to(Host("a"))
    assert seen == [Path("/keys/deploy")]


def test_open_early_opens_nothing_without_a_host_and_starts_nothing_for_a_fake() -> None:
    hosts = recording()
    with Connections(None, hosts.open) as connections:
        connections.open_early(None)
        assert hosts.transports == {}
        connections.open_early(Host("staging-1"))
        assert list(hosts.transports) == ["staging-1"]
    assert hosts.runs == []


def test_the_real_opener_chooses_by_kind() -> None:
    local = open_transport(Host("here", kind="local", docker_host="unix:///d.sock"), None)
    assert isinstance(local, LocalTransport)
    remote = open_transport(Host("there"), None)
    try:
        assert isinstance(remote, SshTransport)
    finally:
        remote.close()  # it never connected: closing starts nothing either


def test_the_connection_opened_early_from_the_hint_is_the_one_the_planned_host_gets() -> None:
    config = load_valid_config(read_sources(REPO))
    hosts = recording()
    with Connections(None, hosts.open) as connections:
        connections.open_early(early_target(REPO, "paiss", "production"))
        early = hosts.transports["prod-1"]
        planned = target_host(config, config.tenants["paiss"], "production")
        assert connections.to(planned) is early
    assert list(hosts.transports) == ["prod-1"]
