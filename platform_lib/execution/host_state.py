"""Read what a host holds for a tenant+environment (releases, current, lock, history)."""

from __future__ import annotations

from pydantic import ValidationError

from platform_lib.errors import PlatformError
from platform_lib.models.host_state import HostState
from platform_lib.models.records import BackupEntry, HistoryEvent
from platform_lib.planning.render import render_operation
from platform_lib.transport.base import LineSink, Transport


def run_operation(
    transport: Transport, argv: tuple[str, ...], log: LineSink, actor: str = ""
) -> str:
    script = render_operation(argv, {"PLATFORM_ACTOR": actor, "PLATFORM_PLAN_ID": ""})
    result = transport.run(script, {}, log)
    if result.exit_code != 0:
        raise PlatformError(f"{argv[0]} failed on the host (exit {result.exit_code})")
    return result.stdout


def read_state(
    transport: Transport,
    base: str,
    log: LineSink,
    compose_project: str | None = None,
    proxy_dir: str | None = None,
) -> HostState:
    """The releases, current and lock under `base`; with a compose project, its containers
    too, and with a proxy directory its routes, in the same round trip."""
    argv: tuple[str, ...] = ("platform_facts", base)
    if compose_project:
        argv += (compose_project,) + ((proxy_dir,) if proxy_dir else ())
    output = run_operation(transport, argv, log)
    try:
        return HostState.model_validate_json(output)
    except ValidationError as exc:
        raise PlatformError(f"the host's state under {base} is unreadable: {exc}") from None


def parse_history(text: str, base: str, log: LineSink) -> list[HistoryEvent]:
    """The events of a `history.jsonl`, oldest first; a line that is not a HistoryEvent (cut
    short by a full disk, written by a newer platform) is skipped with a warning naming it."""
    events = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            events.append(HistoryEvent.model_validate_json(line))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(map(str, first["loc"])) or "line"
            log(f"warning: {base}/history.jsonl:{number} is no history event ({where}: "
                f"{first['msg']}); skipped")  # fmt: skip
    return events


def read_history(transport: Transport, base: str, log: LineSink) -> list[HistoryEvent]:
    return parse_history(run_operation(transport, ("platform_history", base), log), base, log)


def read_backups(transport: Transport, base: str, log: LineSink) -> list[BackupEntry]:
    """The backups under `base`, newest release first, each with its record (if it has one)."""
    output = run_operation(transport, ("platform_backups", base), log)
    try:
        return [BackupEntry.model_validate_json(line) for line in output.splitlines() if line]
    except ValidationError as exc:
        raise PlatformError(f"the backups under {base} are unreadable: {exc}") from None
