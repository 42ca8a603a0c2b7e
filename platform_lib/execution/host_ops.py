"""The one path a host operation takes: its script over the transport, its answer parsed."""

from __future__ import annotations

from typing import TypeVar

from platform_lib.planning.host_ops import Answer, HostOperation
from platform_lib.transport.base import LineSink, Transport

T = TypeVar("T")


def run_host_op(transport: Transport, operation: HostOperation[T], log: LineSink) -> T:
    """Send `operation` (it carries no secrets); its progress lines go to `log` and its answer
    to its parser, which raises a PlatformError for a failed or unreadable one."""
    result = transport.run(operation.script(), {}, log)
    return operation.parse(Answer(result.exit_code, result.stdout), log)
