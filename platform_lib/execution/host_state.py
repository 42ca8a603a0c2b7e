"""Read what a host holds for a tenant+environment (releases, current, lock, history,
backups): the read-only host operations, by name."""

from __future__ import annotations

from platform_lib.execution.host_ops import run_host_op
from platform_lib.models.host_state import HostState
from platform_lib.models.records import BackupEntry, HistoryEvent
from platform_lib.planning import host_ops
from platform_lib.planning.host_ops import parse_history
from platform_lib.transport.base import LineSink, Transport

__all__ = ["parse_history", "read_backups", "read_history", "read_state"]


def read_state(
    transport: Transport,
    base: str,
    log: LineSink,
    compose_project: str | None = None,
    proxy_dir: str | None = None,
) -> HostState:
    """The releases, current and lock under `base`; with a compose project, its containers
    too, and with a proxy directory its routes, in the same round trip."""
    return run_host_op(transport, host_ops.facts(base, compose_project, proxy_dir), log)


def read_history(transport: Transport, base: str, log: LineSink) -> list[HistoryEvent]:
    return run_host_op(transport, host_ops.history(base), log)


def read_backups(transport: Transport, base: str, log: LineSink) -> list[BackupEntry]:
    """The backups under `base`, newest release first, each with its record (if it has one)."""
    return run_host_op(transport, host_ops.backups(base), log)
