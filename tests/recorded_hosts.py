"""Run a command handler against recording hosts (transport/recording.py): what it sent to
which host, in which order, and its exit code as the CLI maps it. Answers are scripted per
operation name (argv[0]); an operation without an answer fails the test."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

from platform_lib.cli import build_parser
from platform_lib.errors import PlatformError
from platform_lib.execution.connect import Connections
from platform_lib.models.host_state import HostState
from platform_lib.transport.base import RunResult
from platform_lib.transport.recording import RecordedRun, RecordingHosts, Reply

REPO = Path(__file__).resolve().parent.parent
BASE = "/srv/platform/projects"
"""The deploy root of the repository's configs/platform.yml, and its projects' folder."""
STAGING, PRODUCTION = "staging-1", "prod-1"
"""The repository's hosts: one per environment."""

Answer = RunResult | Callable[[RecordedRun], RunResult]


def answering(answers: Mapping[str, Answer]) -> RecordingHosts:
    """Hosts answering each operation by its runtime function's name."""

    def reply(run: RecordedRun) -> Reply:
        name = run.operation[0] if run.operation else "<plan>"
        if name not in answers:
            raise AssertionError(f"{run.host} was sent {name}, which this test does not expect")
        answer = answers[name]
        return (answer(run) if callable(answer) else answer), ()

    return RecordingHosts(reply)


def ok(stdout: str = "") -> RunResult:
    return RunResult(0, stdout)


def facts(**fields: Any) -> RunResult:
    """A `platform_facts` answer: the HostState of those fields (checked by the model)."""
    return ok(HostState.model_validate(fields).model_dump_json())


def run(hosts: RecordingHosts, *argv: str, root: Path = REPO) -> int:
    """The command's exit code, as `cli.main` maps it; its connections through `hosts`."""
    args = build_parser(argv[0]).parse_args([*argv, "--root", str(root)])
    try:
        code: int = args.func(args, connect=partial(Connections, opener=hosts.open))
    except PlatformError as exc:
        code = exc.exit_code
    assert all(t.closed for t in hosts.transports.values()), "a connection was left open"
    return code
