"""Host operations outside a plan (facts, history, backups, lock recovery, proxy refresh and
prune, restore, health checks), built as data: each builder takes typed inputs and returns a
`HostOperation`, the argv of one runtime function and the parser of its answer. Nothing here
runs anything; `execution/host_ops.py` sends an operation and returns what its parser makes
of the answer. The argv becomes shell text in one place, `render.render_operation`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel, ValidationError

from platform_lib.errors import PlatformError
from platform_lib.models.host_state import HostState, ProxyRefreshed, RollbackFacts
from platform_lib.models.project import Backup, Route
from platform_lib.models.records import BackupEntry, HistoryEvent
from platform_lib.models.settings import Proxy, Timeouts
from platform_lib.planning.render import render_operation

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

Warn = Callable[[str], None]


@dataclass(frozen=True)
class Answer:
    """What a host operation's script gave back: its exit status and its stdout."""

    exit_code: int
    stdout: str


Parser = Callable[[Answer, Warn], T]


@dataclass(frozen=True)
class HostOperation(Generic[T]):
    argv: tuple[str, ...]
    """A runtime function and its arguments."""
    parse: Parser[T]
    """The typed answer from the script's result; PlatformError when it is unreadable."""
    actor: str = ""
    """Who acts, for the operations that write history or a lock."""

    def script(self) -> str:
        return render_operation(self.argv, {"PLATFORM_ACTOR": self.actor, "PLATFORM_PLAN_ID": ""})


@dataclass(frozen=True)
class CheckResult:
    """The answer of a health check: it passed (exit 0), and its lines on stdout."""

    ok: bool
    lines: tuple[str, ...]


def _succeeded(argv: tuple[str, ...], result: Answer) -> str:
    if result.exit_code != 0:
        raise PlatformError(f"{argv[0]} failed on the host (exit {result.exit_code})")
    return result.stdout


def _model(argv: tuple[str, ...], model: type[M], what: str) -> Parser[M]:
    def parse(result: Answer, _log: Warn) -> M:
        try:
            return model.model_validate_json(_succeeded(argv, result))
        except ValidationError as exc:
            raise PlatformError(f"{what} is unreadable: {exc}") from None

    return parse


def _check(result: Answer, _log: Warn) -> CheckResult:
    return CheckResult(result.exit_code == 0, tuple(result.stdout.splitlines()))


def facts(
    base: str, compose_project: str | None = None, proxy_dir: str | None = None
) -> HostOperation[HostState]:
    """The releases, current and lock under `base`; with a compose project, its containers
    too, and with a proxy directory its routes, in the same round trip."""
    argv: tuple[str, ...] = ("platform_facts", base)
    if compose_project:
        argv += (compose_project,) + ((proxy_dir,) if proxy_dir else ())
    return HostOperation(argv, _model(argv, HostState, f"the host's state under {base}"))


def parse_history(text: str, base: str, log: Warn) -> list[HistoryEvent]:
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


def history(base: str) -> HostOperation[list[HistoryEvent]]:
    argv = ("platform_history", base)
    return HostOperation(
        argv, lambda result, log: parse_history(_succeeded(argv, result), base, log)
    )


def backups(base: str) -> HostOperation[list[BackupEntry]]:
    """The backups under `base`, newest release first, each with its record (if it has one)."""
    argv = ("platform_backups", base)

    def parse(result: Answer, _log: Warn) -> list[BackupEntry]:
        lines = _succeeded(argv, result).splitlines()
        try:
            return [BackupEntry.model_validate_json(line) for line in lines if line]
        except ValidationError as exc:
            raise PlatformError(f"the backups under {base} are unreadable: {exc}") from None

    return HostOperation(argv, parse)


def _done(argv: tuple[str, ...]) -> Parser[None]:
    def parse(result: Answer, _log: Warn) -> None:
        _succeeded(argv, result)

    return parse


def lock_break(base: str, actor: str) -> HostOperation[None]:
    """Explicit recovery from a lock left by a killed deploy (and the registry logins it left)."""
    argv = ("platform_lock_break", base)
    return HostOperation(argv, _done(argv), actor)


def canary_ask(base: str, action: str, actor: str) -> HostOperation[None]:
    """A person's `promote` or `abort` for the rollout in progress, which the deploy running
    it (holding the lock) acts on."""
    argv = ("platform_canary_ask", base, action)
    return HostOperation(argv, _done(argv), actor)


def canary_rollback(base: str, actor: str) -> HostOperation[RollbackFacts]:
    """`rollback` to the previous release in one round trip: the deploy in a warm period is
    asked to go back to the warm previous release; the host's state comes back either way."""
    argv = ("platform_canary_rollback", base)
    return HostOperation(argv, _model(argv, RollbackFacts, f"the host's state under {base}"), actor)


def proxy_refresh(
    base: str, compose_project: str, proxy: Proxy, timeouts: Timeouts, actor: str
) -> HostOperation[ProxyRefreshed]:
    """The current release's routes installed again, under the deploy lock; a rollout in
    progress keeps its split, and one left unfinished is undone first."""
    argv = ("platform_proxy_refresh", base, compose_project, proxy.dir, proxy.nginx_conf,
            proxy.pid_file, actor, str(timeouts.lock_wait), str(timeouts.lock_expiry))  # fmt: skip
    return HostOperation(argv, _model(argv, ProxyRefreshed, f"the refresh of {compose_project}"))


def proxy_prune(proxy: Proxy, keep: list[str], dry_run: bool) -> HostOperation[list[str]]:
    """The routes of compose projects not in `keep` leave nginx; the answer: those projects."""
    argv = ("platform_proxy_prune", proxy.dir, proxy.nginx_conf, proxy.pid_file,
            "1" if dry_run else "0", *keep)  # fmt: skip
    return HostOperation(argv, lambda result, _log: _succeeded(argv, result).split())


def restore(
    base: str,
    backup_id: tuple[str, str],
    backup: Backup,
    compose_project: str,
    proxy: Proxy | None,
    timeouts: Timeouts,
    actor: str,
) -> HostOperation[None]:
    """Bring the backup RELEASE/FILE (`backup_id`) of the hook `backup` back, under the lock;
    with a proxy, its routes are installed again afterwards."""
    release, file = backup_id
    target = (
        ("pg_dump", backup.service, backup.database, backup.user)
        if backup.kind == "pg_dump"
        else ("volume", backup.volume)
    )
    via = (proxy.dir, proxy.nginx_conf, proxy.pid_file) if proxy is not None else ("", "", "")
    argv = ("platform_restore", base, release, file, str(timeouts.lock_wait),
            str(timeouts.lock_expiry), compose_project, *via, *target)  # fmt: skip
    return HostOperation(argv, _done(argv), actor)


def proxy_health(proxy: Proxy, compose_project: str, timeout: int) -> HostOperation[CheckResult]:
    """Every route of a compose project through the proxy: one line per route."""
    argv = ("platform_proxy_health", proxy.dir, compose_project, str(proxy.http_port),
            str(proxy.https_port), str(timeout))  # fmt: skip
    return HostOperation(argv, _check)


def http_check(compose_project: str, route: Route, timeout: int) -> HostOperation[CheckResult]:
    """A route's health path at its service's container (no proxy)."""
    argv = ("platform_http_check", compose_project, route.service, str(route.port),
            route.health_path, str(timeout))  # fmt: skip
    return HostOperation(argv, _check)
